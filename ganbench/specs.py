"""The contracts between the ganbench core and its plugins.

The core only ever talks to these types. A plugin subclasses (or, for the plain data
records, instantiates) them and hands instances to the ``register`` callback of a hook.

Image conventions, everywhere:

* images at rest (datasets, generated sets handed to metrics) are ``uint8`` tensors of
  shape ``(N, C, H, W)`` with values 0..255;
* images inside a GAN (training input, ``sample`` output) are ``float32`` in ``[-1, 1]``.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping, Optional, Sequence

import torch
from torch import nn

from .errors import GanbenchError, NonFiniteImagesError
from .result_keys import base_of
from .result_keys import parse as parse_result_key

if TYPE_CHECKING:
    from .data.inspection import Inspection
    from .settings import Setting

PROFILES = ("smoke", "quick", "paper")
"""The run profiles, smallest first: ``smoke`` (minutes on a CPU, 32 px), ``quick`` (a
short run on one GPU) and ``paper`` (the papers' settings). Every GAN and classifier
gives hyperparameters for each; a suite gives `ProfileSettings` for those it runs."""

GAN_KINDS = ("noise-to-image", "image-to-image")
"""Kinds of GAN (`GAN.kind`): noise-to-image GANs sample from a latent; image-to-image
GANs (CycleGAN) translate held-out source images, which are then their "samples"."""

METRIC_KINDS: Mapping[str, str] = {
    "distribution": "compares the set of generated images with the real reference set as two distributions (FID, KID, precision/recall)",
    "paired": "compares each generated image with one real image, its nearest or its translation's source (SSIM, MS-SSIM, PSNR, MSE)",
    "diversity": "compares the generated images among themselves, so that mode collapse shows (MS-SSIM diversity)",
    "privacy": "asks whether generated images copy training images (memorisation)",
    "downstream": "trains a classifier on generated and/or real images and tests it on the real test split (TSTR, TRTR, TRSTR); called once per classifier of the run",
    "cost": "measures what training the cell took (wall time, device-hours), not its images; left out for samples ganbench did not train",
}
"""Every kind a metric may have (`Metric.kind`), with what it measures.

Two kinds change what the core does: a ``downstream`` metric's ``compute`` is called
once per classifier of the run (every other kind gets ``classifier=None``), and a
``cost`` metric is not run by ``ganbench evaluate`` (samples made elsewhere have no
training to measure). The others are labels that ``ganbench protocols`` shows.
``ganbench.testing.check_metric`` refuses a kind that is not listed here."""

DIRECTIONS = ("lower", "higher")
"""Which way a metric's scores are better (`Metric.direction`): ``"lower"`` (FID) or
``"higher"`` (accuracy)."""


# --------------------------------------------------------------------------- images


@dataclass
class ImageSplit:
    """Images with their class labels: one split of a dataset, or a generated set.

    Build one from numpy arrays with `ganbench.api.image_split`.

    Raises:
        ValueError: ``images`` is not a 4-D ``uint8`` tensor, or ``labels`` does not
            have shape ``(N,)``.
    """

    images: torch.Tensor
    """``uint8`` tensor of shape ``(N, C, H, W)``, values 0..255 (C is 1 for grey, 3
    for RGB; H equals W in every dataset ganbench loads)."""
    labels: torch.Tensor
    """``int64`` tensor of shape ``(N,)``: each image's class, an index into
    `LoadedData.class_names`; -1 where a generated image has no class."""

    def __post_init__(self):
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(
                f"ImageSplit.images must be uint8 N x C x H x W, got "
                f"{self.images.dtype} {tuple(self.images.shape)}"
            )
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError("ImageSplit.labels must have one label per image")

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def of_class(self, label: int) -> "ImageSplit":
        """The images of class ``label`` (an index into the class names), in order."""
        keep = self.labels == label
        return ImageSplit(self.images[keep], self.labels[keep])

    def subset(self, index: torch.Tensor) -> "ImageSplit":
        """The images at ``index`` (a 1-D ``int64`` tensor of positions, or a boolean
        mask of length N), in that order."""
        return ImageSplit(self.images[index], self.labels[index])

    def matching(self, labels: torch.Tensor, n: int, seed: int) -> torch.Tensor:
        """Sorted indices of at most ``n`` images of this split whose class mix follows
        ``labels`` (the labels of a generated set), drawn at random with ``seed``.

        Each class gets ``n`` times its share of ``labels`` (largest remainders round to
        ``n``), capped at the images this split has of it; a shortfall is not filled
        from other classes, which would skew the mix. Labels this split does not have
        carry no class information and are ignored; if none is known, the draw ignores
        classes. Deterministic, and independent of any global random state.
        """
        known = [c for c in labels.unique().tolist() if (self.labels == c).any()]
        if not known:
            order = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n]
            return order.sort().values
        counts = torch.tensor([int((labels == c).sum()) for c in known], dtype=torch.float64)
        exact = n * counts / counts.sum()
        quota = exact.floor().long()
        for i in (exact - quota).argsort(descending=True)[: n - int(quota.sum())]:
            quota[i] += 1
        chosen = []
        for c, k in zip(known, quota.tolist()):
            members = (self.labels == c).nonzero().squeeze(1)
            generator = torch.Generator().manual_seed(seed * 1000 + int(c))
            chosen.append(members[torch.randperm(len(members), generator=generator)[:k]])
        return torch.cat(chosen).sort().values


@dataclass
class LoadedData:
    """A dataset as the runner uses it: a fixed train/test split at one resolution.

    What `Dataset.load` returns. Both splits hold images of the size and channels
    ``load`` was asked for; the split never depends on the run seed, so every GAN and
    seed is tested on the same real images; every class has training images.
    ``ganbench.testing.check_dataset`` checks all of this.

    Example:
        ```python
        LoadedData(
            name="my-folder", class_names=("no_tumor", "tumor"),
            train=image_split(train_images, train_labels, channels),
            test=image_split(test_images, test_labels, channels),
            fingerprint=content_fingerprint(root, files, {"size": image_size}),
            family="my-folder", leakage=cross_split_duplicates(train_images, test_images).summary(),
        )
        ```
    """

    name: str
    """The dataset plugin's name (`Dataset.name`)."""
    class_names: tuple[str, ...]
    """At least two distinct class names; label ``k`` of the splits is ``class_names[k]``.
    A name that says "no tumour" (``no_tumor``, ``notumor``, ``normal``, ``healthy``,
    ``no``) marks the negative class for tumour-detection scores and image-to-image GANs."""
    train: ImageSplit
    """The training split: what GANs train on, and the real reference set is drawn from."""
    test: ImageSplit
    """The held-out split: what downstream classifiers are tested on."""
    fingerprint: str
    """A content hash of the files read (their bytes, never their timestamps) plus the
    preprocessing (size, channels, options): part of every cell's config hash, so
    changed data is never mistaken for finished work. `ganbench.api.content_fingerprint`
    makes one."""
    family: str
    """The dataset family that papers' numbers are tied to (e.g. the Kaggle set's name);
    a paper's number is comparable only with cells of its family."""
    synthetic: bool = False
    """True for data generated by ganbench itself (the embedded phantom): never
    compared with numbers reported on real MRI."""
    skipped: Mapping[str, int] = field(default_factory=dict)
    """Files left out while loading, counted by reason (``{"unreadable image": 2}``);
    reported with every run, never silent."""
    notes: str = ""
    """One paragraph for the run log and the leaderboard: where the data was read
    from, how it was split and preprocessed."""
    leakage: str = ""
    """What the duplicate check across the splits found (and did about it), e.g.
    `DuplicateReport.summary`; "" when no check ran."""
    sources: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Per split (``"train"``, ``"test"``), where each image came from (a relative file
    path, a volume and slice), in the split's order; empty when unknown."""
    patients: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Per split, each image's patient key (a salted hash for DICOM), in the split's
    order; empty when patients are unknown."""

    @property
    def image_spec(self) -> "ImageSpec":
        """The shape GANs are built for: the training images' size and channels, and
        the number of classes."""
        _, c, h, _ = self.train.images.shape
        return ImageSpec(size=h, channels=c, num_classes=len(self.class_names))


@dataclass(frozen=True)
class ImageSpec:
    """The images a GAN is built for (`GAN.build`): square, ``size`` pixels a side."""

    size: int
    """Pixels a side (32 for the smoke profile, 64 quick, up to 512 for some papers)."""
    channels: int
    """1 (grey, every MRI suite) or 3 (grey repeated to RGB)."""
    num_classes: int
    """Classes of the data; a conditional GAN takes labels ``0..num_classes-1``."""


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """Images at rest -> images inside a network: uint8 0..255 -> float32 in [-1, 1].

    Args:
        images: ``uint8`` tensor of any shape, usually ``(N, C, H, W)``.

    Returns:
        A new ``float32`` tensor of the same shape, ``pixel / 127.5 - 1``.
    """
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Images from a network -> images at rest: float in [-1, 1] -> uint8 0..255.

    Args:
        images: float tensor ``(N, C, H, W)`` in [-1, 1] (any device; values outside are
            clamped).

    Returns:
        A ``uint8`` tensor of the same shape, ``round((x + 1) * 127.5)`` clamped to 0..255.

    Raises:
        NonFiniteImagesError: a pixel is NaN or infinite (clamping would silently turn
            it into a black or white pixel); the error counts the images affected.
    """
    images = images.detach().float()
    finite = torch.isfinite(images)
    if not bool(finite.all()):
        per_image = finite.reshape(len(images), -1).all(dim=1) if images.ndim > 1 else finite
        raise NonFiniteImagesError(
            int((~per_image).sum()), len(images), int(torch.isnan(images).sum()), int(torch.isinf(images).sum())
        )
    return images.add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)


# --------------------------------------------------------------------------- plugins


class Described(ABC):
    """What every registered item has: a lower-kebab name, a one-line description and
    a source (the paper or project it follows)."""

    name: ClassVar[str]
    """Lower-kebab-case (``my-gan``), unique among the items of its kind: what the
    command line takes (``--gans my-gan``). `register` refuses any other."""
    description: ClassVar[str] = ""
    """One line: what it is (``ganbench list`` shows it)."""
    source: ClassVar[str] = ""
    """One line: the paper or project it follows."""


class GANModel(ABC):
    """A built GAN: trainable, sampleable, checkpointable."""

    @abstractmethod
    def train_step(self, real: torch.Tensor, labels: Optional[torch.Tensor]) -> dict[str, float]:
        """One optimisation step on a batch of real images.

        Args:
            real: ``float32`` ``(N, C, H, W)`` in [-1, 1], on the model's device. For an
                image-to-image GAN the batch holds images of both domains.
            labels: ``int64`` ``(N,)`` class labels (a conditional GAN's; for an
                image-to-image GAN 0 for the source domain and 1 for the target), or
                None.

        Returns:
            The losses of what it updated, by name, as finite Python floats
            (``{"loss_d": 0.7, "loss_g": 1.2}``); a non-finite loss stops the training
            with ``FloatingPointError``.
        """

    def plan(self, total_steps: int) -> None:
        """Called once before training, for schedules that depend on its length
        (CycleGAN's linear learning-rate decay). The default does nothing.

        Args:
            total_steps: the number of `train_step` calls the training will make.
        """

    @abstractmethod
    def sample(
        self,
        n: int,
        labels: Optional[torch.Tensor] = None,
        generator: Optional[torch.Generator] = None,
    ) -> torch.Tensor:
        """Generated images, in eval mode.

        Args:
            n: how many images.
            labels: ``int64`` ``(n,)`` classes for a conditional GAN (class-balanced
                when the runner samples), else None.
            generator: a seeded CPU ``torch.Generator``: draw the noise from it (on the
                CPU, then move it) so that one seed gives the same images on every
                device.

        Returns:
            ``float32`` ``(n, C, H, W)`` in [-1, 1], on the model's device.
        """

    @abstractmethod
    def networks(self) -> dict[str, nn.Module]:
        """The networks whose weights make up a checkpoint (a safetensors file per
        cell), by stable name (``{"generator": ..., "discriminator": ...}``)."""

    def state_dict(self) -> dict[str, Any]:
        """Everything training changes, for a checkpoint that resumes exactly: the
        networks' state dicts, and the ``state_dict()`` of every attribute that is a
        torch optimiser or learning-rate scheduler (or a list of them), and every
        attribute that is a bool, int, float or str (step counters), by attribute name.

        A model with other state that training changes (a replay buffer, a Python RNG)
        overrides this and `load_state_dict`, calling ``super()`` and adding its
        own under a key of its own; values must be tensors, JSON scalars, or dicts,
        lists and tuples of them (`ganbench.checkpoints.save_state`).
        ``ganbench.testing.check_resume`` checks that a model resumes exactly."""
        attributes: dict[str, Any] = {}
        for name, value in sorted(vars(self).items()):
            if isinstance(value, (bool, int, float, str)):
                attributes[name] = value
            elif _has_state(value):
                attributes[name] = value.state_dict()
            elif isinstance(value, (list, tuple)) and value and all(_has_state(v) for v in value):
                attributes[name] = [v.state_dict() for v in value]
        return {"networks": {name: net.state_dict() for name, net in self.networks().items()}, "attributes": attributes}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what `state_dict` returned (after `plan`, which may
        create the schedulers). Networks load strictly; tensors move to the model's
        devices.

        Args:
            state: a mapping as `state_dict` returns it.

        Raises:
            ValueError: ``state`` holds other networks than `networks` names.
        """
        networks = self.networks()
        if set(state["networks"]) != set(networks):
            raise ValueError(f"checkpoint holds networks {sorted(state['networks'])}, the model has {sorted(networks)}")
        for name, net in networks.items():
            net.load_state_dict(state["networks"][name], strict=True)
        for name, value in state["attributes"].items():
            current = getattr(self, name, None)
            if _has_state(current):
                _load_state(current, value)
            elif isinstance(current, (list, tuple)) and len(current) == len(value) and all(_has_state(v) for v in current):
                for item, item_state in zip(current, value):
                    _load_state(item, item_state)
            else:
                setattr(self, name, value)


def _load_state(item: Any, state: Mapping[str, Any]) -> None:
    """``item.load_state_dict(state)``; for an optimiser, each per-parameter tensor then
    takes its parameter's memory layout. A checkpoint gives them back in the standard
    layout, and PyTorch's fused Adam (torch 2.14) updates a channels-last parameter
    from standard-layout moments element by element in memory order, silently mixing
    up weights."""
    item.load_state_dict(state)
    if not isinstance(item, torch.optim.Optimizer):
        return
    for group in item.param_groups:
        for param in group["params"]:
            per_param = item.state.get(param, {})
            for key, value in per_param.items():
                if torch.is_tensor(value) and value.shape == param.shape and value.stride() != param.stride():
                    per_param[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)


def _has_state(value: Any) -> bool:
    """An optimiser or a learning-rate scheduler: state that training changes and that
    the value itself can save and restore."""
    return isinstance(value, (torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler))


class ImageToImageModel(GANModel):
    """A built image-to-image GAN (CycleGAN): it translates images between a source
    and a target domain instead of sampling from noise."""

    @abstractmethod
    def translate(self, images: torch.Tensor, reverse: bool = False) -> torch.Tensor:
        """Translate images to the other domain, in eval mode.

        Args:
            images: ``float32`` ``(N, C, H, W)`` in [-1, 1]: source-domain images
                (target-domain with ``reverse``).
            reverse: translate target -> source instead.

        Returns:
            Their translations, ``float32`` ``(N, C, H, W)`` in [-1, 1], on the model's
            device.
        """

    def sample(self, n, labels=None, generator=None) -> torch.Tensor:
        """Always raises ``TypeError``: an image-to-image GAN has no noise to sample
        from (``n``, ``labels`` and ``generator`` are ignored); the runner calls
        `translate` on held-out source images instead."""
        raise TypeError("an image-to-image GAN has no noise to sample from: translate source images instead")


class Profiled:
    """Hyperparameters per profile, from a class-level table (``profiles``)."""

    profiles: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    """``{profile: {hyperparameter: value}}`` for each of `PROFILES`."""

    def hyperparameters(self, profile: str) -> dict[str, Any]:
        """A fresh copy of the defaults for ``profile``, so callers may change it.

        Args:
            profile: one of `PROFILES`.

        Raises:
            GanbenchError: this plugin has no table for ``profile``.
        """
        if profile not in self.profiles:
            # A user-facing error: `ganbench run --profile X` with a plugin that lacks X.
            raise GanbenchError(f"{getattr(self, 'name', type(self).__name__)} has no profile {profile!r}; it has {', '.join(self.profiles)}")
        return copy.deepcopy(dict(self.profiles[profile]))


class GAN(Profiled, Described):
    """A GAN architecture plugin: hyperparameters per profile and a ``build`` method.

    ``hyperparameters(profile)`` must contain ``batch_size`` and either ``steps`` or
    ``epochs`` (the papers' unit; the runner converts with the training-set size); one
    step is one call of `GANModel.train_step`.
    """

    conditional: ClassVar[bool] = False
    """True when the networks take class labels (one model for all classes); an
    unconditional GAN is trained once per class when the suite says so."""
    kind: ClassVar[str] = "noise-to-image"
    """One of `GAN_KINDS`; ``"image-to-image"`` GANs build an `ImageToImageModel`."""
    assumptions: ClassVar[tuple[str, ...]] = ()
    """Settings the source does not state and the plugin had to choose, one sentence
    each; shown by ``ganbench list gans --json`` so nobody mistakes them for the paper's."""

    @abstractmethod
    def build(self, spec: ImageSpec, hparams: Mapping[str, Any], device: torch.device) -> GANModel:
        """A freshly initialised model. The caller seeds torch before calling.

        Args:
            spec: the images' size, channels and number of classes.
            hparams: the profile's hyperparameters with the suite's overrides applied.
            device: where the networks live.

        Returns:
            A `GANModel` (an `ImageToImageModel` for an image-to-image GAN).
        """


@dataclass(frozen=True)
class Detection:
    """Whether a dataset plugin reads the layout at a path, and why (or why not)."""

    matched: bool
    """Whether this dataset reads the folder."""
    reason: str
    """One line, shown by ``ganbench data detect``: why (or why not)."""
    specific: bool = True
    """A layout recognised by name and class folders (True) beats a generic reader
    (False) when both match."""


class Dataset(Described):
    """A dataset plugin: reads a real on-disk layout (or generates its data).

    Implement `load` (and `_configured` when the dataset has `options`); `detect` and
    `inspect` are optional. The helpers a reader needs (decoding to grey, cropping and
    resizing, the stratified and patient-level splits, the duplicate check, the
    fingerprint) are in `ganbench.api`.
    """

    needs_path: ClassVar[bool] = True
    """False for datasets that ship with the package (no ``--data`` needed)."""
    obtain: ClassVar[str] = ""
    """How a user gets the data (shown in errors when the path is missing or wrong)."""
    family: ClassVar[str] = ""
    """The dataset family papers' numbers are tied to (`LoadedData.family`)."""
    options: ClassVar[Mapping[str, str]] = {}
    """Options a user may set with ``--data-option KEY=VALUE``: name -> one-line help
    (``ganbench data options NAME`` lists them)."""

    def detect(self, path: Path) -> Detection:
        """Does ``path`` have this dataset's layout? Used by ``--data PATH`` without
        ``--dataset``; plugins that cannot tell say so and are never auto-picked.

        Args:
            path: the folder given to ``--data``.

        Returns:
            A `Detection`; the default never matches. It must never match an empty
            folder. An exception is reported as "its detector failed", never fatal.
        """
        return Detection(False, "this dataset does not auto-detect its layout")

    def configure(self, options: Mapping[str, str]) -> "Dataset":
        """A copy of this dataset with ``options`` applied (by `_configured`).

        Args:
            options: option name -> value as typed after ``--data-option``.

        Raises:
            GanbenchError: an option this dataset does not have (named, with the
                valid ones).
        """
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise GanbenchError(f"dataset {self.name!r} has no option {', '.join(map(repr, unknown))}; its options: {known}")
        return self._configured(dict(options)) if options else self

    def _configured(self, options: dict[str, str]) -> "Dataset":
        """A copy with ``options`` (known, non-empty) applied; implement it when the
        dataset has `options`."""
        raise NotImplementedError

    def inspect(self, path: Optional[Path], progress: "Progress") -> "Inspection":
        """Optional: what ``ganbench data inspect`` reports about the files at ``path``
        (layout, counts, file sizes and modes, files skipped, duplicates).

        A dataset without an ``inspect`` of its own is still inspected:
        ``ganbench data inspect`` then reports what `load` gives
        (`ganbench.api.inspect_by_loading`).

        Args:
            path: the dataset folder (None for a dataset that needs no path).
            progress: for long loops (`Progress.track`).

        Returns:
            An `Inspection`.

        Raises:
            GanbenchError: the default, always; the command line does not call it.
        """
        raise GanbenchError(f"dataset {self.name!r} cannot be inspected")

    @abstractmethod
    def load(
        self,
        path: Optional[Path],
        image_size: int,
        channels: int,
        progress: "Progress",
    ) -> LoadedData:
        """Read, convert and resize; split deterministically (the split never depends on
        the run seed, so every seed is tested on the same real images).

        Args:
            path: the dataset folder (``--data``); None when the user gave none.
            image_size: pixels a side of the square images to return.
            channels: 1 (grey) or 3 (grey repeated to RGB).
            progress: for long loops (`Progress.track`) and messages (`Progress.log`).

        Returns:
            The splits as `LoadedData`: ``uint8`` images ``(N, channels, image_size,
            image_size)``, ``int64`` labels.

        Raises:
            DatasetLayoutError: ``path`` is missing, not a folder, or not in the layout
                (say what was expected).
            GanbenchError: ``path`` is None for a dataset that needs one (say how to
                get the data: `obtain`).
        """


@dataclass
class MetricResult:
    """What `Metric.compute` returns: the numbers, and the sample sizes behind them."""

    values: dict[str, float]
    """Result key -> finite number, for keys the metric declares (`Metric.declares`);
    a metric may leave some out (paired keys without sources). A value outside
    `Metric.value_ranges` fails the metric."""
    n_real: Optional[int] = None
    """Real images compared, when the metric used a real set."""
    n_fake: Optional[int] = None
    """Generated images compared."""
    artifacts: dict[str, str] = field(default_factory=dict)
    """Label -> a file the metric wrote, relative to `Evaluation.artifacts_dir`, that a
    person may want to look at (a confusion matrix); every file named must exist."""


DEFAULT_N_REAL = 1000
"""Cap on the real reference set of a metric when the profile names none."""
REAL_REFERENCE_SEED = 0
"""Seed of the real reference subset: fixed, never the run seed."""
REAL_REFERENCE_PROTOCOL = (
    f"The real reference set is drawn from the training split: at most settings['n_real'] "
    f"(default {DEFAULT_N_REAL}) images with the generated set's class mix (each class "
    f"its share, capped at the images the split has of it), chosen at random with the "
    f"fixed seed {REAL_REFERENCE_SEED}, so every GAN and seed is compared with the same "
    f"real images. "
)
"""What `Evaluation.real_reference` is, in words, for metrics' `Metric.protocol`."""


@dataclass
class Evaluation:
    """Everything a metric may look at for one trained cell (`Metric.compute`).
    ``ganbench.testing.tiny_evaluation`` makes one for tests."""

    data: LoadedData
    """The loaded dataset: both real splits, the class names."""
    fake: ImageSplit
    """The generated set: ``uint8`` ``(N, C, H, W)``, class-balanced; label -1 where a
    single unconditional model was sampled."""
    device: torch.device
    """Where to compute (``cpu`` or ``cuda:N``)."""
    seed: int
    """The cell's seed (0, 1, ...): seed anything random the metric does with it."""
    settings: Mapping[str, Any]
    """``profile``, ``n_real`` and the run's metric settings, typed as the metrics and
    classifiers declared them (`Setting`); read only keys you declare."""
    cache_dir: Path
    """A folder for caches that outlive the run (real-image features)."""
    artifacts_dir: Path
    """The cell's artifact folder: write files here and name them in
    `MetricResult.artifacts`."""
    progress: "Progress"
    """For long loops and messages."""
    sources: Optional[ImageSplit] = None
    """For image-to-image GANs: the real source images that ``fake`` translates."""
    reconstructions: Optional[ImageSplit] = None
    """For image-to-image GANs: each generated image translated back to its source's
    class (the cycle reconstruction of ``sources``)."""
    train_wall_time_s: Optional[float] = None
    """Seconds the cell spent training its GAN(s) and sampling, wall clock (None for
    samples ganbench did not make)."""
    _shared: dict = field(default_factory=dict, repr=False, compare=False)
    """Intermediate results metrics share within this evaluation (see `shared`)."""

    def shared(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per evaluation, key and generated set: metrics that need
        the same expensive intermediate (Inception features, a nearest-neighbour
        search) get one computation between them, and it is dropped with the
        evaluation. Replacing ``fake`` invalidates it.

        Args:
            key: any hashable naming the intermediate (include its settings).
            compute: makes it, called at most once per key and generated set.

        Returns:
            What ``compute()`` returned, now or earlier.
        """
        hit = self._shared.get(key)
        if hit is None or hit[0] is not self.fake:
            hit = self._shared[key] = (self.fake, compute())
        return hit[1]

    @property
    def n_real(self) -> int:
        """Cap on the real reference set (``settings["n_real"]``, default 1000)."""
        return int(self.settings.get("n_real", DEFAULT_N_REAL))

    def real_reference_index(self) -> torch.Tensor:
        """Indices into the training split of the real reference set that distribution
        and nearest-real metrics compare generated images with: at most ``n_real``
        images with the generated set's class mix, drawn with a fixed seed so every
        run, seed and GAN is compared with the same real images."""
        return self.data.train.matching(self.fake.labels, self.n_real, seed=REAL_REFERENCE_SEED)

    def real_reference(self) -> ImageSplit:
        """The real reference set itself: the training images at `real_reference_index`."""
        return self.data.train.subset(self.real_reference_index())


class Metric(Described):
    """A metric plugin: scores one cell's generated images (`compute`)."""

    kind: ClassVar[str] = "distribution"
    """One of `METRIC_KINDS`: ``"downstream"`` metrics get one classifier per call."""
    direction: ClassVar[str] = "lower"
    """One of `DIRECTIONS`: which way the metric's scores are better."""
    result_keys: ClassVar[tuple[str, ...]] = ()
    """Result keys this metric writes, non-empty; each key names its protocol (e.g.
    ``ssim_nearest_real``) so two numbers with one key are always comparable."""
    headline_keys: ClassVar[Optional[tuple[str, ...]]] = None
    """The keys a leaderboard shows in its main table (default: all result keys); the
    others (spreads, secondary scores) go to its detail table."""
    protocol: ClassVar[str] = ""
    """One paragraph: what is compared with what, at what sample size
    (``ganbench protocols`` prints it)."""

    undirected_keys: ClassVar[tuple[str, ...]] = ()
    """Result keys that are not scores (a spread, a count): no better or worse."""
    settings: ClassVar[tuple["Setting", ...]] = ()
    """The settings ``compute`` reads from ``evaluation.settings`` (besides the runner's
    ``profile`` and ``n_real``), with types: a run accepts only declared settings
    and checks their values before any training."""

    per_class_keys: ClassVar[tuple[str, ...]] = ()
    """Bases of the keys this metric writes per class of the data, as
    ``<base>[<class name>]`` (`ganbench.api.per_class`), where a paper reports a
    score per class. A base may be one of `result_keys` (the same score over
    all classes) or a name of its own (``tstr_f1``, which only exists per class);
    `value_ranges` and `undirected_keys` are looked up by base."""

    def declares(self, key: str) -> bool:
        """Whether this metric may write ``key``: one of `result_keys`, or one of
        `per_class_keys` qualified by a class.

        Args:
            key: a result key, ``<base>`` or ``<base>[<class>]``.
        """
        if key in self.result_keys:
            return True
        try:
            parsed = parse_result_key(key)
        except ValueError:
            return False
        return parsed.qualifier is not None and parsed.base in self.per_class_keys

    def direction_of(self, key: str) -> Optional[str]:
        """`direction` for ``key`` (a result key), or None for an undirected key."""
        return None if base_of(key) in self.undirected_keys else self.direction

    def is_headline(self, key: str) -> bool:
        """Whether a leaderboard's main table shows ``key`` (`headline_keys`)."""
        return key in (self.result_keys if self.headline_keys is None else self.headline_keys)

    value_ranges: ClassVar[Mapping[str, tuple[float, float]]] = {}
    """The values a result key can take, by base: ``(lowest, highest)``, +-inf for no
    bound: ``(0, 1)`` for a share or an accuracy, ``(0, inf)`` for a distance. Keys not
    listed are unbounded. Leaderboards clip confidence intervals to it."""

    def range_of(self, key: str) -> tuple[float, float]:
        """(lowest, highest) possible value of ``key`` (a result key); (-inf, inf) when
        undeclared."""
        low, high = self.value_ranges.get(base_of(key), (-float("inf"), float("inf")))
        return float(low), float(high)

    def unavailable_reason(self) -> Optional[str]:
        """Why this metric cannot run here (missing weights, say), or None. When it
        says why, every key is recorded as unavailable with that reason."""
        return None

    @abstractmethod
    def compute(self, evaluation: Evaluation, classifier: Optional["Classifier"] = None) -> MetricResult:
        """Score one cell's generated set.

        Args:
            evaluation: the data, the generated set and the settings.
            classifier: for a ``downstream`` metric, the classifier of this call (one
                call per classifier of the run); None for every other kind.

        Returns:
            The values of declared keys, finite (`MetricResult`).

        Raises:
            Exception: anything raised fails this metric's keys for the cell (recorded
                with the error); the other metrics still run.
        """


class Classifier(Profiled, Described):
    """A downstream classifier plugin. ``hyperparameters(profile)`` has ``epochs``,
    ``batch_size``, ``optimizer`` (adam|adamax|sgd) and ``lr``."""

    supports_pretrained: ClassVar[bool] = False
    """Whether `build` with ``pretrained=True`` can load weights (found offline)."""
    build_options: ClassVar[tuple[str, ...]] = ()
    """Hyperparameters that shape the network rather than its training (e.g. ResNet-50's
    ``freeze_layers``): passed to `build` as keyword arguments when set."""
    settings: ClassVar[tuple["Setting", ...]] = ()
    """Run settings this classifier takes (`Setting`); the downstream metrics set the
    hyperparameter of the same name to a value a run gives."""

    @abstractmethod
    def build(self, num_classes: int, image_size: int, channels: int, pretrained: bool = False) -> nn.Module:
        """A fresh network (torch is seeded by the caller).

        Args:
            num_classes: outputs of the network.
            image_size: pixels a side of the square input.
            channels: input channels (1 or 3).
            pretrained: start from pretrained weights found offline.

        Returns:
            A ``torch.nn.Module`` mapping ``float32`` ``(N, channels, image_size,
            image_size)`` images in [-1, 1] to ``(N, num_classes)`` logits.

        Raises:
            PretrainedWeightsUnavailable: ``pretrained`` and no weights are found
                offline (name the file and where to put it); never download.
        """


CLASS_TASKS = ("tumour-vs-normal",)
"""Class tasks a suite or variant may ask of the data: ``tumour-vs-normal`` merges every
tumour class into one, ``tumor``, against the one no-tumour class."""


@dataclass(frozen=True)
class Variant:
    """One value of a suite's sweep axis: a named set of overrides of the profile, so
    that the cells are GAN x dataset x seed x variant (a paper's table rows: 256 px with
    800 generated images; 10k slices for 50 epochs). Every override enters the cells'
    config hash, and the variant's name enters their keys.

    ``name`` is lower-kebab (it is part of a cell's key and of its artifact folder); a
    paper's references name it (`Reference.variant`) to say which cells measure
    them. A field left None keeps the profile's value.

    Example:
        ```python
        ProfileSettings(image_size=256, variants=(
            Variant("256px-800", image_size=256, n_fake=800),
            Variant("512px-800", image_size=512, n_fake=800),
        ))
        ```
    """

    name: str
    """Lower-kebab (``256px-800``): ends the cell key and names the artifact folder."""
    image_size: Optional[int] = None
    """Pixels a side, as `ProfileSettings.image_size`."""
    train_images: Optional[int] = None
    """Training-set size: the GANs train on this many images of the training split
    (class mix kept, drawn with a fixed seed, the same for every GAN and seed); the
    metrics still compare with the whole split. Capped at the split's size (the cell
    records what it got)."""
    epochs: Optional[int] = None
    """GAN training epochs over the (reduced) training set, replacing the GAN's own
    ``steps``/``epochs`` at this profile."""
    n_fake: Optional[int] = None
    """Generated images per cell, as `ProfileSettings.n_fake`."""
    classifier_epochs: Optional[int] = None
    """Epochs of every downstream classifier (the ``classifier_epochs`` metric setting)."""
    class_task: Optional[str] = None
    """The class task of this variant's cells, over the suite's (`CLASS_TASKS`;
    "" for the data's own classes)."""
    gans: Optional[tuple[str, ...]] = None
    """Only these GANs run in this variant (default: every GAN of the run)."""
    metrics: Optional[tuple[str, ...]] = None
    """Only these of the suite's metrics are evaluated in this variant (default: all):
    a paper's similarity table needs no classifier trained."""
    metric_settings: Mapping[str, Any] = field(default_factory=dict)
    """Further metric settings for this variant, over the profile's."""
    gan_overrides: Mapping[str, Any] = field(default_factory=dict)
    """Further GAN hyperparameter overrides for this variant, over the profile's."""

    def overrides(self) -> dict[str, Any]:
        """What this variant changes, as recorded in each of its cells' config."""
        out: dict[str, Any] = {}
        for name in ("image_size", "train_images", "epochs", "n_fake", "classifier_epochs", "class_task"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.metric_settings:
            out["metric_settings"] = dict(self.metric_settings)
        if self.gan_overrides:
            out["gan_overrides"] = dict(self.gan_overrides)
        return out


@dataclass(frozen=True)
class ProfileSettings:
    """How big a suite runs under one profile (`Suite.profiles`).

    Example:
        ```python
        ProfileSettings(image_size=32, seeds=2, n_fake=200, n_real=400,
                        metric_settings={"classifier_epochs": 3}, gans=("dcgan",))
        ```
    """

    image_size: int
    """Pixels a side of every image (the data is resized to it), e.g. 32, 64, 256."""
    channels: int = 1
    """1 (grey) or 3 (grey repeated to RGB)."""
    seeds: int = 1
    """Seeds 0..seeds-1: each GAN is trained once per seed (``--seeds`` overrides)."""
    n_fake: int = 1000
    """Generated images per cell, class-balanced."""
    n_real: int = 1000
    """Cap on real images used as the reference set of distribution metrics."""
    metric_settings: Mapping[str, Any] = field(default_factory=dict)
    """Metric-specific settings (e.g. downstream classifier epochs), passed through."""
    gan_overrides: Mapping[str, Any] = field(default_factory=dict)
    """Overrides of GAN hyperparameters for every GAN in the suite at this profile."""
    gans: Optional[tuple[str, ...]] = None
    """The GANs this profile runs, when not the suite's (a CPU smoke run takes fewer)."""
    classifiers: Optional[tuple[str, ...]] = None
    """The downstream classifiers at this profile (default: the suite's)."""
    variants: tuple[Variant, ...] = ()
    """The sweep axis: every cell runs once per variant (none: one plain cell)."""
    train_images: Optional[int] = None
    """Training-set size of every GAN (see `Variant.train_images`); None: all."""

    def for_variant(self, variant: Optional[Variant]) -> "ProfileSettings":
        """These settings with ``variant``'s overrides applied (itself for None), and
        no variants of their own."""
        if variant is None:
            return self
        gan_overrides = dict(self.gan_overrides)
        if variant.epochs is not None:
            gan_overrides = {k: v for k, v in gan_overrides.items() if k != "steps"}
            gan_overrides["epochs"] = variant.epochs
        gan_overrides.update(variant.gan_overrides)
        metric_settings = {**self.metric_settings, **variant.metric_settings}
        if variant.classifier_epochs is not None:
            metric_settings["classifier_epochs"] = variant.classifier_epochs
        return replace(
            self,
            image_size=variant.image_size or self.image_size,
            n_fake=variant.n_fake or self.n_fake,
            train_images=variant.train_images or self.train_images,
            metric_settings=metric_settings,
            gan_overrides=gan_overrides,
            variants=(),
        )

    def variant(self, name: str) -> Optional[Variant]:
        """The variant called ``name`` ("" and no variants: None). Raises KeyError for
        a name this profile does not have."""
        if not name:
            return None
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(name)


@dataclass(frozen=True)
class Suite:
    """A benchmark: which GANs, datasets, metrics and classifiers run, at which profiles.
    Instantiate it (no subclass) and register it with ``register_suites``. Names that
    no loaded plugin registered fail a run before any training, listing the valid ones.

    Example:
        ```python
        Suite(
            name="my-suite", description="DCGAN against the MLP GAN on my data",
            gans=("vanilla-gan", "dcgan"), datasets=("brain-phantom",),
            metrics=("fid", "tstr"), classifiers=("small-cnn",),
            profiles={"smoke": ProfileSettings(image_size=32, seeds=2)},
        )
        ```
    """

    name: str
    """Lower-kebab (``--suite NAME``); the leaderboard is ``leaderboard-NAME.md``."""
    description: str
    """One line (``ganbench list suites``)."""
    gans: tuple[str, ...]
    """Names of registered GANs (``--gans`` picks a subset)."""
    datasets: tuple[str, ...]
    """Names of registered datasets (``--data PATH`` replaces them when `takes_data`)."""
    metrics: tuple[str, ...]
    """Names of registered metrics, computed for every cell."""
    classifiers: tuple[str, ...]
    """Names of registered classifiers for the downstream metrics."""
    profiles: Mapping[str, ProfileSettings]
    """``{profile: ProfileSettings}`` for the profiles among `PROFILES` the suite runs."""
    default_profile: str = "smoke"
    """The profile without ``--profile``."""
    unconditional_per_class: bool = True
    """Unconditional GANs are trained once per class (as BrainGAN and IJACSA do), so
    that their samples carry labels for the downstream classifiers."""
    translation_source: Optional[str] = None
    """The class image-to-image GANs translate from (no tumour); None: the one class
    whose name says so (no_tumor, notumor, normal, healthy, no)."""
    takes_data: bool = False
    """Whether ``--data PATH`` may replace ``datasets`` (the layout is detected, or
    named with ``--dataset``)."""
    source: str = ""
    """One line: where the protocol comes from."""
    class_task: str = ""
    """The class task of every cell (`CLASS_TASKS`); a variant may override it."""
    paper: str = ""
    """The paper this suite reproduces (the ``paper`` of its references and claims):
    its leaderboard opens with that paper's tables in their own layout."""
    data_note: str = ""
    """How to obtain the paper's data and which dataset plugin reads it, for the report."""


@dataclass(frozen=True)
class Reference:
    """One number a paper reports, with what is needed to decide comparability.

    ``gan``, ``metric`` and ``classifier`` are the ganbench names the number maps to:
    ``metric`` is a result key (``fid``, ``ssim_nearest_real``, ``tstr_best_val_accuracy``),
    the one whose protocol is closest to the paper's; ``gan`` may name a model ganbench
    does not have (the paper's own baseline), which then never meets a measurement.
    ``differences`` lists, in words, every way the paper's protocol departs from the
    protocol of that result key besides data and resolution (which are compared
    field by field); a reference with any is never read as comparable.
    """

    paper: str
    """The paper's short id (``braingan-2022``), shared by its references and claims."""
    table: str
    """The table the number is in, as the paper names it (``Table 7``)."""
    gan: str
    """The ganbench GAN name the number is about."""
    metric: str
    """The result key it maps to (``fid``, ``tstr_accuracy``, ``ssim_nearest_real[glioma]``)."""
    value: float
    """The number as reported, in `unit`."""
    dataset_family: str
    """The dataset family it was measured on (`LoadedData.family`)."""
    protocol: str
    """The paper's protocol for it, in words."""
    unit: str = ""
    """Its unit ("%" for a percentage; "" for the result key's own)."""
    classifier: Optional[str] = None
    """The ganbench classifier of a downstream number."""
    resolution: Optional[int] = None
    """Pixels a side the paper measured at, when stated."""
    note: str = ""
    """Anything else a reader needs to know."""
    row: str = ""
    """The row label of the number in the paper's table, verbatim."""
    column: str = ""
    """The column label of the number in the paper's table, verbatim."""
    samples: str = ""
    """Sample counts where the paper states them (e.g. "1400 generated, 400 real")."""
    differences: tuple[str, ...] = ()
    """Every way the paper's protocol departs from the result key's, one sentence each."""
    variant: str = ""
    """The variant of the paper's own suite whose cells measure this number ("" for a
    suite without variants, or a number no cell measures)."""
    incomparable: str = ""
    """Why this number cannot be set against ganbench's even on the paper's data (it is
    on another scale, say); "" when it can. A paper report then says so instead of
    placing it inside, above or below our interval."""

    @property
    def name(self) -> str:
        """``paper/table/row/column/gan/metric/classifier`` (empty parts left out)."""
        parts = [self.paper, self.table, self.row, self.column, self.gan, self.metric, self.classifier or ""]
        return "/".join(p for p in parts if p)

    def as_dict(self) -> dict[str, Any]:
        """The fields and `name` as JSON-ready values."""
        return {**asdict(self), "differences": list(self.differences), "name": self.name}


@dataclass(frozen=True)
class Measure:
    """One measured quantity a claim speaks of: a GAN's result key (with a classifier,
    in a variant of the paper's suite)."""

    gan: str
    """A GAN name."""
    key: str
    """A result key."""
    classifier: Optional[str] = None
    """The classifier of a downstream key."""
    variant: str = ""
    """The variant of the paper's suite ("" without variants)."""

    def label(self) -> str:
        """``gan key (classifier, variant)``, for reports."""
        parts = [self.gan, self.key] + [p for p in (self.classifier, self.variant) if p]
        return " ".join(parts[:2]) + (f" ({', '.join(parts[2:])})" if parts[2:] else "")


@dataclass(frozen=True)
class Claim:
    """A sentence of a paper that says one measured quantity beats another, checked as
    ``comparisons``: every (better, worse) pair must hold, "better" read in the direction
    of the result key's metric (lower FID, higher F1).

    Verdicts (`ganbench.leaderboard.claims`): supported (every pair in the claimed
    order with disjoint 95% intervals), supported where measured (so are all the pairs
    measured, but some are not), contradicted (some pair in the opposite order with
    disjoint intervals), undecided (overlapping intervals, one seed), or not measured."""

    paper: str
    """The paper's short id, as its references name it."""
    where: str
    """Where the paper says it (a section, a table)."""
    text: str
    """The paper's words, or a faithful paraphrase of them."""
    comparisons: tuple[tuple[Measure, Measure], ...]
    """``((better, worse), ...)``: every pair must hold."""
    note: str = ""
    """How the sentence was read, when that needed a choice."""

    @property
    def name(self) -> str:
        """``paper/where/text``: unique among claims."""
        return f"{self.paper}/{self.where}/{self.text}"


class Progress(ABC):
    """Progress reporting the core hands to plugins (a rich bar, or nothing in tests)."""

    @abstractmethod
    def track(self, iterable: Sequence | Any, total: Optional[int], description: str):
        """Yield from ``iterable`` while showing progress.

        Args:
            iterable: what to loop over.
            total: its length, when known (else None).
            description: a few words for the bar (``"decoding images"``).
        """

    def counter(self, total: int, description: str) -> Callable[[int], None]:
        """For work a plugin does not loop over itself (a library's own loop): a bar
        of ``total`` steps and the function that advances it by a number of steps; the
        bar ends when it reaches ``total``.

        Args:
            total: steps of the work.
            description: a few words for the bar.
        """
        return lambda steps=1: None

    def log(self, message: str) -> None:  # pragma: no cover - trivial default
        """Show ``message`` (one line) to the person running ganbench."""
        pass

    def note(self, message: str) -> None:  # pragma: no cover - trivial default
        """A line for a log only: where output goes to a file or a pipe it is written
        with a timestamp; at a terminal nothing (the live bars show the work). For the
        start and end of work that has no loop of its own (a metric).

        Args:
            message: one line, e.g. ``"KEY: fid: done in 60 s"``.
        """
        pass


class SilentProgress(Progress):
    """Progress that shows nothing: for tests and scripts."""

    def track(self, iterable, total=None, description=""):
        """Yields from ``iterable`` as it is; ``total`` and ``description`` are ignored."""
        return iter(iterable)


RegisterCallback = Callable[[Any], None]
