"""Decoded datasets cached as ``.npz`` under ``ganbench.paths.cache_dir("datasets")``.

The cache exists so that a run does not decode thousands of image files again, so its
key cannot be a hash of the decoded pixels. Nor can it be the files' paths, sizes and
modification times: ``cp -p``, ``rsync -a``, tar and ``os.utime`` carry timestamps over
to changed files, and a key from metadata alone then hands back the old pixels (and the
old dataset fingerprint, so finished cells are not re-run and a leaderboard mixes two
datasets under one name). The key is therefore built from the files' *contents*:
readers put `file_digests` (SHA-256 of every file's bytes) into their fingerprint,
with the preprocessing settings. Reading and hashing the bytes costs a small part of
decoding them (for the Kaggle brain-MRI set: see `file_digests`), and it is exact:
any change to any file changes the key, and a timestamp change alone does not.

Every entry also stores its full key, `CACHE_VERSION` included, and is used only
when that matches (bump the version when the stored arrays change meaning). Writes are
atomic; an entry that cannot be read is rebuilt, one that cannot be written is reported,
never fatal. Entries are read with ``allow_pickle=False``: a planted file cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from ..paths import cache_dir, write_atomically
from ..specs import Progress

#: Bump when the arrays a reader stores change meaning without its fingerprint changing.
CACHE_VERSION = 2
#: Files hashed at once: hashlib releases the GIL, so threads overlap reading and hashing.
HASH_WORKERS = min(8, os.cpu_count() or 1)


def file_digest(path: Path) -> str:
    """SHA-256 (hex, 64 characters) of a file's bytes.

    Args:
        path: the file.

    Raises:
        OSError: the file cannot be read.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digests(paths: Sequence[Path]) -> list[str]:
    """`file_digest` of every path, in order, hashed on a few threads.

    Measured on 2 busy cores: the 3264 files (96 MB) of the Kaggle brain-MRI set hash in
    about 1 s; decoding them took 15 s.

    Args:
        paths: the files.

    Returns:
        One SHA-256 hex digest per path; ``""`` for a file that cannot be read (the
        reader skips and counts it when decoding).
    """

    def one(path: Path) -> str:
        try:
            return file_digest(path)
        except OSError:
            return ""

    if len(paths) < 2 or HASH_WORKERS < 2:
        return [one(p) for p in paths]
    with ThreadPoolExecutor(max_workers=HASH_WORKERS, thread_name_prefix="file-digest") as pool:
        return list(pool.map(one, paths))


def content_fingerprint(root: Path, files: Sequence[Path], preprocessing: Mapping[str, Any]) -> str:
    """A `LoadedData.fingerprint`: a hash of the files' contents and the preprocessing.

    Built from every file's path relative to ``root`` and the SHA-256 of its bytes
    (`file_digests`), never its timestamp, which ``cp -p`` and ``rsync -a`` carry over
    to changed files; and from ``preprocessing``. Any change to a file, the file list
    or a setting changes it; touching a file does not.

    Args:
        root: the dataset folder; ``files`` are named relative to it, so the data may
            move without changing its fingerprint.
        files: every file the reader reads, in a fixed order (sort them).
        preprocessing: everything else that changes the pixels or the split, as JSON
            values: ``{"size": 64, "channels": 1, "test_fraction": 0.2, "version": 1}``.

    Returns:
        16 lower-case hex characters.

    Raises:
        ValueError: a file is not under ``root``.
    """
    digest = hashlib.sha256(json.dumps(dict(preprocessing), sort_keys=True, default=str).encode())
    root = Path(root)
    for path, content in zip(files, file_digests([Path(f) for f in files])):
        digest.update(f"\n{Path(path).relative_to(root).as_posix()}\t{content}".encode())
    return digest.hexdigest()[:16]


def cache_file(prefix: str, fingerprint: str) -> Path:
    return cache_dir("datasets") / f"{prefix}-{fingerprint}.npz"


def stored_key(fingerprint: str) -> str:
    """What an entry records and is checked against: the fingerprint and the version."""
    return f"{fingerprint}|dataset-cache-v{CACHE_VERSION}"


def load_arrays(path: Path, fingerprint: str) -> Optional[dict[str, np.ndarray]]:
    """The arrays cached for ``fingerprint``, or None when there are none (missing,
    unreadable, written for another key or version, or holding pickled objects)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["fingerprint"]) != stored_key(fingerprint):
                return None
            return {k: z[k] for k in z.files if k != "fingerprint"}
    except Exception:  # truncated or foreign: rebuilt by the caller
        return None


def save_arrays(path: Path, fingerprint: str, arrays: dict[str, np.ndarray], progress: Progress) -> None:
    try:
        write_atomically(path, lambda handle: np.savez(handle, fingerprint=np.array(stored_key(fingerprint)), **arrays))
    except OSError as exc:
        progress.log(f"{path.name}: could not write the cache: {exc}")
