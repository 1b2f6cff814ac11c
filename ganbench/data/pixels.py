"""Pixels: any decoded image or slice -> a square 8-bit grey array of the working size.

The steps, in order (each dataset plugin states which it uses):

1. to 8-bit grey (`to_grey`): RGB/CMYK/YCbCr via Pillow's ITU-R 601 luma; an
   alpha channel is composited over black (the MRI background); 16-bit, 32-bit and
   float data are scaled linearly by their own range (``0..max`` for non-negative
   data, ``min..max`` otherwise), never clipped;
2. optionally, border cropping (`crop_to_content`): the bounding box of the pixels
   brighter than a threshold, as IJACSA 2024 crops the black margin around the skull;
3. centre crop to a square (the shorter side) and resize (`square_resize`), with
   LANCZOS when shrinking and BICUBIC when enlarging.

Scaling to [-1, 1] happens later, once, in `ganbench.specs.to_unit_range`.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from PIL import Image

DEFAULT_BORDER_THRESHOLD = 10
"""Grey level (0..255) above which a pixel counts as content for border cropping."""


def scale_to_uint8(arr: np.ndarray, lo: Optional[float] = None, hi: Optional[float] = None) -> np.ndarray:
    """Any numeric array (16-bit, float, a windowed MRI slice) -> 8-bit grey.

    A linear map of ``lo..hi`` onto 0..255, clipped outside it; NaN and infinities
    become 0 before the map.

    Args:
        arr: numeric array of any shape and dtype.
        lo: the value mapped to 0 (default: ``min(0, arr.min())``).
        hi: the value mapped to 255 (default: ``arr.max()``).

    Returns:
        A ``uint8`` array of ``arr``'s shape; all zeros when ``hi <= lo``.
    """
    arr = np.nan_to_num(np.asarray(arr, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if lo is None:
        lo = min(float(arr.min()), 0.0) if arr.size else 0.0
    if hi is None:
        hi = float(arr.max()) if arr.size else 0.0
    if hi <= lo:
        return np.zeros(arr.shape, np.uint8)
    return np.rint(np.clip((arr - lo) * (255.0 / (hi - lo)), 0, 255)).astype(np.uint8)


def to_grey(im: Image.Image) -> Image.Image:
    """Any Pillow image -> 8-bit grey (mode ``"L"``), as every ganbench reader converts.

    RGB, CMYK and YCbCr by ITU-R 601 luma; palette images through RGB(A); an alpha
    channel is composited over black (the MRI background); 16-bit, 32-bit and float
    images are scaled linearly by their own range (`scale_to_uint8`), never clipped.

    Args:
        im: a loaded Pillow image of any mode.

    Returns:
        A Pillow image of mode ``"L"`` and ``im``'s size (``im`` itself when it is
        already ``"L"``).
    """
    mode = im.mode
    if mode == "L":
        return im
    if mode == "1":
        return im.convert("L")
    if mode in ("P", "PA"):
        im = im.convert("RGBA" if ("transparency" in im.info or mode == "PA") else "RGB")
        mode = im.mode
    if mode in ("RGBa", "La"):  # premultiplied alpha
        im = im.convert("RGBA" if mode == "RGBa" else "LA")
        mode = im.mode
    if mode in ("RGBA", "LA"):
        grey = np.asarray(im.convert("L") if mode == "RGBA" else im.getchannel("L"), dtype=np.float32)
        alpha = np.asarray(im.getchannel("A"), dtype=np.float32) / 255.0
        return Image.fromarray(np.rint(grey * alpha).astype(np.uint8), mode="L")
    if mode in ("RGB", "RGBX", "CMYK", "YCbCr"):
        return im.convert("L")
    arr = np.asarray(im)
    if arr.dtype != np.uint8 or arr.ndim != 2:  # I;16*, I, F and other high bit depths
        if arr.ndim == 3:
            arr = arr[..., 0]
        return Image.fromarray(scale_to_uint8(arr), mode="L")
    try:  # LAB, HSV, ...: anything Pillow can turn into RGB
        return im.convert("RGB").convert("L")
    except (ValueError, OSError):
        return Image.fromarray(arr, mode="L")


def crop_to_content(grey: Image.Image, threshold: int = DEFAULT_BORDER_THRESHOLD) -> Image.Image:
    """Crop the dark border around the content (IJACSA 2024's margin cropping).

    Args:
        grey: a Pillow image of mode ``"L"`` (`to_grey`).
        threshold: grey level (0..255); pixels brighter than it are content.

    Returns:
        The bounding box of the pixels brighter than ``threshold`` (not square);
        ``grey`` unchanged when no pixel is (an all-black slice has no content).
    """
    arr = np.asarray(grey)
    rows = np.flatnonzero((arr > threshold).any(axis=1))
    cols = np.flatnonzero((arr > threshold).any(axis=0))
    if rows.size == 0 or cols.size == 0:
        return grey
    return grey.crop((int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1))


def square_resize(grey: Image.Image, size: int) -> np.ndarray:
    """Centre crop to a square (the shorter side) and resize, as every reader does.

    LANCZOS when shrinking, BICUBIC when enlarging.

    Args:
        grey: a Pillow image of mode ``"L"`` (`to_grey`, maybe `crop_to_content`).
        size: pixels a side of the result, at least 1.

    Returns:
        A ``uint8`` numpy array of shape ``(size, size)``, values 0..255.
    """
    w, h = grey.size
    side = min(w, h)
    if side != w or side != h:
        left, top = (w - side) // 2, (h - side) // 2
        grey = grey.crop((left, top, left + side, top + side))
    resample = Image.LANCZOS if side >= size else Image.BICUBIC
    return np.asarray(grey.resize((size, size), resample), dtype=np.uint8)


def array_to_square(arr: np.ndarray, size: int, crop_border: bool = False) -> np.ndarray:
    """A grey array (a slice already windowed to 0..255) -> the working size: the
    optional border crop (`crop_to_content`), then `square_resize`.

    Args:
        arr: 2-D array ``(H, W)`` of values 0..255 (converted to ``uint8``).
        size: pixels a side of the result.
        crop_border: crop the dark border first.

    Returns:
        A ``uint8`` numpy array of shape ``(size, size)``.
    """
    grey = Image.fromarray(np.ascontiguousarray(arr, dtype=np.uint8), mode="L")
    if crop_border:
        grey = crop_to_content(grey)
    return square_resize(grey, size)
