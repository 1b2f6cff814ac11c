"""The training loop and sampling that every GAN goes through: the GAN plugin provides
one step, the core decides the batches, the step count and the seeds."""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional

import torch

from ..errors import NonFiniteImagesError
from ..randomness import isolated_rng
from .checkpointing import PhaseCheckpoints
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


class BatchOrder:
    """Endless index batches: a fresh permutation each epoch; the last partial batch of
    an epoch is dropped (as DataLoader(drop_last=True)) unless the set is smaller than
    one batch. Its state (generator, permutation, position) goes into training
    checkpoints, so a resumed run draws the batches an uninterrupted one would."""

    def __init__(self, n: int, batch_size: int, seed: int):
        self.n, self.batch_size = n, min(batch_size, n)
        self.generator = torch.Generator().manual_seed(seed)
        self.order: Optional[torch.Tensor] = None
        self.position = 0

    def __iter__(self) -> "BatchOrder":
        return self

    def __next__(self) -> torch.Tensor:
        if self.order is None or self.position + self.batch_size > self.n:
            self.order = torch.randperm(self.n, generator=self.generator)
            self.position = 0
        batch = self.order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return batch

    def state_dict(self) -> dict:
        state = {"generator": self.generator.get_state(), "position": self.position}
        return state if self.order is None else {**state, "order": self.order}

    def load_state_dict(self, state: Mapping) -> None:
        self.generator.set_state(state["generator"])
        self.position = int(state["position"])
        self.order = state.get("order")


def train(
    model: GANModel,
    split: ImageSplit,
    hparams: Mapping,
    seed: int,
    device: torch.device,
    progress: Progress,
    description: str = "training",
    checkpoints: Optional[PhaseCheckpoints] = None,
) -> list[dict]:
    """Train ``model`` on ``split``; returns the loss history, one dict per step. With
    ``checkpoints``, resumes from the phase's last checkpoint and saves new ones."""
    if len(split) == 0:
        raise ValueError(f"{description}: no training images")
    images = to_unit_range(split.images).to(device)
    labels = split.labels.to(device)
    order = BatchOrder(len(split), int(hparams["batch_size"]), seed)

    def next_batch():
        index = next(order).to(device)
        return images[index], labels[index]

    with isolated_rng(seed + TRAINING_STREAM, device):
        return run_steps(
            model, next_batch, step_count(hparams, len(split)), progress, description,
            checkpoints, {"order": order}, device,
        )


def train_pair(
    model: GANModel,
    source: ImageSplit,
    target: ImageSplit,
    hparams: Mapping,
    seed: int,
    device: torch.device,
    progress: Progress,
    description: str = "training",
    checkpoints: Optional[PhaseCheckpoints] = None,
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
        order = BatchOrder(len(split), batch_size, seed * 2 + label)
        domains.append((images, order, label))

    def next_batch():
        parts = [images[next(order).to(device)] for images, order, _ in domains]
        labels = torch.cat([torch.full((len(p),), label, dtype=torch.long) for p, (_, _, label) in zip(parts, domains)])
        return torch.cat(parts), labels.to(device)

    streams = {f"order-{label}": order for _, order, label in domains}
    with isolated_rng(seed + TRAINING_STREAM, device):
        return run_steps(
            model, next_batch, step_count(hparams, max(len(source), len(target))), progress, description,
            checkpoints, streams, device,
        )


def run_steps(
    model: GANModel,
    next_batch,
    steps: int,
    progress: Progress,
    description: str,
    checkpoints: Optional[PhaseCheckpoints] = None,
    streams: Mapping[str, Any] = {},
    device: torch.device = torch.device("cpu"),
) -> list[dict]:
    """``steps`` calls of ``model.train_step`` on ``next_batch()``; stops at the first
    non-finite loss (a diverged GAN only wastes time after that). With ``checkpoints``:
    starts where the phase's last checkpoint left off (``streams``, the batch orders,
    and torch's RNG included) and checkpoints every ``checkpoints.every`` steps and at
    the end."""
    model.plan(steps)
    history: list[dict] = []
    start = 0
    if checkpoints is not None:
        resumed = checkpoints.resume(model, streams, device, steps, description)
        if resumed is not None:
            if resumed.finished:
                return resumed.history
            start, history = resumed.step, resumed.history
    label = f"{description}: training" + ("" if start == 0 else f" (from step {start})")
    for step in progress.track(range(start, steps), total=steps - start, description=label):
        losses = model.train_step(*next_batch())
        bad = [k for k, v in losses.items() if not math.isfinite(v)]
        if bad:
            raise FloatingPointError(f"{description}: non-finite {', '.join(bad)} at step {step}")
        history.append({"step": step, **losses})
        if checkpoints is not None and checkpoints.due(step + 1, steps):
            checkpoints.save(model, streams, device, step + 1, steps, history)
    if checkpoints is not None:
        checkpoints.save(model, streams, device, steps, steps, history)
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
