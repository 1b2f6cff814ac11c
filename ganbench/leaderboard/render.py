"""Leaderboard tables -> markdown. Deterministic: the same rows render the same bytes
(no clock, no dictionary-order accidents), so a published leaderboard can be checked by
rendering it again."""

from __future__ import annotations

import json
from typing import Optional

from tabulate import tabulate

from ..registry import Registry
from ..specs import Reference
from .aggregate import Entry, Table
from .assets import asset_name, source_artifacts
from .comparison import (
    comparability,
    direction_of,
    measured_for,
    orderings,
    protocol_differences,
    references_for,
    registered_references,
)


def fmt(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:.4g}"


def fmt_entry(entry: Optional[Entry]) -> str:
    if entry is None:
        return "—"
    if entry.values:
        text = fmt(entry.mean)
        # Two significant digits are all a spread over a handful of seeds can carry.
        return text if entry.std is None else f"{text} ± {entry.std:.2g}"
    if entry.unavailable:
        return "unavailable"
    return "failed" if entry.failed else "—"


def column_label(entry: Entry, registry: Registry) -> str:
    direction = None
    if ("metrics", entry.metric) in registry:
        direction = registry.get("metrics", entry.metric).direction_of(entry.key)
    arrow = {"lower": " ↓", "higher": " ↑"}.get(direction, "")
    suffix = f" ({entry.classifier})" if entry.classifier else ""
    return f"{entry.key}{suffix}{arrow}"


def table_columns(table: Table, registry: Registry) -> tuple[list[tuple], list[tuple]]:
    """(headline, detail) columns as (key, metric, classifier), in the order the rows
    first show them. Keys of metrics no loaded plugin knows count as headline."""
    headline, detail = [], []
    for row in table.rows:
        slot = (row["key"], row["metric"], row["classifier"])
        if row["key"] is None or slot in headline or slot in detail:
            continue
        known = ("metrics", row["metric"]) in registry
        is_headline = not known or registry.get("metrics", row["metric"]).is_headline(row["key"])
        (headline if is_headline else detail).append(slot)
    return headline, detail


def values_table(table: Table, registry: Registry, columns: list[tuple], extra_headers=(), extra=lambda gan: []) -> str:
    headers = ["GAN"] + [column_label(Entry("", metric, key, classifier), registry) for key, metric, classifier in columns]
    body = [
        [gan] + [fmt_entry(table.entry(gan, key, classifier)) for key, _, classifier in columns] + extra(gan)
        for gan in table.gans()
    ]
    return tabulate(body, headers=headers + list(extra_headers), tablefmt="github", disable_numparse=True)


def measured_table(table: Table, registry: Registry, assets: Optional[str]) -> str:
    headline, _ = table_columns(table, registry)

    def link(gan: str, kind: str) -> str:
        if assets is None or source_artifacts(table, gan) is None:
            return "—"
        return f"[{kind}]({assets}/{asset_name(table, gan, kind)})"

    def extra(gan: str) -> list:
        entries = [e for e in table.entries.values() if e.gan == gan]
        seeds = sorted({s for e in entries for s in e.seeds})
        n_real = sorted({n for e in entries if e.metric in ("fid", "kid") for n in e.n_real if n})
        n_fake = sorted({n for e in entries for n in e.n_fake if n})
        sizes = f"{'/'.join(map(str, n_real)) or '—'} / {'/'.join(map(str, n_fake)) or '—'}"
        return [len(seeds), sizes, f"{table.resolution} px", link(gan, "samples"), link(gan, "losses")]

    return values_table(table, registry, headline, ["seeds", "n_real / n_fake", "resolution", "samples", "losses"], extra)


def interval_table(table: Table, registry: Registry) -> Optional[str]:
    """95% confidence intervals of the headline values over seeds."""
    headline, _ = table_columns(table, registry)
    headers = ["GAN"] + [column_label(Entry("", metric, key, classifier), registry) for key, metric, classifier in headline]

    def interval(entry: Optional[Entry]) -> str:
        if entry is None or entry.ci95 is None:
            return "—"
        return f"[{fmt(entry.mean - entry.ci95)}, {fmt(entry.mean + entry.ci95)}]"

    body = [[gan] + [interval(table.entry(gan, key, classifier)) for key, _, classifier in headline] for gan in table.gans()]
    if all(cell == "—" for row in body for cell in row[1:]):
        return None
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


def detail_table(table: Table, registry: Registry) -> Optional[str]:
    _, detail = table_columns(table, registry)
    return values_table(table, registry, detail) if detail else None


def reported_value(ref: Reference) -> str:
    unit = "" if ref.unit in ("", "fraction") else f" {ref.unit}"
    return fmt(ref.value) + unit


def reported_table(table: Table, references: list[Reference]) -> Optional[str]:
    """Reported beside measured; the reasons a protocol differs are long and shared by
    whole tables of a paper, so each is a numbered note under the table."""
    body, notes = [], {}
    for ref in references_for(table, references):
        entry = measured_for(ref, table)
        measured = fmt_entry(entry) + (f" ({entry.classifier})" if entry and entry.classifier else "")
        where = ", ".join(part for part in (ref.table, ref.row, ref.column) if part)
        verdict = comparability(ref, table, entry)
        if verdict.startswith("different protocol"):
            numbers = [notes.setdefault(reason, len(notes) + 1) for reason in protocol_differences(ref, table, entry)]
            verdict = f"different protocol [{', '.join(map(str, numbers))}]"
        body.append([f"{ref.paper}: {where}", ref.gan, ref.metric, ref.classifier or "—", reported_value(ref), measured, verdict])
    if not body:
        return None
    headers = ["paper: table, row, column", "GAN", "result key", "paper's classifier", "reported", "measured here", "comparability"]
    lines = [tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)]
    if notes:
        lines.append("")
        lines += [f"[{number}] {reasons}." for reasons, number in notes.items()]
    return "\n".join(lines)


def orderings_table(table: Table, references: list[Reference], registry: Registry) -> Optional[str]:
    found = orderings(table, references, lambda key: direction_of(registry, key))
    if not found:
        return None
    body = [
        [
            f"{o.paper}: {o.table}" + (f" ({o.context})" if o.context else ""),
            o.metric + (f" ({', '.join(o.classifiers)})" if o.classifiers else ""),
            " > ".join(o.reported),
            " > ".join(o.measured) + (f" ({o.classifier_here})" if o.classifier_here else ""),
            o.verdict,
        ]
        for o in found
    ]
    headers = ["paper: table", "result key (paper's classifiers)", "paper's ranking, best first", "ours, by mean (our classifier)", "verdict"]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


def provenance_footer(tables: list[Table]) -> str:
    packages, plugins, versions, devices, hashes, dates = {}, {}, set(), set(), set(), set()
    for table in tables:
        for row in table.rows:
            packages.update(json.loads(row["packages_json"]))
            for used, origin in json.loads(row["plugins_json"]).items():
                plugins[used] = f"{origin['distribution']} {origin['version']}".strip()
            versions.add(str(json.loads(row.get("config_json") or "{}").get("ganbench_version", "unknown")))
            devices.add(row["device"])
            hashes.add(row["config_hash"])
            dates.add(row["created_at"][:10])
    lines = [
        "## Provenance",
        "",
        f"- Runs dated {min(dates)} to {max(dates)} (UTC) with ganbench {', '.join(sorted(versions))}, "
        f"device: {', '.join(sorted(d for d in devices if d))}",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in sorted(packages.items())),
        "- Plugins: " + ", ".join(f"{k} ({v})" for k, v in sorted(plugins.items())),
        "- Config hashes (one per cell configuration; `config_json` of each row in the store holds the whole "
        "configuration): " + ", ".join(sorted(hashes)),
    ]
    return "\n".join(lines)


def data_leakage(table) -> str:
    """The duplicate check the dataset reader recorded with the newest row."""
    for row in reversed(table.rows):
        try:
            leakage = json.loads(row.get("config_json") or "{}").get("data_leakage")
        except ValueError:
            continue
        if leakage:
            return leakage
    return ""


def render_markdown(tables: list[Table], registry: Registry, assets: Optional[str] = None) -> str:
    """The leaderboard of ``tables``; ``assets`` is the folder (relative to the markdown)
    that :func:`ganbench.leaderboard.assets.write_assets` filled, None for no pictures."""
    if not tables:
        return "# ganbench leaderboard\n\nNo results yet: run `ganbench run --suite NAME` first.\n"
    references = registered_references(registry)
    out = [f"# ganbench leaderboard: {tables[0].group.suite}", ""]
    out.append(
        "Measured values are mean ± sample std over seeds (the newest run of each cell). "
        "↓ lower is better, ↑ higher is better. What each result key measures and how: "
        "`ganbench protocols`. Every number a paper reported about a GAN and result key "
        "measured here is listed beside ours with its source and whether the two may be "
        "compared; all of them: `ganbench references`."
    )
    for table in tables:
        g = table.group
        kind = "synthetic phantom, not patient data" if table.synthetic else f"dataset family `{table.dataset_family}`"
        out += ["", f"## {g.dataset} ({kind}), profile `{g.profile}`", ""]
        out.append(measured_table(table, registry, assets))
        leakage = data_leakage(table)
        if leakage:
            out += ["", f"Data check: {leakage}."]
        failures = sorted({f"{r['gan']} seed {r['seed']}: {r['error']}" for r in table.rows if r["status"] == "failed"})
        if failures:
            out += ["", "Failed: " + "; ".join(failures)]
        intervals = interval_table(table, registry)
        if intervals:
            out += ["", "### 95% confidence intervals over seeds (Student's t)", "", intervals]
        detail = detail_table(table, registry)
        if detail:
            out += ["", "### More result keys", "", detail]
        if table.synthetic:
            out += ["", "Papers' reported numbers are not shown: this dataset is a synthetic phantom, not patient data."]
            continue
        ranked = orderings_table(table, references, registry)
        if ranked:
            out += [
                "",
                "### The papers' rankings of GANs against ours",
                "",
                "Where a paper ranks two or more GANs measured here on one result key, its ranking "
                "beside ours. A ranking can be checked even where the numbers are not comparable; "
                "with overlapping 95% intervals ours does not decide it.",
                "",
                ranked,
            ]
        reported = reported_table(table, references)
        if reported:
            out += ["", "### Reported in papers beside measured here", "", reported]
    out += ["", provenance_footer(tables), ""]
    return "\n".join(out)
