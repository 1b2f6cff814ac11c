"""The results store: one SQLite file per results directory, append-only.

One row per (cell execution, metric result key, classifier); a cell that fails before
its metrics are computed leaves one row with ``status = 'failed'`` and no metric. Rows are
never updated or deleted: triggers refuse it, so a forced re-run can only add rows.

Faults end in one :class:`StoreError` line naming the file and what to do, never in a
``sqlite3`` traceback:

* a file that is not an SQLite database, or a damaged one (garbage, truncated):
  :class:`StoreDamaged`;
* an SQLite file whose ``results`` table lacks the columns ganbench writes, or that
  holds other tables only: :class:`StoreForeign`;
* a lock held by another process: waited on (SQLite's busy timeout, then retries with
  a growing pause) for at most ``lock_wait_s`` seconds in all, then :class:`StoreLocked`;
* the file or its folder cannot be written: :class:`StoreUnwritable`.

Each cell's rows are appended in one transaction (``BEGIN IMMEDIATE``): a process killed
at any moment leaves all of them or none (SQLite rolls back an unfinished transaction
the next time the file is opened). When appending fails for good, the rows are written
to ``recovered-<run id>.jsonl`` beside the store, in the format of
:mod:`ganbench.results.export` (``ganbench leaderboard --results FILE`` reads it), and
the next run into the folder adds them to the store (:meth:`ResultsStore.import_recovered`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, TypeVar

from ..errors import GanbenchError

DEFAULT_RESULTS_DIR = Path("ganbench-results")
DB_NAME = "results.sqlite"
STATUSES = ("ok", "failed", "unavailable")
#: Rows a failed append could not store: ``recovered-<run id>.jsonl`` in the results folder.
RECOVERED_GLOB = "recovered-*.jsonl"
#: How long, in seconds in all, a read or an append waits for another process's lock.
#: Another ganbench run holds the write lock only while it appends one cell's rows
#: (milliseconds), so a lock held this long is some other program's.
LOCK_WAIT_S = 120.0
#: SQLite's own busy timeout per attempt: short for the first, so that a wait is
#: reported soon, then longer; between attempts the pause doubles up to MAX_PAUSE_S
#: (SQLite refuses some lock requests at once, without its busy handler, so the retries
#: are needed besides the timeout).
FIRST_ATTEMPT_TIMEOUT_S, ATTEMPT_TIMEOUT_S = 1.0, 10.0
FIRST_PAUSE_S, MAX_PAUSE_S = 0.05, 2.0

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


def _schema_columns() -> tuple[str, ...]:
    # Read from SQLite itself, so the list can never drift from SCHEMA.
    connection = sqlite3.connect(":memory:")
    try:
        connection.executescript(SCHEMA)
        return tuple(row[1] for row in connection.execute("PRAGMA table_info(results)"))
    finally:
        connection.close()


#: The columns of the ``results`` table, in order (``id`` first).
COLUMNS = _schema_columns()


class StoreError(GanbenchError):
    """The results store cannot be read or written; the message names the file and
    what to do."""


class StoreDamaged(StoreError):
    """The store file is not an SQLite database, or a damaged one."""


class StoreForeign(StoreError):
    """An SQLite file that is not a ganbench results store (or one of another layout)."""


class StoreLocked(StoreError):
    """Another process held the store's lock for longer than the bounded wait."""


class StoreUnwritable(StoreError):
    """The store file or its folder cannot be written (permissions, read-only or full disk)."""


class RowsNotStored(StoreError):
    """Appending failed for good; ``recovery`` is the .jsonl file that holds the rows
    (None if even that could not be written)."""

    def __init__(self, message: str, recovery: Optional[Path]):
        super().__init__(message)
        self.recovery = recovery


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


T = TypeVar("T")


class ResultsStore:
    """The SQLite store of one results folder.

    ``lock_wait_s``: the most seconds, in all, one read or append waits for another
    process's lock before :class:`StoreLocked`. ``on_wait``: told once, in one line,
    when an operation starts waiting for a lock (a run passes its progress log).
    """

    def __init__(
        self,
        directory: Path = DEFAULT_RESULTS_DIR,
        lock_wait_s: float = LOCK_WAIT_S,
        on_wait: Callable[[str], None] = lambda message: None,
    ):
        self.directory = Path(directory)
        self.path = self.directory / DB_NAME
        self.lock_wait_s = lock_wait_s
        self.on_wait = on_wait

    @classmethod
    def existing(cls, directory: Path, **kwargs: Any) -> "ResultsStore":
        """The store of a results folder that a run has written to; :class:`StoreError`
        (one line naming the folder) when the folder does not exist, is a file, or
        holds no store. For commands that only read (``ganbench leaderboard``)."""
        directory = Path(directory)
        if not directory.exists():
            raise StoreError(
                f"results folder {directory} does not exist: give the --results folder of a `ganbench run`, or a .jsonl export"
            )
        if not directory.is_dir():
            raise StoreError(f"{directory} is not a results folder (it is a file): give a results folder or a .jsonl export")
        store = cls(directory, **kwargs)
        if not store.path.is_file():
            raise StoreError(f"{directory} holds no {DB_NAME}: no `ganbench run` has stored results there yet")
        return store

    # ------------------------------------------------------------------ reading

    def finished_run(self, suite: str, cell_key: str, config_hash: str) -> Optional[str]:
        """The run id of an earlier execution of this cell, with this exact configuration,
        in which nothing failed; None if the cell still has to run."""
        if not self.path.exists():
            return None
        found = self._transaction(
            lambda connection: connection.execute(
                "SELECT run_id FROM results WHERE suite = ? AND cell_key = ? AND config_hash = ? "
                "GROUP BY run_id HAVING SUM(status = 'failed') = 0 ORDER BY MIN(id) LIMIT 1",
                (suite, cell_key, config_hash),
            ).fetchone()
        )
        return found["run_id"] if found else None

    def run_ids(self, cell_key: str) -> set[str]:
        """The ids of every execution of this cell that has rows in the store."""
        if not self.path.exists():
            return set()
        return self._transaction(
            lambda connection: {
                row["run_id"] for row in connection.execute("SELECT DISTINCT run_id FROM results WHERE cell_key = ?", (cell_key,))
            }
        )

    def evaluated(self, evaluation_hash: str) -> list[dict[str, Any]]:
        """The rows of the latest run that computed this evaluation (one metric with one
        classifier on one trained stage, with the same settings:
        ``config["evaluation"]["hash"]``) with every row ``ok``; [] if none did."""
        if not self.path.exists():
            return []

        def latest(connection: sqlite3.Connection) -> list[dict[str, Any]]:
            found = connection.execute(
                "SELECT run_id FROM results WHERE json_extract(config_json, '$.evaluation.hash') = ? "
                "GROUP BY run_id HAVING SUM(status != 'ok') = 0 ORDER BY MAX(id) DESC LIMIT 1",
                (evaluation_hash,),
            ).fetchone()
            if found is None:
                return []
            return [
                dict(row)
                for row in connection.execute(
                    "SELECT * FROM results WHERE run_id = ? AND json_extract(config_json, '$.evaluation.hash') = ? ORDER BY id",
                    (found["run_id"], evaluation_hash),
                )
            ]

        return self._transaction(latest)

    def rows(self, suite: Optional[str] = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        query, params = "SELECT * FROM results", ()
        if suite is not None:
            query, params = query + " WHERE suite = ?", (suite,)
        return self._transaction(lambda connection: [dict(row) for row in connection.execute(query + " ORDER BY id", params)])

    # ------------------------------------------------------------------ writing

    def check(self) -> None:
        """Before a run trains anything: the store can be read in full and written.
        Creates it if missing. Raises :class:`StoreError` (damaged, foreign, locked or
        unwritable)."""

        def probe(connection: sqlite3.Connection) -> None:
            # quick_check reads every page, so a truncated or overwritten file is found
            # now, not when a cell's rows are appended or a leaderboard read.
            problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError(f"quick_check: {problems[0]}")

        self.directory.mkdir(parents=True, exist_ok=True)
        self._transaction(probe, write=True)

    def append(self, rows: Iterable[ResultRow]) -> int:
        """Append one cell's rows in one transaction: all of them or none.

        Raises :class:`RowsNotStored` when the store stays locked, is damaged or cannot
        be written: the rows are then in ``recovered-<run id>.jsonl`` beside the store
        (named in the message), which the next run adds to the store."""
        records = [row.to_record() for row in rows]
        if not records:
            return 0
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._transaction(lambda connection: self._insert(connection, records), write=True)
        except (StoreError, OSError) as exc:
            raise self._saved_for_recovery(records, exc) from None
        return len(records)

    def _insert(self, connection: sqlite3.Connection, records: list[dict[str, Any]]) -> None:
        columns = [c for c in COLUMNS if c != "id"]
        sql = f"INSERT INTO results ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        connection.executemany(sql, [[record.get(c) for c in columns] for record in records])

    def import_recovered(self) -> list[tuple[Path, int]]:
        """Add the rows of every ``recovered-*.jsonl`` in the folder to the store and
        delete each file once its rows are committed; returns (file, rows added) per file.

        Idempotent: a run id that already has rows in the store is not added again, so
        a process killed between the commit and the deletion duplicates nothing."""
        imported = []
        for path in sorted(self.directory.glob(RECOVERED_GLOB)):
            try:
                records = _read_records(path)
            except FileNotFoundError:  # another run starting now imported it first
                continue

            def add_new(connection: sqlite3.Connection) -> int:
                stored = {row[0] for row in connection.execute("SELECT DISTINCT run_id FROM results")}
                new = [record for record in records if record.get("run_id") not in stored]
                try:
                    self._insert(connection, new)
                except sqlite3.IntegrityError as exc:
                    raise StoreForeign(f"{path} holds rows the store refuses ({exc}): fix the file or move it aside") from None
                return len(new)

            imported.append((path, self._transaction(add_new, write=True)))
            path.unlink(missing_ok=True)
        return imported

    def _saved_for_recovery(self, records: list[dict[str, Any]], cause: BaseException) -> RowsNotStored:
        run_id = records[0].get("run_id") or "unknown"
        name = f"recovered-{run_id}.jsonl"
        what = f"{len(records)} result rows of cell {records[0].get('cell_key')} (run {run_id})"
        # Ids numbered within the file, as readers of an export expect one; the store
        # gives the rows its own ids when it takes them in.
        lines = "".join(json.dumps({**record, "id": n}, sort_keys=True) + "\n" for n, record in enumerate(records, 1))
        try:
            path = _write_whole(self.directory / name, lines)
        except OSError:
            pass
        else:
            return RowsNotStored(
                f"{cause} -- the {what} are saved in {path}; the next `ganbench run` into {self.directory} adds them to the store",
                path,
            )
        # The results folder itself cannot be written: the temporary folder is the
        # last place that keeps the rows.
        try:
            path = _write_whole(Path(tempfile.gettempdir()) / name, lines)
        except OSError as exc:
            return RowsNotStored(f"{cause} -- and the {what} could not be saved anywhere ({exc.strerror}): they are lost", None)
        return RowsNotStored(
            f"{cause} -- the {what} are saved in {path}; move that file into {self.directory} once it is writable "
            f"and the next `ganbench run` there adds them to the store",
            path,
        )

    # ------------------------------------------------------------------ SQLite

    def _transaction(self, work: Callable[[sqlite3.Connection], T], write: bool = False) -> T:
        """``work`` in one transaction (``BEGIN IMMEDIATE`` when it writes: the write
        lock is taken first, so it cannot fail half-way for a lock); committed on
        success, rolled back on any error or interruption. Waits for other processes'
        locks for at most ``lock_wait_s`` in all; every SQLite fault becomes a
        :class:`StoreError`."""
        deadline = time.monotonic() + self.lock_wait_s
        pause, told = FIRST_PAUSE_S, False
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            try:
                return self._attempt(work, write, timeout=min(remaining, ATTEMPT_TIMEOUT_S if told else FIRST_ATTEMPT_TIMEOUT_S))
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise self._explain(exc) from None
                if not told:
                    self.on_wait(f"{self.path} is locked by another process; waiting for it (up to {self.lock_wait_s:.0f} s in all)")
                    told = True
                time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
                pause = min(pause * 2, MAX_PAUSE_S)
            except sqlite3.Error as exc:
                raise self._explain(exc) from None

    def _attempt(self, work: Callable[[sqlite3.Connection], T], write: bool, timeout: float) -> T:
        # isolation_level=None: the transaction is ours to begin and end, not the module's.
        connection = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            connection.row_factory = sqlite3.Row
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                self._check_schema(connection, create=write)
                result = work(connection)
                connection.execute("COMMIT")
                return result
            except BaseException:
                if connection.in_transaction:
                    connection.rollback()
                raise
        finally:
            connection.close()

    def _check_schema(self, connection: sqlite3.Connection, create: bool) -> None:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        if "results" in tables:
            present = {row[1] for row in connection.execute("PRAGMA table_info(results)")}
            missing = [c for c in COLUMNS if c not in present]
            if missing:
                raise StoreForeign(
                    f"{self.path} has a 'results' table without the columns ganbench writes (missing: {', '.join(missing)}): "
                    f"it was written by another program or another ganbench version; move it aside "
                    f"(mv {self.path} {self.path}.old) or use another --results folder"
                )
            return
        ours = [t for t in tables if not t.startswith("sqlite_")]
        if ours:
            raise StoreForeign(
                f"{self.path} is an SQLite file without a ganbench 'results' table (it has: {', '.join(ours)}): "
                f"use another --results folder or move the file aside"
            )
        if create:
            for statement in _statements(SCHEMA):
                connection.execute(statement)
        else:
            # A file SQLite created empty (a first run killed while opening it) reads
            # as a store with no rows, not as a fault.
            connection.execute(f"CREATE TEMP TABLE results AS SELECT * FROM (SELECT {', '.join(f'NULL AS {c}' for c in COLUMNS)}) WHERE 0")

    def _explain(self, exc: sqlite3.Error) -> StoreError:
        message = str(exc)
        if _is_busy(exc):
            return StoreLocked(
                f"{self.path} stayed locked by another process for {self.lock_wait_s:.0f} s (another program reading or "
                f"writing it): close that program or wait for it, then run again"
            )
        if any(s in message for s in ("readonly", "read-only", "unable to open", "disk is full", "disk I/O", "access permission")):
            return StoreUnwritable(
                f"cannot write {self.path} ({message}): make the file and {self.directory} writable and leave disk space, "
                f"or use another --results folder"
            )
        if isinstance(exc, sqlite3.IntegrityError):
            return StoreError(f"{self.path} refused the rows ({message}): a bug in ganbench or a plugin; please report it")
        if isinstance(exc, sqlite3.OperationalError):
            return StoreError(f"{self.path}: {message}: check the file, or move it aside and run again")
        return StoreDamaged(
            f"{self.path} is damaged or not an SQLite results store ({message}): move it aside "
            f"(mv {self.path} {self.path}.broken) and run again; the cells it held will be trained again"
        )


def _statements(script: str) -> list[str]:
    """SCHEMA as single statements (triggers contain ';'), for ``execute`` inside a
    transaction: ``executescript`` would commit the transaction first."""
    statements, current = [], ""
    for line in script.strip().splitlines():
        current += line + "\n"
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


def _write_whole(path: Path, text: str) -> Path:
    """Write ``text`` to a side file, flush it to disk, then rename it to ``path``: a
    reader (the next run's import) never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)
    return path


def _is_busy(exc: sqlite3.Error) -> bool:
    # sqlite_errorname exists from Python 3.11; the message is the same in every version.
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in str(exc) or "is busy" in str(exc)


def _read_records(path: Path) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise StoreError(f"{path}:{number} is not a JSON result row ({exc}): fix the line or move the file aside") from None
        unknown = sorted(set(record) - set(COLUMNS)) if isinstance(record, dict) else ["(not an object)"]
        if unknown:
            raise StoreError(f"{path}:{number} is not a result row (unknown fields: {', '.join(unknown)}): fix the line or move the file aside")
        records.append(record)
    return records
