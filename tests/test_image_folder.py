"""The ``image-folder`` dataset plugin: layouts, decoding, skipping, split, cache."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganbench.errors import DatasetLayoutError
from ganbench.specs import Dataset, LoadedData, Progress, SilentProgress
from ganbench.data import cache as data_cache
from ganbench_plugins.datasets import image_folder
from ganbench_plugins.datasets.image_folder import (
    BRAIN_TUMOR_CLASSES,
    BRAIN_TUMOR_FAMILY,
    ImageFolder,
    detect_family,
    register_datasets,
)

SILENT = SilentProgress()


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Every test gets its own ganbench cache folder."""
    cache = tmp_path / "ganbench-cache"
    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(cache))
    return cache


def cache_files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "ganbench-cache" / "datasets"
    return sorted(folder.glob("*.npz")) if folder.is_dir() else []


# --------------------------------------------------------------------------- helpers


def grey(value: int, size=(40, 40)) -> Image.Image:
    return Image.new("L", size, value)


def save(img: Image.Image, path: Path, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, **kwargs)
    return path


def make_flat(folder: Path, counts: dict[str, int], size=(24, 24)) -> None:
    """Class folders of PNGs whose constant value encodes (class, index)."""
    for c, (cls, n) in enumerate(sorted(counts.items())):
        for i in range(n):
            save(grey(10 + 60 * c + i, size), folder / cls / f"img ({i}).png")


class Recording(Progress):
    def __init__(self):
        self.seen: list[tuple[int, str]] = []
        self.messages: list[str] = []

    def track(self, iterable, total=None, description=""):
        count = 0
        for item in iterable:
            count += 1
            yield item
        self.seen.append((count, description))

    def log(self, message):
        self.messages.append(message)


@pytest.fixture
def mixed_tree(tmp_path) -> Path:
    """Layout A with every awkward file there is, in class folders with spaces and ()."""
    root = tmp_path / "mri set (v2)"
    for split, n in (("Training", 3), ("Testing", 2)):
        for cls in ("class a (1)", "class b"):
            d = root / split / cls
            for i in range(n):
                save(Image.new("RGB", (50, 50), (120, 120, 120)), d / f"scan ({i}).jpg", quality=95)
    tr_a, tr_b = root / "Training" / "class a (1)", root / "Training" / "class b"
    # RGBA PNG, 16-bit PNG, palette PNG, BMP, TIFF, odd sizes, non-square.
    save(Image.new("RGBA", (30, 30), (255, 255, 255, 255)), tr_a / "rgba image.png")
    save(Image.fromarray(np.full((33, 33), 4000, np.uint16)), tr_a / "deep (16 bit).PNG")
    pal = Image.new("P", (20, 20), 0)
    pal.putpalette([0, 0, 0, 200, 200, 200] + [0] * 762)
    pal.paste(1, (0, 0, 20, 20))
    save(pal, tr_b / "palette.png")
    save(Image.new("RGB", (17, 17), (60, 60, 60)), tr_b / "small.bmp")
    save(grey(90, (70, 45)), tr_b / "wide.TIF")
    save(grey(30, (45, 70)), tr_b / "tall.JPEG")
    # Skipped: a truncated JPEG, a zero-byte file, a text file, a hidden file.
    good = (tr_a / "scan (0).jpg").read_bytes()
    (tr_a / "broken (1).jpg").write_bytes(good[: len(good) // 3])
    (tr_b / "empty.jpg").write_bytes(b"")
    (tr_b / "notes.txt").write_text("not an image")
    (tr_b / ".DS_Store").write_bytes(b"\0\0")
    return root


# --------------------------------------------------------------------------- plugin


def test_plugin_attributes_and_registration():
    registered = []
    register_datasets(registered.append)
    assert len(registered) == 1
    ds = registered[0]
    assert isinstance(ds, ImageFolder) and isinstance(ds, Dataset)
    assert ds.name == "image-folder"
    assert ds.needs_path is True
    assert ds.description and "\n" not in ds.description
    assert ds.source
    assert "sartajbhuvaji/brain-tumor-classification-mri" in ds.obtain
    assert ds.family == "image-folder"


# --------------------------------------------------------------------------- layout A


def test_layout_a_mixed_files(mixed_tree):
    progress = Recording()
    data = ImageFolder().load(mixed_tree, 16, 1, progress)
    assert isinstance(data, LoadedData)
    assert data.name == "image-folder"
    assert data.class_names == ("class a (1)", "class b")
    assert data.synthetic is False
    # class a: 3 jpg + rgba + 16-bit (broken skipped); class b: 3 jpg + 4 others.
    assert Counter(data.train.labels.tolist()) == {0: 5, 1: 7}
    assert Counter(data.test.labels.tolist()) == {0: 2, 1: 2}
    assert dict(data.skipped) == {"unreadable image": 1, "empty file": 1, "unknown extension": 1, "hidden file": 1}
    for split in (data.train, data.test):
        assert split.images.dtype == torch.uint8
        assert tuple(split.images.shape[1:]) == (1, 16, 16)
    assert data.image_spec.size == 16 and data.image_spec.num_classes == 2
    assert len(data.fingerprint) == 16 and int(data.fingerprint, 16) >= 0
    assert str(mixed_tree.resolve()) in data.notes and "layout A" in data.notes
    assert progress.seen and progress.seen[0][0] == 13 + 4  # every candidate decoded once, empty files never
    assert data.family == "image-folder"


@pytest.mark.parametrize("names", [("train", "test"), ("TRAINING", "testing"), ("Train", "Test")])
def test_layout_a_split_folder_names(tmp_path, names):
    root = tmp_path / "data"
    make_flat(root / names[0], {"x": 3, "y": 2})
    make_flat(root / names[1], {"x": 1, "y": 1})
    data = ImageFolder().load(root, 8, 1, SILENT)
    assert len(data.train) == 5 and len(data.test) == 2
    assert data.class_names == ("x", "y")


def test_layout_a_uses_split_as_given(tmp_path):
    root = tmp_path / "data"
    make_flat(root / "Training", {"x": 4})
    make_flat(root / "Testing", {"x": 2})
    (root / "README.md").write_text("hello")
    data = ImageFolder().load(root, 8, 1, SILENT)
    assert len(data.train) == 4 and len(data.test) == 2
    assert data.skipped == {"file outside a class folder": 1}


# --------------------------------------------------------------------------- layout B


def test_layout_b_stratified_deterministic_split(tmp_path):
    root = tmp_path / "flat"
    make_flat(root, {"alpha": 10, "beta": 5, "gamma (x)": 7})
    first = ImageFolder(use_cache=False).load(root, 8, 1, SILENT)
    torch.manual_seed(1234)
    np.random.seed(99)  # the run seed never moves the split
    second = ImageFolder(use_cache=False).load(root, 8, 1, SILENT)
    assert torch.equal(first.train.images, second.train.images)
    assert torch.equal(first.test.images, second.test.images)
    assert torch.equal(first.train.labels, second.train.labels)
    assert first.fingerprint == second.fingerprint
    # round(0.2 * n) per class: 10 -> 2, 5 -> 1, 7 -> 1
    assert Counter(first.test.labels.tolist()) == {0: 2, 1: 1, 2: 1}
    assert Counter(first.train.labels.tolist()) == {0: 8, 1: 4, 2: 6}
    # Every image is in exactly one split (values encode the file).
    values = lambda s: [int(v) for v in s.images[:, 0, 4, 4]]  # noqa: E731
    assert sorted(values(first.train) + values(first.test)) == sorted(10 + 60 * c + i for c, n in enumerate((10, 5, 7)) for i in range(n))
    assert "layout B" in first.notes


def test_layout_b_split_follows_fixed_seed(tmp_path):
    """The held-out files are those that default_rng(0) picks from the sorted list."""
    root = tmp_path / "flat"
    make_flat(root, {"a": 10})
    make_flat(tmp_path / "other", {"b": 10})  # keep the class count irrelevant
    data = ImageFolder(use_cache=False).load(root, 8, 1, SILENT)
    names = sorted(f"a/img ({i}).png" for i in range(10))
    picked = sorted(names[i] for i in np.random.default_rng(0).permutation(10)[:2])
    expected = sorted(10 + int(n.split("(")[1].split(")")[0]) for n in picked)
    assert sorted(int(v) for v in data.test.images[:, 0, 4, 4]) == expected


def test_layout_b_test_fraction(tmp_path):
    root = tmp_path / "flat"
    make_flat(root, {"a": 10, "b": 10})
    data = ImageFolder(test_fraction=0.5, use_cache=False).load(root, 8, 1, SILENT)
    assert len(data.test) == 10 and len(data.train) == 10
    other = ImageFolder(test_fraction=0.2, use_cache=False).load(root, 8, 1, SILENT)
    assert other.fingerprint != data.fingerprint


def test_layout_b_needs_two_images_per_class(tmp_path):
    root = tmp_path / "flat"
    make_flat(root, {"a": 5, "b": 1})
    with pytest.raises(DatasetLayoutError, match="'b'.*at least 2"):
        ImageFolder().load(root, 8, 1, SILENT)


# --------------------------------------------------------------------------- pixels


def test_values_and_modes(tmp_path):
    root = tmp_path / "modes"
    d = root / "only"
    save(Image.new("RGB", (32, 32), (200, 200, 200)), d / "a rgb.png")
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[:, 16:, 3] = 255  # left half transparent -> black
    save(Image.fromarray(rgba, "RGBA"), d / "b rgba.png")
    deep = np.full((32, 32), 1000, np.uint16)
    deep[:, :16] = 500  # scaled by its own max: 500 -> 128, 1000 -> 255 (not clipped)
    save(Image.fromarray(deep), d / "c deep.png")
    pal = Image.new("P", (32, 32), 0)
    pal.putpalette([10, 10, 10, 90, 90, 90] + [0] * 762)
    pal.paste(1, (0, 0, 32, 32))
    save(pal, d / "d palette.png")
    wide = np.full((32, 48), 255, np.uint8)
    wide[:, 8:40] = 0  # only the centre square survives the crop
    save(Image.fromarray(wide), d / "e wide.png")
    save(Image.fromarray(np.full((32, 32), -3.0, np.float32) + np.eye(32, dtype=np.float32) * 4.0), d / "f float.tif")
    save(Image.fromarray(np.full((32, 32), 77, np.uint8)).convert("LA"), d / "g la.png")
    save(Image.new("1", (32, 32), 1), d / "h bilevel.png")
    save(Image.new("RGB", (32, 32), (50, 50, 50)), d / "i photo.jpg", quality=100)

    # Layout B needs test images; take the test fraction as close to 0 as allowed.
    data = ImageFolder(test_fraction=0.01, use_cache=False).load(root, 32, 1, SILENT)
    assert len(data.train) + len(data.test) == 9 and not data.skipped
    # Recover the files in name order from both splits.
    from ganbench_plugins.datasets.image_folder import _decode

    imgs = {p.name: _decode(p, 32) for p in sorted(d.iterdir())}
    assert np.all(imgs["a rgb.png"] == 200)
    assert np.all(imgs["b rgba.png"][:, :16] == 0) and np.all(imgs["b rgba.png"][:, 16:] == 255)
    assert np.all(imgs["c deep.png"][:, :16] == 128) and np.all(imgs["c deep.png"][:, 16:] == 255)
    assert np.all(imgs["d palette.png"] == 90)
    assert np.all(imgs["e wide.png"] == 0)
    f = imgs["f float.tif"]  # -3 -> 0, +1 on the diagonal -> 255
    assert f[0, 0] == 255 and f[0, 1] == 0
    assert np.all(imgs["g la.png"] == 77)
    assert np.all(imgs["h bilevel.png"] == 255)
    assert np.all(np.abs(imgs["i photo.jpg"].astype(int) - 50) <= 2)
    # The loaded tensors hold exactly those arrays.
    loaded = torch.cat([data.train.images, data.test.images])[:, 0].numpy()
    assert sorted(a.tobytes() for a in loaded) == sorted(a.tobytes() for a in imgs.values())


def test_resize_mixed_sizes_and_non_square(tmp_path):
    root = tmp_path / "sizes"
    save(grey(100, (512, 512)), root / "a" / "big.png")
    save(grey(100, (20, 20)), root / "a" / "tiny.png")
    tall = np.zeros((300, 100), np.uint8)
    tall[100:200] = 180  # centre crop of a tall image keeps the middle rows
    save(Image.fromarray(tall), root / "a" / "tall (1).png")
    save(grey(5, (64, 128)), root / "b" / "wide.png")
    save(grey(5, (64, 64)), root / "b" / "square.png")
    data = ImageFolder(use_cache=False).load(root, 16, 1, SILENT)
    images = torch.cat([data.train.images, data.test.images])
    assert images.shape == (5, 1, 16, 16)
    values = sorted(int(v) for v in images.reshape(5, -1).float().mean(1).round())
    assert values == [5, 5, 100, 100, 180]


def test_channels_three_repeats_grey(tmp_path):
    root = tmp_path / "flat"
    make_flat(root, {"a": 4, "b": 4})
    save(Image.new("RGB", (30, 30), (255, 0, 0)), root / "a" / "red.png")
    g = ImageFolder().load(root, 12, 1, SILENT)
    c = ImageFolder().load(root, 12, 3, SILENT)
    assert c.train.images.shape[1] == 3 and c.image_spec.channels == 3
    assert c.train.images.is_contiguous()
    for ch in range(3):
        assert torch.equal(c.train.images[:, ch], g.train.images[:, 0])
        assert torch.equal(c.test.images[:, ch], g.test.images[:, 0])
    assert g.fingerprint != c.fingerprint


def test_parallel_and_serial_decoding_agree(mixed_tree):
    serial = ImageFolder(workers=1, use_cache=False).load(mixed_tree, 16, 1, SILENT)
    parallel = ImageFolder(workers=3, use_cache=False).load(mixed_tree, 16, 1, SILENT)
    assert torch.equal(serial.train.images, parallel.train.images)
    assert torch.equal(serial.test.labels, parallel.test.labels)
    assert serial.skipped == parallel.skipped


def test_bad_arguments(tmp_path):
    root = tmp_path / "flat"
    make_flat(root, {"a": 4})
    with pytest.raises(Exception, match="channel"):
        ImageFolder().load(root, 8, 2, SILENT)
    with pytest.raises(DatasetLayoutError, match="between 0 and 1"):
        ImageFolder(test_fraction=1.0)


# --------------------------------------------------------------------------- cache


def test_cache_hit_returns_identical_tensors(mixed_tree, tmp_path, monkeypatch):
    first = ImageFolder().load(mixed_tree, 16, 1, SILENT)
    files = cache_files(tmp_path)
    assert [f.name for f in files] == [f"image-folder-{first.fingerprint}.npz"]
    assert not list(files[0].parent.glob("*.tmp"))

    def no_decoding(*args, **kwargs):
        raise AssertionError("a cache hit must not decode images")

    monkeypatch.setattr(image_folder, "_decode", no_decoding)
    progress = Recording()
    second = ImageFolder().load(mixed_tree, 16, 1, progress)
    assert any("cache" in m for m in progress.messages)
    for a, b in ((first.train, second.train), (first.test, second.test)):
        assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
        assert b.labels.dtype == torch.int64
    assert second.skipped == first.skipped
    assert second.fingerprint == first.fingerprint and second.class_names == first.class_names
    # RGB from the same cache entry is keyed separately (channels are in the fingerprint).
    monkeypatch.undo()
    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(tmp_path / "ganbench-cache"))
    ImageFolder().load(mixed_tree, 16, 3, SILENT)
    assert len(cache_files(tmp_path)) == 2


def test_changed_file_changes_fingerprint(tmp_path):
    root = tmp_path / "flat"
    make_flat(root, {"a": 4, "b": 4})
    before = ImageFolder().load(root, 8, 1, SILENT)
    target = root / "a" / "img (0).png"
    save(grey(250, (24, 24)), target)
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    after = ImageFolder().load(root, 8, 1, SILENT)
    assert after.fingerprint != before.fingerprint
    assert 250 in torch.cat([after.train.images, after.test.images])[:, 0, 0, 0].tolist()
    assert ImageFolder().load(root, 9, 1, SILENT).fingerprint != after.fingerprint


def test_fingerprint_independent_of_location(tmp_path):
    root = tmp_path / "flat"
    make_flat(root, {"a": 4, "b": 4})
    copy = shutil.copytree(root, tmp_path / "elsewhere" / "copy", copy_function=shutil.copy2)
    assert ImageFolder().load(root, 8, 1, SILENT).fingerprint == ImageFolder().load(copy, 8, 1, SILENT).fingerprint


def test_corrupt_cache_is_rebuilt(tmp_path):
    root = tmp_path / "flat"
    make_flat(root, {"a": 4, "b": 4})
    first = ImageFolder().load(root, 8, 1, SILENT)
    (cache,) = cache_files(tmp_path)
    cache.write_bytes(b"garbage")
    second = ImageFolder().load(root, 8, 1, SILENT)
    assert torch.equal(first.train.images, second.train.images)
    assert cache.stat().st_size > 100


def test_unwritable_cache_does_not_fail(tmp_path, monkeypatch):
    root = tmp_path / "flat"
    make_flat(root, {"a": 4, "b": 4})

    def refuse(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("tempfile.mkstemp", refuse)  # what every cache write starts with
    progress = Recording()
    data = ImageFolder().load(root, 8, 1, progress)
    assert len(data.train) == 6
    assert any("could not write the cache" in m for m in progress.messages)


# --------------------------------------------------------------------------- errors


def test_missing_path(tmp_path):
    with pytest.raises(DatasetLayoutError, match="does not exist") as info:
        ImageFolder().load(tmp_path / "nope", 8, 1, SILENT)
    assert "ROOT/Training/<class>/<image>" in str(info.value)
    assert "ROOT/<class>/<image>" in str(info.value)


def test_no_path():
    with pytest.raises(DatasetLayoutError, match="--data"):
        ImageFolder().load(None, 8, 1, SILENT)


def test_file_instead_of_folder(tmp_path):
    f = save(grey(1), tmp_path / "one.png")
    with pytest.raises(DatasetLayoutError, match="is a file"):
        ImageFolder().load(f, 8, 1, SILENT)


def test_folder_without_class_subfolders(tmp_path):
    root = tmp_path / "loose"
    save(grey(1), root / "a.png")
    save(grey(2), root / "b.png")
    with pytest.raises(DatasetLayoutError, match="no class subfolders") as info:
        ImageFolder().load(root, 8, 1, SILENT)
    assert "'a.png'" in str(info.value) and "2 file(s)" in str(info.value)


def test_empty_class_folder(tmp_path):
    root = tmp_path / "flat"
    make_flat(root, {"a": 4})
    (root / "b").mkdir()
    with pytest.raises(DatasetLayoutError, match="'b' is empty"):
        ImageFolder().load(root, 8, 1, SILENT)


def test_empty_class_folder_in_testing(tmp_path):
    root = tmp_path / "data"
    make_flat(root / "Training", {"a": 2, "b": 2})
    make_flat(root / "Testing", {"a": 2})
    (root / "Testing" / "b").mkdir()
    with pytest.raises(DatasetLayoutError, match="'Testing/b' is empty"):
        ImageFolder().load(root, 8, 1, SILENT)


def test_class_folder_of_unreadable_images(tmp_path):
    root = tmp_path / "flat"
    make_flat(root, {"a": 4})
    (root / "b").mkdir()
    (root / "b" / "x.jpg").write_bytes(b"not a jpeg at all")
    with pytest.raises(DatasetLayoutError, match="'b' has no readable images.*unreadable image"):
        ImageFolder().load(root, 8, 1, SILENT)


def test_class_folder_without_images_hints_at_nesting(tmp_path):
    outer = tmp_path / "outer"
    make_flat(outer / "dataset" / "Training", {"a": 2})
    make_flat(outer / "dataset" / "Testing", {"a": 2})
    with pytest.raises(DatasetLayoutError, match="holds no image files.*subfolders"):
        ImageFolder().load(outer, 8, 1, SILENT)


def test_mismatched_class_sets(tmp_path):
    root = tmp_path / "data"
    make_flat(root / "Training", {"a": 2, "b": 2, "c": 2})
    make_flat(root / "Testing", {"a": 2, "b": 2, "d": 2})
    with pytest.raises(DatasetLayoutError) as info:
        ImageFolder().load(root, 8, 1, SILENT)
    message = str(info.value)
    assert "only in 'Training': ['c']" in message and "only in 'Testing': ['d']" in message


def test_training_without_testing(tmp_path):
    root = tmp_path / "data"
    make_flat(root / "Training", {"a": 2})
    make_flat(root / "other", {"a": 2})
    with pytest.raises(DatasetLayoutError, match="testing folders \\[\\]"):
        ImageFolder().load(root, 8, 1, SILENT)


# --------------------------------------------------------------------------- family


def test_detect_family():
    assert detect_family(Path("/x/brain-tumor-classification-mri"), ["a", "b"]) == BRAIN_TUMOR_FAMILY
    assert detect_family(Path("/x/mine"), sorted(BRAIN_TUMOR_CLASSES)) == BRAIN_TUMOR_FAMILY
    assert detect_family(Path("/x/mine"), sorted(BRAIN_TUMOR_CLASSES)[:3]) is None
    assert detect_family(Path("/x/mine"), ["glioma", "meningioma", "notumor", "pituitary"]) is None


def test_family_from_class_names_and_explicit_family(tmp_path):
    root = tmp_path / "subset"
    make_flat(root, {c: 3 for c in BRAIN_TUMOR_CLASSES})
    assert ImageFolder().load(root, 8, 1, SILENT).family == BRAIN_TUMOR_FAMILY
    assert ImageFolder(family="my-scans").load(root, 8, 1, SILENT).family == "my-scans"
    other = tmp_path / "other"
    make_flat(other, {"a": 3, "b": 3})
    assert ImageFolder().load(other, 8, 1, SILENT).family == "image-folder"


# --------------------------------------------------------------------------- real data


@pytest.mark.shared_data
def test_real_brain_tumor_dataset(shared_brain_mri):
    data = ImageFolder().load(shared_brain_mri, 32, 1, SILENT)
    assert data.class_names == ("glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor")
    assert data.family == BRAIN_TUMOR_FAMILY
    skipped = sum(data.skipped.values())
    assert len(data.train) <= 2870 and len(data.test) <= 394
    assert len(data.train) + len(data.test) + skipped == 2870 + 394, data.skipped
    if not skipped:
        assert len(data.train) == 2870 and len(data.test) == 394
    assert data.train.images.shape[1:] == (1, 32, 32)
    for split in (data.train, data.test):
        counts = Counter(split.labels.tolist())
        assert all(counts[c] > 0 for c in range(4)), counts
    # Real MRI: black background, bright tissue.
    assert 10 < data.train.images.float().mean() < 120
    assert "layout A" in data.notes


def test_exif_orientation_is_applied(tmp_path):
    root = tmp_path / "flat"
    make_flat(root, {"a": 3})
    arr = np.zeros((32, 32), np.uint8)
    arr[:16] = 255  # white on top as stored ...
    exif = Image.Exif()
    exif[0x0112] = 3  # ... but the camera says "rotate 180"
    save(Image.fromarray(arr), root / "a" / "rotated.jpg", exif=exif, quality=100)
    out = image_folder._decode(root / "a" / "rotated.jpg", 32)
    assert out[:12].mean() < 10 and out[-12:].mean() > 245


def test_other_folders_beside_split_folders_and_macos_junk(tmp_path):
    root = tmp_path / "data"
    make_flat(root / "Training", {"a": 2, "b": 2})
    make_flat(root / "Testing", {"a": 1, "b": 1})
    make_flat(root / "Validation", {"a": 5, "b": 5})
    (root / "__MACOSX" / "Training").mkdir(parents=True)
    (root / "__MACOSX" / "Training" / "._x.jpg").write_bytes(b"\0")
    data = ImageFolder().load(root, 8, 1, SILENT)
    assert len(data.train) == 4 and len(data.test) == 2
    assert "Validation" in data.notes
    # Every file inside a hidden folder counts, wherever the folder is (here the root).
    assert data.skipped == {"hidden file": 1} and "__MACOSX/ (1 file)" in data.notes
    flat = tmp_path / "flat"
    make_flat(flat, {"a": 3, "b": 3})
    shutil.copytree(root / "__MACOSX", flat / "__MACOSX")
    (flat / "a" / "._img (0).png").write_bytes(b"\0")
    data = ImageFolder().load(flat, 8, 1, SILENT)
    assert data.class_names == ("a", "b") and data.skipped == {"hidden file": 2}


def test_loose_files_counted_once_in_layout_b(tmp_path):
    root = tmp_path / "flat"
    make_flat(root, {"a": 3, "b": 3})
    (root / "README.md").write_text("about")
    save(grey(3), root / "stray.png")
    (root / "a" / "deeper").mkdir()
    save(grey(3), root / "a" / "deeper" / "x.png")
    data = ImageFolder().load(root, 8, 1, SILENT)
    assert data.skipped == {"file outside a class folder": 2, "subfolder inside a class folder (not read)": 1}
    assert len(data.train) + len(data.test) == 6
