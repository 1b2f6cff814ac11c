"""Leaderboard tables -> markdown. Deterministic: the same rows render the same bytes
(no clock, no dictionary-order accidents), so a published leaderboard can be checked by
rendering it again."""

from __future__ import annotations

from typing import Optional

from tabulate import tabulate

from ..registry import Registry
from ..result_keys import parse as parse_result_key
from ..specs import Reference
from .aggregate import CONFIDENCE, Entry, Table, json_field
from .assets import asset_name, has_strip, source_artifacts, strip_gans, table_asset_name
from .comparison import (
    comparability,
    direction_of,
    measured_for,
    orderings,
    protocol_differences,
    references_for,
    registered_references,
)
from .headline import headline_cell, headline_slots, is_per_class, sample_sizes, seed_count
from .summary_figure import axis_label, summary_axes, summary_points


def fmt(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:.4g}"


def fmt_entry(entry: Optional[Entry]) -> str:
    if entry is None:
        return "—"
    if entry.values:
        text = fmt(entry.mean)
        # Two significant digits are all a spread over a handful of seeds can carry.
        text = text if entry.std is None else f"{text} ± {entry.std:.2g}"
        return text + (f" ({len(entry.excluded)} excluded)" if entry.excluded else "")
    if entry.excluded:
        return "excluded"
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
    first show them. Keys of metrics no loaded plugin knows count as headline; per-class
    keys are neither (:func:`per_class_table`)."""
    headline, detail = [], []
    for row in table.rows:
        slot = (row["key"], row["metric"], row["classifier"])
        if row["key"] is None or slot in headline or slot in detail or is_per_class(row["key"]):
            continue
        known = ("metrics", row["metric"]) in registry
        is_headline = not known or registry.get("metrics", row["metric"]).is_headline(row["key"])
        (headline if is_headline else detail).append(slot)
    return headline, detail


def gan_label(gan: str, external: set[str]) -> str:
    """A GAN's name in a table; samples evaluated as given are marked "(external)"."""
    return f"{gan} (external)" if gan in external else gan


def external_note(table: Table) -> Optional[str]:
    external = sorted(table.external_gans())
    if not external:
        return None
    return (
        f"External: {', '.join(external)}: samples generated outside ganbench and evaluated as given "
        "(`ganbench evaluate`), not trained by ganbench; ranked with the others on the same data and "
        "metrics, without training cost or losses."
    )


def values_table(table: Table, registry: Registry, columns: list[tuple], extra_headers=(), extra=lambda gan: []) -> str:
    headers = ["GAN"] + [column_label(Entry("", metric, key, classifier), registry) for key, metric, classifier in columns]
    external = table.external_gans()
    body = [
        [gan_label(gan, external)] + [fmt_entry(table.entry(gan, key, classifier)) for key, _, classifier in columns] + extra(gan)
        for gan in table.gans()
    ]
    return tabulate(body, headers=headers + list(extra_headers), tablefmt="github", disable_numparse=True)


def measured_table(table: Table, registry: Registry, assets: Optional[str]) -> str:
    headline, _ = table_columns(table, registry)
    external = table.external_gans()

    def link(gan: str, kind: str) -> str:
        if assets is None or source_artifacts(table, gan) is None or (kind == "losses" and gan in external):
            return "—"
        return f"[{kind}]({assets}/{asset_name(table, gan, kind)})"

    def extra(gan: str) -> list:
        return [seed_count(table, gan), sample_sizes(table, gan), f"{table.resolution} px", link(gan, "samples"), link(gan, "losses")]

    return values_table(table, registry, headline, ["seeds", "n_real / n_fake", "resolution", "samples", "losses"], extra)


def interval_table(table: Table, registry: Registry) -> Optional[str]:
    """95% confidence intervals of the headline values over seeds, clipped to each
    result key's range (:attr:`Entry.interval`)."""
    headline, _ = table_columns(table, registry)
    headers = ["GAN"] + [column_label(Entry("", metric, key, classifier), registry) for key, metric, classifier in headline]

    def interval(entry: Optional[Entry]) -> str:
        if entry is None or entry.interval is None:
            return "—"
        low, high = entry.interval
        return f"[{fmt(low)}, {fmt(high)}]"

    external = table.external_gans()
    body = [
        [gan_label(gan, external)] + [interval(table.entry(gan, key, classifier)) for key, _, classifier in headline]
        for gan in table.gans()
    ]
    if all(cell == "—" for row in body for cell in row[1:]):
        return None
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


def detail_table(table: Table, registry: Registry) -> Optional[str]:
    _, detail = table_columns(table, registry)
    return values_table(table, registry, detail) if detail else None


def headline_table(table: Table, registry: Registry) -> str:
    """At most eight columns (:mod:`ganbench.leaderboard.headline`): GAN, one value per
    question the table answers as ``mean [95% interval]``, seeds, sample sizes."""
    chosen = [slot for _, slot in headline_slots(table, registry)]
    headers = ["GAN"] + [column_label(Entry("", metric, key, classifier), registry) for key, metric, classifier in chosen]
    external = table.external_gans()
    body = [
        [gan_label(gan, external)]
        + [headline_cell(table.entry(gan, key, classifier)) for key, _, classifier in chosen]
        + [seed_count(table, gan), sample_sizes(table, gan)]
        for gan in table.gans()
    ]
    return tabulate(body, headers=headers + ["seeds", "n_real / n_fake"], tablefmt="github", disable_numparse=True)


def strip_line(table: Table, assets: Optional[str]) -> Optional[str]:
    """The samples strip under the headline, named from the rows alone. Without recorded
    class names the strip labels its columns by class index, and the caption says so."""
    if assets is None or not has_strip(table):
        return None
    gans = ", ".join(strip_gans(table))
    columns = "columns by class" if table.group.classes else "columns by class index (names not recorded)"
    return f"![Samples of {gans}: one row per GAN, {columns}, the lowest seed]({assets}/{table_asset_name(table, 'strip')})"


def missing_samples_line(table: Table, assets: Optional[str]) -> Optional[str]:
    """Which GANs the strip leaves out: those without a finished cell, hence no samples."""
    if assets is None:
        return None
    shown = set(strip_gans(table))
    # Every GAN of the rows, also one whose every cell failed (it has no entry, no headline row).
    missing = sorted({str(r["gan"]) for r in table.rows} - shown)
    if not missing:
        return None
    return f"No samples of {', '.join(missing)}: no cell of {'it' if len(missing) == 1 else 'them'} finished."


def figure_line(table: Table, registry: Registry, assets: Optional[str]) -> Optional[str]:
    if assets is None or not summary_points(table, registry):
        return None
    x, y = summary_axes(table, registry)
    return f"![{axis_label(x)} against {axis_label(y)}, one point per GAN with its 95% intervals]({assets}/{table_asset_name(table, 'summary')})"


def per_class_table(table: Table, registry: Registry) -> Optional[str]:
    """Per-class keys (``<base>[<class>]``) as one row per GAN and class, one column per
    base and classifier, in the order the rows first show them."""
    columns: dict[tuple, None] = {}
    classes: dict[str, None] = {}
    for row in table.rows:
        key = row.get("key")
        if key is None or row.get("metric") is None or not is_per_class(key):
            continue
        parsed = parse_result_key(key)
        columns.setdefault((parsed.base, row["metric"], row.get("classifier")), None)
        classes.setdefault(parsed.qualifier, None)
    if not columns:
        return None
    headers = ["GAN", "class"] + [column_label(Entry("", metric, base, classifier), registry) for base, metric, classifier in columns]
    external = table.external_gans()
    body = [
        [gan_label(gan, external), name]
        + [fmt_entry(table.entries.get((gan, f"{base}[{name}]", classifier))) for base, _, classifier in columns]
        for gan in table.gans()
        for name in classes
    ]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


def folded(summary: str, *body: str) -> list[str]:
    """A section GitHub shows folded; the blank line after ``<summary>`` lets markdown
    (tables) render inside it."""
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>"]


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


INTERVAL_METHOD = (
    f"Confidence intervals: {CONFIDENCE:.0%} over seeds, mean ± t·s/√n with Student's t at n − 1 degrees "
    "of freedom, clipped to the range of values the metric declares for the result key (accuracy, "
    "precision, recall, SSIM: at most [0, 1]; FID, PSNR: at least 0). Clipping removes only values a "
    "score cannot take, so an interval holds the true mean whenever the unclipped one does; keys "
    "without a declared range are not clipped."
)


#: The line under the title: short, so that the first table shows on the first screen.
INTRO = (
    "Per dataset and profile: a headline table (mean [95% interval] over seeds; ↓ lower, ↑ higher is better), "
    "each GAN's samples under it, then every other number folded. How to read it: "
    "[below](#how-to-read-these-tables)."
)

READING = (
    "Each table opens with its headline: one distance, one similarity, the downstream accuracy "
    "of the suite's first classifier, diversity and memorisation, each the mean over seeds (the "
    "newest run of each cell) with its 95% interval in brackets, and under it each GAN's samples. "
    "The folded sections below hold every result key as mean ± sample std over seeds, and every "
    "number a paper reported about a GAN and result key measured here, beside ours with its source "
    "and whether the two may be compared; all of them: `ganbench references`. "
    "↓ lower is better, ↑ higher is better. What each result key measures and how: "
    "`ganbench protocols`. Each table holds one data fingerprint, "
    "class set, resolution and profile: seeds are averaged, and GANs ranked, only within a table."
)


def reading_footer() -> str:
    return "\n".join(["## How to read these tables", "", READING])


def statistics_footer() -> str:
    return "\n".join(["## Statistics", "", *folded("How the intervals are computed", f"- {INTERVAL_METHOD}")])


def provenance_footer(tables: list[Table]) -> str:
    """Packages, plugins, devices and dates of the rows; tolerant of rows that lack them."""
    packages, plugins, versions, devices, hashes, dates = {}, {}, set(), set(), set(), set()
    for table in tables:
        for row in table.rows:
            packages.update({str(k): str(v) for k, v in json_field(row, "packages_json").items()})
            for used, origin in json_field(row, "plugins_json").items():
                origin = origin if isinstance(origin, dict) else {}
                plugins[str(used)] = f"{origin.get('distribution', '?')} {origin.get('version', '')}".strip()
            versions.add(str(json_field(row, "config_json").get("ganbench_version", "unknown")))
            devices.add(str(row.get("device") or ""))
            hashes.add(str(row.get("config_hash")))
            dates.add(str(row.get("created_at") or "?")[:10])
    lines = [
        f"- Runs dated {min(dates)} to {max(dates)} (UTC) with ganbench {', '.join(sorted(versions))}, "
        f"device: {', '.join(sorted(d for d in devices if d))}",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in sorted(packages.items())),
        "- Plugins: " + ", ".join(f"{k} ({v})" for k, v in sorted(plugins.items())),
        "- Config hashes (one per cell configuration; `config_json` of each row in the store holds the whole "
        "configuration): " + ", ".join(sorted(hashes)),
    ]
    return "\n".join(["## Provenance", "", *folded("Packages, plugins, devices, dates and configuration hashes of the runs", *lines)])


def data_leakage(table) -> str:
    """The duplicate check the dataset reader recorded with the newest row."""
    for row in reversed(table.rows):
        leakage = json_field(row, "config_json").get("data_leakage")
        if leakage:
            return str(leakage)
    return ""


def data_line(table: Table) -> str:
    """Everything a table's rows share about their data: what sets it apart from others."""
    g = table.group
    parts = [f"fingerprint `{g.fingerprint}`" if g.fingerprint else "fingerprint not recorded"]
    if g.classes:
        parts.append(f"{len(g.classes)} classes ({', '.join(g.classes)})")
    else:
        parts.append("class names not recorded (runs before ganbench recorded them)")
    size = f"{g.resolution} px" if g.resolution else "resolution not recorded"
    parts.append(size + (f", {g.channels} channel{'s' if g.channels != 1 else ''}" if g.channels else ""))
    return "Data: " + "; ".join(parts) + "."


def distinctions(table: Table, tables: list[Table]) -> str:
    """For a heading: what tells this table from the others of its suite, dataset and
    profile (empty when it is the only one)."""
    g = table.group
    siblings = [t.group for t in tables if t.group.same_place() == g.same_place()]
    if len(siblings) < 2:
        return ""

    def differs(name: str) -> bool:
        return len({getattr(s, name) for s in siblings}) > 1

    parts = []
    if differs("fingerprint"):
        parts.append(f"data `{g.fingerprint or 'not recorded'}`")
    if differs("classes"):
        counts = {len(s.classes or ()) for s in siblings}
        if not g.classes:
            parts.append("classes not recorded")
        else:
            parts.append(f"{len(g.classes)} classes" if len(counts) > 1 else f"classes {', '.join(g.classes)}")
    if differs("resolution"):
        parts.append(f"{g.resolution} px")
    if differs("channels"):
        parts.append(f"{g.channels} channels")
    return ", " + ", ".join(parts)


def render_markdown(tables: list[Table], registry: Registry, assets: Optional[str] = None) -> str:
    """The leaderboard of ``tables``; ``assets`` is the folder (relative to the markdown)
    that :func:`ganbench.leaderboard.assets.write_assets` filled, None for no pictures."""
    if not tables:
        return "# ganbench leaderboard\n\nNo results yet: run `ganbench run --suite NAME` first.\n"
    references = registered_references(registry)
    out = [f"# ganbench leaderboard: {tables[0].group.suite}", "", INTRO]
    for table in tables:
        g = table.group
        kind = "synthetic phantom, not patient data" if table.synthetic else f"dataset family `{table.dataset_family}`"
        variant = f", variant `{g.variant}`" if g.variant else ""
        out += ["", f"## {g.dataset} ({kind}), profile `{g.profile}`{variant}{distinctions(table, tables)}", ""]
        # The headline first and the samples right under it: what a phone's first screen shows.
        out.append(headline_table(table, registry))
        for picture in (strip_line(table, assets), missing_samples_line(table, assets), figure_line(table, registry, assets)):
            if picture:
                out += ["", picture]
        out += ["", data_line(table)]
        external = external_note(table)
        if external:
            out += ["", external]
        leakage = data_leakage(table)
        if leakage:
            out += ["", f"Data check: {leakage}."]
        failures = sorted({f"{r['gan']} seed {r['seed']}: {r.get('error')}" for r in table.rows if r.get("status") == "failed"})
        if failures:
            out += ["", "Failed: " + "; ".join(failures)]
        if table.excluded:
            out += ["", "Excluded, not counted in any mean: " + "; ".join(sorted(set(table.excluded)))]
        out += ["", *folded("Every headline result key: mean ± sample std over seeds, sample sizes, sample grids and loss curves", measured_table(table, registry, assets))]
        intervals = interval_table(table, registry)
        if intervals:
            out += ["", *folded("95% confidence intervals over seeds (Student's t, clipped to each key's range)", intervals)]
        detail = detail_table(table, registry)
        if detail:
            out += ["", *folded("More result keys", detail)]
        per_class = per_class_table(table, registry)
        if per_class:
            out += ["", *folded("Per-class result keys", per_class)]
        if table.synthetic:
            out += ["", "Papers' reported numbers are not shown: this dataset is a synthetic phantom, not patient data."]
            continue
        ranked = orderings_table(table, references, registry)
        if ranked:
            out += [
                "",
                *folded(
                    "The papers' rankings of GANs against ours",
                    "Where a paper ranks two or more GANs measured here on one result key, its ranking "
                    "beside ours. A ranking can be checked even where the numbers are not comparable; "
                    "with overlapping 95% intervals ours does not decide it.",
                    "",
                    ranked,
                ),
            ]
        reported = reported_table(table, references)
        if reported:
            out += ["", *folded("Reported in papers beside measured here", reported)]
    out += ["", reading_footer(), "", statistics_footer(), "", provenance_footer(tables), ""]
    return "\n".join(out)
