"""Progress for a person at a terminal and for a log, behind the
:class:`ganbench.specs.Progress` interface, so that plugins report progress without
depending on rich.

At a terminal: rich's live bars. Where output goes to a file or a pipe (a cluster job,
CI; or with ``GANBENCH_OUTPUT=plain``, see :mod:`ganbench.plain_output`) bars draw
nothing, so each stage is a timestamped line instead::

    2026-12-01 03:04:05 brain-mri/figshare/dcgan/seed-0/quick: started
    2026-12-01 03:04:05 dcgan seed 0: training: started (4000)
    2026-12-01 03:06:05 dcgan seed 0: training: 400/4000 (10%), 2 min so far, about 18 min left
    2026-12-01 03:24:05 dcgan seed 0: training: done in 20 min
    2026-12-01 03:24:09 brain-mri/figshare/dcgan/seed-0/quick: fid: started
    2026-12-01 03:25:09 brain-mri/figshare/dcgan/seed-0/quick: fid: done in 60 s
    2026-12-01 03:31:12 brain-mri/figshare/dcgan/seed-0/quick: done in 27 min
"""

from __future__ import annotations

import time
from typing import Callable, Iterable, Iterator, Optional

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress as RichBars,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .plain_output import timestamped, wants_plain
from .runner.matrix_status import DONE, FAILED, RUNNING, SKIPPED, format_duration
from .specs import Progress

#: A loop's line in a log every this many percent of its items.
PERCENT_STEP = 10
#: Loops of fewer items get no percent lines: their start and end say as much.
PERCENT_FROM = 10


class LoopLines:
    """The log lines of one loop of ``total`` items (None: unknown): ``started`` now,
    one line each time :meth:`advance` crosses a multiple of :data:`PERCENT_STEP`
    percent (with the time so far and an estimate of the time left), and ``done in``
    at :meth:`finish`. ``emit`` receives each line without a timestamp."""

    def __init__(self, total: Optional[int], description: str, emit: Callable[[str], None], clock: Callable[[], float] = time.perf_counter):
        self.total, self.description, self.emit, self.clock = total, description, emit, clock
        self.started = clock()
        self.done = 0
        self.reported = 0  # the last multiple of PERCENT_STEP a line was written for
        emit(f"{description}: started" + (f" ({total})" if total else ""))

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        if not self.total or self.total < PERCENT_FROM or self.done >= self.total:
            return
        percent = self.done * 100 // self.total
        if percent // PERCENT_STEP * PERCENT_STEP > self.reported:
            self.reported = percent // PERCENT_STEP * PERCENT_STEP
            elapsed = self.clock() - self.started
            left = elapsed / self.done * (self.total - self.done)
            self.emit(
                f"{self.description}: {self.done}/{self.total} ({percent}%), "
                f"{format_duration(elapsed)} so far, about {format_duration(left)} left"
            )

    def finish(self) -> None:
        self.emit(f"{self.description}: done in {format_duration(self.clock() - self.started)}")

    def count(self, steps: int = 1) -> None:
        """A step of a counter (:meth:`ganbench.specs.Progress.counter`, ``total``
        known): :meth:`advance`, then :meth:`finish` once ``total`` is reached; steps
        after that write nothing."""
        if self.done >= (self.total or 0):
            return
        self.advance(steps)
        if self.done >= self.total:
            self.finish()


def logged_loop(iterable: Iterable, total: Optional[int], description: str, emit: Callable[[str], None]) -> Iterator:
    """Yield from ``iterable`` with :class:`LoopLines` going to ``emit``. An item's
    percent line is written once the caller's work on it is done (when it asks for
    the next); a loop that ends early (an exception, ``break``) writes no ``done`` line."""
    lines = LoopLines(total, description, emit)
    for item in iterable:
        yield item
        lines.advance()
    lines.finish()


class RichProgress(Progress):
    """``console``: where bars and lines go (default: stderr). ``plain``: lines instead
    of bars; None decides by the console (:func:`ganbench.plain_output.wants_plain`).

    Raises :class:`ganbench.errors.GanbenchError` for an unknown ``GANBENCH_OUTPUT``."""

    def __init__(self, console: Console | None = None, plain: Optional[bool] = None):
        self.console = console or Console(stderr=True)
        self.plain = wants_plain(self.console) if plain is None else plain
        self.bars = RichBars(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
            # Bars are still kept (and counted) in plain mode; they are just not drawn.
            disable=self.plain,
        )
        self._matrix_task = None
        self._cell_tasks: dict[str, int] = {}
        self._last_summary = ""
        self._cell_states: dict[str, str] = {}
        self._cell_started: dict[str, float] = {}

    def show_matrix(self, status) -> None:
        """The matrix's live view (:class:`ganbench.runner.matrix_status.MatrixStatus`):
        one bar of finished cells with the counts and the time left, and a line per
        running cell with its current stage (and, under Ray, where it runs). In plain
        mode: a line when a cell starts and when it ends (with its wall time), and the
        counts line each time a cell starts or ends."""
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
        if self.plain:
            self._note_cell_changes(status)
        counts = summary.split(";")[0]
        if counts != self._last_summary.split(";")[0]:
            self.note(summary)
        self._last_summary = summary
        if finished == len(status.cells):
            # Finished: gone from the live display, so that stopping it does not print
            # the last state once more (the summary line above has said it).
            self.bars.remove_task(self._matrix_task)
            self._matrix_task = None

    def _note_cell_changes(self, status) -> None:
        """A line for each cell whose state changed since the last call."""
        for key, cell in status.cells.items():
            if self._cell_states.get(key) == cell.state:
                continue
            self._cell_states[key] = cell.state
            if cell.state == RUNNING:
                self._cell_started[key] = time.perf_counter()
                self.note(f"{key}: started" + (f" on {cell.where}" if cell.where else ""))
            elif cell.state == SKIPPED:
                self.note(f"{key}: skipped (finished in an earlier run)")
            elif cell.state in (DONE, FAILED):
                started = self._cell_started.pop(key, None)
                # A cell may finish between two looks at the matrix (a fast Ray task): no start seen, no duration.
                took = "" if started is None else f" {format_duration(time.perf_counter() - started)}"
                ended = ("done" if cell.state == DONE else "failed") + ("" if started is None else (" in" if cell.state == DONE else " after"))
                self.note(f"{key}: {ended}{took}")

    def __enter__(self) -> "RichProgress":
        self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bars.stop()

    def track(self, iterable, total=None, description=""):
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)
        task = self.bars.add_task(description, total=total)
        items = logged_loop(iterable, total, description, self.note) if self.plain else iterable
        try:
            for item in items:
                yield item
                self.bars.advance(task)
        finally:
            # Finished bars are removed so a long suite does not scroll hundreds of them.
            self.bars.remove_task(task)

    def counter(self, total: int, description: str):
        task = self.bars.add_task(description, total=total)
        lines = LoopLines(total, description, self.note) if self.plain else None
        done = 0

        def advance(steps: int = 1) -> None:
            nonlocal done
            if done >= total:  # finished and removed already
                return
            done += steps
            if lines is not None:
                lines.count(steps)
            if done >= total:
                self.bars.remove_task(task)
            else:
                self.bars.update(task, completed=done)

        return advance

    def note(self, message: str) -> None:
        """In plain mode a timestamped line; at a terminal nothing (the bars show it)."""
        if self.plain:
            self.log(message)

    def log(self, message: str) -> None:
        # Messages carry file and class names, which may hold brackets: print them as they are.
        if self.plain:
            # Never wrapped at the console's width, so grep finds a whole line; a message of
            # several lines (a traceback's) gets a timestamp on each, as every line of a log has.
            stamped = "\n".join(timestamped(line) for line in message.splitlines() or [""])
            self.bars.console.print(stamped, markup=False, highlight=False, soft_wrap=True)
        else:
            self.bars.console.print(message, markup=False, highlight=False)
