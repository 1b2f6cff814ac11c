"""Executor choices that need no Ray cluster: a clear message when the ray extra is
missing, Ray's options refused without ``--executor ray``, and a worker that cannot see
the driver's results folder (no shared storage) failing with a message that says so."""

from __future__ import annotations

import sys

import pytest

from ganbench.cli import make_executor
from ganbench.errors import GanbenchError
from ganbench.runner.executors import LocalExecutor
from ganbench.runner.matrix import Cell
from ganbench.runner.ray_executor import RemoteCell, default_gpus_per_cell, import_ray, run_remote_cell


def test_a_missing_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: import raises ImportError
    with pytest.raises(GanbenchError, match=r'pip install "ganbench\[ray\]"'):
        import_ray()
    with pytest.raises(GanbenchError, match="ganbench\\[ray\\]"):
        make_executor("ray", None, None, 1, 1)


def test_ray_options_are_refused_with_the_local_executor():
    assert isinstance(make_executor("local", None, None, 1, 1), LocalExecutor)
    with pytest.raises(GanbenchError, match="--ray-address, --gpus-per-cell: only with --executor ray"):
        make_executor("local", "auto", 1.0, 1, 1)


def test_a_worker_without_the_drivers_results_folder_says_it_needs_shared_storage(tmp_path):
    job = RemoteCell(Cell("s", "d", "g", 0, "smoke"), "run", ".ray-driver-x", "cpu", 1)
    with pytest.raises(GanbenchError, match="shared storage"):
        run_remote_cell(job, None, None, {"results_dir": str(tmp_path / "elsewhere")}, None)


def test_the_clusters_gpus_decide_the_default_gpus_per_cell():
    # The driver may run on a CPU-only head node: what the cluster has decides.
    assert default_gpus_per_cell("auto", cluster_gpus=8) == 1.0
    assert default_gpus_per_cell("cuda:1", cluster_gpus=1) == 1.0
    assert default_gpus_per_cell("auto", cluster_gpus=0) == 0.0
    assert default_gpus_per_cell("cpu", cluster_gpus=8) == 0.0
