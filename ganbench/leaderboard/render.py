"""Leaderboard tables -> markdown. Deterministic: the same rows render the same bytes
(no clock, no dictionary-order accidents), so a published leaderboard can be checked by
rendering it again."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Optional

from tabulate import tabulate

from ..registry import Registry
from ..specs import Reference
from .aggregate import Entry, Table


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


def comparability(reference: Reference, table: Table, entry: Optional[Entry]) -> str:
    """Whether a measured number may be read against a reported one, and if so how they
    relate. Anything short of the same data family and classifier is not comparable."""
    if table.synthetic:
        return "not comparable: synthetic phantom, not patient data"
    if reference.dataset_family != table.dataset_family:
        return f"not comparable: different data (paper: {reference.dataset_family}; here: {table.dataset_family})"
    if entry is None or not entry.values:
        return "no measurement"
    if reference.classifier != entry.classifier:
        return f"not comparable: different classifier (paper: {reference.classifier}; here: {entry.classifier})"
    if reference.resolution and table.resolution and reference.resolution != table.resolution:
        return f"not comparable: different resolution (paper: {reference.resolution} px; here: {table.resolution} px)"
    if entry.ci95 is None:
        return "comparable (one seed: no interval)"
    low, high = entry.mean - entry.ci95, entry.mean + entry.ci95
    where = "inside" if low <= reference.value <= high else ("above" if reference.value > high else "below")
    return f"comparable: reported value {where} our 95% CI"


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


def measured_table(table: Table, registry: Registry, link_base: Path, results_dir: Path) -> str:
    headline, _ = table_columns(table, registry)

    def extra(gan: str) -> list:
        entries = [e for e in table.entries.values() if e.gan == gan]
        seeds = sorted({s for e in entries for s in e.seeds})
        n_real = sorted({n for e in entries if e.metric in ("fid", "kid") for n in e.n_real if n})
        n_fake = sorted({n for e in entries for n in e.n_fake if n})
        grid = table.sample_grids.get(gan)
        link = f"[grid]({relative_link(results_dir / grid, link_base)})" if grid else "—"
        sizes = f"{'/'.join(map(str, n_real)) or '—'} / {'/'.join(map(str, n_fake)) or '—'}"
        return [len(seeds), sizes, f"{table.resolution} px", link]

    return values_table(table, registry, headline, ["seeds", "n_real / n_fake", "resolution", "samples"], extra)


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


def relative_link(target: Path, base: Path) -> str:
    return Path(os.path.relpath(target.resolve(), base.resolve())).as_posix()


def reported_table(table: Table, references: Iterable[Reference]) -> Optional[str]:
    measured_keys = {key for (_, key, _) in table.entries}
    body = []
    for ref in references:
        if ref.gan not in table.gans() or ref.metric not in measured_keys:
            continue
        ours = [e for (gan, key, _), e in sorted(table.entries.items(), key=lambda kv: str(kv[0])) if gan == ref.gan and key == ref.metric]
        entry = next((e for e in ours if e.classifier == ref.classifier), ours[0] if ours else None)
        measured = fmt_entry(entry) + (f" ({entry.classifier})" if entry and entry.classifier else "")
        body.append(
            [
                f"{ref.paper}, {ref.table}",
                ref.gan,
                ref.metric,
                ref.classifier or "—",
                fmt(ref.value),
                measured,
                comparability(ref, table, entry),
            ]
        )
    if not body:
        return None
    headers = ["paper", "GAN", "metric", "paper's classifier", "reported", "measured (ours)", "comparability"]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


def provenance_footer(tables: list[Table]) -> str:
    packages, plugins, devices, hashes, dates = {}, {}, set(), set(), set()
    for table in tables:
        for row in table.rows:
            packages.update(json.loads(row["packages_json"]))
            for used, origin in json.loads(row["plugins_json"]).items():
                plugins[used] = f"{origin['distribution']} {origin['version']}".strip()
            devices.add(row["device"])
            hashes.add(row["config_hash"])
            dates.add(row["created_at"][:10])
    lines = [
        "## Provenance",
        "",
        f"- Runs dated {min(dates)} to {max(dates)} (UTC), device: {', '.join(sorted(d for d in devices if d))}",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in sorted(packages.items())),
        "- Plugins: " + ", ".join(f"{k} ({v})" for k, v in sorted(plugins.items())),
        "- Config hashes: " + ", ".join(sorted(hashes)),
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


def render_markdown(tables: list[Table], registry: Registry, link_base: Path, results_dir: Path) -> str:
    if not tables:
        return "# ganbench leaderboard\n\nNo results yet: run `ganbench run --suite NAME` first.\n"
    references = sorted((ref for ref, _ in registry.items("references")), key=lambda r: r.name)
    out = [f"# ganbench leaderboard: {tables[0].group.suite}", ""]
    out.append(
        "Measured values are mean ± sample std over seeds (the newest run of each cell). "
        "↓ lower is better, ↑ higher is better. What each metric compares: `ganbench protocols`."
    )
    for table in tables:
        g = table.group
        kind = "synthetic phantom, not patient data" if table.synthetic else f"dataset family `{table.dataset_family}`"
        out += ["", f"## {g.dataset} ({kind}), profile `{g.profile}`", ""]
        out.append(measured_table(table, registry, link_base, results_dir))
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
        reported = reported_table(table, references)
        if reported:
            out += ["", "### Reported in papers beside measured here", "", reported]
    out += ["", provenance_footer(tables), ""]
    return "\n".join(out)
