"""A paper's reproduction report: its result tables in their own layout (its rows, its
columns, its units) with our value and a verdict under every number, then its claims
with ours. Rendered over the same aggregated tables as the generic leaderboard; the
layout is the paper's references in the order its plugin registered them, so no number
and no label is typed twice.

Verdict per number (:func:`number_verdict`):

* **reproduced** / **above** / **below**: the measurement is on the paper's data family
  and the reported value lies inside, above or below our 95% interval over seeds; every
  remaining difference of protocol (resolution, sample counts, a classifier we ran in
  its stead...) is a numbered note under the table;
* **one seed**: same family, one seed, no interval: the value stands beside ours;
* **not comparable: different data** (another family) or **synthetic phantom**;
* **not measured**: the run has no value (the GAN is not in ganbench, the variant or
  metric did not run, or it failed: the reason is given);
* **setting**: the number is a setting of the paper's run (images generated, epochs),
  not a result; ours are in the report's first paragraph.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Iterable, Optional

from tabulate import tabulate

from ..registry import Registry
from ..specs import Claim, Measure, Reference, Suite
from .aggregate import Entry, Table, json_field
from .claims import judge
from .comparison import direction_of, orderings, position, protocol_differences

#: Result keys of references that are settings of the paper's run, not results.
SETTING_KEYS = frozenset({"images_generated", "real_images", "training_samples", "epochs", "test_images"})

REPRODUCED, ABOVE, BELOW = "reproduced", "above", "below"


def paper_references(registry: Registry, paper: str) -> list[Reference]:
    """The paper's references in registration order (its tables' own order)."""
    return [r for r in registry.in_registration_order("references") if r.paper == paper]


def paper_claims(registry: Registry, paper: str) -> list[Claim]:
    return [c for c in registry.in_registration_order("claims") if c.paper == paper]


def places(tables: Iterable[Table]) -> dict[tuple[str, str], list[Table]]:
    """Tables by (dataset, profile): one report each; its variants are its tables."""
    out: dict[tuple[str, str], list[Table]] = defaultdict(list)
    for table in tables:
        out[(table.group.dataset, table.group.profile)].append(table)
    return dict(out)


def table_for(tables: list[Table], variant: str) -> Optional[Table]:
    """The table of ``variant`` ("" for none); with several (the data changed between
    runs), the one with the newest row."""
    found = [t for t in tables if (t.group.variant or "") == variant]
    return max(found, key=lambda t: max((r["id"] for r in t.rows), default=0)) if found else None


def fmt_value(value: Optional[float], unit: str) -> str:
    if value is None:
        return "—"
    if unit == "fraction":
        return f"{100 * value:.4g} %"
    if unit in ("images", "epochs") and float(value).is_integer():
        return f"{int(value):,}" + (f" {unit}" if unit == "images" else "")
    return f"{value:.4g}" + (f" {unit}" if unit in ("dB", "minutes", "images") else "")


def fmt_bound(value: float, unit: str) -> str:
    return f"{100 * value:.3g}" if unit == "fraction" else f"{value:.3g}"


def fmt_measured(entry: Optional[Entry], unit: str) -> str:
    if entry is None or not entry.values:
        return "—"
    text = fmt_value(entry.mean, unit)
    if entry.interval is not None:
        low, high = entry.interval
        text += f" [{fmt_bound(low, unit)}, {fmt_bound(high, unit)}]"
    return text + f", n={len(entry.values)}"


def number_verdict(reference: Reference, table: Optional[Table], entry: Optional[Entry], registry: Registry) -> str:
    """One of the verdicts of this module's docstring, with its reason."""
    if reference.metric in SETTING_KEYS:
        return "setting"
    if ("gans", reference.gan) not in registry:
        return f"not measured: {reference.gan} is not a ganbench GAN"
    if table is None:
        return f"not measured: variant `{reference.variant}` not run" if reference.variant else "not measured"
    if entry is None or not entry.values:
        why = (entry.failed or entry.unavailable) if entry is not None else None
        if entry is None and reference.classifier and reference.classifier not in {e.classifier for e in table.entries.values()}:
            why = f"classifier {reference.classifier} not run"
        return "not measured" + (f": {why[:80]}" if why else "")
    if table.synthetic:
        return "not comparable: synthetic phantom"
    if reference.dataset_family != table.dataset_family:
        return f"not comparable: different data ({table.dataset_family})"
    if reference.incomparable:
        return f"not comparable: {reference.incomparable}"
    if entry.interval is None:
        return "one seed: no interval"
    return {"inside": REPRODUCED, "above": ABOVE, "below": BELOW}[position(reference.value, entry.interval)]


def layout(references: list[Reference]) -> list[tuple[str, list[str], list[str], dict]]:
    """(table, rows, columns, {(row, column): reference}) per paper table, in order."""
    tables: dict[str, tuple[list[str], list[str], dict]] = {}
    for ref in references:
        rows, columns, cells = tables.setdefault(ref.table, ([], [], {}))
        if ref.row not in rows:
            rows.append(ref.row)
        if ref.column not in columns:
            columns.append(ref.column)
        cells[(ref.row, ref.column)] = ref
    return [(name, rows, columns, cells) for name, (rows, columns, cells) in tables.items()]


def paper_table(
    name: str, rows: list[str], columns: list[str], cells: dict, tables: list[Table], registry: Registry
) -> tuple[str, list[dict], dict[str, int]]:
    """The markdown of one paper table, a record per number (for tests and json) and the
    numbered notes (reason -> number) its cells cite."""
    body, notes, records = [], {}, []
    for row in rows:
        line = [row or "—"]
        for column in columns:
            ref = cells.get((row, column))
            if ref is None:
                line.append("")
                continue
            table = table_for(tables, ref.variant)
            # The paper's own classifier or nothing: another classifier's number under the
            # paper's would read as a measurement of it.
            entry = table.entry(ref.gan, ref.metric, ref.classifier) if table is not None else None
            verdict = number_verdict(ref, table, entry, registry)
            marks = []
            if table is not None and entry is not None and entry.values and not verdict.startswith(("not", "setting")):
                marks = [notes.setdefault(reason, len(notes) + 1) for reason in protocol_differences(ref, table, entry)]
            mark = f" [{', '.join(map(str, marks))}]" if marks else ""
            measured = fmt_measured(entry, ref.unit) if verdict != "setting" else ""
            line.append("<br>".join(p for p in (fmt_value(ref.value, ref.unit), measured, f"**{verdict}**{mark}") if p))
            records.append(
                {
                    "table": name, "row": row, "column": column, "gan": ref.gan, "key": ref.metric,
                    "classifier": ref.classifier, "variant": ref.variant, "reported": ref.value,
                    "measured": entry.mean if entry is not None else None,
                    "interval": list(entry.interval) if entry is not None and entry.interval else None,
                    "n_seeds": len(entry.values) if entry is not None else 0, "verdict": verdict,
                    "differences": [reason for reason, number in notes.items() if number in marks],
                }
            )
        body.append(line)
    text = tabulate(body, headers=[""] + columns, tablefmt="github", disable_numparse=True)
    return text, records, notes


def measure_entry(tables: list[Table]):
    def entry(measure: Measure) -> Optional[Entry]:
        table = table_for(tables, measure.variant)
        return table.entry(measure.gan, measure.key, measure.classifier) if table is not None else None

    return entry


def settings_paragraph(suite: Suite, place_tables: list[Table], references: list[Reference]) -> str:
    """How far this run is from the paper's settings, in plain words, from the rows'
    recorded configuration and the suite's `paper` profile."""
    profile = place_tables[0].group.profile
    families = sorted({t.dataset_family or "?" for t in place_tables})
    synthetic = any(t.synthetic for t in place_tables)
    paper_families = sorted({r.dataset_family for r in references if r.metric not in SETTING_KEYS})
    parts = [f"This run: profile `{profile}` of suite `{suite.name}`"]
    if synthetic:
        parts.append("on the embedded synthetic phantom, which no paper used: no number below is comparable")
    else:
        same = [f for f in families if f in paper_families]
        parts.append(
            f"on data of family {', '.join(f'`{f}`' for f in families)}"
            + (f" (the paper's own family for its numbers on `{'`, `'.join(same)}`)" if same else " (not the paper's data: every number reads *different data*)")
        )
    seeds = sorted({len(e.values) for t in place_tables for e in t.entries.values() if e.values})
    sizes = sorted({t.group.resolution for t in place_tables if t.group.resolution})
    paper_sizes = sorted({r.resolution for r in references if r.resolution})
    parts.append(f"{'/'.join(map(str, seeds)) or '0'} seed(s) per cell")
    parts.append(f"images at {', '.join(f'{s} px' for s in sizes) or '?'} (the paper: {', '.join(f'{s} px' for s in paper_sizes) or 'not stated'})")
    configs = [json_field(r, "config_json") for t in place_tables for r in t.rows[:1]]
    paper = suite.profiles.get("paper")
    n_fake = sorted({c.get("n_fake") for c in configs if isinstance(c.get("n_fake"), int)})
    if n_fake:
        parts.append(
            f"{', '.join(map(str, n_fake))} generated images per cell"
            + (f" (paper profile: {paper.n_fake})" if paper and not paper.variants else "")
        )
    train = sorted({c.get("train_images") for c in configs if isinstance(c.get("train_images"), int)})
    if train:
        parts.append(f"GANs trained on {', '.join(map(str, train))} images")
    steps = sorted({json.dumps({k: v for k, v in (c.get("gan_hparams") or {}).items() if k in ("steps", "epochs")}) for c in configs})
    steps = [s.strip("{}").replace('"', "") for s in steps if s != "{}"]
    if steps:
        parts.append("GAN training " + "; ".join(steps))
    return "; ".join(parts) + ". The `paper` profile of this suite follows the paper's stated settings (`ganbench protocols`); a smaller profile is a smoke test of the protocol, not a reproduction."


def render_paper_report(suite: Suite, tables: list[Table], registry: Registry) -> str:
    """The report of ``suite`` (which names its ``paper``) over ``tables`` (this suite's
    aggregated tables). Deterministic."""
    references = paper_references(registry, suite.paper)
    claims = paper_claims(registry, suite.paper)
    out = [f"# Reproduction report: {suite.paper}", ""]
    if suite.data_note:
        out += [f"Paper's data: {suite.data_note}", ""]
    if not tables:
        return "\n".join(out + [f"No results yet: run `ganbench run --suite {suite.name}` first.", ""])
    direction = lambda key: direction_of(registry, key)  # noqa: E731
    for (dataset, profile), place_tables in sorted(places(tables).items()):
        if len(places(tables)) > 1:
            out += [f"## Run on `{dataset}`, profile `{profile}`", ""]
        out += [settings_paragraph(suite, place_tables, references), ""]
        out += [
            "Each cell: the paper's number; ours, mean [95% interval] over n seeds; the verdict "
            "(reproduced: the paper's number is inside our interval; above / below it; not comparable, "
            "and why). Numbered notes: how the protocol still differs where a verdict was reached.",
            "",
        ]
        tally: dict[str, int] = defaultdict(int)
        for name, rows, columns, cells in layout(references):
            text, records, notes = paper_table(name, rows, columns, cells, place_tables, registry)
            for record in records:
                tally[record["verdict"].split(":")[0]] += 1
            out += [f"### {name}", "", text, ""]
            out += [f"[{number}] {reason}." for reason, number in notes.items()]
            if notes:
                out.append("")
        out += ["Verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())), ""]
        if claims:
            entry = measure_entry(place_tables)
            # A list, not a table: the evidence runs to several sentences, which a table
            # column would stretch to thousands of characters wide; a list wraps on any screen.
            out += ["### The paper's claims", ""]
            for claim in claims:
                verdict = judge(claim, entry, direction)
                out.append(f"- **{verdict.verdict}**: {claim.where}: {claim.text.rstrip('.')}.<br>Measured: {verdict.why}")
            out.append("")
        ranking_rows = []
        for table in place_tables:
            refs = [r for r in references if r.variant == (table.group.variant or "")]
            for o in orderings(table, refs, direction):
                ranking_rows.append(
                    [
                        f"{o.table}" + (f" ({o.context})" if o.context else "") + (f", variant `{table.group.variant}`" if table.group.variant else ""),
                        o.metric + (f" ({', '.join(o.classifiers)})" if o.classifiers else ""),
                        " > ".join(o.reported),
                        " > ".join(o.measured) + (f" ({o.classifier_here})" if o.classifier_here else ""),
                        o.verdict,
                    ]
                )
        if ranking_rows:
            out += [
                "### The paper's rankings of GANs against ours",
                "",
                tabulate(ranking_rows, headers=["table", "result key (paper's classifiers)", "paper, best first", "ours, by mean", "verdict"], tablefmt="github", disable_numparse=True),
                "",
            ]
    return "\n".join(out)


def report_records(suite: Suite, tables: list[Table], registry: Registry) -> list[dict]:
    """Every number of the paper's tables with ours and its verdict, per place."""
    references = paper_references(registry, suite.paper)
    records = []
    for (dataset, profile), place_tables in sorted(places(tables).items()):
        for name, rows, columns, cells in layout(references):
            _, found, _ = paper_table(name, rows, columns, cells, place_tables, registry)
            records += [{"dataset": dataset, "profile": profile, **r} for r in found]
    return records
