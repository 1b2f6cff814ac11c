"""From the numpy arrays a reader decodes to the tensors of the contract: every reader
ends with its images as one ``uint8`` array per split, and `LoadedData` holds them as an
`ImageSplit` of ``(N, C, H, W)`` tensors."""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np
import torch

from ..specs import ImageSplit


def image_split(images: np.ndarray, labels: Union[np.ndarray, Sequence[int]], channels: int = 1) -> ImageSplit:
    """Grey images and their labels as an `ImageSplit` with ``channels`` channels.

    Args:
        images: ``uint8`` array ``(N, H, W)``, values 0..255 (what `decode_image` gives,
            stacked).
        labels: ``N`` class indices (any integer dtype).
        channels: 1 for grey, or 3 to repeat the grey image into RGB (MRI is grey).

    Returns:
        An `ImageSplit`: ``uint8`` images ``(N, channels, H, W)`` and ``int64`` labels
        ``(N,)``, owning their memory.

    Raises:
        ValueError: ``images`` is not a 3-D ``uint8`` array, ``labels`` does not have one
            entry per image, or ``channels`` is not 1 or 3.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"image_split takes uint8 images N x H x W, got {images.dtype} {images.shape}")
    if channels not in (1, 3):
        raise ValueError(f"image_split makes grey (1) or RGB (3) channel images, not {channels}")
    tensor = torch.from_numpy(np.array(images, copy=True)).unsqueeze(1)
    if channels == 3:
        tensor = tensor.expand(-1, 3, -1, -1).contiguous()
    return ImageSplit(tensor, torch.as_tensor(np.asarray(labels, dtype=np.int64)).reshape(-1))
