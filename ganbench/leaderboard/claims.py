"""A paper's claims (:class:`ganbench.specs.Claim`) against the measured runs: per claim,
supported, contradicted, undecided or not measured, and why. Pure: reads entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from ..specs import Claim, Measure
from .aggregate import Entry

SUPPORTED, CONTRADICTED, UNDECIDED, NOT_MEASURED = "supported", "contradicted", "undecided", "not measured"


@dataclass(frozen=True)
class PairVerdict:
    better: Measure
    worse: Measure
    verdict: str
    why: str


@dataclass(frozen=True)
class ClaimVerdict:
    claim: Claim
    verdict: str
    pairs: tuple[PairVerdict, ...]

    @property
    def why(self) -> str:
        return "; ".join(p.why for p in self.pairs)


def judge_pair(
    better: Measure, worse: Measure, entry: Callable[[Measure], Optional[Entry]], direction: Callable[[str], Optional[str]]
) -> PairVerdict:
    """Whether ``better`` beats ``worse``: in the claimed order with disjoint 95%
    intervals (supported), in the opposite order with disjoint intervals (contradicted),
    else undecided; not measured when either has no value."""
    a, b = entry(better), entry(worse)
    missing = [m.label() for m, e in ((better, a), (worse, b)) if e is None or not e.values]
    if missing:
        return PairVerdict(better, worse, NOT_MEASURED, f"no measured value of {', '.join(missing)}")
    sense = direction(better.key)
    if sense not in ("lower", "higher") or direction(worse.key) != sense:
        return PairVerdict(better, worse, UNDECIDED, f"{better.key} and {worse.key} are not scores of one direction")
    in_order = a.mean < b.mean if sense == "lower" else a.mean > b.mean
    said = f"{better.label()} {a.mean:.4g} vs {worse.label()} {b.mean:.4g} ({sense} is better)"
    if a.interval is None or b.interval is None:
        return PairVerdict(better, worse, UNDECIDED, f"{said}: one seed, no interval")
    (a_low, a_high), (b_low, b_high) = a.interval, b.interval
    if a_low > b_high or b_low > a_high:
        return PairVerdict(better, worse, SUPPORTED if in_order else CONTRADICTED, f"{said}, 95% intervals disjoint")
    order = "in the claimed order" if in_order else "in the opposite order"
    return PairVerdict(better, worse, UNDECIDED, f"{said}: {order}, but the 95% intervals overlap")


def judge(
    claim: Claim, entry: Callable[[Measure], Optional[Entry]], direction: Callable[[str], Optional[str]]
) -> ClaimVerdict:
    """The claim's verdict: contradicted if any pair is; else not measured if any pair
    is; else supported if every pair is; else undecided."""
    pairs = tuple(judge_pair(better, worse, entry, direction) for better, worse in claim.comparisons)
    verdicts = {p.verdict for p in pairs}
    for verdict in (CONTRADICTED, NOT_MEASURED, UNDECIDED):
        if verdict in verdicts:
            return ClaimVerdict(claim, verdict, pairs)
    return ClaimVerdict(claim, SUPPORTED if pairs else UNDECIDED, pairs)
