"""The results store: one SQLite file per results directory, append-only.

One row per (cell execution, metric result key, classifier); a cell that fails before
its metrics are computed leaves one row with ``status = 'failed'`` and no metric. Rows are
never updated or deleted: triggers refuse it, so a forced re-run can only add rows.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

DEFAULT_RESULTS_DIR = Path("ganbench-results")
DB_NAME = "results.sqlite"
STATUSES = ("ok", "failed", "unavailable")

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id              TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    suite               TEXT NOT NULL,
    cell_key            TEXT NOT NULL,
    gan                 TEXT NOT NULL,
    dataset             TEXT NOT NULL,
    seed                INTEGER NOT NULL,
    profile             TEXT NOT NULL,
    config_hash         TEXT NOT NULL,
    metric              TEXT,
    key                 TEXT,
    classifier          TEXT,
    value               REAL,
    n_real              INTEGER,
    n_fake              INTEGER,
    resolution          INTEGER,
    channels            INTEGER,
    status              TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'unavailable')),
    error               TEXT,
    metric_wall_time_s  REAL,
    train_wall_time_s   REAL,
    cell_wall_time_s    REAL,
    device              TEXT,
    dataset_family      TEXT,
    dataset_fingerprint TEXT,
    dataset_synthetic   INTEGER,
    artifacts_dir       TEXT,
    artifacts_json      TEXT,
    config_json         TEXT NOT NULL,
    plugins_json        TEXT NOT NULL,
    packages_json       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS results_cell ON results (suite, cell_key, config_hash);
CREATE TRIGGER IF NOT EXISTS results_no_update BEFORE UPDATE ON results
BEGIN SELECT RAISE(ABORT, 'the results store is append-only'); END;
CREATE TRIGGER IF NOT EXISTS results_no_delete BEFORE DELETE ON results
BEGIN SELECT RAISE(ABORT, 'the results store is append-only'); END;
"""


@dataclass
class ResultRow:
    run_id: str
    suite: str
    cell_key: str
    gan: str
    dataset: str
    seed: int
    profile: str
    config_hash: str
    status: str
    config: dict
    plugins: dict
    packages: dict
    metric: Optional[str] = None
    key: Optional[str] = None
    classifier: Optional[str] = None
    value: Optional[float] = None
    n_real: Optional[int] = None
    n_fake: Optional[int] = None
    resolution: Optional[int] = None
    channels: Optional[int] = None
    error: Optional[str] = None
    metric_wall_time_s: Optional[float] = None
    train_wall_time_s: Optional[float] = None
    cell_wall_time_s: Optional[float] = None
    device: Optional[str] = None
    dataset_family: Optional[str] = None
    dataset_fingerprint: Optional[str] = None
    dataset_synthetic: Optional[bool] = None
    artifacts_dir: Optional[str] = None
    artifacts: dict = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        for name in ("config", "plugins", "packages", "artifacts"):
            record[f"{name}_json"] = json.dumps(record.pop(name), sort_keys=True, default=str)
        if record["dataset_synthetic"] is not None:
            record["dataset_synthetic"] = int(record["dataset_synthetic"])
        return record


class ResultsStore:
    def __init__(self, directory: Path = DEFAULT_RESULTS_DIR):
        self.directory = Path(directory)
        self.path = self.directory / DB_NAME

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.directory.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path)
        try:
            connection.executescript(SCHEMA)
            connection.row_factory = sqlite3.Row
            with connection:  # one transaction: commit on success, roll back on error
                yield connection
        finally:
            connection.close()

    def append(self, rows: Iterable[ResultRow]) -> int:
        records = [row.to_record() for row in rows]
        if not records:
            return 0
        columns = list(records[0])
        sql = f"INSERT INTO results ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        with self._connect() as connection:
            connection.executemany(sql, [[r[c] for c in columns] for r in records])
        return len(records)

    def finished_run(self, suite: str, cell_key: str, config_hash: str) -> Optional[str]:
        """The run id of an earlier execution of this cell, with this exact configuration,
        in which nothing failed; None if the cell still has to run."""
        if not self.path.exists():
            return None
        with self._connect() as connection:
            found = connection.execute(
                "SELECT run_id FROM results WHERE suite = ? AND cell_key = ? AND config_hash = ? "
                "GROUP BY run_id HAVING SUM(status = 'failed') = 0 ORDER BY MIN(id) LIMIT 1",
                (suite, cell_key, config_hash),
            ).fetchone()
        return found["run_id"] if found else None

    def rows(self, suite: Optional[str] = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        query, params = "SELECT * FROM results", ()
        if suite is not None:
            query, params = query + " WHERE suite = ?", (suite,)
        with self._connect() as connection:
            return [dict(row) for row in connection.execute(query + " ORDER BY id", params)]
