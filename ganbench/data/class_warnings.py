"""Warnings about a dataset's classes that leave numbers meaningless or fragile.

Two cases, decided once here so that ``ganbench data inspect``, the readers' notes and
the runner's log say the same thing:

* **One class.** A GAN can still be trained on it and FID, KID, precision/recall, the
  similarity and memorisation metrics still measure its samples, so loading one class
  is a warning, not an error. A classifier, however, has nothing to tell apart: TSTR,
  TRTR and TRSTR would report a perfect accuracy whatever the generator does. Those
  metrics refuse such data with `require_classes_for_classification` (the metric
  fails in its cell with that message; the other metrics' rows are kept).
* **A class with fewer training images than a batch.** The training loop caps the
  batch at the images there are (``ganbench.runner.training.batches``), so every step
  of a per-class GAN trains on the whole class: batch statistics come from fewer images
  than the GAN's hyperparameters assume and each image is seen every step, which invites
  memorisation. This is a warning: the run is valid, but its numbers are not comparable
  with a run whose classes fill a batch.

Every function is pure: it takes names and counts and returns one-line messages.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from ..errors import GanbenchError

#: A classifier needs at least this many classes to have anything to learn.
MIN_CLASSES_FOR_CLASSIFICATION = 2


def class_count_warnings(dataset: str, class_names: Sequence[str]) -> list[str]:
    """One line when ``class_names`` holds fewer than two classes, else ``[]``.

    ``dataset`` names the data in the message (a plugin name or a path)."""
    if len(class_names) >= MIN_CLASSES_FOR_CLASSIFICATION:
        return []
    only = f"only the class {class_names[0]!r}" if class_names else "no class"
    return [
        f"{dataset} has {only}: the image metrics (FID, KID, ...) run, but the classification metrics "
        f"(tstr, trtr, trstr) need at least {MIN_CLASSES_FOR_CLASSIFICATION} classes and will fail; "
        "add a class folder, or run a suite without downstream metrics"
    ]


def class_size_warnings(class_counts: Mapping[str, int], batch_size: int, *, gan: str = "") -> list[str]:
    """One line per class with fewer than ``batch_size`` training images, in the
    mapping's order; ``[]`` when every class fills a batch.

    ``class_counts``: class name -> training images (ints >= 0); for a GAN trained on
    every class at once pass ``{"all classes": n}``. ``batch_size``: the GAN's
    ``batch_size`` hyperparameter (int >= 1). ``gan`` names the GAN in the message.
    Raises ``ValueError`` for a batch size below 1."""
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    whose = f" of {gan}" if gan else ""
    return [
        f"class {name!r} has {n} training images, fewer than the batch size {batch_size}{whose}: every step "
        f"trains on all {n} (smaller batches than the hyperparameters assume, each image seen every step); "
        "add images to it or merge it with another class (--data-option class_map=...)"
        for name, n in class_counts.items()
        if int(n) < int(batch_size)
    ]


def require_classes_for_classification(class_names: Sequence[str], metric: str) -> None:
    """Raise `GanbenchError` when a classifier-based ``metric`` is asked to score
    data of fewer than two classes (its accuracy would be 1.0 by construction)."""
    if len(class_names) < MIN_CLASSES_FOR_CLASSIFICATION:
        found = ", ".join(repr(c) for c in class_names) or "none"
        raise GanbenchError(
            f"the {metric} metric trains a classifier and needs at least {MIN_CLASSES_FOR_CLASSIFICATION} classes, "
            f"the data has {len(class_names)} ({found}); add a class, or leave {metric} out of the suite"
        )
