"""FID's Fréchet distance (plugins/metrics/frechet.py) against independent references:
hand-computed values, scipy's matrix square root, and torch-fidelity's function, in
every regime of the factorisation (fewer rows than dimensions on either side, more on
both)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from ganbench_plugins.metrics.frechet import frechet_distance, trace_sqrt_product

torch_fidelity = pytest.importorskip("torch_fidelity")
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric  # noqa: E402


def correlated(n: int, dims: int, seed: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
    """Gaussian rows with a shared non-diagonal covariance (so no shortcut of a diagonal one)."""
    generator = torch.Generator().manual_seed(seed)
    mixing = torch.randn(dims, dims, generator=torch.Generator().manual_seed(1000 + dims), dtype=torch.float64) / math.sqrt(dims)
    return torch.randn(n, dims, generator=generator, dtype=torch.float64) @ mixing * scale + shift


def torch_fidelity_fid(a: torch.Tensor, b: torch.Tensor) -> float:
    stats = fid_statistics_to_metric(fid_features_to_statistics(a), fid_features_to_statistics(b), verbose=False)
    return stats["frechet_inception_distance"]


def sqrtm_fid(a: torch.Tensor, b: torch.Tensor) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) with scipy's sqrtm, float64."""
    a, b = a.double().numpy(), b.double().numpy()
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    gap = a.mean(0) - b.mean(0)
    return float(gap @ gap + np.trace(s_a + s_b - 2.0 * scipy.linalg.sqrtm(s_a @ s_b).real))


def axis_points(spreads, centre) -> torch.Tensor:
    """Rows +-x e_i around ``centre``: mean ``centre`` and covariance diag(2 x_i^2 / (n-1))
    exactly, n = 2 * len(spreads)."""
    rows = []
    for i, x in enumerate(spreads):
        for sign in (1.0, -1.0):
            row = list(centre)
            row[i] += sign * x
            rows.append(row)
    return torch.tensor(rows, dtype=torch.float64)


def test_diagonal_covariances_by_hand():
    # Variances v = 2 x^2 / 5 with x^2 = 2.5 v; diagonal covariances commute, so
    # Tr (S_a S_b)^(1/2) = sum sqrt(v_a v_b) and FID = |gap|^2 + sum (sqrt v_a - sqrt v_b)^2.
    v_a, v_b = [1.0, 4.0, 9.0], [4.0, 1.0, 1.0]
    a = axis_points([math.sqrt(2.5 * v) for v in v_a], [0.0, 1.0, 2.0])
    b = axis_points([math.sqrt(2.5 * v) for v in v_b], [1.0, 1.0, 0.0])
    # |gap|^2 = 1 + 0 + 4 = 5; (1-2)^2 + (2-1)^2 + (3-1)^2 = 6.
    assert frechet_distance(a, b) == pytest.approx(11.0, rel=1e-12)
    assert trace_sqrt_product(a - a.mean(0), b - b.mean(0)) == pytest.approx(2 + 2 + 3, rel=1e-12)


def test_identical_sets_are_at_distance_zero_and_a_shift_adds_its_square():
    a = correlated(50, 8, 1)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    shift = torch.tensor([3.0, 0, 0, 4.0, 0, 0, 0, 0], dtype=torch.float64)
    assert frechet_distance(a, a + shift) == pytest.approx(25.0, rel=1e-9)


def nuclear_norm_fid(a: torch.Tensor, b: torch.Tensor) -> float:
    """The same distance with Tr (S_a S_b)^(1/2) as the sum of the singular values of
    A B' / sqrt((n_a - 1)(n_b - 1)) for the centred rows A, B (numpy's SVD, float64):
    exact where a covariance is singular, unlike any d x d square root."""
    a, b = a.double().numpy(), b.double().numpy()
    centred_a, centred_b = a - a.mean(0), b - b.mean(0)
    gap = a.mean(0) - b.mean(0)
    scale_a, scale_b = len(a) - 1, len(b) - 1
    cross = np.linalg.svd(centred_a @ centred_b.T, compute_uv=False).sum() / math.sqrt(scale_a * scale_b)
    return float(gap @ gap + (centred_a**2).sum() / scale_a + (centred_b**2).sum() / scale_b - 2 * cross)


REGIMES = [
    (40, 70, 256),   # fewer rows than dimensions on both sides (the smoke profile's case)
    (70, 40, 256),   # the same, factored from the other side
    (50, 300, 64),   # one side below the dimensions, one above
    (300, 50, 64),
    (300, 500, 64),  # both above: a d x d eigendecomposition (the paper profile's case)
]


@pytest.mark.parametrize("n_a, n_b, dims", REGIMES)
def test_equals_the_nuclear_norm_form_and_is_symmetric(n_a, n_b, dims):
    a, b = correlated(n_a, dims, 2), correlated(n_b, dims, 3, scale=1.3, shift=0.2)
    ours = frechet_distance(a, b)
    assert ours == pytest.approx(nuclear_norm_fid(a, b), rel=1e-8)
    assert frechet_distance(b, a) == pytest.approx(ours, rel=1e-12)


@pytest.mark.parametrize("n_a, n_b, dims", REGIMES)
def test_equals_torch_fidelity(n_a, n_b, dims):
    # torch-fidelity sums the square roots of the eigenvalues of the non-symmetric product
    # S_a S_b; where a covariance is singular, its zero eigenvalues come out as rounding
    # noise of about 1e-16 of the largest, whose square roots add about 1e-7 (relative).
    a, b = correlated(n_a, dims, 2), correlated(n_b, dims, 3, scale=1.3, shift=0.2)
    assert frechet_distance(a, b) == pytest.approx(torch_fidelity_fid(a, b), rel=1e-6)


def test_float32_features_agree_with_torch_fidelity_to_its_rounding():
    a, b = correlated(60, 512, 4).float(), correlated(90, 512, 5, scale=0.8, shift=0.1).float()
    assert frechet_distance(a, b) == pytest.approx(torch_fidelity_fid(a, b), rel=1e-6)


@pytest.mark.parametrize("n_a, n_b", [(200, 300), (300, 200)])
def test_equals_scipy_matrix_square_root_on_full_rank_covariances(n_a, n_b):
    # More rows than dimensions on both sides: both covariances are full rank and scipy's
    # sqrtm is well-conditioned, so it is an independent reference to many digits.
    a, b = correlated(n_a, 24, 6), correlated(n_b, 24, 7, scale=1.5, shift=-0.3)
    assert frechet_distance(a, b) == pytest.approx(sqrtm_fid(a, b), rel=1e-9)


def test_a_singular_product_loses_no_accuracy():
    # 5 rows in 64 dimensions: S_a has rank 4, so 60 eigenvalues of S_a S_b are zero and
    # rounding makes some slightly negative; they must count as zero, not as NaN.
    a, b = correlated(5, 64, 8), correlated(400, 64, 9)
    value = frechet_distance(a, b)
    assert math.isfinite(value)
    assert value == pytest.approx(nuclear_norm_fid(a, b), rel=1e-8)


@pytest.mark.parametrize(
    "a, b, message",
    [
        (torch.zeros(5), torch.zeros(5, 3), "N x D"),
        (torch.zeros(1, 3), torch.zeros(5, 3), "at least 2"),
        (torch.zeros(5, 3), torch.zeros(5, 4), "different dimensions"),
        (torch.tensor([[0.0, 1.0], [float("nan"), 2.0]]), torch.zeros(4, 2), "NaN"),
        (torch.zeros(4, 2), torch.tensor([[0.0, 1.0], [float("inf"), 2.0]]), "infinite"),
    ],
)
def test_bad_inputs_are_refused_clearly(a, b, message):
    with pytest.raises(ValueError, match=message):
        frechet_distance(a, b)
