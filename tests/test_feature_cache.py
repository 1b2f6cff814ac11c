"""The Inception feature cache is keyed by what the features were computed from (the
pixels' hash, the weights' content hash, the network, the cache version), never by a
dataset's paths, sizes or timestamps; and FID follows images changed in place with
their timestamps kept, from the image files to the number."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch
from PIL import Image

from ganbench.paths import CACHE_ENV
from ganbench.specs import Evaluation, ImageSplit, SilentProgress
from ganbench_plugins.datasets.image_folder import ImageFolder
from ganbench_plugins.metrics import feature_cache, fidelity
from ganbench_plugins.metrics.feature_cache import cached_features, entry_path, feature_key, read_entry, write_entry
from ganbench_plugins.metrics.fidelity import FID

SILENT = SilentProgress()


def uint8(shape, seed) -> torch.Tensor:
    return torch.randint(0, 256, shape, generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "ganbench-cache"))


# --------------------------------------------------------------------------- keys and entries


def test_key_changes_with_everything_the_features_depend_on(monkeypatch):
    images = uint8((4, 1, 8, 8), seed=0)
    base = feature_key(images, "net/2048", "w")
    assert feature_key(images.clone(), "net/2048", "w") == base
    changed = images.clone()
    changed[3, 0, 7, 7] ^= 1
    assert feature_key(changed, "net/2048", "w") != base  # one bit of one pixel
    assert feature_key(images.reshape(4, 1, 4, 16), "net/2048", "w") != base  # same bytes, other shape
    assert feature_key(images.to(torch.int16), "net/2048", "w") != base  # same values, other dtype
    assert feature_key(images, "net/2048", "w2") != base  # other weights
    assert feature_key(images, "net/768", "w") != base  # other layer
    monkeypatch.setattr(feature_cache, "FEATURE_CACHE_VERSION", feature_cache.FEATURE_CACHE_VERSION + 1)
    assert feature_key(images, "net/2048", "w") != base


def test_a_cache_hit_is_the_very_tensor_computed():
    images = uint8((5, 1, 8, 8), seed=1)
    features = torch.randn(5, 2048, generator=torch.Generator().manual_seed(2))
    first = cached_features(images, "net", "w", lambda: features)

    def never():
        raise AssertionError("a cache hit must not compute")

    second = cached_features(images, "net", "w", never)
    assert torch.equal(first, features) and torch.equal(second, features) and second.dtype == torch.float32


def test_entries_that_are_not_exactly_the_key_are_recomputed(tmp_path):
    images, other = uint8((3, 1, 4, 4), seed=3), uint8((3, 1, 4, 4), seed=4)
    key, other_key = feature_key(images, "net", "w"), feature_key(other, "net", "w")
    write_entry(entry_path(other_key), other_key, torch.ones(3, 4), SILENT)
    # Another key's file at this key's path (a copied cache folder, a hash prefix clash).
    entry_path(other_key).rename(entry_path(key))
    assert read_entry(entry_path(key), key, 3) is None
    write_entry(entry_path(key), key, torch.ones(3, 4), SILENT)
    assert read_entry(entry_path(key), key, 3) is not None
    assert read_entry(entry_path(key), key, 4) is None  # other row count
    entry_path(key).write_bytes(entry_path(key).read_bytes()[:40])  # truncated
    assert read_entry(entry_path(key), key, 3) is None
    entry_path(key).write_bytes(pickle.dumps(torch.ones(3, 4)))  # a pickle, not safetensors
    assert read_entry(entry_path(key), key, 3) is None


def test_an_unwritable_cache_is_reported_not_fatal(monkeypatch):
    def refuse(path, write):
        raise OSError("read-only file system")

    monkeypatch.setattr(feature_cache, "write_atomically", refuse)

    class Recording(SilentProgress):
        def __init__(self):
            self.messages = []

        def log(self, message):
            self.messages.append(message)

    progress = Recording()
    features = cached_features(uint8((2, 1, 4, 4), seed=5), "net", "w", lambda: torch.zeros(2, 3), progress)
    assert features.shape == (2, 3)
    assert any("could not cache the Inception features" in m for m in progress.messages)


# --------------------------------------------------------------------------- files changed in place, to the FID


def write_tree(root: Path, value) -> Path:
    """ROOT/<class>/<n>.bmp, 16 x 16 grey images; BMP has a fixed size for fixed dimensions."""
    for c, cls in enumerate(("a", "b")):
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(12):
            Image.fromarray(value(c, i)).save(root / cls / f"{i}.bmp")
    return root


def noise(c, i):
    return uint8((16, 16), seed=100 * c + i).numpy()


def smooth(c, i):
    ramp = torch.linspace(0, 255, 16)
    return (ramp[None, :] * (i + 1) / 12 + ramp[:, None] * c / 4).clamp(0, 255).to(torch.uint8).numpy()


def rewrite_in_place_keeping_size_and_times(root: Path, value) -> None:
    """What ``cp -p`` / ``rsync -a`` of a changed copy does: new contents, same sizes,
    old timestamps."""
    for c, cls in enumerate(("a", "b")):
        for i in range(12):
            path = root / cls / f"{i}.bmp"
            before = path.stat()
            Image.fromarray(value(c, i)).save(path)
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
            after = path.stat()
            assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def fid_of_folder(root: Path, fake: ImageSplit, artifacts: Path) -> float:
    data = ImageFolder().load(root, 16, 1, SILENT)
    evaluation = Evaluation(
        data=data, fake=fake, device=torch.device("cpu"), seed=0, settings={"n_real": 1000},
        cache_dir=artifacts / "cache", artifacts_dir=artifacts, progress=SILENT,
    )
    return FID().compute(evaluation).values["fid"]


def check_fid_follows_files_changed_in_place(tmp_path, monkeypatch) -> tuple[float, float]:
    root = write_tree(tmp_path / "data", noise)
    g = torch.Generator().manual_seed(7)
    fake = ImageSplit(torch.randint(0, 256, (12, 1, 16, 16), generator=g, dtype=torch.uint8),
                      torch.arange(12) % 2)
    before = fid_of_folder(root, fake, tmp_path / "run-1")
    rewrite_in_place_keeping_size_and_times(root, smooth)
    after = fid_of_folder(root, fake, tmp_path / "run-2")
    # The right number: the same files read with nothing cached at all.
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "empty-cache"))
    right = fid_of_folder(root, fake, tmp_path / "run-3")
    assert after == right
    assert after != before
    return before, after


def test_fid_follows_files_changed_in_place(tmp_path, monkeypatch):
    """Through the dataset cache and the feature cache, with 8-pixel stand-in features
    (the real formulas on them take milliseconds)."""
    monkeypatch.setattr(fidelity, "extract_features", lambda images, device, progress=SILENT, description="": images.flatten(1)[:, :8].float())
    check_fid_follows_files_changed_in_place(tmp_path, monkeypatch)


@pytest.mark.slow
def test_fid_follows_files_changed_in_place_through_the_inception_network(tmp_path, monkeypatch):
    """The same through the real network (three FIDs: a couple of minutes on 2 cores)."""
    before, after = check_fid_follows_files_changed_in_place(tmp_path, monkeypatch)
    print(f"FID before the change {before:.1f}, after {after:.1f}")
