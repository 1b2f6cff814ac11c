"""The tstr downstream metric, its hand-rolled scores, and the small-cnn classifier."""

import dataclasses
import json

import pytest
import torch

from ganbench.errors import PretrainedWeightsUnavailable
from ganbench.specs import Evaluation, ImageSplit, LoadedData, Progress, SilentProgress, to_unit_range
from ganbench_plugins.classifiers.small_cnn import SmallCNN
from ganbench_plugins.metrics.downstream import TSTR, classification_scores, classifier_hparams, confusion_matrix


@pytest.fixture(autouse=True)
def one_thread():
    """These tensors are tiny: with several intra-op threads on a busy 2-core machine,
    OpenMP spin-waiting made the tiny training runs here ~50x slower, not faster."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)

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
    expected = {"accuracy": accuracy, "balanced_accuracy": balanced, "macro_f1": macro_f1}
    assert classification_scores(y_true, y_pred, 3) == pytest.approx(expected)
    # A class absent from both labels and predictions does not dilute the averages.
    assert classification_scores(y_true, y_pred, 4) == pytest.approx(expected)


def test_classification_scores_class_only_predicted():
    # Class 1 is never true but predicted once: it counts in macro F1 (with F1 0), not
    # in balanced accuracy (it has no recall).
    scores = classification_scores([0, 0], [0, 1], 2)
    assert scores == pytest.approx({"accuracy": 0.5, "balanced_accuracy": 0.5, "macro_f1": (2 / 3 + 0) / 2})


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
    assert set(result.values) == set(TSTR.result_keys)
    assert result.values["tstr_accuracy"] > 0.9
    assert result.values["tstr_balanced_accuracy"] > 0.9
    assert (result.n_real, result.n_fake) == (200, 128)

    artifact = evaluation.artifacts_dir / result.artifacts["confusion-small-cnn"]
    assert artifact.name == "confusion-small-cnn.json"
    saved = json.loads(artifact.read_text())
    assert sum(map(sum, saved["matrix"])) == 200
    assert saved["class_names"] == ["dark", "bright"]


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
    assert progress.tracked == [(2, "tstr: training small-cnn")]


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
