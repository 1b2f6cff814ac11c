"""Seeded randomness that nothing outside can move.

GAN and classifier plugins draw latent noise, dropout masks and gradient-penalty
interpolations from torch's global RNG (dropout cannot take a ``torch.Generator``). So a
cell's training runs inside :func:`isolated_rng`: the stream depends on the seed alone,
whatever ran before it in the process (a feature extraction that builds a network on a
cache miss, another cell), and the caller's RNG state is given back afterwards.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


@contextmanager
def isolated_rng(seed: int, device: torch.device) -> Iterator[None]:
    """Run the block on torch's global RNG (CPU, and ``device`` when it is a GPU) seeded
    with ``seed`` alone; the caller's RNG state is restored when the block ends, by
    return or by exception."""
    devices = []
    if device.type == "cuda":
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
