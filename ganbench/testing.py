"""Helpers for testing ganbench plugins: an isolated plugin set, tiny data, and contract
checks for GANs, datasets, metrics and classifiers.

Installed as a pytest plugin (entry point group ``pytest11``), so a plugin author's
tests get the fixtures :func:`ganbench_registry` and :func:`tiny_image_data` without a
conftest, and import the checks::

    from ganbench.testing import check_gan

    def test_my_gan_keeps_the_contract(ganbench_registry):
        check_gan(ganbench_registry("my_package.plugin").get("gans", "my-gan"))

pytest loads this module in every session of an environment that has ganbench, so it
imports nothing heavy at import time: torch and the core modules that need it are
imported inside the functions that use them. Disable it with ``-p no:ganbench``.

``pip install "ganbench[testing]"`` brings pytest. Without it the contract checks still
work (from any script); the fixtures say which extra they need.

Every check runs on the CPU at a tiny size, stops at the first broken rule and raises
``AssertionError`` naming the item and the rule.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import math
import numbers
import os
import re
import tempfile
from collections.abc import Mapping as MappingABC
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Optional, Sequence

try:
    import pytest

    fixture = pytest.fixture
except ImportError:  # the contract checks work without pytest; only the fixtures need it
    pytest = None

    def fixture(function):
        @functools.wraps(function)
        def needs_pytest(*args, **kwargs):
            raise ImportError(
                f"ganbench.testing.{function.__name__} is a pytest fixture and pytest is not installed: "
                "pip install 'ganbench[testing]'"
            )

        return needs_pytest


if TYPE_CHECKING:
    from .plugins import Plugins
    from .registry import Registry
    from .specs import Evaluation, LoadedData

#: The distribution that the plugins handed straight to :func:`load_isolated` are
#: attributed to, as :func:`ganbench.plugins.load_plugins` labels its extra modules.
DIRECT = "(registered directly)"

#: Class 0 is named so that image-to-image GANs and tumour-detection scores find their
#: no-tumour class in the tiny data.
NEGATIVE_CLASS = "no_tumor"


# --------------------------------------------------------------------------- plugin sets


class _Distribution:
    def __init__(self, name: str):
        self.name, self.version = name, ""


def _label(plugin: Any) -> str:
    """A dotted module name as given, else the object's own name."""
    return plugin if isinstance(plugin, str) else getattr(plugin, "__name__", type(plugin).__qualname__)


class _DirectPlugin:
    """A plugin handed over in a test, dressed as an entry point (``name``, ``value``,
    ``dist``, ``load``) so that :func:`ganbench.plugins.load_plugins` registers and
    reports it exactly as it does an installed one, whatever kind of object it is
    (``load_plugins``'s own ``extra_modules`` take modules only)."""

    def __init__(self, name: str, plugin: Any):
        self.name, self.value, self.dist, self._plugin = name, _label(plugin), _Distribution(DIRECT), plugin

    def load(self) -> Any:
        return importlib.import_module(self._plugin) if isinstance(self._plugin, str) else self._plugin


def _direct(plugin: Any) -> _DirectPlugin:
    return _DirectPlugin(*plugin) if isinstance(plugin, tuple) else _DirectPlugin(_label(plugin), plugin)


def _canonical(distribution: str) -> str:
    """PEP 503 normal form: 'ganbench_tiny_gan' and 'ganbench-tiny-gan' are one distribution."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


@contextmanager
def _without_allow_list() -> Iterator[None]:
    # The user's GANBENCH_LOAD_PLUGINS would otherwise decide which of the requested
    # plugins a test sees; load_plugins reads it from the environment only.
    from .plugins import ALLOW_ENV

    saved = os.environ.pop(ALLOW_ENV, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[ALLOW_ENV] = saved


def load_isolated(
    *plugins: Any,
    builtins: bool = False,
    distributions: Iterable[str] = (),
    blocked: Iterable[str] = (),
) -> "Plugins":
    """A fresh plugin set with only what is asked for; never the other installed plugins.

    ``plugins``: modules, classes or objects with ``@ganbench.hookimpl`` functions, dotted
    module names (imported here), or ``(name, plugin)`` pairs to choose the plugin name.
    ``builtins`` adds ganbench's own plugins; ``distributions`` adds the ``ganbench`` entry
    points of those installed distributions (to test that a package's entry point works).
    ``GANBENCH_LOAD_PLUGINS`` is ignored. Raises ``AssertionError`` when a plugin fails
    to import or its hook raises: in a test that is a failure, not a skipped plugin.
    """
    from importlib import metadata

    from .plugins import ENTRY_POINT_GROUP, load_plugins

    wanted = {_canonical(d) for d in distributions} | ({"ganbench"} if builtins else set())
    installed = [
        ep
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
        if ep.dist is not None and _canonical(ep.dist.name) in wanted
    ]
    missing = wanted - {_canonical(ep.dist.name) for ep in installed}
    if missing:
        raise AssertionError(
            f"no {ENTRY_POINT_GROUP!r} entry points from {', '.join(sorted(missing))}: "
            "is the distribution installed in this environment (pip install -e PATH)?"
        )
    with _without_allow_list():
        loaded = load_plugins(blocked=blocked, entry_points=[*installed, *map(_direct, plugins)])
    broken = [f"{info.name} ({info.distribution}): {info.error}" for info in loaded.infos if info.error]
    if broken:
        raise AssertionError("plugins failed to load:\n  " + "\n  ".join(broken))
    return loaded


# --------------------------------------------------------------------------- tiny data


def tiny_data(
    size: int = 32,
    channels: int = 1,
    num_classes: int = 2,
    train_per_class: int = 8,
    test_per_class: int = 4,
    seed: int = 0,
) -> "LoadedData":
    """A small labelled image set in the shape a dataset plugin loads: a bright oval
    ("head") on a dark background, with a bright spot ("lesion") whose place depends on
    the class; class 0 ('no_tumor') has none. Deterministic for ``seed``; no files."""
    import torch

    from .specs import ImageSplit, LoadedData

    generator = torch.Generator().manual_seed(seed)
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    head = ((xs / 0.8) ** 2 + (ys / 0.9) ** 2 < 1).float()

    def split(per_class: int) -> ImageSplit:
        images = []
        for label in range(num_classes):
            for _ in range(per_class):
                image = head * (0.35 + 0.25 * torch.rand(size, size, generator=generator))
                if label:
                    angle = 2 * math.pi * label / num_classes
                    jitter = 0.1 * (torch.rand(2, generator=generator) - 0.5)
                    cy, cx = 0.45 * math.sin(angle) + jitter[0], 0.45 * math.cos(angle) + jitter[1]
                    image = torch.where((xs - cx) ** 2 + (ys - cy) ** 2 < 0.05, torch.tensor(0.95), image)
                images.append(image)
        pixels = (torch.stack(images) * 255).round().to(torch.uint8).unsqueeze(1).repeat(1, channels, 1, 1)
        labels = torch.arange(num_classes).repeat_interleave(per_class)
        return ImageSplit(pixels, labels)

    class_names = (NEGATIVE_CLASS, *(f"tumor_{k}" for k in range(1, num_classes)))
    return LoadedData(
        name="tiny",
        class_names=class_names,
        train=split(train_per_class),
        test=split(test_per_class),
        fingerprint=f"tiny-{size}-{channels}-{num_classes}-{train_per_class}-{test_per_class}-{seed}",
        family="tiny",
        synthetic=True,
        notes="generated by ganbench.testing.tiny_data for plugin tests",
    )


def tiny_evaluation(
    folder: Path,
    data: Optional["LoadedData"] = None,
    n_fake: int = 8,
    image_to_image: bool = False,
    settings: Optional[Mapping[str, Any]] = None,
) -> "Evaluation":
    """An :class:`~ganbench.specs.Evaluation` as the runner hands to metrics, on tiny
    data: ``n_fake`` class-balanced "generated" images (other draws of the same classes),
    artifacts and caches under ``folder``. ``image_to_image`` adds the real sources and
    cycle reconstructions an image-to-image GAN's evaluation carries."""
    import torch

    from .runner.training import balanced_labels
    from .specs import Evaluation, ImageSplit, SilentProgress

    data = data or tiny_data()
    spec = data.image_spec
    per_class = -(-n_fake // spec.num_classes)
    drawn = tiny_data(spec.size, spec.channels, spec.num_classes, per_class, 1, seed=1).train
    labels = balanced_labels(n_fake, spec.num_classes)
    index = torch.cat([(drawn.labels == c).nonzero().squeeze(1)[: int((labels == c).sum())] for c in range(spec.num_classes)])
    fake = drawn.subset(index)
    sources = reconstructions = None
    if image_to_image:
        sources = data.train.subset(torch.arange(len(fake)) % len(data.train))
        reconstructions = ImageSplit(sources.images.flip(-1), sources.labels)
    artifacts = Path(folder) / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    return Evaluation(
        data=data,
        fake=fake,
        device=torch.device("cpu"),
        seed=0,
        settings={"profile": "smoke", "n_real": 2 * n_fake, "classifier_epochs": 1, **(settings or {})},
        cache_dir=Path(folder) / "cache",
        artifacts_dir=artifacts,
        progress=SilentProgress(),
        sources=sources,
        reconstructions=reconstructions,
        # As the runner records it: what a cost metric reads.
        train_wall_time_s=1.5,
    )


def _tiny_classifier():
    """A linear classifier on 4x4-pooled pixels: the cheapest network the downstream
    metrics can train, for checking a metric rather than a classifier."""
    from torch import nn

    from .specs import PROFILES, Classifier

    class TinyClassifier(Classifier):
        name = "tiny-classifier"
        description = "Linear layer on 4x4 average-pooled pixels (ganbench.testing)"
        source = "ganbench.testing"
        profiles = {p: {"epochs": 1, "batch_size": 8, "optimizer": "adam", "lr": 1e-2} for p in PROFILES}

        def build(self, num_classes, image_size, channels, pretrained=False):
            if pretrained:
                from .errors import PretrainedWeightsUnavailable

                raise PretrainedWeightsUnavailable("tiny-classifier has no pretrained weights")
            return nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(channels * 16, num_classes))

    return TinyClassifier()


# --------------------------------------------------------------------------- contracts


class _Contract:
    """The rules one item is checked against; the first broken one fails the check."""

    def __init__(self, kind: str, item: Any):
        from .errors import RegistrationError
        from .registry import KINDS, Provenance, Registry

        word, _ = KINDS[kind]
        self.subject = f"{word} {getattr(item, 'name', type(item).__qualname__)!r}"
        # The core's own registration is the first rule: type, lower-kebab name.
        try:
            Registry().register(kind, item, Provenance("under test", DIRECT, ""))
        except RegistrationError as exc:
            self.fail(str(exc))
        for field in ("description", "source"):
            value = getattr(item, field, None)
            self.require(
                isinstance(value, str) and value.strip() != "",
                f"{field} must be a non-empty string (`ganbench list {kind}` shows it), got {value!r}",
            )

    def fail(self, rule: str):
        raise AssertionError(f"{self.subject} breaks the plugin contract: {rule}")

    def require(self, ok: bool, rule: str) -> None:
        if not ok:
            self.fail(rule)

    @contextmanager
    def calling(self, call: str) -> Iterator[None]:
        """Any exception from the plugin's ``call`` fails the check, naming the call."""
        try:
            yield
        except AssertionError:
            raise
        except Exception as exc:
            raise AssertionError(
                f"{self.subject} breaks the plugin contract: {call} raised {type(exc).__name__}: {exc}"
            ) from exc

    def profiles(self, item: Any, profiles: Sequence[str]) -> dict[str, dict]:
        """``hyperparameters(p)`` for every profile: a dict, and a fresh copy each call
        (callers such as the runner change it)."""
        tables = {}
        marker = "__changed_by_the_caller__"
        for profile in profiles:
            call = f"hyperparameters({profile!r})"
            with self.calling(call):
                first = item.hyperparameters(profile)
                self.require(isinstance(first, dict), f"{call} must return a dict, got {type(first).__name__}")
                first[marker] = True
                try:
                    again = item.hyperparameters(profile)
                    fresh = marker not in again
                finally:
                    first.pop(marker)  # a plugin that shares its table gets it back unchanged
            self.require(fresh, f"{call} must return a fresh copy on every call")
            tables[profile] = again
        return tables

    def positive_int(self, table: Mapping, key: str, where: str) -> None:
        value = table.get(key)
        self.require(
            isinstance(value, int) and not isinstance(value, bool) and value > 0,
            f"{where}[{key!r}] must be a positive int, got {value!r}",
        )

    def flag(self, item: Any, attribute: str) -> None:
        value = getattr(item, attribute)
        self.require(isinstance(value, bool), f"{attribute} must be a bool, got {value!r}")

    def strings(self, value: Any, what: str) -> None:
        self.require(
            isinstance(value, (tuple, list)) and all(isinstance(v, str) and v for v in value),
            f"{what} must be a tuple of non-empty strings, got {value!r}",
        )

    def settings(self, item: Any) -> tuple:
        """``settings``: a tuple of distinct ``ganbench.settings.Setting`` the runner
        does not set itself (each Setting checks its own fields when declared)."""
        from .settings import settings_problem

        problem = settings_problem(item.settings)
        self.require(problem is None, f"{problem} (ganbench.settings describes the declaration)")
        return item.settings


class _ReadSettings(MappingABC):
    """An evaluation's settings that remember which keys a metric looked up, so a
    metric reading a setting it does not declare fails its check (a run would refuse
    that setting as unknown)."""

    def __init__(self, values: Mapping[str, Any]):
        self._values, self.read = dict(values), set()

    def __getitem__(self, key):
        self.read.add(key)
        return self._values[key]

    def __contains__(self, key):
        self.read.add(key)
        return key in self._values

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)


def _outputs(contract: _Contract, images, shape: tuple, call: str) -> None:
    """A GAN's output rule: float32 images of ``shape``, finite, in [-1, 1]."""
    import torch

    contract.require(isinstance(images, torch.Tensor), f"{call} must return a tensor, got {type(images).__name__}")
    contract.require(tuple(images.shape) == shape, f"{call} must return images of shape {shape}, got {tuple(images.shape)}")
    contract.require(images.dtype == torch.float32, f"{call} must return float32 images, got {images.dtype}")
    contract.require(bool(torch.isfinite(images).all()), f"{call} returned non-finite values")
    low, high = float(images.min()), float(images.max())
    contract.require(low >= -1 and high <= 1, f"{call} must return values in [-1, 1], got [{low:.3g}, {high:.3g}]")


def _weights(model) -> dict[str, Any]:
    return {
        f"{net}.{key}": value.detach().clone()
        for net, module in model.networks().items()
        for key, value in module.state_dict().items()
        if value.is_floating_point()
    }


def check_gan(
    gan: Any,
    *,
    size: int = 32,
    channels: int = 1,
    num_classes: int = 2,
    steps: int = 2,
    batch: int = 4,
    profiles: Optional[Sequence[str]] = None,
    overrides: Optional[Mapping[str, Any]] = None,
) -> Any:
    """Check a :class:`~ganbench.specs.GAN` as the runner uses it; returns the trained
    model. ``profiles`` (default all of ``PROFILES``) must each give ``batch_size`` and
    ``steps`` or ``epochs``; the model is built from the smoke profile with
    ``overrides`` (e.g. a smaller width) and ``batch_size`` set to ``batch``."""
    import torch

    from .checkpoints import load_networks, save_networks
    from .specs import GAN_KINDS, PROFILES, GANModel, ImageSpec, ImageToImageModel

    c = _Contract("gans", gan)
    c.require(gan.kind in GAN_KINDS, f"kind must be one of {', '.join(GAN_KINDS)}, got {gan.kind!r}")
    c.flag(gan, "conditional")
    c.strings(gan.assumptions, "assumptions")
    tables = c.profiles(gan, PROFILES if profiles is None else profiles)
    for profile, table in tables.items():
        where = f"hyperparameters({profile!r})"
        c.positive_int(table, "batch_size", where)
        c.require("steps" in table or "epochs" in table, f"{where} must have 'steps' or 'epochs' (the runner's step count)")
        c.positive_int(table, "steps" if "steps" in table else "epochs", where)

    spec = ImageSpec(size, channels, num_classes)
    smoke = tables.get("smoke") or c.profiles(gan, ["smoke"])["smoke"]
    hparams = {**smoke, **(overrides or {}), "batch_size": batch}
    image_to_image = gan.kind == "image-to-image"

    def build(seed: int):
        torch.manual_seed(seed)
        with c.calling(f"build({spec}, smoke hyperparameters, cpu)"):
            model = gan.build(spec, hparams, torch.device("cpu"))
        wanted = ImageToImageModel if image_to_image else GANModel
        c.require(isinstance(model, wanted), f"build() must return a {wanted.__qualname__}, got {type(model).__qualname__}")
        return model

    model = build(0)
    with c.calling("networks()"):
        networks = model.networks()
    c.require(
        isinstance(networks, dict) and networks and all(isinstance(n, torch.nn.Module) for n in networks.values()),
        f"networks() must return a non-empty dict of name -> torch.nn.Module, got {networks!r}",
    )

    real = torch.rand(batch, channels, size, size, generator=torch.Generator().manual_seed(1)) * 2 - 1
    # The runner always passes labels: classes, or for an image-to-image GAN the
    # domains (source images first, labelled 0; target images labelled 1).
    labels = (torch.arange(batch) >= batch // 2).long() if image_to_image else torch.arange(batch) % num_classes
    before = _weights(model)
    with c.calling(f"plan({steps})"):
        model.plan(steps)
    for step in range(steps):
        call = f"train_step(real {tuple(real.shape)}, labels) at step {step}"
        with c.calling(call):
            losses = model.train_step(real, labels)
        c.require(isinstance(losses, dict) and losses, f"{call} must return a non-empty dict of losses, got {losses!r}")
        bad = {k: v for k, v in losses.items() if not (isinstance(v, float) and math.isfinite(v))}
        c.require(not bad, f"{call} must return finite python float losses, got {bad!r}")
    after = _weights(model)
    c.require(any(not torch.equal(before[k], after[k]) for k in after), f"{steps} train_step calls changed no weight of networks()")

    # As the runner samples: a conditional GAN always with labels, the others without.
    classes = torch.arange(3) % num_classes if gan.conditional else None

    def produce(m, seed: int, labels=classes):
        if image_to_image:
            images = torch.rand(3, channels, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1
            return {reverse: m.translate(images, reverse=reverse) for reverse in (False, True)}
        return {None: m.sample(3, labels=labels, generator=torch.Generator().manual_seed(seed))}

    if image_to_image:
        call = "translate(3 images, reverse=False|True)"
    else:
        call = f"sample(3, labels={'classes' if gan.conditional else None}, generator=seeded)"
    with c.calling(call):
        first, again = produce(model, 7), produce(model, 7)
    for key, images in first.items():
        _outputs(c, images, (3, channels, size, size), call)
        c.require(torch.equal(images, again[key]), f"{call} must give the same images twice for one seed (eval mode, no global RNG)")

    if gan.conditional and not image_to_image:
        call = "sample(3, labels, generator=seeded)"
        with c.calling(call):
            zeros = produce(model, 7, torch.zeros(3, dtype=torch.long))[None]
            lasts = produce(model, 7, torch.full((3,), num_classes - 1))[None]
        _outputs(c, zeros, (3, channels, size, size), call)
        c.require(not torch.equal(zeros, lasts), "a conditional GAN must sample different images for different labels")

    with tempfile.TemporaryDirectory() as folder, c.calling("a checkpoint round trip of networks()"):
        path = Path(folder) / "checkpoint.safetensors"
        save_networks(path, model.networks())
        restored = build(1)
        load_networks(path, restored.networks())
        reloaded = produce(restored, 7)
    c.require(
        all(torch.equal(first[k], reloaded[k]) for k in first),
        "a model rebuilt and loaded from a checkpoint of networks() must produce the same images: "
        "networks() must hold every weight sample/translate uses",
    )
    return model


class _Interrupted(BaseException):
    """Stands for the end of a killed process in :func:`check_resume`."""


def check_resume(
    gan: Any,
    *,
    size: int = 32,
    channels: int = 1,
    num_classes: int = 2,
    steps: int = 6,
    every: int = 2,
    stop_after: int = 3,
    batch: int = 4,
    overrides: Optional[Mapping[str, Any]] = None,
) -> None:
    """Training interrupted after ``stop_after`` steps and resumed from its last
    checkpoint (every ``every`` steps) must end with exactly the weights, optimiser
    state and losses of a training that never stopped: :meth:`GANModel.state_dict`
    must hold everything training changes. Runs the runner's own training loop (batch
    order, seeded RNG streams, checkpoints) on the CPU with the smoke profile's
    hyperparameters, ``overrides`` and ``batch_size`` = ``batch``."""
    import torch

    from .runner.checkpointing import PhaseCheckpoints
    from .runner.training import build_model, train, train_pair
    from .specs import ImageSpec, ImageSplit, SilentProgress

    c = _Contract("gans", gan)
    spec = ImageSpec(size, channels, num_classes)
    smoke = c.profiles(gan, ["smoke"])["smoke"]
    hparams = {**smoke, **(overrides or {}), "batch_size": batch, "steps": steps}
    hparams.pop("epochs", None)
    device = torch.device("cpu")
    n = 3 * batch
    images = (torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(1)) * 255).to(torch.uint8)
    split = ImageSplit(images, torch.arange(n) % num_classes)

    class StopAfter(SilentProgress):
        def __init__(self, count):
            self.count = count

        def track(self, iterable, total=None, description=""):
            for done, item in enumerate(iterable):
                if self.count is not None and done == self.count:
                    raise _Interrupted()
                yield item

    def run(folder: Optional[Path], stop: Optional[int]):
        model = build_model(gan, spec, hparams, device, seed=0)
        checkpoints = PhaseCheckpoints(folder, every) if folder else None
        with c.calling(f"training {steps} steps with checkpoints every {every}"):
            if gan.kind == "image-to-image":
                source, target = split.of_class(0), split.of_class(1)
                history = train_pair(model, source, target, hparams, 0, device, StopAfter(stop), "check", checkpoints)
            else:
                history = train(model, split, hparams, 0, device, StopAfter(stop), "check", checkpoints)
        return model, history

    reference, reference_history = run(None, None)
    with tempfile.TemporaryDirectory() as folder:
        try:
            run(Path(folder), stop_after)
        except _Interrupted:
            pass
        c.require((Path(folder) / "latest.safetensors").is_file(), f"no checkpoint after {stop_after} of {steps} steps (every {every})")
        resumed, resumed_history = run(Path(folder), None)
    expected, got = reference.state_dict(), resumed.state_dict()
    for name, state in expected["networks"].items():
        for key, value in state.items():
            c.require(
                torch.equal(value, got["networks"][name][key]),
                f"resumed training gave other weights than uninterrupted training ({name}.{key}): "
                "state_dict() must hold everything training changes (optimisers, counters, buffers)",
            )
    c.require(resumed_history == reference_history, "resumed training gave other losses than uninterrupted training")


def check_dataset(
    dataset: Any,
    path: Optional[Path] = None,
    *,
    size: int = 32,
    channels: int = 1,
) -> Optional["LoadedData"]:
    """Check a :class:`~ganbench.specs.Dataset`; returns what it loaded. A dataset that
    needs a path is loaded only when ``path`` (a small copy of its layout) is given;
    either way ``load(None)`` of such a dataset must raise ``GanbenchError`` (a missing
    ``--data``), and without ``path`` that is where the checks end."""
    import torch

    from .errors import GanbenchError
    from .specs import Dataset, Detection, ImageSplit, LoadedData, SilentProgress

    c = _Contract("datasets", dataset)
    c.flag(dataset, "needs_path")
    c.require(isinstance(dataset.obtain, str) and dataset.obtain.strip() != "", "obtain must say how a user gets the data (errors show it)")
    c.require(
        isinstance(dataset.options, Mapping) and all(isinstance(k, str) and isinstance(v, str) and v for k, v in dataset.options.items()),
        f"options must map each option name to a one-line help, got {dataset.options!r}",
    )
    with c.calling("configure({})"):
        configured = dataset.configure({})
    c.require(isinstance(configured, Dataset), f"configure({{}}) must return a Dataset, got {configured!r}")
    try:
        dataset.configure({"no-such-option": "1"})
    except GanbenchError as exc:
        c.require("no-such-option" in str(exc), f"configure() with an unknown option must name it, said: {exc}")
    except Exception as exc:
        c.fail(f"configure() with an unknown option must raise GanbenchError, raised {type(exc).__name__}: {exc}")
    else:
        c.fail("configure() with an unknown option must raise GanbenchError")

    with tempfile.TemporaryDirectory() as empty:
        with c.calling("detect(an empty folder)"):
            detection = dataset.detect(Path(empty))
        c.require(isinstance(detection, Detection), f"detect() must return a Detection, got {detection!r}")
        c.require(not detection.matched, "detect() must not claim an empty folder (it would take every --data PATH)")
    if path is not None:
        with c.calling(f"detect({path})"):
            detection = dataset.detect(Path(path))
        c.require(isinstance(detection, Detection), f"detect() must return a Detection, got {detection!r}")

    if dataset.needs_path:
        # Checked with a path given too: a tutorial's test passes one, and a reader that
        # crashes on a missing --data must fail that test as well.
        try:
            dataset.load(None, size, channels, SilentProgress())
        except GanbenchError:
            if path is None:
                return None
        except Exception as exc:
            c.fail(f"load(None) of a dataset that needs a path must raise GanbenchError, raised {type(exc).__name__}: {exc}")
        else:
            c.fail("load(None) of a dataset that needs a path must raise GanbenchError (the CLI shows it as a message)")

    call = f"load({str(path) if path else None}, {size}, {channels}, progress)"
    with c.calling(call):
        data = dataset.load(path, size, channels, SilentProgress())
        again = dataset.load(path, size, channels, SilentProgress())
    c.require(isinstance(data, LoadedData), f"{call} must return a LoadedData, got {type(data).__qualname__}")
    c.require(data.name == dataset.name, f"LoadedData.name must be the dataset's name {dataset.name!r}, got {data.name!r}")
    names = data.class_names
    c.require(
        isinstance(names, tuple) and len(names) >= 2 and len(set(names)) == len(names) and all(isinstance(n, str) and n for n in names),
        f"class_names must be a tuple of at least two distinct names, got {names!r}",
    )
    for split_name in ("train", "test"):
        split = getattr(data, split_name)
        c.require(isinstance(split, ImageSplit) and len(split) > 0, f"the {split_name} split must be a non-empty ImageSplit")
        shape = tuple(split.images.shape[1:])
        c.require(shape == (channels, size, size), f"{split_name} images must be {(channels, size, size)}, got {shape}")
        c.require(split.labels.dtype == torch.int64, f"{split_name} labels must be int64, got {split.labels.dtype}")
        outside = sorted(set(split.labels.tolist()) - set(range(len(names))))
        c.require(not outside, f"{split_name} labels must index class_names, found {outside}")
    empty = [n for k, n in enumerate(names) if not (data.train.labels == k).any()]
    c.require(not empty, f"every class needs training images (one GAN is trained per class); none for {empty}")
    for field in ("fingerprint", "family"):
        value = getattr(data, field)
        c.require(isinstance(value, str) and value != "", f"LoadedData.{field} must be a non-empty string, got {value!r}")
    c.require(isinstance(data.synthetic, bool), f"LoadedData.synthetic must be a bool, got {data.synthetic!r}")
    c.require(
        all(isinstance(k, str) and isinstance(v, int) for k, v in data.skipped.items()),
        f"LoadedData.skipped must count skipped files by reason (str -> int), got {dict(data.skipped)!r}",
    )
    c.require(
        again.fingerprint == data.fingerprint
        and all(torch.equal(getattr(again, s).images, getattr(data, s).images) for s in ("train", "test")),
        "two loads must give the same fingerprint and the same splits (the split never depends on the run)",
    )
    return data


def check_metric(
    metric: Any,
    evaluation: Optional["Evaluation"] = None,
    *,
    classifier: Any = None,
    size: int = 16,
    image_to_image: bool = False,
) -> Optional[Any]:
    """Check a :class:`~ganbench.specs.Metric` on a tiny evaluation (or ``evaluation``);
    returns its result, or None when the metric says it is unavailable here. A
    downstream metric trains ``classifier`` (default: a linear one, for one epoch).
    ``settings`` must be well-formed declarations, and ``compute`` may read no key of
    ``evaluation.settings`` but those, the classifier's and the runner's."""
    from .metric_contract import result_problems
    from .specs import DIRECTIONS, METRIC_KINDS

    c = _Contract("metrics", metric)
    c.require(metric.kind in METRIC_KINDS, f"kind must be one of {', '.join(METRIC_KINDS)} (ganbench.api.METRIC_KINDS), got {metric.kind!r}")
    c.require(metric.direction in DIRECTIONS, f"direction must be one of {', '.join(DIRECTIONS)}, got {metric.direction!r}")
    keys = metric.result_keys
    c.strings(keys, "result_keys")
    c.require(len(keys) > 0 and len(set(keys)) == len(keys), f"result_keys must be non-empty and distinct, got {keys!r}")
    c.strings(metric.per_class_keys, "per_class_keys")
    for attribute in ("headline_keys", "undirected_keys"):
        subset = getattr(metric, attribute)
        if subset is not None:
            c.require(set(subset) <= set(keys), f"{attribute} must be among result_keys, has {sorted(set(subset) - set(keys))}")
    c.require(isinstance(metric.protocol, str) and metric.protocol.strip() != "", "protocol must say what is compared with what (`ganbench protocols` prints it)")
    declared = {s.name for s in c.settings(metric)}
    with c.calling("unavailable_reason()"):
        reason = metric.unavailable_reason()
    if reason is not None:
        c.require(isinstance(reason, str) and reason.strip() != "", f"unavailable_reason() must be None or a message, got {reason!r}")
        return None

    if metric.kind == "downstream" and classifier is None:
        classifier = _tiny_classifier()
    if metric.kind == "downstream":
        declared |= {s.name for s in getattr(classifier, "settings", ())}
    from .settings import RESERVED, RUNNER_SETTINGS

    declared |= set(RESERVED) | {s.name for s in RUNNER_SETTINGS}
    with tempfile.TemporaryDirectory() as folder:
        if evaluation is None:
            evaluation = tiny_evaluation(Path(folder), tiny_data(size), image_to_image=image_to_image)
        settings = _ReadSettings(evaluation.settings)
        evaluation = dataclasses.replace(evaluation, settings=settings)
        call = f"compute(tiny evaluation, {classifier.name if metric.kind == 'downstream' else None})"
        with c.calling(call):
            result = metric.compute(evaluation, classifier if metric.kind == "downstream" else None)
        undeclared = sorted(settings.read - declared)
        c.require(
            not undeclared,
            f"{call} read settings it does not declare in `settings`: {undeclared} (a run refuses undeclared settings)",
        )
        # The same rules the runner enforces on every call (ganbench.metric_contract).
        problems = result_problems(metric, result, evaluation.artifacts_dir)
        c.require(not problems, f"{call}: {'; '.join(problems)}")
    return result


def check_classifier(
    classifier: Any,
    *,
    size: int = 32,
    channels: int = 1,
    num_classes: int = 2,
    batch: int = 2,
    profiles: Optional[Sequence[str]] = None,
) -> Any:
    """Check a :class:`~ganbench.specs.Classifier` as the downstream metrics use it;
    returns the network built from the smoke profile."""
    import torch

    from .errors import PretrainedWeightsUnavailable
    from .specs import PROFILES

    c = _Contract("classifiers", classifier)
    c.flag(classifier, "supports_pretrained")
    c.strings(classifier.build_options, "build_options")
    c.settings(classifier)
    tables = c.profiles(classifier, PROFILES if profiles is None else profiles)
    for profile, table in tables.items():
        where = f"hyperparameters({profile!r})"
        c.positive_int(table, "epochs", where)
        c.positive_int(table, "batch_size", where)
        c.require(isinstance(table.get("optimizer"), str), f"{where}['optimizer'] must name an optimizer, got {table.get('optimizer')!r}")
        lr = table.get("lr")
        c.require(isinstance(lr, numbers.Real) and not isinstance(lr, bool) and lr > 0, f"{where}['lr'] must be a positive number, got {lr!r}")

    smoke = tables.get("smoke") or c.profiles(classifier, ["smoke"])["smoke"]
    options = {name: smoke[name] for name in classifier.build_options if name in smoke}
    call = f"build({num_classes}, {size}, {channels})"
    torch.manual_seed(0)
    with c.calling(call):
        network = classifier.build(num_classes, size, channels, pretrained=False, **options)
    c.require(isinstance(network, torch.nn.Module), f"{call} must return a torch.nn.Module, got {type(network).__qualname__}")

    images = torch.rand(batch, channels, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with c.calling("a training step (forward, cross-entropy, backward)"):
        network.train()
        logits = network(images)
        c.require(
            isinstance(logits, torch.Tensor) and tuple(logits.shape) == (batch, num_classes),
            f"the network must map {tuple(images.shape)} to logits of shape {(batch, num_classes)}, "
            f"got {tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__}",
        )
        torch.nn.functional.cross_entropy(logits, torch.arange(batch) % num_classes).backward()
    c.require(
        any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in network.parameters()),
        "a backward pass through the network must reach its trainable parameters",
    )
    network.eval()
    with torch.no_grad(), c.calling("an eval-mode forward pass"):
        first, second = network(images), network(images)
    c.require(bool(torch.isfinite(first).all()), "the network's eval-mode logits must be finite")
    c.require(torch.equal(first, second), "the network must be deterministic in eval mode (dropout off)")

    # pretrained=True either loads weights found offline or raises the error the core
    # reports; a classifier without weights must say so the same way.
    try:
        classifier.build(num_classes, size, channels, pretrained=True, **options)
    except PretrainedWeightsUnavailable:
        pass
    except Exception as exc:
        c.fail(f"build(pretrained=True) must load local weights or raise PretrainedWeightsUnavailable, raised {type(exc).__name__}: {exc}")
    else:
        c.require(classifier.supports_pretrained, "build(pretrained=True) of a classifier without supports_pretrained must raise PretrainedWeightsUnavailable")
    return network


# --------------------------------------------------------------------------- fixtures


@fixture
def ganbench_registry():
    """Factory: ``ganbench_registry(*plugins, builtins=False, distributions=())`` gives
    the :class:`~ganbench.registry.Registry` of only those plugins (see
    :func:`load_isolated`); the user's other installed plugins never appear in it."""

    def make(*plugins: Any, builtins: bool = False, distributions: Iterable[str] = ()) -> "Registry":
        return load_isolated(*plugins, builtins=builtins, distributions=distributions).registry

    return make


@fixture
def tiny_image_data() -> "LoadedData":
    """:func:`tiny_data` at its defaults: 32 px, one channel, two classes ('no_tumor'
    and 'tumor_1'), 8 training and 4 test images per class."""
    return tiny_data()
