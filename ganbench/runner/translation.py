"""Image-to-image GANs in a suite. A CycleGAN learns to turn images of a source class
(no tumour) into images of a target class and back; its "samples" are translations of
real images it never trained on.

For a dataset with a source class and k target classes, one model is trained per target
class on the two classes' training images, minus a fixed held-out fraction of each class
(:data:`HOLDOUT_FRACTION`, drawn with a fixed seed, the same for every run). Then:

* the held-out source images, translated forward, are generated images of the target
  class;
* the held-out target images, translated back, are generated images of the source
  class (shared evenly between the k models).

So the generated set has every class, as a noise-to-image GAN's does, class-balanced up
to the number of held-out images; and every generated image has its real source image
beside it (``Evaluation.sources``) for paired metrics. Held-out images come from the
training split, so the test split stays untouched for downstream metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch

from ..errors import GanbenchError
from ..specs import GAN, ImageSpec, ImageSplit, ImageToImageModel, LoadedData, Progress, to_unit_range
from ..data.tasks import NO_TUMOUR_NAMES
from .checkpointing import PhaseCheckpoints
from .training import balanced_labels, build_model, checked_uint8, train_pair

HOLDOUT_FRACTION = 0.2
HOLDOUT_SEED = 0
TRANSLATE_BATCH = 64
#: Class names taken for the source domain when the suite names none.
SOURCE_NAMES = NO_TUMOUR_NAMES


def source_class(class_names: tuple[str, ...], wanted: Optional[str]) -> int:
    if wanted is not None:
        if wanted not in class_names:
            raise GanbenchError(f"translation source class {wanted!r} is not a class of this dataset: {', '.join(class_names)}")
        return class_names.index(wanted)
    found = [i for i, name in enumerate(class_names) if SOURCE_NAMES.match(name)]
    if len(found) != 1:
        raise GanbenchError(
            "an image-to-image GAN needs one source class (no tumour) to translate from; "
            f"found {len(found)} among {', '.join(class_names)}: set the suite's translation_source"
        )
    return found[0]


def holdout(split: ImageSplit, label: int) -> tuple[ImageSplit, ImageSplit]:
    """(training part, held-out part) of one class: a fixed random ``HOLDOUT_FRACTION``
    (at least one image, and at least one left for training), in split order."""
    members = (split.labels == label).nonzero().squeeze(1)
    if len(members) < 2:
        raise GanbenchError(f"class {label} has {len(members)} training image(s); translation needs at least 2")
    n_out = min(max(1, round(len(members) * HOLDOUT_FRACTION)), len(members) - 1)
    order = torch.randperm(len(members), generator=torch.Generator().manual_seed(HOLDOUT_SEED * 1000 + label))
    out, keep = members[order[:n_out]].sort().values, members[order[n_out:]].sort().values
    return split.subset(keep), split.subset(out)


@dataclass
class Translations:
    fake: ImageSplit
    #: The real image each generated one was translated from, with its real label.
    sources: ImageSplit
    #: Each generated image translated back again: the cycle reconstruction of its source.
    reconstructions: ImageSplit
    networks: dict
    history: dict


@torch.no_grad()
def translate(model: ImageToImageModel, images: ImageSplit, reverse: bool, stage: str = "translation") -> torch.Tensor:
    """uint8 images -> their translations, uint8 on the CPU. Raises
    :class:`~ganbench.errors.NonFiniteImagesError` naming ``stage`` if the model produced
    NaN or infinite pixels."""
    if len(images) == 0:
        return images.images[:0]
    chunks = [
        model.translate(to_unit_range(images.images[i : i + TRANSLATE_BATCH]), reverse=reverse)
        for i in range(0, len(images), TRANSLATE_BATCH)
    ]
    return checked_uint8(chunks, stage)


def train_and_translate(
    gan: GAN,
    spec: ImageSpec,
    hparams: dict,
    data: LoadedData,
    n_fake: int,
    seed: int,
    device: torch.device,
    progress: Progress,
    source_name: Optional[str],
    description: str,
    checkpoints: Optional[Callable[[str], PhaseCheckpoints]] = None,
) -> Translations:
    """Train one CycleGAN per (source, target) class pair and translate the held-out
    images both ways. ``checkpoints``: the phase checkpoints of a pair, by its name."""
    source = source_class(data.class_names, source_name)
    targets = [c for c in range(len(data.class_names)) if c != source]
    if not targets:
        raise GanbenchError("translation needs at least one class besides the source class")
    quota = torch.bincount(balanced_labels(n_fake, len(data.class_names)), minlength=len(data.class_names)).tolist()
    parts = {c: holdout(data.train, c) for c in [source, *targets]}
    source_train, source_held = parts[source]

    fakes, sources, cycled, networks, history = [], [], [], {}, {}
    back_quota = balanced_labels(quota[source], len(targets)).bincount(minlength=len(targets)).tolist()
    for i, target in enumerate(targets):
        pair = f"{data.class_names[source]}->{data.class_names[target]}"
        model = build_model(gan, spec, hparams, device, seed * 1000 + target)
        if not isinstance(model, ImageToImageModel):
            raise GanbenchError(f"GAN {gan.name!r} says it is image-to-image but built a {type(model).__name__}")
        target_train, target_held = parts[target]
        history[pair] = train_pair(
            model, source_train, target_train, hparams, seed * 1000 + target, device, progress, f"{description}: {pair}",
            checkpoints(pair) if checkpoints else None,
        )
        networks.update({f"{pair}.{name}": net for name, net in model.networks().items()})
        forward = source_held.subset(torch.arange(min(quota[target], len(source_held))))
        backward = target_held.subset(torch.arange(min(back_quota[i], len(target_held))))
        for held, label, reverse in ((forward, target, False), (backward, source, True)):
            way = f"{description}: {pair}{' reversed' if reverse else ''}"
            translated = ImageSplit(
                translate(model, held, reverse, f"{way}: translation"), torch.full((len(held),), label, dtype=torch.long)
            )
            fakes.append(translated)
            sources.append(held)
            cycled.append(ImageSplit(translate(model, translated, not reverse, f"{way}: cycle reconstruction"), held.labels))
    order = torch.cat([f.labels for f in fakes]).argsort(stable=True)  # class order, as sampled sets are

    def ordered(parts: list[ImageSplit]) -> ImageSplit:
        return ImageSplit(torch.cat([p.images for p in parts])[order], torch.cat([p.labels for p in parts])[order])

    return Translations(ordered(fakes), ordered(sources), ordered(cycled), networks, history)
