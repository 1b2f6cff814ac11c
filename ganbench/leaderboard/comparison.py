"""What a paper reported, set against what ganbench measured: per number, whether the two
may be read together at all, and per table, whether the paper's ranking of GANs holds.

A reported number meets a measured one only through the names it maps to (GAN, result
key, classifier). Anything that differs besides the numbers themselves is said in words:
"different data" when the dataset family differs (or ours is a phantom), "different
protocol" when the classifier, the resolution or any difference the reference records
does; only what is left is "comparable", and then the reported value is placed inside,
above or below our 95% interval over seeds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from ..registry import Registry
from ..result_keys import same_key
from ..specs import Reference
from .aggregate import Entry, Table


def registered_references(registry: Registry) -> list[Reference]:
    """Every registered reference, in name order (the order every listing shows)."""
    return sorted((ref for ref, _ in registry.items("references")), key=lambda r: r.name)


def direction_of(registry: Registry, key: str) -> Optional[str]:
    """Which way a result key is better, from the metric that declares it."""
    for metric, _ in registry.items("metrics"):
        if metric.declares(key):
            return metric.direction_of(key)
    return None


def comparability(reference: Reference, table: Table, entry: Optional[Entry]) -> str:
    if table.synthetic:
        return "different data: synthetic phantom, not patient data"
    if reference.dataset_family != table.dataset_family:
        return f"different data (paper: {reference.dataset_family}; here: {table.dataset_family})"
    if reference.incomparable:
        return f"not comparable: {reference.incomparable}"
    if entry is None or not entry.values:
        return "no measurement"
    reasons = protocol_differences(reference, table, entry)
    if reasons:
        return "different protocol: " + "; ".join(reasons)
    if entry.interval is None:
        return "comparable (one seed: no interval)"
    return f"comparable: reported value {position(reference.value, entry.interval)} our 95% CI"


def position(reported: float, interval: tuple[float, float]) -> str:
    """Where a reported number lies against our interval: inside, above or below."""
    low, high = interval
    return "inside" if low <= reported <= high else ("above" if reported > high else "below")


def protocol_differences(reference: Reference, table: Table, entry: Entry) -> list[str]:
    """Every way the paper's protocol departs from the measurement's, data aside."""
    reasons = list(reference.differences)
    if reference.classifier != entry.classifier:
        reasons.append(f"classifier {reference.classifier or 'none'} in the paper, {entry.classifier or 'none'} here")
    if reference.resolution and table.resolution and reference.resolution != table.resolution:
        reasons.append(f"{reference.resolution} px in the paper, {table.resolution} px here")
    return reasons


def measured_for(reference: Reference, table: Table) -> Optional[Entry]:
    """Our entry for a reference: same GAN and key, the same classifier if we ran it,
    else the first classifier in name order (the table then says the classifier differs)."""
    candidates = sorted(
        (e for e in table.entries.values() if e.gan == reference.gan and same_key(e.key, reference.metric)),
        key=lambda e: e.classifier or "",
    )
    same = [e for e in candidates if e.classifier == reference.classifier]
    return (same or candidates or [None])[0]


def references_for(table: Table, references: Iterable[Reference]) -> list[Reference]:
    """The references about a GAN and a result key this table measured, in name order."""
    measured = [(e.gan, e.key) for e in table.entries.values() if e.values]
    return sorted(
        (
            r for r in references
            if meets_variant(r, table) and any(gan == r.gan and same_key(key, r.metric) for gan, key in measured)
        ),
        key=lambda r: r.name,
    )


def meets_variant(reference: Reference, table: Table) -> bool:
    """A table of a suite variant meets only the references of that variant (a paper's
    256 px row never meets our 512 px cells); a table without variants meets all."""
    return table.group.variant is None or reference.variant == table.group.variant


@dataclass(frozen=True)
class Ordering:
    """A paper's ranking of GANs on one measure, and ours of the same GANs with one of
    our classifiers (None for measures without one)."""

    paper: str
    table: str
    metric: str
    #: The paper's classifiers that gave this same ranking.
    classifiers: tuple[str, ...]
    context: str
    reported: tuple[str, ...]  # best first
    measured: tuple[str, ...]  # best first
    #: Every neighbouring pair of our ranking has disjoint 95% intervals.
    separated: bool
    classifier_here: Optional[str]

    @property
    def verdict(self) -> str:
        if self.reported == self.measured:
            return "same order" + ("" if self.separated else " (our 95% intervals overlap)")
        return "different order" + ("" if self.separated else " (our 95% intervals overlap: undecided)")


def _groups(references: list[Reference]) -> list[tuple[str, list[Reference]]]:
    """References of one paper, table, metric and classifier; split further by the
    stated samples when a GAN appears more than once (one ranking per setting), and
    dropped when even that leaves a GAN twice (e.g. per-class rows)."""
    by_measure: dict[tuple, list[Reference]] = defaultdict(list)
    for ref in references:
        by_measure[(ref.paper, ref.table, ref.metric, ref.classifier or "")].append(ref)
    groups = []
    for _, refs in sorted(by_measure.items()):
        gans = [r.gan for r in refs]
        if len(gans) == len(set(gans)):
            groups.append(("", refs))
            continue
        by_samples: dict[str, list[Reference]] = defaultdict(list)
        for ref in refs:
            by_samples[ref.samples].append(ref)
        for samples, sub in sorted(by_samples.items()):
            if len({r.gan for r in sub}) == len(sub):
                groups.append((samples, sub))
    return groups


def orderings(table: Table, references: Iterable[Reference], direction: Callable[[str], Optional[str]]) -> list[Ordering]:
    """For every measure on which a paper ranks two or more GANs this table measured:
    the paper's order and ours (by mean over seeds, one ranking per classifier we ran),
    best first. Rankings that differ only in the paper's classifier are given once."""
    found: dict[tuple, tuple[list[str], bool]] = {}
    for context, refs in _groups(references_for(table, references)):
        key = refs[0].metric
        better = direction(key)
        if better not in ("higher", "lower"):
            continue
        sign = -1 if better == "higher" else 1
        for classifier in sorted({e.classifier or "" for e in table.entries.values() if e.key == key}):
            entries = {r.gan: table.entry(r.gan, key, classifier or None) for r in refs}
            ranked = [r for r in refs if entries[r.gan] is not None and entries[r.gan].values]
            if len(ranked) < 2:
                continue
            reported = tuple(r.gan for r in sorted(ranked, key=lambda r: (sign * r.value, r.gan)))
            measured = tuple(sorted((r.gan for r in ranked), key=lambda g: (sign * entries[g].mean, g)))
            slot = (ranked[0].paper, ranked[0].table, key, context, reported, measured, classifier)
            paper_classifiers, _ = found.setdefault(slot, ([], _separated([entries[g] for g in measured])))
            paper_classifiers.append(ranked[0].classifier or "")
    out = []
    for (paper, table_name, key, context, reported, measured, classifier), (paper_classifiers, separated) in found.items():
        out.append(
            Ordering(
                paper=paper, table=table_name, metric=key, classifiers=tuple(c for c in paper_classifiers if c),
                context=context, reported=reported, measured=measured, separated=separated,
                classifier_here=classifier or None,
            )
        )
    return out


def _separated(ranked: list[Entry]) -> bool:
    for a, b in zip(ranked, ranked[1:]):
        if a.interval is None or b.interval is None:
            return False
        (a_low, a_high), (b_low, b_high) = a.interval, b.interval
        if not (a_low > b_high or b_low > a_high):
            return False
    return True
