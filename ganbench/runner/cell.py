"""One cell: train a GAN on one dataset with one seed, sample, evaluate every metric of
the suite, and return the result rows. Artifacts go to a folder of their own per
execution, so nothing an earlier run wrote is ever overwritten."""

from __future__ import annotations

import json
import shutil
import time
import traceback
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Optional

import torch
from PIL import Image

from .. import __version__
from ..checkpoints import save_networks
from ..metric_contract import result_problems
from ..registry import Registry
from ..results.provenance import config_hash
from ..results.store import ResultRow, ResultsStore
from ..specs import GAN, Evaluation, ImageSplit, LoadedData, ProfileSettings, Progress, Suite
from ..suite_file import suite_file_digest
from .checkpointing import DEFAULT_EVERY
from .matrix import Cell
from .matrix_status import format_duration
from .stages import TrainingStage, training_config, training_hash
from .training import build_model, generate_balanced, sample, train
from .translation import HOLDOUT_FRACTION, train_and_translate


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
    #: Training steps between checkpoints (0: only the final one).
    checkpoint_every: int = DEFAULT_EVERY
    #: Reuse finished training stages and evaluations (``--force`` turns it off).
    reuse: bool = True
    #: This ``ganbench run``'s id. Under ``--force`` a training stage is discarded once,
    #: by the first cell of this run that needs it; a retried task and the other cells of
    #: the same training hash then resume and reuse what this run trained.
    invocation: str = ""
    #: Where the cell ran (``local``, or ``ray on HOST pid N``): recorded, outside the hash.
    executor: str = "local"


def cell_settings(cell: Cell, settings: ProfileSettings) -> ProfileSettings:
    """The profile's settings with the cell's variant applied."""
    return settings.for_variant(settings.variant(cell.variant))


def cell_metrics(cell: Cell, ctx: "CellContext") -> tuple[str, ...]:
    """The suite's metrics this cell evaluates: all, or those its variant names."""
    variant = ctx.settings.variant(cell.variant)
    if variant is None or variant.metrics is None:
        return tuple(ctx.metrics)
    return tuple(m for m in ctx.metrics if m in variant.metrics)


@dataclass(frozen=True)
class RunSettings(ProfileSettings):
    """A profile's settings as one run uses them, with the run's ``--gan-setting``
    overrides per GAN (GAN name -> hyperparameter -> typed value, from
    :func:`ganbench.settings.validate_gan_settings`). A subclass rather than a context
    field so that it travels wherever the settings do (``for_variant`` keeps it, and so
    does a Ray task's copy)."""

    gan_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def gan_hparams(gan: GAN, cell: Cell, settings: ProfileSettings) -> dict[str, Any]:
    """The GAN's hyperparameters at the cell's profile with the suite's and the variant's
    overrides, then the run's ``--gan-setting`` values for this GAN (:class:`RunSettings`);
    an override in epochs replaces the GAN's own step count, and a ``--gan-setting`` in
    steps or epochs replaces the other unit."""
    hparams = gan.hyperparameters(cell.profile)
    overrides = cell_settings(cell, settings).gan_overrides
    if "epochs" in overrides:
        hparams.pop("steps", None)
    hparams = {**hparams, **overrides}
    own = settings.gan_settings.get(cell.gan, {}) if isinstance(settings, RunSettings) else {}
    for unit, other in (("steps", "epochs"), ("epochs", "steps")):
        if unit in own:
            hparams.pop(other, None)
    return {**hparams, **own}


def training_split(split: ImageSplit, train_images: Optional[int]) -> ImageSplit:
    """``train_images`` images of ``split`` with its class mix (:meth:`ImageSplit.matching`
    with seed 0): the same images for every GAN and seed, and each class takes a prefix of
    one fixed permutation, so a larger size takes a superset of a smaller one. All of
    ``split`` when None or not smaller (the runner warns; the cell records the count)."""
    if train_images is None or train_images >= len(split):
        return split
    return split.subset(split.matching(split.labels, int(train_images), seed=0))


def cell_config(cell: Cell, data: LoadedData, ctx: CellContext) -> dict[str, Any]:
    """Everything that can change a cell's numbers; its hash decides resume."""
    gan = ctx.registry.get("gans", cell.gan)
    settings = cell_settings(cell, ctx.settings)
    variant = ctx.settings.variant(cell.variant)
    return {
        "gan": cell.gan,
        "gan_hparams": gan_hparams(gan, cell, ctx.settings),
        "dataset": cell.dataset,
        "dataset_fingerprint": data.fingerprint,
        # The task: the leaderboard never averages or ranks runs of different class sets.
        "class_names": list(data.class_names),
        "seed": cell.seed,
        "profile": cell.profile,
        "image_size": settings.image_size,
        "channels": settings.channels,
        "n_fake": settings.n_fake,
        "n_real": settings.n_real,
        "metric_settings": dict(settings.metric_settings),
        "metrics": list(cell_metrics(cell, ctx)),
        "classifiers": {
            name: ctx.registry.get("classifiers", name).hyperparameters(cell.profile) for name in ctx.classifiers
        },
        "training": training_mode(gan, ctx.suite),
        # 1: every random draw of building and training comes from the cell's own seeded
        # stream (ganbench.randomness.isolated_rng); earlier rows drew from the shared global RNG.
        "training_rng": 1,
        # Only present when set, so that cells of suites without them keep their hashes.
        **({"variant": {"name": variant.name, **variant.overrides()}} if variant is not None else {}),
        **({"train_images": len(training_split(data.train, settings.train_images))} if settings.train_images else {}),
        # A suite read from a file: its content (ganbench.suite_file.suite_digest).
        **({"suite_file": digest} if (digest := suite_file_digest(ctx.registry, ctx.suite.name)) else {}),
        **(
            {"translation": {"source": ctx.suite.translation_source or "auto", "holdout": HOLDOUT_FRACTION}}
            if gan.kind == "image-to-image"
            else {}
        ),
    }


def plugin_versions(ctx: CellContext, cell: Cell, data: LoadedData) -> dict[str, dict]:
    used = [("gans", cell.gan), ("datasets", cell.dataset)]
    used += [("metrics", m) for m in ctx.metrics] + [("classifiers", c) for c in ctx.classifiers]
    used.append(("suites", ctx.suite.name))
    return {f"{kind}/{name}": ctx.registry.provenance(kind, name).as_dict() for kind, name in used}


def row_base(cell: Cell, data: LoadedData, ctx: CellContext, config: Mapping[str, Any], run_id: str, artifacts: Path) -> dict[str, Any]:
    """The fields every result row of one cell execution shares (all of
    :class:`ResultRow` but the metric's own); ``artifacts`` lies under ``ctx.results_dir``."""
    return dict(
        run_id=run_id,
        suite=cell.suite,
        cell_key=cell.key,
        gan=cell.gan,
        dataset=cell.dataset,
        seed=cell.seed,
        profile=cell.profile,
        config_hash=config_hash(config),
        # What the reader said about the data (counts, skips, duplicates across the
        # splits): recorded with the result, outside the hash (it names local paths).
        config={
            **config, "ganbench_version": __version__, "data_notes": data.notes, "data_leakage": data.leakage,
            "executor": ctx.executor,
        },
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


def cell_stage(cell: Cell, config: Mapping[str, Any], ctx: CellContext) -> TrainingStage:
    """The training stage this cell trains or reuses."""
    provenance = ctx.registry.provenance("gans", cell.gan).as_dict()
    return TrainingStage(ctx.results_dir, training_hash(config, provenance), ctx.checkpoint_every, ctx.progress.log)


def run_cell(cell: Cell, data: LoadedData, ctx: CellContext, run_id: Optional[str] = None) -> list[ResultRow]:
    """Execute a cell; never raises for a failure inside the cell (it becomes a row).
    Training resumes from its last checkpoint and a finished training stage is reused
    (unless ``ctx.reuse`` is off); the rows record which run trained the generator."""
    config = cell_config(cell, data, ctx)
    run_id = run_id or uuid.uuid4().hex[:12]
    artifacts = ctx.results_dir / "artifacts" / cell.key / run_id
    base = row_base(cell, data, ctx, config, run_id, artifacts)
    stage = cell_stage(cell, config, ctx)
    base["config"]["stage"] = {"training_hash": stage.hash, "trained_by_run": None}
    started = time.perf_counter()
    try:
        generated, train_seconds, trained_by = _train_and_sample(cell, data, ctx, config, artifacts, stage, run_id)
    except Exception as exc:
        _write_error(artifacts, exc)
        return [ResultRow(**base, status="failed", error=_one_line(exc), cell_wall_time_s=time.perf_counter() - started)]
    base["config"]["stage"]["trained_by_run"] = trained_by
    rows = evaluate_generated(cell, data, ctx, generated, artifacts, base, train_seconds)
    for row in rows:
        row.train_wall_time_s = train_seconds
        row.cell_wall_time_s = time.perf_counter() - started
    return rows


@dataclass
class Generated:
    fake: ImageSplit
    networks: dict
    history: dict
    #: For image-to-image GANs: the real image each generated one translates, and that
    #: translation translated back.
    sources: Optional[ImageSplit] = None
    reconstructions: Optional[ImageSplit] = None


def _per_class(gan, spec, hparams, cell, data, ctx, stage: TrainingStage) -> Generated:
    """One unconditional GAN per class, as BrainGAN and IJACSA train theirs."""
    models, history = {}, {}
    for label, class_name in enumerate(data.class_names):
        models[label] = build_model(gan, spec, hparams, ctx.device, cell.seed * 1000 + label)
        history[class_name] = train(
            models[label], data.train.of_class(label), hparams, cell.seed * 1000 + label,
            ctx.device, ctx.progress, f"{cell.gan} seed {cell.seed}: {class_name}", stage.phase(class_name),
        )
    networks = {
        f"{data.class_names[label]}.{net}": module for label, model in models.items() for net, module in model.networks().items()
    }
    fake = generate_balanced(
        models, cell_settings(cell, ctx.settings).n_fake, spec.num_classes, cell.seed, ctx.progress, f"{cell.gan} seed {cell.seed}: sampling"
    )
    return Generated(fake, networks, history)


def _one_model(gan, spec, hparams, cell, data, ctx, stage: TrainingStage) -> Generated:
    """One GAN on every class: a conditional one, or an unconditional one when the suite
    says so (its samples then carry no class: label -1)."""
    model = build_model(gan, spec, hparams, ctx.device, cell.seed)
    history = {
        "all": train(model, data.train, hparams, cell.seed, ctx.device, ctx.progress, f"{cell.gan} seed {cell.seed}", stage.phase("all"))
    }
    description = f"{cell.gan} seed {cell.seed}: sampling"
    if gan.conditional:
        fake = generate_balanced(model, cell_settings(cell, ctx.settings).n_fake, spec.num_classes, cell.seed, ctx.progress, description)
    else:
        images = sample(model, cell_settings(cell, ctx.settings).n_fake, cell.seed, progress=ctx.progress, description=description)
        fake = ImageSplit(images, torch.full((len(images),), -1, dtype=torch.long))
    return Generated(fake, model.networks(), history)


def _translations(gan, spec, hparams, cell, data, ctx, stage: TrainingStage) -> Generated:
    result = train_and_translate(
        gan, spec, hparams, data, cell_settings(cell, ctx.settings).n_fake, cell.seed, ctx.device, ctx.progress,
        ctx.suite.translation_source, f"{cell.gan} seed {cell.seed}", stage.phase,
    )
    return Generated(result.fake, result.networks, result.history, result.sources, result.reconstructions)


def _train_and_sample(cell, data, ctx, config, artifacts: Path, stage: TrainingStage, run_id: str) -> tuple[Generated, float, str]:
    """The generated images (and the training time, and the run that trained them): the
    stage's when it finished earlier, else trained now (resuming from the last
    checkpoint) and kept in the stage."""
    gan = ctx.registry.get("gans", cell.gan)
    with stage.held():
        if not ctx.reuse:
            _discard_earlier_training(stage.folder, cell, ctx)
        if stage.finished():
            record = stage.load()
            ctx.progress.log(f"{cell.key}: reusing the generator and samples that run {record.trained_by_run} trained ({stage.folder})")
            generated = Generated(record.fake, {}, record.history, record.sources, record.reconstructions)
            _write_artifacts(artifacts, cell, config, generated, {"trained_by_run": record.trained_by_run, "stage": str(stage.folder)})
            return generated, record.train_wall_time_s, record.trained_by_run
        how = {"translate": _translations, "per-class": _per_class, "one-model": _one_model}[config["training"]]
        # The GAN trains on the variant's training-set size; the metrics see the whole split.
        train_data = replace(data, train=training_split(data.train, cell_settings(cell, ctx.settings).train_images))
        started = time.perf_counter()
        generated = how(gan, data.image_spec, config["gan_hparams"], cell, train_data, ctx, stage)
        train_seconds = time.perf_counter() - started
        _write_artifacts(artifacts, cell, config, generated)
        stage.save(
            generated.fake, generated.sources, generated.reconstructions, generated.history, run_id, train_seconds,
            training_config(config, ctx.registry.provenance("gans", cell.gan).as_dict()),
        )
        return generated, train_seconds, run_id


FORCED_BY = "forced_by"


def _discard_earlier_training(folder: Path, cell: Cell, ctx: CellContext) -> None:
    """--force: train anew rather than resume or reuse what an earlier run left; the
    rows of the runs that used the old stage keep their own sample grid and weights in
    their artifacts. What this run itself trained (``forced_by`` names it) is kept."""
    mark = folder / FORCED_BY
    if mark.is_file() and ctx.invocation and mark.read_text() == ctx.invocation:
        return
    if folder.exists():
        ctx.progress.log(f"{cell.key}: --force: training anew (discarding the checkpoints and samples in {folder})")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mark.write_text(ctx.invocation)


def _write_artifacts(artifacts: Path, cell: Cell, config, generated: Generated, reused: Optional[dict] = None) -> None:
    artifacts.mkdir(parents=True, exist_ok=True)
    if generated.networks:
        metadata = {"cell": cell.key, "config": json.dumps(config, default=str)}
        save_networks(artifacts / "checkpoint.safetensors", generated.networks, metadata)
    if reused:
        (artifacts / "trained_by.json").write_text(json.dumps(reused, indent=2))
    (artifacts / "losses.json").write_text(json.dumps(generated.history))
    (artifacts / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True, default=str))
    save_sample_grid(generated.fake, artifacts / "samples.png")


def training_mode(gan: GAN, suite: Suite) -> str:
    if gan.kind == "image-to-image":
        return "translate"
    return "per-class" if (not gan.conditional and suite.unconditional_per_class) else "one-model"


def save_sample_grid(fake: ImageSplit, path: Path, per_class: int = 8, padding: int = 2) -> None:
    """One row per label present (in label order), ``per_class`` images each, on a white
    background; a row with fewer samples leaves its remaining tiles blank.

    Written with Pillow rather than torchvision.utils, whose import pulls in most of
    torchvision and adds seconds to every command's start-up."""
    _, channels, h, w = fake.images.shape
    labels = fake.labels.unique().tolist()
    grid = torch.full(
        (channels, padding + len(labels) * (h + padding), padding + per_class * (w + padding)), 255, dtype=torch.uint8
    )
    for row, label in enumerate(labels):
        for col, image in enumerate(fake.of_class(label).images[:per_class]):
            top, left = padding + row * (h + padding), padding + col * (w + padding)
            grid[:, top : top + h, left : left + w] = image
    array = grid.permute(1, 2, 0).numpy()
    Image.fromarray(array[:, :, 0] if channels == 1 else array).save(path)


def evaluate_generated(
    cell: Cell, data: LoadedData, ctx: CellContext, generated: Generated, artifacts: Path, base: Mapping[str, Any], train_seconds: Optional[float]
) -> list[ResultRow]:
    """Every metric of the cell (each downstream one with every classifier of ``ctx``) on
    ``generated``; one row per result key. Never raises for a metric's failure: it
    becomes ``failed`` rows of that metric, and the other metrics' rows are kept."""
    evaluation = Evaluation(
        train_wall_time_s=train_seconds,
        data=data,
        fake=generated.fake,
        sources=generated.sources,
        reconstructions=generated.reconstructions,
        device=ctx.device,
        seed=cell.seed,
        settings={"profile": cell.profile, "n_real": ctx.settings.n_real, **cell_settings(cell, ctx.settings).metric_settings},
        cache_dir=ctx.results_dir / "cache",
        artifacts_dir=artifacts,
        progress=ctx.progress,
    )
    store = ResultsStore(ctx.results_dir, on_wait=ctx.progress.log) if ctx.reuse else None
    trained = (base["config"].get("stage") or {}).get("training_hash") or base["config_hash"]
    rows: list[ResultRow] = []
    for metric_name in cell_metrics(cell, ctx):
        metric = ctx.registry.get("metrics", metric_name)
        classifiers = [ctx.registry.get("classifiers", c) for c in ctx.classifiers] if metric.kind == "downstream" else [None]
        for classifier in classifiers:
            evaluation_key = evaluation_hash(trained, metric, classifier, evaluation.settings, cell.profile, ctx)
            earlier = store.evaluated(evaluation_key) if store is not None else []
            if earlier:
                rows += _reused_rows(earlier, metric, classifier, base, evaluation_key)
                ctx.progress.log(
                    f"{cell.key}: {metric.name}{' with ' + classifier.name if classifier else ''}: "
                    f"reusing run {earlier[0]['run_id']}'s evaluation of the same samples"
                )
            else:
                # A log's lines (ganbench.progress); at a terminal the bars show the metric's work.
                label = f"{cell.key}: {metric.name}{' with ' + classifier.name if classifier else ''}"
                ctx.progress.note(f"{label}: started")
                started = time.perf_counter()
                computed = _metric_rows(metric, classifier, evaluation, base, evaluation_key)
                ended = "failed after" if any(r.status == "failed" for r in computed) else "done in"
                ctx.progress.note(f"{label}: {ended} {format_duration(time.perf_counter() - started)}")
                rows += computed
    return rows


def evaluation_hash(trained: str, metric, classifier, settings: Mapping[str, Any], profile: str, ctx: CellContext) -> str:
    """What one metric's rows with one classifier depend on besides the samples (named
    by ``trained``, the training hash): the settings, the classifier's hyperparameters
    and both plugins' versions. Equal hashes: the earlier rows are this evaluation's."""
    return config_hash(
        {
            "trained": trained,
            "metric": metric.name,
            "metric_plugin": ctx.registry.provenance("metrics", metric.name).as_dict(),
            "classifier": classifier.name if classifier else None,
            "classifier_plugin": ctx.registry.provenance("classifiers", classifier.name).as_dict() if classifier else None,
            "classifier_hparams": classifier.hyperparameters(profile) if classifier else None,
            "settings": dict(settings),
        }
    )


def _reused_rows(earlier: list[dict], metric, classifier, base, evaluation_key: str) -> list[ResultRow]:
    """Copies of an earlier run's rows of this evaluation, in this run, saying whose."""
    config = {**base["config"], "evaluation": {"hash": evaluation_key, "reused_from": earlier[0]["run_id"]}}
    return [
        ResultRow(
            **dict(base, config=config),
            metric=metric.name,
            classifier=classifier.name if classifier else None,
            key=record["key"],
            value=record["value"],
            status="ok",
            n_real=record["n_real"],
            n_fake=record["n_fake"],
            metric_wall_time_s=record["metric_wall_time_s"],
            artifacts=json.loads(record["artifacts_json"] or "{}"),
        )
        for record in earlier
    ]


def _metric_rows(metric, classifier, evaluation, base, evaluation_key: str) -> list[ResultRow]:
    config = {**base["config"], "evaluation": {"hash": evaluation_key, "reused_from": None}}
    common = dict(base, config=config, metric=metric.name, classifier=classifier.name if classifier else None)
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
    problems = result_problems(metric, result, evaluation.artifacts_dir)
    if problems:
        # A breach fails this metric in this cell; the other metrics' rows are kept.
        error = f"ContractError: metric {metric.name!r} broke the plugin contract: {'; '.join(problems)}"[:500]
        return [ResultRow(**common, key=key, status="failed", error=error, metric_wall_time_s=seconds) for key in metric.result_keys]
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
