"""Inception features of real images, cached on disk by what they were computed from.

A cache entry is found by a key over everything the features depend on, and nothing
else: the SHA-256 of the uint8 pixels themselves (with their shape and dtype), the
content hash of the network's weights, the network and layer, and
:data:`FEATURE_CACHE_VERSION`. No path, size or timestamp of a dataset file is in it, so
images changed in place with their timestamps kept (``cp -p``, ``rsync -a``, tar) miss
the cache instead of returning the old images' features. Hashing 1000 images of
256 x 256 takes about 0.3 s (2 busy cores), against minutes for their Inception pass.

Entries are safetensors files holding one float32 N x D tensor and the full key in
their metadata (checked on reading, with the shape): reading one cannot run code,
unlike torch-fidelity's own cache, which is pickled and read with
``torch.load(weights_only=False)``. An unreadable or foreign entry is recomputed and
replaced; one that cannot be written is reported and the run goes on.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable, Optional

import torch

from ganbench.paths import cache_dir, write_atomically
from ganbench.api import Progress, SilentProgress

#: Bump when anything that changes cached features changes without changing the key's
#: other parts (the grey-to-RGB adapter, the batching, say). 3: the folded, channels-last
#: network of :mod:`.inception_inference` (features move by ~1e-5).
FEATURE_CACHE_VERSION = 3
FOLDER = "features"
TENSOR = "features"


def pixel_sha256(images: torch.Tensor) -> str:
    """SHA-256 of a tensor's dtype, shape and bytes (row-major): the identity of the
    pixels actually used."""
    data = images.detach().cpu().contiguous()
    digest = hashlib.sha256(f"{data.dtype}|{tuple(data.shape)}|".encode())
    digest.update(data.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def feature_key(images: torch.Tensor, network: str, weights_sha256: str) -> str:
    """The cache key of ``network``'s features (e.g. ``inception-v3-compat/2048``, with
    weights of content hash ``weights_sha256``) of ``images``."""
    return (
        f"ganbench-features/v{FEATURE_CACHE_VERSION}|network={network}|weights={weights_sha256}"
        f"|pixels={pixel_sha256(images)}"
    )


def entry_path(key: str) -> Path:
    return cache_dir(FOLDER) / f"{hashlib.sha256(key.encode()).hexdigest()[:40]}.safetensors"


def read_entry(path: Path, key: str, rows: int) -> Optional[torch.Tensor]:
    """The features stored under ``key`` (``rows`` x D, float32), or None when the file
    is missing, unreadable, or holds anything else."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as entry:
            if (entry.metadata() or {}).get("key") != key or list(entry.keys()) != [TENSOR]:
                return None
            features = entry.get_tensor(TENSOR)
    except Exception:  # missing, truncated, or not a safetensors file
        return None
    if features.dtype != torch.float32 or features.ndim != 2 or features.shape[0] != rows:
        return None
    return features


def write_entry(path: Path, key: str, features: torch.Tensor, progress: Progress) -> None:
    from safetensors.torch import save

    payload = save({TENSOR: features.contiguous()}, metadata={"key": key})
    try:
        write_atomically(path, lambda handle: handle.write(payload))
    except OSError as exc:
        progress.log(f"{path}: could not cache the Inception features ({exc}); they are computed again next time")


def cached_features(
    images: torch.Tensor,
    network: str,
    weights_sha256: str,
    compute: Callable[[], torch.Tensor],
    progress: Progress = SilentProgress(),
) -> torch.Tensor:
    """``compute()`` (float32 N x D features of ``images``), or the same tensor from the
    cache when these pixels went through this network before."""
    key = feature_key(images, network, weights_sha256)
    path = entry_path(key)
    features = read_entry(path, key, len(images))
    if features is None:
        features = compute()
        write_entry(path, key, features, progress)
    return features
