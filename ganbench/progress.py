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
