"""The memorisation metric: 1.0 when the generated set is the training set, about 0.05
for an independent sample of the same distribution."""

from __future__ import annotations

import json

import pytest
import torch

from ganbench.paths import CACHE_ENV
from ganbench.specs import Evaluation, ImageSplit, LoadedData, SilentProgress
from ganbench_plugins.metrics.memorization import Memorization, memorization_rate

SIZE = 12


def smooth_images(n: int, seed: int) -> ImageSplit:
    """Random smooth images: a distribution where nearest-neighbour distances vary."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 1, 4, 4, generator=g)
    images = torch.nn.functional.interpolate(coarse, size=SIZE, mode="bilinear", align_corners=False)
    images = images * 255 + 10 * torch.randn(n, 1, SIZE, SIZE, generator=g)
    return ImageSplit(images.round().clamp(0, 255).to(torch.uint8), torch.zeros(n, dtype=torch.long))


def evaluation(tmp_path, fake: ImageSplit, train: ImageSplit, test: ImageSplit, **settings) -> Evaluation:
    data = LoadedData(name="toy", class_names=("a",), train=train, test=test, fingerprint="toy", family="toy")
    return Evaluation(
        data=data, fake=fake, device=torch.device("cpu"), seed=0, settings={"n_real": 10_000, **settings},
        cache_dir=tmp_path / "cache", artifacts_dir=tmp_path / "artifacts", progress=SilentProgress(),
    )


def pixel_stand_in(images, evaluation, cache):
    """Cheap 'features' for the Inception path: the flattened pixels."""
    return images.images.flatten(1).double()


TRAIN, TEST, OTHER = smooth_images(300, 1), smooth_images(600, 2), smooth_images(2000, 3)


def test_copying_the_training_set_scores_one(tmp_path):
    result = Memorization().compute(evaluation(tmp_path, TRAIN, TRAIN, TEST))
    assert result.values == {"memorization_pixels": 1.0}
    record = json.loads((tmp_path / "artifacts" / "memorization.json").read_text())
    assert record["pixels"]["closest_fake_distance"] == 0.0 and record["pixels"]["threshold"] > 0
    assert (tmp_path / "artifacts" / result.artifacts["memorization-pixels"]).is_file()


def test_an_independent_sample_scores_about_five_percent(tmp_path):
    result = Memorization().compute(evaluation(tmp_path, OTHER, TRAIN, TEST))
    # 2000 draws at p = 0.05 (the threshold itself estimated from 600): within +-0.025.
    assert abs(result.values["memorization_pixels"] - 0.05) < 0.025


def test_the_inception_space_uses_the_same_rule(tmp_path):
    metric = Memorization(inception_features=pixel_stand_in)
    copied = metric.compute(evaluation(tmp_path, TRAIN, TRAIN, TEST, memorization_spaces=["pixels", "inception"]))
    assert copied.values == {"memorization_pixels": 1.0, "memorization_inception": 1.0}


def test_held_out_copies_of_training_images_do_not_set_the_threshold():
    fake = torch.tensor([0.5, 2.0, 3.0])
    held = torch.cat([torch.zeros(50), torch.linspace(1, 10, 100)])  # 50 leaked copies
    rate, threshold = memorization_rate(fake, held)
    assert threshold == pytest.approx(1.45, abs=0.01) and rate == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="identical"):
        memorization_rate(fake, torch.zeros(5))


@pytest.mark.slow
def test_inception_features_reach_the_same_verdict(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "ganbench-cache"))
    small_train, small_test = smooth_images(40, 4), smooth_images(40, 5)
    result = Memorization().compute(evaluation(tmp_path, small_train, small_train, small_test, memorization_spaces=["inception"]))
    assert result.values == {"memorization_inception": 1.0}


def test_held_out_features_follow_the_pixels_not_the_fingerprint(tmp_path, monkeypatch):
    """Held-out images changed under an unchanged dataset fingerprint (files rewritten
    with their timestamps kept) get their own features, not the cached ones."""
    from ganbench_plugins.metrics import fidelity

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "ganbench-cache"))
    seen = []

    def stand_in(images, device, progress=None, description=""):
        seen.append(len(images))
        return images.flatten(1)[:, :16].float()

    monkeypatch.setattr(fidelity, "extract_features", stand_in)
    spaces = {"memorization_spaces": ["inception"]}
    train, fake = smooth_images(30, 6), smooth_images(20, 7)
    first = Memorization().compute(evaluation(tmp_path / "a", fake, train, smooth_images(25, 8), **spaces))
    assert sorted(seen) == [20, 25, 30]
    again = Memorization().compute(evaluation(tmp_path / "b", fake, train, smooth_images(25, 8), **spaces))
    assert sorted(seen) == [20, 20, 25, 30] and again.values == first.values  # real sets from the cache
    changed = smooth_images(25, 9)
    Memorization().compute(evaluation(tmp_path / "c", fake, train, changed, **spaces))
    assert sorted(seen) == [20, 20, 20, 25, 25, 30]  # the changed held-out set is computed anew
    record = json.loads((tmp_path / "c" / "artifacts" / "memorization.json").read_text())
    stale = json.loads((tmp_path / "a" / "artifacts" / "memorization.json").read_text())
    assert record["inception"]["threshold"] != stale["inception"]["threshold"]
