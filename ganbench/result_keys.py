"""The one grammar of result keys, parsed here and nowhere else.

A result key is a flat string: ``<base>`` or ``<base>[<qualifier>]``.

* ``<base>`` names a score and its protocol, lower snake case, and a downstream score
  starts with its protocol: ``fid``, ``ssim_nearest_real``, ``tstr_best_val_accuracy``.
* ``[<qualifier>]`` restricts the score to one class of the data, by the class name the
  run recorded (``ssim_nearest_real[glioma]``, ``tstr_f1[no_tumor]``); a metric declares
  which of its bases it also writes per class (:attr:`ganbench.specs.Metric.per_class_keys`).

The store, the aggregation, the comparison with papers and the renderers go through
:func:`parse` and :func:`per_class`; none of them splits a key on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

_KEY = re.compile(r"^(?P<base>[a-z0-9_@.]+)(?:\[(?P<qualifier>[^\[\]]+)\])?$")


@dataclass(frozen=True)
class ResultKey:
    base: str
    #: The class a per-class score is restricted to; None for a score over all classes.
    qualifier: Optional[str] = None

    def __str__(self) -> str:
        return self.base if self.qualifier is None else f"{self.base}[{self.qualifier}]"


def parse(key: str) -> ResultKey:
    """``"ssim_nearest_real[glioma]"`` -> ResultKey("ssim_nearest_real", "glioma").

    Raises ValueError for a string outside the grammar (upper case, spaces in the base,
    unbalanced or nested brackets, an empty qualifier)."""
    match = _KEY.match(str(key))
    if match is None:
        raise ValueError(
            f"{key!r} is not a result key: expected <base> or <base>[<class>], the base in lower snake case"
        )
    return ResultKey(match["base"], match["qualifier"])


def base_of(key: str) -> str:
    """The base of ``key``; a string outside the grammar is its own base (rows from
    elsewhere are not trusted to follow it, and must still aggregate)."""
    try:
        return parse(key).base
    except ValueError:
        return str(key)


def per_class(base: str, class_name: str) -> str:
    """The key of ``base`` restricted to ``class_name``. Raises ValueError for a class
    name the grammar cannot carry (one with brackets)."""
    key = f"{base}[{class_name}]"
    if parse(key) != ResultKey(base, class_name):
        raise ValueError(f"class name {class_name!r} cannot qualify a result key")
    return key


_TUMOUR_SUFFIX = re.compile(r"(tumou?r)$")
_NO_TUMOUR = {"no", "normal", "healthy", "notumor", "notumour", "none"}


def canonical_class(name: str) -> str:
    """A class name as papers and datasets spell it, reduced so that spellings of one
    class meet: ``glioma_tumor``, ``Glioma`` and ``glioma`` -> ``glioma``; ``no_tumor``,
    ``notumor``, ``Normal`` and ``healthy`` -> ``normal``."""
    plain = re.sub(r"[^a-z0-9]", "", str(name).lower())
    if plain in _NO_TUMOUR:
        return "normal"
    stripped = _TUMOUR_SUFFIX.sub("", plain)
    # "tumour" and "tumor" alone are one class.
    return stripped or "tumor"


def same_key(a: str, b: str) -> bool:
    """Whether two result keys name the same score: the same base, and qualifiers that
    name the same class (:func:`canonical_class`), or none."""
    if a == b:
        return True
    try:
        ka, kb = parse(a), parse(b)
    except ValueError:
        return False
    if ka.base != kb.base or (ka.qualifier is None) != (kb.qualifier is None):
        return False
    return canonical_class(ka.qualifier) == canonical_class(kb.qualifier)
