"""The downstream protocols (tstr, trtr, trstr), their scores against scikit-learn, and
the small-cnn classifier."""

import dataclasses
import json

import pytest
import torch

from ganbench.errors import PretrainedWeightsUnavailable
from ganbench.specs import Evaluation, ImageSplit, LoadedData, Progress, SilentProgress, to_unit_range
from ganbench_plugins.classifiers.small_cnn import SmallCNN
from ganbench_plugins.metrics.classification import (
    PER_CLASS_SCORE_NAMES,
    SCORE_NAMES,
    all_scores,
    classification_scores,
    confusion_matrix,
    per_class_scores,
    weighted_scores,
)
from ganbench_plugins.metrics.downstream import TRSTR, TRTR, TSTR, class_values, classifier_hparams, validation_split


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py: tiny tensors run fastest on one thread

# --------------------------------------------------------------------------- scores


def test_classification_scores_by_hand():
    y_true = torch.tensor([0, 0, 0, 1, 1, 2])
    y_pred = torch.tensor([0, 0, 1, 1, 2, 2])
    assert confusion_matrix(y_true, y_pred, 3).tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    # Correct: 2 + 1 + 1 of 6.
    accuracy = 4 / 6
    # Recalls 2/3, 1/2, 1/1.
    balanced = (2 / 3 + 1 / 2 + 1) / 3
    # Precisions 2/2, 1/2, 1/2 -> F1 = 2PR/(P+R): 4/5, 1/2, 2/3.
    macro_f1 = (4 / 5 + 1 / 2 + 2 / 3) / 3
    expected = {"accuracy": accuracy, "balanced_accuracy": balanced, "macro_f1": macro_f1,
                "macro_precision": (1 + 1 / 2 + 1 / 2) / 3, "macro_recall": balanced}
    assert classification_scores(y_true, y_pred, 3) == pytest.approx(expected)
    # A class absent from both labels and predictions does not dilute the averages.
    assert classification_scores(y_true, y_pred, 4) == pytest.approx(expected)


def test_classification_scores_class_only_predicted():
    # Class 1 is never true but predicted once: it counts in macro F1 (with F1 0), not
    # in balanced accuracy (it has no recall).
    scores = classification_scores([0, 0], [0, 1], 2)
    assert scores["accuracy"] == 0.5 and scores["balanced_accuracy"] == 0.5
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 0) / 2)


# y_true has classes 0, 1, 2; class 2 is never predicted; class 3 is predicted but never
# true; class 4 is neither.
NEVER_PREDICTED_TRUE = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2])
NEVER_PREDICTED_PRED = torch.tensor([0, 0, 1, 1, 3, 0, 1, 0])


def test_per_class_and_weighted_scores_by_hand():
    assert confusion_matrix(NEVER_PREDICTED_TRUE, NEVER_PREDICTED_PRED, 5).tolist() == [
        [2, 1, 0, 0, 0], [0, 1, 0, 1, 0], [2, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0],
    ]
    rows = per_class_scores(NEVER_PREDICTED_TRUE, NEVER_PREDICTED_PRED, 5)
    # Predicted counts 4, 3, 0, 1; supports 3, 2, 3, 0. F1 = 2TP / (support + predicted).
    assert rows == {
        0: pytest.approx({"precision": 2 / 4, "recall": 2 / 3, "f1": 4 / 7, "support": 3}),
        1: pytest.approx({"precision": 1 / 3, "recall": 1 / 2, "f1": 2 / 5, "support": 2}),
        # Never predicted: precision 0/0 -> 0 (zero_division=0); no true positive.
        2: {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 3},
        # Absent from the true labels: recall 0/0 -> 0; predicted once, wrongly.
        3: {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0},
        # Class 4, neither true nor predicted, has no row.
    }
    # Weighted by support 3, 2, 3 (class 3 weighs nothing) of 8 true labels.
    assert weighted_scores(NEVER_PREDICTED_TRUE, NEVER_PREDICTED_PRED, 5) == pytest.approx({
        "weighted_precision": (3 * 2 / 4 + 2 * 1 / 3) / 8,
        "weighted_recall": (2 + 1 + 0) / 8,
        "weighted_f1": (3 * 4 / 7 + 2 * 2 / 5) / 8,
    })


def test_per_class_and_weighted_scores_agree_with_scikit_learn_on_missing_classes():
    metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn is the independent reference (pip install -e '.[test]')")
    t, p = NEVER_PREDICTED_TRUE.numpy(), NEVER_PREDICTED_PRED.numpy()
    # classification_report's rows are the classes in the true labels or the predictions.
    report = metrics.classification_report(t, p, output_dict=True, zero_division=0)
    rows = per_class_scores(NEVER_PREDICTED_TRUE, NEVER_PREDICTED_PRED, 5)
    assert sorted(rows) == sorted(int(k) for k in report if k.isdigit()) == [0, 1, 2, 3]
    for c, row in rows.items():
        sk = report[str(c)]
        assert row == pytest.approx({"precision": sk["precision"], "recall": sk["recall"], "f1": sk["f1-score"], "support": sk["support"]})
    weighted = weighted_scores(NEVER_PREDICTED_TRUE, NEVER_PREDICTED_PRED, 5)
    for score, column in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
        assert weighted[f"weighted_{score}"] == pytest.approx(report["weighted avg"][column])


def test_class_values_name_the_classes():
    """Keys ``<prefix><score>[<class>]`` for the classes in the test labels or the
    predictions: a class only predicted gets keys, one neither true nor predicted none."""
    metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn is the independent reference (pip install -e '.[test]')")
    names = ("glioma", "meningioma", "pituitary", "no_tumor", "other")
    logits = torch.nn.functional.one_hot(NEVER_PREDICTED_PRED, 5).double()
    values = class_values("tstr_best_val_", NEVER_PREDICTED_TRUE, logits, names)
    assert set(values) == {
        f"tstr_best_val_{score}[{name}]" for score in PER_CLASS_SCORE_NAMES for name in names[:4]
    }
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        NEVER_PREDICTED_TRUE.numpy(), NEVER_PREDICTED_PRED.numpy(), labels=[0, 1, 2, 3], zero_division=0,
    )
    for c, name in enumerate(names[:4]):
        assert values[f"tstr_best_val_precision[{name}]"] == pytest.approx(precision[c])
        assert values[f"tstr_best_val_recall[{name}]"] == pytest.approx(recall[c])
        assert values[f"tstr_best_val_f1[{name}]"] == pytest.approx(f1[c])


@pytest.mark.parametrize("num_classes,negative", [(2, 0), (4, 2), (4, None)])
@pytest.mark.parametrize("seed", [0, 1])
def test_scores_agree_with_scikit_learn(num_classes, negative, seed):
    metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn is the independent reference (pip install -e '.[test]')")
    g = torch.Generator().manual_seed(seed)
    y_true = torch.randint(0, num_classes, (300,), generator=g)
    # Informative but imperfect logits, with ties to exercise the AUC's tie rule.
    logits = (torch.nn.functional.one_hot(y_true, num_classes) * 1.5 + torch.randn(300, num_classes, generator=g)).round(decimals=1)
    y_pred = logits.argmax(1)
    ours = all_scores(y_true, logits, negative)
    probabilities = torch.softmax(logits.double(), 1).numpy()
    t, p = y_true.numpy(), y_pred.numpy()
    assert ours["accuracy"] == pytest.approx(metrics.accuracy_score(t, p))
    assert ours["balanced_accuracy"] == pytest.approx(metrics.balanced_accuracy_score(t, p))
    assert ours["macro_precision"] == pytest.approx(metrics.precision_score(t, p, average="macro", zero_division=0))
    assert ours["macro_recall"] == pytest.approx(metrics.recall_score(t, p, average="macro", zero_division=0))
    assert ours["macro_f1"] == pytest.approx(metrics.f1_score(t, p, average="macro", zero_division=0))
    assert ours["weighted_precision"] == pytest.approx(metrics.precision_score(t, p, average="weighted", zero_division=0))
    assert ours["weighted_recall"] == pytest.approx(metrics.recall_score(t, p, average="weighted", zero_division=0))
    assert ours["weighted_f1"] == pytest.approx(metrics.f1_score(t, p, average="weighted", zero_division=0))
    precision, recall, f1, support = metrics.precision_recall_fscore_support(t, p, labels=list(range(num_classes)), zero_division=0)
    rows = per_class_scores(y_true, y_pred, num_classes)
    for c, row in rows.items():
        assert row == pytest.approx({"precision": precision[c], "recall": recall[c], "f1": f1[c], "support": support[c]})
    assert ours["loss"] == pytest.approx(metrics.log_loss(t, probabilities, labels=list(range(num_classes))), rel=1e-6)
    if num_classes == 2:
        assert ours["auc"] == pytest.approx(metrics.roc_auc_score(t, probabilities[:, 1]))
    else:
        assert ours["auc"] == pytest.approx(metrics.roc_auc_score(t, probabilities, multi_class="ovr", average="macro"))
    cm = metrics.confusion_matrix(t, p, labels=list(range(num_classes)))
    if negative is not None:
        tumour = t != negative
        assert ours["sensitivity"] == pytest.approx(((p != negative) & tumour).sum() / tumour.sum())
        assert ours["specificity"] == pytest.approx(((p == negative) & ~tumour).sum() / (~tumour).sum())
    else:
        tn = cm.sum() - cm.sum(0) - cm.sum(1) + cm.diagonal()
        assert ours["specificity"] == pytest.approx((tn / (cm.sum() - cm.sum(1))).mean())
        assert ours["sensitivity"] == pytest.approx(metrics.recall_score(t, p, average="macro"))


# --------------------------------------------------------------------------- tstr


def brightness_split(n, seed, random_labels=False, size=16):
    """Class 0 dark, class 1 bright (noisy); with ``random_labels`` every image is
    mid-grey noise and labels are coin flips, so nothing links image and label."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    noise = 20 * torch.randn(n, 1, size, size, generator=g)
    if random_labels:
        labels = torch.randint(0, 2, (n,), generator=g)
        images = 128 + 3 * noise
    else:
        images = torch.where(labels.view(-1, 1, 1, 1) == 0, 60.0, 190.0) + noise
    return ImageSplit(images.round().clamp(0, 255).to(torch.uint8), labels)


def tstr_evaluation(tmp_path, random_labels=False, **settings) -> Evaluation:
    data = LoadedData(
        name="toy", class_names=("dark", "bright"),
        train=brightness_split(64, 1, random_labels), test=brightness_split(200, 2, random_labels),
        fingerprint="toy", family="toy", synthetic=True,
    )
    return Evaluation(
        data=data, fake=brightness_split(128, 3, random_labels), device=torch.device("cpu"), seed=0,
        settings={"profile": "smoke", **settings}, cache_dir=tmp_path / "cache",
        artifacts_dir=tmp_path / "artifacts", progress=SilentProgress(),
    )


def test_tstr_learns_a_separable_toy_task(tmp_path):
    # The smoke profile's 3 epochs are 12 steps here. Seed 1 is the case that predicted
    # a single class before batch-norm statistics were recomputed after training.
    evaluation = dataclasses.replace(tstr_evaluation(tmp_path), seed=1)
    result = TSTR().compute(evaluation, SmallCNN())
    per_class_keys = {f"{base}[{name}]" for base in TSTR.per_class_keys for name in ("dark", "bright")}
    assert set(result.values) == set(TSTR.result_keys) | per_class_keys
    assert result.values["tstr_accuracy"] > 0.9
    assert result.values["tstr_balanced_accuracy"] > 0.9
    assert result.values["tstr_best_val_accuracy"] > 0.9 and result.values["tstr_auc"] > 0.9
    assert (result.n_real, result.n_fake) == (200, 128)

    artifact = evaluation.artifacts_dir / result.artifacts["confusion-tstr-small-cnn"]
    assert artifact.name == "confusion-tstr-small-cnn.json"
    saved = json.loads(artifact.read_text())
    assert sum(map(sum, saved["matrix"])) == 200
    assert saved["class_names"] == ["dark", "bright"] and saved["model"] == "final"
    best = json.loads((evaluation.artifacts_dir / result.artifacts["confusion-tstr-small-cnn-best-val"]).read_text())
    assert best["model"].startswith("best validation (epoch ")
    # The per-class and weighted keys agree with scikit-learn on the predictions the
    # saved confusion matrices record.
    metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn is the independent reference (pip install -e '.[test]')")
    for prefix, matrix in (("tstr_", saved["matrix"]), ("tstr_best_val_", best["matrix"])):
        t, p = labels_of(matrix)
        report = metrics.classification_report(t, p, labels=[0, 1], target_names=["dark", "bright"], output_dict=True, zero_division=0)
        for name in ("dark", "bright"):
            for score, column in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
                assert result.values[f"{prefix}{score}[{name}]"] == pytest.approx(report[name][column])
        for score, column in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert result.values[f"{prefix}weighted_{score}"] == pytest.approx(report["weighted avg"][column])
    assert saved["per_class"]["dark"]["support"] == 100


def labels_of(matrix):
    """(true labels, predictions) that a confusion matrix counts."""
    pairs = [(t, p) for t, row in enumerate(matrix) for p, count in enumerate(row) for _ in range(count)]
    return [t for t, _ in pairs], [p for _, p in pairs]


def test_result_keys_name_the_protocol_and_the_model():
    for metric in (TSTR(), TRTR(), TRSTR()):
        assert len(metric.result_keys) == 2 * len(SCORE_NAMES)
        assert f"{metric.name}_accuracy" in metric.result_keys and f"{metric.name}_best_val_auc" in metric.result_keys
        assert metric.headline_keys == (f"{metric.name}_accuracy",)
        for model in ("", "best_val_"):
            assert f"{metric.name}_{model}weighted_f1" in metric.result_keys
            assert metric.range_of(f"{metric.name}_{model}weighted_recall") == (0.0, 1.0)
            for score in ("precision", "recall", "f1"):
                base = f"{metric.name}_{model}{score}"
                assert base in metric.per_class_keys and base not in metric.result_keys
                assert metric.value_ranges[base] == (0.0, 1.0)
                assert metric.declares(f"{base}[glioma]") and not metric.declares(base)
                assert metric.range_of(f"{base}[glioma]") == (0.0, 1.0)
                assert metric.direction_of(f"{base}[glioma]") == "higher" and not metric.is_headline(f"{base}[glioma]")
        assert len(metric.per_class_keys) == 6
        assert "zero_division=0" in metric.protocol and "weighted" in metric.protocol


def test_validation_images_come_from_the_real_training_split_per_class():
    train = brightness_split(40, 5)
    rest, validation = validation_split(train)
    assert len(rest) + len(validation) == 40 and len(validation) == 6  # 15% of 20, per class
    assert validation.labels.bincount().tolist() == [3, 3]
    again, _ = validation_split(train)
    assert torch.equal(rest.images, again.images)


def test_trtr_trains_on_real_and_trstr_adds_the_synthetic_share(tmp_path):
    # Generated images with random labels: useless for training. TRTR ignores them;
    # TRSTR mixes them in at the share asked for.
    evaluation = tstr_evaluation(tmp_path, classifier_epochs=3)
    evaluation.fake = brightness_split(128, 3, random_labels=True)
    trtr = TRTR().compute(evaluation, SmallCNN())
    assert trtr.values["trtr_accuracy"] > 0.9 and trtr.n_fake is None
    quarter = TRSTR().compute(dataclasses.replace(evaluation, settings={**evaluation.settings, "synthetic_share": 0.25}), SmallCNN())
    real_images = 64 - 10  # the training split less its validation part
    assert quarter.n_fake == round(real_images * 0.25 / 0.75)
    half = TRSTR().compute(evaluation, SmallCNN())
    assert half.n_fake == real_images


def test_tstr_is_at_chance_when_labels_are_random(tmp_path):
    result = TSTR().compute(tstr_evaluation(tmp_path, random_labels=True, classifier_epochs=3), SmallCNN())
    # 200 test images: chance is 0.5 with a standard deviation of about 0.035.
    assert 0.35 < result.values["tstr_accuracy"] < 0.65
    assert 0.35 < result.values["tstr_balanced_accuracy"] < 0.65


def test_tstr_is_reproducible(tmp_path):
    first = TSTR().compute(tstr_evaluation(tmp_path, classifier_epochs=1), SmallCNN())
    second = TSTR().compute(tstr_evaluation(tmp_path, classifier_epochs=1), SmallCNN())
    assert first.values == second.values


class RecordingProgress(Progress):
    def __init__(self):
        self.tracked = []

    def track(self, iterable, total=None, description=""):
        self.tracked.append((total, description))
        return iter(iterable)


def test_tstr_epochs_follow_profile_and_override(tmp_path):
    cnn = SmallCNN()
    assert classifier_hparams(cnn, {"profile": "quick"})["epochs"] == 15
    assert classifier_hparams(cnn, {})["epochs"] == 3  # smoke by default
    assert classifier_hparams(cnn, {"profile": "paper", "classifier_epochs": 2})["epochs"] == 2

    evaluation = tstr_evaluation(tmp_path, classifier_epochs=2)
    progress = evaluation.progress = RecordingProgress()
    TSTR().compute(evaluation, cnn)
    assert (2, "tstr: training small-cnn") in progress.tracked


# --------------------------------------------------------------------------- small-cnn


@pytest.mark.parametrize("size", [32, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_small_cnn_output_shape(size, channels):
    model = SmallCNN().build(num_classes=4, image_size=size, channels=channels).eval()
    images = to_unit_range(torch.randint(0, 256, (2, channels, size, size), dtype=torch.uint8))
    with torch.no_grad():
        assert model(images).shape == (2, 4)


def test_small_cnn_has_no_pretrained_weights():
    assert SmallCNN.supports_pretrained is False
    with pytest.raises(PretrainedWeightsUnavailable, match="no pretrained weights"):
        SmallCNN().build(num_classes=2, image_size=64, channels=1, pretrained=True)


def test_small_cnn_hyperparameters():
    cnn = SmallCNN()
    smoke = cnn.hyperparameters("smoke")
    assert smoke == {"epochs": 3, "batch_size": 32, "optimizer": "adam", "lr": 1e-3}
    assert cnn.hyperparameters("smoke") is not cnn.hyperparameters("smoke")  # callers may edit
    assert smoke["epochs"] < cnn.hyperparameters("quick")["epochs"] < cnn.hyperparameters("paper")["epochs"]


def test_build_options_reach_the_classifier(tmp_path):
    """Hyperparameters a classifier declares as build options (ResNet-50's
    freeze_layers) are passed to build(), not silently dropped."""
    seen = {}

    class Recording(SmallCNN):
        name = "recording-cnn"
        build_options = ("width",)
        profiles = {"smoke": {**SmallCNN.profiles["smoke"], "epochs": 1, "width": 7}}

        def build(self, num_classes, image_size, channels, pretrained=False, width=None):
            seen["width"], seen["pretrained"] = width, pretrained
            return super().build(num_classes, image_size, channels)

    TRTR().compute(tstr_evaluation(tmp_path), Recording())
    assert seen == {"width": 7, "pretrained": False}
