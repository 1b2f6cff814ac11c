"""TRTR's fit is made once per process and reused by the other GANs' cells
(plugins/metrics/real_fit_reuse.py): same rows, fresh artifacts, and a new fit whenever
anything it depends on differs."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from ganbench.specs import ImageSplit, Progress
from ganbench_plugins.classifiers.small_cnn import SmallCNN
from ganbench_plugins.metrics import real_fit_reuse
from ganbench_plugins.metrics.downstream import TRSTR, TRTR, TSTR
from test_downstream import brightness_split, tstr_evaluation

pytestmark = pytest.mark.usefixtures("one_thread")


class CountingCNN(SmallCNN):
    """The small CNN, counting the networks it builds (one per fit)."""

    name = "counting-cnn"

    def __init__(self):
        self.builds = 0

    def build(self, num_classes, image_size, channels, pretrained=False):
        self.builds += 1
        return super().build(num_classes, image_size, channels)


class Messages(Progress):
    def __init__(self):
        self.logged = []

    def track(self, iterable, total=None, description=""):
        return iter(iterable)

    def log(self, message):
        self.logged.append(message)


def other_gan_cell(evaluation, tmp_path, name):
    """The same real data and seed with another GAN's images and artifacts folder."""
    return dataclasses.replace(
        evaluation, fake=brightness_split(128, 99, random_labels=True), artifacts_dir=tmp_path / name, progress=Messages(),
    )


def test_a_second_gan_cell_reuses_the_fit_and_gets_the_same_rows(tmp_path):
    cnn = CountingCNN()
    first_cell = tstr_evaluation(tmp_path, classifier_epochs=2)
    first = TRTR().compute(first_cell, cnn)
    second_cell = other_gan_cell(first_cell, tmp_path, "second")
    second = TRTR().compute(second_cell, cnn)
    assert cnn.builds == 1
    assert second.values == first.values and (second.n_real, second.n_fake) == (first.n_real, first.n_fake)
    # The confusion matrices are written into the second cell's own folder too.
    for name, relative in second.artifacts.items():
        mine, theirs = second_cell.artifacts_dir / relative, first_cell.artifacts_dir / first.artifacts[name]
        assert mine.exists() and json.loads(mine.read_text()) == json.loads(theirs.read_text())
    assert any("reused the fit" in line for line in second_cell.progress.logged)


def test_reused_rows_equal_a_fit_made_from_scratch(tmp_path):
    cnn = CountingCNN()
    cell = tstr_evaluation(tmp_path, classifier_epochs=2)
    TRTR().compute(cell, cnn)
    reused = TRTR().compute(other_gan_cell(cell, tmp_path, "b"), cnn)
    real_fit_reuse.forget_fits()
    fresh = TRTR().compute(other_gan_cell(cell, tmp_path, "c"), cnn)
    assert cnn.builds == 2 and fresh.values == reused.values


@pytest.mark.parametrize(
    "change",
    [
        "seed",
        "epochs",
        "one real training pixel",
        "one real test label",
        "another classifier class",
    ],
)
def test_anything_the_fit_depends_on_makes_a_new_fit(tmp_path, change):
    cnn = CountingCNN()
    cell = tstr_evaluation(tmp_path, classifier_epochs=1)
    TRTR().compute(cell, cnn)
    other, classifier = other_gan_cell(cell, tmp_path, "other"), cnn
    if change == "seed":
        other = dataclasses.replace(other, seed=1)
    elif change == "epochs":
        other = dataclasses.replace(other, settings={**other.settings, "classifier_epochs": 2})
    elif change == "one real training pixel":
        images = cell.data.train.images.clone()
        images[0, 0, 0, 0] ^= 1
        train = ImageSplit(images, cell.data.train.labels)
        other = dataclasses.replace(other, data=dataclasses.replace(cell.data, train=train))
    elif change == "one real test label":
        labels = cell.data.test.labels.clone()
        labels[0] = 1 - labels[0]
        test = ImageSplit(cell.data.test.images, labels)
        other = dataclasses.replace(other, data=dataclasses.replace(cell.data, test=test))
    else:
        class Renamed(CountingCNN):
            pass

        classifier = Renamed()
    TRTR().compute(other, classifier)
    assert cnn.builds + (classifier.builds if classifier is not cnn else 0) == 2


@pytest.mark.parametrize("protocol", [TSTR, TRSTR])
def test_protocols_that_train_on_generated_images_always_fit(tmp_path, protocol):
    cnn = CountingCNN()
    cell = tstr_evaluation(tmp_path, classifier_epochs=1)
    protocol().compute(cell, cnn)
    protocol().compute(other_gan_cell(cell, tmp_path, "other"), cnn)
    assert cnn.builds == 2


def test_at_most_kept_fits_are_kept(monkeypatch, tmp_path):
    monkeypatch.setattr(real_fit_reuse, "KEPT", 2)
    cnn = CountingCNN()
    cell = tstr_evaluation(tmp_path, classifier_epochs=1)
    for seed in (0, 1, 2):
        TRTR().compute(dataclasses.replace(cell, seed=seed), cnn)
    TRTR().compute(dataclasses.replace(cell, seed=2), cnn)  # kept
    TRTR().compute(dataclasses.replace(cell, seed=0), cnn)  # dropped first
    assert cnn.builds == 4


def test_the_digest_tells_dtypes_and_shapes_apart():
    zeros = torch.zeros(4, dtype=torch.uint8)
    assert real_fit_reuse._digest(zeros) != real_fit_reuse._digest(zeros.view(2, 2))
    assert real_fit_reuse._digest(zeros) != real_fit_reuse._digest(torch.zeros(1, dtype=torch.int32))
    assert real_fit_reuse._digest(zeros) == real_fit_reuse._digest(zeros.clone())
