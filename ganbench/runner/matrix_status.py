"""The live state of a suite's matrix, the same for every executor: how many cells are
done, running, failed, skipped and queued, what stage each running cell is in, and an
estimate of the time left.

The estimate: the mean wall time of the cells that ran to the end in this run, times
the cells still to run (queued, and running ones counted as half done), divided by how
many run at once. Skipped cells cost nothing and are not counted; before the first cell
ends there is no estimate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional

QUEUED, RUNNING, DONE, FAILED, SKIPPED = "queued", "running", "done", "failed", "skipped"


@dataclass
class CellState:
    state: str = QUEUED
    stage: str = ""
    started: Optional[float] = None
    where: str = ""


@dataclass
class MatrixStatus:
    """``parallel``: how many cells run at once (1 for the local executor).
    ``on_change``: called after every change (the progress display redraws)."""

    keys: list[str]
    parallel: int = 1
    on_change: Callable[["MatrixStatus"], None] = lambda status: None
    clock: Callable[[], float] = time.monotonic
    cells: dict[str, CellState] = field(default_factory=dict)
    durations: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cells = {key: CellState() for key in self.keys}

    def start(self, key: str, where: str = "") -> None:
        self.cells[key] = CellState(RUNNING, "starting", self.clock(), where)
        self.on_change(self)

    def stage(self, key: str, stage: str) -> None:
        cell = self.cells[key]
        if cell.state == RUNNING and cell.stage != stage:
            cell.stage = stage
            self.on_change(self)

    def finish(self, key: str, state: str) -> None:
        """``state``: done, failed or skipped."""
        cell = self.cells[key]
        if state in (DONE, FAILED) and cell.started is not None:
            self.durations.append(self.clock() - cell.started)
        self.cells[key] = CellState(state)
        self.on_change(self)

    def count(self, state: str) -> int:
        return sum(cell.state == state for cell in self.cells.values())

    def running(self) -> dict[str, CellState]:
        return {key: cell for key, cell in self.cells.items() if cell.state == RUNNING}

    def eta_seconds(self) -> Optional[float]:
        if not self.durations:
            return None
        mean = sum(self.durations) / len(self.durations)
        left = self.count(QUEUED) + 0.5 * self.count(RUNNING)
        return mean * left / max(1, self.parallel)

    def summary(self) -> str:
        """One line: ``cells 3/12 done, 2 running, 1 failed, 6 queued; ETA 14 min``."""
        finished = self.count(DONE) + self.count(SKIPPED)
        parts = [f"cells {finished}/{len(self.cells)} done", f"{self.count(RUNNING)} running", f"{self.count(FAILED)} failed"]
        parts.append(f"{self.count(QUEUED)} queued")
        eta = self.eta_seconds()
        if self.count(QUEUED) + self.count(RUNNING) == 0:
            when = "finished"
        elif eta is None:
            when = "ETA after the first cell"
        else:
            when = f"ETA {format_duration(eta)}"
        return ", ".join(parts) + f"; {when}"


def format_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds // 3600} h {round(seconds % 3600 / 60):02d} min"
