import sqlite3

import pytest

from ganbench.results.store import ResultRow, ResultsStore


def row(run_id="r1", status="ok", key="fid", value=1.0, config_hash="h"):
    return ResultRow(
        run_id=run_id, suite="s", cell_key="s/d/g/seed-0/smoke", gan="g", dataset="d", seed=0,
        profile="smoke", config_hash=config_hash, status=status, config={"a": 1}, plugins={},
        packages={"torch": "x"}, metric="fid" if key else None, key=key, value=value,
    )


def test_append_and_read_back(tmp_path):
    store = ResultsStore(tmp_path)
    assert store.append([row(), row(key="kid_mean", value=0.1)]) == 2
    rows = store.rows("s")
    assert [r["key"] for r in rows] == ["fid", "kid_mean"]
    assert rows[0]["config_json"] == '{"a": 1}'


def test_finished_run_needs_a_run_with_nothing_failed(tmp_path):
    store = ResultsStore(tmp_path)
    assert store.finished_run("s", "s/d/g/seed-0/smoke", "h") is None
    store.append([row("r1", status="failed", key=None, value=None)])
    assert store.finished_run("s", "s/d/g/seed-0/smoke", "h") is None
    store.append([row("r2"), row("r2", status="unavailable", key="is", value=None)])
    assert store.finished_run("s", "s/d/g/seed-0/smoke", "h") == "r2"
    assert store.finished_run("s", "s/d/g/seed-0/smoke", "other-config") is None


def test_store_is_append_only(tmp_path):
    store = ResultsStore(tmp_path)
    store.append([row()])
    connection = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("UPDATE results SET value = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute("DELETE FROM results")
    connection.close()


def test_status_is_checked():
    with pytest.raises(ValueError):
        row(status="great")


# --------------------------------------------------------------------------- faults
# Each fault of the store ends in one StoreError line naming the file and what to do,
# never in a sqlite3 traceback; a finished cell's rows are never lost.

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ganbench.errors import GanbenchError
from ganbench.results.export import load_rows
from ganbench.results.store import (
    DB_NAME,
    RowsNotStored,
    StoreDamaged,
    StoreError,
    StoreForeign,
    StoreLocked,
)


def one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message
    return message


def test_a_file_that_is_not_a_database_is_named_with_what_to_do(tmp_path):
    (tmp_path / DB_NAME).write_bytes(bytes(range(256)) * 40)
    store = ResultsStore(tmp_path)
    for action in (store.check, lambda: store.rows("s"), lambda: store.finished_run("s", "k", "h")):
        with pytest.raises(StoreDamaged) as caught:
            action()
        assert str(store.path) in one_line(caught) and "move it aside" in one_line(caught)


def test_a_truncated_store_is_found_before_a_run_trains(tmp_path):
    store = ResultsStore(tmp_path)
    store.append([row(run_id=f"r{i}", key=f"k{i}") for i in range(300)])
    data = store.path.read_bytes()
    store.path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreDamaged) as caught:
        store.check()
    assert str(store.path) in one_line(caught)


def test_a_store_of_another_layout_is_refused_not_written_into(tmp_path):
    connection = sqlite3.connect(tmp_path / DB_NAME)
    connection.execute("CREATE TABLE results (id INTEGER PRIMARY KEY, fid REAL)")
    connection.commit()
    connection.close()
    store = ResultsStore(tmp_path)
    with pytest.raises(RowsNotStored) as caught:
        store.append([row()])
    assert "without the columns ganbench writes (missing: run_id" in one_line(caught)
    with pytest.raises(StoreForeign):
        store.rows()
    caught.value.recovery.unlink()


def test_an_sqlite_file_with_other_tables_only_is_refused(tmp_path):
    connection = sqlite3.connect(tmp_path / DB_NAME)
    connection.execute("CREATE TABLE patients (name TEXT)")
    connection.commit()
    connection.close()
    with pytest.raises(StoreForeign, match="without a ganbench 'results' table \\(it has: patients\\)"):
        ResultsStore(tmp_path).check()


def test_an_empty_store_file_reads_as_no_rows(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"")
    store = ResultsStore(tmp_path)
    assert store.rows() == [] and store.finished_run("s", "k", "h") is None
    store.append([row()])
    assert len(store.rows()) == 1


HOLD_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture
def locked_by_another_process(tmp_path):
    """The store with an exclusive transaction held open by another process."""
    store = ResultsStore(tmp_path)
    store.append([row("r0")])
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(store.path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    yield store
    holder.stdin.close()
    holder.wait()


def test_a_lock_held_too_long_saves_the_rows_beside_the_store(tmp_path, locked_by_another_process):
    store = ResultsStore(tmp_path, lock_wait_s=0.3)
    with pytest.raises(StoreLocked) as caught:
        store.rows()
    assert str(store.path) in one_line(caught) and "locked by another process" in one_line(caught)
    cell = [row("r1"), row("r1", key="kid_mean", value=0.1)]
    with pytest.raises(RowsNotStored) as caught:
        store.append(cell)
    saved = caught.value.recovery
    assert saved == tmp_path / "recovered-r1.jsonl" and str(saved) in one_line(caught)
    # The file is what `ganbench leaderboard --results FILE` reads.
    assert [(r["run_id"], r["key"], r["value"]) for r in load_rows(saved)] == [("r1", "fid", 1.0), ("r1", "kid_mean", 0.1)]


def test_the_next_run_adds_the_saved_rows_once(tmp_path):
    store = ResultsStore(tmp_path)
    store.append([row("r0")])
    with pytest.raises(RowsNotStored):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ResultsStore, "_insert", lambda *args: (_ for _ in ()).throw(sqlite3.OperationalError("database is locked")))
            ResultsStore(tmp_path, lock_wait_s=0).append([row("r1"), row("r1", key="kid_mean")])
    saved = tmp_path / "recovered-r1.jsonl"
    copy = saved.read_text()
    assert store.import_recovered() == [(saved, 2)] and not saved.exists()
    assert [r["run_id"] for r in store.rows()] == ["r0", "r1", "r1"]
    # Killed after the commit but before the file was deleted: nothing is added twice.
    saved.write_text(copy)
    assert store.import_recovered() == [(saved, 0)]
    assert [r["run_id"] for r in store.rows()] == ["r0", "r1", "r1"]


def test_a_lock_released_within_the_wait_is_waited_for(tmp_path):
    store = ResultsStore(tmp_path)
    store.append([row("r0")])
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    told = []

    def other_finishes(message):  # as soon as we start waiting: no timing in the test
        told.append(message)
        other.execute("COMMIT")

    assert ResultsStore(tmp_path, on_wait=other_finishes).append([row("r1")]) == 1
    assert len(told) == 1 and f"{store.path} is locked by another process; waiting" in told[0]
    assert [r["run_id"] for r in store.rows()] == ["r0", "r1"]
    other.close()


def test_an_append_interrupted_half_way_leaves_no_rows(tmp_path):
    store = ResultsStore(tmp_path)
    insert = ResultsStore._insert

    def interrupted(self, connection, records):
        insert(self, connection, records[:1])
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ResultsStore, "_insert", interrupted)
        with pytest.raises(KeyboardInterrupt):
            store.append([row(), row(key="kid_mean")])
    assert store.rows() == []


def test_rows_are_kept_even_when_the_results_folder_cannot_be_written(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(RowsNotStored) as caught:
        ResultsStore(blocked).append([row("r-unwritable")])
    saved = caught.value.recovery
    try:
        assert saved == Path(tempfile.gettempdir()) / "recovered-r-unwritable.jsonl"
        assert str(saved) in one_line(caught) and "move that file into" in one_line(caught)
        assert [r["run_id"] for r in load_rows(saved)] == ["r-unwritable"]
    finally:
        saved.unlink()


def test_reading_needs_an_existing_results_folder(tmp_path):
    with pytest.raises(StoreError, match=f"results folder {tmp_path / 'nope'} does not exist"):
        ResultsStore.existing(tmp_path / "nope")
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match="it is a file"):
        ResultsStore.existing(tmp_path / "file")
    with pytest.raises(StoreError, match=f"holds no {DB_NAME}"):
        ResultsStore.existing(tmp_path)
    ResultsStore(tmp_path).append([row()])
    assert len(ResultsStore.existing(tmp_path).rows()) == 1
    assert issubclass(StoreError, GanbenchError)
