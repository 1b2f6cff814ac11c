"""``dicom-folder``: DICOM series in class folders, read with pydicom, de-identified
before anything leaves memory.

Layout: ``ROOT/<class>/**/<file>`` (any depth below the class folder, any file name;
a file is DICOM when pydicom can read it). Files are grouped into series by
SeriesInstanceUID; a series' slices are ordered along the slice normal by
ImagePositionPatient (InstanceNumber, then file order, when positions are missing);
multi-frame files give one slice per frame. Pixel values go through RescaleSlope /
RescaleIntercept, then a window onto 0..255: the series' own WindowCenter/Width
(``window=header``, the default, falling back to the percentiles when absent), the
0.5th-99.5th percentiles of the series (``window=percentile``) or ``window=C,W``.
MONOCHROME1 is inverted.

De-identification: no tag value except pixel data, geometry and the window is used.
Patients are keyed by an HMAC-SHA256 of PatientID (StudyInstanceUID when absent) with a
secret salt (``GANBENCH_DICOM_SALT``, else a random one kept in ganbench's cache
folder), shortened to 12 hex digits; only these keys are stored, and the split orders
patients by them, so share the salt to reproduce a split on another machine. No file
path is logged or stored (paths often carry patient names). **Text burned into the
pixels (names on screenshots, scanner annotations) cannot be detected or removed**:
look at the sample images before sharing anything derived from them.

pydicom's warnings (one per non-conforming element of every file) are caught while
reading, never printed: the run's log gets one line with their count and the data notes
(``ganbench data inspect``) the most frequent messages, with quoted values removed
(:mod:`ganbench.data.reader_warnings`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections import defaultdict
from pathlib import Path
from typing import Optional

import numpy as np

from ganbench.api import (
    Dataset,
    DatasetLayoutError,
    Detection,
    Inspection,
    LoadedData,
    Progress,
    SilentProgress,
    file_digests,
    hookimpl,
    parse_test_fraction,
    split_counts,
)
from ganbench.data.cache import cache_file, load_arrays, save_arrays
from ganbench.data.reader_warnings import WarningTally, captured_warnings
from ganbench.data.volumes import WINDOW_PERCENTILES, SliceSet, loaded_from_slices, percentile_window, warnings_of
from ganbench.paths import cache_dir

SALT_ENV = "GANBENCH_DICOM_SALT"
PREPROCESS_VERSION = "dicom-folder/1: rescale window monochrome1-invert position-order lanczos"

NOT_DICOM = "not a DICOM file"
NO_PIXELS = "DICOM without pixel data"
BAD_PIXELS = "DICOM whose pixel data cannot be decoded"
HIDDEN = "hidden file"


def salt() -> bytes:
    if os.environ.get(SALT_ENV):
        return os.environ[SALT_ENV].encode()
    path = cache_dir("secrets") / "dicom-salt"
    if not path.is_file():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def patient_key(identity: str, key: bytes) -> str:
    return hmac.new(key, identity.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[:12]


def parse_window(value: str):
    if value in ("header", "percentile"):
        return value
    try:
        center, width = (float(v) for v in value.split(","))
    except ValueError:
        raise DatasetLayoutError(f"window takes header, percentile or CENTER,WIDTH; got {value!r}") from None
    if width <= 0:
        raise DatasetLayoutError(f"the window width must be positive, got {width}")
    return center, width


def _first(value) -> Optional[float]:
    """A DICOM number or the first of a multi-valued one."""
    if value is None or value == "":
        return None
    try:
        return float(value[0] if hasattr(value, "__len__") and not isinstance(value, str) else value)
    except (TypeError, ValueError, IndexError):
        return None


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


class DicomFolder(Dataset):
    name = "dicom-folder"
    family = "dicom-folder"
    description = "DICOM series in class folders: ordered slices, rescaled and windowed, de-identified, split by patient"
    source = "DICOM PS3.3 (Image Plane, VOI LUT modules); pydicom"
    obtain = "a folder of class folders holding DICOM files (any depth, any names)"
    options = {
        "window": "header (default: the series' WindowCenter/Width, else percentiles), percentile, or CENTER,WIDTH",
        "test_fraction": "share of patients held out for testing (default 0.2; 80/20, 70/30)",
    }

    def __init__(self, window: str = "header", test_fraction=0.2):
        self.window = parse_window(window)
        self.window_text = window
        self.test_fraction = parse_test_fraction(test_fraction)

    def _configured(self, options: dict[str, str]) -> "DicomFolder":
        return DicomFolder(**{"window": self.window_text, "test_fraction": self.test_fraction, **options})

    def _class_folders(self, root: Path) -> list[str]:
        return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def detect(self, path: Path) -> Detection:
        import pydicom

        root = Path(path)
        if not root.is_dir():
            return Detection(False, "not a folder")
        classes = self._class_folders(root)
        if not classes:
            return Detection(False, "no class folders")
        with captured_warnings("pydicom"):  # reading reports them; detection stays quiet
            for cls in classes:
                for file in _files(root / cls)[:20]:
                    try:
                        pydicom.dcmread(file, stop_before_pixels=True)
                        return Detection(True, f"DICOM files in class folders {', '.join(classes)}")
                    except Exception:
                        continue
        return Detection(False, "no DICOM file among the first files of each class folder")

    def _read(self, root: Path, classes: list[str], size: int, progress: Progress) -> SliceSet:
        with captured_warnings("pydicom") as tally:
            slices = self._read_slices(root, classes, size, progress)
        slices.warnings = tally
        return slices

    def _read_slices(self, root: Path, classes: list[str], size: int, progress: Progress) -> SliceSet:
        import pydicom

        key = salt()
        slices = SliceSet(size)
        files = [(label, f) for label, cls in enumerate(classes) for f in _files(root / cls)]
        series: dict[tuple[int, str], list] = defaultdict(list)
        for label, file in progress.track(files, total=len(files), description="reading DICOM headers"):
            if file.name.startswith("."):
                slices.skipped[HIDDEN] += 1
                continue
            try:
                ds = pydicom.dcmread(file, stop_before_pixels=True)
            except Exception:
                slices.skipped[NOT_DICOM] += 1
                continue
            identity = str(ds.get("PatientID", "") or ds.get("StudyInstanceUID", "") or ds.get("SeriesInstanceUID", "") or file.parent)
            series_uid = str(ds.get("SeriesInstanceUID", "") or file.parent)
            series[(label, series_uid)].append((self._position(ds), _first(ds.get("InstanceNumber")), str(file), patient_key(identity, key)))
        for n, ((label, _), members) in enumerate(progress.track(sorted(series.items(), key=lambda kv: (kv[0][0], kv[1][0][3], kv[0][1])), total=len(series), description="reading DICOM series")):
            members.sort(key=lambda m: (m[0] if m[0] is not None else float("inf"), m[1] if m[1] is not None else float("inf"), m[2]))
            stack = []
            for _, _, file, patient in members:
                try:
                    ds = pydicom.dcmread(file)
                except Exception:
                    slices.skipped[BAD_PIXELS] += 1
                    continue
                if not any(tag in ds for tag in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
                    slices.skipped[NO_PIXELS] += 1
                    continue
                try:
                    pixels = ds.pixel_array.astype(np.float64)
                except Exception:
                    slices.skipped[BAD_PIXELS] += 1
                    continue
                frames = pixels if pixels.ndim == 3 and int(ds.get("NumberOfFrames", 1) or 1) > 1 else pixels[None]
                if frames.ndim != 3:  # colour DICOM: luma-free average, MRI is grey anyway
                    frames = frames.mean(axis=-1)[None] if pixels.ndim == 3 else frames
                slope, intercept = _first(ds.get("RescaleSlope")) or 1.0, _first(ds.get("RescaleIntercept")) or 0.0
                frames = frames * slope + intercept
                if str(ds.get("PhotometricInterpretation", "")) == "MONOCHROME1":
                    frames = frames.max() + frames.min() - frames
                stack.append((frames, ds, patient))
            if not stack:
                continue
            volume = np.concatenate([f for f, _, _ in stack])
            window = self._window_of(stack[0][1], volume)
            index = 0
            for frames, _, patient in stack:
                for frame in frames:
                    slices.add(frame, window, label, patient, f"patient {patient} series {n} slice {index}")
                    index += 1
        return slices

    @staticmethod
    def _position(ds) -> Optional[float]:
        position, orientation = ds.get("ImagePositionPatient"), ds.get("ImageOrientationPatient")
        try:
            if position is not None and orientation is not None and len(orientation) == 6:
                normal = np.cross(np.array(orientation[:3], float), np.array(orientation[3:], float))
                return float(np.dot(normal, np.array(position, float)))
            if position is not None:
                return float(position[2])
        except (TypeError, ValueError):
            pass
        return None

    def _window_of(self, ds, volume: np.ndarray) -> tuple[float, float]:
        if isinstance(self.window, tuple):
            center, width = self.window
        elif self.window == "header" and _first(ds.get("WindowCenter")) is not None and (_first(ds.get("WindowWidth")) or 0) > 0:
            center, width = _first(ds.get("WindowCenter")), _first(ds.get("WindowWidth"))
        else:
            return percentile_window(volume)
        return center - width / 2, center + width / 2

    def _fingerprint(self, root: Path, classes: list[str], size: int) -> str:
        h = hashlib.sha256()
        h.update(f"{PREPROCESS_VERSION}\nsize={size}\nwindow={self.window_text}\nsalt={hashlib.sha256(salt()).hexdigest()}\n".encode())
        # Contents, not timestamps: files changed in place keep theirs (ganbench.data.cache).
        files = [file for cls in classes for file in _files(root / cls)]
        for file, digest in zip(files, file_digests(files)):
            h.update(f"{file.relative_to(root).as_posix()}\0{digest}\n".encode("utf-8", "surrogateescape"))
        return h.hexdigest()[:16]

    def load(self, path: Optional[Path], image_size: int, channels: int, progress: Progress = SilentProgress()) -> LoadedData:
        return self._load(path, image_size, channels, progress)[0]

    def _load(self, path, image_size: int, channels: int, progress: Progress) -> tuple[LoadedData, WarningTally]:
        if path is None:
            raise DatasetLayoutError(f"dicom-folder needs --data PATH to {self.obtain}")
        root = Path(path).expanduser()
        if not root.is_dir():
            raise DatasetLayoutError(f"dicom-folder cannot read {root}: not a folder ({self.obtain})")
        classes = self._class_folders(root)
        if not classes:
            raise DatasetLayoutError(f"dicom-folder cannot read {root}: no class folders ({self.obtain})")
        fingerprint = self._fingerprint(root, classes, image_size)
        cached = cache_file("dicom-folder", fingerprint)
        arrays = load_arrays(cached, fingerprint)
        if arrays is None:
            arrays = self._read(root, classes, image_size, progress).arrays()
            save_arrays(cached, fingerprint, arrays, progress)
        tally = warnings_of(arrays)
        if tally.total:  # once per load, from the cache too: the log says the data was not clean
            progress.log(tally.headline(self.name))
        window = self.window_text if isinstance(self.window, str) else f"center {self.window[0]:g}, width {self.window[1]:g}"
        describe = (
            f"DICOM series from {len(classes)} class folders, ordered by slice position, rescaled, window {window} "
            f"(percentiles {WINDOW_PERCENTILES} where needed), resized to {image_size}x{image_size}; patients keyed by salted hashes"
        )
        data = loaded_from_slices(
            arrays, name=self.name, family=self.family, class_names=tuple(classes), channels=channels,
            test_fraction=self.test_fraction, fingerprint=fingerprint, describe=describe,
        )
        return data, tally

    def inspect(self, path: Optional[Path], progress: Progress = SilentProgress()) -> Inspection:
        data, tally = self._load(path, 64, 1, progress)
        counts = split_counts(data)
        return Inspection(
            dataset=self.name, root="(not shown: DICOM paths may name patients)",
            layout="DICOM series in class folders", class_names=data.class_names, counts=counts,
            skipped=dict(data.skipped), duplicates=data.leakage,
            patients={s: len(set(data.patients[s])) for s in ("train", "test")},
            notes=["counts are slices", "text burned into the pixels cannot be detected: look at the images before sharing"]
            + ([tally.details()] if tally.total else []),
        )


@hookimpl
def register_datasets(register):
    register(DicomFolder())
