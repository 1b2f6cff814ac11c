"""``msd-brain-tumour``: the Medical Segmentation Decathlon's Task01_BrainTumour
(BraTS 2016/2017 glioma scans), read from its NIfTI volumes with nibabel.

Layout (ROOT may also be the folder that holds ``Task01_BrainTumour``)::

    ROOT/imagesTr/BRATS_001.nii.gz   4-D, 240 x 240 x 155 x 4: FLAIR, T1w, T1gd, T2w
    ROOT/labelsTr/BRATS_001.nii.gz   3-D mask: 0 background, 1 oedema, 2 non-enhancing, 3 enhancing tumour

Each volume is one patient. Per volume: the chosen modality; axial slices
``FIRST <= z < END`` (the GAN-depth thesis uses 60-100); intensities windowed by the
volume's own 0.5th-99.5th percentiles of non-zero voxels onto 0..255; each slice
labelled ``tumour`` when the mask has at least ``min_tumour_pixels`` tumour voxels in
it, else ``no_tumour``; rotated so the face points up; resized (the thesis: 112 px).
The split is by patient: no volume has slices on both sides. The archive's macOS
``._*`` files are skipped and counted; an unreadable or truncated volume is skipped and
counted, never fatal.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Optional

import numpy as np

from ganbench.api import (
    Dataset,
    DatasetLayoutError,
    Detection,
    GanbenchError,
    Inspection,
    LoadedData,
    Progress,
    SilentProgress,
    file_digests,
    hookimpl,
    parse_test_fraction,
    split_counts,
)
from ganbench.data.cache import cache_file, load_arrays, save_arrays
from ganbench.data.volumes import SliceSet, loaded_from_slices, optional_int, parse_slice_range, percentile_window

MODALITIES = ("flair", "t1", "t1gd", "t2")
CLASS_NAMES = ("no_tumour", "tumour")
PREPROCESS_VERSION = "msd-brain-tumour/1: percentile-0.5-99.5-nonzero rot90 lanczos"
TASK_FOLDER = "Task01_BrainTumour"

UNREADABLE_VOLUME = "unreadable or truncated volume"
NO_LABEL = "volume without a label file"
WRONG_SHAPE = "volume whose shape does not match its label"
HIDDEN = "hidden file (e.g. macOS ._ copy)"


def _volumes(folder: Path) -> tuple[list[Path], Counter]:
    found, skipped = [], Counter()
    for path in sorted(folder.iterdir()):
        if not path.name.endswith((".nii.gz", ".nii")):
            continue
        if path.name.startswith("."):
            skipped[HIDDEN] += 1
            continue
        found.append(path)
    return found, skipped


def _stem(path: Path) -> str:
    return path.name[: -len(".nii.gz")] if path.name.endswith(".nii.gz") else path.stem


class MSDBrainTumour(Dataset):
    name = "msd-brain-tumour"
    family = "msd-brain-tumour"
    description = "Decathlon Task01_BrainTumour NIfTI volumes: axial slices, tumour / no tumour from the masks, split by patient"
    source = "Medical Segmentation Decathlon, Antonelli et al., Nat. Commun. 2022 (Task01_BrainTumour, BraTS); GAN-depth thesis 2023"
    obtain = "Task01_BrainTumour.tar from medicaldecathlon.com, unpacked (imagesTr/, labelsTr/)"
    options = {
        "modality": "flair (default), t1, t1gd or t2",
        "slices": "axial slice range FIRST-END, slices FIRST <= z < END (default 60-100, the thesis')",
        "min_tumour_pixels": "tumour voxels a slice needs to be labelled tumour (default 1)",
        "test_fraction": "share of patients held out for testing (default 0.2; 80/20, 70/30)",
    }

    def __init__(self, modality: str = "flair", slices: str = "60-100", min_tumour_pixels: int = 1, test_fraction=0.2):
        if modality not in MODALITIES:
            raise GanbenchError(f"modality must be one of {', '.join(MODALITIES)}, got {modality!r}")
        self.modality = modality
        self.slices = parse_slice_range(slices)
        self.min_tumour_pixels = optional_int(min_tumour_pixels, "min_tumour_pixels", 1)
        self.test_fraction = parse_test_fraction(test_fraction)

    def _configured(self, options: dict[str, str]) -> "MSDBrainTumour":
        settings = {"modality": self.modality, "slices": "-".join(map(str, self.slices)),
                    "min_tumour_pixels": self.min_tumour_pixels, "test_fraction": self.test_fraction}
        return MSDBrainTumour(**{**settings, **options})

    @staticmethod
    def _root(path: Optional[Path]) -> Path:
        if path is None:
            raise DatasetLayoutError("msd-brain-tumour needs --data PATH to Task01_BrainTumour (imagesTr/, labelsTr/)")
        path = Path(path).expanduser()
        return path / TASK_FOLDER if (path / TASK_FOLDER / "imagesTr").is_dir() else path

    def detect(self, path: Path) -> Detection:
        root = self._root(path)
        images = root / "imagesTr"
        if not images.is_dir():
            return Detection(False, "no imagesTr/ folder")
        volumes, _ = _volumes(images)
        if not volumes:
            return Detection(False, "imagesTr/ holds no .nii/.nii.gz volumes")
        return Detection(True, f"{len(volumes)} NIfTI volumes in imagesTr/")

    def _fingerprint(self, volumes: list[Path], size: int, crop: bool = False) -> str:
        h = hashlib.sha256()
        header = [PREPROCESS_VERSION, f"size={size}", f"modality={self.modality}", f"slices={self.slices}",
                  f"min_tumour_pixels={self.min_tumour_pixels}"]
        h.update("\n".join(header).encode())
        # Contents of the volumes and their tumour masks, not timestamps: files changed in
        # place keep theirs (ganbench.data.cache).
        labels = [path.parent.parent / "labelsTr" / path.name for path in volumes]
        for path, image, label in zip(volumes, file_digests(volumes), file_digests(labels)):
            h.update(f"{path.name}\0{image}\0{label}\n".encode())
        return h.hexdigest()[:16]

    def _read(self, root: Path, size: int, progress: Progress) -> SliceSet:
        import nibabel as nib  # imported here: only NIfTI users pay for it

        images_dir, labels_dir = root / "imagesTr", root / "labelsTr"
        volumes, skipped = _volumes(images_dir)
        slices = SliceSet(size)
        slices.skipped.update(skipped)
        first, end = self.slices
        channel = MODALITIES.index(self.modality)
        for path in progress.track(volumes, total=len(volumes), description="reading NIfTI volumes"):
            label_path = labels_dir / path.name
            if not label_path.is_file():
                slices.skipped[NO_LABEL] += 1
                continue
            try:
                # The whole volume is read, not just one modality: only then is a
                # truncated gzip stream (all modalities after the cut) noticed.
                volume = np.asarray(nib.load(str(path)).dataobj, dtype=np.float32)
                data = volume[..., channel] if volume.ndim == 4 else volume
                mask = np.asarray(nib.load(str(label_path)).dataobj)
            except Exception:  # truncated gzip, bad header, ...
                slices.skipped[UNREADABLE_VOLUME] += 1
                continue
            if data.ndim != 3 or mask.shape != data.shape:
                slices.skipped[WRONG_SHAPE] += 1
                continue
            window = percentile_window(data)
            patient = _stem(path)
            for z in range(first, min(end, data.shape[2])):
                tumour = int((mask[:, :, z] > 0).sum() >= self.min_tumour_pixels)
                slices.add(np.rot90(data[:, :, z]), window, tumour, patient, f"{patient} z={z}")
        return slices

    def load(self, path: Optional[Path], image_size: int, channels: int, progress: Progress = SilentProgress()) -> LoadedData:
        root = self._root(path)
        if not (root / "imagesTr").is_dir():
            raise DatasetLayoutError(f"msd-brain-tumour cannot read {root}: no imagesTr/ folder ({self.obtain})")
        volumes, _ = _volumes(root / "imagesTr")
        fingerprint = self._fingerprint(volumes, image_size)
        cached = cache_file("msd-brain-tumour", fingerprint)
        arrays = load_arrays(cached, fingerprint)
        if arrays is None:
            arrays = self._read(root, image_size, progress).arrays()
            save_arrays(cached, fingerprint, arrays, progress)
        describe = (
            f"read from {root.resolve()}: {self.modality.upper()} axial slices {self.slices[0]} <= z < {self.slices[1]}, "
            f"windowed per volume (0.5-99.5th percentile of non-zero voxels), tumour when >= {self.min_tumour_pixels} "
            f"mask voxels, resized to {image_size}x{image_size}"
        )
        return loaded_from_slices(
            arrays, name=self.name, family=self.family, class_names=CLASS_NAMES, channels=channels,
            test_fraction=self.test_fraction, fingerprint=fingerprint, describe=describe,
        )

    def inspect(self, path: Optional[Path], progress: Progress = SilentProgress()) -> Inspection:
        import nibabel as nib

        root = self._root(path)
        data = self.load(path, 64, 1, progress)
        volumes, _ = _volumes(root / "imagesTr")
        shapes, dtypes = Counter(), Counter()
        for volume in volumes:
            try:
                header = nib.load(str(volume)).header
                shapes["x".join(map(str, header.get_data_shape()))] += 1
                dtypes[str(header.get_data_dtype())] += 1
            except Exception:
                pass
        counts = split_counts(data)
        return Inspection(
            dataset=self.name, root=str(root.resolve()),
            layout=f"NIfTI volumes in imagesTr/ with masks in labelsTr/; {self.modality} slices {self.slices[0]}-{self.slices[1]}",
            class_names=CLASS_NAMES, counts=counts, sizes=shapes, modes=dtypes, skipped=dict(data.skipped),
            duplicates=data.leakage,
            patients={s: len(set(data.patients[s])) for s in ("train", "test")},
            notes=["counts are slices; sizes are volume shapes, modes voxel types"],
        )


@hookimpl
def register_datasets(register):
    register(MSDBrainTumour())
