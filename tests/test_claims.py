"""Claims on cells (ganbench.results.claims): exclusive while held, released when the
holder ends in any way, kill -9 included, and saying who holds them."""

import os
import signal
import subprocess
import sys
import threading

from ganbench.results.claims import claim_path, holder, try_claim, wait_for_claim

CELL = "suite/data/gan/seed-0/smoke"

HOLD_CLAIM = """
import sys, time
from pathlib import Path
from ganbench.results.claims import try_claim
claim = try_claim(Path(sys.argv[1]), sys.argv[2])
print("held" if claim else "refused", flush=True)
time.sleep(600)  # until killed
"""


def test_a_claim_is_exclusive_until_released(tmp_path):
    first = try_claim(tmp_path, CELL)
    assert first is not None and claim_path(tmp_path, CELL).is_file()
    assert try_claim(tmp_path, CELL) is None  # another claim, even in this process
    assert try_claim(tmp_path, "suite/data/gan/seed-1/smoke") is not None  # other cells are free
    first.release()
    with try_claim(tmp_path, CELL) as again:
        assert again is not None


def test_a_claim_says_who_holds_it(tmp_path):
    with try_claim(tmp_path, CELL):
        assert f"process {os.getpid()} on " in holder(tmp_path, CELL)


def test_a_claim_of_a_process_killed_with_sigkill_is_released(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", HOLD_CLAIM, str(tmp_path), CELL], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "held"
        assert try_claim(tmp_path, CELL) is None
        assert f"process {process.pid} on " in holder(tmp_path, CELL)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    # The kernel dropped the lock with the process: no stale claim, nothing to expire.
    claim = try_claim(tmp_path, CELL)
    assert claim is not None
    claim.release()


def test_waiting_for_a_claim_says_what_it_waits_for_and_gets_it_when_released(tmp_path):
    other = try_claim(tmp_path, CELL)
    told, got = [], threading.Event()

    def waiter():
        with wait_for_claim(tmp_path, CELL, on_wait=told.append):
            got.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    # Release only once the waiter has said it waits (no sleeps, no timing).
    while not told:
        thread.join(0.01)
    assert not got.is_set()
    assert len(told) == 1 and told[0].startswith(f"waiting for cell {CELL}: ganbench run (process {os.getpid()} on ")
    other.release()
    thread.join()
    assert got.is_set()
