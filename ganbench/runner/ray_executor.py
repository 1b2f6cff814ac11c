"""The ``ray`` executor: each cell is a Ray task with declared resources.

``ganbench run --executor ray`` starts a local Ray instance over this machine's GPUs and
CPUs, or joins a running cluster with ``--ray-address``. Each cell asks for
``--gpus-per-cell`` GPUs (default 1 when the Ray cluster has GPUs and ``--device`` is
not ``cpu``, else 0; fractions share a GPU) and ``--cpus-per-cell`` CPUs (default 1; the task's torch uses that many threads).

What stays with the driver (this process): the claims on the cells, the decision to skip
a finished cell, and the results store. Tasks return their rows; the driver appends
them as each task ends. Workers write artifacts, checkpoints and samples under the
results folder, which on several machines must be shared storage mounted at the same
path: a worker that cannot see the folder fails its cell with a message saying so.

A worker killed mid-cell (``kill -9``, a lost node) is retried by Ray up to
``--ray-retries`` times with the same run id; the retry resumes from the cell's last
training checkpoint. When the retries are spent the cell is recorded as failed. Either
way the cell has one set of rows: tasks never write the store themselves.

Ray is an optional dependency: ``pip install "ganbench[ray]"``.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

from ..devices import describe_device, resolve_device
from ..errors import GanbenchError
from ..progress import LoopLines, logged_loop
from ..results.claims import holder, try_claim, wait_for_claim
from ..results.store import ResultRow
from ..specs import Progress
from .cell import CellContext, cell_config, row_base, run_cell
from .executors import CellOutcome, PlannedCell, outcome_of, prepare_claimed
from .matrix_status import DONE, FAILED, QUEUED, RUNNING, SKIPPED

#: The file a driver leaves in the results folder while its tasks run; a worker that does
#: not see it is not looking at the driver's folder (no shared storage).
MARKER = ".ray-driver-{token}"
#: Seconds between two polls of the tasks and of the workers' stages.
POLL_S = 0.5


def import_ray():
    try:
        import ray
    except ImportError:
        raise GanbenchError(
            '--executor ray needs Ray, an optional dependency: pip install "ganbench[ray]" (or pip install ray)'
        ) from None
    return ray


@dataclass
class RemoteCell:
    """What a task needs to run one cell; the registry and data travel by reference."""

    cell: Any
    run_id: str
    marker: str
    device: str
    threads: int


class StageBoard:
    """A Ray actor the workers tell their stage and log lines to; the driver drains it."""

    def __init__(self) -> None:
        self.stages: dict[str, tuple[str, str]] = {}
        #: (line, whether it is a note: for a log only, see Progress.note)
        self.lines: list[tuple[str, bool]] = []

    def stage(self, key: str, stage: str, where: str) -> None:
        self.stages[key] = (stage, where)

    def log(self, line: str, note: bool = False) -> None:
        self.lines.append((line, note))

    def drain(self) -> tuple[dict, list[tuple[str, bool]]]:
        lines, self.lines = self.lines, []
        return dict(self.stages), lines


class BoardProgress(Progress):
    """A worker's progress: stage changes and log lines go to the driver's board (and
    each stage's start and end is a line, as in a log file)."""

    def __init__(self, board, key: str, where: str):
        self.board, self.key, self.where = board, key, where

    def track(self, iterable, total=None, description=""):
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.board.stage.remote(self.key, description, self.where)
        reported = time.perf_counter()
        # A driver writing to a log gets the loop's start, every 10% of it and its end, as
        # for a local cell (at a terminal the live view shows the stage instead).
        for done, item in enumerate(logged_loop(iterable, total, description, self.note), start=1):
            yield item
            now = time.perf_counter()
            if total and now - reported > 2.0:  # a stage's progress, without flooding the actor
                self.board.stage.remote(self.key, f"{description} {done}/{total}", self.where)
                reported = now

    def counter(self, total, description):
        self.board.stage.remote(self.key, description, self.where)
        return LoopLines(total, description, self.note).count  # as track's: start, every 10%, end

    def log(self, message: str) -> None:
        self.board.log.remote(f"[{self.where}] {message}")

    def note(self, message: str) -> None:
        # Whether it is shown is the driver's to decide: only its console knows if it is a terminal.
        self.board.log.remote(f"[{self.where}] {message}", True)


def run_remote_cell(job: RemoteCell, registry, data, ctx_fields: dict, board) -> list[ResultRow]:
    """The body of a cell's Ray task, in a worker process."""
    import torch

    torch.set_num_threads(max(1, job.threads))
    where = f"{socket.gethostname()} pid {os.getpid()}"
    results_dir = Path(ctx_fields["results_dir"])
    if not (results_dir / job.marker).is_file():
        raise GanbenchError(
            f"worker {where} cannot see the results folder {results_dir} of the driver: with workers on several "
            "machines it must be on shared storage (NFS, a cluster file system) mounted at the same path everywhere"
        )
    board.stage.remote(job.cell.key, "starting", where)  # the driver shows the cell as running from here
    device = resolve_device(job.device)
    ctx = CellContext(
        registry=registry, device=device, device_label=describe_device(device),
        progress=BoardProgress(board, job.cell.key, where), executor=f"ray on {where}",
        **{**ctx_fields, "results_dir": results_dir},
    )
    return run_cell(job.cell, data, ctx, run_id=job.run_id)


def default_gpus_per_cell(device: str, cluster_gpus: float) -> float:
    """``--gpus-per-cell`` when not given: 1 when the Ray cluster has GPUs and ``--device``
    is not ``cpu``, else 0."""
    return 1.0 if device != "cpu" and cluster_gpus > 0 else 0.0


class RayExecutor:
    """Cells as Ray tasks. ``address``: a running cluster's (None: start a local
    instance). ``gpus_per_cell``: None means :func:`default_gpus_per_cell`.
    ``retries``: how often a task whose worker died is run again. ``device``: the
    ``--device`` given (``cpu`` keeps every cell on CPUs; anything else lets cells use the
    GPUs Ray gives them)."""

    def __init__(
        self,
        address: Optional[str] = None,
        gpus_per_cell: Optional[float] = None,
        cpus_per_cell: float = 1,
        retries: int = 1,
        num_cpus: Optional[int] = None,
        device: str = "auto",
    ):
        self.address, self.cpus_per_cell, self.retries, self.num_cpus = address, cpus_per_cell, retries, num_cpus
        self.device = device
        self.gpus_per_cell = gpus_per_cell
        self.abandoned: list = []
        self.parallel = 1
        self._ray = None
        self._started_here = False

    # ------------------------------------------------------------------ cluster

    def start(self) -> None:
        """Start or join Ray and check that a cell's resources fit the cluster (raises
        :class:`GanbenchError` if not); sets :attr:`parallel`. Called again, does nothing."""
        if self._ray is not None:
            return
        ray = import_ray()
        if self.cpus_per_cell <= 0 or (self.gpus_per_cell is not None and self.gpus_per_cell < 0):
            raise GanbenchError("--cpus-per-cell must be above 0 and --gpus-per-cell at least 0")
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
            if self.address:
                options["address"] = self.address
            elif self.num_cpus is not None:
                options["num_cpus"] = self.num_cpus
            try:
                ray.init(**options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"the Ray cluster at {self.address}" if self.address else "a local Ray instance"
                raise GanbenchError(f"--executor ray: could not start or join {where}: {exc}") from None
            self._started_here = True
        try:
            resources = ray.cluster_resources()
            cpus, gpus = resources.get("CPU", 0), resources.get("GPU", 0)
            if self.gpus_per_cell is None:
                self.gpus_per_cell = default_gpus_per_cell(self.device, gpus)
            if self.gpus_per_cell > gpus:
                raise GanbenchError(
                    f"--gpus-per-cell {self.gpus_per_cell:g}: the Ray cluster has {gpus:g} GPUs; "
                    "use --gpus-per-cell 0 to run on CPUs (or --device cpu)"
                )
            if self.cpus_per_cell > cpus:
                raise GanbenchError(f"--cpus-per-cell {self.cpus_per_cell:g}: the Ray cluster has {cpus:g} CPUs")
            by_cpu = int(cpus // self.cpus_per_cell)
            by_gpu = int(gpus // self.gpus_per_cell) if self.gpus_per_cell else by_cpu
            self.parallel = max(1, min(by_cpu, by_gpu))
        except GanbenchError:
            if self._started_here:
                ray.shutdown()
                self._started_here = False
            raise
        self._ray = ray

    def stop(self) -> None:
        if self._started_here and self._ray is not None:
            self._ray.shutdown()
        self._started_here = False
        self._ray = None

    # ------------------------------------------------------------------ cells

    def execute(self, planned, ctx: CellContext, store, force, status, finished) -> None:
        self.start()
        status.parallel = self.parallel
        # In a task, Ray makes its GPUs cuda:0..; a cell that asked for none runs on the CPU.
        # The cluster's GPUs decide, not the driver's: the driver may run on a CPU-only head node.
        device_spec = "auto" if self.gpus_per_cell and self.device != "cpu" else "cpu"
        ray = self._ray
        results_dir = ctx.results_dir.resolve()
        token = uuid.uuid4().hex[:12]
        marker = results_dir / MARKER.format(token=token)
        marker.write_text(f"{socket.gethostname()} pid {os.getpid()}\n")
        ctx = replace(ctx, results_dir=results_dir)
        ctx.progress.log(
            f"ray: {self.parallel} cells at once ({self.cpus_per_cell:g} CPU and {self.gpus_per_cell:g} GPU per cell; "
            f"cluster {ray.cluster_resources().get('CPU', 0):g} CPUs, {ray.cluster_resources().get('GPU', 0):g} GPUs)"
        )
        board = ray.remote(StageBoard).options(num_cpus=0).remote()
        task = ray.remote(run_remote_cell).options(
            num_cpus=self.cpus_per_cell, num_gpus=self.gpus_per_cell, max_retries=self.retries, retry_exceptions=False
        )
        registry_ref = ray.put(ctx.registry)
        data_refs: dict[int, Any] = {}
        ctx_fields = {
            "suite": ctx.suite, "settings": ctx.settings, "metrics": ctx.metrics, "classifiers": ctx.classifiers,
            "results_dir": str(results_dir), "packages": ctx.packages, "checkpoint_every": ctx.checkpoint_every,
            "reuse": ctx.reuse, "invocation": ctx.invocation,
        }
        pending: dict[Any, tuple[PlannedCell, str, Any]] = {}

        def submit(item: PlannedCell, claim) -> None:
            previous = prepare_claimed(item, ctx, store, force, self.abandoned)
            if previous:
                claim.release()
                status.finish(item.cell.key, SKIPPED)
                finished(CellOutcome(item.cell, "skipped", previous))
                return
            if id(item.data) not in data_refs:
                data_refs[id(item.data)] = ray.put(item.data)
            job = RemoteCell(item.cell, uuid.uuid4().hex[:12], marker.name, device_spec, max(1, int(self.cpus_per_cell)))
            ref = task.remote(job, registry_ref, data_refs[id(item.data)], ctx_fields, board)
            pending[ref] = (item, job.run_id, claim)
            # The cell stays queued until a worker takes it up and reports its first stage.

        def collect(timeout: float) -> None:
            # The stages first: a cell that reported its start did so after the cell whose
            # slot it took had returned, so the wait below sees that one as ready.
            stages, lines = ray.get(board.drain.remote())
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=timeout) if pending else ([], [])
            if ready:
                # What a finished cell said while we waited goes before its "done" line
                # (its stages are taken at the next poll, as the comment above wants).
                lines += ray.get(board.drain.remote())[1]
            for line, note in lines:
                (ctx.progress.note if note else ctx.progress.log)(line)
            for ref in ready:
                item, run_id, claim = pending.pop(ref)
                try:
                    rows = ray.get(ref)
                except Exception as exc:  # the task itself failed: worker died past its retries, or a setup error
                    rows = [self._failed_row(item, ctx, run_id, exc)]
                try:
                    store.append(rows)
                finally:
                    claim.release()
                outcome = outcome_of(item.cell, rows)
                status.finish(item.cell.key, FAILED if outcome.status == "failed" else DONE)
                finished(outcome)
            # After the finished ones, so the next cell never shows as running beside the
            # one whose slot it took.
            for key, (stage, where) in stages.items():
                cell = status.cells.get(key)
                if cell is not None and cell.state == QUEUED and any(p[0].cell.key == key for p in pending.values()):
                    status.start(key, where)
                    cell = status.cells[key]
                if cell is not None and cell.state == RUNNING:
                    cell.where = where
                    status.stage(key, stage)

        deferred: list[PlannedCell] = []
        try:
            for item in planned:
                claim = try_claim(results_dir, item.cell.key)
                if claim is None:
                    ctx.progress.log(f"{item.cell.key}: {holder(results_dir, item.cell.key)} is running it; coming back to it after the other cells")
                    deferred.append(item)
                    continue
                submit(item, claim)
            while pending:
                collect(POLL_S)
            for item in deferred:
                submit(item, wait_for_claim(results_dir, item.cell.key, ctx.progress.log))
                while pending:
                    collect(POLL_S)
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            for _, _, claim in pending.values():
                claim.release()
            marker.unlink(missing_ok=True)
            self.stop()

    @staticmethod
    def _failed_row(item: PlannedCell, ctx: CellContext, run_id: str, exc: BaseException) -> ResultRow:
        cell = item.cell
        artifacts = ctx.results_dir / "artifacts" / cell.key / run_id
        base = row_base(cell, item.data, ctx, cell_config(cell, item.data, ctx), run_id, artifacts)
        cause = getattr(exc, "cause", None) or exc
        message = f"{type(cause).__name__}: {cause}".splitlines()[0][:500]
        return ResultRow(**base, status="failed", error=f"Ray task failed: {message}")
