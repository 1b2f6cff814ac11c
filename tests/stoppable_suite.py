"""A two-cell suite (a tiny DCGAN, seeds 0 and 1, one cheap metric) whose run can be
stopped at a chosen moment of its second cell, for the tests that kill a run with
SIGKILL and run again, and the tests of two runs into one results folder.

Run as a script (``python tests/stoppable_suite.py RESULTS``), it runs the suite into
RESULTS on the CPU and prints progress lines and one ``outcome <status> <cell key>``
line per cell. Environment:

* ``STOP_AT``: ``train`` (the second cell's training), ``metric`` (its metric, after
  its artifacts are written), or ``append`` (inside the transaction that appends its
  rows, before the commit). At that moment the run writes the file ``STOP_MARKER`` and
  sleeps until it is killed.
* ``STOP_STEP``: with ``STOP_AT=train``, the training step to stop at (default 1, the
  first; the cells train 6 steps).
* ``CHECKPOINT_EVERY``: training steps between checkpoints (default ganbench's).
* ``HOLD_UNTIL``: a path; the first cell's metric waits until that file exists (the
  run holds the first cell's claim meanwhile).
"""

from __future__ import annotations

import os
import sys
import time
import types
from pathlib import Path

from ganbench import hookimpl
from ganbench.results.store import ResultsStore
from ganbench.specs import Dataset, Metric, MetricResult, ProfileSettings, Progress, Suite
from ganbench_plugins.gans.dcgan import DCGAN

SUITE = "stoppable"
CELL_KEYS = tuple(f"{SUITE}/stoppable-data/stoppable-gan/seed-{seed}/smoke" for seed in (0, 1))
#: How long a stopped run sleeps: it is killed long before; the bound only keeps a
#: forgotten process from living on.
STOPPED_S = 600


def stop_here(stage: str) -> None:
    if os.environ.get("STOP_AT") == stage:
        Path(os.environ["STOP_MARKER"]).write_text(stage)
        time.sleep(STOPPED_S)


class StoppableData(Dataset):
    name = "stoppable-data"
    description = "ganbench.testing.tiny_data"
    needs_path = False
    family = "tiny"

    def load(self, path, image_size, channels, progress):
        from ganbench.testing import tiny_data

        return tiny_data(size=image_size, channels=channels)


class StoppableGAN(DCGAN):
    name = "stoppable-gan"
    builds = 0

    def build(self, spec, hparams, device):
        model = super().build(spec, hparams, device)
        StoppableGAN.builds += 1
        if StoppableGAN.builds == 2:  # the second cell (one model per cell in this suite)
            train_step = model.train_step
            calls = [0]

            def stopping_step(real, labels):
                calls[0] += 1
                if calls[0] == int(os.environ.get("STOP_STEP", "1")):
                    stop_here("train")
                return train_step(real, labels)

            model.train_step = stopping_step
        return model


class StoppableScore(Metric):
    name = "stoppable-score"
    description = "mean generated pixel (cheap)"
    direction = "higher"
    result_keys = ("stoppable_score",)
    protocol = "The mean pixel of the generated images."

    def compute(self, evaluation, classifier=None):
        if evaluation.seed == 0 and os.environ.get("HOLD_UNTIL"):
            while not Path(os.environ["HOLD_UNTIL"]).exists():
                time.sleep(0.05)
        if evaluation.seed == 1:
            stop_here("metric")
        images = evaluation.fake.images
        return MetricResult({"stoppable_score": float(images.float().mean())}, n_real=0, n_fake=len(images))


STOPPABLE = Suite(
    name=SUITE,
    description="two tiny cells that a test can stop",
    gans=("stoppable-gan",),
    datasets=("stoppable-data",),
    metrics=("stoppable-score",),
    classifiers=(),
    unconditional_per_class=False,
    profiles={"smoke": ProfileSettings(image_size=16, seeds=2, n_fake=8, n_real=8, gan_overrides={"steps": 6, "batch_size": 4})},
)


@hookimpl
def register_suites(register):
    register(STOPPABLE)


@hookimpl
def register_datasets(register):
    register(StoppableData())


@hookimpl
def register_gans(register):
    register(StoppableGAN())


@hookimpl
def register_metrics(register):
    register(StoppableScore())


def registry():
    from ganbench.testing import load_isolated

    return load_isolated(("stoppable-suite", sys.modules[__name__])).registry


class PrintedProgress(Progress):
    def track(self, iterable, total=None, description=""):
        return iter(iterable)

    def log(self, message: str) -> None:
        print(message, flush=True)


def _stopping_insert(insert):
    def stopping(self, connection, records):
        insert(self, connection, records)
        if any(record["seed"] == 1 for record in records):
            stop_here("append")  # the rows are inserted, the transaction not committed

    return stopping


def main(results: Path) -> None:
    from ganbench.runner.checkpointing import DEFAULT_EVERY
    from ganbench.runner.suite_run import RunRequest, run_suite

    ResultsStore._insert = _stopping_insert(ResultsStore._insert)
    summary = run_suite(
        registry(),
        RunRequest(
            suite=SUITE, results_dir=results, device="cpu", checkpoint_every=int(os.environ.get("CHECKPOINT_EVERY", DEFAULT_EVERY))
        ),
        PrintedProgress(),
        on_cell=lambda outcome: print(f"outcome {outcome.status} {outcome.cell.key}", flush=True),
    )
    print(f"done {summary.count('ran')} ran", flush=True)


if __name__ == "__main__":
    # Imported by its module name, so the plugin's classes are this module's.
    sys.path.insert(0, str(Path(__file__).parent))
    import stoppable_suite

    stoppable_suite.main(Path(sys.argv[1]))
