"""No file in a cache folder can run code in ganbench.

torch-fidelity reads its weights and its feature cache with
``torch.load(weights_only=False)``: a pickle planted at one of those paths runs whatever
it says. Here a pickle that would write a marker file is planted at every cache path
ganbench or torch-fidelity would read (first shown to run when unpickled the unsafe
way), the FID path runs, and the marker must never appear; the numbers must be those
of a clean cache.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganbench.data import cache as data_cache
from ganbench.paths import CACHE_ENV, cache_dir
from ganbench.specs import Evaluation, ImageSplit, SilentProgress
from ganbench_plugins.datasets.image_folder import ImageFolder
from ganbench_plugins.metrics import inception_weights as iw
from ganbench_plugins.metrics.feature_cache import entry_path, feature_key, read_entry
from ganbench_plugins.metrics.fidelity import FEATURE_EXTRACTOR, FEATURE_LAYER, FID, KID
from ganbench_plugins.metrics.memorization import Memorization, held_out

SILENT = SilentProgress()
NETWORK = f"{FEATURE_EXTRACTOR}/{FEATURE_LAYER}"


class Planted:
    """Unpickling this writes ``marker``: what an attacker's file in a cache would do."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('a planted pickle ran')",)


def plant(path: Path, marker: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state": Planted(marker)}, path)


@pytest.fixture
def marker(tmp_path) -> Path:
    path = tmp_path / "MARKER"
    # The bait works: unpickled the way torch-fidelity reads its files, it runs.
    bait = tmp_path / "bait.pt"
    plant(bait, path)
    torch.load(bait, weights_only=False)
    assert path.exists()
    path.unlink()
    return path


@pytest.fixture
def unsafe_loads(monkeypatch):
    """Every torch.load with weights_only=False, by what it read."""
    calls, real_load = [], torch.load

    def spy(f, *args, **kwargs):
        if kwargs.get("weights_only") is False:
            calls.append(f)
        return real_load(f, *args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    return calls


def plant_torch_fidelity_paths(marker: Path, torch_home: Path) -> None:
    """Where torch-fidelity itself would look: its weights download target and cache
    folders (ganbench's old cache folder for it included)."""
    plant(torch_home / "hub" / "checkpoints" / "weights-inception-2015-12-05-6726825d.pth", marker)
    for folder in (torch_home / "fidelity_cache", cache_dir("fidelity")):
        for name in ("input2", "ganbench-real-0123456789abcdef0123-n20"):
            plant(folder / f"{name}-{FEATURE_EXTRACTOR}-features-2048.pt", marker)
            plant(folder / f"{name}-{FEATURE_EXTRACTOR}-stat-fid-2048.pt", marker)
    # The converted weights under the name ganbench used before they were hash-checked.
    plant(cache_dir("weights") / f"inception-2015-12-05-fidelity-{iw.SOURCE_SHA1[:16]}-v1.pt", marker)


def test_planted_weights_file_is_not_run_and_is_replaced(tmp_path, monkeypatch, marker, unsafe_loads):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    plant(iw.weights_file(), marker)
    iw.inception_extractor.cache_clear()
    try:
        extractor = iw.inception_extractor("cpu")
    finally:
        iw.inception_extractor.cache_clear()  # other tests build theirs from a clean cache
    assert not marker.exists()
    assert iw.state_dict_sha256(extractor.state_dict()) == iw.CONVERTED_SHA256
    assert iw.state_dict_sha256(iw.load_fidelity_state_dict(iw.weights_file())) == iw.CONVERTED_SHA256
    # torch-fidelity's constructor unpickled only bytes made in memory, never a file.
    assert unsafe_loads and all(isinstance(f, io.BytesIO) for f in unsafe_loads)


def test_planted_feature_and_dataset_cache_entries_are_not_run(tmp_path, monkeypatch, marker):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    images = torch.zeros(3, 1, 4, 4, dtype=torch.uint8)
    key = feature_key(images, NETWORK, iw.CONVERTED_SHA256)
    plant(entry_path(key), marker)
    assert read_entry(entry_path(key), key, 3) is None

    npz = data_cache.cache_file("image-folder", "fp")
    plant(npz, marker)
    assert data_cache.load_arrays(npz, "fp") is None
    # An .npz with the right key and a pickled object array beside it.
    np.savez(npz, fingerprint=np.array(data_cache.stored_key("fp")), images=np.array([Planted(marker)], dtype=object))
    assert data_cache.load_arrays(npz, "fp") is None
    assert not marker.exists()


def bmp_tree(root: Path) -> Path:
    for c, cls in enumerate(("a", "b")):
        (root / cls).mkdir(parents=True)
        for i in range(10):
            pixels = torch.randint(0, 256, (16, 16), generator=torch.Generator().manual_seed(10 * c + i), dtype=torch.uint8)
            Image.fromarray((pixels // (c + 1)).numpy()).save(root / cls / f"{i}.bmp")
    return root


def evaluation_of(data, fake: ImageSplit, artifacts: Path) -> Evaluation:
    return Evaluation(
        data=data, fake=fake, device=torch.device("cpu"), seed=0,
        settings={"n_real": 1000, "memorization_spaces": ["inception"]},
        cache_dir=artifacts / "cache", artifacts_dir=artifacts, progress=SILENT,
    )


def scores(root: Path, fake: ImageSplit, artifacts: Path) -> dict:
    evaluation = evaluation_of(ImageFolder().load(root, 16, 1, SILENT), fake, artifacts)
    values = {**FID().compute(evaluation).values, **KID().compute(evaluation).values}
    return {**values, **Memorization().compute(evaluation).values}


@pytest.mark.slow
def test_the_fid_path_runs_no_planted_pickle_and_gives_the_clean_numbers(tmp_path, monkeypatch, marker, unsafe_loads):
    """FID, KID and memorisation through the real network, once with a clean cache and
    once with a pickle planted at every cache path (about two minutes on 2 cores)."""
    torch_home = tmp_path / "torch-home"
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    root = bmp_tree(tmp_path / "data")
    g = torch.Generator().manual_seed(3)
    fake = ImageSplit(torch.randint(0, 256, (10, 1, 16, 16), generator=g, dtype=torch.uint8), torch.arange(10) % 2)

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "clean-cache"))
    iw.inception_extractor.cache_clear()
    clean = scores(root, fake, tmp_path / "clean")

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "planted-cache"))
    data = ImageFolder().load(root, 16, 1, SILENT)
    plant(data_cache.cache_file("image-folder", data.fingerprint), marker)
    evaluation = evaluation_of(data, fake, tmp_path / "unused")
    for images in (evaluation.real_reference().images, held_out(evaluation).images):
        plant(entry_path(feature_key(images, NETWORK, iw.CONVERTED_SHA256)), marker)
    plant(iw.weights_file(), marker)
    plant_torch_fidelity_paths(marker, torch_home)
    iw.inception_extractor.cache_clear()
    unsafe_loads.clear()
    try:
        planted = scores(root, fake, tmp_path / "planted")
    finally:
        iw.inception_extractor.cache_clear()

    assert not marker.exists()
    assert planted == clean
    assert all(isinstance(f, io.BytesIO) for f in unsafe_loads)

