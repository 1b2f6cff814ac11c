"""One cell: train a GAN on one dataset with one seed, sample, evaluate every metric of
the suite, and return the result rows. Artifacts go to a folder of their own per
execution, so nothing an earlier run wrote is ever overwritten."""

from __future__ import annotations

import json
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

import torch
from PIL import Image

from .. import __version__
from ..checkpoints import save_networks
from ..registry import Registry
from ..results.provenance import config_hash
from ..results.store import ResultRow
from ..specs import GAN, Evaluation, ImageSplit, LoadedData, ProfileSettings, Progress, Suite
from .matrix import Cell
from .training import generate_balanced, train


@dataclass
class CellContext:
    """What every cell of one suite run shares."""

    registry: Registry
    suite: Suite
    settings: ProfileSettings
    metrics: tuple[str, ...]
    classifiers: tuple[str, ...]
    device: torch.device
    device_label: str
    results_dir: Path
    progress: Progress
    packages: Mapping[str, str]


def gan_hparams(gan: GAN, cell: Cell, settings: ProfileSettings) -> dict[str, Any]:
    return {**gan.hyperparameters(cell.profile), **settings.gan_overrides}


def cell_config(cell: Cell, data: LoadedData, ctx: CellContext) -> dict[str, Any]:
    """Everything that can change a cell's numbers; its hash decides resume."""
    gan = ctx.registry.get("gans", cell.gan)
    settings = ctx.settings
    return {
        "gan": cell.gan,
        "gan_hparams": gan_hparams(gan, cell, settings),
        "dataset": cell.dataset,
        "dataset_fingerprint": data.fingerprint,
        "seed": cell.seed,
        "profile": cell.profile,
        "image_size": settings.image_size,
        "channels": settings.channels,
        "n_fake": settings.n_fake,
        "n_real": settings.n_real,
        "metric_settings": dict(settings.metric_settings),
        "metrics": list(ctx.metrics),
        "classifiers": {
            name: ctx.registry.get("classifiers", name).hyperparameters(cell.profile) for name in ctx.classifiers
        },
        "per_class": (not gan.conditional) and ctx.suite.unconditional_per_class,
    }


def plugin_versions(ctx: CellContext, cell: Cell, data: LoadedData) -> dict[str, dict]:
    used = [("gans", cell.gan), ("datasets", cell.dataset)]
    used += [("metrics", m) for m in ctx.metrics] + [("classifiers", c) for c in ctx.classifiers]
    used.append(("suites", ctx.suite.name))
    return {f"{kind}/{name}": ctx.registry.provenance(kind, name).as_dict() for kind, name in used}


def run_cell(cell: Cell, data: LoadedData, ctx: CellContext) -> list[ResultRow]:
    """Execute a cell; never raises for a failure inside the cell (it becomes a row)."""
    config = cell_config(cell, data, ctx)
    run_id = uuid.uuid4().hex[:12]
    artifacts = ctx.results_dir / "artifacts" / cell.key / run_id
    base = dict(
        run_id=run_id,
        suite=cell.suite,
        cell_key=cell.key,
        gan=cell.gan,
        dataset=cell.dataset,
        seed=cell.seed,
        profile=cell.profile,
        config_hash=config_hash(config),
        config={**config, "ganbench_version": __version__},
        plugins=plugin_versions(ctx, cell, data),
        packages=dict(ctx.packages),
        resolution=data.image_spec.size,
        channels=data.image_spec.channels,
        device=ctx.device_label,
        dataset_family=data.family,
        dataset_fingerprint=data.fingerprint,
        dataset_synthetic=data.synthetic,
        artifacts_dir=str(artifacts.relative_to(ctx.results_dir)),
    )
    started = time.perf_counter()
    try:
        fake, train_seconds = _train_and_sample(cell, data, ctx, config, artifacts)
    except Exception as exc:
        _write_error(artifacts, exc)
        return [ResultRow(**base, status="failed", error=_one_line(exc), cell_wall_time_s=time.perf_counter() - started)]
    rows = _evaluate(cell, data, ctx, fake, artifacts, base)
    for row in rows:
        row.train_wall_time_s = train_seconds
        row.cell_wall_time_s = time.perf_counter() - started
    return rows


def _train_and_sample(cell, data, ctx, config, artifacts: Path) -> tuple[ImageSplit, float]:
    gan = ctx.registry.get("gans", cell.gan)
    hparams = config["gan_hparams"]
    spec = data.image_spec
    started = time.perf_counter()
    if config["per_class"]:
        # One unconditional GAN per class, as BrainGAN and IJACSA train theirs.
        models, history = {}, {}
        for label, class_name in enumerate(data.class_names):
            torch.manual_seed(cell.seed * 1000 + label)
            models[label] = gan.build(spec, hparams, ctx.device)
            history[class_name] = train(
                models[label],
                data.train.of_class(label),
                hparams,
                seed=cell.seed * 1000 + label,
                device=ctx.device,
                progress=ctx.progress,
                description=f"{cell.gan} seed {cell.seed}: {class_name}",
            )
        networks = {
            f"{data.class_names[label]}.{net}": module
            for label, model in models.items()
            for net, module in model.networks().items()
        }
    else:
        torch.manual_seed(cell.seed)
        models = gan.build(spec, hparams, ctx.device)
        history = {
            "all": train(models, data.train, hparams, cell.seed, ctx.device, ctx.progress, f"{cell.gan} seed {cell.seed}")
        }
        networks = models.networks()
    train_seconds = time.perf_counter() - started

    fake = generate_balanced(
        models, ctx.settings.n_fake, spec.num_classes, seed=cell.seed,
        progress=ctx.progress, description=f"{cell.gan} seed {cell.seed}: sampling",
    )
    artifacts.mkdir(parents=True, exist_ok=True)
    save_networks(artifacts / "checkpoint.safetensors", networks, {"cell": cell.key, "config": json.dumps(config, default=str)})
    (artifacts / "losses.json").write_text(json.dumps(history))
    (artifacts / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True, default=str))
    save_sample_grid(fake, spec.num_classes, artifacts / "samples.png")
    return fake, train_seconds


def save_sample_grid(fake: ImageSplit, num_classes: int, path: Path, per_class: int = 8, padding: int = 2) -> None:
    """One row per class, ``per_class`` images each, on a white background; a class with
    fewer samples leaves its row's remaining tiles blank.

    Written with Pillow rather than torchvision.utils, whose import pulls in most of
    torchvision and adds seconds to every command's start-up."""
    _, channels, h, w = fake.images.shape
    grid = torch.full(
        (channels, padding + num_classes * (h + padding), padding + per_class * (w + padding)), 255, dtype=torch.uint8
    )
    for row in range(num_classes):
        for col, image in enumerate(fake.of_class(row).images[:per_class]):
            top, left = padding + row * (h + padding), padding + col * (w + padding)
            grid[:, top : top + h, left : left + w] = image
    array = grid.permute(1, 2, 0).numpy()
    Image.fromarray(array[:, :, 0] if channels == 1 else array).save(path)


def _evaluate(cell, data, ctx, fake, artifacts, base) -> list[ResultRow]:
    evaluation = Evaluation(
        data=data,
        fake=fake,
        device=ctx.device,
        seed=cell.seed,
        settings={"profile": cell.profile, "n_real": ctx.settings.n_real, **ctx.settings.metric_settings},
        cache_dir=ctx.results_dir / "cache",
        artifacts_dir=artifacts,
        progress=ctx.progress,
    )
    rows: list[ResultRow] = []
    for metric_name in ctx.metrics:
        metric = ctx.registry.get("metrics", metric_name)
        classifiers = [ctx.registry.get("classifiers", c) for c in ctx.classifiers] if metric.kind == "downstream" else [None]
        for classifier in classifiers:
            rows += _metric_rows(metric, classifier, evaluation, base)
    return rows


def _metric_rows(metric, classifier, evaluation, base) -> list[ResultRow]:
    common = dict(base, metric=metric.name, classifier=classifier.name if classifier else None)
    reason = metric.unavailable_reason()
    if reason:
        return [ResultRow(**common, key=key, status="unavailable", error=reason) for key in metric.result_keys]
    started = time.perf_counter()
    try:
        result = metric.compute(evaluation, classifier)
    except Exception as exc:
        _write_error(evaluation.artifacts_dir, exc, f"{metric.name}-{common['classifier'] or 'error'}")
        return [ResultRow(**common, key=key, status="failed", error=_one_line(exc)) for key in metric.result_keys]
    seconds = time.perf_counter() - started
    return [
        ResultRow(
            **common,
            key=key,
            value=float(value),
            status="ok",
            n_real=result.n_real,
            n_fake=result.n_fake,
            metric_wall_time_s=seconds,
            artifacts=result.artifacts,
        )
        for key, value in result.values.items()
    ]


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


def _write_error(folder: Path, exc: BaseException, stem: str = "error") -> Optional[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.txt"
    path.write_text("".join(traceback.format_exception(exc)))
    return path
