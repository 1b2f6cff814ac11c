"""Merging and dropping classes: ``tumor=glioma_tumor+meningioma_tumor+pituitary_tumor,
normal=no_tumor`` turns the 4-class Kaggle set into BrainGAN's and IJACSA's tumour /
no-tumour task. Classes the map leaves out are dropped (and counted, never silently)."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ..errors import GanbenchError

SYNTAX = "NEW=OLD[+OLD...][,NEW=OLD...], e.g. tumor=glioma_tumor+meningioma_tumor+pituitary_tumor,normal=no_tumor"


def parse_class_map(text: str) -> dict[str, tuple[str, ...]]:
    """Read a ``class_map`` option: ``NEW=OLD[+OLD...][,NEW=OLD...]``.

    Args:
        text: e.g. ``tumor=glioma_tumor+meningioma_tumor+pituitary_tumor,normal=no_tumor``.

    Returns:
        New class name -> the old class names it takes, in the order given.

    Raises:
        GanbenchError: the text does not follow the syntax, names a new class twice or
            puts an old class into two new ones.
    """
    mapping: dict[str, tuple[str, ...]] = {}
    taken: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        new, sep, olds = part.partition("=")
        new = new.strip()
        sources = tuple(filter(None, (o.strip() for o in olds.split("+"))))
        if not sep or not new or not sources:
            raise GanbenchError(f"cannot read the class map entry {part!r}; the syntax is {SYNTAX}")
        if new in mapping:
            raise GanbenchError(f"the class map names {new!r} twice")
        for old in sources:
            if old in taken:
                raise GanbenchError(f"the class map puts {old!r} into both {taken[old]!r} and {new!r}")
            taken[old] = new
        mapping[new] = sources
    if not mapping:
        raise GanbenchError(f"the class map is empty; the syntax is {SYNTAX}")
    return mapping


def relabel(labels: np.ndarray, class_names: Sequence[str], mapping: Mapping[str, Sequence[str]]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Merge and drop classes as a class map says (`parse_class_map`).

    Args:
        labels: class indices into ``class_names``.
        class_names: the data's class names.
        mapping: new class name -> old class names, as `parse_class_map` returns it.

    Returns:
        ``(new labels, new class names)``: ``int64`` labels of ``labels``' shape, -1
        where the class is dropped (left out of the map: count and drop those items);
        the new names in the map's order.

    Raises:
        GanbenchError: the map names a class the data does not have.
    """
    unknown = sorted({old for olds in mapping.values() for old in olds} - set(class_names))
    if unknown:
        raise GanbenchError(f"the class map names classes the data does not have: {unknown}; it has {list(class_names)}")
    lookup = np.full(len(class_names), -1, dtype=np.int64)
    for new_label, olds in enumerate(mapping.values()):
        for old in olds:
            lookup[list(class_names).index(old)] = new_label
    return lookup[np.asarray(labels, dtype=np.int64)], tuple(mapping)
