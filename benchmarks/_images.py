"""The deterministic images the benchmark scripts time on, in one place.

bench_fid.py, bench_inception.py and bench_scaling.py import from here: a script's own
folder is on sys.path when it runs (``python benchmarks/bench_x.py``), so
``from _images import ...`` finds this file. Same arguments, same images, to the bit.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset as TorchDataset


def smooth_images(n: int, size: int, seed: int, blobs: int) -> torch.Tensor:
    """Deterministic grayscale images: random low-frequency patterns, ``blobs`` per side."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand((n, 1, blobs, blobs), generator=g)
    return F.interpolate(low, size=size, mode="bicubic", align_corners=False).clamp(0, 1).mul(255).round().to(torch.uint8)


class Uint8RGB(TorchDataset):
    """The least a bare torch-fidelity call needs: 3-channel uint8 images, one per item."""

    def __init__(self, images: torch.Tensor):
        self.images = images.expand(-1, 3, -1, -1).contiguous()

    def __len__(self):
        return self.images.shape[0]

    def __getitem__(self, index):
        return self.images[index]
