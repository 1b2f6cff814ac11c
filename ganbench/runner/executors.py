"""Executors: who runs a suite's cells. ``local`` runs them one after another in this
process (the default); ``ray`` runs each as a Ray task (:mod:`.ray_executor`).

Whatever the executor, the rules are the runner's: a cell is claimed before anything
else (:mod:`ganbench.results.claims`), a finished cell with the same config hash is
skipped, artifacts without rows are set aside, and this process, the driver, is the
only writer of the results store: a cell's rows are appended in one transaction when
it ends. The live view (:class:`.matrix_status.MatrixStatus`) is the same for both.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Callable, Optional, Protocol, Sequence

from ..results.claims import Claim, holder, try_claim, wait_for_claim
from ..results.folder import set_aside_abandoned
from ..results.provenance import config_hash
from ..results.store import ResultRow, ResultsStore
from ..specs import LoadedData, Progress
from .cell import CellContext, cell_config, run_cell
from .matrix import Cell
from .matrix_status import DONE, FAILED, SKIPPED, MatrixStatus

EXECUTORS = ("local", "ray")


@dataclass
class PlannedCell:
    """A cell with the data it runs on (loaded once per dataset, size and class task)."""

    cell: Cell
    data: LoadedData


@dataclass
class CellOutcome:
    cell: Cell
    status: str  # ran | skipped | failed
    run_id: str
    error: Optional[str] = None


class Executor(Protocol):
    #: How many cells run at once (for the estimate of the time left).
    parallel: int

    def execute(
        self,
        planned: Sequence[PlannedCell],
        ctx: CellContext,
        store: ResultsStore,
        force: bool,
        status: MatrixStatus,
        finished: Callable[[CellOutcome], None],
    ) -> None:
        """Run or skip every planned cell; call ``finished`` once for each, in the
        order they end."""


class StageProgress(Progress):
    """The run's progress, also telling the matrix status which stage a cell is in."""

    def __init__(self, inner: Progress, status: MatrixStatus, key: str):
        self.inner, self.status, self.key = inner, status, key

    def track(self, iterable, total=None, description=""):
        self.status.stage(self.key, description)
        return self.inner.track(iterable, total=total, description=description)

    def counter(self, total, description):
        self.status.stage(self.key, description)
        return self.inner.counter(total, description)

    def log(self, message: str) -> None:
        self.inner.log(message)

    def note(self, message: str) -> None:
        self.inner.note(message)


def outcome_of(cell: Cell, rows: Sequence[ResultRow]) -> CellOutcome:
    failed = [r for r in rows if r.status == "failed"]
    return CellOutcome(
        cell,
        "failed" if failed else "ran",
        rows[0].run_id,
        "; ".join(sorted({f"{r.metric or 'cell'}: {r.error}" for r in failed})) or None,
    )


def prepare_claimed(planned: PlannedCell, ctx: CellContext, store: ResultsStore, force: bool, abandoned: list) -> Optional[str]:
    """Only while holding the cell's claim: set aside artifact folders of executions
    stopped before their rows were stored; the run id of an earlier execution with this
    config in which nothing failed (the cell is skipped), else None."""
    cell = planned.cell
    for folder in set_aside_abandoned(ctx.results_dir, cell.key, store.run_ids(cell.key)):
        ctx.progress.log(f"{cell.key}: run {folder.name} was stopped before its rows were stored; its artifacts are now in {folder}")
        abandoned.append(folder)
    previous = store.finished_run(cell.suite, cell.key, config_hash(cell_config(cell, planned.data, ctx)))
    return None if force else previous


class LocalExecutor:
    """One cell after another, in this process, on ``ctx.device``."""

    parallel = 1

    def __init__(self) -> None:
        self.abandoned: list = []

    def start(self) -> None:
        """Nothing to set up: the cells run in this process."""

    def stop(self) -> None:
        """Nothing to tear down."""

    def execute(self, planned, ctx, store, force, status, finished) -> None:
        # A cell another run is running now is put off to the end; then this run waits
        # for that run's claim and skips the cell if it finished there (runs it if not).
        deferred: list[PlannedCell] = []
        for item in planned:
            claim = try_claim(ctx.results_dir, item.cell.key)
            if claim is None:
                ctx.progress.log(f"{item.cell.key}: {holder(ctx.results_dir, item.cell.key)} is running it; coming back to it after the other cells")
                deferred.append(item)
                continue
            with claim:
                finished(self._run_claimed(item, ctx, store, force, status))
        for item in deferred:
            with wait_for_claim(ctx.results_dir, item.cell.key, ctx.progress.log):
                finished(self._run_claimed(item, ctx, store, force, status))

    def _run_claimed(self, item: PlannedCell, ctx, store, force, status) -> CellOutcome:
        key = item.cell.key
        previous = prepare_claimed(item, ctx, store, force, self.abandoned)
        if previous:
            status.finish(key, SKIPPED)
            return CellOutcome(item.cell, "skipped", previous)
        status.start(key)
        rows = run_cell(item.cell, item.data, replace(ctx, progress=StageProgress(ctx.progress, status, key)))
        store.append(rows)  # one transaction; on failure the rows go to recovered-<run id>.jsonl
        outcome = outcome_of(item.cell, rows)
        status.finish(key, FAILED if outcome.status == "failed" else DONE)
        return outcome


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


__all__ = ["EXECUTORS", "CellOutcome", "Claim", "Executor", "LocalExecutor", "PlannedCell", "StageProgress", "new_run_id"]
