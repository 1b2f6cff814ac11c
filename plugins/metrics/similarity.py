"""SSIM, PSNR and MSE of each generated image against a real image, in two protocols.

*nearest-real* (every GAN): see below. *paired* (image-to-image GANs only): each
translation against the real source image it was translated from (key suffix
``_paired_translation``), which says how much of the source the translation keeps.

Papers that report SSIM/PSNR for noise-to-image GANs (the IJACSA 2024 brain-MRI tables,
for one) have no natural "target" image for a sample, so we read their numbers as the
*nearest-real* protocol: each generated image is paired with the most similar real
training image (pixel MSE, within its class), and SSIM/PSNR are measured on that pair.
High values mean the samples look like real images - or that the GAN memorised them;
the numbers cannot tell those apart.

Both metrics share one nearest-neighbour search (:func:`nearest_real`), cached per
Evaluation, so running both costs one search.

Per class (the IJACSA 2024 Table VI reports SSIM and PSNR per tumour class), each
nearest-real score is also written as ``<key>[<class name>]``: the same mean over the
generated images of that class alone. The search already pairs each of them with its
nearest real image of the same class, so the per-class scores reuse its pairing and
search nothing more; a class the reference set has no images of (its generated images
were paired over the whole set) and generated images without a label (-1) have none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch
from pytorch_msssim import ssim as _msssim_ssim

from ganbench.api import REAL_REFERENCE_PROTOCOL, Evaluation, ImageSplit, Metric, MetricResult, hookimpl, per_class

#: Pixel scale everything here is measured on: the uint8 values 0..255 at rest.
MAX_VALUE = 255.0
#: The standard SSIM window (Wang et al. 2004; skimage's gaussian_weights=True).
WIN_SIZE = 11
WIN_SIGMA = 1.5
#: Fake images per chunk in the nearest-neighbour search (a CHUNK x n_real matrix).
CHUNK = 256
#: Pixel values per SSIM chunk: ~16 MB per float32 map, about ten maps alive at once.
SSIM_CHUNK_VALUES = 2**22


# --------------------------------------------------------------------------- pure maths


def pairwise_sq_distances(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances (F x R) between flattened float images.

    Uses ||f||^2 - 2 f.r + ||r||^2 (one matrix product) instead of materialising
    differences, which would need F x R x D memory.
    """
    return (
        fake.pow(2).sum(1, keepdim=True)
        - 2.0 * fake @ real.T
        + real.pow(2).sum(1).unsqueeze(0)
    )


def nearest_indices(fake: torch.Tensor, real: torch.Tensor, chunk: int = CHUNK) -> torch.Tensor:
    """For each image in ``fake`` (uint8 or float, N x ...), the index of the real image
    with the smallest pixel MSE."""
    real_flat = real.flatten(1).float()
    # Centring on the real mean leaves distances unchanged but shrinks the norms, so
    # the float32 expansion above loses far less precision to cancellation.
    centre = real_flat.mean(0, keepdim=True)
    real_flat = real_flat - centre
    out = []
    for start in range(0, fake.shape[0], chunk):
        block = fake[start : start + chunk].flatten(1).float() - centre
        out.append(pairwise_sq_distances(block, real_flat).argmin(1))
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long, device=fake.device)


def pair_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-pair mean squared error (N,), in float64 on the images' own scale."""
    return (a.double() - b.double()).pow(2).flatten(1).mean(1)


def psnr_from_mse(mse: torch.Tensor, max_value: float = MAX_VALUE) -> torch.Tensor:
    """10 log10(MAX^2 / MSE); +inf where MSE is 0 (identical images)."""
    return 10.0 * torch.log10(max_value**2 / mse.double())


def capped_pair_psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-pair PSNR (N,) of uint8 images, an exact copy scoring as if one value were
    off by one: the largest finite PSNR such images can have, instead of +inf, so a
    single copy cannot make a mean infinite while copies still score highest."""
    return psnr_from_mse(pair_mse(a, b).clamp_min(min_nonzero_mse(a.shape[1:])))


def min_nonzero_mse(shape: torch.Size) -> float:
    """The smallest non-zero MSE two uint8 images of ``shape`` (C, H, W) can have: one
    value off by one."""
    return 1.0 / math.prod(shape)


def ssim_window(height: int, width: int) -> int:
    """The standard 11-pixel window, or the largest odd window that fits a smaller
    image (pytorch_msssim would otherwise silently skip smoothing along that axis)."""
    fit = min(height, width)
    return WIN_SIZE if fit >= WIN_SIZE else fit - (1 - fit % 2)


def mean_pair_ssim(a: torch.Tensor, b: torch.Tensor, device: Optional[torch.device] = None) -> float:
    """Mean SSIM over the pairs (a[i], b[i]) of uint8 images on the 0..255 scale, each
    pair's SSIM being the mean over its channels.

    Every (image, channel) is laid out as a channel of a single batch item, so
    pytorch_msssim filters them all with one depthwise convolution: on a CPU that is
    3-4x faster than a batch of one-channel images (and float64 would be ~50x slower
    still, for a difference of ~1e-8). The mean over channels of all pairs equals the
    mean over pairs of their per-image SSIM because every pair has C channels.
    """
    n, c, h, w = a.shape
    if n == 0:
        raise ValueError("no image pairs to compare")
    win = ssim_window(h, w)
    chunk = max(1, SSIM_CHUNK_VALUES // (c * h * w))
    total = 0.0
    for start in range(0, n, chunk):
        x = a[start : start + chunk].to(device).float()
        y = b[start : start + chunk].to(device).float()
        k = x.shape[0]
        value = _msssim_ssim(
            x.reshape(1, k * c, h, w), y.reshape(1, k * c, h, w),
            data_range=MAX_VALUE, win_size=win, win_sigma=WIN_SIGMA,
        )
        total += float(value) * k
    return total / n


# --------------------------------------------------------------------------- the search


@dataclass
class NearestReal:
    """The pairing of every generated image with its nearest real image."""

    #: The capped real reference set the search ran over.
    real: ImageSplit
    #: For fake image i, the index into ``real`` of its partner (N_fake,).
    index: torch.Tensor
    #: For fake image i, whether its partner was searched within its own class (N_fake,
    #: bool): False for a label that is negative or that the reference set lacks.
    within_class: torch.Tensor
    #: The labels of the generated images searched for (N_fake,).
    fake_labels: torch.Tensor

    def partners(self) -> torch.Tensor:
        return self.real.images[self.index]

    def classes(self) -> dict[int, torch.Tensor]:
        """Label -> positions of the generated images of that class paired within it, for
        every label some generated image was paired within its class, ascending."""
        labels = self.fake_labels[self.within_class]
        return {
            label: (self.within_class & (self.fake_labels == label)).nonzero().squeeze(1)
            for label in sorted(set(labels.tolist()))
        }


def search(fake: ImageSplit, real: ImageSplit, device: torch.device) -> NearestReal:
    """Nearest real image per fake image, within the fake's class where the reference
    set has images of that class, otherwise over the whole reference set (labels that
    are negative or unknown to the real set carry no class information)."""
    if fake.images.shape[1:] != real.images.shape[1:]:
        raise ValueError(
            f"generated images {tuple(fake.images.shape[1:])} and real images "
            f"{tuple(real.images.shape[1:])} differ in shape; cannot pair them"
        )
    if len(real) == 0:
        raise ValueError("the real reference set is empty; nothing to pair generated images with")
    index = torch.empty(len(fake), dtype=torch.long)
    real_classes = set(real.labels.tolist())
    done = torch.zeros(len(fake), dtype=torch.bool)
    for label in sorted(set(fake.labels.tolist())):
        if label < 0 or label not in real_classes:
            continue
        fake_pos = (fake.labels == label).nonzero().squeeze(1)
        real_pos = (real.labels == label).nonzero().squeeze(1)
        local = nearest_indices(fake.images[fake_pos].to(device), real.images[real_pos].to(device))
        index[fake_pos] = real_pos[local.cpu()]
        done[fake_pos] = True
    rest = (~done).nonzero().squeeze(1)
    if len(rest):
        index[rest] = nearest_indices(fake.images[rest].to(device), real.images.to(device)).cpu()
    return NearestReal(real, index, done, fake.labels.cpu())


def nearest_real(evaluation: Evaluation) -> NearestReal:
    """The pairing for an Evaluation, searched once and shared by SSIM and PSNR."""
    return evaluation.shared(
        "nearest-real", lambda: search(evaluation.fake, evaluation.real_reference(), evaluation.device)
    )


# --------------------------------------------------------------------------- plugins

_MEMORISATION = (
    "High values can also mean the GAN memorised training images, so read them beside "
    "a diversity or distribution metric."
)
_PAIRING = REAL_REFERENCE_PROTOCOL + (
    "Each generated image is paired with its nearest real image in the reference set by "
    "pixel MSE, searched within the generated image's class (over the whole reference set "
    "when the class is absent from it). "
)


class _NearestRealMetric(Metric):
    kind = "paired"
    direction = "higher"
    #: The values one score can take; every result key of the metric shares it.
    score_range: tuple[float, float] = (-float("inf"), float("inf"))

    def score(self, fake: torch.Tensor, real: torch.Tensor, device: torch.device) -> float:
        """The mean over pairs (fake[i], real[i]) of uint8 images."""
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        prefix = cls.name.replace("-", "_")
        cls.result_keys = (f"{prefix}_nearest_real", f"{prefix}_paired_translation", f"{prefix}_paired_cycle")
        cls.headline_keys = (f"{prefix}_nearest_real",)
        cls.value_ranges = dict.fromkeys(cls.result_keys, cls.score_range)
        cls.protocol = cls.protocol + (
            f" For image-to-image GANs, `{prefix}_paired_translation` is the same measure between each "
            "translation and the held-out real source image it was translated from, and "
            f"`{prefix}_paired_cycle` between that source and its cycle reconstruction (the "
            "translation translated back)."
            f" Per class, `{prefix}_nearest_real[<class>]` is the same mean over the generated images of "
            "that class alone, each paired with its nearest real image of the same class in the reference "
            "set, for every class whose generated images carry their label (none for an unconditional GAN "
            "trained on all classes at once) and that the reference set has images of; the unqualified key "
            "stays the mean over all generated images."
        )
        cls.per_class_keys = (f"{prefix}_nearest_real",)

    def compute(self, evaluation: Evaluation, classifier=None) -> MetricResult:
        pairing = nearest_real(evaluation)
        partners = pairing.partners()
        values = {self.result_keys[0]: self.score(evaluation.fake.images, partners, evaluation.device)}
        class_names = evaluation.data.class_names
        for label, positions in pairing.classes().items():
            if 0 <= label < len(class_names):
                values[per_class(self.result_keys[0], class_names[label])] = self.score(
                    evaluation.fake.images[positions], partners[positions], evaluation.device
                )
        if evaluation.sources is not None:
            values[self.result_keys[1]] = self.score(evaluation.fake.images, evaluation.sources.images, evaluation.device)
        if evaluation.reconstructions is not None:
            values[self.result_keys[2]] = self.score(
                evaluation.reconstructions.images, evaluation.sources.images, evaluation.device
            )
        return MetricResult(values, n_real=len(pairing.real), n_fake=len(evaluation.fake))


class SSIM(_NearestRealMetric):
    name = "ssim"
    description = "Mean SSIM of each generated image with its nearest real training image"
    source = "Wang et al., IEEE TIP 2004 (SSIM); nearest-real reading of the IJACSA 2024 brain-MRI tables"
    protocol = (
        _PAIRING + "SSIM (pytorch_msssim, 11x11 gaussian window, sigma 1.5, K=(0.01, 0.03), "
        "data_range 255 on the uint8 pixel values, valid-region mean, averaged over "
        "channels; images under 11 px per side use the largest odd window that fits) "
        "is computed per pair and averaged over all generated images. " + _MEMORISATION
    )

    score_range = (-1.0, 1.0)

    def score(self, fake, real, device):
        return mean_pair_ssim(fake, real, device)


class PSNR(_NearestRealMetric):
    name = "psnr"
    description = "Mean PSNR (dB) of each generated image with its nearest real training image"
    source = "Nearest-real reading of the IJACSA 2024 brain-MRI tables"
    protocol = (
        _PAIRING + "PSNR = 10 log10(255^2 / MSE) on the uint8 pixel values is computed per "
        "pair and averaged (in dB) over all generated images. An exact copy (MSE 0) is "
        "scored as if one value were off by one (MSE 1/(C*H*W)), the highest finite PSNR "
        "uint8 images of that size can have, so one copy cannot make the mean infinite. "
        + _MEMORISATION
    )

    score_range = (0.0, float("inf"))  # MSE is at most 255^2

    def score(self, fake, real, device):
        return float(capped_pair_psnr(fake, real).mean())


class MSE(_NearestRealMetric):
    name = "mse"
    description = "Mean squared error (grey levels^2) of each generated image with its nearest real training image"
    source = "Nearest-real reading of the IJACSA 2024 brain-MRI tables (MSE beside PSNR)"
    direction = "lower"
    protocol = (
        _PAIRING + "MSE is the mean over pixels and channels of the squared difference of "
        "the uint8 pixel values (0..255 scale), averaged over all generated images. "
        "The pairing minimises exactly this quantity, so it is the distance to the "
        "nearest real image. " + _MEMORISATION
    )

    score_range = (0.0, MAX_VALUE**2)

    def score(self, fake, real, device):
        return float(pair_mse(fake, real).mean())


@hookimpl
def register_metrics(register):
    register(SSIM())
    register(PSNR())
    register(MSE())
