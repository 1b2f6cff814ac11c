"""What every result row records about how it was made."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from typing import Any

#: Distributions whose versions can change a number.
TRACKED_PACKAGES = (
    "ganbench",
    "torch",
    "torchvision",
    "torch-fidelity",
    "pytorch-msssim",
    "numpy",
    "pillow",
    "pluggy",
    "safetensors",
)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_jsonable)


def _jsonable(value: Any):
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    if hasattr(value, "__fspath__"):
        return str(value)
    raise TypeError(f"not JSON-serialisable in a config: {value!r}")


def config_hash(config: Any) -> str:
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]
