"""The leaderboard as data (``ganbench leaderboard --format csv|json``) for people who
post-process it: one record per GAN x result key x classifier, with the statistics the
markdown shows and the sample sizes behind them; the JSON adds every reported number
set beside ours and the papers' rankings."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Optional

from ..registry import Registry
from .aggregate import Entry, Table
from .comparison import comparability, direction_of, measured_for, orderings, references_for, registered_references

FIELDS = (
    "suite", "dataset", "profile", "variant", "dataset_fingerprint", "classes", "dataset_family", "synthetic", "resolution",
    "channels", "gan", "metric", "key", "classifier", "mean", "std", "ci95_low", "ci95_high", "n_seeds", "seeds",
    "n_real", "n_fake", "status", "n_excluded", "excluded",
)


def entry_record(table: Table, entry: Entry) -> dict[str, Any]:
    """The statistics of one entry; ci95_low/high are the interval clipped to the key's
    range (:attr:`Entry.interval`); ``excluded`` says why rows were not counted."""
    g = table.group
    interval = entry.interval or (None, None)
    if entry.values:
        status = "ok"
    else:
        status = "excluded" if entry.excluded else ("unavailable" if entry.unavailable else "failed")
    return {
        "suite": g.suite, "dataset": g.dataset, "profile": g.profile, "variant": g.variant, "dataset_fingerprint": g.fingerprint,
        "classes": list(g.classes) if g.classes else None, "dataset_family": table.dataset_family,
        "synthetic": table.synthetic, "resolution": g.resolution, "channels": g.channels, "gan": entry.gan,
        "metric": entry.metric, "key": entry.key, "classifier": entry.classifier, "mean": entry.mean, "std": entry.std,
        "ci95_low": interval[0], "ci95_high": interval[1], "n_seeds": len(entry.values), "seeds": sorted(entry.seeds),
        "n_real": sorted(n for n in entry.n_real if n), "n_fake": sorted(n for n in entry.n_fake if n),
        "status": status, "n_excluded": len(entry.excluded), "excluded": list(entry.excluded),
    }


def entry_records(tables: list[Table]) -> list[dict[str, Any]]:
    return [
        entry_record(table, entry)
        for table in tables
        for _, entry in sorted(table.entries.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or ""))
    ]


def csv_cell(value: Any) -> Any:
    """Lists in one cell: numbers joined by spaces, texts (which may hold spaces) by '; '."""
    if isinstance(value, list):
        return (" " if all(isinstance(v, int) for v in value) else "; ").join(map(str, value))
    return "" if value is None else value


def to_csv(tables: list[Table]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in entry_records(tables):
        writer.writerow({k: csv_cell(v) for k, v in record.items()})
    return buffer.getvalue()


def to_json(tables: list[Table], registry: Registry) -> str:
    references = registered_references(registry)
    out = []
    for table in tables:
        reported = []
        if not table.synthetic:
            for ref in references_for(table, references):
                entry: Optional[Entry] = measured_for(ref, table)
                reported.append(
                    {
                        "reference": ref.as_dict(),
                        "measured": None if entry is None else entry_record(table, entry),
                        "comparability": comparability(ref, table, entry),
                    }
                )
        rankings = [] if table.synthetic else orderings(table, references, lambda key: direction_of(registry, key))
        out.append(
            {
                "suite": table.group.suite,
                "dataset": table.group.dataset,
                "profile": table.group.profile,
                "variant": table.group.variant,
                "dataset_fingerprint": table.group.fingerprint,
                "classes": list(table.group.classes) if table.group.classes else None,
                "resolution": table.group.resolution,
                "channels": table.group.channels,
                "excluded": sorted(set(table.excluded)),
                "entries": entry_records([table]),
                "reported": reported,
                "rankings": [{**o.__dict__, "verdict": o.verdict} for o in rankings],
            }
        )
    return json.dumps({"tables": out}, indent=2, sort_keys=True, default=list) + "\n"
