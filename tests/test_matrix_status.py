"""The matrix's live view: counts, stages and the estimate of the time left."""

from ganbench.runner.matrix_status import MatrixStatus, format_duration


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_counts_stages_and_eta_follow_the_cells():
    clock, seen = Clock(), []
    status = MatrixStatus(["a", "b", "c", "d", "e"], parallel=2, on_change=lambda s: seen.append(s.summary()), clock=clock)
    assert status.summary() == "cells 0/5 done, 0 running, 0 failed, 5 queued; ETA after the first cell"
    status.finish("a", "skipped")
    status.start("b", "host pid 1")
    status.start("c")
    status.stage("b", "dcgan seed 0: training")
    assert status.running()["b"].stage == "dcgan seed 0: training" and status.running()["b"].where == "host pid 1"
    clock.now = 100.0
    status.finish("b", "done")
    clock.now = 300.0
    status.finish("c", "failed")  # a failed cell's time counts too: it was spent
    # mean 200 s per cell, 2 queued, 2 at once: 200 s left.
    assert status.eta_seconds() == 200.0
    assert status.summary() == "cells 2/5 done, 0 running, 1 failed, 2 queued; ETA 3 min"
    status.start("d")
    assert status.eta_seconds() == 200.0 * 1.5 / 2
    assert len(seen) == 7  # every change redraws; a stage set twice does not
    status.stage("d", "x")
    status.stage("d", "x")
    assert len(seen) == 8


def test_durations_read_as_people_say_them():
    assert format_duration(42) == "42 s" and format_duration(600) == "10 min" and format_duration(3 * 3600 + 20 * 60) == "3 h 20 min"
