"""``image-folder``: any tree of class subfolders of images, e.g. the Kaggle "Brain Tumor
Classification (MRI)" set (Sartaj Bhuvaji et al., sartajbhuvaji/brain-tumor-classification-mri).

Two layouts are read::

    A  ROOT/Training/<class>/<image>  and  ROOT/Testing/<class>/<image>
       (split folder names are case-insensitive; train/test work too): the dataset's
       own split is used as is.
    B  ROOT/<class>/<image>  (no split folders): a deterministic stratified split,
       ``test_fraction`` (0.2) of every class held out for testing. The split uses a
       FIXED seed (0), never the run seed: files are sorted by relative path and each
       class is shuffled with its own ``numpy.random.default_rng(0)``. Exact copies
       (identical pixels) of a training image that the split puts into test are moved
       to train, so a split made here never leaks.

Named published layouts (``brain-tumor-classification-mri``, ``br35h``, ...) are this
same reader with a :class:`FolderLayout` that fixes the class folders, the archive's
top folder and the folders to ignore (see ``kaggle_layouts``).

Options (``--data-option KEY=VALUE``): ``class_map`` merges or drops classes, e.g.
``tumor=glioma_tumor+meningioma_tumor+pituitary_tumor,normal=no_tumor`` for the
tumour / no-tumour task of BrainGAN and IJACSA (classes left out are dropped and
counted); ``test_fraction`` (0.2, or "80/20", "70/30") for layout B; ``crop_border``
(IJACSA's margin cropping, off by default); ``dedupe`` (``none``, the default, only reports test
images with an exact or near twin in the training split; ``exact`` or ``near`` drop them).

Class names are the sorted class-folder names (or the class map's, in its order). Images are read with Pillow
(.jpg .jpeg .png .bmp .tif .tiff, any case); other files, hidden files, empty files,
images over Pillow's decompression-bomb limit and files Pillow cannot decode are skipped,
counted by reason in ``LoadedData.skipped`` and named (a few per reason, with the size of
an over-large image) in the notes and in ``ganbench data inspect``.

Hidden means a name starting with "." or ``__MACOSX``. Every file the reader would
otherwise meet counts once as a "hidden file": a hidden file in the root, a split folder
or a class folder, and every file at any depth inside a hidden folder there (a
``.ipynb_checkpoints/`` folder with 3 images counts 3, and is named with its count).
Folders the reader does not read at all (unlisted folders beside the split folders,
subfolders of class folders) are counted as folders, not opened.

Preprocessing, per image:

1. first frame; EXIF orientation applied;
2. to 8-bit grey, optional border crop, centre crop to a square and resize, as
   :mod:`ganbench.data.pixels` states. JPEGs are decoded with libjpeg's
   DCT scaling at the smallest scale that keeps the crop at least 4x the target size
   (Pillow's ``draft``), which is 2-3x faster and differs from a full-resolution decode
   by about 0.1 grey levels on average;
4. ``channels=3`` repeats the grey image (MRI is grey).

Results are ``uint8`` tensors ``N x C x H x W``. They are cached as ``.npz`` under
``ganbench.paths.cache_dir("datasets")`` keyed by the fingerprint: sha256 over the
preprocessing version, size, channels, the split rule and every file's relative path,
size and, for image files, the SHA-256 of its bytes (never its timestamp: files changed
in place with their timestamps kept must not return old pixels; see
:mod:`ganbench.data.cache`).
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from copy import copy as cls_copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
import torch
from PIL import Image

from ganbench.api import (
    IMAGE_EXTENSIONS,
    SPLIT_SEED,
    Dataset,
    DatasetLayoutError,
    Detection,
    GanbenchError,
    ImageSplit,
    Inspection,
    LoadedData,
    Progress,
    SilentProgress,
    Skipped as _Skipped,
    cross_split_duplicates,
    decode_image as _decode,
    file_digests,
    hookimpl,
    parse_class_map,
    parse_test_fraction,
    relabel,
    stratified_split,
)
from ganbench.data.cache import cache_file, load_arrays, save_arrays
from ganbench.data.class_warnings import class_count_warnings
from ganbench.data.duplicates import pixel_digest
from ganbench.data.decode import UNREADABLE

#: Bump whenever anything below changes the pixels produced (it is in the fingerprint).
PREPROCESS_VERSION = "image-folder/2: grey-L alpha-over-black hi-bit-by-own-range center-crop lanczos-down bicubic-up jpeg-draft-4x"

TRAIN_NAMES = frozenset({"training", "train"})
TEST_NAMES = frozenset({"testing", "test"})
DEFAULT_FAMILY = "image-folder"

BRAIN_TUMOR_FAMILY = "brain-tumor-classification-mri"
BRAIN_TUMOR_CLASSES = frozenset({"glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor"})

#: Skip reasons, as they appear in ``LoadedData.skipped``.
UNKNOWN_EXTENSION = "unknown extension"
EMPTY_FILE = "empty file"
HIDDEN_FILE = "hidden file"
NOT_IN_CLASS_FOLDER = "file outside a class folder"
NESTED_FOLDER = "subfolder inside a class folder (not read)"
#: Skipped files named per reason in the notes and the inspection (the cache keeps as many).
EXAMPLES_SHOWN = 5

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
    #: reason -> relative paths of the files (or folders, "name/ (n files)") skipped for it.
    examples: dict[str, list[str]] = field(default_factory=dict)
    #: (relative path, size, mtime_ns) of every file looked at, for the fingerprint.
    stats: list[tuple[str, int, int]] = field(default_factory=list)
    split_dirs: tuple[str, ...] = ()
    ignored_dirs: tuple[str, ...] = ()

    def skip(self, reason: str, name: str, files: int = 1) -> None:
        """Count ``files`` skipped for ``reason`` and remember ``name`` as an example."""
        self.skipped[reason] += files
        self.examples.setdefault(reason, []).append(name)


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


@dataclass(frozen=True)
class FolderLayout:
    """How a published dataset lays out its images (the generic reader: any layout)."""

    #: The class folder names its authors publish (compared ignoring case); None: any.
    class_folders: Optional[frozenset[str]] = None
    #: The archive's top folder(s), tried below the given path before the path itself.
    data_dirs: tuple[str, ...] = ()
    #: Folders beside the class folders that hold no labelled images (Br35H's "pred").
    ignore_dirs: frozenset[str] = frozenset()
    #: "A" (own Training/Testing split), "B" (class folders only) or None (either).
    split_layout: Optional[str] = None

    def root(self, path: Path) -> Path:
        for name in self.data_dirs:
            for candidate in (path / name, path / name / name):  # Kaggle zips nest the top folder
                if candidate.is_dir():
                    return candidate
        return path


GENERIC_LAYOUT = FolderLayout()


def _scan(root: Path, layout: FolderLayout = GENERIC_LAYOUT) -> _Scan:
    if not root.exists():
        raise _layout_error(root, "the path does not exist")
    if not root.is_dir():
        raise _layout_error(root, "the path is a file, not a folder")
    top_dirs, top_files = _class_dirs(root)
    ignored = [d for d in top_dirs if d.lower() in layout.ignore_dirs]
    top_dirs = [d for d in top_dirs if d not in ignored]
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
            ignored_dirs=tuple(ignored) + tuple(d for d in top_dirs if d not in (train_dir, test_dir)),
        )
        for name in top_files:  # README, LICENSE, a zip next to the split folders, ...
            scan.skip(NOT_IN_CLASS_FOLDER, name)
            _record_stat(scan, root / name, name)
        _count_hidden(scan, root, "")  # split folders count their own in _scan_split
        for split, name in (("train", train_dir), ("test", test_dir)):
            _scan_split(scan, root / name, name + "/", split)
    else:
        if not top_dirs:
            raise _layout_error(root, "found no class subfolders; " + _describe(root))
        class_names = tuple(sorted(top_dirs))
        scan = _Scan(root, "B", class_names, {"all": []}, ignored_dirs=tuple(ignored))
        _scan_split(scan, root, "", "all")  # counts loose files in ROOT too
    _check_layout(scan, layout)
    return scan


def _check_layout(scan: _Scan, layout: FolderLayout) -> None:
    if layout.split_layout is not None and scan.layout != layout.split_layout:
        wanted = "Training/Testing split folders" if layout.split_layout == "A" else "class folders without split folders"
        raise _layout_error(scan.root, f"this dataset is published with {wanted}, found layout {scan.layout}")
    if layout.class_folders is not None:
        found = {c.lower() for c in scan.class_names}
        if found != layout.class_folders:
            raise _layout_error(
                scan.root,
                f"this dataset has the class folders {sorted(layout.class_folders)}, found {sorted(scan.class_names)}",
            )


def _record_stat(scan: _Scan, path: Path, rel: str) -> Optional[os.stat_result]:
    try:
        st = path.stat()
    except OSError:
        scan.stats.append((rel, -1, -1))
        return None
    scan.stats.append((rel, st.st_size, st.st_mtime_ns))
    return st


def _files_below(folder: Path) -> int:
    """Files at any depth under ``folder`` (symlinked folders are not followed)."""
    return sum(len(files) for _, _, files in os.walk(folder))


def _count_hidden(scan: _Scan, folder: Path, prefix: str) -> None:
    """Count the hidden files and the files inside hidden folders directly in ``folder``
    (a root or split folder; class folders count theirs in :func:`_scan_split`)."""
    for entry in _entries(folder):
        if not _is_hidden(entry.name):
            continue
        if entry.is_dir():
            _skip_hidden_folder(scan, folder / entry.name, prefix + entry.name)
        else:
            scan.skip(HIDDEN_FILE, prefix + entry.name)


def _skip_hidden_folder(scan: _Scan, folder: Path, rel: str) -> None:
    files = _files_below(folder)
    if files:  # an empty hidden folder hides nothing
        scan.skip(HIDDEN_FILE, f"{rel}/ ({files} file{'s' if files != 1 else ''})", files)


def _scan_split(scan: _Scan, folder: Path, prefix: str, split: str) -> None:
    loose = [e.name for e in _entries(folder) if not _is_hidden(e.name) and not e.is_dir()]
    for name in loose:
        scan.skip(NOT_IN_CLASS_FOLDER, prefix + name)
        _record_stat(scan, folder / name, prefix + name)
    _count_hidden(scan, folder, prefix)  # a split folder (layout A) or the root (layout B)
    for label, cls in enumerate(scan.class_names):
        cdir = folder / cls
        entries = _entries(cdir)
        if not entries:
            raise _layout_error(scan.root, f"the class folder {prefix + cls!r} is empty")
        subdirs, found_before = [], len(scan.files[split])
        for entry in entries:
            rel = f"{prefix}{cls}/{entry.name}"
            if entry.is_dir():
                if _is_hidden(entry.name):  # .ipynb_checkpoints/: every file in it counts
                    _skip_hidden_folder(scan, cdir / entry.name, rel)
                else:
                    subdirs.append(entry.name)
                    scan.skip(NESTED_FOLDER, rel + "/")
                continue
            st = _record_stat(scan, cdir / entry.name, rel)
            if _is_hidden(entry.name):
                scan.skip(HIDDEN_FILE, rel)
            elif Path(entry.name).suffix.lower() not in IMAGE_EXTENSIONS:
                scan.skip(UNKNOWN_EXTENSION, rel)
            elif st is None or st.st_size == 0:
                scan.skip(EMPTY_FILE if st is not None else UNREADABLE, rel)
            else:
                scan.files[split].append((rel, label))
        if len(scan.files[split]) == found_before:
            hint = f" (it has subfolders {subdirs[:4]}; point the path at the folder that holds the class folders)" if subdirs else ""
            raise _layout_error(scan.root, f"the class folder {prefix + cls!r} holds no image files{hint}; " + _describe(cdir))


# --------------------------------------------------------------------------- pixels


# --------------------------------------------------------------------------- plugin


DEDUPE_MODES = ("near", "exact", "none")
LEFT_OUT_BY_CLASS_MAP = "class left out by class_map"
LEAKED_TEST = "test image duplicating a training image (dedupe={mode})"


def _flag(value, option: str) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise GanbenchError(f"the option {option} takes true or false, got {value!r}")


def _skipped_text(skipped: Mapping[str, int], examples: Mapping[str, Sequence[str]]) -> str:
    """"2 empty file (a/x.jpg, a/y.jpg), 1 unknown extension (b/notes.txt)" or "none"."""
    parts = []
    for reason, n in sorted(skipped.items()):
        names = list(examples.get(reason, ()))
        more = ", ..." if len(names) >= EXAMPLES_SHOWN and n > len(names) else ""
        parts.append(f"{n} {reason}" + (f" ({', '.join(names)}{more})" if names else ""))
    return ", ".join(parts) or "none"


def _keep_copies_together(items, train_idx: list[int], test_idx: list[int]) -> tuple[list[int], list[int]]:
    """When we split, exact copies (identical pixels) of a training image never land in
    the test split: they join their twin in train, so the split we make is leak-free."""
    in_train = {pixel_digest(items[i][2]) for i in train_idx}
    moved = [i for i in test_idx if pixel_digest(items[i][2]) in in_train]
    if not moved:
        return train_idx, test_idx
    kept_test = [i for i in test_idx if i not in set(moved)]
    return sorted(train_idx + moved), kept_test


@dataclass
class _Decoded:
    """Decoded images per split, in (label, relative path) order, plus what failed."""

    train: tuple[np.ndarray, np.ndarray, list[str]]
    test: tuple[np.ndarray, np.ndarray, list[str]]
    skipped: dict[str, int]
    #: reason -> the first EXAMPLES_SHOWN files skipped for it (the relative path, and a
    #: detail such as an over-large image's size in brackets).
    examples: dict[str, list[str]] = field(default_factory=dict)
    #: Layout B: test images moved to train because they copy a training image.
    moved: int = 0


class ImageFolder(Dataset):
    name = "image-folder"
    needs_path = True
    description = "Any folder of class subfolders of images (Training/Testing split folders or a fixed stratified split)"
    source = "Brain Tumor Classification (MRI), Bhuvaji et al., Kaggle sartajbhuvaji/brain-tumor-classification-mri (layout)"
    obtain = "any folder of class subfolders, e.g. Kaggle sartajbhuvaji/brain-tumor-classification-mri"
    options = {
        "class_map": "merge or drop classes: NEW=OLD[+OLD...],... (classes left out are dropped and counted)",
        "test_fraction": "held-out share per class when the data has no split folders: 0.2 (default), 80/20 or 70/30",
        "crop_border": "crop the dark margin around the head before resizing (IJACSA 2024): true or false (default)",
        "dedupe": "drop test images with an exact or near twin in the training split: none (default: reported only), exact, near",
    }

    def __init__(
        self,
        family: str = DEFAULT_FAMILY,
        test_fraction=0.2,
        workers: Optional[int] = None,
        use_cache: bool = True,
        layout: FolderLayout = GENERIC_LAYOUT,
        class_map: Optional[str] = None,
        crop_border: bool = False,
        dedupe: str = "none",
    ):
        self.family = family
        self.test_fraction = parse_test_fraction(test_fraction)
        self.workers = workers if workers is not None else max(1, min(4, os.cpu_count() or 1))
        self.use_cache = use_cache
        self.layout = layout
        self.class_map = parse_class_map(class_map) if class_map else None
        self.crop_border = bool(crop_border)
        if dedupe not in DEDUPE_MODES:
            raise GanbenchError(f"dedupe must be one of {', '.join(DEDUPE_MODES)}, got {dedupe!r}")
        self.dedupe = dedupe

    # ------------------------------------------------------------------ public

    def _configured(self, options: dict[str, str]) -> "ImageFolder":
        copy = cls_copy(self)
        if "test_fraction" in options:
            copy.test_fraction = parse_test_fraction(options["test_fraction"])
        if "class_map" in options:
            copy.class_map = parse_class_map(options["class_map"])
        if "crop_border" in options:
            copy.crop_border = _flag(options["crop_border"], "crop_border")
        if "dedupe" in options:
            if options["dedupe"] not in DEDUPE_MODES:
                raise GanbenchError(f"dedupe must be one of {', '.join(DEDUPE_MODES)}, got {options['dedupe']!r}")
            copy.dedupe = options["dedupe"]
        return copy

    def detect(self, path: Path) -> Detection:
        generic = self.layout == GENERIC_LAYOUT
        try:
            scan = _scan(self.layout.root(Path(path)), self.layout)
        except DatasetLayoutError as exc:
            return Detection(False, str(exc).split(".\n")[0].split(": ", 1)[-1], specific=not generic)
        found = "own Training/Testing split" if scan.layout == "A" else "class folders"
        return Detection(True, f"{found} with classes {', '.join(scan.class_names)}", specific=not generic)

    def _root(self, path: Optional[Path]) -> Path:
        if path is None:
            raise DatasetLayoutError(
                f"the {self.name} dataset needs a path (--data PATH) to {self.obtain}.\n{EXPECTED_LAYOUT}"
            )
        return self.layout.root(Path(path).expanduser())

    def load(
        self,
        path: Optional[Path],
        image_size: int,
        channels: int,
        progress: Progress = SilentProgress(),
    ) -> LoadedData:
        root = self._root(path)
        if channels not in (1, 3):
            raise GanbenchError(f"{self.name} makes grey (1) or RGB (3) channel images, not {channels}")
        if not isinstance(image_size, int) or image_size < 1:
            raise GanbenchError(f"{self.name} needs a positive integer image size, got {image_size!r}")
        scan = _scan(root, self.layout)
        fingerprint = self._fingerprint(scan, image_size, channels)

        cached = cache_file("image-folder", fingerprint) if self.use_cache else None
        decoded = self._read_cache(cached, fingerprint, scan.class_names) if cached else None
        if decoded is not None:
            progress.log(f"{self.name}: {root} read from cache {cached}")
        else:
            decoded = self._build(scan, image_size, progress)
            if cached is not None:
                self._write_cache(cached, fingerprint, scan.class_names, decoded, progress)
        (train_x, train_y, train_files), (test_x, test_y, test_files) = decoded.train, decoded.test
        train_files, test_files = np.array(train_files, dtype=object), np.array(test_files, dtype=object)
        skipped = Counter(decoded.skipped)

        class_names = scan.class_names
        if self.class_map is not None:
            (train_y, class_names), (test_y, _) = (relabel(y, scan.class_names, self.class_map) for y in (train_y, test_y))
            skipped[LEFT_OUT_BY_CLASS_MAP] += int((train_y < 0).sum() + (test_y < 0).sum())
            kept_train, kept_test = train_y >= 0, test_y >= 0
            train_x, train_y, train_files = train_x[kept_train], train_y[kept_train], train_files[kept_train]
            test_x, test_y, test_files = test_x[kept_test], test_y[kept_test], test_files[kept_test]
            if not skipped[LEFT_OUT_BY_CLASS_MAP]:
                del skipped[LEFT_OUT_BY_CLASS_MAP]

        report = cross_split_duplicates(train_x, test_x)
        leaked = {"none": set(), "exact": {t for _, t in report.exact}, "near": report.leaked_test}[self.dedupe]
        if leaked:
            keep = np.array([j not in leaked for j in range(len(test_x))], dtype=bool)
            test_x, test_y, test_files = test_x[keep], test_y[keep], test_files[keep]
            skipped[LEAKED_TEST.format(mode=self.dedupe)] += len(leaked)
            for label, cls in enumerate(class_names):
                if not (test_y == label).any():
                    raise DatasetLayoutError(
                        f"after dropping {len(leaked)} test images that duplicate training images (dedupe={self.dedupe}), "
                        f"the class {cls!r} has no test images left; set --data-option dedupe=none to keep them"
                    )

        def split(x: np.ndarray, y: np.ndarray) -> ImageSplit:
            images = torch.from_numpy(np.ascontiguousarray(x)).unsqueeze(1)
            if channels == 3:
                images = images.expand(-1, 3, -1, -1).contiguous()
            return ImageSplit(images, torch.from_numpy(y.astype(np.int64)))

        train, test = split(train_x, train_y), split(test_x, test_y)
        family = self.family
        if family == DEFAULT_FAMILY:
            family = detect_family(root, scan.class_names) or DEFAULT_FAMILY
        skipped_text = _skipped_text(skipped, decoded.examples)
        classes_text = f"{len(class_names)} classes" + (f" (class map {self._class_map_text()})" if self.class_map else "")
        notes = (
            f"read from {root.resolve()} ({self._layout_text(scan)}); {len(train)} train / {len(test)} test images "
            f"in {classes_text}; {'border-cropped, ' if self.crop_border else ''}centre-cropped and resized to "
            f"{image_size}x{image_size}, {'grey' if channels == 1 else 'grey repeated to RGB'}; "
            f"duplicates: {report.summary()}"
            + (f" ({decoded.moved} exact copies of training images were kept out of the test split)" if decoded.moved else "")
            + f"; skipped: {skipped_text}"
            + "".join(f"; warning: {w}" for w in class_count_warnings(self.name, class_names))
        )
        return LoadedData(
            name=self.name,
            class_names=class_names,
            train=train,
            test=test,
            fingerprint=fingerprint,
            family=family,
            synthetic=False,
            skipped=dict(sorted(skipped.items())),
            notes=notes,
            leakage=report.summary() + (f"; dropped from the test split (dedupe={self.dedupe})" if leaked else ""),
            sources={"train": list(train_files), "test": list(test_files)},
        )

    def inspect(self, path: Optional[Path], progress: Progress = SilentProgress()) -> Inspection:
        """Decodes every file afresh (no cache: inspection is a check of the files)."""
        root = self._root(path)
        scan = _scan(root, self.layout)
        sizes, modes = Counter(), Counter()
        rels = [rel for items in scan.files.values() for rel, _ in items]
        for rel in progress.track(rels, total=len(rels), description="reading headers"):
            try:
                with Image.open(root / rel) as im:
                    sizes[f"{im.size[0]}x{im.size[1]}"] += 1
                    modes[im.mode] += 1
            except Exception:
                pass  # counted as unreadable by the decode below
        decoded = self._build(scan, 64, progress)
        (train_x, train_y, train_files), (test_x, test_y, test_files) = decoded.train, decoded.test
        report = cross_split_duplicates(train_x, test_x)
        split_names = ("train", "test")
        counts = {
            name: {cls: int((y == label).sum()) for label, cls in enumerate(scan.class_names)}
            for name, y in zip(split_names, (train_y, test_y))
        }
        examples = [(train_files[i], test_files[j], "exact") for i, j in report.exact[:5]]
        examples += [(train_files[i], test_files[j], f"near, {d} bits") for i, j, d in report.near[:5]]
        within = len(train_x) - len({pixel_digest(x) for x in train_x})
        notes = [f"{within} training images are exact copies of other training images"] if within else []
        if scan.ignored_dirs:
            notes.append(f"folders not read: {', '.join(scan.ignored_dirs)}")
        if self.layout.split_layout is None and scan.layout == "B":
            notes.append(f"no split folders: counts show the fixed split ({self.test_fraction:g} held out per class, seed {SPLIT_SEED})")
        return Inspection(
            dataset=self.name,
            root=str(root.resolve()),
            layout=self._layout_text(scan),
            class_names=scan.class_names,
            counts=counts,
            sizes=sizes,
            modes=modes,
            skipped=dict(sorted(decoded.skipped.items())),
            skipped_examples=dict(decoded.examples),
            duplicates=report.summary(),
            duplicate_examples=examples,
            notes=notes,
        )

    # ------------------------------------------------------------------ internals

    def _class_map_text(self) -> str:
        return ",".join(f"{new}={'+'.join(olds)}" for new, olds in (self.class_map or {}).items())

    def _layout_text(self, scan: _Scan) -> str:
        if scan.layout == "A":
            text = f"layout A: the dataset's own split folders {scan.split_dirs[0]!r} / {scan.split_dirs[1]!r}"
        else:
            text = (
                f"layout B: class folders split here, {self.test_fraction:g} of each class held out "
                f"for testing (fixed split seed {SPLIT_SEED})"
            )
        if scan.ignored_dirs:
            text += f" (other folders ignored: {', '.join(scan.ignored_dirs)})"
        return text

    def _fingerprint(self, scan: _Scan, image_size: int, channels: int) -> str:
        h = hashlib.sha256()
        split_rule = "own-split" if scan.layout == "A" else f"stratified test_fraction={self.test_fraction!r} seed={SPLIT_SEED}"
        header = [
            PREPROCESS_VERSION, f"size={image_size}", f"channels={channels}", f"layout={scan.layout}", split_rule,
            f"crop_border={self.crop_border}", f"class_map={self._class_map_text()}", f"dedupe={self.dedupe}",
        ]
        h.update("\n".join(header).encode() + b"\n")
        # Contents, not timestamps (ganbench.data.cache); files that are never decoded
        # count by name and size only.
        candidates = {rel for items in scan.files.values() for rel, _ in items}
        stats = sorted(scan.stats)
        digests = iter(file_digests([scan.root / rel for rel, _, _ in stats if rel in candidates]))
        for rel, size, _ in stats:
            content = next(digests) if rel in candidates else "-"
            h.update(f"{rel}\0{size}\0{content}\n".encode("utf-8", "surrogateescape"))
        return h.hexdigest()[:16]

    def _build(self, scan: _Scan, image_size: int, progress: Progress) -> _Decoded:
        jobs = [(split, rel, label) for split, items in scan.files.items() for rel, label in items]
        paths = [scan.root / rel for _, rel, _ in jobs]
        crop = self.crop_border

        def work(p: Path):
            return _decode(p, image_size, crop)

        if self.workers > 1 and len(paths) > 1:
            with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="image-folder") as pool:
                results = list(progress.track(pool.map(work, paths), total=len(paths), description="decoding images"))
        else:
            results = list(progress.track(map(work, paths), total=len(paths), description="decoding images"))

        skipped = Counter(scan.skipped)
        examples = {reason: list(names) for reason, names in scan.examples.items()}
        good: dict[str, list[tuple[str, int, np.ndarray]]] = {s: [] for s in scan.files}
        for (split, rel, label), result in zip(jobs, results):
            if isinstance(result, _Skipped):
                skipped[result.reason] += 1
                examples.setdefault(result.reason, []).append(result.example(rel))
            else:
                good[split].append((rel, label, result))

        if scan.layout == "A":
            train, test = good["train"], good["test"]
            for items, folder in ((train, scan.split_dirs[0]), (test, scan.split_dirs[1])):
                self._check_classes(scan, items, f"{folder}/", skipped)
        else:
            items = good["all"]
            self._check_classes(scan, items, "", skipped)
            train_idx, test_idx = stratified_split([it[0] for it in items], [it[1] for it in items], self.test_fraction, scan.class_names)
            n_test = len(test_idx)
            train_idx, test_idx = _keep_copies_together(items, train_idx, test_idx)
            moved = n_test - len(test_idx)
            train, test = [items[i] for i in train_idx], [items[i] for i in test_idx]

        def stack(items):
            items = sorted(items, key=lambda it: (it[1], it[0]))
            if not items:
                return np.zeros((0, image_size, image_size), np.uint8), np.zeros((0,), np.int64), []
            return np.stack([a for _, _, a in items]), np.array([lbl for _, lbl, _ in items], np.int64), [r for r, _, _ in items]

        examples = {reason: names[:EXAMPLES_SHOWN] for reason, names in sorted(examples.items())}
        return _Decoded(stack(train), stack(test), dict(skipped), examples, moved if scan.layout == "B" else 0)

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

    @staticmethod
    def _read_cache(path: Path, fingerprint: str, class_names: tuple[str, ...]) -> Optional[_Decoded]:
        z = load_arrays(path, fingerprint)
        try:
            if z is None or tuple(str(c) for c in z["class_names"]) != class_names:
                return None
            train = (z["train_images"], z["train_labels"], [str(f) for f in z["train_files"]])
            test = (z["test_images"], z["test_labels"], [str(f) for f in z["test_files"]])
            skipped = {str(r): int(n) for r, n in zip(z["skipped_reasons"], z["skipped_counts"])}
            examples: dict[str, list[str]] = {}
            for reason, name in zip(z["skipped_example_reasons"], z["skipped_example_files"]):
                examples.setdefault(str(reason), []).append(str(name))
            moved = int(z["moved"])
        except KeyError:  # written by another version: rebuild
            return None
        if any(x.dtype != np.uint8 or x.ndim != 3 for x in (train[0], test[0])):
            return None
        return _Decoded(train, test, skipped, examples, moved=moved)

    @staticmethod
    def _write_cache(path: Path, fingerprint: str, class_names, decoded: _Decoded, progress: Progress) -> None:
        reasons = sorted(decoded.skipped)
        save_arrays(path, fingerprint, {
            "class_names": np.array(class_names, dtype=str),
            "train_images": decoded.train[0],
            "train_labels": decoded.train[1],
            "train_files": np.array(decoded.train[2], dtype=str).reshape(-1),
            "test_images": decoded.test[0],
            "test_labels": decoded.test[1],
            "test_files": np.array(decoded.test[2], dtype=str).reshape(-1),
            "skipped_reasons": np.array(reasons, dtype=str).reshape(-1),
            "skipped_counts": np.array([decoded.skipped[r] for r in reasons], dtype=np.int64),
            "skipped_example_reasons": np.array([r for r in reasons for _ in decoded.examples.get(r, ())], dtype=str).reshape(-1),
            "skipped_example_files": np.array([f for r in reasons for f in decoded.examples.get(r, ())], dtype=str).reshape(-1),
            "moved": np.array(decoded.moved),
        }, progress)


@hookimpl
def register_datasets(register):
    register(ImageFolder())
