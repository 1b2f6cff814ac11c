"""Nearest-real SSIM and PSNR: agreement with scikit-image and hand computation, the
handling of identical images, the nearest-neighbour pairing, and the per-class scores."""

import math

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from ganbench.specs import Evaluation, ImageSplit, LoadedData, SilentProgress
from ganbench_plugins.metrics import similarity
from ganbench_plugins.metrics.similarity import (
    MSE,
    PSNR,
    SSIM,
    capped_pair_psnr,
    mean_pair_ssim,
    min_nonzero_mse,
    nearest_indices,
    nearest_real,
    pair_mse,
    psnr_from_mse,
    ssim_window,
)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py: tiny tensors run fastest on one thread


def smooth_pair(size=32, channels=1, seed=0):
    """A structured image and a noisy, shifted version of it (uint8 N=1 tensors)."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    base = 128 + 80 * torch.sin(xx / 3.0) * torch.cos(yy / 5.0)
    a = base.expand(channels, size, size) + 10 * torch.randn(channels, size, size, generator=g)
    b = a.roll(1, dims=-1) + 25 * torch.randn(channels, size, size, generator=g)
    to_u8 = lambda t: t.round().clamp(0, 255).to(torch.uint8).unsqueeze(0)
    return to_u8(a), to_u8(b)


def make_evaluation(train: ImageSplit, fake: ImageSplit, tmp_path, **settings) -> Evaluation:
    data = LoadedData(
        name="toy", class_names=("a", "b"), train=train, test=train,
        fingerprint="toy", family="toy", synthetic=True,
    )
    return Evaluation(
        data=data, fake=fake, device=torch.device("cpu"), seed=0, settings=settings,
        cache_dir=tmp_path / "cache", artifacts_dir=tmp_path / "artifacts", progress=SilentProgress(),
    )


# --------------------------------------------------------------------------- SSIM


def test_ssim_of_identical_images_is_one():
    a, _ = smooth_pair()
    assert mean_pair_ssim(a, a) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("channels", [1, 3])
def test_ssim_matches_skimage(channels):
    a, b = smooth_pair(size=48, channels=channels)
    ours = mean_pair_ssim(a, b)
    ref = structural_similarity(
        a[0].permute(1, 2, 0).numpy(), b[0].permute(1, 2, 0).numpy(),
        gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255,
        channel_axis=2,
    )
    assert 0.1 < ref < 0.95  # the pair is neither trivial nor unrelated
    # Measured difference ~1e-6 (float32 here, float64 in skimage).
    assert ours == pytest.approx(ref, abs=1e-5)


def test_ssim_mean_over_pairs_across_chunks(monkeypatch):
    pairs = [smooth_pair(size=24, channels=3, seed=s) for s in range(5)]
    a = torch.cat([p[0] for p in pairs])
    b = torch.cat([p[1] for p in pairs])
    expected = np.mean([
        structural_similarity(
            x[0].permute(1, 2, 0).numpy(), y[0].permute(1, 2, 0).numpy(), gaussian_weights=True,
            sigma=1.5, use_sample_covariance=False, data_range=255, channel_axis=2,
        )
        for x, y in pairs
    ])
    # Chunks of 2 images: 2 + 2 + 1, so the uneven last chunk is weighted correctly.
    monkeypatch.setattr(similarity, "SSIM_CHUNK_VALUES", 2 * 3 * 24 * 24)
    assert mean_pair_ssim(a, b) == pytest.approx(expected, abs=1e-5)


def test_ssim_window_fits_small_images():
    assert ssim_window(64, 64) == 11
    assert ssim_window(11, 40) == 11
    assert ssim_window(10, 10) == 9
    assert ssim_window(7, 8) == 7
    # A tiny image still gets a proper (smoothed) SSIM, and identical still means 1.
    a, b = smooth_pair(size=8)
    assert mean_pair_ssim(a, a) == pytest.approx(1.0)
    assert -1.0 <= mean_pair_ssim(a, b) < 1.0


# --------------------------------------------------------------------------- PSNR / MSE


def test_mse_and_psnr_by_hand():
    a = torch.tensor([[[[0, 10], [20, 30]]]], dtype=torch.uint8)
    b = torch.tensor([[[[1, 10], [20, 33]]]], dtype=torch.uint8)
    # Differences 1, 0, 0, 3 -> MSE (1 + 9) / 4 = 2.5.
    assert pair_mse(a, b).item() == pytest.approx(2.5)
    assert psnr_from_mse(pair_mse(a, b)).item() == pytest.approx(10 * math.log10(255**2 / 2.5))
    # The unsigned dtype must not wrap around when b < a.
    assert pair_mse(b, a).item() == pytest.approx(2.5)


def test_psnr_of_identical_images():
    a, _ = smooth_pair(size=16)
    # The bare formula says +inf ...
    assert psnr_from_mse(pair_mse(a, a)).item() == math.inf
    # ... the metric caps an exact copy at the largest finite uint8 PSNR (MSE = 1/(CHW)).
    capped = capped_pair_psnr(a, a).item()
    assert capped == pytest.approx(10 * math.log10(255**2 * 16 * 16))
    assert min_nonzero_mse(a.shape[1:]) == pytest.approx(1 / 256)
    one_off = a.clone()
    one_off[0, 0, 0, 0] += 1 if one_off[0, 0, 0, 0] < 255 else -1
    assert capped_pair_psnr(a, one_off).item() == pytest.approx(capped)


# --------------------------------------------------------------------------- pairing


def random_split(n, size, labels, seed):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, size, size), generator=g, dtype=torch.uint8)
    return ImageSplit(images, torch.as_tensor(labels))


def noisy_copy(images, seed, amplitude=8):
    g = torch.Generator().manual_seed(seed)
    noise = torch.randint(-amplitude, amplitude + 1, images.shape, generator=g)
    return (images.int() + noise).clamp(0, 255).to(torch.uint8)


def test_nearest_indices_finds_the_noisy_source():
    real = random_split(50, 16, [0] * 50, seed=1).images
    picks = torch.tensor([7, 3, 42, 3, 0])
    fake = noisy_copy(real[picks], seed=2)
    assert nearest_indices(fake, real, chunk=2).tolist() == picks.tolist()


def test_search_stays_within_class(tmp_path):
    train = random_split(40, 16, [0] * 20 + [1] * 20, seed=3)
    # Fake 0 copies real image 25 (class 1) but is labelled class 0: it must be paired
    # with a class-0 image. Fake 1 copies real 30 and is labelled 1: paired with it.
    fake = ImageSplit(noisy_copy(train.images[[25, 30]], seed=4), torch.tensor([0, 1]))
    pairing = nearest_real(make_evaluation(train, fake, tmp_path))
    assert pairing.real.labels[pairing.index[0]] == 0
    assert pairing.index[1].item() == 30
    # A label the real set lacks falls back to the whole reference set.
    stray = ImageSplit(noisy_copy(train.images[[25]], seed=5), torch.tensor([-1]))
    assert nearest_real(make_evaluation(train, stray, tmp_path)).index.tolist() == [25]


def test_metrics_end_to_end_and_shared_search(tmp_path, monkeypatch):
    train = random_split(60, 16, [0] * 30 + [1] * 30, seed=6)
    picks = torch.tensor([2, 11, 35, 59])
    fake = ImageSplit(noisy_copy(train.images[picks], seed=7, amplitude=3), train.labels[picks])
    evaluation = make_evaluation(train, fake, tmp_path, n_real=1000)

    calls = []
    real_search = similarity.search
    monkeypatch.setattr(similarity, "search", lambda *a: calls.append(1) or real_search(*a))

    ssim_result = SSIM().compute(evaluation)
    psnr_result = PSNR().compute(evaluation)
    assert len(calls) == 1  # one search shared by both metrics (the per-class scores search nothing more)
    assert set(ssim_result.values) == {"ssim_nearest_real", "ssim_nearest_real[a]", "ssim_nearest_real[b]"}
    assert set(psnr_result.values) == {"psnr_nearest_real", "psnr_nearest_real[a]", "psnr_nearest_real[b]"}
    assert (ssim_result.n_real, ssim_result.n_fake) == (60, 4)

    partners = train.images[picks]
    per_pair_ssim = [mean_pair_ssim(fake.images[[i]], partners[[i]]) for i in range(4)]
    assert ssim_result.values["ssim_nearest_real"] == pytest.approx(sum(per_pair_ssim) / 4, abs=1e-6)
    assert psnr_result.values["psnr_nearest_real"] == pytest.approx(
        psnr_from_mse(pair_mse(fake.images, partners)).mean().item()
    )
    # Noise of +-3 on uniform random images: PSNR is high, SSIM near 1.
    assert psnr_result.values["psnr_nearest_real"] > 35
    assert ssim_result.values["ssim_nearest_real"] > 0.95
    mse_result = MSE().compute(evaluation)
    differences = (fake.images.double() - partners.double()) ** 2
    assert mse_result.values["mse_nearest_real"] == pytest.approx(float(differences.mean()))
    assert mse_result.values["mse_nearest_real[a]"] == pytest.approx(float(differences[:2].mean()))
    assert mse_result.values["mse_nearest_real[b]"] == pytest.approx(float(differences[2:].mean()))


def test_paired_protocol_for_translations(tmp_path):
    """An image-to-image GAN's output is also compared with its own source image."""
    train = random_split(20, 16, [0] * 10 + [1] * 10, seed=9)
    sources = ImageSplit(train.images[:4], torch.zeros(4, dtype=torch.long))
    translated = ImageSplit(noisy_copy(sources.images, seed=10, amplitude=2), torch.ones(4, dtype=torch.long))
    evaluation = make_evaluation(train, translated, tmp_path)
    evaluation.sources = sources
    mse = MSE().compute(evaluation).values
    assert mse["mse_paired_translation"] == pytest.approx(float(pair_mse(translated.images, sources.images).mean()))
    assert SSIM().compute(evaluation).values["ssim_paired_translation"] > 0.9
    assert set(PSNR().compute(evaluation).values) == {"psnr_nearest_real", "psnr_nearest_real[b]", "psnr_paired_translation"}
    # With reconstructions, the cycle pair is scored too: a perfect cycle has MSE 0.
    evaluation.reconstructions = sources
    assert MSE().compute(evaluation).values["mse_paired_cycle"] == 0.0
    evaluation.reconstructions = translated
    assert MSE().compute(evaluation).values["mse_paired_cycle"] == pytest.approx(mse["mse_paired_translation"])


def test_n_real_caps_the_reference_set(tmp_path):
    train = random_split(30, 16, [0] * 15 + [1] * 15, seed=8)
    fake = ImageSplit(train.images[:3], train.labels[:3])
    result = PSNR().compute(make_evaluation(train, fake, tmp_path, n_real=10))
    assert result.n_real == 10


def test_metric_contract():
    assert MSE().direction == "lower"
    for metric in (SSIM(), PSNR(), MSE()):
        assert metric.kind == "paired" and metric.direction in ("higher", "lower")
        assert metric.result_keys == tuple(f"{metric.name}_{p}" for p in ("nearest_real", "paired_translation", "paired_cycle"))
        assert metric.per_class_keys == (f"{metric.name}_nearest_real",)
        assert metric.range_of(f"{metric.name}_nearest_real[glioma]") == metric.range_of(f"{metric.name}_nearest_real")
        assert f"`{metric.name}_nearest_real[<class>]`" in metric.protocol
        assert "memoris" in metric.protocol
        assert "\n" not in metric.description


# --------------------------------------------------------------------------- per class


def brute_force_partners(fake, real, within):
    """For each fake image, the index of the real image with the smallest pixel MSE
    among the real indices ``within[i]``: a plain numpy loop, independent of the search."""
    f = fake.images.numpy().astype(np.float64)
    r = real.images.numpy().astype(np.float64)
    out = []
    for i, candidates in enumerate(within):
        distances = [((f[i] - r[j]) ** 2).mean() for j in candidates]
        out.append(candidates[int(np.argmin(distances))])
    return out


def reference_scores(fake, real, partners, positions):
    """(SSIM by scikit-image, PSNR, MSE by numpy), each the mean over ``positions``."""
    ssims, psnrs, mses = [], [], []
    for i in positions:
        x = fake.images[i].numpy().astype(np.float64)
        y = real.images[partners[i]].numpy().astype(np.float64)
        ssims.append(structural_similarity(
            x[0], y[0], gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255,
        ))
        mse = ((x - y) ** 2).mean()
        mses.append(mse)
        psnrs.append(10 * math.log10(255**2 / mse))
    return float(np.mean(ssims)), float(np.mean(psnrs)), float(np.mean(mses))


def test_per_class_scores_pair_within_the_class(tmp_path):
    """Per class: the mean over that class's generated images against each one's
    nearest real image of the same class, checked against a brute-force numpy search
    and scikit-image's SSIM. Classes the reference set lacks (c) and unlabelled images
    (-1) get no per-class key but still count in the overall value."""
    train = random_split(40, 16, [0] * 20 + [1] * 20, seed=11)
    # Fake 1 copies a class-1 image but is labelled a: its class partner is another image.
    sources = torch.tensor([3, 28, 9, 22, 35, 31, 5])
    labels = torch.tensor([0, 0, 0, 1, 1, 2, -1])
    fake = ImageSplit(noisy_copy(train.images[sources], seed=12), labels)
    data = LoadedData(
        name="toy", class_names=("a", "b", "c"), train=train, test=train,
        fingerprint="toy", family="toy", synthetic=True,
    )
    evaluation = Evaluation(
        data=data, fake=fake, device=torch.device("cpu"), seed=0, settings={"n_real": 1000},
        cache_dir=tmp_path / "cache", artifacts_dir=tmp_path / "artifacts", progress=SilentProgress(),
    )
    assert len(evaluation.real_reference()) == 40  # the whole split, in order

    class_members = {0: list(range(20)), 1: list(range(20, 40))}
    everything = list(range(40))
    within = [class_members.get(int(label), everything) for label in labels]
    partners = brute_force_partners(fake, train, within)
    assert partners[1] < 20  # paired within class a, not with its class-b source

    ssim = SSIM().compute(evaluation).values
    psnr = PSNR().compute(evaluation).values
    mse = MSE().compute(evaluation).values
    for name, values in (("ssim", ssim), ("psnr", psnr), ("mse", mse)):
        assert set(values) == {f"{name}_nearest_real", f"{name}_nearest_real[a]", f"{name}_nearest_real[b]"}
    for key, positions in (("nearest_real", range(7)), ("nearest_real[a]", [0, 1, 2]), ("nearest_real[b]", [3, 4])):
        want_ssim, want_psnr, want_mse = reference_scores(fake, train, partners, positions)
        assert ssim[f"ssim_{key}"] == pytest.approx(want_ssim, abs=1e-5)
        assert psnr[f"psnr_{key}"] == pytest.approx(want_psnr, rel=1e-9)
        assert mse[f"mse_{key}"] == pytest.approx(want_mse, rel=1e-9)


def test_overall_value_is_unchanged_by_the_per_class_scores(tmp_path):
    """The unqualified key is the score over all generated images, exactly as before
    per-class keys existed (one call of the score on every pair)."""
    train = random_split(30, 16, [0] * 15 + [1] * 15, seed=13)
    fake = ImageSplit(noisy_copy(train.images[[1, 4, 17, 20, 29]], seed=14, amplitude=30), torch.tensor([0, 0, 1, 1, 1]))
    evaluation = make_evaluation(train, fake, tmp_path)
    partners = nearest_real(evaluation).partners()
    assert SSIM().compute(evaluation).values["ssim_nearest_real"] == mean_pair_ssim(fake.images, partners)
    assert PSNR().compute(evaluation).values["psnr_nearest_real"] == float(capped_pair_psnr(fake.images, partners).mean())
    assert MSE().compute(evaluation).values["mse_nearest_real"] == float(pair_mse(fake.images, partners).mean())


def test_no_per_class_keys_for_unlabelled_samples(tmp_path):
    """An unconditional GAN trained on all classes at once labels its samples -1."""
    train = random_split(30, 16, [0] * 15 + [1] * 15, seed=15)
    fake = ImageSplit(noisy_copy(train.images[[2, 20]], seed=16), torch.tensor([-1, -1]))
    evaluation = make_evaluation(train, fake, tmp_path)
    for metric in (SSIM(), PSNR(), MSE()):
        assert set(metric.compute(evaluation).values) == {f"{metric.name}_nearest_real"}
