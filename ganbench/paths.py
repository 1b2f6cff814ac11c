"""Where ganbench keeps files that are not results: converted weights, feature caches."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "GANBENCH_CACHE_DIR"


def cache_dir(*parts: str) -> Path:
    """``$GANBENCH_CACHE_DIR`` (default ``~/.cache/ganbench``) joined with ``parts``,
    created on first use."""
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "ganbench")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
