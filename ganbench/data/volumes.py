"""Slices of 3-D scans (NIfTI volumes, DICOM series) as a benchmark dataset: windowing
to 8 bits, a patient-level split and the duplicate check, shared by the volume readers.

A volume is one patient's scan; every slice inherits its patient key, and the split
keeps each patient wholly in train or test (`ganbench.data.splits.patient_split`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..errors import DatasetLayoutError
from ..specs import ImageSplit, LoadedData
from .class_warnings import class_count_warnings
from .duplicates import cross_split_duplicates
from .pixels import array_to_square, scale_to_uint8
from .reader_warnings import WarningTally
from .splits import patient_split
from .tensors import image_split

#: Percentiles of a volume's non-zero voxels mapped to grey 0 and 255: robust to the
#: few very bright voxels MRI has, and independent of the scanner's units.
WINDOW_PERCENTILES = (0.5, 99.5)


def percentile_window(volume: np.ndarray) -> tuple[float, float]:
    foreground = volume[volume > 0]
    if foreground.size == 0:
        foreground = volume.reshape(-1)
    lo, hi = np.percentile(foreground, WINDOW_PERCENTILES)
    return float(lo), float(hi)


@dataclass
class SliceSet:
    """Slices gathered from volumes, with their patients; what was skipped and why."""

    size: int
    crop_border: bool = False
    images: list[np.ndarray] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    patients: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    #: What the reading library warned about (de-identified message -> times), if anything.
    warnings: WarningTally = field(default_factory=lambda: WarningTally(""))

    def add(self, slice_2d: np.ndarray, window: tuple[float, float], label: int, patient: str, source: str) -> None:
        grey = scale_to_uint8(slice_2d, *window)
        self.images.append(array_to_square(grey, self.size, self.crop_border))
        self.labels.append(int(label))
        self.patients.append(patient)
        self.sources.append(source)

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "images": np.stack(self.images) if self.images else np.zeros((0, self.size, self.size), np.uint8),
            "labels": np.array(self.labels, np.int64),
            "patients": np.array(self.patients, dtype=str),
            "sources": np.array(self.sources, dtype=str),
            "skipped_reasons": np.array(sorted(self.skipped), dtype=str).reshape(-1),
            "skipped_counts": np.array([self.skipped[r] for r in sorted(self.skipped)], np.int64),
            "warning_library": np.array(self.warnings.library),
            "warning_messages": np.array(sorted(self.warnings.counts), dtype=str).reshape(-1),
            "warning_counts": np.array([self.warnings.counts[m] for m in sorted(self.warnings.counts)], np.int64),
        }


def warnings_of(arrays: dict[str, np.ndarray]) -> WarningTally:
    """The reading library's warnings kept in `SliceSet.arrays` (none in a cache
    written before they were kept)."""
    if "warning_messages" not in arrays:
        return WarningTally("")
    tally = WarningTally(str(arrays["warning_library"]))
    tally.counts.update({str(m): int(n) for m, n in zip(arrays["warning_messages"], arrays["warning_counts"])})
    return tally


def loaded_from_slices(
    arrays: dict[str, np.ndarray],
    *,
    name: str,
    family: str,
    class_names: tuple[str, ...],
    channels: int,
    test_fraction: float,
    fingerprint: str,
    describe: str,
) -> LoadedData:
    images, labels = arrays["images"], arrays["labels"]
    patients, sources = [str(p) for p in arrays["patients"]], [str(s) for s in arrays["sources"]]
    skipped = {str(r): int(n) for r, n in zip(arrays["skipped_reasons"], arrays["skipped_counts"])}
    if len(images) == 0:
        raise DatasetLayoutError(f"{name}: no readable slices (skipped: {skipped or 'none'})")
    for label, cls in enumerate(class_names):
        if not (labels == label).any():
            raise DatasetLayoutError(f"{name}: no slice of class {cls!r} (skipped: {skipped or 'none'}); check the slice range and labels")
    train_idx, test_idx = patient_split(sources, labels, patients, test_fraction)
    report = cross_split_duplicates(images[train_idx], images[test_idx])

    def split(idx) -> ImageSplit:
        return image_split(images[idx], labels[idx], channels)

    n_patients = {s: len({patients[i] for i in idx}) for s, idx in (("train", train_idx), ("test", test_idx))}
    skipped_text = ", ".join(f"{n} {r}" for r, n in sorted(skipped.items())) or "none"
    tally = warnings_of(arrays)
    notes = (
        f"{describe}; patient-level split: {n_patients['train']} patients / {len(train_idx)} slices train, "
        f"{n_patients['test']} patients / {len(test_idx)} slices test ({test_fraction:g} held out); "
        f"duplicates: {report.summary()}; skipped: {skipped_text}"
        + (f"; {tally.details()}" if tally.total else "")
        + "".join(f"; warning: {w}" for w in class_count_warnings(name, class_names))
    )
    return LoadedData(
        name=name,
        class_names=class_names,
        train=split(train_idx),
        test=split(test_idx),
        fingerprint=fingerprint,
        family=family,
        skipped=skipped,
        notes=notes,
        leakage=report.summary(),
        sources={"train": [sources[i] for i in train_idx], "test": [sources[i] for i in test_idx]},
        patients={"train": [patients[i] for i in train_idx], "test": [patients[i] for i in test_idx]},
    )


def parse_slice_range(text) -> tuple[int, int]:
    """``"60-100"`` -> (60, 100): slices 60 <= z < 100."""
    try:
        first, last = (int(v) for v in str(text).split("-"))
    except ValueError:
        raise DatasetLayoutError(f"slices takes FIRST-END (slices FIRST <= z < END), e.g. 60-100; got {text!r}") from None
    if not 0 <= first < last:
        raise DatasetLayoutError(f"slices needs 0 <= FIRST < END, got {text!r}")
    return first, last


def optional_int(value: Optional[str], option: str, minimum: int = 0) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DatasetLayoutError(f"{option} takes an integer, got {value!r}") from None
    if number < minimum:
        raise DatasetLayoutError(f"{option} must be at least {minimum}, got {number}")
    return number
