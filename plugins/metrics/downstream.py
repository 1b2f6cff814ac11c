"""Downstream metrics: train a classifier on one image set, test it on another.

``tstr`` (train on synthetic, test on real) trains on the class-balanced generated
images and tests on the held-out real test split: a GAN whose samples carry the
class-relevant structure of real MRI scores close to a classifier trained on real data.
The training loop (:func:`fit_classifier`) and :func:`predict` are generic in the
image sets, so a train-real-test-real baseline can reuse them unchanged.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

import torch
from torch import nn

from ganbench import hookimpl
from ganbench.specs import Classifier, Evaluation, ImageSplit, Metric, MetricResult, Progress, to_unit_range

OPTIMIZERS = {
    "adam": lambda params, hp: torch.optim.Adam(params, lr=hp["lr"], weight_decay=hp.get("weight_decay", 0.0)),
    "adamax": lambda params, hp: torch.optim.Adamax(params, lr=hp["lr"], weight_decay=hp.get("weight_decay", 0.0)),
    "sgd": lambda params, hp: torch.optim.SGD(
        params, lr=hp["lr"], momentum=hp.get("momentum", 0.9), weight_decay=hp.get("weight_decay", 0.0)
    ),
}


# --------------------------------------------------------------------------- scores


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts (num_classes x num_classes): rows are true classes, columns predictions."""
    y_true, y_pred = torch.as_tensor(y_true).long().cpu(), torch.as_tensor(y_pred).long().cpu()
    flat = y_true * num_classes + y_pred
    return torch.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def classification_scores(y_true, y_pred, num_classes: int) -> dict[str, float]:
    """Accuracy, balanced accuracy and macro F1 from the confusion matrix.

    Conventions follow scikit-learn's defaults: balanced accuracy is the mean recall
    over classes that occur in ``y_true``; macro F1 is the mean F1 over classes that
    occur in ``y_true`` or ``y_pred``, a class's F1 being 0 when it has no true positive.
    """
    cm = confusion_matrix(y_true, y_pred, num_classes).double()
    total = cm.sum()
    if total == 0:
        raise ValueError("no predictions to score")
    tp = cm.diag()
    true_count, pred_count = cm.sum(1), cm.sum(0)
    present = true_count > 0
    recall = tp[present] / true_count[present]
    seen = present | (pred_count > 0)
    # F1 = 2TP / (2TP + FP + FN) = 2TP / (true count + predicted count); no 0/0 on seen classes.
    f1 = 2 * tp[seen] / (true_count[seen] + pred_count[seen])
    return {
        "accuracy": float(tp.sum() / total),
        "balanced_accuracy": float(recall.mean()),
        "macro_f1": float(f1.mean()),
    }


# --------------------------------------------------------------------------- training


def _batches(n: int, batch_size: int, generator: Optional[torch.Generator]):
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def fit_classifier(
    model: nn.Module,
    train: ImageSplit,
    hparams: Mapping[str, Any],
    device: torch.device,
    seed: int,
    progress: Progress,
    description: str = "training classifier",
) -> nn.Module:
    """Train ``model`` on ``train`` (uint8 images, labels) with cross-entropy for
    ``hparams['epochs']`` epochs; shuffling is drawn from a generator seeded by ``seed``
    so a run is reproducible independently of any other use of torch's global RNG.
    Batch-norm statistics are recomputed at the end unless ``hparams["recalibrate_bn"]``
    is false (see :func:`recalibrate_batch_norm`)."""
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
    for _ in progress.track(range(epochs), total=epochs, description=description):
        for idx in _batches(len(train), int(hparams["batch_size"]), shuffle):
            # Batch norm cannot normalise a batch of one in training mode; a lone
            # leftover image is simply seen again in a later (reshuffled) epoch.
            if len(idx) == 1 and len(train) > 1:
                continue
            images = to_unit_range(train.images[idx].to(device))
            labels = train.labels[idx].to(device).long()
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(images), labels).backward()
            optimizer.step()
    if hparams.get("recalibrate_bn", True):
        recalibrate_batch_norm(model, train, device, int(hparams["batch_size"]))
    return model


@torch.no_grad()
def recalibrate_batch_norm(model: nn.Module, images: ImageSplit, device: torch.device, batch_size: int) -> None:
    """Replace batch norm's running statistics by their plain average over ``images``
    under the final weights ("precise BN").

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
    """Predicted class per image (N,), on the CPU, in eval mode."""
    model.to(device).eval()
    out = []
    for start in range(0, len(images), batch_size):
        batch = to_unit_range(images.images[start : start + batch_size].to(device))
        out.append(model(batch).argmax(1).cpu())
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long)


def classifier_hparams(classifier: Classifier, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The classifier's defaults for the run's profile, with an epochs override."""
    hparams = classifier.hyperparameters(settings.get("profile", "smoke"))
    if settings.get("classifier_epochs") is not None:
        hparams["epochs"] = int(settings["classifier_epochs"])
    return hparams


# --------------------------------------------------------------------------- plugin


class TSTR(Metric):
    name = "tstr"
    description = "Train a classifier on generated images, test it on held-out real images"
    source = "Esteban, Hyland and Raetsch, arXiv:1706.02633, 2017 (the TSTR protocol)"
    kind = "downstream"
    direction = "higher"
    result_keys = ("tstr_accuracy", "tstr_balanced_accuracy", "tstr_macro_f1")
    headline_keys = ("tstr_accuracy",)
    protocol = (
        "A freshly initialised classifier (torch seeded with the run seed) is trained with "
        "cross-entropy on all class-balanced generated images for the classifier's "
        "epochs at the run's profile (settings['classifier_epochs'] overrides), its "
        "batch-norm statistics are then recomputed over the generated images, and it "
        "predicts the dataset's held-out real test split; accuracy, balanced accuracy "
        "(mean per-class recall) and macro F1 are computed from the confusion matrix, "
        "which is saved beside the results."
    )

    def compute(self, evaluation: Evaluation, classifier: Optional[Classifier] = None) -> MetricResult:
        if classifier is None:
            raise ValueError("the tstr metric needs a classifier")
        spec = evaluation.data.image_spec
        hparams = classifier_hparams(classifier, evaluation.settings)
        torch.manual_seed(evaluation.seed)
        model = classifier.build(spec.num_classes, spec.size, spec.channels)
        fit_classifier(
            model, evaluation.fake, hparams, evaluation.device, evaluation.seed,
            evaluation.progress, description=f"tstr: training {classifier.name}",
        )
        test = evaluation.data.test
        predicted = predict(model, test, evaluation.device, batch_size=4 * int(hparams["batch_size"]))
        scores = classification_scores(test.labels, predicted, spec.num_classes)
        artifact = write_confusion(evaluation, classifier.name, test.labels, predicted, scores)
        return MetricResult(
            {f"tstr_{key}": value for key, value in scores.items()},
            n_real=len(test),
            n_fake=len(evaluation.fake),
            artifacts={f"confusion-{classifier.name}": artifact},
        )


def write_confusion(evaluation: Evaluation, classifier_name: str, y_true, y_pred, scores) -> str:
    """Write the confusion matrix as JSON; return its path relative to the artifacts dir."""
    class_names = list(evaluation.data.class_names)
    matrix = confusion_matrix(y_true, y_pred, len(class_names))
    relative = f"confusion-{classifier_name}.json"
    evaluation.artifacts_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "metric": "tstr",
        "classifier": classifier_name,
        "class_names": class_names,
        "rows": "true class",
        "columns": "predicted class",
        "matrix": matrix.tolist(),
        "scores": scores,
    }
    (evaluation.artifacts_dir / relative).write_text(json.dumps(payload, indent=2) + "\n")
    return relative


@hookimpl
def register_metrics(register):
    register(TSTR())
