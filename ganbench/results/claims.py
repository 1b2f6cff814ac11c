"""Claims on cells: two runs into one results folder never train the same cell at once.

A run claims a cell before it looks whether the cell has finished, and holds the claim
while it trains, evaluates and appends the cell's rows. A claim is an exclusive
``fcntl.flock`` on ``<results>/claims/<cell key>.lock``.

Why flock: the kernel releases the lock when the last descriptor of the file is closed,
which happens when its process ends in any way, ``kill -9`` and crashes included. A
claim therefore never outlives its run, and no one has to guess whether a recorded
process id is still alive (ids are reused; the process may be on another host). The
alternatives were worse here: a row in the SQLite store would need exactly that guess
to expire, and an SQLite transaction held for the hours a cell trains would block every
other run's appends. flock locks belong to the open file, so two claims in one process
(two threads) exclude each other too. Limits: POSIX only (Linux, macOS); on NFS, Linux
maps flock to POSIX byte-range locks, which work between hosts but not between two
claims of one process. The lock files stay (deleting one another run may have open
would let two runs lock two different files); they are a few bytes each.

Each lock file holds one line saying who holds it (process id, host, since when) so a
run that has to wait can say what it waits for.
"""

from __future__ import annotations

import fcntl
import os
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Optional

CLAIMS_DIR = "claims"


def claim_path(results_dir: Path, cell_key: str) -> Path:
    """``<results>/claims/<cell key>.lock`` (the cell key's '/' make sub-folders, as
    the artifacts folder's do)."""
    return Path(results_dir) / CLAIMS_DIR / f"{cell_key}.lock"


class Claim:
    """A held claim on one cell; release it with :meth:`release` or ``with``. It is
    released by the kernel anyway when the process ends."""

    def __init__(self, cell_key: str, path: Path, fd: int):
        self.cell_key, self.path, self._fd = cell_key, path, fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None

    def __enter__(self) -> "Claim":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def try_claim(results_dir: Path, cell_key: str) -> Optional[Claim]:
    """Claim ``cell_key`` if no one holds it; None if another run (or another claim in
    this process) does. Raises ``OSError`` if the claims folder cannot be written."""
    path = claim_path(results_dir, cell_key)
    fd = _open(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return _held(cell_key, path, fd)


def wait_for_claim(results_dir: Path, cell_key: str, on_wait: Callable[[str], None] = lambda message: None) -> Claim:
    """Claim ``cell_key``, waiting as long as another run holds it (a claim lasts no
    longer than its process); ``on_wait`` is told once, in one line, who it waits for.
    Ctrl-C interrupts the wait."""
    claim = try_claim(results_dir, cell_key)
    if claim is not None:
        return claim
    on_wait(f"waiting for cell {cell_key}: {holder(results_dir, cell_key)} is running it")
    path = claim_path(results_dir, cell_key)
    fd = _open(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return _held(cell_key, path, fd)


def holder(results_dir: Path, cell_key: str) -> str:
    """Who holds the claim, as its lock file says ("another run" if it cannot be read)."""
    try:
        text = claim_path(results_dir, cell_key).read_text().strip()
    except OSError:
        text = ""
    return text or "another run"


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Never O_TRUNC here: the file may hold the current holder's line.
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def _held(cell_key: str, path: Path, fd: int) -> Claim:
    since = datetime.now(timezone.utc).isoformat(timespec="seconds")
    line = f"ganbench run (process {os.getpid()} on {socket.gethostname()}, since {since})\n".encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, line, 0)
    return Claim(cell_key, path, fd)
