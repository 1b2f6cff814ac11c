"""Result rows -> leaderboard entries. Pure: reads rows, trains nothing."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Iterable, Optional


@dataclass(frozen=True)
class Group:
    """One leaderboard table: a suite on one dataset at one profile."""

    suite: str
    dataset: str
    profile: str


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
        too narrow: with 2 seeds the factor is 12.7)."""
        std = self.std
        if std is None:
            return None
        from scipy.stats import t  # scipy comes with torch-fidelity

        return float(t.ppf(0.975, len(self.values) - 1)) * std / math.sqrt(len(self.values))


@dataclass
class Table:
    group: Group
    entries: dict[tuple[str, str, Optional[str]], Entry]
    resolution: Optional[int] = None
    dataset_family: Optional[str] = None
    synthetic: bool = False
    rows: list[dict] = field(default_factory=list)

    def gans(self) -> list[str]:
        return sorted({e.gan for e in self.entries.values()})

    def entry(self, gan: str, key: str, classifier: Optional[str] = None) -> Optional[Entry]:
        return self.entries.get((gan, key, classifier))


def latest_rows(rows: Iterable[dict]) -> list[dict]:
    """The newest row per (cell, result key, classifier): a forced re-run supersedes
    the older numbers in the leaderboard while the store keeps both."""
    newest: dict[tuple, dict] = {}
    for row in rows:
        slot = (row["suite"], row["cell_key"], row["metric"], row["key"], row["classifier"])
        if slot not in newest or row["id"] > newest[slot]["id"]:
            newest[slot] = row
    return sorted(newest.values(), key=lambda r: r["id"])


def aggregate(rows: Iterable[dict]) -> list[Table]:
    tables: dict[Group, Table] = {}
    for row in latest_rows(rows):
        group = Group(row["suite"], row["dataset"], row["profile"])
        table = tables.setdefault(group, Table(group, {}))
        table.rows.append(row)
        if row["metric"] is None:  # a cell that failed before evaluation
            continue
        table.resolution = row["resolution"]
        table.dataset_family = row["dataset_family"]
        table.synthetic = bool(row["dataset_synthetic"])
        slot = (row["gan"], row["key"], row["classifier"])
        entry = table.entries.setdefault(slot, Entry(row["gan"], row["metric"], row["key"], row["classifier"]))
        if row["status"] == "ok":
            entry.values.append(row["value"])
            entry.seeds.append(row["seed"])
            entry.n_real.add(row["n_real"])
            entry.n_fake.add(row["n_fake"])
        elif row["status"] == "unavailable":
            entry.unavailable = row["error"]
        else:
            entry.failed = row["error"]
    return [tables[g] for g in sorted(tables, key=lambda g: (g.suite, g.dataset, g.profile))]
