"""Duplicates across the train and test splits: the leakage the Kaggle brain-tumour
sets are known for (the same scan in Training and Testing, sometimes re-encoded or
resized).

* *exact*: identical pixels after preprocessing (byte-identical files always are);
* *near*: a 256-bit difference hash (horizontal gradient signs of a 17 x 16 grey
  thumbnail, Krawetz's dHash) within ``NEAR_DISTANCE`` bits *and* 8 x 8 thumbnails
  within ``NEAR_GREY`` grey levels on average. The hash survives JPEG re-encoding,
  small intensity changes and resizing, but not crops or rotations; it ignores
  absolute brightness (two flat images of any grey hash alike), which the thumbnail
  check restores.

A test image that duplicates a training image means a GAN can be rewarded for copying
its training data and a classifier is tested on what it saw.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

HASH_SIDE = 16
NEAR_DISTANCE = 12
"""Hamming distance (of 256 bits) at or below which two images count as near-duplicates.
On the shared Kaggle set, distinct scans of the same class differ by 60 bits or more;
re-encoded copies by fewer than 10."""
NEAR_GREY = 8.0
"""Mean absolute difference (grey levels) of 8 x 8 thumbnails allowed for a near pair."""


def pixel_digest(image: np.ndarray) -> str:
    """SHA-256 (hex) of an image's pixel bytes: equal for identical pixels."""
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


def difference_hash(image: np.ndarray) -> np.ndarray:
    """256 booleans: is each pixel of a (HASH_SIDE+1) x HASH_SIDE thumbnail brighter
    than its right neighbour."""
    grey = image if image.ndim == 2 else image[0]
    thumb = np.asarray(Image.fromarray(grey).resize((HASH_SIDE + 1, HASH_SIDE), Image.BILINEAR), dtype=np.int16)
    return (thumb[:, 1:] > thumb[:, :-1]).reshape(-1)


def _thumbnails(images: np.ndarray) -> np.ndarray:
    return np.stack([
        np.asarray(Image.fromarray(im if im.ndim == 2 else im[0]).resize((8, 8), Image.BOX), dtype=np.float32).reshape(-1)
        for im in images
    ]) if len(images) else np.zeros((0, 64), np.float32)


def _packed(images: np.ndarray) -> np.ndarray:
    return np.packbits(np.stack([difference_hash(im) for im in images]), axis=1) if len(images) else np.zeros((0, HASH_SIDE * HASH_SIDE // 8), np.uint8)


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint16)


@dataclass
class DuplicateReport:
    """What `cross_split_duplicates` found: pairs of a training and a test image."""

    exact: list[tuple[int, int]] = field(default_factory=list)
    """``(train index, test index)`` of identical pixels."""
    near: list[tuple[int, int, int]] = field(default_factory=list)
    """``(train index, test index, dHash distance in bits)`` of near-duplicates (test
    images with an exact twin are not searched again)."""
    n_train: int = 0
    """Images in the training split checked."""
    n_test: int = 0
    """Images in the test split checked."""

    @property
    def leaked_test(self) -> set[int]:
        """Test images with an exact or near twin in the training split."""
        return {t for _, t in self.exact} | {t for _, t, _ in self.near}

    def summary(self) -> str:
        """One sentence for `LoadedData.leakage`: how many test images have an exact
        duplicate in the training split, and how many more a near one."""
        exact_test = len({t for _, t in self.exact})
        near_only = len({t for _, t, _ in self.near} - {t for _, t in self.exact})
        return (
            f"{exact_test} of {self.n_test} test images have an exact duplicate in the training split, "
            f"{near_only} more a near duplicate (dHash within {NEAR_DISTANCE}/256 bits)"
        )


def cross_split_duplicates(train: np.ndarray, test: np.ndarray, max_distance: int = NEAR_DISTANCE) -> DuplicateReport:
    """The duplicate check across the splits every reader runs: test images with an
    exact or near twin in the training split (leakage).

    Exact: identical pixels. Near: 256-bit difference hashes within ``max_distance``
    bits and 8 x 8 thumbnails within `NEAR_GREY` grey levels on average (survives
    re-encoding and resizing, not crops or rotations).

    Args:
        train: ``uint8`` array ``(N, H, W)`` or ``(N, C, H, W)`` (the first channel is
            hashed), values 0..255.
        test: the same for the test split.
        max_distance: Hamming distance (of 256 bits) at or below which a pair is near.

    Returns:
        A `DuplicateReport`; put its `DuplicateReport.summary` into
        `LoadedData.leakage`, and drop `DuplicateReport.leaked_test` from the test
        split if the reader promises a clean split.
    """
    report = DuplicateReport(n_train=len(train), n_test=len(test))
    digests: dict[str, list[int]] = {}
    for i, image in enumerate(train):
        digests.setdefault(pixel_digest(image), []).append(i)
    exact_test = set()
    for j, image in enumerate(test):
        for i in digests.get(pixel_digest(image), ()):
            report.exact.append((i, j))
            exact_test.add(j)
    hashes_train, hashes_test = _packed(train), _packed(test)
    thumbs_train, thumbs_test = _thumbnails(train), _thumbnails(test)
    for j in range(len(test)):
        if j in exact_test or not len(train):
            continue
        distance = _POPCOUNT[np.bitwise_xor(hashes_train, hashes_test[j])].sum(axis=1)
        for i in np.flatnonzero(distance <= max_distance):
            if np.abs(thumbs_train[i] - thumbs_test[j]).mean() > NEAR_GREY:
                continue
            report.near.append((int(i), j, int(distance[i])))
    return report
