"""MS-SSIM (Wang, Simoncelli and Bovik 2003) in two uses:

* ``ms-ssim``: similarity of each generated image to a real image, in the same two
  protocols as SSIM (nearest real training image; for image-to-image GANs, the source
  image of each translation);
* ``diversity-ms-ssim``: mean MS-SSIM between random pairs of *generated* images of the
  same class (the recipe of Odena et al. 2017, used by MONAI's generative tutorials):
  the higher, the more alike the samples are. A GAN can score high SSIM to real images
  by collapsing onto a few of them; this number shows that. The same measure over pairs
  of real reference images is reported beside it as the target.

The standard MS-SSIM needs images larger than 160 px (five scales of an 11 px window).
Here the scales are the standard ones that fit: level L is kept while the image at that
level is at least as large as the window, and the standard weights (0.0448, 0.2856,
0.3001, 0.2363, 0.1333) of the kept levels are renormalised to sum to one. At 256 px all
five are used and the value equals pytorch_msssim's ``ms_ssim`` (tested); at 32 px two.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch.nn import functional as F

from ganbench.api import REAL_REFERENCE_SEED, Evaluation, ImageSplit, Metric, MetricResult, hookimpl

from .similarity import _PAIRING, MAX_VALUE, WIN_SIGMA, WIN_SIZE, _NearestRealMetric

MS_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
K1, K2 = 0.01, 0.03
#: Generated (and real) image pairs per diversity estimate.
DIVERSITY_PAIRS = 500
CHUNK = 256


def levels_for(height: int, width: int, win: int = WIN_SIZE) -> int:
    side, levels = min(height, width), 1
    while levels < len(MS_WEIGHTS) and side // 2 >= win:
        side, levels = (side + 1) // 2, levels + 1
    return levels


def _gaussian(win: int, sigma: float, channels: int, dtype) -> torch.Tensor:
    coords = torch.arange(win, dtype=dtype) - win // 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    return (g / g.sum()).reshape(1, 1, 1, win).repeat(channels, 1, 1, 1)


def _blur(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter, valid region only."""
    c = x.shape[1]
    x = F.conv2d(x, window, groups=c)
    return F.conv2d(x, window.transpose(2, 3), groups=c)


def ssim_and_contrast(x: torch.Tensor, y: torch.Tensor, window: torch.Tensor, data_range: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per (image, channel): mean SSIM and mean contrast-structure term."""
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    mu_x, mu_y = _blur(x, window), _blur(y, window)
    sigma_xx = _blur(x * x, window) - mu_x**2
    sigma_yy = _blur(y * y, window) - mu_y**2
    sigma_xy = _blur(x * y, window) - mu_x * mu_y
    cs = (2 * sigma_xy + c2) / (sigma_xx + sigma_yy + c2)
    ssim = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1) * cs
    return ssim.flatten(2).mean(2), cs.flatten(2).mean(2)


def ms_ssim(a: torch.Tensor, b: torch.Tensor, data_range: float = MAX_VALUE, win: int = WIN_SIZE, sigma: float = WIN_SIGMA) -> torch.Tensor:
    """Per-pair MS-SSIM (N,) of images on a 0..data_range scale, the mean over channels."""
    x, y = a.float(), b.float()
    levels = levels_for(x.shape[-2], x.shape[-1], win)
    win = min(win, min(x.shape[-2:]) - (1 - min(x.shape[-2:]) % 2))
    weights = torch.tensor(MS_WEIGHTS[:levels], dtype=torch.float32)
    weights = weights / weights.sum()
    window = _gaussian(win, sigma, x.shape[1], x.dtype).to(x.device)
    terms = []
    for level in range(levels):
        ssim, cs = ssim_and_contrast(x, y, window, data_range)
        if level < levels - 1:
            terms.append(torch.relu(cs))
            padding = [s % 2 for s in x.shape[2:]]
            x, y = F.avg_pool2d(x, 2, padding=padding), F.avg_pool2d(y, 2, padding=padding)
    terms.append(torch.relu(ssim))
    stacked = torch.stack(terms)  # (levels, N, C)
    return torch.prod(stacked ** weights.to(stacked.device).view(-1, 1, 1), dim=0).mean(1)


def mean_ms_ssim(a: torch.Tensor, b: torch.Tensor, device: Optional[torch.device] = None) -> float:
    if len(a) == 0:
        raise ValueError("no image pairs to compare")
    total = 0.0
    for start in range(0, len(a), CHUNK):
        total += float(ms_ssim(a[start : start + CHUNK].to(device), b[start : start + CHUNK].to(device)).double().sum())
    return total / len(a)


def same_class_pairs(split: ImageSplit, n_pairs: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Up to ``n_pairs`` random pairs (i != j) within a class, spread over the classes in
    proportion to their images; drawn with ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    firsts, seconds = [], []
    classes = [c for c in split.labels.unique().tolist() if int((split.labels == c).sum()) >= 2]
    total = sum(int((split.labels == c).sum()) for c in classes)
    for c in classes:
        members = (split.labels == c).nonzero().squeeze(1)
        k = max(1, round(n_pairs * len(members) / total))
        i = torch.randint(len(members), (k,), generator=generator)
        j = (i + torch.randint(1, len(members), (k,), generator=generator)) % len(members)
        firsts.append(members[i])
        seconds.append(members[j])
    if not firsts:
        raise ValueError("diversity needs a class with at least two images")
    return torch.cat(firsts), torch.cat(seconds)


class MSSSIM(_NearestRealMetric):
    name = "ms-ssim"
    description = "Mean MS-SSIM of each generated image with its nearest real training image"
    source = "Wang, Simoncelli and Bovik, Asilomar 2003 (MS-SSIM)"
    protocol = (
        _PAIRING + "MS-SSIM (11 px gaussian window, sigma 1.5, K=(0.01, 0.03), data_range 255; "
        "the standard scales that fit the image, their weights renormalised, see "
        "plugins/metrics/ms_ssim.py) is computed per pair and averaged over all generated images. "
        "High values can also mean the GAN memorised training images, so read them beside "
        "diversity-ms-ssim and memorization."
    )

    score_range = (0.0, 1.0)  # a product of terms clipped to [0, 1]

    def score(self, fake, real, device):
        return mean_ms_ssim(fake, real, device)


class DiversityMSSSIM(Metric):
    name = "diversity-ms-ssim"
    description = "Mean MS-SSIM between pairs of generated images of a class (lower: more diverse); real pairs beside"
    source = "Odena, Olah and Shlens, ICML 2017 (MS-SSIM as a diversity measure); MONAI generative tutorials"
    kind = "diversity"
    direction = "lower"
    result_keys = ("ms_ssim_diversity", "ms_ssim_diversity_real")
    headline_keys = ("ms_ssim_diversity",)
    undirected_keys = ("ms_ssim_diversity", "ms_ssim_diversity_real")
    value_ranges = dict.fromkeys(result_keys, (0.0, 1.0))
    protocol = (
        f"{DIVERSITY_PAIRS} random pairs of different generated images of the same class (pairs spread "
        f"over the classes by their share, drawn with the fixed seed {REAL_REFERENCE_SEED}); the mean "
        "MS-SSIM of the pairs (as ms-ssim computes it) is `ms_ssim_diversity`. The same over pairs of the "
        "real reference set is `ms_ssim_diversity_real`. Lower means more varied; a generated value well "
        "above the real one signals mode collapse, well below it noise. Neither direction is better in "
        "itself, so the leaderboard shows no arrow: compare with the real value."
    )

    def compute(self, evaluation: Evaluation, classifier=None) -> MetricResult:
        values = {}
        for key, split in (("ms_ssim_diversity", evaluation.fake), ("ms_ssim_diversity_real", evaluation.real_reference())):
            i, j = same_class_pairs(split, DIVERSITY_PAIRS, REAL_REFERENCE_SEED)
            values[key] = mean_ms_ssim(split.images[i], split.images[j], evaluation.device)
        return MetricResult(values, n_real=len(evaluation.real_reference()), n_fake=len(evaluation.fake))


@hookimpl
def register_metrics(register):
    register(MSSSIM())
    register(DiversityMSSSIM())
