"""``image-folder``: any tree of class subfolders of images, e.g. the Kaggle "Brain Tumor
Classification (MRI)" set (Sartaj Bhuvaji et al., sartajbhuvaji/brain-tumor-classification-mri).

Two layouts are read::

    A  ROOT/Training/<class>/<image>  and  ROOT/Testing/<class>/<image>
       (split folder names are case-insensitive; train/test work too): the dataset's
       own split is used as is.
    B  ROOT/<class>/<image>  (no split folders): a deterministic stratified split,
       ``test_fraction`` (0.2) of every class held out for testing. The split uses a
       FIXED seed (0), never the run seed: files are sorted by relative path and each
       class is shuffled with its own ``numpy.random.default_rng(0)``.

Class names are the sorted class-folder names. Images are read with Pillow
(.jpg .jpeg .png .bmp .tif .tiff, any case); other files, hidden files, empty files and
files Pillow cannot decode are skipped and counted by reason in ``LoadedData.skipped``.

Preprocessing, per image:

1. first frame; EXIF orientation applied;
2. to 8-bit grey: RGB/CMYK/YCbCr via Pillow's ITU-R 601 luma; an alpha channel
   (RGBA, LA, transparent palette) is composited over black (MRI background);
   16-bit, 32-bit integer and float images are scaled linearly by their own range
   (``0..max`` for non-negative data, ``min..max`` otherwise), never clipped;
3. centre crop to a square (the shorter side), then resize to ``image_size`` with
   LANCZOS when shrinking, BICUBIC when enlarging. JPEGs are decoded with libjpeg's
   DCT scaling at the smallest scale that keeps the crop at least 4x the target size
   (Pillow's ``draft``), which is 2-3x faster and differs from a full-resolution decode
   by about 0.1 grey levels on average;
4. ``channels=3`` repeats the grey image (MRI is grey).

Results are ``uint8`` tensors ``N x C x H x W``. They are cached as ``.npz`` under
``ganbench.paths.cache_dir("datasets")`` keyed by the fingerprint: sha256 over the
preprocessing version, size, channels, the split rule and every file's relative path,
size and mtime (no pixel data is read to compute it).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch
from PIL import Image, ImageOps

from ganbench import hookimpl
from ganbench.errors import DatasetLayoutError, GanbenchError
from ganbench.paths import cache_dir
from ganbench.specs import Dataset, ImageSplit, LoadedData, Progress, SilentProgress

#: Bump whenever anything below changes the pixels produced (it is in the fingerprint).
PREPROCESS_VERSION = "image-folder/1: grey-L alpha-over-black hi-bit-by-own-range center-crop lanczos-down bicubic-up jpeg-draft-4x"

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"})
TRAIN_NAMES = frozenset({"training", "train"})
TEST_NAMES = frozenset({"testing", "test"})
SPLIT_SEED = 0
DEFAULT_FAMILY = "image-folder"

BRAIN_TUMOR_FAMILY = "brain-tumor-classification-mri"
BRAIN_TUMOR_CLASSES = frozenset({"glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor"})

#: Skip reasons, as they appear in ``LoadedData.skipped``.
UNKNOWN_EXTENSION = "unknown extension"
UNREADABLE = "unreadable image"
EMPTY_FILE = "empty file"
HIDDEN_FILE = "hidden file"
NOT_IN_CLASS_FOLDER = "file outside a class folder"
NESTED_FOLDER = "subfolder inside a class folder (not read)"

EXPECTED_LAYOUT = (
    "expected one of these layouts:\n"
    "  A  ROOT/Training/<class>/<image>  and  ROOT/Testing/<class>/<image>\n"
    "     (the dataset's own split; the split folders may also be named train/test, any case)\n"
    "  B  ROOT/<class>/<image>\n"
    "     (split here: 20% of each class held out for testing, fixed seed 0)\n"
    "with images ending in " + " ".join(sorted(IMAGE_EXTENSIONS))
)


def detect_family(root: Path, class_names: Sequence[str]) -> Optional[str]:
    """The paper-comparable dataset family of a folder, when it is recognisable."""
    if root.name == BRAIN_TUMOR_FAMILY or set(class_names) == BRAIN_TUMOR_CLASSES:
        return BRAIN_TUMOR_FAMILY
    return None


# --------------------------------------------------------------------------- layout


@dataclass
class _Scan:
    """What is on disk: image candidates per split, files skipped without decoding."""

    root: Path
    layout: str  # "A" or "B"
    class_names: tuple[str, ...]
    #: split ("train"/"test" for A, "all" for B) -> list of (relative posix path, label)
    files: dict[str, list[tuple[str, int]]]
    skipped: Counter = field(default_factory=Counter)
    #: (relative path, size, mtime_ns) of every file looked at, for the fingerprint.
    stats: list[tuple[str, int, int]] = field(default_factory=list)
    split_dirs: tuple[str, ...] = ()
    ignored_dirs: tuple[str, ...] = ()


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def _entries(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as it:
        return sorted(it, key=lambda e: e.name)


def _describe(folder: Path, limit: int = 6) -> str:
    """A short listing of a folder's contents for error messages."""
    try:
        entries = [e for e in _entries(folder) if not _is_hidden(e.name)]
    except OSError as exc:
        return f"{folder} could not be listed ({exc})"
    dirs = [e.name + "/" for e in entries if e.is_dir()]
    files = [e.name for e in entries if not e.is_dir()]

    def some(names: list[str]) -> str:
        shown = ", ".join(repr(n) for n in names[:limit])
        return shown + (f", ... ({len(names) - limit} more)" if len(names) > limit else "")

    parts = [f"{len(dirs)} folder(s)" + (f" ({some(dirs)})" if dirs else "")]
    parts.append(f"{len(files)} file(s)" + (f" ({some(files)})" if files else ""))
    return f"{folder} contains " + " and ".join(parts)


def _layout_error(root: Path, problem: str) -> DatasetLayoutError:
    return DatasetLayoutError(f"image-folder cannot read {root}: {problem}.\n{EXPECTED_LAYOUT}")


def _class_dirs(folder: Path) -> tuple[list[str], list[str]]:
    """(class folder names, names of loose files) directly inside ``folder``."""
    classes, loose = [], []
    for entry in _entries(folder):
        if _is_hidden(entry.name):
            continue
        (classes if entry.is_dir() else loose).append(entry.name)
    return classes, loose


def _scan(root: Path) -> _Scan:
    if not root.exists():
        raise _layout_error(root, "the path does not exist")
    if not root.is_dir():
        raise _layout_error(root, "the path is a file, not a folder")
    top_dirs, top_files = _class_dirs(root)
    train_dirs = [d for d in top_dirs if d.lower() in TRAIN_NAMES]
    test_dirs = [d for d in top_dirs if d.lower() in TEST_NAMES]

    scan: _Scan
    if train_dirs or test_dirs:
        if len(train_dirs) != 1 or len(test_dirs) != 1:
            raise _layout_error(
                root,
                "layout A needs exactly one training and one testing split folder, found "
                f"training folders {train_dirs} and testing folders {test_dirs}; "
                + _describe(root),
            )
        train_dir, test_dir = train_dirs[0], test_dirs[0]
        per_split = {}
        for split, name in (("train", train_dir), ("test", test_dir)):
            classes, _ = _class_dirs(root / name)
            if not classes:
                raise _layout_error(root, f"the split folder {name!r} has no class subfolders; " + _describe(root / name))
            per_split[split] = classes
        if set(per_split["train"]) != set(per_split["test"]):
            only_train = sorted(set(per_split["train"]) - set(per_split["test"]))
            only_test = sorted(set(per_split["test"]) - set(per_split["train"]))
            raise _layout_error(
                root,
                f"{train_dir!r} and {test_dir!r} have different class folders: "
                f"only in {train_dir!r}: {only_train or 'none'}; only in {test_dir!r}: {only_test or 'none'}",
            )
        class_names = tuple(sorted(per_split["train"]))
        scan = _Scan(
            root, "A", class_names, {"train": [], "test": []},
            split_dirs=(train_dir, test_dir),
            ignored_dirs=tuple(d for d in top_dirs if d not in (train_dir, test_dir)),
        )
        for name in top_files:  # README, LICENSE, a zip next to the split folders, ...
            scan.skipped[NOT_IN_CLASS_FOLDER] += 1
            _record_stat(scan, root / name, name)
        for split, name in (("train", train_dir), ("test", test_dir)):
            _scan_split(scan, root / name, name + "/", split)
    else:
        if not top_dirs:
            raise _layout_error(root, "found no class subfolders; " + _describe(root))
        class_names = tuple(sorted(top_dirs))
        scan = _Scan(root, "B", class_names, {"all": []})
        _scan_split(scan, root, "", "all")  # counts loose files in ROOT too
    return scan


def _record_stat(scan: _Scan, path: Path, rel: str) -> Optional[os.stat_result]:
    try:
        st = path.stat()
    except OSError:
        scan.stats.append((rel, -1, -1))
        return None
    scan.stats.append((rel, st.st_size, st.st_mtime_ns))
    return st


def _scan_split(scan: _Scan, folder: Path, prefix: str, split: str) -> None:
    loose = [e.name for e in _entries(folder) if not _is_hidden(e.name) and not e.is_dir()]
    for name in loose:
        scan.skipped[NOT_IN_CLASS_FOLDER] += 1
        _record_stat(scan, folder / name, prefix + name)
    for label, cls in enumerate(scan.class_names):
        cdir = folder / cls
        entries = _entries(cdir)
        if not entries:
            raise _layout_error(scan.root, f"the class folder {prefix + cls!r} is empty")
        subdirs, found_before = [], len(scan.files[split])
        for entry in entries:
            rel = f"{prefix}{cls}/{entry.name}"
            if entry.is_dir():
                if not _is_hidden(entry.name):
                    subdirs.append(entry.name)
                    scan.skipped[NESTED_FOLDER] += 1
                continue
            st = _record_stat(scan, cdir / entry.name, rel)
            if _is_hidden(entry.name):
                scan.skipped[HIDDEN_FILE] += 1
            elif Path(entry.name).suffix.lower() not in IMAGE_EXTENSIONS:
                scan.skipped[UNKNOWN_EXTENSION] += 1
            elif st is None or st.st_size == 0:
                scan.skipped[EMPTY_FILE if st is not None else UNREADABLE] += 1
            else:
                scan.files[split].append((rel, label))
        if len(scan.files[split]) == found_before:
            hint = f" (it has subfolders {subdirs[:4]}; point the path at the folder that holds the class folders)" if subdirs else ""
            raise _layout_error(scan.root, f"the class folder {prefix + cls!r} holds no image files{hint}; " + _describe(cdir))


# --------------------------------------------------------------------------- pixels


def _to_grey(im: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit grey ("L"), see the module docstring."""
    mode = im.mode
    if mode == "L":
        return im
    if mode == "1":
        return im.convert("L")
    if mode == "P" or mode == "PA":
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
        arr = np.nan_to_num(arr.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        lo = min(float(arr.min()), 0.0)
        hi = float(arr.max())
        scaled = np.zeros(arr.shape, np.uint8) if hi <= lo else np.rint((arr - lo) * (255.0 / (hi - lo))).astype(np.uint8)
        return Image.fromarray(scaled, mode="L")
    try:  # LAB, HSV, ...: anything Pillow can turn into RGB
        return im.convert("RGB").convert("L")
    except (ValueError, OSError):
        return Image.fromarray(arr, mode="L")


def _decode(path: Path, size: int) -> Union[np.ndarray, str]:
    """One file -> (size, size) uint8 grey array, or the reason it was skipped."""
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
            grey = _to_grey(im)
            w, h = grey.size
            side = min(w, h)
            left, top = (w - side) // 2, (h - side) // 2
            if side != w or side != h:
                grey = grey.crop((left, top, left + side, top + side))
            resample = Image.LANCZOS if side >= size else Image.BICUBIC
            out = grey.resize((size, size), resample)
            arr = np.asarray(out, dtype=np.uint8)
            if arr.shape != (size, size):
                return UNREADABLE
            return arr
    except Exception:  # truncated, corrupt, not an image, decompression bomb, ...
        return UNREADABLE


# --------------------------------------------------------------------------- plugin


class ImageFolder(Dataset):
    name = "image-folder"
    needs_path = True
    description = "Any folder of class subfolders of images (Training/Testing split folders or a fixed stratified split)"
    source = "Brain Tumor Classification (MRI), Bhuvaji et al., Kaggle sartajbhuvaji/brain-tumor-classification-mri (layout)"
    obtain = "any folder of class subfolders, e.g. Kaggle sartajbhuvaji/brain-tumor-classification-mri"

    def __init__(
        self,
        family: str = DEFAULT_FAMILY,
        test_fraction: float = 0.2,
        workers: Optional[int] = None,
        use_cache: bool = True,
    ):
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
        self.family = family
        self.test_fraction = float(test_fraction)
        self.workers = workers if workers is not None else max(1, min(4, os.cpu_count() or 1))
        self.use_cache = use_cache

    # ------------------------------------------------------------------ public

    def load(
        self,
        path: Optional[Path],
        image_size: int,
        channels: int,
        progress: Progress = SilentProgress(),
    ) -> LoadedData:
        if path is None:
            raise DatasetLayoutError(
                f"the image-folder dataset needs a path (--data PATH) to {self.obtain}.\n{EXPECTED_LAYOUT}"
            )
        if channels not in (1, 3):
            raise GanbenchError(f"image-folder makes grey (1) or RGB (3) channel images, not {channels}")
        if not isinstance(image_size, int) or image_size < 1:
            raise GanbenchError(f"image-folder needs a positive integer image size, got {image_size!r}")
        root = Path(path).expanduser()
        scan = _scan(root)
        fingerprint = self._fingerprint(scan, image_size, channels)

        cache_file = cache_dir("datasets") / f"image-folder-{fingerprint}.npz" if self.use_cache else None
        arrays = self._read_cache(cache_file, fingerprint, scan.class_names) if cache_file else None
        if arrays is not None:
            progress.log(f"image-folder: {root} read from cache {cache_file}")
        else:
            arrays = self._build(scan, image_size, progress)
            if cache_file is not None:
                self._write_cache(cache_file, fingerprint, scan.class_names, arrays, progress)
        train_x, train_y, test_x, test_y, skipped = arrays

        def split(x: np.ndarray, y: np.ndarray) -> ImageSplit:
            images = torch.from_numpy(np.ascontiguousarray(x)).unsqueeze(1)
            if channels == 3:
                images = images.expand(-1, 3, -1, -1).contiguous()
            return ImageSplit(images, torch.from_numpy(y.astype(np.int64)))

        train, test = split(train_x, train_y), split(test_x, test_y)
        family = self.family
        if family == DEFAULT_FAMILY:
            family = detect_family(root, scan.class_names) or DEFAULT_FAMILY
        if scan.layout == "A":
            layout = f"layout A: the dataset's own split folders {scan.split_dirs[0]!r} / {scan.split_dirs[1]!r}"
            if scan.ignored_dirs:
                layout += f" (other folders ignored: {', '.join(scan.ignored_dirs)})"
        else:
            layout = (
                f"layout B: class folders split here, {self.test_fraction:g} of each class held out "
                f"for testing (fixed split seed {SPLIT_SEED})"
            )
        skipped_text = ", ".join(f"{n} {r}" for r, n in sorted(skipped.items())) or "none"
        notes = (
            f"read from {root.resolve()} ({layout}); {len(train)} train / {len(test)} test images "
            f"in {len(scan.class_names)} classes; centre-cropped and resized to {image_size}x{image_size}, "
            f"{'grey' if channels == 1 else 'grey repeated to RGB'}; skipped: {skipped_text}"
        )
        return LoadedData(
            name=self.name,
            class_names=scan.class_names,
            train=train,
            test=test,
            fingerprint=fingerprint,
            family=family,
            synthetic=False,
            skipped=dict(sorted(skipped.items())),
            notes=notes,
        )

    # ------------------------------------------------------------------ internals

    def _fingerprint(self, scan: _Scan, image_size: int, channels: int) -> str:
        h = hashlib.sha256()
        split_rule = "own-split" if scan.layout == "A" else f"stratified test_fraction={self.test_fraction!r} seed={SPLIT_SEED}"
        header = [PREPROCESS_VERSION, f"size={image_size}", f"channels={channels}", f"layout={scan.layout}", split_rule]
        h.update("\n".join(header).encode() + b"\n")
        for rel, size, mtime in sorted(scan.stats):
            h.update(f"{rel}\0{size}\0{mtime}\n".encode("utf-8", "surrogateescape"))
        return h.hexdigest()[:16]

    def _build(self, scan: _Scan, image_size: int, progress: Progress):
        jobs = [(split, rel, label) for split, items in scan.files.items() for rel, label in items]
        paths = [scan.root / rel for _, rel, _ in jobs]

        def work(p: Path):
            return _decode(p, image_size)

        if self.workers > 1 and len(paths) > 1:
            with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="image-folder") as pool:
                results = list(progress.track(pool.map(work, paths), total=len(paths), description="decoding images"))
        else:
            results = list(progress.track(map(work, paths), total=len(paths), description="decoding images"))

        skipped = Counter(scan.skipped)
        good: dict[str, list[tuple[str, int, np.ndarray]]] = {s: [] for s in scan.files}
        for (split, rel, label), result in zip(jobs, results):
            if isinstance(result, str):
                skipped[result] += 1
            else:
                good[split].append((rel, label, result))

        if scan.layout == "A":
            train, test = good["train"], good["test"]
            for items, folder in ((train, scan.split_dirs[0]), (test, scan.split_dirs[1])):
                self._check_classes(scan, items, f"{folder}/", skipped)
        else:
            self._check_classes(scan, good["all"], "", skipped)
            train, test = self._stratified_split(scan, good["all"])

        def stack(items):
            if not items:
                return np.zeros((0, image_size, image_size), np.uint8), np.zeros((0,), np.int64)
            return np.stack([a for _, _, a in items]), np.array([lbl for _, lbl, _ in items], np.int64)

        return (*stack(train), *stack(test), dict(skipped))

    @staticmethod
    def _check_classes(scan: _Scan, items, prefix: str, skipped: Counter) -> None:
        counts = Counter(lbl for _, lbl, _ in items)
        for label, cls in enumerate(scan.class_names):
            if counts[label] == 0:
                raise _layout_error(
                    scan.root,
                    f"the class folder {prefix + cls!r} has no readable images "
                    f"(skipped so far: {dict(skipped) or 'none'})",
                )

    def _stratified_split(self, scan: _Scan, items):
        """Per class: sort by relative path, shuffle with default_rng(0), hold out the
        first round(n * test_fraction) (at least 1, at most n - 1) for testing."""
        train, test = [], []
        for label, cls in enumerate(scan.class_names):
            members = sorted((it for it in items if it[1] == label), key=lambda it: it[0])
            n = len(members)
            if n < 2:
                raise _layout_error(
                    scan.root,
                    f"the class folder {cls!r} has {n} readable image; layout B needs at least 2 per class "
                    "to hold one out for testing",
                )
            n_test = min(max(int(round(n * self.test_fraction)), 1), n - 1)
            order = np.random.default_rng(SPLIT_SEED).permutation(n)
            test += [members[i] for i in order[:n_test]]
            train += [members[i] for i in order[n_test:]]
        key = lambda it: (it[1], it[0])  # noqa: E731 - class, then relative path
        return sorted(train, key=key), sorted(test, key=key)

    @staticmethod
    def _read_cache(cache_file: Path, fingerprint: str, class_names: tuple[str, ...]):
        if not cache_file.is_file():
            return None
        try:
            with np.load(cache_file, allow_pickle=False) as z:
                if str(z["fingerprint"]) != fingerprint or tuple(str(c) for c in z["class_names"]) != class_names:
                    return None
                arrays = [z[k] for k in ("train_images", "train_labels", "test_images", "test_labels")]
                skipped = {str(r): int(n) for r, n in zip(z["skipped_reasons"], z["skipped_counts"])}
        except Exception:  # a truncated or foreign file: rebuild and overwrite it
            return None
        if any(a.dtype != np.uint8 for a in arrays[0::2]) or any(a.ndim != 3 for a in arrays[0::2]):
            return None
        return (*arrays, skipped)

    @staticmethod
    def _write_cache(cache_file: Path, fingerprint: str, class_names, arrays, progress: Progress) -> None:
        train_x, train_y, test_x, test_y, skipped = arrays
        reasons = sorted(skipped)
        tmp_name = None
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=cache_file.stem + ".", suffix=".tmp", dir=cache_file.parent)
            with os.fdopen(fd, "wb") as f:
                np.savez(
                    f,
                    fingerprint=np.array(fingerprint),
                    class_names=np.array(class_names, dtype=str),
                    train_images=train_x,
                    train_labels=train_y,
                    test_images=test_x,
                    test_labels=test_y,
                    skipped_reasons=np.array(reasons, dtype=str).reshape(-1),
                    skipped_counts=np.array([skipped[r] for r in reasons], dtype=np.int64),
                )
            os.replace(tmp_name, cache_file)
            tmp_name = None
        except OSError as exc:  # a full or read-only cache never fails the load
            progress.log(f"image-folder: could not write the cache {cache_file}: {exc}")
        finally:
            if tmp_name is not None:
                try:
                    os.unlink(tmp_name)
                except OSError:
                    pass


@hookimpl
def register_datasets(register):
    register(ImageFolder())
