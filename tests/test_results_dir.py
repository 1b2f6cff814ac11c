"""The results folder: checked before anything trains; a run killed with SIGKILL at any
moment and run again loses and duplicates nothing; a killed cell's artifacts are set
aside and named, never left without rows; two runs into one folder never train the same
cell."""

import errno
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pytest

from ganbench.errors import GanbenchError
from ganbench.results.claims import try_claim
from ganbench.results.folder import ABANDONED_DIR, ARTIFACTS_DIR, prepare_results_dir, set_aside_abandoned
from ganbench.results.store import DB_NAME, ResultsStore, StoreDamaged

import stoppable_suite
from stoppable_suite import CELL_KEYS, PrintedProgress

SCRIPT = Path(stoppable_suite.__file__)


# --------------------------------------------------------------------------- the folder


def test_a_missing_results_folder_is_created(tmp_path):
    assert prepare_results_dir(tmp_path / "a" / "b").is_dir()


def test_a_file_given_as_results_folder_is_named(tmp_path):
    (tmp_path / "results").write_text("")
    with pytest.raises(GanbenchError, match=f"results folder {tmp_path / 'results'} is a file, not a folder"):
        prepare_results_dir(tmp_path / "results")


def test_a_results_folder_under_a_file_names_the_file(tmp_path):
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(GanbenchError, match=f"{tmp_path / 'notes.txt'} is a file, not a folder; give --results another path"):
        prepare_results_dir(tmp_path / "notes.txt" / "results")


def test_an_unwritable_results_folder_is_named(tmp_path, monkeypatch):
    # Simulated: these tests may run as root, whom permission bits do not stop. What is
    # covered is that a failed write in the folder (any cause) becomes one line.
    def refuse(**kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(GanbenchError, match=f"results folder {tmp_path} is not writable \\(Permission denied\\): make it writable"):
        prepare_results_dir(tmp_path)


def test_a_read_only_results_folder_is_named(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: permission bits do not stop writes (the simulated test covers the message)")
        with pytest.raises(GanbenchError, match="is not writable"):
            prepare_results_dir(folder)
    finally:
        folder.chmod(0o755)


def test_artifact_folders_without_rows_are_set_aside(tmp_path):
    cell = "s/d/g/seed-0/smoke"
    for run_id in ("kept", "killed"):
        (tmp_path / ARTIFACTS_DIR / cell / run_id).mkdir(parents=True)
    moved = set_aside_abandoned(tmp_path, cell, {"kept"})
    assert moved == [tmp_path / ABANDONED_DIR / cell / "killed"] and moved[0].is_dir()
    assert [p.name for p in (tmp_path / ARTIFACTS_DIR / cell).iterdir()] == ["kept"]
    assert set_aside_abandoned(tmp_path, "s/d/g/seed-1/smoke", set()) == []


# --------------------------------------------------------------------------- a run


class Progress(PrintedProgress):
    def __init__(self, on_log=lambda message: None):
        self.lines, self.on_log = [], on_log

    def log(self, message):
        self.lines.append(message)
        self.on_log(message)


def run(results: Path, progress=None):
    from ganbench.runner.suite_run import RunRequest, run_suite

    return run_suite(
        stoppable_suite.registry(), RunRequest(suite=stoppable_suite.SUITE, results_dir=results, device="cpu"), progress or Progress()
    )


def test_a_bad_results_folder_fails_before_any_dataset_is_loaded(tmp_path, monkeypatch):
    def never(*args):
        raise AssertionError("the dataset was loaded before the results folder was checked")

    monkeypatch.setattr(stoppable_suite.StoppableData, "load", never)
    (tmp_path / "file").write_text("")
    with pytest.raises(GanbenchError, match="is a file, not a folder"):
        run(tmp_path / "file")
    (tmp_path / "damaged").mkdir()
    (tmp_path / "damaged" / DB_NAME).write_bytes(b"not a database" * 100)
    with pytest.raises(StoreDamaged, match=f"{tmp_path / 'damaged' / DB_NAME} is damaged"):
        run(tmp_path / "damaged")


def test_rows_a_run_could_not_store_are_stored_by_the_next_run_without_training_again(tmp_path, monkeypatch):
    from ganbench.results.store import RowsNotStored, StoreLocked

    results = tmp_path / "results"
    insert = ResultsStore._insert

    def locked_for_the_second_cell(self, connection, records):
        if records[0]["seed"] == 1:
            raise StoreLocked(f"{self.path} stayed locked by another process")
        insert(self, connection, records)

    with monkeypatch.context() as patch:
        patch.setattr(ResultsStore, "_insert", locked_for_the_second_cell)
        with pytest.raises(RowsNotStored) as caught:
            run(results)
    saved = caught.value.recovery
    assert saved.parent == results and str(saved) in str(caught.value)

    progress = Progress()
    again = run(results, progress)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"] and again.abandoned == []
    assert f"added 1 result rows that an earlier run saved in {saved}" in progress.lines[0] and not saved.exists()
    assert_nothing_lost_or_doubled(results)


def assert_nothing_lost_or_doubled(results: Path) -> dict[str, str]:
    """Every cell has rows of exactly one execution, and every artifact folder has rows;
    returns each cell's run id."""
    runs = defaultdict(set)
    for row in ResultsStore(results).rows():
        runs[row["cell_key"]].add(row["run_id"])
    assert sorted(runs) == sorted(CELL_KEYS) and all(len(ids) == 1 for ids in runs.values()), dict(runs)
    for cell in CELL_KEYS:
        folders = {p.name for p in (results / ARTIFACTS_DIR / cell).iterdir()}
        assert folders == runs[cell], (cell, folders, runs[cell])
    return {cell: next(iter(ids)) for cell, ids in runs.items()}


def start(results: Path, log: Path, **env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(results)],
        stdout=log.open("w"), stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1", **env},
    )


def wait_until(condition, process: subprocess.Popen, log: Path) -> None:
    """Poll until ``condition()``; fail with the process's output if it ends first. The
    deadline only keeps a broken test from hanging; nothing is asserted about time."""
    deadline = time.monotonic() + 600
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the run ended (or hung) before the point the test waits for:\n{log.read_text()}")
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("stop_at", ["train", "metric", "append"])
def test_a_run_killed_at_any_moment_and_run_again_loses_and_duplicates_nothing(tmp_path, stop_at):
    results, marker, log = tmp_path / "results", tmp_path / "stopped", tmp_path / "run.log"
    process = start(results, log, STOP_AT=stop_at, STOP_MARKER=str(marker))
    try:
        wait_until(marker.exists, process, log)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    stored = ResultsStore(results).rows()
    assert {r["cell_key"] for r in stored} == {CELL_KEYS[0]}, "the first cell finished before the kill; the second left no rows"

    again = run(results)
    assert [(o.cell.key, o.status) for o in again.outcomes] == [(CELL_KEYS[0], "skipped"), (CELL_KEYS[1], "ran")]
    assert ResultsStore(results).rows()[: len(stored)] == stored
    run_ids = assert_nothing_lost_or_doubled(results)
    # The killed execution's artifacts are set aside and named (stopped in training, it
    # may have written none yet).
    abandoned = list((results / ABANDONED_DIR / CELL_KEYS[1]).iterdir()) if (results / ABANDONED_DIR).exists() else []
    assert again.abandoned == abandoned and len(abandoned) == (1 if stop_at in ("metric", "append") else len(abandoned))
    assert all(folder.name != run_ids[CELL_KEYS[1]] for folder in abandoned)

    third = run(results)
    assert [o.status for o in third.outcomes] == ["skipped", "skipped"] and third.abandoned == []
    assert assert_nothing_lost_or_doubled(results) == run_ids


def test_a_cell_another_run_holds_is_put_off_then_run_when_that_run_dies(tmp_path):
    """The other run is played by a claim this test holds and drops (as a killed run's
    claim drops) once the run says it waits: no timing involved."""
    results = prepare_results_dir(tmp_path / "results")
    other = try_claim(results, CELL_KEYS[0])
    progress = Progress(on_log=lambda message: other.release() if message.startswith("waiting for cell") else None)
    summary = run(results, progress)
    assert [(o.cell.key, o.status) for o in summary.outcomes] == [(CELL_KEYS[1], "ran"), (CELL_KEYS[0], "ran")]
    assert any(line.startswith(f"{CELL_KEYS[0]}: ganbench run (process {os.getpid()}") and "coming back to it" in line for line in progress.lines)
    assert any(line.startswith(f"waiting for cell {CELL_KEYS[0]}: ganbench run (process") for line in progress.lines)
    assert_nothing_lost_or_doubled(results)


@pytest.mark.slow
def test_two_runs_into_one_folder_never_train_the_same_cell(tmp_path):
    results, go = tmp_path / "results", tmp_path / "go"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    # The first run holds the first cell (its metric waits for `go`) ...
    first = start(results, first_log, HOLD_UNTIL=str(go))
    second = None
    try:
        wait_until(lambda: (results / ARTIFACTS_DIR / CELL_KEYS[0]).exists(), first, first_log)
        # ... the second runs the other cell meanwhile, then waits for the first cell.
        second = start(results, second_log)
        wait_until(lambda: f"waiting for cell {CELL_KEYS[0]}" in second_log.read_text(), second, second_log)
        go.write_text("")
        assert first.wait() == 0 and second.wait() == 0, first_log.read_text() + second_log.read_text()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    outcomes = lambda log: [line.split()[1:] for line in log.read_text().splitlines() if line.startswith("outcome ")]
    assert outcomes(first_log) == [["ran", CELL_KEYS[0]], ["skipped", CELL_KEYS[1]]]
    assert outcomes(second_log) == [["ran", CELL_KEYS[1]], ["skipped", CELL_KEYS[0]]]
    assert f"{CELL_KEYS[0]}: ganbench run (process {first.pid} on" in second_log.read_text()
    assert_nothing_lost_or_doubled(results)
