"""What a metric's ``compute`` must return, checked the same way at run time (by the
runner, on every call) and in plugin authors' tests (by :mod:`ganbench.testing`).

A breach never crashes a run and never reaches the store as a number: the runner marks
that metric failed in that cell with the message returned here, and keeps the other
metrics' rows.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from .errors import GanbenchError
from .specs import Metric, MetricResult


def result_problems(metric: Metric, result: Any, artifacts_dir: Optional[Path] = None) -> list[str]:
    """Every way ``result`` breaks the metric contract, as one-line messages (empty when
    it keeps it): a :class:`~ganbench.specs.MetricResult` whose ``values`` is a non-empty
    dict of result keys the metric declares in ``result_keys``, each a finite real
    number (bool, str, None, NaN and inf are not) inside the key's declared
    ``value_ranges`` (up to :data:`RANGE_TOLERANCE`), counts that are None or non-negative
    ints, and artifacts naming files that exist under ``artifacts_dir``."""
    if not isinstance(result, MetricResult):
        return [f"compute() must return a MetricResult, got {type(result).__qualname__}"]
    values = result.values
    if not isinstance(values, Mapping) or not values:
        return [f"compute() returned no values (values={values!r})"]
    problems = []
    undeclared = sorted(str(k) for k in values if not metric.declares(k))
    if undeclared:
        problems.append(f"compute() returned keys not in result_keys: {undeclared} (nor a per_class_keys base qualified by a class)")
    bad = {k: v for k, v in values.items() if not is_finite_real(v)}
    if bad:
        problems.append(f"compute() must return finite real numbers, got {bad!r}")
    outside = {
        k: v for k, v in values.items() if metric.declares(k) and k not in bad and not within(v, metric.range_of(k))
    }
    if outside:
        ranges = ", ".join(f"{k}={v!r} not in {list(metric.range_of(k))}" for k, v in outside.items())
        problems.append(f"compute() returned values outside their declared value_ranges: {ranges}")
    for count in ("n_real", "n_fake"):
        value = getattr(result, count)
        if not (value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)):
            problems.append(f"MetricResult.{count} must be None or a count, got {value!r}")
    if not isinstance(result.artifacts, Mapping):
        problems.append(f"MetricResult.artifacts must be a dict of name -> file, got {type(result.artifacts).__qualname__}")
    elif artifacts_dir is not None:
        missing = [f for f in result.artifacts.values() if not (Path(artifacts_dir) / str(f)).is_file()]
        if missing:
            problems.append(f"MetricResult.artifacts must name files written under artifacts_dir; missing {missing}")
    return problems


#: Rounding room at a range's ends: an SSIM of 1 + 1e-12 from float arithmetic is 1.
RANGE_TOLERANCE = 1e-6


def within(value: float, bounds: tuple[float, float]) -> bool:
    low, high = bounds
    return low - RANGE_TOLERANCE * max(1.0, abs(low)) <= value <= high + RANGE_TOLERANCE * max(1.0, abs(high))


def is_finite_real(value: Any) -> bool:
    """A real number that is neither bool, NaN nor infinite (numpy scalars count)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def duplicate_result_keys(metrics: Iterable[Metric]) -> dict[str, list[str]]:
    """Result keys that more than one of ``metrics`` declares -> those metrics' names. Two
    metrics writing one key would make a cell hold two different numbers under one name."""
    metrics = list(metrics)
    counts = Counter(key for metric in metrics for key in set(metric.result_keys))
    return {
        key: [m.name for m in metrics if key in m.result_keys] for key in sorted(k for k, n in counts.items() if n > 1)
    }


def check_distinct_result_keys(suite_name: str, metrics: Iterable[Metric]) -> None:
    """Raise :class:`GanbenchError` if two metrics of a suite declare the same result key."""
    clashes = duplicate_result_keys(metrics)
    if clashes:
        listing = "; ".join(f"{key!r} by {', '.join(names)}" for key, names in clashes.items())
        raise GanbenchError(
            f"suite {suite_name!r} has metrics that write the same result key: {listing}. "
            "Each key must come from one metric; leave one of them out of the suite or rename its keys"
        )
