"""Bootstrap intervals for FID and KID: the fast KID formula against torch-fidelity's
own (FID's is tests/test_frechet.py), the intervals' behaviour, and the metrics' extra keys."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_fidelity.metric_kid import kernel_mmd

from ganbench.specs import ImageSplit
from ganbench_plugins.metrics import fidelity
from ganbench_plugins.metrics.fidelity_bootstrap import (
    bootstrap_count,
    bootstrap_intervals,
    kid_from_features,
)
from test_similarity_metrics import make_evaluation


def gaussian_features(n: int, dims: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, dims, generator=generator, dtype=torch.float64) * 0.5 + shift


def test_kid_formula_equals_torch_fidelity_mmd():
    # torch-fidelity's estimator takes equal set sizes; ours also takes unequal ones.
    a, b = gaussian_features(60, 128, 3), gaussian_features(60, 128, 4, shift=0.2)
    expected = kernel_mmd(a.numpy(), b.numpy(), kid_kernel="poly", kid_degree=3, kid_gamma=None, kid_coef0=1)
    assert kid_from_features(a, b) == pytest.approx(float(expected), rel=1e-9)


def test_intervals_narrow_with_more_images_and_are_reproducible():
    small = bootstrap_intervals(gaussian_features(30, 16, 5), gaussian_features(30, 16, 6, shift=0.5), 100)
    large = bootstrap_intervals(gaussian_features(300, 16, 5), gaussian_features(300, 16, 6, shift=0.5), 100)
    for name in ("fid", "kid"):
        assert small[name][0] < small[name][1]
        assert large[name][1] - large[name][0] < small[name][1] - small[name][0]
    again = bootstrap_intervals(gaussian_features(30, 16, 5), gaussian_features(30, 16, 6, shift=0.5), 100)
    assert again == small


@pytest.mark.parametrize("raw, expected", [(None, 0), (0, 0), ("0", 0), ("200", 200), (1000, 1000)])
def test_bootstrap_count(raw, expected):
    settings = {} if raw is None else {"fidelity_bootstrap": raw}
    assert bootstrap_count(settings) == expected


@pytest.mark.parametrize("raw", ["-1", "5", "many"])
def test_bootstrap_count_refuses_nonsense(raw):
    with pytest.raises(ValueError, match="fidelity_bootstrap"):
        bootstrap_count({"fidelity_bootstrap": raw})


def test_fid_and_kid_report_intervals_only_when_asked(tmp_path, monkeypatch):
    """Through the metric plugins, with Inception replaced by fixed stand-in features."""
    images = torch.zeros(30, 1, 8, 8, dtype=torch.uint8)
    split = ImageSplit(images, torch.zeros(30, dtype=torch.long))
    scores = fidelity.FidelityScores(
        {"fid": 5.0, "kid_mean": 0.1, "kid_std": 0.01, "precision": 0.5, "recall": 0.5, "f_score": 0.5},
        n_real=30, n_fake=30, kid_subset_size=30, weights="w.pt",
    )
    monkeypatch.setattr(fidelity, "fidelity_scores", lambda evaluation: scores)
    # Keyed by whether the set is cached: the real reference set is, the generated one not.
    features = {False: gaussian_features(30, 16, 7), True: gaussian_features(30, 16, 8, shift=1.0)}
    monkeypatch.setattr(
        fidelity, "inception_features", lambda images, device, progress, cache=False, description="": features[cache]
    )

    plain = make_evaluation(split, split, tmp_path)
    assert set(fidelity.FID().compute(plain).values) == {"fid"}
    assert set(fidelity.KID().compute(plain).values) == {"kid_mean", "kid_std"}

    asked = make_evaluation(split, split, tmp_path, fidelity_bootstrap=100)
    fid_values = fidelity.FID().compute(asked).values
    kid_values = fidelity.KID().compute(asked).values
    expected = bootstrap_intervals(features[False], features[True], 100)
    assert (fid_values["fid_ci95_low"], fid_values["fid_ci95_high"]) == expected["fid"]
    assert (kid_values["kid_mean_ci95_low"], kid_values["kid_mean_ci95_high"]) == expected["kid"]
    assert np.isfinite(list(fid_values.values())).all()
