"""Bootstrap 95% intervals for FID and KID, computed only when a run asks for them
(``--metric-setting fidelity_bootstrap=N``).

The spread over seeds says how much the GAN varies between trainings; it says nothing
about how much FID moves with the particular images that happened to be drawn. The
percentile bootstrap answers that second question: both feature sets are resampled
with replacement N times, FID and KID are recomputed on every pair of resamples, and
the 2.5th and 97.5th percentiles bound the interval. Repeated images in a resample
bias FID upwards a little, so the interval describes the spread, it does not correct
the point estimate.

A 2048 x 2048 matrix square root per resample would take seconds; with fewer images
than feature dimensions it is not needed. For centred feature matrices A (n1 x d) and
B (n2 x d), the covariances are A'A/(n1-1) and B'B/(n2-1), and the trace of the square
root of their product equals the nuclear norm of A B' divided by sqrt((n1-1)(n2-1)):
the non-zero eigenvalues of A'A B'B are the squared singular values of A B'. That is an
n1 x n2 SVD instead, exact in float64 (a test checks it against torch-fidelity's FID).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import torch

from ganbench.api import Setting

SETTING = "fidelity_bootstrap"
CONFIDENCE = 0.95
BOOTSTRAP_SEED = 0
#: What FID and KID declare, so a run checks the value before any training.
BOOTSTRAP_SETTING = Setting(
    SETTING, int, 0, "Bootstrap resamples for 95% intervals of FID and KID (0: none)",
    check=lambda count: count == 0 or count >= 20, rule="0 (off) or at least 20",
)


def bootstrap_count(settings: Mapping[str, Any]) -> int:
    """How many resamples the run asked for; 0 when it asked for none."""
    raw = settings.get(SETTING, 0)
    try:
        count = int(raw)
    except (TypeError, ValueError):
        count = -1
    if count < 0 or (count and count < 20):
        raise ValueError(f"{SETTING} takes 0 (off) or a number of resamples of at least 20, got {raw!r}")
    return count


def fid_from_features(a: torch.Tensor, b: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (rows = images)."""
    a, b = a.double(), b.double()
    mean_gap = a.mean(0) - b.mean(0)
    a_centred, b_centred = a - a.mean(0), b - b.mean(0)
    scale_a, scale_b = len(a) - 1, len(b) - 1
    trace_a = float((a_centred**2).sum()) / scale_a
    trace_b = float((b_centred**2).sum()) / scale_b
    cross = torch.linalg.svdvals(a_centred @ b_centred.T).sum().item() / math.sqrt(scale_a * scale_b)
    return float(mean_gap @ mean_gap) + trace_a + trace_b - 2 * cross


def kid_from_features(a: torch.Tensor, b: torch.Tensor) -> float:
    """Unbiased MMD^2 with KID's cubic polynomial kernel (x.y/d + 1)^3 on whole sets."""
    a, b = a.double(), b.double()
    dims = a.shape[1]

    def kernel(x, y):
        return (x @ y.T / dims + 1) ** 3

    k_aa, k_bb, k_ab = kernel(a, a), kernel(b, b), kernel(a, b)
    m, n = len(a), len(b)
    within_a = (k_aa.sum() - k_aa.diagonal().sum()) / (m * (m - 1))
    within_b = (k_bb.sum() - k_bb.diagonal().sum()) / (n * (n - 1))
    return float(within_a + within_b - 2 * k_ab.mean())


def percentile_interval(values: torch.Tensor) -> tuple[float, float]:
    tail = (1 - CONFIDENCE) / 2
    low, high = torch.quantile(values, torch.tensor([tail, 1 - tail], dtype=values.dtype))
    return float(low), float(high)


def bootstrap_intervals(fake: torch.Tensor, real: torch.Tensor, resamples: int, seed: int = BOOTSTRAP_SEED) -> dict[str, tuple[float, float]]:
    """Percentile intervals of FID and KID over ``resamples`` paired resamples."""
    generator = torch.Generator().manual_seed(seed)
    fids, kids = [], []
    for _ in range(resamples):
        fake_draw = fake[torch.randint(len(fake), (len(fake),), generator=generator)]
        real_draw = real[torch.randint(len(real), (len(real),), generator=generator)]
        fids.append(fid_from_features(fake_draw, real_draw))
        kids.append(kid_from_features(fake_draw, real_draw))
    return {
        "fid": percentile_interval(torch.tensor(fids, dtype=torch.float64)),
        "kid": percentile_interval(torch.tensor(kids, dtype=torch.float64)),
    }
