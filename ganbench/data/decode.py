"""Decoding one image file as the datasets read them: any format Pillow reads, EXIF
orientation applied, converted to one grey channel (`.pixels.to_grey`), optionally
cropped to its content, resized to a square (`.pixels.square_resize`). A file that
gives no image says why (`Skipped`), so a reader can count and name the files it
left out instead of failing on the first bad one.

Used by the image-folder dataset plugins and by ``ganbench evaluate`` for samples made
elsewhere, so both see the same pixels for the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np
from PIL import Image, ImageOps

from .pixels import crop_to_content, square_resize, to_grey

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"})
"""File name suffixes (lower case) that the image readers decode."""
UNREADABLE = "unreadable image"
TOO_LARGE = "image too large to decode safely (over Pillow's decompression-bomb limit; downscale it)"


@dataclass(frozen=True)
class Skipped:
    """Why a file gave no image (`decode_image`), and what to show beside its name.

    Count skipped files by ``reason`` in `LoadedData.skipped`."""

    reason: str
    """A few words, the same for every file skipped for it (``"unreadable image"``)."""
    detail: str = ""
    """What to show beside the file's name (its size, for an image too large)."""

    def example(self, rel: str) -> str:
        """``rel`` (the file's relative path) with the detail: ``"a/b.png (90 x 40)"``."""
        return f"{rel} ({self.detail})" if self.detail else rel


def _header_size(path: Path) -> Optional[tuple[int, int]]:
    """(width, height) from the file's header, read by the Pillow plugin of its format
    directly: ``Image.open`` refuses an image over the decompression-bomb limit with an
    error that gives only the pixel count. Nothing beyond the header is decoded."""
    Image.init()
    try:
        with open(path, "rb") as fp:
            prefix = fp.read(16)
            for factory, accept in list(Image.OPEN.values()):
                try:
                    accepted = accept(prefix) if accept is not None else True
                    if not accepted or isinstance(accepted, str):
                        continue
                    fp.seek(0)
                    return tuple(factory(fp, str(path)).size)
                except Exception:  # not this format after all: try the next
                    continue
    except OSError:
        pass
    return None


def _too_large(path: Path, error: Exception) -> Skipped:
    size = _header_size(path)
    if size is not None:
        return Skipped(TOO_LARGE, f"{size[0]} x {size[1]}")
    pixels = "".join(ch for ch in str(error).split("pixels")[0] if ch.isdigit())
    return Skipped(TOO_LARGE, f"{int(pixels):,} pixels" if pixels else "")


def decode_image(path: Path, size: int, crop_border: bool = False) -> Union[np.ndarray, Skipped]:
    """Decode one image file as every ganbench reader does: first frame, EXIF
    orientation applied, 8-bit grey (`to_grey`), optionally cropped to its content
    (`crop_to_content`), centre-cropped to a square and resized (`square_resize`).

    Args:
        path: an image file of any format Pillow reads (`IMAGE_EXTENSIONS`).
        size: pixels a side of the result.
        crop_border: crop the dark border around the content first.

    Returns:
        A ``uint8`` numpy array of shape ``(size, size)``, values 0..255; or a
        `Skipped` saying why the file gave none (unreadable, or too large to decode
        safely). Never raises for a bad file: count it and go on.
    """
    try:
        with Image.open(path) as im:
            if im.format == "JPEG":
                # DCT-scaled decode, keeping the shorter side >= 4x the target.
                im.draft("L" if im.mode == "RGB" else im.mode, (4 * size, 4 * size))
            im.load()
            try:
                if im.getexif().get(0x0112, 1) not in (0, 1):  # EXIF orientation
                    im = ImageOps.exif_transpose(im)
            except Exception:  # a broken EXIF block is no reason to drop the pixels
                pass
            grey = to_grey(im)
            if crop_border:
                grey = crop_to_content(grey)
            arr = square_resize(grey, size)
            return arr if arr.shape == (size, size) else Skipped(UNREADABLE)
    except Image.DecompressionBombError as exc:  # its own reason: the file is fine, only too big
        return _too_large(path, exc)
    except Exception:  # truncated, corrupt, not an image, ...
        return Skipped(UNREADABLE)
