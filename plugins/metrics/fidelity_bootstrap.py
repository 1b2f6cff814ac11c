"""Bootstrap 95% intervals for FID and KID, computed only when a run asks for them
(``--metric-setting fidelity_bootstrap=N``).

The spread over seeds says how much the GAN varies between trainings; it says nothing
about how much FID moves with the particular images that happened to be drawn. The
percentile bootstrap answers that second question: both feature sets are resampled
with replacement N times, FID and KID are recomputed on every pair of resamples, and
the 2.5th and 97.5th percentiles bound the interval. Repeated images in a resample
bias FID upwards a little, so the interval describes the spread, it does not correct
the point estimate.

FID is :func:`.frechet.frechet_distance`, whose cost follows the smaller set (an
eigvalsh of at most n x n for n images below the 2048 feature dimensions), so a
resample costs milliseconds, not a 2048 x 2048 matrix square root.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from ganbench.api import Setting

from .frechet import frechet_distance

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
        fids.append(frechet_distance(fake_draw, real_draw))
        kids.append(kid_from_features(fake_draw, real_draw))
    return {
        "fid": percentile_interval(torch.tensor(fids, dtype=torch.float64)),
        "kid": percentile_interval(torch.tensor(kids, dtype=torch.float64)),
    }
