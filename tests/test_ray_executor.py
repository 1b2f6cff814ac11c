"""The ray executor on a local Ray instance (2 CPUs, no network): a tiny suite gives
the same numbers through ``--executor ray`` as through ``local``; a worker killed with
SIGKILL mid-training is retried and resumes from its checkpoint, and with no retries
left the cell is recorded as failed, once; the driver stays the only writer.

The suite's own plugin classes live in this module, which Ray workers cannot import:
they travel by value (``cloudpickle.register_pickle_by_value``), as a third party's
installed plugins would travel by reference."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import types

import pytest
import torch
from threadpoolctl import threadpool_limits

ray = pytest.importorskip("ray", reason='the ray extra is not installed (pip install -e ".[ray]")')

from ganbench import hookimpl  # noqa: E402
from ganbench.results.store import ResultsStore  # noqa: E402
from ganbench.specs import ProfileSettings, Suite  # noqa: E402
from ganbench_plugins.datasets.brain_phantom import BrainPhantom  # noqa: E402
from ganbench_plugins.gans.dcgan import DCGAN  # noqa: E402
from cli_runs import invoke_with  # noqa: E402

pytestmark = pytest.mark.slow


class RayPhantom(BrainPhantom):
    name = "ray-phantom"
    loads = 0  # in the driver: how often a run loaded the data

    def load(self, *args, **kwargs):
        RayPhantom.loads += 1
        return super().load(*args, **kwargs)


class KilledOnceGAN(DCGAN):
    """DCGAN whose worker process is killed with SIGKILL at step ``at`` the first time
    (``marker`` records that it happened); trained exactly as dcgan otherwise."""

    name = "killed-once-gan"

    def __init__(self, marker: str = "", at: int = 3):
        super().__init__()
        self.marker, self.at = marker, at

    def build(self, spec, hparams, device):
        model = super().build(spec, hparams, device)
        step = model.train_step
        calls = {"n": 0}

        def train_step(real, labels):
            calls["n"] += 1
            if calls["n"] == self.at and self.marker and not os.path.exists(self.marker):
                open(self.marker, "w").write(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
            return step(real, labels)

        model.train_step = train_step
        return model


RAY_SUITE = Suite(
    name="ray-tiny",
    description="executor test suite",
    gans=("dcgan",),
    datasets=("ray-phantom",),
    metrics=("fid", "psnr", "tstr"),
    classifiers=("small-cnn",),
    profiles={
        "smoke": ProfileSettings(
            image_size=16, seeds=2, n_fake=16, n_real=32, metric_settings={"classifier_epochs": 1},
            gan_overrides={"steps": 6, "batch_size": 8},
        )
    },
)


def plugin(marker: str = ""):
    module = types.ModuleType("ray_test_plugin")

    @hookimpl
    def register_suites(register):
        register(RAY_SUITE)

    @hookimpl
    def register_datasets(register):
        register(RayPhantom(train_per_class=12, test_per_class=4))

    @hookimpl
    def register_gans(register):
        register(KilledOnceGAN(marker))

    module.register_suites, module.register_datasets, module.register_gans = register_suites, register_datasets, register_gans
    return module


def invoke(*args, marker: str = ""):
    return invoke_with(("ray-test-plugin", plugin(marker)), *args)


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def one_thread():
    # Same numbers need the same float reductions: one torch thread and one BLAS thread
    # here, as in each task (Ray sets OMP_NUM_THREADS to a task's CPUs). FID's float64
    # covariance and matrix square root run in numpy's BLAS, whose sums change in the
    # 11th digit with its thread count (seen on CI, where OMP_NUM_THREADS is unset).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(threads)


def values(results, gan=None) -> dict:
    rows = ResultsStore(results).rows("ray-tiny")
    return {(r["seed"], r["key"], r["classifier"]): r["value"] for r in rows if r["status"] == "ok" and (gan is None or r["gan"] == gan)}


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, one_thread):
    results = tmp_path_factory.mktemp("local")
    outcome = invoke("run", "--suite", "ray-tiny", "--results", str(results), "--device", "cpu", "--no-leaderboard")
    assert outcome.exit_code == 0, outcome.output
    return results


def test_ray_gives_the_numbers_of_local(local_run, tmp_path, one_thread):
    outcome = invoke("run", "--suite", "ray-tiny", "--results", str(tmp_path), "--device", "cpu", "--executor", "ray", "--cpus-per-cell", "1")
    assert outcome.exit_code == 0, outcome.output
    assert "ray: 2 cells at once" in outcome.output
    expected, got = values(local_run), values(tmp_path)
    assert len(expected) >= 2 * 5 and got == expected
    executors = {json.loads(r["config_json"])["executor"] for r in ResultsStore(tmp_path).rows()}
    assert all(e.startswith("ray on ") for e in executors), executors
    # The driver resumes as the local executor does: a re-run skips both cells.
    again = invoke("run", "--suite", "ray-tiny", "--results", str(tmp_path), "--device", "cpu", "--executor", "ray")
    assert re.findall(r"skipped \S+/seed-", again.output) and len(ResultsStore(tmp_path).rows()) == len(ResultsStore(local_run).rows())


def test_cells_waiting_for_a_free_slot_count_as_queued(tmp_path):
    # Two CPUs, two per cell: one cell at a time; the other waits in Ray's queue and
    # is shown as queued, not running, until a worker takes it up. 100 steps, not the
    # suite's 6: the driver polls every 0.5 s, and a cell that ends before the poll
    # sees it start is never shown running (a 6-step cell took under a second).
    outcome = invoke("run", "--suite", "ray-tiny", "--results", str(tmp_path), "--device", "cpu", "--executor", "ray",
                     "--cpus-per-cell", "2", "--no-leaderboard", "--gan-setting", "steps=100")
    assert outcome.exit_code == 0, outcome.output
    assert "ray: 1 cells at once" in outcome.said
    assert "cells 0/2 done, 1 running, 0 failed, 1 queued" in outcome.said and "2 running" not in outcome.said
    assert "cells 1/2 done, 1 running, 0 failed, 0 queued" in outcome.said


def test_a_killed_worker_is_retried_and_resumes_from_its_checkpoint(local_run, tmp_path, one_thread):
    marker = tmp_path / "killed"
    outcome = invoke(
        "run", "--suite", "ray-tiny", "--gans", "killed-once-gan", "--seeds", "1", "--results", str(tmp_path / "results"),
        "--device", "cpu", "--executor", "ray", "--checkpoint-every", "2", "--no-leaderboard", marker=str(marker),
    )
    assert outcome.exit_code == 0, outcome.output
    assert marker.is_file()  # the worker really was killed
    assert "resuming from step 2 of 6" in outcome.output
    rows = ResultsStore(tmp_path / "results").rows()
    assert len({r["run_id"] for r in rows}) == 1 and {r["status"] for r in rows} == {"ok"}
    # Killed at step 3, resumed from step 2: the numbers of dcgan trained without a stop.
    dcgan = {k: v for k, v in values(local_run, "dcgan").items() if k[0] == 0}
    assert values(tmp_path / "results", "killed-once-gan") == dcgan


def test_a_killed_worker_with_no_retries_left_is_one_failed_cell(tmp_path, one_thread):
    outcome = invoke(
        "run", "--suite", "ray-tiny", "--gans", "killed-once-gan", "--seeds", "1", "--results", str(tmp_path / "results"),
        "--device", "cpu", "--executor", "ray", "--ray-retries", "0", "--no-leaderboard", marker=str(tmp_path / "killed"),
    )
    assert outcome.exit_code == 1
    rows = ResultsStore(tmp_path / "results").rows()
    assert len(rows) == 1 and rows[0]["status"] == "failed" and "Ray task failed" in rows[0]["error"]


def test_more_gpus_per_cell_than_the_cluster_has_is_refused(tmp_path):
    loads = RayPhantom.loads
    outcome = invoke("run", "--suite", "ray-tiny", "--results", str(tmp_path), "--executor", "ray", "--gpus-per-cell", "1")
    assert outcome.exit_code == 2 and "the Ray cluster has 0 GPUs" in outcome.output
    assert RayPhantom.loads == loads  # refused before any data was loaded
