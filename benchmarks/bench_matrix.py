"""How much faster does a suite's matrix run on Ray with two workers than cell by cell?

The same matrix, ``--cells`` cells (dcgan and lsgan x ``--cells / 2`` seeds, on the
embedded brain phantom at ``--size`` px, ``--steps`` training steps, metrics psnr and
fid), runs in one process through ``ganbench.runner.suite_run.run_suite``. The defaults
make a cell take about half a minute on one thread: 60 steps of dcgan or lsgan at
32 px, batch 64 (about 0.27 s a step), then the Inception features of 32 generated
images (about 0.5 s an image); the real images' features come from the cache. The two
runs:

1. local: ``LocalExecutor``, one cell after another in this process;
2. ray: ``RayExecutor(cpus_per_cell=1)`` on a local Ray instance started here with
   ``ray.init(num_cpus=2)``: two cells at once, each a Ray task.

Each cell computes with one torch thread on both sides: ``torch.set_num_threads(1)``
here for the local run, and each Ray task sets its own to ``cpus_per_cell`` = 1. On a
2-core machine that is the fair comparison: the local run leaves one core idle, the
Ray run gives each of its two cells one core. Each side writes to its own temporary
results folder, so nothing is skipped or reused between them. The suite is registered
in this process (its phantom subclass travels to the workers by value, as in
``tests/test_ray_executor.py``). An untimed warm-up cell (2 steps, its own folder) first
renders the phantom, loads the Inception weights and caches the real images' Inception
features, so no timed run pays those one-off costs for the others.

Reported:

* wall seconds of each matrix run, from ``run_suite`` called to returned. The Ray wall
  does not include starting the local Ray instance (``ray.init``), which is printed on
  its own line (on a cluster it is a connection, not a start);
* speed-up = local wall / ray wall (the goal is >= 1.6 on a 2-core machine; 2.0 would
  be perfect); and the same counting ``ray.init`` in the Ray wall;
* Ray's overhead per cell: a 1-cell matrix (dcgan, seed 0) runs locally and then on a
  freshly started Ray instance (again ``ray.init`` not counted), each in a new results
  folder; overhead = Ray wall - local wall. It is everything a cell pays on Ray and
  not locally: scheduling the task, starting the worker's Python and importing torch
  and ganbench there, loading the Inception weights in that process, shipping the data
  and the registry through the object store, the driver polling every
  ``ray_executor.POLL_S`` seconds and returning the rows. In the 4-cell run a worker
  that runs a second cell has paid its start already, so this is an upper bound of
  the per-cell cost there. It is split with the cell's own wall time, which its rows
  record (``cell_wall_time_s``, from the start to the end of ``run_cell`` in the process
  that ran it): the part outside it (scheduling, worker start and imports, transfers,
  polling) and the part inside it (the cell itself slower in a fresh worker: loading
  the Inception weights there, sharing the cores with Ray's own processes).

The load average before and after is printed too: on a machine busy with other work the
figures say little (the Ray run's cells compete with it for the two cores).

Run: ``python benchmarks/bench_matrix.py [--steps 60] [--size 32] [--cells 4]`` (a few
minutes at the defaults; the exit status is 0 when the goal is met, 1 when not, 2 when
Ray is not installed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import types
from pathlib import Path

import torch

GOAL = 1.6
SUITE = "bench-matrix"
WARM_UP = "bench-matrix-warm-up"
DATASET = "bench-phantom"
GANS = ("dcgan", "lsgan")


def plugin_module(args) -> types.ModuleType:
    """The benchmark's suite and its phantom, as a plugin module registered in-process."""
    from ganbench import hookimpl
    from ganbench.specs import ProfileSettings, Suite
    from ganbench_plugins.datasets.brain_phantom import BrainPhantom

    class BenchPhantom(BrainPhantom):
        name = DATASET

    def suite(name: str, steps: int) -> Suite:
        return Suite(
            name=name,
            description="bench_matrix.py: the local and ray executors on the same matrix",
            gans=GANS,
            datasets=(DATASET,),
            metrics=("psnr", "fid"),
            classifiers=("small-cnn",),  # unused: no downstream metric
            # One model per GAN on every class: --steps is the cell's whole training.
            unconditional_per_class=False,
            profiles={
                "smoke": ProfileSettings(
                    image_size=args.size, seeds=args.cells // len(GANS), n_fake=args.n_fake, n_real=args.n_real,
                    gan_overrides={"steps": steps, "batch_size": 64},
                )
            },
        )

    module = types.ModuleType("bench_matrix_plugin")

    @hookimpl
    def register_suites(register):
        register(suite(SUITE, args.steps))
        register(suite(WARM_UP, 2))  # the same data and metrics, next to no training

    @hookimpl
    def register_datasets(register):
        register(BenchPhantom(train_per_class=100, test_per_class=50))

    module.register_suites, module.register_datasets = register_suites, register_datasets
    return module


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60, help="training steps per cell")
    parser.add_argument("--size", type=int, default=32, help="image size in pixels")
    parser.add_argument("--cells", type=int, default=4, help="cells in the matrix (even: 2 GANs x cells/2 seeds)")
    parser.add_argument("--n-fake", type=int, default=32, help="generated images per cell")
    parser.add_argument("--n-real", type=int, default=200, help="real reference images")
    args = parser.parse_args(argv)
    if args.cells < 2 or args.cells % len(GANS):
        parser.error(f"--cells must be a positive multiple of {len(GANS)} ({' and '.join(GANS)} x seeds)")

    try:
        import ray
    except ImportError:
        print('bench_matrix: Ray is not installed; it needs the ray extra: pip install "ganbench[ray]" (or pip install ray)',
              file=sys.stderr)
        return 2
    # Classes defined here must travel to the workers by value (as __main__ they do anyway).
    if __name__ != "__main__":
        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

    from ganbench.plugins import load_plugins
    from ganbench.results.store import ResultsStore
    from ganbench.runner.executors import LocalExecutor
    from ganbench.runner.ray_executor import RayExecutor
    from ganbench.runner.suite_run import RunRequest, run_suite
    from ganbench.specs import SilentProgress

    torch.set_num_threads(1)
    registry = load_plugins(extra_modules=[("bench-matrix", plugin_module(args))]).registry

    def run(executor, results: str, suite: str = SUITE, gans=None, seeds=None) -> float:
        request = RunRequest(suite=suite, gans=gans, seeds=seeds, device="cpu", results_dir=Path(results), executor=executor)
        started = time.perf_counter()
        summary = run_suite(registry, request, SilentProgress())
        seconds = time.perf_counter() - started
        failed = [o for o in summary.outcomes if o.status != "ran"]
        if failed:
            raise SystemExit(f"bench_matrix: cells did not run: {[(o.cell.key, o.status, o.error) for o in failed]}")
        return seconds

    def start_ray() -> float:
        started = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        return time.perf_counter() - started

    def cell_seconds(results: str) -> dict[str, list[float]]:
        """Per cell, from its rows: its own wall time, training, and metrics (all measured in
        the process that ran it, so without Ray's scheduling and transfers)."""
        cells: dict[str, dict[str, float]] = {}
        metrics: dict[tuple, float] = {}  # a metric's rows (one per result key) share its time
        for row in ResultsStore(Path(results)).rows(SUITE):
            cells[row["run_id"]] = {"cell": row["cell_wall_time_s"], "train": row["train_wall_time_s"]}
            metrics[row["run_id"], row["metric"], row["classifier"]] = row["metric_wall_time_s"] or 0.0
        for (run, _, _), seconds in metrics.items():
            cells[run]["metrics"] = cells[run].get("metrics", 0.0) + seconds
        return {part: [cells[run][part] for run in sorted(cells)] for part in ("cell", "train", "metrics")}

    def describe(parts: dict[str, list[float]]) -> str:
        return "   ".join(f"{part} {', '.join(f'{s:.1f}' for s in values)}" for part, values in parts.items())

    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-matrix-") as root:
        folders = {name: os.path.join(root, name) for name in ("warm-up", "local-1", "local", "ray", "ray-1")}
        # Untimed warm-up: the phantom, the Inception weights, the real images' cached features.
        run(LocalExecutor(), folders["warm-up"], suite=WARM_UP, gans=["dcgan"], seeds=1)
        local_1 = run(LocalExecutor(), folders["local-1"], gans=["dcgan"], seeds=1)
        local = run(LocalExecutor(), folders["local"])
        ray_start = start_ray()
        try:
            ray_wall = run(RayExecutor(cpus_per_cell=1), folders["ray"])
        finally:
            ray.shutdown()
        ray_start_1 = start_ray()
        try:
            ray_1 = run(RayExecutor(cpus_per_cell=1), folders["ray-1"], gans=["dcgan"], seeds=1)
        finally:
            ray.shutdown()
        local_cells, ray_cells = cell_seconds(folders["local"]), cell_seconds(folders["ray"])
        local_1_cell, ray_1_cell = cell_seconds(folders["local-1"])["cell"][0], cell_seconds(folders["ray-1"])["cell"][0]
    load_after = os.getloadavg()

    speedup = local / ray_wall
    print(f"matrix: {args.cells} cells ({', '.join(GANS)} x {args.cells // len(GANS)} seeds), {args.size} px, "
          f"{args.steps} steps, psnr + fid, n_fake {args.n_fake}, n_real {args.n_real}; one torch thread per cell; "
          f"{os.cpu_count()} CPUs")
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}   after: "
          f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    print(f"local (1 cell at a time): {local:7.1f} s")
    print(f"ray   (2 cells at once) : {ray_wall:7.1f} s")
    print(f"seconds per cell, local: {describe(local_cells)}")
    print(f"seconds per cell, ray  : {describe(ray_cells)}")
    print(f"ray.init (not in the ray wall): {ray_start:.1f} s")
    print(f"speed-up local / ray: {speedup:.2f}   (goal >= {GOAL}); counting ray.init: {local / (ray_wall + ray_start):.2f}")
    print(f"1-cell matrix: local {local_1:.1f} s, ray {ray_1:.1f} s (ray.init {ray_start_1:.1f} s not counted)")
    print(f"ray overhead per cell (1-cell ray wall - 1-cell local wall): {ray_1 - local_1:.1f} s")
    outside = (ray_1 - ray_1_cell) - (local_1 - local_1_cell)
    print(f"  of which outside the cell's own wall time (scheduling, worker start and imports, transfers, polling): "
          f"{outside:.1f} s; inside it (the cell itself slower in the worker): {ray_1_cell - local_1_cell:.1f} s")
    return 0 if speedup >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
