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
        return text if entry.std is None else f"{text} ± {fmt(entry.std)}"
    if entry.unavailable:
        return "unavailable"
    return "failed" if entry.failed else "—"


def column_label(entry: Entry, registry: Registry) -> str:
    arrow = ""
    if ("metrics", entry.metric) in registry:
        arrow = " ↓" if registry.get("metrics", entry.metric).direction == "lower" else " ↑"
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


def measured_table(table: Table, registry: Registry, link_base: Path, results_dir: Path) -> str:
    columns: list[tuple[str, str, Optional[str]]] = []
    for row in table.rows:
        slot = (row["key"], row["metric"], row["classifier"])
        if row["key"] is not None and slot not in columns:
            columns.append(slot)
    headers = ["GAN"] + [
        column_label(Entry("", metric, key, classifier), registry) for key, metric, classifier in columns
    ]
    headers += ["seeds", "n_real / n_fake", "resolution", "samples"]
    body = []
    for gan in table.gans():
        entries = [table.entry(gan, key, classifier) for key, _, classifier in columns]
        seeds = sorted({s for e in entries if e for s in e.seeds})
        n_real = sorted({n for e in entries if e and e.metric in ("fid", "kid") for n in e.n_real if n})
        n_fake = sorted({n for e in entries if e for n in e.n_fake if n})
        grid = table.sample_grids.get(gan)
        link = f"[grid]({relative_link(results_dir / grid, link_base)})" if grid else "—"
        body.append(
            [gan]
            + [fmt_entry(e) for e in entries]
            + [
                len(seeds),
                f"{'/'.join(map(str, n_real)) or '—'} / {'/'.join(map(str, n_fake)) or '—'}",
                f"{table.resolution} px",
                link,
            ]
        )
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


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


def render_markdown(tables: list[Table], registry: Registry, link_base: Path, results_dir: Path) -> str:
    if not tables:
        return "# ganbench leaderboard\n\nNo results yet: run `ganbench run --suite NAME` first.\n"
    references = sorted((ref for ref, _ in registry.items("references")), key=lambda r: r.name)
    out = [f"# ganbench leaderboard: {tables[0].group.suite}", ""]
    out.append(
        "Measured values are mean ± sample std over seeds (the newest run of each cell). "
        "↓ lower is better, ↑ higher is better. Metric protocols: `ganbench list metrics`."
    )
    for table in tables:
        g = table.group
        kind = "synthetic phantom, not patient data" if table.synthetic else f"dataset family `{table.dataset_family}`"
        out += ["", f"## {g.dataset} ({kind}), profile `{g.profile}`", ""]
        out.append(measured_table(table, registry, link_base, results_dir))
        failures = sorted({f"{r['gan']} seed {r['seed']}: {r['error']}" for r in table.rows if r["status"] == "failed"})
        if failures:
            out += ["", "Failed: " + "; ".join(failures)]
        reported = reported_table(table, references)
        if reported:
            out += ["", "### Reported in papers beside measured here", "", reported]
    out += ["", provenance_footer(tables), ""]
    return "\n".join(out)
