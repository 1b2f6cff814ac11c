"""Rich progress bars behind the :class:`ganbench.specs.Progress` interface, so that
plugins report progress without depending on rich."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress as RichBars,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .specs import Progress


class RichProgress(Progress):
    def __init__(self, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.bars = RichBars(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._matrix_task = None
        self._cell_tasks: dict[str, int] = {}
        self._last_summary = ""

    def show_matrix(self, status) -> None:
        """The matrix's live view (:class:`ganbench.runner.matrix_status.MatrixStatus`):
        one bar of finished cells with the counts and the time left, and a line per
        running cell with its current stage (and, under Ray, where it runs). In a log
        file or a pipe: the counts line each time a cell starts or ends."""
        summary = status.summary()
        finished = len(status.cells) - status.count("queued") - status.count("running")
        if self._matrix_task is None:
            self._matrix_task = self.bars.add_task(summary, total=len(status.cells))
        self.bars.update(self._matrix_task, description=summary, completed=finished)
        running = status.running()
        for key in [k for k in self._cell_tasks if k not in running]:
            self.bars.remove_task(self._cell_tasks.pop(key))
        for key, cell in running.items():
            line = f"  {key}: {cell.stage}" + (f" [{cell.where}]" if cell.where else "")
            if key in self._cell_tasks:
                self.bars.update(self._cell_tasks[key], description=line)
            else:
                self._cell_tasks[key] = self.bars.add_task(line, total=None)
        counts = summary.split(";")[0]
        if counts != self._last_summary.split(";")[0]:
            self._plain(summary)
        self._last_summary = summary
        if finished == len(status.cells):
            # Finished: gone from the live display, so that stopping it does not print
            # the last state once more (the summary line above has said it).
            self.bars.remove_task(self._matrix_task)
            self._matrix_task = None

    def __enter__(self) -> "RichProgress":
        self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bars.stop()

    def track(self, iterable, total=None, description=""):
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)
        task = self.bars.add_task(description, total=total)
        self._plain(f"{description}: started" + (f" ({total})" if total else ""))
        started = time.perf_counter()
        try:
            for item in iterable:
                yield item
                self.bars.advance(task)
        finally:
            # Finished bars are removed so a long suite does not scroll hundreds of them.
            self.bars.remove_task(task)
        self._plain(f"{description}: done in {time.perf_counter() - started:.0f} s")

    def _plain(self, line: str) -> None:
        """Bars draw nothing in a log file or a pipe: there, each stage's start and end
        is a line instead."""
        if not self.console.is_terminal:
            self.log(line)

    def counter(self, total: int, description: str):
        task = self.bars.add_task(description, total=total)
        done = 0

        def advance(steps: int = 1) -> None:
            nonlocal done
            if done >= total:  # finished and removed already
                return
            done += steps
            if done >= total:
                self.bars.remove_task(task)
            else:
                self.bars.update(task, completed=done)

        return advance

    def log(self, message: str) -> None:
        # Messages carry file and class names, which may hold brackets: print them as they are.
        self.bars.console.print(message, markup=False, highlight=False)
