"""The training loop and sampling that every GAN goes through: the GAN plugin provides
one step, the core decides the batches, the step count and the seeds."""

from __future__ import annotations

import math
from typing import Iterator, Mapping, Optional

import torch

from ..errors import NonFiniteImagesError
from ..randomness import isolated_rng
from ..specs import GANModel, ImageSplit, Progress, SilentProgress, to_uint8, to_unit_range

#: Offset between the seed of a GAN's initial weights and the seed of its training
#: stream, so the two are different streams of torch's global RNG.
TRAINING_STREAM = 1_000_003


def build_model(gan, spec, hparams: Mapping, device: torch.device, seed: int) -> GANModel:
    """``gan.build`` with initial weights that depend on ``seed`` alone."""
    with isolated_rng(seed, device):
        return gan.build(spec, hparams, device)


def step_count(hparams: Mapping, n_train: int) -> int:
    """``steps`` if given, else the papers' ``epochs`` over ``n_train`` images."""
    if "steps" in hparams:
        return int(hparams["steps"])
    batch = min(int(hparams["batch_size"]), n_train)
    return int(hparams["epochs"]) * math.ceil(n_train / batch)


def batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Endless index batches: a fresh permutation each epoch; the last partial batch of
    an epoch is dropped (as DataLoader(drop_last=True)) unless the set is smaller than
    one batch."""
    batch_size = min(batch_size, n)
    while True:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start : start + batch_size]


def train(
    model: GANModel,
    split: ImageSplit,
    hparams: Mapping,
    seed: int,
    device: torch.device,
    progress: Progress,
    description: str = "training",
) -> list[dict]:
    """Train ``model`` on ``split``; returns the loss history, one dict per step."""
    if len(split) == 0:
        raise ValueError(f"{description}: no training images")
    images = to_unit_range(split.images).to(device)
    labels = split.labels.to(device)
    order = batches(len(split), int(hparams["batch_size"]), torch.Generator().manual_seed(seed))

    def next_batch():
        index = next(order).to(device)
        return images[index], labels[index]

    with isolated_rng(seed + TRAINING_STREAM, device):
        return run_steps(model, next_batch, step_count(hparams, len(split)), progress, description)


def train_pair(
    model: GANModel,
    source: ImageSplit,
    target: ImageSplit,
    hparams: Mapping,
    seed: int,
    device: torch.device,
    progress: Progress,
    description: str = "training",
) -> list[dict]:
    """Train an image-to-image ``model`` on two unpaired domains: every step gets
    ``batch_size`` images of each, drawn independently, labelled 0 (source) and 1
    (target). An epoch is as many steps as the larger domain has batches (Zhu et al.)."""
    if len(source) == 0 or len(target) == 0:
        raise ValueError(f"{description}: both domains need training images ({len(source)} source, {len(target)} target)")
    batch_size = int(hparams["batch_size"])
    domains = []
    for label, split in enumerate((source, target)):
        images = to_unit_range(split.images).to(device)
        order = batches(len(split), batch_size, torch.Generator().manual_seed(seed * 2 + label))
        domains.append((images, order, label))

    def next_batch():
        parts = [images[next(order).to(device)] for images, order, _ in domains]
        labels = torch.cat([torch.full((len(p),), label, dtype=torch.long) for p, (_, _, label) in zip(parts, domains)])
        return torch.cat(parts), labels.to(device)

    with isolated_rng(seed + TRAINING_STREAM, device):
        return run_steps(model, next_batch, step_count(hparams, max(len(source), len(target))), progress, description)


def run_steps(model: GANModel, next_batch, steps: int, progress: Progress, description: str) -> list[dict]:
    """``steps`` calls of ``model.train_step`` on ``next_batch()``; stops at the first
    non-finite loss (a diverged GAN only wastes time after that)."""
    model.plan(steps)
    history = []
    for step in progress.track(range(steps), total=steps, description=description):
        losses = model.train_step(*next_batch())
        bad = [k for k, v in losses.items() if not math.isfinite(v)]
        if bad:
            raise FloatingPointError(f"{description}: non-finite {', '.join(bad)} at step {step}")
        history.append({"step": step, **losses})
    return history


def sample(
    model: GANModel,
    n: int,
    seed: int,
    labels: Optional[torch.Tensor] = None,
    batch_size: int = 256,
    progress: Progress = SilentProgress(),
    description: str = "sampling",
) -> torch.Tensor:
    """``n`` generated images as uint8 N x C x H x W on the CPU, reproducible for a seed.

    Raises :class:`NonFiniteImagesError` (naming ``description``) when the model
    produced NaN or infinite pixels."""
    generator = torch.Generator().manual_seed(seed)
    chunks = []
    starts = range(0, n, batch_size)
    for start in progress.track(starts, total=len(starts), description=description):
        chunk_labels = None if labels is None else labels[start : start + batch_size]
        chunks.append(model.sample(min(batch_size, n - start), labels=chunk_labels, generator=generator))
    return checked_uint8(chunks, description)


def checked_uint8(chunks: list[torch.Tensor], stage: str) -> torch.Tensor:
    """Float chunks in [-1, 1] -> one uint8 tensor on the CPU; if any chunk holds NaN or
    inf, :class:`NonFiniteImagesError` counts them over all chunks and names ``stage``."""
    converted, errors = [], []
    for chunk in chunks:
        try:
            converted.append(to_uint8(chunk).cpu())
        except NonFiniteImagesError as exc:
            errors.append(exc)
    if errors:
        total = sum(len(c) for c in chunks)
        raise NonFiniteImagesError(
            sum(e.bad_images for e in errors), total, sum(e.nan_pixels for e in errors), sum(e.inf_pixels for e in errors), stage
        )
    return torch.cat(converted) if converted else torch.empty(0, dtype=torch.uint8)


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    """``n`` labels as even across classes as possible, in class order."""
    counts = [n // num_classes + (1 if c < n % num_classes else 0) for c in range(num_classes)]
    return torch.cat([torch.full((k,), c, dtype=torch.long) for c, k in enumerate(counts)])


def generate_balanced(
    models: Mapping[int, GANModel] | GANModel,
    n: int,
    num_classes: int,
    seed: int,
    progress: Progress = SilentProgress(),
    description: str = "sampling",
) -> ImageSplit:
    """Class-balanced generated images: from one conditional model, or from one
    unconditional model per class (a mapping class -> model)."""
    labels = balanced_labels(n, num_classes)
    if isinstance(models, GANModel):
        return ImageSplit(sample(models, n, seed, labels=labels, progress=progress, description=description), labels)
    parts = []
    for c in range(num_classes):
        count = int((labels == c).sum())
        parts.append(sample(models[c], count, seed * 1000 + c, progress=progress, description=f"{description}: class {c}"))
    return ImageSplit(torch.cat(parts), labels)
