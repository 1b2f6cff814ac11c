"""``memorization``: does the GAN copy its training images?

Synthetic medical images are meant to stand in for patients' scans; a generator that
reproduces its training images does not protect anyone. For each generated image we take
the distance to its nearest GAN-training image; the same distance for held-out real
images (patients the GAN never saw) says how close *new* data naturally comes to the
training set. The threshold is the 5th percentile of the held-out distances, and the
score is the share of generated images closer than that:

* about 0.05: no more copying than real data shows;
* near 1.0: the generated images are (near) copies of training images.

Distances are measured in two spaces: pixels (Euclidean on the uint8 values, always)
and the FID Inception network's 2048-d features (when the profile's
``memorization_spaces`` includes ``inception``; the generated and reference images'
features are FID's, and the held-out images cost one more Inception pass, cached on disk
by their pixels' hash like the reference set's). Held-out images
identical to a training image (distance 0, the leakage the data check reports) are left
out of the threshold: they are not new data. The closest generated/training pairs are
saved as an image for a person to look at.
"""

from __future__ import annotations

import json
from typing import Callable, Optional

import numpy as np
import torch
from PIL import Image

from ganbench.api import (
    REAL_REFERENCE_PROTOCOL,
    REAL_REFERENCE_SEED,
    Evaluation,
    ImageSplit,
    Metric,
    MetricResult,
    Setting,
    hookimpl,
)

from .similarity import exact_nearest

PERCENTILE = 5.0
DEFAULT_SPACES = ("pixels",)
SPACES = Setting(
    "memorization_spaces", tuple, DEFAULT_SPACES,
    "Spaces the distances to the nearest training image are measured in (inception: one more Inception pass)",
    choices=("pixels", "inception"),
)
#: Closest pairs shown in the artifact image.
SHOWN_PAIRS = 8


def pixel_distances(queries: torch.Tensor, references: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(Euclidean distance to the nearest reference, its index) per query, both on the
    CPU: (Q,) float64 and (Q,) int64, the lowest index where several are equally near.

    ``queries`` and ``references``: Q x C x H x W and R x C x H x W uint8 images; the
    search runs on ``device``. It is the exact search of
    :func:`~ganbench_plugins.metrics.similarity.exact_nearest`, which also returns the
    exact integer squared distance of each pair found, so the distance is its square
    root, with no second pass over the pixels.

    Raises:
        ValueError: as ``exact_nearest`` (shapes differ, no references, ...).
    """
    found = exact_nearest(queries.to(device), references.to(device))
    return found.sq_distance.cpu().sqrt(), found.index.cpu()


def feature_distances(queries: torch.Tensor, references: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    distances = torch.cdist(queries.double(), references.double())
    best = distances.min(1)
    return best.values, best.indices


def memorization_rate(fake_distances: torch.Tensor, held_out_distances: torch.Tensor) -> tuple[float, float]:
    """(share of generated images below the threshold, the threshold)."""
    novel = held_out_distances[held_out_distances > 0]
    if len(novel) == 0:
        raise ValueError("every held-out image is identical to a training image: no threshold can be set")
    threshold = float(np.percentile(novel.numpy(), PERCENTILE))
    return float((fake_distances < threshold).double().mean()), threshold


def held_out(evaluation: Evaluation) -> ImageSplit:
    """The real test split, capped at n_real (fixed seed): patients the GAN never saw."""
    test = evaluation.data.test
    if len(test) <= evaluation.n_real:
        return test
    order = torch.randperm(len(test), generator=torch.Generator().manual_seed(REAL_REFERENCE_SEED))[: evaluation.n_real]
    return test.subset(torch.sort(order).values)


def save_closest_pairs(path, fake: torch.Tensor, train: torch.Tensor, distances: torch.Tensor, index: torch.Tensor) -> None:
    """Top row: the generated images closest to a training image; bottom row: that image."""
    order = torch.argsort(distances)[:SHOWN_PAIRS]
    top = torch.cat([fake[i] for i in order], dim=-1)
    bottom = torch.cat([train[index[i]] for i in order], dim=-1)
    grid = torch.cat([top, bottom], dim=-2)
    array = grid[0].numpy() if grid.shape[0] == 1 else grid.permute(1, 2, 0).numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(array)).save(path)


class Memorization(Metric):
    name = "memorization"
    description = "Share of generated images closer to a training image than 95% of held-out real images are"
    source = "ganbench; nearest-neighbour memorisation tests after Meehan et al., AISTATS 2020 and Carlini et al., USENIX Security 2023"
    kind = "privacy"
    direction = "lower"
    result_keys = ("memorization_pixels", "memorization_inception")
    value_ranges = dict.fromkeys(result_keys, (0.0, 1.0))  # shares of the generated images
    settings = (SPACES,)
    protocol = (
        REAL_REFERENCE_PROTOCOL + "Those real images stand for the GAN's training images. For each "
        "generated image: the distance to its nearest training image; for each held-out real image (the "
        "test split, at most n_real, fixed seed): the same distance. The threshold is the 5th percentile "
        "of the held-out distances (held-out images identical to a training image left out); the score "
        "is the share of generated images below it: about 0.05 means no more copying than new real data "
        "shows, near 1 means the GAN reproduces training images. `memorization_pixels`: Euclidean "
        "distance of the uint8 pixels; `memorization_inception` (profiles whose "
        "settings['memorization_spaces'] include inception): Euclidean distance of the 2048-d FID "
        "Inception features. The closest pairs are saved as memorization-<space>.png; thresholds in "
        "memorization.json."
    )

    def __init__(self, inception_features: Optional[Callable] = None):
        # Injectable so tests can run the Inception path on cheap stand-in features.
        self._inception_features = inception_features

    def inception_features(self, images: ImageSplit, evaluation: Evaluation, cache: bool) -> torch.Tensor:
        """N x 2048 features of ``images``; real ones (``cache``) kept on disk under their
        pixels' hash, the generated set's shared with FID/KID/precision-recall."""
        if self._inception_features is not None:
            return self._inception_features(images, evaluation, cache)
        from .fidelity import generated_features, inception_features

        if images is evaluation.fake:
            return generated_features(evaluation)
        return inception_features(images.images, evaluation.device, evaluation.progress, cache=cache)

    def compute(self, evaluation: Evaluation, classifier=None) -> MetricResult:
        spaces = evaluation.settings.get("memorization_spaces", DEFAULT_SPACES)
        if isinstance(spaces, str):  # from the command line: "pixels,inception"
            spaces = [s.strip() for s in spaces.split(",") if s.strip()]
        spaces = tuple(spaces)
        unknown = set(spaces) - {"pixels", "inception"}
        if unknown:
            raise ValueError(f"memorization_spaces may hold pixels and inception, not {sorted(unknown)}")
        train, held = evaluation.real_reference(), held_out(evaluation)
        fake = evaluation.fake
        values, record = {}, {"percentile": PERCENTILE, "n_train": len(train), "n_held_out": len(held), "n_fake": len(fake)}
        artifacts = {}
        for space in spaces:
            if space == "pixels":
                d_fake, index = pixel_distances(fake.images, train.images, evaluation.device)
                d_held, _ = pixel_distances(held.images, train.images, evaluation.device)
            else:
                f_train = self.inception_features(train, evaluation, True)
                f_held = self.inception_features(held, evaluation, True)
                f_fake = self.inception_features(fake, evaluation, False)
                d_fake, index = feature_distances(f_fake, f_train)
                d_held, _ = feature_distances(f_held, f_train)
            rate, threshold = memorization_rate(d_fake, d_held)
            values[f"memorization_{space}"] = rate
            record[space] = {"threshold": threshold, "rate": rate, "closest_fake_distance": float(d_fake.min())}
            name = f"memorization-{space}.png"
            save_closest_pairs(evaluation.artifacts_dir / name, fake.images, train.images, d_fake, index)
            artifacts[f"memorization-{space}"] = name
        (evaluation.artifacts_dir / "memorization.json").write_text(json.dumps(record, indent=2))
        artifacts["memorization"] = "memorization.json"
        return MetricResult(values, n_real=len(train), n_fake=len(fake), artifacts=artifacts)


@hookimpl
def register_metrics(register):
    register(Memorization())
