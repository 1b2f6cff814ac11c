"""The results folder: checked before a run trains anything, and kept free of artifact
folders that no stored row points at.

Layout: ``results.sqlite`` (:mod:`.store`), ``artifacts/<cell key>/<run id>/`` (one
folder per cell execution, written by the runner), ``claims/`` (:mod:`.claims`),
``cache/``, and ``abandoned/<cell key>/<run id>/`` for the artifacts of executions that
were stopped (``kill -9``, a crash, a power cut) before their rows were stored.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

from ..errors import GanbenchError

ARTIFACTS_DIR = "artifacts"
ABANDONED_DIR = "abandoned"


def prepare_results_dir(path: Path) -> Path:
    """Create the results folder if it is missing and check that a file can be written
    in it, by writing (and deleting) one: permission bits, ACLs, read-only mounts and
    a full disk all show up, whoever runs it (``os.access`` would say yes to root on a
    read-only mount). Raises :class:`GanbenchError` naming the path and what to do."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise GanbenchError(f"results folder {path} is a file, not a folder: give --results a folder (it is created if missing)")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), path)
        raise GanbenchError(
            f"cannot create results folder {path}: {blocker} is a file, not a folder; give --results another path"
        ) from None
    except OSError as exc:
        raise GanbenchError(
            f"cannot create results folder {path} ({exc.strerror}): give --results a folder you can write to"
        ) from None
    try:
        fd, probe = tempfile.mkstemp(dir=path, prefix=".ganbench-write-check-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise GanbenchError(
            f"results folder {path} is not writable ({exc.strerror}): make it writable (chmod u+w {path}) "
            f"or give --results another folder"
        ) from None
    return path


def set_aside_abandoned(results_dir: Path, cell_key: str, stored_run_ids: Iterable[str]) -> list[Path]:
    """Move every artifact folder of ``cell_key`` whose run id has no rows in the store
    to ``abandoned/<cell key>/<run id>``; returns the folders' new paths.

    Call it only while holding the cell's claim (:mod:`.claims`): a folder without rows
    is then one whose run is over, never one a live run is still filling."""
    folder = Path(results_dir) / ARTIFACTS_DIR / cell_key
    if not folder.is_dir():
        return []
    stored = set(stored_run_ids)
    moved = []
    for run_dir in sorted(p for p in folder.iterdir() if p.is_dir() and p.name not in stored):
        target = Path(results_dir) / ABANDONED_DIR / cell_key / run_dir.name
        target.parent.mkdir(parents=True, exist_ok=True)
        # A rename within one file system is atomic: killed during it, the folder is
        # in one place or the other, never half moved.
        os.replace(run_dir, target)
        moved.append(target)
    return moved
