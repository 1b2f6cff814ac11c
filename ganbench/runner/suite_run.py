"""Run a suite: resolve names, expand the matrix, load each dataset once, run the cells
that have not finished, append their rows. Resumable: a finished cell (same key, same
config hash, nothing failed) is skipped unless ``force``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from ..data.class_warnings import class_count_warnings, class_size_warnings
from ..data.detect import detect_dataset
from ..devices import describe_device, resolve_device
from ..errors import GanbenchError
from ..metric_contract import check_distinct_result_keys
from ..registry import KEBAB, Registry
from ..results.provenance import package_versions
from ..results.folder import prepare_results_dir
from ..results.store import ResultsStore
from ..settings import resolve_metric_settings, validate_gan_settings
from ..suite_file import resolve_suite
from ..specs import CLASS_TASKS, PROFILES, LoadedData, ProfileSettings, Progress, SilentProgress, Suite
from ..tracking import SuiteTracking, Tracker
from ..data.tasks import apply_class_task
from .cell import CellContext, RunSettings, cell_settings, gan_hparams, training_mode, training_split
from .checkpointing import DEFAULT_EVERY
from .executors import CellOutcome, Executor, LocalExecutor, PlannedCell
from .matrix import Cell, expand
from .matrix_status import MatrixStatus


@dataclass
class RunRequest:
    suite: str
    profile: Optional[str] = None
    data: Optional[Path] = None
    #: The dataset plugin for ``data``; None: detected from the folder's layout.
    dataset: Optional[str] = None
    #: ``--data-option KEY=VALUE`` pairs for that dataset plugin.
    data_options: Mapping[str, str] = field(default_factory=dict)
    #: ``--metric-setting KEY=VALUE`` pairs, over the profile's metric settings (they
    #: enter the cells' config hash, so a run asking for more is a new run).
    metric_settings: Mapping[str, str] = field(default_factory=dict)
    #: ``--gan-setting KEY=VALUE`` pairs: hyperparameters of every GAN of the run that has
    #: the key, over the suite's (they change training, so they enter the config hash).
    gan_settings: Mapping[str, str] = field(default_factory=dict)
    gans: Optional[Sequence[str]] = None
    classifiers: Optional[Sequence[str]] = None
    seeds: Optional[int] = None
    device: str = "auto"
    results_dir: Path = Path("ganbench-results")
    force: bool = False
    #: Training steps between checkpoints (0: only the final one).
    checkpoint_every: int = DEFAULT_EVERY
    #: Who runs the cells: ``LocalExecutor()`` (None) or a ``RayExecutor``.
    executor: Optional[Executor] = None
    #: Where every executed cell is also logged (``--track mlflow``); None: nowhere.
    tracker: Optional[Tracker] = None


@dataclass
class RunSummary:
    suite: str
    profile: str
    results_dir: Path
    outcomes: list[CellOutcome] = field(default_factory=list)
    #: Artifact folders of earlier executions stopped before their rows were stored,
    #: where this run moved them (``abandoned/<cell key>/<run id>``).
    abandoned: list[Path] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


def resolve_datasets(registry: Registry, suite: Suite, request: RunRequest, progress: Progress) -> list[str]:
    if request.data is None:
        if request.dataset is not None or request.data_options:
            raise GanbenchError("--dataset and --data-option need --data PATH")
        if not suite.datasets:
            raise GanbenchError(f"suite {suite.name!r} names no dataset: give one with --data PATH")
        return list(suite.datasets)
    if not suite.takes_data:
        raise GanbenchError(f"suite {suite.name!r} does not take --data")
    if request.dataset is not None:
        return [request.dataset]
    name, detection = detect_dataset(registry, request.data)
    progress.log(f"--data {request.data}: read as {name} ({detection.reason})")
    return [name]


def check_names(registry: Registry, suite: Suite, gans: Sequence[str], datasets: Sequence[str], classifiers: Sequence[str]) -> None:
    """Fail before any training if a name is unknown (the error lists what exists) or two
    of the suite's metrics would write the same result key."""
    for kind, names in (
        ("gans", gans),
        ("datasets", datasets),
        ("metrics", suite.metrics),
        ("classifiers", classifiers),
    ):
        for name in names:
            registry.get(kind, name)
    check_distinct_result_keys(suite.name, [registry.get("metrics", m) for m in suite.metrics])


def check_variants(registry: Registry, suite: Suite, profile: str, variants) -> None:
    """Fail before any training if a variant of the profile is malformed: a name that is
    not lower-kebab (it ends cell keys and folder names), an unknown GAN or class task,
    a metric that is not the suite's, or a size or count below one."""
    for variant in variants:
        where = f"suite {suite.name!r}, profile {profile!r}, variant {variant.name!r}"
        if not KEBAB.match(variant.name or ""):
            raise GanbenchError(f"{where}: a variant name must be lower-kebab-case (it ends cell keys and folder names)")
        for name in variant.gans or ():
            registry.get("gans", name)
        stray = sorted(set(variant.metrics or ()) - set(suite.metrics))
        if stray:
            raise GanbenchError(f"{where}: metrics {stray} are not the suite's ({', '.join(suite.metrics)})")
        if variant.class_task and variant.class_task not in CLASS_TASKS:
            raise GanbenchError(f"{where}: unknown class task {variant.class_task!r}; known: {', '.join(CLASS_TASKS)}")
        for field_name in ("image_size", "train_images", "epochs", "n_fake", "classifier_epochs"):
            value = getattr(variant, field_name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise GanbenchError(f"{where}: {field_name} must be a whole number of at least 1, got {value!r}")


def run_suite(
    registry: Registry,
    request: RunRequest,
    progress: Progress = SilentProgress(),
    on_cell: Callable[[CellOutcome], None] = lambda outcome: None,
) -> RunSummary:
    # A registered suite's name, or a suite file (read, checked and registered here).
    suite: Suite = resolve_suite(registry, request.suite)
    profile = request.profile or suite.default_profile
    if profile not in suite.profiles:
        raise GanbenchError(f"suite {suite.name!r} has no profile {profile!r}; it has {', '.join(suite.profiles)}")
    if profile not in PROFILES:
        raise GanbenchError(f"unknown profile {profile!r}; profiles are {', '.join(PROFILES)}")
    settings = suite.profiles[profile]
    gans = list(request.gans or settings.gans or suite.gans)
    datasets = resolve_datasets(registry, suite, request, progress)
    classifiers = tuple(request.classifiers or settings.classifiers or suite.classifiers)
    check_names(registry, suite, gans, datasets, classifiers)
    check_variants(registry, suite, profile, settings.variants)
    if suite.class_task and suite.class_task not in CLASS_TASKS:
        raise GanbenchError(f"suite {suite.name!r}: unknown class task {suite.class_task!r}; known: {', '.join(CLASS_TASKS)}")
    # Typed, checked settings (the profile's, then --metric-setting) before any data is
    # loaded or GAN trained: a typo or a bad value is refused, never a new config hash.
    settings = replace(
        settings, metric_settings=resolve_metric_settings(registry, suite, profile, classifiers, request.metric_settings)
    )
    if request.gan_settings:
        gan_settings = validate_gan_settings(registry, gans, profile, request.gan_settings)
        settings = RunSettings(**{f.name: getattr(settings, f.name) for f in fields(settings)}, gan_settings=gan_settings)
    for variant in settings.variants:
        if variant.gans and not set(variant.gans) & set(gans):
            progress.log(f"variant {variant.name}: not run (it runs {', '.join(variant.gans)}, none of this run's GANs)")
        # A variant's own settings are what the variant is: a --metric-setting that would
        # silently lose to them is refused instead.
        own = set(variant.metric_settings) | ({"classifier_epochs"} if variant.classifier_epochs is not None else set())
        overridden = set(request.metric_settings) & own
        if overridden:
            raise GanbenchError(
                f"--metric-setting {', '.join(sorted(overridden))}: variant {variant.name!r} of suite {suite.name!r} sets it itself "
                "(the variants are the paper's settings); leave it out"
            )
    seeds = range(request.seeds if request.seeds is not None else settings.seeds)
    try:
        cells = expand(suite.name, profile, gans, datasets, seeds, settings.variants)
    except ValueError as exc:
        raise GanbenchError(f"suite {suite.name!r} at profile {profile!r}: {exc}") from None
    store = open_results(Path(request.results_dir), progress)

    device = resolve_device(request.device)
    ctx = CellContext(
        registry=registry,
        suite=suite,
        settings=settings,
        metrics=tuple(suite.metrics),
        classifiers=classifiers,
        device=device,
        device_label=describe_device(device),
        results_dir=Path(request.results_dir),
        progress=progress,
        packages=package_versions(),
        checkpoint_every=request.checkpoint_every,
        reuse=not request.force,
        invocation=uuid.uuid4().hex,
    )
    summary = RunSummary(suite.name, profile, ctx.results_dir)
    tracking = SuiteTracking(request.tracker, store, ctx.results_dir, progress.log)
    tracking.open(suite.name)  # a tracking store that cannot be used is refused before any data is loaded
    executor = request.executor or LocalExecutor()
    # A cluster that cannot give a cell what it asks for is refused before any data is loaded.
    executor.start()
    try:
        planned = plan_cells(registry, suite, request, cells, settings, ctx, progress)
    except BaseException:
        executor.stop()
        raise
    show = getattr(progress, "show_matrix", None)
    status = MatrixStatus([p.cell.key for p in planned], executor.parallel, on_change=show or (lambda status: None))

    def finished(outcome: CellOutcome) -> None:
        summary.outcomes.append(outcome)
        tracking.cell_finished(outcome)  # after its rows are stored: the tracker reads them back
        on_cell(outcome)

    try:
        with tracking.suite(summary, ctx, planned, executor):
            executor.execute(planned, ctx, store, request.force, status, finished)
    finally:
        summary.abandoned.extend(getattr(executor, "abandoned", []))
    return summary


def plan_cells(registry, suite: Suite, request: RunRequest, cells, settings: ProfileSettings, ctx: CellContext, progress: Progress) -> list[PlannedCell]:
    """Each cell with its loaded data, warnings said once: a dataset is loaded once per
    image size and class task, shared by the variants that share them."""
    # One load per dataset, image size and class task: the variants that share them share it.
    loaded: dict[tuple, LoadedData] = {}
    planned: list[PlannedCell] = []
    warned: set[tuple] = set()
    for cell in cells:
        own = cell_settings(cell, settings)
        variant = settings.variant(cell.variant)
        task = variant.class_task if variant is not None and variant.class_task is not None else suite.class_task
        slot = (cell.dataset, own.image_size, task)
        if slot not in loaded:
            dataset = registry.get("datasets", cell.dataset)
            if request.data is not None:
                dataset = dataset.configure(request.data_options)
            path = request.data if dataset.needs_path else None
            if dataset.needs_path and path is None:
                raise GanbenchError(f"dataset {dataset.name!r} needs --data PATH ({dataset.obtain})")
            loaded[slot] = apply_class_task(dataset.load(path, own.image_size, own.channels, progress), task)
            for line in class_count_warnings(cell.dataset, loaded[slot].class_names):
                progress.log(f"warning: {line}")
        data = loaded[slot]
        if (slot, cell.gan, cell.variant) not in warned:
            warned.add((slot, cell.gan, cell.variant))
            if own.train_images and own.train_images > len(data.train):
                progress.log(
                    f"warning: {cell.variant or suite.name}: {own.train_images} training images asked for, the training "
                    f"split has {len(data.train)}: the GANs train on all of them (the cells record the count)"
                )
            for line in batch_warnings(cell, data, ctx):
                progress.log(f"warning: {line}")
        planned.append(PlannedCell(cell, data))

    return planned


def batch_warnings(cell: Cell, data: LoadedData, ctx: CellContext) -> list[str]:
    """Classes (or, for a GAN trained on every class at once, the whole training split)
    with fewer training images than the GAN's batch size."""
    gan = ctx.registry.get("gans", cell.gan)
    batch = int(gan_hparams(gan, cell, ctx.settings)["batch_size"])
    train = training_split(data.train, cell_settings(cell, ctx.settings).train_images)
    if training_mode(gan, ctx.suite) == "one-model":
        counts = {"all classes": len(train)}
    else:
        per_class = train.labels.bincount(minlength=len(data.class_names)).tolist()
        counts = dict(zip(data.class_names, per_class))
    return class_size_warnings(counts, batch, gan=cell.gan)


def open_results(results_dir: Path, progress: Progress) -> ResultsStore:
    """Before any dataset is loaded or anything trained: the results folder exists and
    is writable, its store is readable in full and writable, and rows that an earlier
    run could not store (``recovered-*.jsonl``) are added to it. Raises
    :class:`GanbenchError` naming the folder or file and what to do."""
    prepare_results_dir(results_dir)
    store = ResultsStore(results_dir, on_wait=progress.log)
    store.check()
    for path, count in store.import_recovered():
        progress.log(f"added {count} result rows that an earlier run saved in {path} to {store.path}")
    return store
