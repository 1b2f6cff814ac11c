"""Where ganbench keeps files that are not results: converted weights, feature caches,
decoded datasets; and how a cache file is written so that no reader sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

CACHE_ENV = "GANBENCH_CACHE_DIR"


def cache_dir(*parts: str) -> Path:
    """``$GANBENCH_CACHE_DIR`` (default ``~/.cache/ganbench``) joined with ``parts``,
    created on first use."""
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "ganbench")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """``write(handle)`` into a temporary file beside ``path``, then rename it onto
    ``path``: parallel runs may write one cache entry at once, and the rename makes the
    finished file appear whole. The temporary file is removed on any error, which is
    re-raised (an ``OSError`` when the folder is not writable)."""
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp_name, path)
    finally:
        if os.path.exists(tmp_name):
            os.remove(tmp_name)
