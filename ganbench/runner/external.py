"""Evaluate images generated elsewhere: ``ganbench evaluate``, the way to bring your own GAN.

A folder of samples (class sub-folders of images, or one folder of images) is read the
way the datasets read real images (the ``image-folder`` reader's decoding: grey, centre
crop, resize to the suite's size, channels repeated), then every metric of the suite is
computed on it exactly as for a GAN ganbench trained (:func:`.cell.evaluate_generated`),
and the rows are stored as one cell of a GAN named by the user:

* cell key ``<suite>/<dataset>/external-<name>/seed-<seed>/<profile>[/<variant>]``, so an
  external result can never be taken for (or resume) a cell ganbench trains;
* ``gan`` = the name, which must be lower-kebab and must not be a registered GAN's;
* ``config["external"]`` holds the folder, a fingerprint (SHA-256 over every image file's
  relative path and bytes, in path order), the image count and which folder gave which
  class. The fingerprint enters the config hash, so evaluating the same folder again is
  skipped (as ``ganbench run`` skips a finished cell) unless ``force``, and a changed
  folder is a new result; the folder's path does not (a moved folder is the same samples).

What only a GAN ganbench trained has is not invented: metrics of kind ``cost`` (training
time) come out ``unavailable``, and so do the classifier metrics when the samples carry
no class (one folder of images, without ``class_name``, on data with several classes:
label -1, as an unconditional GAN's samples in ganbench).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import torch

# The built-in image-folder reader's decoding, so that samples become pixels exactly as
# real images read from a folder do (ganbench.data.pixels does the grey/crop/resize).
from ..data.decode import IMAGE_EXTENSIONS, Skipped, decode_image

from ..data.cache import file_digests
from ..data.class_warnings import class_count_warnings
from ..data.tasks import apply_class_task
from ..devices import describe_device, resolve_device
from ..errors import GanbenchError
from ..registry import KEBAB, Provenance, Registry
from ..result_keys import canonical_class
from ..results.claims import wait_for_claim
from ..results.folder import set_aside_abandoned
from ..results.provenance import config_hash, package_versions
from ..results.store import ResultRow
from ..settings import resolve_metric_settings
from ..specs import CLASS_TASKS, PROFILES, ImageSplit, LoadedData, Progress, SilentProgress, Suite
from ..suite_file import suite_file_digest
from .cell import CellContext, Generated, cell_metrics, cell_settings, evaluate_generated, row_base, save_sample_grid
from .matrix import Cell
from .stages import training_hash
from .suite_run import check_names, check_variants, open_results, resolve_datasets

#: What the ``training`` field of an external cell's config says.
EXTERNAL_TRAINING = "external"
#: The label of a sample whose class is not known (as an unconditional GAN's in ganbench).
NO_CLASS = -1
#: The folder key of ``config["external"]["classes"]`` for images directly in the folder.
TOP = "."


@dataclass
class ExternalRequest:
    suite: str
    #: The folder of samples: class sub-folders of images, or images directly.
    samples: Path
    #: The GAN's name in the results and the leaderboard (lower-kebab, not a registered GAN).
    name: str
    profile: Optional[str] = None
    #: The suite variant the samples are evaluated under (needed when the profile has any).
    variant: Optional[str] = None
    data: Optional[Path] = None
    dataset: Optional[str] = None
    data_options: Mapping[str, str] = field(default_factory=dict)
    metric_settings: Mapping[str, str] = field(default_factory=dict)
    classifiers: Optional[Sequence[str]] = None
    #: For a folder of images without class sub-folders: the class they all are.
    class_name: Optional[str] = None
    seed: int = 0
    device: str = "auto"
    results_dir: Path = Path("ganbench-results")
    force: bool = False


@dataclass
class ExternalOutcome:
    status: str  # ran | skipped | failed
    cell_key: str
    run_id: str
    #: The rows stored by this call (none when skipped).
    rows: list[ResultRow] = field(default_factory=list)
    #: Images evaluated (those of the folder, at most the profile's n_fake).
    count: int = 0
    error: Optional[str] = None


@dataclass(frozen=True)
class SampleFiles:
    """The image files of a samples folder, by the folder that holds them."""

    root: Path
    #: sub-folder name (or :data:`TOP`) -> relative posix paths of its images, sorted.
    folders: dict[str, list[str]]

    @property
    def paths(self) -> list[str]:
        return sorted(p for files in self.folders.values() for p in files)


def evaluate_external(registry: Registry, request: ExternalRequest, progress: Progress = SilentProgress()) -> ExternalOutcome:
    """Evaluate ``request.samples`` with every metric of the suite and store the rows.
    Raises :class:`GanbenchError` (before anything is computed) for a bad name, layout,
    class folder or image; a metric that fails becomes ``failed`` rows, as in a run."""
    suite: Suite = registry.get("suites", request.suite)
    profile = request.profile or suite.default_profile
    if profile not in suite.profiles:
        raise GanbenchError(f"suite {suite.name!r} has no profile {profile!r}; it has {', '.join(suite.profiles)}")
    if profile not in PROFILES:
        raise GanbenchError(f"unknown profile {profile!r}; profiles are {', '.join(PROFILES)}")
    check_external_name(registry, request.name)
    settings = suite.profiles[profile]
    datasets = resolve_datasets(registry, suite, request, progress)
    if len(datasets) != 1:
        raise GanbenchError(
            f"suite {suite.name!r} has {len(datasets)} datasets ({', '.join(datasets)}); samples are evaluated against one: give --data PATH"
        )
    classifiers = tuple(request.classifiers or settings.classifiers or suite.classifiers)
    check_names(registry, suite, (), datasets, classifiers)
    check_variants(registry, suite, profile, settings.variants)
    variant = choose_variant(suite, profile, request)
    settings = replace(
        settings, metric_settings=resolve_metric_settings(registry, suite, profile, classifiers, request.metric_settings)
    )
    if variant is not None:
        own = set(variant.metric_settings) | ({"classifier_epochs"} if variant.classifier_epochs is not None else set())
        overridden = set(request.metric_settings) & own
        if overridden:
            raise GanbenchError(
                f"--metric-setting {', '.join(sorted(overridden))}: variant {variant.name!r} of suite {suite.name!r} sets it itself; leave it out"
            )
    task = variant.class_task if variant is not None and variant.class_task is not None else suite.class_task
    if task and task not in CLASS_TASKS:
        raise GanbenchError(f"suite {suite.name!r}: unknown class task {task!r}; known: {', '.join(CLASS_TASKS)}")
    files = scan_samples(Path(request.samples))
    if request.class_name is not None and TOP not in files.folders:
        raise GanbenchError(
            f"--class is for a folder of images of one class; {request.samples} has class sub-folders ({', '.join(files.folders)}), "
            "which name the classes themselves: leave --class out"
        )
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
        # --force evaluates every metric again instead of reusing an earlier run's rows.
        reuse=not request.force,
    )
    cell = Cell(suite.name, datasets[0], external_gan(request.name), int(request.seed), profile, variant.name if variant else "")
    own = cell_settings(cell, settings)
    data = load_data(registry, suite, request, cell.dataset, own.image_size, own.channels, task, progress)
    labels = folder_labels(files, data, request)
    fingerprint = samples_fingerprint(files)
    count = min(len(files.paths), own.n_fake)
    config = external_config(cell, request.name, data, ctx, fingerprint, labels, len(files.paths), count)
    key = cell.key
    with wait_for_claim(ctx.results_dir, key, progress.log):
        for folder in set_aside_abandoned(ctx.results_dir, key, store.run_ids(key)):
            progress.log(f"{key}: run {folder.name} was stopped before its rows were stored; its artifacts are now in {folder}")
        previous = store.finished_run(suite.name, key, config_hash(config))
        if previous and not request.force:
            return ExternalOutcome("skipped", key, previous, count=count)
        started = time.perf_counter()
        fake = read_samples(files, labels, own.image_size, own.channels, progress)
        if len(fake) < own.n_fake:
            progress.log(
                f"warning: {request.samples} holds {len(fake)} images, fewer than the {own.n_fake} the profile {profile!r} "
                "generates per cell: all of them are evaluated, and scores that depend on the sample size (FID, KID) "
                "are not comparable with the other GANs' at this profile"
            )
        elif len(fake) > own.n_fake:
            fake = fake.subset(fake.matching(fake.labels, own.n_fake, seed=cell.seed))
            progress.log(f"{request.samples}: {len(files.paths)} images; {own.n_fake} of them (the profile's n_fake, their class mix kept) are evaluated")
        rows = evaluate(cell, request.name, data, ctx, fake, config, fingerprint, Path(request.samples))
        for row in rows:
            row.cell_wall_time_s = time.perf_counter() - started
        store.append(rows)
    failed = [r for r in rows if r.status == "failed"]
    return ExternalOutcome(
        "failed" if failed else "ran",
        key,
        rows[0].run_id,
        rows,
        len(fake),
        "; ".join(sorted({f"{r.metric}: {r.error}" for r in failed})) or None,
    )


def check_external_name(registry: Registry, name: str) -> None:
    if not isinstance(name, str) or not KEBAB.match(name):
        raise GanbenchError(f"--name {name!r}: the GAN's name must be lower-kebab-case (e.g. my-stylegan2), as every GAN's is")
    if ("gans", name) in registry or name in registry.clashes["gans"]:
        raise GanbenchError(
            f"--name {name!r} is a GAN ganbench trains (`ganbench list gans`); samples from elsewhere need a name of their own "
            f"(e.g. {name}-mine), so that they are never mistaken for ganbench's {name}"
        )


def choose_variant(suite: Suite, profile: str, request: ExternalRequest):
    variants = suite.profiles[profile].variants
    names = [v.name for v in variants]
    if request.variant is None:
        if variants:
            raise GanbenchError(
                f"suite {suite.name!r} at profile {profile!r} runs its cells in variants ({', '.join(names)}); "
                "give --variant NAME: the one whose settings the samples were made for"
            )
        return None
    if request.variant not in names:
        have = f"its variants are {', '.join(names)}" if names else "it has none"
        raise GanbenchError(f"suite {suite.name!r} at profile {profile!r} has no variant {request.variant!r}; {have}")
    return suite.profiles[profile].variant(request.variant)


def external_gan(name: str) -> str:
    """The GAN of an external cell, which makes its key
    ``<suite>/<dataset>/external-<name>/seed-<seed>/<profile>[/<variant>]``: never the key
    of a cell ganbench trains. The rows' ``gan`` is ``name`` itself."""
    return f"external-{name}"


def load_data(registry, suite: Suite, request: ExternalRequest, name: str, size: int, channels: int, task: str, progress: Progress) -> LoadedData:
    """The real data the samples are compared with, as ``run_suite`` loads it."""
    dataset = registry.get("datasets", name)
    if request.data is not None:
        dataset = dataset.configure(request.data_options)
    path = request.data if dataset.needs_path else None
    if dataset.needs_path and path is None:
        raise GanbenchError(f"dataset {dataset.name!r} needs --data PATH ({dataset.obtain})")
    data = apply_class_task(dataset.load(path, size, channels, progress), task)
    for line in class_count_warnings(name, data.class_names):
        progress.log(f"warning: {line}")
    return data


# --------------------------------------------------------------------------- the folder


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def scan_samples(root: Path) -> SampleFiles:
    """The image files of ``root``: in its class sub-folders, or directly in it. Hidden
    files and folders are ignored; other files and nested folders are ignored with no
    error (they are not samples). Raises :class:`GanbenchError` for a missing or empty
    folder, an empty sub-folder, or a folder that mixes images and sub-folders."""
    if not root.exists():
        raise GanbenchError(f"samples folder {root} does not exist")
    if not root.is_dir():
        raise GanbenchError(f"--samples {root} is a file; give a folder of images, or of class sub-folders of images")
    def images_in(folder: Path) -> list[Path]:
        return sorted(p for p in folder.iterdir() if p.is_file() and not _is_hidden(p.name) and p.suffix.lower() in IMAGE_EXTENSIONS)

    subfolders = sorted(p for p in root.iterdir() if p.is_dir() and not _is_hidden(p.name))
    top = images_in(root)
    shown = ", ".join(sorted(IMAGE_EXTENSIONS))
    if top and subfolders:
        raise GanbenchError(
            f"samples folder {root} holds both images and sub-folders ({', '.join(p.name for p in subfolders)}): "
            "put every image in a sub-folder named after its class, or every image directly in the folder (one class)"
        )
    if top:
        return SampleFiles(root, {TOP: [p.name for p in top]})
    folders = {d.name: [f"{d.name}/{p.name}" for p in images_in(d)] for d in subfolders}
    if not any(folders.values()):
        where = f" nor in its sub-folders ({', '.join(folders)})" if folders else ""
        raise GanbenchError(f"samples folder {root} is empty: no images ({shown}) in it{where}")
    empty = [name for name, files in folders.items() if not files]
    if empty:
        raise GanbenchError(f"samples folder {root}: the sub-folder(s) {', '.join(empty)} hold no images ({shown}); remove them or fill them")
    return SampleFiles(root, folders)


def match_class(name: str, class_names: Sequence[str]) -> Optional[int]:
    """The label of the class ``name`` spells (exactly, or as :func:`canonical_class`
    reads it: ``glioma``, ``Glioma`` and ``glioma_tumor`` meet); None if none does."""
    if name in class_names:
        return list(class_names).index(name)
    found = [i for i, c in enumerate(class_names) if canonical_class(c) == canonical_class(name)]
    return found[0] if len(found) == 1 else None


def folder_labels(files: SampleFiles, data: LoadedData, request: ExternalRequest) -> dict[str, int]:
    """Each folder of ``files`` -> the label of its images in ``data``."""
    classes = data.class_names
    listing = f"the classes of {data.name} are {', '.join(classes)}"
    if TOP in files.folders:
        if request.class_name is not None:
            label = match_class(request.class_name, classes)
            if label is None:
                raise GanbenchError(f"--class {request.class_name!r} is none of the data's classes: {listing}")
            return {TOP: label}
        return {TOP: 0 if len(classes) == 1 else NO_CLASS}
    labels: dict[str, int] = {}
    for folder in files.folders:
        label = match_class(folder, classes)
        if label is None:
            raise GanbenchError(
                f"samples folder {files.root}: the sub-folder {folder!r} matches no class; {listing}. Name each sub-folder "
                "after the class of its images (any spelling of it: glioma, Glioma and glioma_tumor all mean glioma_tumor)"
            )
        twin = next((f for f, lbl in labels.items() if lbl == label), None)
        if twin is not None:
            raise GanbenchError(
                f"samples folder {files.root}: the sub-folders {twin!r} and {folder!r} both mean the class {classes[label]!r}; merge them"
            )
        labels[folder] = label
    return labels


def samples_fingerprint(files: SampleFiles) -> str:
    """SHA-256 over every image file's relative path and bytes, in path order."""
    paths = files.paths
    digests = file_digests([files.root / p for p in paths])
    unreadable = [p for p, d in zip(paths, digests) if not d]
    if unreadable:
        raise GanbenchError(f"cannot read {files.root / unreadable[0]}" + (f" (and {len(unreadable) - 1} more files)" if len(unreadable) > 1 else ""))
    h = hashlib.sha256()
    for path, digest in zip(paths, digests):
        h.update(f"{path}\0{digest}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def read_samples(files: SampleFiles, labels: Mapping[str, int], size: int, channels: int, progress: Progress) -> ImageSplit:
    """Every image decoded as the ``image-folder`` reader decodes real ones (grey,
    centre crop, resized to ``size``, grey repeated for 3 channels); uint8 N x C x H x W.
    Raises :class:`GanbenchError` naming the first file that is no readable image."""
    arrays, targets = [], []
    jobs = [(folder, rel) for folder, rels in files.folders.items() for rel in rels]
    for folder, rel in progress.track(jobs, total=len(jobs), description="reading samples"):
        result = decode_image(files.root / rel, size)
        if isinstance(result, Skipped):
            raise GanbenchError(
                f"{files.root / rel}: {result.reason}" + (f" ({result.detail})" if result.detail else "")
                + "; every image file in the samples folder must be a readable image: fix it or remove it"
            )
        arrays.append(result)
        targets.append(labels[folder])
    images = torch.from_numpy(np.stack(arrays)).unsqueeze(1)
    if channels == 3:
        images = images.expand(-1, 3, -1, -1).contiguous()
    elif channels != 1:
        raise GanbenchError(f"samples are read as grey (1) or RGB (3) channel images, not {channels}")
    return ImageSplit(images, torch.tensor(targets, dtype=torch.long))


# --------------------------------------------------------------------------- the rows


def external_config(
    cell: Cell, name: str, data: LoadedData, ctx: CellContext, fingerprint: str, labels: Mapping[str, int], files: int, count: int
) -> dict[str, Any]:
    """Everything that can change the numbers (its hash decides whether evaluating again
    is skipped); the samples' path is added to the stored config only."""
    settings = cell_settings(cell, ctx.settings)
    variant = ctx.settings.variant(cell.variant)
    classes = {folder: (data.class_names[label] if label >= 0 else None) for folder, label in sorted(labels.items())}
    return {
        "gan": name,
        "external": {"fingerprint": fingerprint, "files": files, "count": count, "classes": classes},
        "dataset": cell.dataset,
        "dataset_fingerprint": data.fingerprint,
        "class_names": list(data.class_names),
        "seed": cell.seed,
        "profile": cell.profile,
        "image_size": settings.image_size,
        "channels": settings.channels,
        "n_fake": settings.n_fake,
        "n_real": settings.n_real,
        "metric_settings": dict(settings.metric_settings),
        "metrics": list(cell_metrics(cell, ctx)),
        "classifiers": {name: ctx.registry.get("classifiers", name).hyperparameters(cell.profile) for name in ctx.classifiers},
        "training": EXTERNAL_TRAINING,
        **({"variant": {"name": variant.name, **variant.overrides()}} if variant is not None else {}),
        # A suite read from a file: its content, as in a trained cell's config (cell.cell_config).
        **({"suite_file": digest} if (digest := suite_file_digest(ctx.registry, ctx.suite.name)) else {}),
    }


class _WithExternalGAN:
    """The registry, answering :meth:`~ganbench.registry.Registry.provenance` for the
    external GAN too (:func:`.cell.row_base` records every plugin a row used)."""

    def __init__(self, registry: Registry, name: str, provenance: Provenance):
        self._registry, self._name, self._provenance = registry, name, provenance

    def provenance(self, kind: str, name: str) -> Provenance:
        if (kind, name) == ("gans", self._name):
            return self._provenance
        return self._registry.provenance(kind, name)

    def __getattr__(self, attribute: str):
        return getattr(self._registry, attribute)

    def __contains__(self, kind_and_name) -> bool:
        return kind_and_name in self._registry


def unavailable_reason(metric, fake: ImageSplit) -> Optional[str]:
    """Why ``metric`` cannot score samples ganbench did not make, or None."""
    if metric.kind == "cost":
        return "external samples: ganbench did not train this GAN, so there is no training time or cost to report"
    if metric.kind == "downstream" and bool((fake.labels < 0).all()):
        return (
            "external samples without classes (one folder of images, no --class): the classifier metrics are not run "
            "(TSTR and TRSTR train on labelled samples: put them in class sub-folders; TRTR, real on real, is the same "
            "for every GAN on this data)"
        )
    return None


def evaluate(cell: Cell, name: str, data: LoadedData, ctx: CellContext, fake: ImageSplit, config: dict, fingerprint: str, samples: Path) -> list[ResultRow]:
    """Every metric of the cell on ``fake``: the rows, not yet stored."""
    run_id = uuid.uuid4().hex[:12]
    artifacts = ctx.results_dir / "artifacts" / cell.key / run_id
    provenance = Provenance(plugin="external", distribution="samples evaluated as given", version=fingerprint[:16])
    base = row_base(cell, data, replace(ctx, registry=_WithExternalGAN(ctx.registry, cell.gan, provenance)), config, run_id, artifacts)
    base["gan"] = name
    # Where a trained cell names its training stage, an external one names its samples
    # (and what makes pixels of them): evaluate_generated then reuses an earlier run's
    # rows of a metric on the very same samples and settings (unless --force).
    base["config"]["stage"] = {"training_hash": training_hash(config, provenance.as_dict()), "trained_by_run": None}
    base["plugins"] = {(f"gans/{name}" if used == f"gans/{cell.gan}" else used): origin for used, origin in base["plugins"].items()}
    stored = dict(base["config"])
    stored["external"] = {"samples": str(samples.resolve()), **config["external"]}
    base["config"] = stored
    artifacts.mkdir(parents=True, exist_ok=True)
    save_sample_grid(fake, artifacts / "samples.png")
    (artifacts / "config.json").write_text(json.dumps(stored, indent=2, sort_keys=True, default=str))

    # What needs a GAN ganbench trained is unavailable, never computed from made-up inputs
    # (evaluate_generated would run training-cost on no training time and fail it).
    unavailable = {}
    for metric_name in cell_metrics(cell, ctx):
        reason = unavailable_reason(ctx.registry.get("metrics", metric_name), fake)
        if reason:
            unavailable[metric_name] = reason
    evaluated = replace(ctx, metrics=tuple(m for m in ctx.metrics if m not in unavailable))
    rows = evaluate_generated(cell, data, evaluated, Generated(fake, {}, {}), artifacts, base, None)
    for metric_name, reason in unavailable.items():
        metric = ctx.registry.get("metrics", metric_name)
        classifiers = list(ctx.classifiers) if metric.kind == "downstream" else [None]
        rows += [
            ResultRow(**base, metric=metric_name, classifier=classifier, key=result_key, status="unavailable", error=reason)
            for classifier in classifiers
            for result_key in metric.result_keys
        ]
    return rows
