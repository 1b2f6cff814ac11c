"""The embedded brain-MRI phantom: determinism, shapes, class balance, and that its four
classes are genuinely different images (not four labels on one distribution)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ganbench.errors import DatasetLayoutError, GanbenchError
from ganbench.specs import Dataset, LoadedData, Progress, SilentProgress
from ganbench_plugins.datasets import brain_phantom as bp
from ganbench_plugins.datasets.brain_phantom import (
    CLASS_NAMES,
    BrainPhantom,
    make_phantom_split,
    render_phantom,
)

GLIOMA, MENINGIOMA, NO_TUMOR, PITUITARY = range(4)


class RecordingProgress(Progress):
    def __init__(self):
        self.calls: list[tuple[int | None, str]] = []
        self.items = 0

    def track(self, iterable, total=None, description=""):
        self.calls.append((total, description))
        for item in iterable:
            self.items += 1
            yield item


@pytest.fixture(scope="module")
def medium() -> LoadedData:
    """60 train / 30 test images per class at 64 px: big enough to fit a classifier."""
    return BrainPhantom(train_per_class=60, test_per_class=30).load(None, 64, 1, SilentProgress())


# --------------------------------------------------------------------------- plugin


def test_plugin_attributes_and_registration():
    registered = []
    bp.register_datasets(registered.append)
    assert len(registered) == 1
    ds = registered[0]
    assert isinstance(ds, BrainPhantom) and isinstance(ds, Dataset)
    assert ds.name == "brain-phantom"
    assert ds.needs_path is False
    assert ds.family == "brain-phantom"
    assert "synthetic" in ds.description.lower()
    assert "no patient data" in ds.source
    assert "nothing to download" in ds.obtain
    assert (ds.train_per_class, ds.test_per_class) == (200, 50)
    assert CLASS_NAMES == ("glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor")


def test_registers_through_the_plugin_manager():
    from ganbench.plugins import load_plugins

    plugins = load_plugins(entry_points=[], extra_modules=[("brain-phantom", bp)])
    assert isinstance(plugins.registry.get("datasets", "brain-phantom"), BrainPhantom)


def test_path_argument_is_rejected(tmp_path: Path):
    with pytest.raises(DatasetLayoutError, match="takes no path"):
        BrainPhantom(train_per_class=1, test_per_class=1).load(tmp_path, 32, 1, SilentProgress())


@pytest.mark.parametrize("channels", [0, 2, 4])
def test_bad_channels_are_rejected(channels):
    with pytest.raises(GanbenchError):
        BrainPhantom(train_per_class=1, test_per_class=1).load(None, 32, channels, SilentProgress())


# --------------------------------------------------------------------------- determinism


def test_render_is_deterministic_and_ignores_global_rng():
    np.random.seed(123)
    torch.manual_seed(123)
    a = render_phantom(GLIOMA, 64, np.random.default_rng([7, 0, 3]))
    np.random.seed(999)
    torch.manual_seed(999)
    np.random.random(1000)
    b = render_phantom(GLIOMA, 64, np.random.default_rng([7, 0, 3]))
    assert a.dtype == np.uint8 and a.shape == (64, 64)
    assert np.array_equal(a, b)
    c = render_phantom(GLIOMA, 64, np.random.default_rng([8, 0, 3]))
    assert not np.array_equal(a, c)


def test_split_is_deterministic_balanced_and_prefix_stable():
    x1, y1 = make_phantom_split(3, 32, seed=0)
    x2, y2 = make_phantom_split(3, 32, seed=0)
    assert x1.dtype == np.uint8 and x1.shape == (12, 32, 32)
    assert y1.dtype == np.int64 and y1.tolist() == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    assert x1.tobytes() == x2.tobytes() and np.array_equal(y1, y2)
    # more images per class leave the first ones unchanged
    x5, y5 = make_phantom_split(5, 32, seed=0)
    for c in range(4):
        assert np.array_equal(x5[y5 == c][:3], x1[y1 == c])
    # another seed gives other images
    x3, _ = make_phantom_split(3, 32, seed=1)
    assert not np.array_equal(x1, x3)
    assert all(not np.array_equal(x1[i], x3[i]) for i in range(len(x1)))
    # images within a split are all different
    assert len({im.tobytes() for im in x5}) == len(x5)


def test_load_is_deterministic_with_stable_fingerprint():
    ds = BrainPhantom(train_per_class=3, test_per_class=2)
    torch.manual_seed(1)
    a = ds.load(None, 32, 1, SilentProgress())
    bp._CACHE.clear()  # regenerate instead of reusing the cache
    torch.manual_seed(2)
    np.random.seed(2)
    b = BrainPhantom(train_per_class=3, test_per_class=2).load(None, 32, 1, SilentProgress())
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.test.images, b.test.images)
    assert torch.equal(a.train.labels, b.train.labels) and torch.equal(a.test.labels, b.test.labels)
    assert a.fingerprint == b.fingerprint
    assert len(a.fingerprint) == 16 and all(ch in "0123456789abcdef" for ch in a.fingerprint)
    others = {
        ds.load(None, 48, 1, SilentProgress()).fingerprint,
        ds.load(None, 32, 3, SilentProgress()).fingerprint,
        BrainPhantom(train_per_class=4, test_per_class=2).load(None, 32, 1, SilentProgress()).fingerprint,
        BrainPhantom(train_per_class=3, test_per_class=3).load(None, 32, 1, SilentProgress()).fingerprint,
    }
    assert a.fingerprint not in others and len(others) == 4


def test_loaded_tensors_are_not_shared_with_the_cache():
    ds = BrainPhantom(train_per_class=2, test_per_class=1)
    a = ds.load(None, 32, 1, SilentProgress())
    a.train.images.zero_()
    b = ds.load(None, 32, 1, SilentProgress())
    assert b.train.images.max() > 0


def test_train_and_test_are_disjoint_and_fixed_seeds():
    data = BrainPhantom(train_per_class=4, test_per_class=4).load(None, 32, 1, SilentProgress())
    train = {im.numpy().tobytes() for im in data.train.images}
    test = {im.numpy().tobytes() for im in data.test.images}
    assert not train & test
    x, _ = make_phantom_split(4, 32, seed=bp.TRAIN_SEED)
    assert np.array_equal(data.train.images[:, 0].numpy(), x)
    x, _ = make_phantom_split(4, 32, seed=bp.TEST_SEED)
    assert np.array_equal(data.test.images[:, 0].numpy(), x)


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("size", [32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_load_shapes_dtypes_and_range(size, channels):
    progress = RecordingProgress()
    data = BrainPhantom(train_per_class=3, test_per_class=2).load(None, size, channels, progress)
    assert data.name == "brain-phantom"
    assert data.class_names == CLASS_NAMES
    assert data.family == "brain-phantom"
    assert data.synthetic is True
    assert "not patient data" in data.notes
    assert data.train.images.shape == (12, channels, size, size)
    assert data.test.images.shape == (8, channels, size, size)
    for split, per_class in ((data.train, 3), (data.test, 2)):
        assert split.images.dtype == torch.uint8
        assert split.labels.dtype == torch.int64
        assert torch.bincount(split.labels, minlength=4).tolist() == [per_class] * 4
        if channels == 3:
            assert torch.equal(split.images[:, 0], split.images[:, 1])
            assert torch.equal(split.images[:, 0], split.images[:, 2])
        imgs = split.images[:, 0].float()
        # a real dynamic range: dark background, bright head
        assert imgs.amax(dim=(1, 2)).min() >= 120
        assert imgs.amin(dim=(1, 2)).max() <= 30
        # the head never touches the frame: the outermost pixels are background
        border = torch.cat([imgs[:, 0], imgs[:, -1], imgs[:, :, 0], imgs[:, :, -1]], dim=1)
        assert border.mean() < 25
        # and fills a sensible part of it
        centre = imgs[:, size // 4 : 3 * size // 4, size // 4 : 3 * size // 4]
        assert centre.mean() > 2 * border.mean() + 30
    assert data.image_spec.size == size and data.image_spec.channels == channels
    assert data.image_spec.num_classes == 4
    # generation reports progress over every image (unless served from the cache)
    if progress.calls:
        assert progress.items == 20
        assert sorted(total for total, _ in progress.calls) == [8, 12]


# --------------------------------------------------------------------------- classes


def _paired(label: int, seed: int, size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """The same anatomy and noise with and without the lesion of ``label``."""
    with_lesion = render_phantom(label, size, np.random.default_rng([seed, 99]))
    without = render_phantom(NO_TUMOR, size, np.random.default_rng([seed, 99]))
    return with_lesion.astype(np.int16), without.astype(np.int16)


def _head_centre_and_radius(img: np.ndarray) -> tuple[float, float, float]:
    head = img > 0.3 * np.percentile(img, 99)
    yy, xx = np.nonzero(head)
    return yy.mean(), xx.mean(), float(np.sqrt(head.sum() / np.pi))


@pytest.mark.parametrize("label", [GLIOMA, MENINGIOMA, PITUITARY])
def test_tumour_classes_differ_from_no_tumour_by_a_localised_lesion(label):
    distances = []
    for seed in range(16):
        lesion, normal = _paired(label, seed)
        diff = np.abs(lesion - normal)
        changed = diff > 40
        # a visible lesion ...
        assert changed.sum() >= 15, (label, seed, int(changed.sum()))
        # ... confined to a part of the head, not a global change
        assert changed.mean() < 0.12, (label, seed, float(changed.mean()))
        # where the lesion adds bright (enhancing) tissue
        brighter = (lesion - normal) > 25
        assert brighter.sum() >= 15, (label, seed, int(brighter.sum()))
        if label == GLIOMA:  # a dark necrotic core inside the bright rim
            assert ((lesion - normal) < -40).sum() >= 10, (seed, int(((lesion - normal) < -40).sum()))
        cy, cx, radius = _head_centre_and_radius(normal)
        yy, xx = np.nonzero(brighter)
        w = (lesion - normal)[brighter].astype(float)
        ly, lx = (yy * w).sum() / w.sum(), (xx * w).sum() / w.sum()
        distances.append(np.hypot(ly - cy, lx - cx) / radius)
    distances = np.array(distances)
    if label == PITUITARY:  # small, central (sellar, on the midline)
        assert distances.max() < 0.45, distances
    elif label == MENINGIOMA:  # extra-axial: against the skull
        assert distances.min() > 0.5, distances
    else:  # intra-axial: inside the brain, away from the skull
        assert distances.max() < 0.7, distances
    # no_tumor rendered twice from one seed is the same image
    a, b = _paired(NO_TUMOR, 0)
    assert np.array_equal(a, b)


EDGES_R = np.array([0.0, 0.25, 0.45, 0.6, 0.72, 0.82, 0.9])
EDGES_I = np.array([0.0, 0.3, 0.6, 0.85, 1.1, 1.3, 1.6, 10.0])


def _ring_histograms(images: torch.Tensor) -> np.ndarray:
    """Rotation- and scale-invariant features: for rings around the head's centre, the
    histogram of intensities relative to the image's own central median."""
    imgs = images[:, 0].numpy().astype(np.float32)
    n = imgs.shape[-1]
    yy, xx = np.mgrid[0:n, 0:n] + 0.5
    out = []
    for im in imgs:
        head = im > 0.3 * np.percentile(im, 99)
        cy, cx = yy[head].mean(), xx[head].mean()
        r = np.hypot(yy - cy, xx - cx) / np.sqrt(head.sum() / np.pi)
        level = max(float(np.median(im[r < 0.6])), 1.0)
        h, _, _ = np.histogram2d(r.ravel(), (im / level).ravel(), bins=(EDGES_R, EDGES_I))
        out.append((h / np.maximum(h.sum(axis=1, keepdims=True), 1)).ravel())
    return np.array(out)


def test_classes_are_distinguishable_by_a_nearest_centroid_classifier(medium: LoadedData):
    """Fit class centroids on the train split, classify the test split: clearly above
    chance (0.25). Four labels on one distribution would score about 0.25."""
    ftr = _ring_histograms(medium.train.images)
    fte = _ring_histograms(medium.test.images)
    ytr, yte = medium.train.labels.numpy(), medium.test.labels.numpy()
    mu, sd = ftr.mean(0), ftr.std(0) + 1e-3
    a, b = (ftr - mu) / sd, (fte - mu) / sd
    centroids = np.stack([a[ytr == c].mean(0) for c in range(4)])
    pred = ((b[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
    accuracy = (pred == yte).mean()
    assert accuracy > 0.5, accuracy
    # every class is predicted for some test images (no class collapses into another)
    assert set(pred.tolist()) == {0, 1, 2, 3}


def test_pituitary_and_glioma_add_bright_tissue_in_the_head(medium: LoadedData):
    """A simple statistic: the fraction of clearly-brighter-than-brain pixels in the
    central part of the head is higher with an (enhancing) central lesion."""
    feats = _ring_histograms(medium.train.images).reshape(-1, len(EDGES_R) - 1, len(EDGES_I) - 1)
    labels = medium.train.labels.numpy()
    bright_centre = feats[:, :3, 5:].sum(axis=(1, 2))  # rings r < 0.6, intensity > 1.3x
    mean = {c: bright_centre[labels == c].mean() for c in range(4)}
    assert mean[PITUITARY] > 3 * mean[NO_TUMOR] + 0.01, mean
    assert mean[GLIOMA] > 2 * mean[NO_TUMOR] + 0.005, mean
