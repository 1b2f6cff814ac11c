"""Classification scores of a downstream classifier on the real test split, computed
from its logits: what the papers report (accuracy, precision, recall, F1, AUC, loss,
sensitivity, specificity), each with one stated convention.

Conventions (scikit-learn's defaults where it has one):

* macro averages run over the classes that occur in the true labels (precision, recall,
  F1: also those only predicted; a class with no true positive scores 0);
* per class (:func:`per_class_scores`, the rows of scikit-learn's
  ``classification_report``): precision, recall and F1 of every class that occurs in
  the true labels or the predictions, with ``zero_division=0``: a class never predicted
  has precision 0, a class absent from the true labels (but predicted) recall 0 and F1
  0; a class neither true nor predicted has no per-class scores;
* weighted averages (``weighted_precision``, ``weighted_recall``, ``weighted_f1``): the
  per-class scores weighted by each class's support (its count in the true labels), as
  scikit-learn's ``average="weighted"`` with ``zero_division=0``; a class absent from
  the true labels weighs nothing, and ``weighted_recall`` equals the accuracy;
* balanced accuracy = macro recall over the classes present in the true labels;
* AUC: binary, the positive class's ROC AUC; more classes, the mean over classes
  present of one-vs-rest ROC AUC from the softmax probabilities (ties count one half);
* loss: mean cross-entropy of the logits;
* sensitivity / specificity: with a *negative* (no-tumour) class, tumour detection:
  sensitivity = share of tumour images predicted as any tumour class, specificity =
  share of no-tumour images predicted as no tumour. Without one, the one-vs-rest
  macro averages (sensitivity = macro recall; specificity = mean TN / (TN + FP)).
"""

from __future__ import annotations

from typing import Optional

import torch
from torch.nn import functional as F

SCORE_NAMES = (
    "accuracy", "balanced_accuracy", "macro_precision", "macro_recall", "macro_f1",
    "auc", "loss", "sensitivity", "specificity",
    "weighted_precision", "weighted_recall", "weighted_f1",
)
#: The scores reported per class of the data (:func:`per_class_scores`).
PER_CLASS_SCORE_NAMES = ("precision", "recall", "f1")


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts (num_classes x num_classes): rows are true classes, columns predictions."""
    y_true, y_pred = torch.as_tensor(y_true).long().cpu(), torch.as_tensor(y_pred).long().cpu()
    flat = y_true * num_classes + y_pred
    return torch.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def _rates(cm: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per class, from a confusion matrix (float64): true positives, support (true
    count), predicted count, and precision, recall and F1 with zero_division=0."""
    tp = cm.diag()
    true_count, pred_count = cm.sum(1), cm.sum(0)
    recall = torch.where(true_count > 0, tp / true_count.clamp(min=1), torch.zeros_like(tp))
    precision = torch.where(pred_count > 0, tp / pred_count.clamp(min=1), torch.zeros_like(tp))
    # F1 = 2TP / (2TP + FP + FN) = 2TP / (true count + predicted count); 0/0 only for a
    # class neither true nor predicted, which scores 0.
    both = true_count + pred_count
    f1 = torch.where(both > 0, 2 * tp / both.clamp(min=1), torch.zeros_like(tp))
    return {"tp": tp, "support": true_count, "predicted": pred_count, "precision": precision, "recall": recall, "f1": f1}


def _confusion_of(y_true, y_pred, num_classes: int) -> torch.Tensor:
    cm = confusion_matrix(y_true, y_pred, num_classes).double()
    if cm.sum() == 0:
        raise ValueError("no predictions to score")
    return cm


def classification_scores(y_true, y_pred, num_classes: int) -> dict[str, float]:
    """Scores that need only the predicted labels."""
    cm = _confusion_of(y_true, y_pred, num_classes)
    total = cm.sum()
    rates = _rates(cm)
    tp, precision, recall, f1 = rates["tp"], rates["precision"], rates["recall"], rates["f1"]
    present = rates["support"] > 0
    seen = present | (rates["predicted"] > 0)
    return {
        "accuracy": float(tp.sum() / total),
        "balanced_accuracy": float(recall[present].mean()),
        "macro_precision": float(precision[seen].mean()),
        "macro_recall": float(recall[seen].mean()),
        "macro_f1": float(f1[seen].mean()),
    }


def weighted_scores(y_true, y_pred, num_classes: int) -> dict[str, float]:
    """Support-weighted precision, recall and F1 (scikit-learn's ``average="weighted"``,
    ``zero_division=0``): sum over classes of score x support / number of true labels."""
    rates = _rates(_confusion_of(y_true, y_pred, num_classes))
    weights = rates["support"] / rates["support"].sum()
    return {f"weighted_{name}": float((rates[name] * weights).sum()) for name in PER_CLASS_SCORE_NAMES}


def per_class_scores(y_true, y_pred, num_classes: int) -> dict[int, dict[str, float]]:
    """Class -> {"precision", "recall", "f1", "support"} for every class that occurs in
    ``y_true`` or ``y_pred``, ascending (the rows of scikit-learn's
    ``classification_report``), with ``zero_division=0``: a score whose denominator is
    0 is 0. Classes neither true nor predicted are left out."""
    rates = _rates(_confusion_of(y_true, y_pred, num_classes))
    seen = (rates["support"] > 0) | (rates["predicted"] > 0)
    return {
        c: {**{name: float(rates[name][c]) for name in PER_CLASS_SCORE_NAMES}, "support": int(rates["support"][c])}
        for c in seen.nonzero().squeeze(1).tolist()
    }


def binary_auc(scores: torch.Tensor, positive: torch.Tensor) -> float:
    """ROC AUC as the Mann-Whitney statistic: the chance a positive outscores a
    negative, ties counting one half. NaN when one side is empty."""
    scores = scores.double()
    pos, neg = scores[positive], scores[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    ranks = _average_ranks(torch.cat([pos, neg]))
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _average_ranks(values: torch.Tensor) -> torch.Tensor:
    """1-based ranks, ties sharing their mean rank."""
    order = torch.argsort(values, stable=True)
    sorted_values = values[order]
    ranks = torch.empty_like(values)
    start = 0
    n = len(values)
    while start < n:
        end = start
        while end + 1 < n and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def auc(y_true: torch.Tensor, probabilities: torch.Tensor) -> float:
    num_classes = probabilities.shape[1]
    if num_classes == 2:
        return binary_auc(probabilities[:, 1], y_true == 1)
    per_class = [binary_auc(probabilities[:, c], y_true == c) for c in range(num_classes) if (y_true == c).any()]
    per_class = [a for a in per_class if a == a]  # a class that is every label has no AUC
    return float(sum(per_class) / len(per_class)) if per_class else float("nan")


def detection_rates(cm: torch.Tensor, negative: Optional[int]) -> tuple[float, float]:
    """(sensitivity, specificity), see the module docstring."""
    cm = cm.double()
    if negative is not None:
        is_negative_true = cm[negative].sum()
        tumour_rows = torch.ones(len(cm), dtype=torch.bool)
        tumour_rows[negative] = False
        tumour_true = cm[tumour_rows].sum()
        detected = tumour_true - cm[tumour_rows, negative].sum()
        sensitivity = float(detected / tumour_true) if tumour_true > 0 else float("nan")
        specificity = float(cm[negative, negative] / is_negative_true) if is_negative_true > 0 else float("nan")
        return sensitivity, specificity
    tp = cm.diag()
    true_count, pred_count, total = cm.sum(1), cm.sum(0), cm.sum()
    present = true_count > 0
    tn = total - true_count - pred_count + tp
    negatives = total - true_count
    specificity = torch.where(negatives > 0, tn / negatives.clamp(min=1), torch.full_like(tn, float("nan")))
    return float((tp[present] / true_count[present]).mean()), float(specificity[present].nanmean())


def all_scores(y_true, logits: torch.Tensor, negative: Optional[int] = None) -> dict[str, float]:
    """Every score in :data:`SCORE_NAMES` from the true labels and the logits."""
    y_true = torch.as_tensor(y_true).long().cpu()
    logits = logits.detach().double().cpu()
    num_classes = logits.shape[1]
    y_pred = logits.argmax(1)
    scores = classification_scores(y_true, y_pred, num_classes)
    scores.update(weighted_scores(y_true, y_pred, num_classes))
    scores["auc"] = auc(y_true, torch.softmax(logits, 1))
    scores["loss"] = float(F.cross_entropy(logits, y_true))
    scores["sensitivity"], scores["specificity"] = detection_rates(confusion_matrix(y_true, y_pred, num_classes), negative)
    return {name: scores[name] for name in SCORE_NAMES}
