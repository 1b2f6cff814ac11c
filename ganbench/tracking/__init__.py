"""Experiment tracking: every cell a suite run executes, reported to a tracker such as
MLflow (``ganbench run --track mlflow``; docs/tracking.md).

A tracker sees what the results store holds and nothing else: its calls are made on
the driver, after a cell's rows were appended (``--executor ray`` included: the workers
never talk to it), and it reads each cell's rows back from the store and its loss
history and pictures from the cell's artifact folder. So a tracked run and an untracked
one train and score exactly the same, and the store stays the record; a tracker is a
second view of it.

* :class:`Tracker`: what a tracker implements; :class:`NoTracker` does nothing (a run
  without ``--track``).
* :class:`SuiteTracking`: the runner's side. A tracker that cannot be opened is refused
  before any data is loaded; once the cells run, a cell the tracker fails to log is a
  warning line, never a failed benchmark.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Protocol, Sequence

from .. import __version__
from ..errors import GanbenchError

#: What ``--track`` accepts.
TRACKERS = ("mlflow",)
#: Cell outcomes a tracker is told about: a skipped cell (finished in an earlier run)
#: was logged by that run, if it was tracked, and is not logged again.
TRACKED_OUTCOMES = ("ran", "failed")


@dataclass(frozen=True)
class SuiteInfo:
    """One ``ganbench run`` as a tracker's parent run shows it."""

    suite: str
    profile: str
    #: The run's id (``CellContext.invocation``): 32 hex characters.
    invocation: str
    #: ``local`` or ``ray``.
    executor: str
    results_dir: Path
    gans: tuple[str, ...]
    datasets: tuple[str, ...]
    seeds: tuple[int, ...]
    #: Cells planned (run or skipped).
    cells: int
    force: bool
    ganbench_version: str


@dataclass
class CellRecord:
    """One executed cell as the store and its artifact folder hold it.

    ``rows``: the store's records of the execution (``ganbench.results.store`` columns,
    ``config_json`` parsed into ``config``), one per result key and classifier, or one
    row without a metric when the cell failed before its metrics. ``history``: the loss
    history, ``{model: [{"step": int, "<loss name>": float, ...}, ...]}`` with one model
    per trained GAN (``all``, a class name, or a translation pair ``a->b``); ``{}`` when
    training did not finish. ``artifacts_dir``: the execution's artifact folder, absolute;
    None when the rows name none that exists."""

    key: str
    suite: str
    gan: str
    dataset: str
    seed: int
    profile: str
    variant: str
    #: ``ran`` or ``failed``.
    status: str
    run_id: str
    error: Optional[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    history: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    artifacts_dir: Optional[Path] = None

    @property
    def config(self) -> dict[str, Any]:
        """The cell's config as its rows record it (the hashed config plus where and
        with which ganbench it ran), without the per-row ``evaluation`` entry."""
        if not self.rows:
            return {}
        return {k: v for k, v in self.rows[0]["config"].items() if k != "evaluation"}


class Tracker(Protocol):
    """What ``--track NAME`` plugs in. Called on the driver only, in this order:
    :meth:`open` once before any data is loaded, :meth:`start_suite` once, then
    :meth:`log_cell` per executed cell as it finishes, then :meth:`end_suite` once."""

    #: The ``--track`` value, in messages.
    name: str

    def open(self, suite: str) -> None:
        """Connect to the tracking store. Raises :class:`GanbenchError` naming the store
        and what to do when it cannot be used."""

    def start_suite(self, info: SuiteInfo) -> None:
        """Start the run that every cell's run is nested under."""

    def log_cell(self, cell: CellRecord) -> None:
        """Log one executed cell as a run of its own, nested under the suite's."""

    def end_suite(self, status: str, counts: Mapping[str, int], error: Optional[str] = None) -> None:
        """End the suite's run. ``status``: ``FINISHED``, ``FAILED`` (the run stopped
        on an error, ``error``) or ``KILLED`` (interrupted). ``counts``: cells per
        outcome (``ran``, ``skipped``, ``failed``)."""


class NoTracker:
    """The tracker of a run without ``--track``: does nothing."""

    name = "none"

    def open(self, suite: str) -> None:
        pass

    def start_suite(self, info: SuiteInfo) -> None:
        pass

    def log_cell(self, cell: CellRecord) -> None:
        pass

    def end_suite(self, status: str, counts: Mapping[str, int], error: Optional[str] = None) -> None:
        pass


def make_tracker(name: Optional[str], tracking_uri: Optional[str], results_dir: Path) -> Tracker:
    """The tracker ``--track NAME`` asks for (:class:`NoTracker` for None). Raises
    :class:`GanbenchError` for ``--tracking-uri`` without ``--track``, an unknown name,
    or a tracker whose package is not installed (the message names the extra); it opens
    nothing yet."""
    if name is None:
        if tracking_uri is not None:
            raise GanbenchError("--tracking-uri: only with --track mlflow")
        return NoTracker()
    if name != "mlflow":
        raise GanbenchError(f"--track {name}: unknown tracker; known: {', '.join(TRACKERS)}")
    from .mlflow_tracker import MlflowTracker, import_mlflow

    import_mlflow()  # the message about the missing extra, before any data is loaded
    return MlflowTracker(tracking_uri, Path(results_dir))


def read_cell_record(outcome, store, results_dir: Path) -> CellRecord:
    """The executed cell of ``outcome`` (a :class:`ganbench.runner.executors.CellOutcome`)
    as the store and its artifact folder hold it: its rows (read back by run id), its loss
    history (``losses.json``) and its artifact folder."""
    cell = outcome.cell
    rows = [dict(r, config=json.loads(r["config_json"] or "{}")) for r in store.rows(cell.suite) if r["run_id"] == outcome.run_id]
    folder = next((Path(results_dir) / r["artifacts_dir"] for r in rows if r.get("artifacts_dir")), None)
    folder = folder if folder is not None and folder.is_dir() else None
    losses = folder / "losses.json" if folder is not None else None
    history = json.loads(losses.read_text()) if losses is not None and losses.is_file() else {}
    return CellRecord(
        key=cell.key, suite=cell.suite, gan=cell.gan, dataset=cell.dataset, seed=cell.seed, profile=cell.profile,
        variant=cell.variant, status=outcome.status, run_id=outcome.run_id, error=outcome.error,
        rows=rows, history=history, artifacts_dir=folder.resolve() if folder is not None else None,
    )


def one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


class SuiteTracking:
    """The runner's side of tracking for one suite run (``tracker`` None: nothing is
    tracked and nothing is read). ``log``: where warnings go (the run's progress log)."""

    def __init__(self, tracker: Optional[Tracker], store, results_dir: Path, log: Callable[[str], None]):
        self.tracker = tracker
        self.store, self.results_dir, self.log = store, Path(results_dir), log
        self.started = False

    def open(self, suite: str) -> None:
        """Before any data is loaded: the tracking store can be used, or the run is
        refused (:class:`GanbenchError`)."""
        if self.tracker is not None:
            self.tracker.open(suite)

    @contextmanager
    def suite(self, summary, ctx, planned: Sequence, executor) -> Iterator[None]:
        """Around the executor: the suite's run starts, and ends with the counts of
        ``summary`` (a :class:`ganbench.runner.suite_run.RunSummary`) and the status."""
        if self.tracker is None:
            yield
            return
        cells = [p.cell for p in planned]
        info = SuiteInfo(
            suite=summary.suite, profile=summary.profile, invocation=ctx.invocation,
            executor=type(executor).__name__.removesuffix("Executor").lower() or "local",
            results_dir=Path(ctx.results_dir).resolve(), gans=tuple(dict.fromkeys(c.gan for c in cells)),
            datasets=tuple(dict.fromkeys(c.dataset for c in cells)), seeds=tuple(sorted({c.seed for c in cells})),
            cells=len(cells), force=not ctx.reuse, ganbench_version=__version__,
        )
        self.started = self._quietly(lambda: self.tracker.start_suite(info), "the suite's run was not started")
        try:
            yield
        except KeyboardInterrupt:
            self._end(summary, "KILLED", "interrupted")
            raise
        except BaseException as exc:
            self._end(summary, "FAILED", one_line(exc))
            raise
        self._end(summary, "FINISHED")

    def cell_finished(self, outcome) -> None:
        """Log an executed cell (a skipped one was logged by the run that executed it)."""
        if self.tracker is None or not self.started or outcome.status not in TRACKED_OUTCOMES:
            return
        self._quietly(
            lambda: self.tracker.log_cell(read_cell_record(outcome, self.store, self.results_dir)),
            f"{outcome.cell.key} (run {outcome.run_id}) was not logged",
        )

    def _end(self, summary, status: str, error: Optional[str] = None) -> None:
        if not self.started:
            return
        counts = {name: summary.count(name) for name in ("ran", "skipped", "failed")}
        self._quietly(lambda: self.tracker.end_suite(status, counts, error), "the suite's run was not ended")

    def _quietly(self, work: Callable[[], None], what: str) -> bool:
        """Tracking never fails a benchmark that is under way: an error is one warning."""
        try:
            work()
        except Exception as exc:
            self.log(f"warning: --track {self.tracker.name}: {what}: {one_line(exc)}")
            return False
        return True


__all__ = [
    "TRACKERS", "CellRecord", "NoTracker", "SuiteInfo", "SuiteTracking", "Tracker", "make_tracker", "read_cell_record",
]
