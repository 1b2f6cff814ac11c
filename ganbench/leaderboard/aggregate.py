"""Result rows -> leaderboard tables. Pure: reads rows, trains nothing.

A table holds only numbers that may be read together: one suite, dataset and profile,
and within them one data fingerprint, class set, resolution and channel count
(:class:`Group`), so seeds run on different data are never averaged and GANs scored on
different tasks (2 classes against 4) are never ranked against each other.

Whatever a stored row holds, aggregation does not crash: a row that cannot be counted
(a value that is not a finite number, status 'ok' without a value, an unknown status, a
seed that is not an integer) is excluded with its reason (:attr:`Entry.excluded`,
:attr:`Table.excluded`) and never averaged.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Optional

# The t quantile is all the leaderboard needs of scipy; scipy.special loads in a fifth of
# the time scipy.stats takes, and every command imports this module. Imported here, not
# in a function, so a missing scipy fails at start-up and in the import-every-module test,
# never after a run has trained its cells.
from scipy.special import stdtrit

from ..result_keys import same_key
from ..results.store import STATUSES

if TYPE_CHECKING:
    from ..registry import Registry

#: Confidence level of the intervals over seeds.
CONFIDENCE = 0.95
UNBOUNDED = (-math.inf, math.inf)


@dataclass(frozen=True)
class Group:
    """What one leaderboard table's rows share."""

    suite: str
    dataset: str
    profile: str
    #: Content hash of the data the cells read (files, split, preprocessing); None for
    #: rows that recorded none.
    fingerprint: Optional[str] = None
    #: The class names in label order as the run recorded them (the task of every
    #: classifier-based score); None for rows from before runs recorded them.
    classes: Optional[tuple[str, ...]] = None
    resolution: Optional[int] = None
    channels: Optional[int] = None
    #: The suite variant of the cells (:class:`ganbench.specs.Variant`); None without.
    variant: Optional[str] = None

    def sort_key(self) -> tuple:
        # str(): rows are not trusted to hold the types the schema names.
        return tuple(
            "" if v is None else ",".join(v) if isinstance(v, tuple) else str(v)
            for v in (self.suite, self.dataset, self.profile, self.variant, self.fingerprint, self.classes, self.resolution, self.channels)
        )

    def same_place(self) -> tuple:
        """Suite, dataset, profile and variant: tables that share them differ only in their data."""
        return self.sort_key()[:4]


@dataclass
class Entry:
    """One GAN x result key (x classifier) over seeds."""

    gan: str
    metric: str
    key: str
    classifier: Optional[str]
    values: list[float] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    n_real: set = field(default_factory=set)
    n_fake: set = field(default_factory=set)
    unavailable: Optional[str] = None
    failed: Optional[str] = None
    #: Why rows of this entry were not counted, one reason per row.
    excluded: list[str] = field(default_factory=list)
    #: (lowest, highest) value the result key can take, as its metric declares it.
    bounds: tuple[float, float] = UNBOUNDED

    @property
    def mean(self) -> Optional[float]:
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> Optional[float]:
        """Sample standard deviation over seeds; None with fewer than two."""
        return statistics.stdev(self.values) if len(self.values) > 1 else None

    @property
    def ci95(self) -> Optional[float]:
        """Half-width of the 95% confidence interval of the mean over seeds, Student's t
        with n - 1 degrees of freedom (a handful of seeds makes the normal's 1.96 far
        too narrow: with 2 seeds the factor is 12.7). Not clipped: see :attr:`interval`."""
        std = self.std
        if std is None:
            return None
        n = len(self.values)
        return float(stdtrit(n - 1, 0.5 + CONFIDENCE / 2)) * std / math.sqrt(n)

    @property
    def interval(self) -> Optional[tuple[float, float]]:
        """(low, high): mean -+ :attr:`ci95`, clipped to :attr:`bounds`; None with fewer
        than two seeds. Clipping removes only values the score cannot take, so the
        interval still holds the true mean whenever the unclipped one does."""
        half = self.ci95
        if half is None:
            return None
        low, high = self.bounds
        return max(self.mean - half, low), min(self.mean + half, high)


@dataclass
class Table:
    group: Group
    entries: dict[tuple[str, str, Optional[str]], Entry]
    dataset_family: Optional[str] = None
    synthetic: bool = False
    rows: list[dict] = field(default_factory=list)
    #: "<gan> seed <seed>, <key>: <why>" for every row not counted.
    excluded: list[str] = field(default_factory=list)
    #: Empty, or a short tag that tells this table's files from those of other tables of
    #: the same suite, dataset, profile and variant (other data).
    tag: str = ""

    @property
    def resolution(self) -> Optional[int]:
        return self.group.resolution

    def gans(self) -> list[str]:
        return sorted({e.gan for e in self.entries.values()})

    def external_gans(self) -> set[str]:
        """GANs whose rows score samples made elsewhere and evaluated as given
        (``ganbench evaluate``: their config holds ``external``), not trained by ganbench."""
        return {r["gan"] for r in self.rows if isinstance(json_field(r, "config_json").get("external"), dict)}

    def entry(self, gan: str, key: str, classifier: Optional[str] = None) -> Optional[Entry]:
        """The entry of ``gan``, ``key`` and ``classifier``; a per-class key meets the
        entry whose class is spelt otherwise (``[Glioma]`` meets ``[glioma_tumor]``)."""
        found = self.entries.get((gan, key, classifier))
        if found is None:
            for (g, k, c), entry in sorted(self.entries.items(), key=lambda item: str(item[0])):
                if g == gan and c == classifier and same_key(k, key):
                    return entry
        return found


def json_field(row: dict, name: str) -> dict:
    """A row's JSON column as a dict; {} when it is absent, not JSON or not an object."""
    try:
        value = json.loads(row.get(name) or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def group_of(row: dict) -> Group:
    config = json_field(row, "config_json")
    fingerprint = row.get("dataset_fingerprint") or config.get("dataset_fingerprint")
    variant = config.get("variant")
    variant = variant.get("name") if isinstance(variant, dict) and isinstance(variant.get("name"), str) else None
    classes = config.get("class_names")
    if not (isinstance(classes, list) and classes and all(isinstance(c, str) for c in classes)):
        classes = None
    return Group(
        row["suite"], row["dataset"], row["profile"],
        fingerprint=None if fingerprint is None else str(fingerprint),
        classes=None if classes is None else tuple(classes),
        resolution=row.get("resolution") if is_integer(row.get("resolution")) else None,
        channels=row.get("channels") if is_integer(row.get("channels")) else None,
        variant=variant,
    )


def row_problem(row: dict) -> Optional[str]:
    """Why a stored row cannot be counted, or None. Rows of a cell that failed before
    evaluation (no metric, status 'failed') are fine: they are listed as failures."""
    status = row.get("status")
    if status not in STATUSES:
        return f"unknown status {status!r} (known: {', '.join(STATUSES)})"
    if not is_integer(row.get("seed")):
        return f"seed {row.get('seed')!r} is not an integer"
    if row.get("metric") is None:
        return None if status == "failed" else f"status {status!r} but no metric named"
    if row.get("key") is None:
        return "no result key named"
    if status != "ok":
        return None
    value = row.get("value")
    if value is None:
        return "status 'ok' but no value (NULL; the store keeps a NaN as NULL)"
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return f"value {value!r:.40} is not a number"
    if not math.isfinite(value):
        return f"value {value} is not finite"
    return None


def out_of_range(row: dict, bounds: tuple[float, float]) -> Optional[str]:
    """Why a counted value cannot be right: it lies outside its metric's declared range."""
    if row["status"] != "ok" or bounds[0] <= row["value"] <= bounds[1]:
        return None
    return f"value {row['value']:.4g} is outside the range {fmt_range(bounds)} its metric declares"


def describe(row: dict) -> str:
    what = f"{row.get('gan')} seed {row.get('seed')}"
    if row.get("key") is not None:
        what += f", {row['key']}" + (f" ({row['classifier']})" if row.get("classifier") else "")
    return what


def fmt_range(bounds: tuple[float, float]) -> str:
    """[0, 1], [0, ∞), (-∞, ∞)."""
    low, high = bounds
    left = "(-∞" if low == -math.inf else f"[{low:g}"
    right = "∞)" if high == math.inf else f"{high:g}]"
    return f"{left}, {right}"


def latest_rows(rows: Iterable[dict]) -> list[dict]:
    """The newest row per (cell, result key, classifier): a forced re-run supersedes
    the older numbers in the leaderboard while the store keeps both."""
    newest: dict[tuple, dict] = {}
    for row in rows:
        slot = (row["suite"], row["cell_key"], row.get("metric"), row.get("key"), row.get("classifier"))
        if slot not in newest or row["id"] > newest[slot]["id"]:
            newest[slot] = row
    return sorted(newest.values(), key=lambda r: r["id"])


def value_range(registry: Optional["Registry"], metric: str, key: str) -> tuple[float, float]:
    if registry is None or ("metrics", metric) not in registry:
        return UNBOUNDED
    return registry.get("metrics", metric).range_of(key)


def aggregate(rows: Iterable[dict], registry: Optional["Registry"] = None) -> list[Table]:
    """Tables of ``rows`` (dicts as :meth:`ResultsStore.rows` and
    :func:`~ganbench.results.export.read_rows` give them: every NOT NULL column present),
    one per :class:`Group`, in a fixed order. With ``registry``, each entry's interval is
    clipped to the range its metric declares (:meth:`ganbench.specs.Metric.range_of`),
    and a value outside that range is excluded."""
    tables: dict[Group, Table] = {}
    for row in latest_rows(rows):
        group = group_of(row)
        table = tables.setdefault(group, Table(group, {}))
        table.rows.append(row)
        problem = row_problem(row)
        if row.get("metric") is None or row.get("key") is None:
            # Without a problem: a cell that failed before evaluation, listed as failed.
            if problem is not None:
                table.excluded.append(f"{describe(row)}: {problem}")
            continue
        table.dataset_family = row.get("dataset_family")
        table.synthetic = bool(row.get("dataset_synthetic"))
        slot = (row["gan"], row["key"], row.get("classifier"))
        entry = table.entries.get(slot)
        if entry is None:
            bounds = value_range(registry, row["metric"], row["key"])
            entry = table.entries[slot] = Entry(row["gan"], row["metric"], row["key"], row.get("classifier"), bounds=bounds)
        problem = problem or out_of_range(row, entry.bounds)
        if problem is not None:
            entry.excluded.append(problem)
            table.excluded.append(f"{describe(row)}: {problem}")
        elif row["status"] == "ok":
            entry.values.append(float(row["value"]))
            entry.seeds.append(row["seed"])
            entry.n_real.update(n for n in [row.get("n_real")] if is_integer(n))
            entry.n_fake.update(n for n in [row.get("n_fake")] if is_integer(n))
        elif row["status"] == "unavailable":
            entry.unavailable = row.get("error") or "unavailable"
        else:
            entry.failed = row.get("error") or "failed"
    ordered = [tables[g] for g in sorted(tables, key=Group.sort_key)]
    places = Counter(t.group.same_place() for t in ordered)
    for table in ordered:
        if places[table.group.same_place()] > 1:
            table.tag = hashlib.sha256(repr(table.group.sort_key()).encode()).hexdigest()[:8]
    return ordered
