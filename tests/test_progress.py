"""Progress reporting: bars for loops the core runs and for loops a library runs."""

import io

import torch
from rich.console import Console

from ganbench.progress import RichProgress
from ganbench.runner.training import generate_balanced
from ganbench.specs import GANModel, SilentProgress
from ganbench_plugins.metrics.fidelity import RGBUint8Images


class RecordingProgress(SilentProgress):
    def __init__(self):
        self.tracked, self.counters = [], []

    def track(self, iterable, total=None, description=""):
        self.tracked.append((description, total))
        return iter(iterable)

    def counter(self, total, description):
        record = [description, total, 0]
        self.counters.append(record)

        def advance(steps=1):
            record[2] += steps

        return advance


def test_feature_extraction_reports_each_image_once_asked_for():
    progress = RecordingProgress()
    dataset = RGBUint8Images(torch.zeros(5, 1, 4, 4, dtype=torch.uint8), progress, "features")
    assert progress.counters == []  # a cached set is never read: no bar
    for i in range(len(dataset)):
        dataset[i]
    assert progress.counters == [["features", 5, 5]]


class Sampler(GANModel):
    def train_step(self, real, labels):
        return {}

    def sample(self, n, labels=None, generator=None):
        return torch.zeros(n, 1, 2, 2)

    def networks(self):
        return {}


def test_sampling_is_tracked_per_class():
    progress = RecordingProgress()
    fake = generate_balanced({0: Sampler(), 1: Sampler()}, n=6, num_classes=2, seed=0, progress=progress, description="s")
    assert len(fake) == 6 and [d for d, _ in progress.tracked] == ["s: class 0", "s: class 1"]


def test_rich_counter_ends_its_bar_at_the_total():
    progress = RichProgress(Console(file=io.StringIO()))
    with progress:
        advance = progress.counter(3, "work")
        assert len(progress.bars.tasks) == 1
        advance(2)
        advance(1)
        assert len(progress.bars.tasks) == 0
        advance(1)  # extra calls after the end are harmless


def test_without_a_terminal_each_stage_is_a_plain_line():
    # In a log file or a pipe the bars draw nothing; a user still sees what runs.
    stream = io.StringIO()
    with RichProgress(Console(file=stream, force_terminal=False)) as progress:
        assert list(progress.track(range(3), description="dcgan seed 0: training")) == [0, 1, 2]
    lines = stream.getvalue().splitlines()
    assert "dcgan seed 0: training: started (3)" in lines
    assert any(line.startswith("dcgan seed 0: training: done in ") for line in lines)
