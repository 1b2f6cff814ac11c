"""The headline of a leaderboard table: the few numbers GANs are compared by, narrow
enough for a phone screen. Everything else goes to the folded sections under it.

One column per question, each filled by the first result key (and classifier) of its
candidates that some GAN of the table has a value for; a column no candidate of which
appears in the table is left out:

========== =========================================================================
column     candidates, in order
========== =========================================================================
distance   ``fid``; else the headline keys of ``distribution`` metrics
similarity ``ssim_nearest_real``; else the headline keys of ``paired`` metrics
downstream ``tstr_accuracy``, ``tstr_best_val_accuracy``, ``trstr_accuracy``,
           ``trstr_best_val_accuracy``; else the headline keys of ``downstream`` metrics
           but ``trtr_*`` (trained and tested on real images: a baseline, the same
           for every GAN)
diversity  ``ms_ssim_diversity``; else the headline keys of ``diversity`` metrics
memorised  ``memorization_pixels``; else the headline keys of ``privacy`` metrics
========== =========================================================================

"Headline keys" are :meth:`ganbench.specs.Metric.is_headline`; fallbacks come in the
order the rows first show them, never per-class keys. A downstream key takes the
classifiers in the suite's order (its ``classifiers``), those the suite does not list
after them in row order: the first classifier of the suite is the one shown. A candidate
that only failed or is unavailable (FID without its Inception weights) gives way to a
later one with a value; when none has a value, the first candidate is shown, so that
the failure is visible.

The headline ends with the GAN's number of seeds and its sample sizes (real / generated
images of the distribution metrics).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..registry import Registry
from ..result_keys import parse
from .aggregate import Entry, Table

#: (key, metric, classifier): one column of values of a table.
Slot = tuple[str, str, Optional[str]]


@dataclass(frozen=True)
class Question:
    """One headline column: what it answers, the keys it prefers, and the metric kinds
    whose headline keys stand in for them."""

    name: str
    preferred: tuple[str, ...]
    kinds: tuple[str, ...]
    #: Key prefixes that never stand in: scores that do not depend on the GAN.
    never: tuple[str, ...] = ()


QUESTIONS = (
    Question("distance", ("fid",), ("distribution",)),
    Question("similarity", ("ssim_nearest_real",), ("paired",)),
    Question("downstream", ("tstr_accuracy", "tstr_best_val_accuracy", "trstr_accuracy", "trstr_best_val_accuracy"), ("downstream",), ("trtr_",)),
    Question("diversity", ("ms_ssim_diversity",), ("diversity",)),
    Question("memorised", ("memorization_pixels",), ("privacy",)),
)

#: Significant digits of a headline number: with a handful of seeds the third is already noise.
DIGITS = 3


def slots_in_row_order(table: Table) -> list[Slot]:
    """Every (key, metric, classifier) of the table, in the order its rows first show them."""
    seen: dict[Slot, None] = {}
    for row in table.rows:
        if row.get("key") is not None and row.get("metric") is not None:
            seen.setdefault((row["key"], row["metric"], row.get("classifier")), None)
    return list(seen)


def classifier_rank(table: Table, registry: Registry) -> dict[Optional[str], int]:
    """Position of each classifier of the table: the suite's order, then row order."""
    order: list[Optional[str]] = []
    if ("suites", table.group.suite) in registry:
        order += list(registry.get("suites", table.group.suite).classifiers)
    order += [classifier for _, _, classifier in slots_in_row_order(table)]
    rank: dict[Optional[str], int] = {}
    for classifier in order:
        rank.setdefault(classifier, len(rank))
    return rank


def is_per_class(key: str) -> bool:
    try:
        return parse(key).qualifier is not None
    except ValueError:
        return False


def candidates(question: Question, table: Table, registry: Registry) -> list[Slot]:
    """The slots that may answer ``question`` in this table, best first."""
    slots = slots_in_row_order(table)
    rank = classifier_rank(table, registry)
    by_classifier = sorted(slots, key=lambda slot: rank[slot[2]])  # stable: row order within a classifier
    ordered = [slot for key in question.preferred for slot in by_classifier if slot[0] == key]

    def stands_in(slot: Slot) -> bool:
        key, metric, _ = slot
        if is_per_class(key) or key.startswith(question.never) or ("metrics", metric) not in registry:
            return False
        spec = registry.get("metrics", metric)
        return spec.kind in question.kinds and spec.is_headline(key)

    ordered += [slot for slot in by_classifier if stands_in(slot) and slot not in ordered]
    return ordered


def has_values(table: Table, slot: Slot) -> bool:
    return any(e.values for e in table.entries.values() if (e.key, e.metric, e.classifier) == slot)


def headline_slots(table: Table, registry: Registry) -> list[tuple[Question, Slot]]:
    """One slot per question the table can answer, in :data:`QUESTIONS` order."""
    chosen = []
    for question in QUESTIONS:
        found = candidates(question, table, registry)
        if found:
            chosen.append((question, next((slot for slot in found if has_values(table, slot)), found[0])))
    return chosen


def fmt_short(value: float) -> str:
    return f"{value:.{DIGITS}g}"


def headline_cell(entry: Optional[Entry]) -> str:
    """``mean [low, high]`` (the 95% interval over seeds); the mean alone with one seed;
    what happened instead where no value was counted."""
    if entry is None:
        return "—"
    if not entry.values:
        if entry.excluded:
            return "excluded"
        return "unavailable" if entry.unavailable else ("failed" if entry.failed else "—")
    text = fmt_short(entry.mean)
    if entry.interval is not None:
        low, high = entry.interval
        text += f" [{fmt_short(low)}, {fmt_short(high)}]"
    return text + (f" ({len(entry.excluded)} excluded)" if entry.excluded else "")


def seed_count(table: Table, gan: str) -> int:
    return len({s for e in table.entries.values() if e.gan == gan for s in e.seeds})


def sample_sizes(table: Table, gan: str) -> str:
    """``n_real / n_fake``: the real images the distribution metrics compared with (the
    paired and downstream ones use their own), and the generated images."""
    entries = [e for e in table.entries.values() if e.gan == gan]
    n_real = sorted({n for e in entries if e.metric in ("fid", "kid") for n in e.n_real if n})
    n_fake = sorted({n for e in entries for n in e.n_fake if n})
    return f"{'/'.join(map(str, n_real)) or '—'} / {'/'.join(map(str, n_fake)) or '—'}"
