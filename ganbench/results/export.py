"""Result rows as a plain JSON-lines file: what a published leaderboard is rendered from
and committed beside, readable without SQLite and diffable in review.

One JSON object per line, keys sorted, rows in store order; reading it back gives the
same dicts the store gives, so a leaderboard renders identically from either.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Optional

from ..errors import GanbenchError
from .store import ResultsStore

SUFFIX = ".jsonl"


def write_rows(rows: Iterable[dict[str, Any]], path: Path) -> int:
    lines = [json.dumps(row, sort_keys=True) for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return len(lines)


def read_rows(path: Path, suite: Optional[str] = None) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError as exc:
            raise GanbenchError(f"{path}:{number} is not a JSON result row: {exc}") from None
    return [r for r in rows if suite is None or r.get("suite") == suite]


def load_rows(source: Path, suite: Optional[str] = None) -> list[dict[str, Any]]:
    """Rows from a results directory (its SQLite store) or from an exported file."""
    if source.is_file() and source.suffix == SUFFIX:
        return read_rows(source, suite)
    if source.is_file():
        raise GanbenchError(f"{source} is neither a results directory nor a {SUFFIX} export")
    return ResultsStore(source).rows(suite)
