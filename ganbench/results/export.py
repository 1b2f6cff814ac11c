"""Result rows as a plain JSON-lines file: what a published leaderboard is rendered from
and committed beside, readable without SQLite and diffable in review.

One JSON object per line, keys sorted, rows in store order; reading it back gives the
same dicts the store gives, so a leaderboard renders identically from either.

Reading checks every line against the store's schema, or :func:`read_rows` stops with
one line naming the file, the line and the fields: the columns the store requires (NOT
NULL, and the row id) must be present and not null; INTEGER and TEXT columns must hold
integers and text. A missing column the store allows to be NULL reads as null (rows
exported by an older ganbench lack the columns added since). The REAL columns (the
value, timings) are taken as they are, as the store would give them: the leaderboard
excludes a value that is no finite number, with its reason.
"""

from __future__ import annotations

import json
import numbers
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional

from ..errors import GanbenchError
from .store import SCHEMA, ResultsStore

SUFFIX = ".jsonl"


@lru_cache(maxsize=None)
def schema_columns() -> dict[str, tuple[str, bool]]:
    """Column -> (declared type, required) of the store's results table, read from its
    schema so the two cannot drift apart."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.executescript(SCHEMA)
        info = connection.execute("PRAGMA table_info(results)").fetchall()
    finally:
        connection.close()
    # (cid, name, type, notnull, default, pk); the id is the primary key, so required.
    return {name: (kind.upper(), bool(notnull or pk)) for _, name, kind, notnull, _, pk in info}


def write_rows(rows: Iterable[dict[str, Any]], path: Path) -> int:
    lines = [json.dumps(row, sort_keys=True) for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return len(lines)


def row_from_json(record: Any, where: str) -> dict[str, Any]:
    """A parsed line -> a result row as the store gives it, or :class:`GanbenchError`
    naming ``where`` ("FILE:LINE") and what is wrong."""
    if not isinstance(record, dict):
        raise GanbenchError(f"{where} is not a result row: expected a JSON object, got {type(record).__name__}")
    columns = schema_columns()
    missing = [name for name, (_, required) in columns.items() if required and record.get(name) is None]
    if missing:
        raise GanbenchError(
            f"{where}: result row lacks {', '.join(missing)}; every row `ganbench leaderboard --export` "
            "writes has them, so export the rows again from the results folder"
        )
    for name, (kind, _) in columns.items():
        value = record.get(name)
        if value is None:
            continue
        if kind == "INTEGER" and (not isinstance(value, numbers.Integral) or isinstance(value, bool)):
            raise GanbenchError(f"{where}: field {name} is {value!r:.40}, not an integer")
        if kind == "TEXT" and not isinstance(value, str):
            raise GanbenchError(f"{where}: field {name} is {value!r:.40}, not text")
    return {**dict.fromkeys(columns), **record}


def read_rows(path: Path, suite: Optional[str] = None) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise GanbenchError(f"{path} is not a {SUFFIX} export: not UTF-8 text") from None
    except OSError as exc:
        raise GanbenchError(f"cannot read {path}: {exc.strerror or exc}") from None
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise GanbenchError(f"{path}:{number} is not a JSON result row: {exc}") from None
        rows.append(row_from_json(record, f"{path}:{number}"))
    return [r for r in rows if suite is None or r.get("suite") == suite]


def load_rows(source: Path, suite: Optional[str] = None) -> list[dict[str, Any]]:
    """Rows from a results directory (its SQLite store) or from an exported file."""
    if source.is_file() and source.suffix == SUFFIX:
        return read_rows(source, suite)
    if source.is_file():
        raise GanbenchError(f"{source} is neither a results directory nor a {SUFFIX} export")
    return ResultsStore.existing(source).rows(suite)
