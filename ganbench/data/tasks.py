"""Class tasks a suite asks of any dataset: BrainGAN and IJACSA Tables III-V classify
tumour against no tumour, whatever classes the data at hand has.

``tumour-vs-normal`` keeps the one no-tumour class (by its name: no, normal, healthy,
notumor, no_tumor...) and merges every other class into ``tumor``. Data that already is
exactly (no tumour, tumour) keeps its own class names. The merged data has its own
fingerprint, so it never shares a leaderboard table with the data's own classes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import torch

from ..errors import GanbenchError
from ..specs import CLASS_TASKS, ImageSplit, LoadedData

#: Class names that mean "no tumour".
NO_TUMOUR_NAMES = re.compile(r"^(no|normal|healthy|notumou?r)([ _-].*)?$", re.IGNORECASE)
TUMOUR = "tumor"


def no_tumour_class(class_names: tuple[str, ...]) -> int:
    """The label of the one no-tumour class. Raises `GanbenchError` when there is
    none or more than one."""
    found = [i for i, name in enumerate(class_names) if NO_TUMOUR_NAMES.match(name)]
    if len(found) != 1:
        raise GanbenchError(
            f"the tumour-vs-normal task needs exactly one no-tumour class (named no, normal, healthy or "
            f"no_tumor/notumor); found {len(found)} among {', '.join(class_names)}"
        )
    return found[0]


def apply_class_task(data: LoadedData, task: str) -> LoadedData:
    """``data`` relabelled for ``task`` ("" leaves it as it is).

    Raises `GanbenchError` for an unknown task or data it cannot apply to."""
    if not task:
        return data
    if task not in CLASS_TASKS:
        raise GanbenchError(f"unknown class task {task!r}; known: {', '.join(CLASS_TASKS)}")
    normal = no_tumour_class(data.class_names)
    if len(data.class_names) < 2:
        raise GanbenchError(f"the tumour-vs-normal task needs a tumour class besides {data.class_names[normal]!r}; the data has no other")
    if len(data.class_names) == 2:
        # Already (no tumour, tumour): nothing to merge, names kept as the data has them.
        return data
    names = (data.class_names[normal], TUMOUR)

    def relabel(split: ImageSplit) -> ImageSplit:
        return ImageSplit(split.images, torch.where(split.labels == normal, 0, 1))

    merged = ", ".join(n for i, n in enumerate(data.class_names) if i != normal)
    return replace(
        data,
        class_names=names,
        train=relabel(data.train),
        test=relabel(data.test),
        fingerprint=hashlib.sha256(f"{data.fingerprint}|{task}".encode()).hexdigest()[:16],
        notes=(data.notes + "; " if data.notes else "") + f"class task {task}: {merged} merged into {TUMOUR!r}",
    )
