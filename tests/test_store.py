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
