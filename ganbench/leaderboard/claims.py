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
        """The decided and undecided pairs in words; the unmeasured ones counted."""
        said = [p.why for p in self.pairs if p.verdict != NOT_MEASURED]
        missing = [p for p in self.pairs if p.verdict == NOT_MEASURED]
        if missing:
            said.append(
                f"{len(missing)} of {len(self.pairs)} comparisons not measured"
                + (f" (e.g. {missing[0].why[len('no measured value of '):]})" if missing[0].why.startswith("no measured") else "")
            )
        return "; ".join(said)


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
    """The claim's verdict: contradicted if any pair is; not measured if no pair is
    measured; undecided if a measured pair is; supported if every pair is; supported
    where measured (and how many were) when the measured pairs all are."""
    pairs = tuple(judge_pair(better, worse, entry, direction) for better, worse in claim.comparisons)
    verdicts = [p.verdict for p in pairs]
    if CONTRADICTED in verdicts:
        return ClaimVerdict(claim, CONTRADICTED, pairs)
    measured = [v for v in verdicts if v != NOT_MEASURED]
    if not measured:
        return ClaimVerdict(claim, NOT_MEASURED, pairs)
    if UNDECIDED in measured:
        return ClaimVerdict(claim, UNDECIDED, pairs)
    if len(measured) < len(verdicts):
        return ClaimVerdict(claim, f"{SUPPORTED} where measured ({len(measured)} of {len(verdicts)} comparisons)", pairs)
    return ClaimVerdict(claim, SUPPORTED, pairs)
