"""Downstream metrics: train a classifier, test it on the held-out real test split.

Three protocols, all tested on the same real test split and validated on the same real
validation images (a fixed ``VALIDATION_FRACTION`` of each class of the real training
split, seed 0, never the test split):

* ``tstr``, train on synthetic, test on real (BrainGAN's check of its generated images;
  Esteban et al. 2017): the classifier trains on the class-balanced generated images;
* ``trtr``, train on real, test on real: the baseline every augmentation claim needs,
  on the real training images outside the validation part;
* ``trstr``, train on real plus synthetic (IJACSA 2024, the cGAN report): those real
  images plus generated ones making up ``synthetic_share`` (default 0.5) of the
  training set, class-balanced, capped at the generated images there are.

Every protocol reports the *final-epoch* model (``<protocol>_<score>``) and the
*best-validation* model (``<protocol>_best_val_<score>``: the epoch with the highest
validation accuracy, the earliest on ties). BrainGAN reports maxima over validation
epochs; here both are kept and named.

Besides the macro averages, each model's scores include the support-weighted averages
(``<prefix>weighted_precision``, ``_recall``, ``_f1``) and, per class of the data, the
rows of scikit-learn's ``classification_report`` (the cGAN report 2023 prints it):
``<prefix>precision[<class>]``, ``<prefix>recall[<class>]``, ``<prefix>f1[<class>]``,
where ``<prefix>`` is ``<protocol>_`` or ``<protocol>_best_val_``. Zero-division
convention as scikit-learn's ``zero_division=0`` (plugins/metrics/classification.py).

TRTR's classifier sees real images only, so one fit serves every GAN's cell of a process
that has the same real images, classifier, settings, seed and device
(:mod:`.real_fit_reuse`): its rows are the ones each cell would have computed.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import torch
from torch import nn

from ganbench.api import (
    Classifier,
    Evaluation,
    ImageSplit,
    Metric,
    MetricResult,
    Progress,
    Setting,
    hookimpl,
    per_class,
    to_unit_range,
)
from ganbench.data.class_warnings import require_classes_for_classification
from ganbench.randomness import isolated_rng
from ganbench.runner.translation import SOURCE_NAMES

from . import real_fit_reuse
from .classification import PER_CLASS_SCORE_NAMES, SCORE_NAMES, all_scores, confusion_matrix, per_class_scores
from .real_fit_reuse import FitPredictions

OPTIMIZERS = {
    "adam": lambda params, hp: torch.optim.Adam(params, lr=hp["lr"], weight_decay=hp.get("weight_decay", 0.0)),
    "adamax": lambda params, hp: torch.optim.Adamax(params, lr=hp["lr"], weight_decay=hp.get("weight_decay", 0.0)),
    "sgd": lambda params, hp: torch.optim.SGD(
        params, lr=hp["lr"], momentum=hp.get("momentum", 0.9), weight_decay=hp.get("weight_decay", 0.0)
    ),
    "rmsprop": lambda params, hp: torch.optim.RMSprop(
        params, lr=hp["lr"], momentum=hp.get("momentum", 0.0), weight_decay=hp.get("weight_decay", 0.0)
    ),
    "nadam": lambda params, hp: torch.optim.NAdam(params, lr=hp["lr"], weight_decay=hp.get("weight_decay", 0.0)),
}

VALIDATION_FRACTION = 0.15
VALIDATION_SEED = 0
DEFAULT_SYNTHETIC_SHARE = 0.5

CLASSIFIER_EPOCHS = Setting(
    "classifier_epochs", int, None,
    "Epochs of every downstream classifier, over the classifier's own at the run's profile",
    minimum=1,
)
SYNTHETIC_SHARE = Setting(
    "synthetic_share", float, DEFAULT_SYNTHETIC_SHARE,
    "Share of generated images in TRSTR's training set",
    minimum=0.0, check=lambda share: share < 1.0, rule="below 1",
)


# --------------------------------------------------------------------------- training


def _batches(n: int, batch_size: int, generator: Optional[torch.Generator]):
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


@dataclass
class Fit:
    """A trained classifier: the final weights are in the model; the best-validation
    weights are kept here (None without validation images)."""

    best_state: Optional[dict] = None
    best_epoch: Optional[int] = None
    validation_accuracy: list[float] = field(default_factory=list)


def fit_classifier(
    model: nn.Module,
    train: ImageSplit,
    hparams: Mapping[str, Any],
    device: torch.device,
    seed: int,
    progress: Progress,
    description: str = "training classifier",
    validation: Optional[ImageSplit] = None,
) -> Fit:
    """Train ``model`` on ``train`` (uint8 images, labels) with cross-entropy for
    ``hparams['epochs']`` epochs; shuffling is drawn from a generator seeded by ``seed``
    so a run is reproducible independently of any other use of torch's global RNG.
    Batch-norm statistics are recomputed at the end (and before each validation) unless
    ``hparams["recalibrate_bn"]`` is false (see :func:`recalibrate_batch_norm`). With
    ``validation`` images, the weights of the epoch with the best validation accuracy
    are kept (the earliest on ties)."""
    optimizer_name = hparams["optimizer"]
    if optimizer_name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer_name!r}; expected one of {sorted(OPTIMIZERS)}")
    if len(train) == 0:
        raise ValueError("cannot train a classifier on an empty image set")
    model.to(device).train()
    optimizer = OPTIMIZERS[optimizer_name](model.parameters(), hparams)
    loss_fn = nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(seed)
    epochs = int(hparams["epochs"])
    batch_size = int(hparams["batch_size"])
    recalibrate = hparams.get("recalibrate_bn", True)
    fit = Fit()
    for epoch in progress.track(range(epochs), total=epochs, description=description):
        model.train()
        for idx in _batches(len(train), batch_size, shuffle):
            # Batch norm cannot normalise a batch of one in training mode; a lone
            # leftover image is simply seen again in a later (reshuffled) epoch.
            if len(idx) == 1 and len(train) > 1:
                continue
            images = to_unit_range(train.images[idx].to(device))
            labels = train.labels[idx].to(device).long()
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(images), labels).backward()
            optimizer.step()
        if recalibrate and (validation is not None or epoch == epochs - 1):
            recalibrate_batch_norm(model, train, device, batch_size)
        if validation is not None and len(validation):
            accuracy = float((predict(model, validation, device).argmax(1) == validation.labels).double().mean())
            fit.validation_accuracy.append(accuracy)
            if fit.best_epoch is None or accuracy > max(fit.validation_accuracy[:-1]):
                fit.best_epoch = epoch
                fit.best_state = copy.deepcopy(model.state_dict())
    return fit


@torch.no_grad()
def recalibrate_batch_norm(model: nn.Module, images: ImageSplit, device: torch.device, batch_size: int) -> None:
    """Replace batch norm's running statistics by their plain average over ``images``
    under the current weights ("precise BN").

    Why: the running averages (momentum 0.1) lag the weights; after a short run (the
    smoke profile, a small generated set) they are far enough off that a network
    which is perfect in training mode predicts one class in eval mode. One extra
    forward pass over the training set removes that failure. Only the batch-norm
    layers are put in training mode, so dropout stays off.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    model.to(device).eval()
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # None: cumulative (equal-weight) average over batches
        m.train()
    for idx in _batches(len(images), batch_size, generator=None):
        if len(idx) == 1 and len(images) > 1:
            continue
        model(to_unit_range(images.images[idx].to(device)))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
        m.eval()


@torch.no_grad()
def predict(model: nn.Module, images: ImageSplit, device: torch.device, batch_size: int = 128) -> torch.Tensor:
    """Logits per image (N, classes), on the CPU, in eval mode."""
    model.to(device).eval()
    out = [model(to_unit_range(images.images[start : start + batch_size].to(device))).float().cpu()
           for start in range(0, len(images), batch_size)]
    return torch.cat(out) if out else torch.zeros(0, 0)


def classifier_hparams(classifier: Classifier, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The classifier's defaults for the run's profile, with the epochs of
    ``classifier_epochs`` and the values of the settings the classifier declares
    (each replaces the hyperparameter of its name) when the run gives them."""
    hparams = classifier.hyperparameters(settings.get("profile", "smoke"))
    epochs = CLASSIFIER_EPOCHS.read(settings)
    if epochs is not None:
        hparams["epochs"] = epochs
    for setting in classifier.settings:
        if settings.get(setting.name) is not None:
            hparams[setting.name] = setting.read(settings)
    return hparams


# --------------------------------------------------------------------------- protocols


def validation_split(train: ImageSplit) -> tuple[ImageSplit, ImageSplit]:
    """(rest, validation): a fixed VALIDATION_FRACTION of each class (at least one
    image, and at least one left), seed VALIDATION_SEED, in split order."""
    held = []
    for label in train.labels.unique().tolist():
        members = (train.labels == label).nonzero().squeeze(1)
        if len(members) < 2:
            continue
        n_val = min(max(1, round(len(members) * VALIDATION_FRACTION)), len(members) - 1)
        order = torch.randperm(len(members), generator=torch.Generator().manual_seed(VALIDATION_SEED * 1000 + label))
        held.append(members[order[:n_val]])
    is_val = torch.zeros(len(train), dtype=torch.bool)
    if held:
        is_val[torch.cat(held)] = True
    return train.subset(torch.nonzero(~is_val).squeeze(1)), train.subset(torch.nonzero(is_val).squeeze(1))


def class_balanced(split: ImageSplit, n: int, num_classes: int, seed: int) -> ImageSplit:
    """``n`` images with the classes as equal as the split allows, chosen at random."""
    generator = torch.Generator().manual_seed(seed)
    picked = []
    per_class = [n // num_classes + (1 if c < n % num_classes else 0) for c in range(num_classes)]
    for c, k in enumerate(per_class):
        members = (split.labels == c).nonzero().squeeze(1)
        picked.append(members[torch.randperm(len(members), generator=generator)[:k]])
    return split.subset(torch.sort(torch.cat(picked)).values)


def negative_class(class_names) -> Optional[int]:
    found = [i for i, name in enumerate(class_names) if SOURCE_NAMES.match(name)]
    return found[0] if len(found) == 1 else None


class DownstreamProtocol(Metric):
    """Train a fresh classifier on :meth:`training_set`, test on the real test split."""

    kind = "downstream"
    direction = "higher"
    settings = (CLASSIFIER_EPOCHS,)
    #: What the classifier trains on, for the protocol statement.
    trains_on: str = ""
    #: False when the training set holds real images only: the fit then does not
    #: depend on the cell's GAN and is reused across cells (:mod:`.real_fit_reuse`).
    uses_generated_images: bool = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if getattr(cls, "name", None):
            prefix = cls.name.replace("-", "_")
            cls.result_keys = tuple(f"{prefix}_{s}" for s in SCORE_NAMES) + tuple(f"{prefix}_best_val_{s}" for s in SCORE_NAMES)
            cls.headline_keys = (f"{prefix}_accuracy",)
            cls.undirected_keys = (f"{prefix}_loss", f"{prefix}_best_val_loss")
            cls.per_class_keys = tuple(
                f"{model}{score}" for model in (f"{prefix}_", f"{prefix}_best_val_") for score in PER_CLASS_SCORE_NAMES
            )
            cls.value_ranges = {k: (0.0, float("inf")) if k.endswith("_loss") else (0.0, 1.0) for k in cls.result_keys}
            cls.value_ranges.update(dict.fromkeys(cls.per_class_keys, (0.0, 1.0)))
            cls.protocol = (
                f"A freshly initialised classifier (torch seeded with the run seed) is trained with cross-entropy on "
                f"{cls.trains_on} for the classifier's epochs at the run's profile (settings['classifier_epochs'] "
                f"overrides); batch-norm statistics are recomputed over its training images after every epoch. After "
                f"each epoch it predicts the real validation images ({VALIDATION_FRACTION:g} of each class of the real "
                f"training split, fixed seed {VALIDATION_SEED}). The final-epoch model and the best-validation model "
                f"(highest validation accuracy, earliest on ties) then predict the dataset's held-out real test split; "
                f"keys `{prefix}_<score>` are the final model's, `{prefix}_best_val_<score>` the best-validation "
                f"model's. Scores: {', '.join(SCORE_NAMES)} (conventions in plugins/metrics/classification.py: "
                f"macro averages, support-weighted averages as scikit-learn's average='weighted', one-vs-rest AUC, "
                f"sensitivity/specificity of tumour detection against the no-tumour class). Per class of the data, "
                f"`{prefix}_<score>[<class>]` and `{prefix}_best_val_<score>[<class>]` for the scores "
                f"{', '.join(PER_CLASS_SCORE_NAMES)} of every class that occurs in the test labels or the model's "
                f"predictions (the rows of scikit-learn's classification_report); a score whose denominator is 0 "
                f"is 0, as scikit-learn's zero_division=0. The confusion matrices are saved beside the results."
            )

    def training_set(self, evaluation: Evaluation, real_train: ImageSplit) -> tuple[ImageSplit, int]:
        """(the classifier's training images, how many of them are generated)."""
        raise NotImplementedError

    def fit_and_predict(
        self, evaluation: Evaluation, classifier: Classifier, hparams: Mapping[str, Any], options: Mapping[str, Any],
        train: ImageSplit, validation: ImageSplit, batch: int,
    ) -> FitPredictions:
        """Train a fresh classifier on ``train``; its final and best-validation models'
        logits on the real test split."""
        spec = evaluation.data.image_spec
        # Initial weights and dropout from the run seed's own stream: nothing the other
        # metrics drew moves them, and they move nothing after.
        with isolated_rng(evaluation.seed, evaluation.device):
            model = classifier.build(spec.num_classes, spec.size, spec.channels, pretrained=bool(hparams.get("pretrained", False)), **options)
            fit = fit_classifier(
                model, train, hparams, evaluation.device, evaluation.seed, evaluation.progress,
                description=f"{self.name}: training {classifier.name}", validation=validation,
            )
        test = evaluation.data.test
        final_logits = predict(model, test, evaluation.device, batch)
        best_logits = None
        if fit.best_state is not None:
            model.load_state_dict(fit.best_state)
            best_logits = predict(model, test, evaluation.device, batch)
        return FitPredictions(final_logits, best_logits, fit.best_epoch)

    def compute(self, evaluation: Evaluation, classifier: Optional[Classifier] = None) -> MetricResult:
        if classifier is None:
            raise ValueError(f"the {self.name} metric needs a classifier")
        # One class would score a perfect accuracy whatever the generator does.
        require_classes_for_classification(evaluation.data.class_names, self.name)
        hparams = classifier_hparams(classifier, evaluation.settings)
        options = {name: hparams[name] for name in classifier.build_options if name in hparams}
        real_train, validation = validation_split(evaluation.data.train)
        train, n_synthetic = self.training_set(evaluation, real_train)
        batch = 4 * int(hparams["batch_size"])
        if self.uses_generated_images:
            fit = self.fit_and_predict(evaluation, classifier, hparams, options, train, validation, batch)
        else:
            key = real_fit_reuse.fit_key(self.name, evaluation, classifier, hparams, options)
            fit = real_fit_reuse.kept_fit(key)
            if fit is None:
                fit = self.fit_and_predict(evaluation, classifier, hparams, options, train, validation, batch)
                real_fit_reuse.keep_fit(key, fit)
            else:
                evaluation.progress.log(
                    f"{self.name} with {classifier.name}: reused the fit of an earlier cell of this process "
                    "(same real images, classifier, settings, seed and device)"
                )
        test = evaluation.data.test
        negative = negative_class(evaluation.data.class_names)
        prefix = self.name.replace("-", "_")
        class_names = evaluation.data.class_names
        values = {f"{prefix}_{k}": v for k, v in all_scores(test.labels, fit.final_logits, negative).items()}
        values.update(class_values(f"{prefix}_", test.labels, fit.final_logits, class_names))
        artifacts = {f"confusion-{self.name}-{classifier.name}": write_confusion(evaluation, self.name, classifier.name, "final", test.labels, fit.final_logits)}
        if fit.best_logits is not None:
            values.update({f"{prefix}_best_val_{k}": v for k, v in all_scores(test.labels, fit.best_logits, negative).items()})
            values.update(class_values(f"{prefix}_best_val_", test.labels, fit.best_logits, class_names))
            artifacts[f"confusion-{self.name}-{classifier.name}-best-val"] = write_confusion(
                evaluation, self.name, classifier.name, f"best validation (epoch {fit.best_epoch + 1})", test.labels, fit.best_logits,
            )
        return MetricResult(values, n_real=len(test), n_fake=n_synthetic or None, artifacts=artifacts)


class TSTR(DownstreamProtocol):
    name = "tstr"
    description = "Train a classifier on generated images, test it on held-out real images"
    source = "Esteban, Hyland and Raetsch, arXiv:1706.02633, 2017 (the TSTR protocol); BrainGAN 2022"
    trains_on = "all class-balanced generated images"

    def training_set(self, evaluation, real_train):
        return evaluation.fake, len(evaluation.fake)


class TRTR(DownstreamProtocol):
    name = "trtr"
    description = "Baseline: train a classifier on real images, test it on held-out real images"
    source = "the real-data baseline of BrainGAN 2022, IJACSA 2024 and the cGAN report 2023"
    trains_on = "the real training images outside the validation part"

    uses_generated_images = False

    def training_set(self, evaluation, real_train):
        return real_train, 0


class TRSTR(DownstreamProtocol):
    name = "trstr"
    description = "Train on real plus generated images (augmentation), test on held-out real images"
    source = "IJACSA 2024 and the cGAN report 2023 (GAN augmentation)"
    trains_on = (
        "the real training images outside the validation part plus class-balanced generated images making up "
        f"settings['synthetic_share'] (default {DEFAULT_SYNTHETIC_SHARE}) of the training set, capped at the "
        "generated images there are"
    )
    settings = (CLASSIFIER_EPOCHS, SYNTHETIC_SHARE)

    def training_set(self, evaluation, real_train):
        share = SYNTHETIC_SHARE.read(evaluation.settings)
        wanted = min(len(evaluation.fake), round(len(real_train) * share / (1.0 - share)))
        fake = class_balanced(evaluation.fake, wanted, evaluation.data.image_spec.num_classes, evaluation.seed)
        mixed = ImageSplit(torch.cat([real_train.images, fake.images]), torch.cat([real_train.labels, fake.labels]))
        return mixed, len(fake)


def class_values(prefix: str, y_true, logits: torch.Tensor, class_names) -> dict[str, float]:
    """``<prefix><score>[<class name>]`` for the per-class scores of the predictions
    ``logits.argmax(1)`` (:func:`~.classification.per_class_scores`)."""
    rows = per_class_scores(y_true, logits.argmax(1), logits.shape[1])
    return {
        per_class(f"{prefix}{score}", class_names[c]): row[score]
        for c, row in rows.items() if c < len(class_names)
        for score in PER_CLASS_SCORE_NAMES
    }


def write_confusion(evaluation: Evaluation, protocol: str, classifier_name: str, model: str, y_true, logits) -> str:
    """Write the confusion matrix as JSON; return its path relative to the artifacts dir."""
    class_names = list(evaluation.data.class_names)
    matrix = confusion_matrix(y_true, logits.argmax(1), len(class_names))
    suffix = "" if model == "final" else "-best-val"
    relative = f"confusion-{protocol}-{classifier_name}{suffix}.json"
    evaluation.artifacts_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "metric": protocol,
        "classifier": classifier_name,
        "model": model,
        "class_names": class_names,
        "rows": "true class",
        "columns": "predicted class",
        "matrix": matrix.tolist(),
        "scores": all_scores(y_true, logits, negative_class(class_names)),
        "per_class": {
            class_names[c]: row for c, row in per_class_scores(y_true, logits.argmax(1), logits.shape[1]).items()
            if c < len(class_names)
        },
    }
    (evaluation.artifacts_dir / relative).write_text(json.dumps(payload, indent=2) + "\n")
    return relative


@hookimpl
def register_metrics(register):
    register(TSTR())
    register(TRTR())
    register(TRSTR())
