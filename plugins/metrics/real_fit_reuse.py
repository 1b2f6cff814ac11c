"""One real-data classifier fit per run, not one per GAN.

TRTR trains a classifier on real images only, so its result does not depend on the
GAN of the cell it runs in: the smoke profile's two GANs got bit-identical TRTR rows for
each seed, and the paper profile would train the same ResNet-152 on the same 10,000
real images twelve times per seed, once for every GAN of the zoo. Cells of one process
(the local executor runs them all; a Ray worker may run several) keep the test-split
predictions of each such fit here and reuse them.

A fit is reused only when everything it was computed from is equal: the protocol, the
classifier (name and class), its hyperparameters and build options, the seed, the
device, and the real images and labels themselves (a BLAKE2 digest of the bytes of both
splits, so no dataset plugin's fingerprint is trusted for it). The scores and the
confusion matrices are recomputed from the kept predictions in every cell, so a cell's
rows and artifacts are what it would have computed itself; only its wall time for the
metric is shorter, and its log says it reused the fit.

Nothing is written to disk: a new process fits again. At most :data:`KEPT` fits are
kept, the least recently used dropped first.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Hashable, Mapping, Optional

import torch

from ganbench.api import Classifier, Evaluation

#: Fits kept per process: a few kilobytes of logits each.
KEPT = 64


@dataclass(frozen=True)
class FitPredictions:
    """What a downstream fit leaves for the scores (kept here for real-only fits):
    test-split logits (N_test x classes, float32, CPU) of the final model and of the
    best-validation one (None without validation), and that epoch (0-based)."""

    final_logits: torch.Tensor
    best_logits: Optional[torch.Tensor]
    best_epoch: Optional[int]


_fits: "OrderedDict[Hashable, FitPredictions]" = OrderedDict()


def _digest(*tensors: torch.Tensor) -> str:
    digest = hashlib.blake2b(digest_size=20)
    for tensor in tensors:
        flat = tensor.detach().cpu().contiguous()
        digest.update(f"{flat.dtype}{tuple(flat.shape)}".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
    return digest.hexdigest()


def fit_key(protocol: str, evaluation: Evaluation, classifier: Classifier, hparams: Mapping[str, Any], options: Mapping[str, Any]) -> Hashable:
    """What a real-only fit depends on (see the module docstring)."""
    data = evaluation.data
    return (
        protocol,
        classifier.name,
        f"{type(classifier).__module__}.{type(classifier).__qualname__}",
        json.dumps(dict(hparams), sort_keys=True, default=repr),
        json.dumps(dict(options), sort_keys=True, default=repr),
        int(evaluation.seed),
        str(evaluation.device),
        tuple(data.class_names),
        _digest(data.train.images, data.train.labels, data.test.images, data.test.labels),
    )


def kept_fit(key: Hashable) -> Optional[FitPredictions]:
    """The fit kept under ``key``, or None."""
    fit = _fits.get(key)
    if fit is not None:
        _fits.move_to_end(key)
    return fit


def keep_fit(key: Hashable, fit: FitPredictions) -> None:
    _fits[key] = fit
    _fits.move_to_end(key)
    while len(_fits) > KEPT:
        _fits.popitem(last=False)


def forget_fits() -> None:
    """Drop every kept fit (tests; a process that changes its classifiers' code)."""
    _fits.clear()
