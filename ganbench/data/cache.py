"""Decoded datasets cached as ``.npz`` under ``ganbench.paths.cache_dir("datasets")``,
keyed by a fingerprint of the files and the preprocessing. Writes are atomic; a cache
that cannot be read is rebuilt, one that cannot be written is reported, never fatal."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Optional

import numpy as np

from ..paths import cache_dir
from ..specs import Progress


def cache_file(prefix: str, fingerprint: str) -> Path:
    return cache_dir("datasets") / f"{prefix}-{fingerprint}.npz"


def load_arrays(path: Path, fingerprint: str) -> Optional[dict[str, np.ndarray]]:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["fingerprint"]) != fingerprint:
                return None
            return {k: z[k] for k in z.files if k != "fingerprint"}
    except Exception:  # truncated or foreign: rebuilt by the caller
        return None


def save_arrays(path: Path, fingerprint: str, arrays: dict[str, np.ndarray], progress: Progress) -> None:
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, fingerprint=np.array(fingerprint), **arrays)
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError as exc:
        progress.log(f"{path.name}: could not write the cache: {exc}")
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
