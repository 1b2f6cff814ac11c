"""Progress reporting: bars for loops the core runs and for loops a library runs."""

import io
import re
import types

import pytest
import torch
from rich.console import Console

from ganbench.errors import GanbenchError
from ganbench.progress import RichProgress
from ganbench.runner.matrix_status import DONE, FAILED, SKIPPED, MatrixStatus
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


STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d "


def unstamped(text: str) -> list[str]:
    """The lines of ``text``, each without its leading timestamp (asserted present)."""
    lines = text.splitlines()
    assert all(re.match(STAMP, line) for line in lines), lines
    return [re.sub(STAMP, "", line, count=1) for line in lines]


def test_without_a_terminal_each_stage_is_a_plain_line():
    # In a log file or a pipe the bars draw nothing; a user still sees what runs.
    stream = io.StringIO()
    with RichProgress(Console(file=stream, force_terminal=False)) as progress:
        assert list(progress.track(range(3), description="dcgan seed 0: training")) == [0, 1, 2]
    lines = unstamped(stream.getvalue().strip())
    assert lines[0] == "dcgan seed 0: training: started (3)"
    assert re.fullmatch(r"dcgan seed 0: training: done in \d+ s", lines[-1])
    assert len(lines) == 2  # fewer than PERCENT_FROM items: no percent lines


def test_a_long_loop_says_every_ten_percent():
    stream = io.StringIO()
    progress = RichProgress(Console(file=stream), plain=True)
    assert sum(progress.track(range(25), description="training")) == sum(range(25))
    lines = unstamped(stream.getvalue())
    percents = [re.match(r"training: (\d+)/25 \((\d+)%\)", line) for line in lines[1:-1]]
    assert [(int(m[1]), int(m[2])) for m in percents] == [(3, 12), (5, 20), (8, 32), (10, 40), (13, 52), (15, 60), (18, 72), (20, 80), (23, 92)]
    assert all(re.search(r", \d+ s so far, about \d+ s left$", line) for line in lines[1:-1])


def test_a_loop_that_stops_early_says_no_done():
    stream = io.StringIO()
    progress = RichProgress(Console(file=stream), plain=True)
    for i in progress.track(range(10), description="work"):
        if i == 2:
            break
    assert not any("done in" in line for line in unstamped(stream.getvalue()))


def test_a_counter_logs_like_a_loop():
    stream = io.StringIO()
    progress = RichProgress(Console(file=stream), plain=True)
    advance = progress.counter(20, "features")
    for _ in range(20):
        advance()
    lines = unstamped(stream.getvalue())
    assert lines[0] == "features: started (20)" and lines[-1].startswith("features: done in ") and len(lines) == 11


def test_log_lines_never_wrap_and_notes_show_only_in_a_log():
    stream = io.StringIO()
    progress = RichProgress(Console(file=stream, width=40), plain=True)
    progress.log("x" * 100)
    progress.note("a note")
    assert unstamped(stream.getvalue()) == ["x" * 100, "a note"]
    terminal = io.StringIO()
    live = RichProgress(Console(file=terminal, force_terminal=True, width=120))
    assert not live.plain
    live.note("a note")
    live.log("a message")
    assert terminal.getvalue() == "a message\n"  # no timestamp at a terminal, no note


def test_cells_start_and_end_as_lines():
    stream = io.StringIO()
    progress = RichProgress(Console(file=stream), plain=True)
    clock = [0.0]
    status = MatrixStatus(["a", "b", "c", "d"], on_change=progress.show_matrix, clock=lambda: clock[0])
    status.start("a", where="host pid 1")
    status.stage("a", "training")
    status.finish("a", DONE)
    status.finish("b", SKIPPED)
    status.start("c")
    status.finish("c", FAILED)
    status.finish("d", DONE)  # finished before any look saw it start (a fast Ray task): no duration to give
    lines = [line for line in unstamped(stream.getvalue()) if not line.startswith("cells ")]
    assert [re.sub(r"\d+ s", "N s", line) for line in lines] == [
        "a: started on host pid 1", "a: done in N s", "b: skipped (finished in an earlier run)", "c: started", "c: failed after N s", "d: done",
    ]


def test_output_mode_from_the_environment(monkeypatch):
    monkeypatch.setenv("GANBENCH_OUTPUT", "plain")
    assert RichProgress(Console(file=io.StringIO(), force_terminal=True)).plain
    monkeypatch.setenv("GANBENCH_OUTPUT", "auto")
    assert not RichProgress(Console(file=io.StringIO(), force_terminal=True)).plain
    monkeypatch.setenv("TERM", "dumb")  # a terminal that cannot redraw bars
    assert RichProgress(Console(file=io.StringIO(), force_terminal=True)).plain
    monkeypatch.setenv("GANBENCH_OUTPUT", "fancy")
    with pytest.raises(GanbenchError, match="GANBENCH_OUTPUT='fancy': use one of auto, plain"):
        RichProgress(Console(file=io.StringIO()))


def test_every_line_of_a_long_message_gets_a_timestamp():
    stream = io.StringIO()
    RichProgress(Console(file=stream), plain=True).log("first\n  second")
    assert unstamped(stream.getvalue()) == ["first", "  second"]


class Remote:
    """A Ray actor method's stand-in: ``.remote(...)`` records the call."""

    def __init__(self, calls, name):
        self.calls, self.name = calls, name

    def remote(self, *args):
        self.calls.append((self.name, *args))


def test_a_ray_workers_loop_lines_are_notes_for_the_driver():
    # Only the driver knows whether it writes to a log, so the worker marks them as notes.
    from ganbench.runner.ray_executor import BoardProgress

    calls = []
    board = types.SimpleNamespace(stage=Remote(calls, "stage"), log=Remote(calls, "log"))
    progress = BoardProgress(board, "key", "host pid 1")
    assert list(progress.track(range(10), description="training")) == list(range(10))
    advance = progress.counter(10, "features")
    for _ in range(12):
        advance()
    progress.log("a message")
    logged = [call[1:] for call in calls if call[0] == "log"]
    assert logged[-1] == ("[host pid 1] a message",)
    notes = [line for line, *flag in logged[:-1] if flag == [True]]
    assert len(notes) == len(logged) - 1  # every loop line is a note
    assert notes[0] == "[host pid 1] training: started (10)" and notes[-1].startswith("[host pid 1] features: done in ")
    assert sum(": 5/10 (50%)" in line for line in notes) == 2  # both loops say their percentages
