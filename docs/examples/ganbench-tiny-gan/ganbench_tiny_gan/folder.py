"""tiny-folder: a dataset reader built only from ganbench's public helpers. It reads

    ROOT/<class>/<patient>/<image>

(any image format and mode Pillow reads, any size), converts every image to 8-bit grey,
crops it to a centred square and resizes it, holds out a share of the patients for
testing (stratified by class, never splitting a patient) and checks the two splits for
duplicate images."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from ganbench.api import (
    IMAGE_EXTENSIONS,
    Dataset,
    DatasetLayoutError,
    GanbenchError,
    LoadedData,
    Skipped,
    content_fingerprint,
    cross_split_duplicates,
    decode_image,
    hookimpl,
    image_split,
    parse_test_fraction,
    patient_split,
)

#: Bump when the reader changes the pixels or the split: it is part of the fingerprint.
VERSION = 1


class TinyFolder(Dataset):
    name = "tiny-folder"
    description = "Class folders of patient folders of images, split by patient: the plugin tutorial's reader"
    source = "ganbench docs/writing-a-plugin.md"
    obtain = "any folder laid out as ROOT/<class>/<patient>/<image>"
    family = "tiny-folder"
    options = {
        "test_fraction": "share of the patients held out for testing: a number, 80/20 or 70/30 (default 0.25)",
        "crop_border": "true: crop the dark margin around the head before resizing (default false)",
    }

    def __init__(self, test_fraction: float = 0.25, crop_border: bool = False):
        self.test_fraction = test_fraction
        self.crop_border = crop_border

    def _configured(self, options):
        # configure() has refused unknown keys; the values are as the user typed them.
        crop_border = options.get("crop_border", str(self.crop_border)).strip().lower()
        if crop_border not in ("true", "false"):
            raise GanbenchError(f"{self.name}: --data-option crop_border={options['crop_border']!r}; use true or false")
        return TinyFolder(
            test_fraction=parse_test_fraction(options.get("test_fraction", self.test_fraction)),
            crop_border=crop_border == "true",
        )

    def load(self, path, image_size, channels, progress):
        if path is None:
            raise GanbenchError(f"{self.name} needs --data PATH: {self.obtain}")
        root = Path(path)
        files = sorted(
            (image, cls.name, patient.name)
            for cls in root.iterdir() if cls.is_dir()
            for patient in cls.iterdir() if patient.is_dir()
            for image in patient.iterdir() if image.suffix.lower() in IMAGE_EXTENSIONS
        ) if root.is_dir() else []
        if not files:
            raise DatasetLayoutError(f"{self.name} found no images in {root}; expected {self.obtain}")
        class_names = tuple(sorted({cls for _, cls, _ in files}))

        # Grey, cropped to a centred square and resized: what every ganbench reader does.
        images, labels, keys, patients, skipped = [], [], [], [], Counter()
        for image, cls, patient in progress.track(files, len(files), "decoding images"):
            pixels = decode_image(image, image_size, crop_border=self.crop_border)
            if isinstance(pixels, Skipped):
                skipped[pixels.reason] += 1  # counted and reported, never silent
                continue
            images.append(pixels)
            labels.append(class_names.index(cls))
            keys.append(image.relative_to(root).as_posix())
            patients.append(patient)  # one patient may have images in several classes
        if not images:
            raise DatasetLayoutError(f"{self.name}: none of the {len(files)} images in {root} could be read")
        images, labels = np.stack(images), np.array(labels)

        # No patient on both sides, the same split on every run and seed.
        train, test = patient_split(keys, labels, patients, self.test_fraction)
        duplicates = cross_split_duplicates(images[train], images[test])
        return LoadedData(
            name=self.name,
            class_names=class_names,
            train=image_split(images[train], labels[train], channels),
            test=image_split(images[test], labels[test], channels),
            fingerprint=content_fingerprint(
                root,
                [image for image, _, _ in files],
                {"version": VERSION, "size": image_size, "channels": channels,
                 "test_fraction": self.test_fraction, "crop_border": self.crop_border},
            ),
            family=self.family,
            skipped=dict(skipped),
            notes=f"read from {root}; {len(set(patients))} patients, {self.test_fraction:g} of them held out",
            leakage=duplicates.summary(),
            sources={"train": [keys[i] for i in train], "test": [keys[i] for i in test]},
            patients={"train": [patients[i] for i in train], "test": [patients[i] for i in test]},
        )


@hookimpl
def register_datasets(register):
    register(TinyFolder())
