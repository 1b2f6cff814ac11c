"""``--track mlflow``: one MLflow run per executed cell, nested under one run per
``ganbench run``, in an experiment per suite (``ganbench-<suite>``, or
``$MLFLOW_EXPERIMENT_NAME``).

Where: ``--tracking-uri``, else ``$MLFLOW_TRACKING_URI``, else a store inside the
results folder: ``<results>/mlflow/mlflow.db`` (SQLite) with the artifacts in
``<results>/mlflow/artifacts/``. Nothing is ever written to ``./mlruns`` in the working
directory, MLflow's own default for a database URI: see :func:`artifact_location`. SQLite rather than an ``mlruns/`` folder of files:
MLflow 3 keeps its file store in maintenance mode and refuses to open one unless
``MLFLOW_ALLOW_FILE_STORE=true`` is set; a ``file:`` URI given with ``--tracking-uri``
is passed on as it is (so that setting decides).

What a cell's run holds (docs/tracking.md has the table):

* params: the cell's config as its rows record it, flattened to dotted names
  (``gan_hparams.lr``), plus ``config_hash``; a value longer than MLflow's limit is cut,
  with a note, and the ``params_truncated`` tag names it (``ganbench-config.json`` has it whole);
* metrics: every ``ok`` result row, named by :func:`metric_name`, at step 0; the losses
  of every training step (``loss/<model>/<loss>``, ``step`` = the training step), sent in
  batches; ``train_wall_time_s`` and ``cell_wall_time_s``;
* tags: suite, gan, dataset, seed, variant, profile, cell key, ganbench run id, config
  and training hashes, executor, ganbench version, and for a reused training stage the
  run that trained it; a row that is not ``ok`` is a tag ``status/<metric name>`` =
  ``<status>: <error>``, never a NaN metric;
* artifacts: the cell's artifact folder without the network weights (``samples.png``,
  ``losses.json``, ``config.json``, the metrics' files), ``losses.png`` drawn from the
  history, ``ganbench-config.json`` and ``ganbench-results.json`` (every row's exact key,
  classifier, value and status).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

from ..errors import GanbenchError
from ..result_keys import parse
from . import CellRecord, SuiteInfo, one_line

#: The store's folder inside the results folder when no tracking URI is given.
STORE_FOLDER = "mlflow"
#: MLflow's batch limits (its client splits bigger batches itself since 2.x; this keeps
#: each request inside them whatever the version).
METRICS_PER_BATCH, PARAMS_PER_BATCH = 1000, 100
#: Param values longer than this are cut (MLflow 3 allows 6000 characters; older servers 500).
PARAM_LENGTH_FALLBACK = 500
TRUNCATION_NOTE = " ...[cut: ganbench-config.json has it whole]"
#: Never copied to the tracking store: the trained networks stay in the results folder.
WEIGHTS_SUFFIXES = (".safetensors", ".pt", ".pth", ".ckpt")

_UNSAFE = re.compile(r"[^\w.\- ]")


def import_mlflow() -> SimpleNamespace:
    """MLflow's client classes. Raises :class:`GanbenchError` naming the extra when
    MLflow is not installed."""
    try:
        import mlflow
        from mlflow.entities import Metric, Param, RunTag
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise GanbenchError(
            '--track mlflow needs the mlflow extra: pip install "ganbench[mlflow]" (or pip install mlflow)'
        ) from None
    try:
        from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH as param_length
    except ImportError:
        param_length = PARAM_LENGTH_FALLBACK
    return SimpleNamespace(
        version=mlflow.__version__, Client=MlflowClient, Metric=Metric, Param=Param, RunTag=RunTag, param_length=param_length
    )


#: Tracking URIs whose store is a database the client opens itself: MLflow would put a
#: new experiment's artifacts in ``./mlruns`` under the working directory.
DATABASE_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")


def default_store(results_dir: Path) -> tuple[str, str]:
    """The tracking URI and artifact location of the store inside ``results_dir``."""
    folder = Path(results_dir).resolve() / STORE_FOLDER
    return f"sqlite:///{(folder / 'mlflow.db').as_posix()}", (folder / "artifacts").as_uri()


def artifact_location(uri: str, results_dir: Path) -> Optional[str]:
    """Where a new experiment's artifacts go for a tracking URI that was given.

    A database URI opened by the client (``sqlite:///x.db``, ``postgresql://...``) gets
    no artifact root from MLflow but ``./mlruns`` in whatever folder ganbench was started
    from, so ganbench names one: ``<name>-artifacts/`` beside a SQLite file ``<name>.db``
    (not ``artifacts/``, which in a results folder is ganbench's own), else the results
    folder's ``mlflow/artifacts/``. Any other URI (a tracking server, a ``file:`` store)
    keeps the store's own choice: None."""
    scheme = uri.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme not in DATABASE_SCHEMES:
        return None
    if scheme == "sqlite" and uri.startswith("sqlite:///") and ":memory:" not in uri:
        database = Path(uri[len("sqlite:///"):].split("?", 1)[0])
        return (database.resolve().parent / f"{database.stem}-artifacts").as_uri()
    return default_store(results_dir)[1]


def segment(text: str) -> str:
    """One part of an MLflow name: MLflow allows letters, digits, ``_ - . /`` and spaces
    (``:`` not on Windows); anything else becomes ``_`` (a translation pair's ``->``
    becomes ``-to-``); a part of only dots, which MLflow reads as a path, becomes ``_``."""
    cleaned = _UNSAFE.sub("_", str(text).replace("->", "-to-"))
    return cleaned if cleaned.strip(". ") else "_"


def metric_name(key: str, classifier: Optional[str] = None) -> str:
    """A result key as an MLflow metric name: ``fid`` -> ``fid``; a per-class key
    ``tstr_f1[no_tumor]`` -> ``tstr_f1.no_tumor``; a downstream score is grouped under its
    classifier: ``small-cnn/tstr_accuracy``. ``ganbench-results.json`` keeps the exact key."""
    try:
        parsed = parse(key)
        name = segment(parsed.base) + (f".{segment(parsed.qualifier)}" if parsed.qualifier else "")
    except ValueError:
        name = segment(key)
    return f"{segment(classifier)}/{name}" if classifier else name


def loss_name(model: str, loss: str) -> str:
    """``loss/<model>/<loss>``: ``loss/all/loss_g``, ``loss/glioma/loss_d``."""
    return f"loss/{segment(model)}/{segment(loss)}"


def flatten(config: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """``{"gan_hparams": {"lr": 0.0002}}`` -> ``("gan_hparams.lr", "0.0002")``: nested
    mappings become dotted names; every other value its JSON (a string as it is)."""
    for key, value in config.items():
        name = f"{prefix}{segment(key)}"
        if isinstance(value, Mapping) and value:
            yield from flatten(value, f"{name}.")
        else:
            yield name, value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def params_of(config: Mapping[str, Any], limit: int) -> tuple[dict[str, str], list[str]]:
    """The flattened params of ``config`` with every value at most ``limit`` characters,
    and the names of those that were cut."""
    params, cut = {}, []
    for name, value in flatten(config):
        if len(value) > limit:
            value = value[: limit - len(TRUNCATION_NOTE)] + TRUNCATION_NOTE
            cut.append(name)
        params[name] = value
    return params, cut


def cell_tags(cell: CellRecord) -> dict[str, str]:
    """What a cell's run is found and filtered by in MLflow (``tags.gan = 'dcgan'``)."""
    config = cell.config
    stage = config.get("stage") or {}
    first = cell.rows[0] if cell.rows else {}
    tags = {
        "suite": cell.suite, "gan": cell.gan, "dataset": cell.dataset, "seed": str(cell.seed), "profile": cell.profile,
        "variant": cell.variant or "", "cell_key": cell.key, "ganbench_run_id": cell.run_id, "status": cell.status,
        "config_hash": str(first.get("config_hash") or ""), "training_hash": str(stage.get("training_hash") or ""),
        "executor": str(config.get("executor") or ""), "ganbench_version": str(config.get("ganbench_version") or ""),
    }
    trained_by = stage.get("trained_by_run")
    if trained_by and trained_by != cell.run_id:
        # A reused training stage: this run evaluated the generator another run trained.
        tags["trained_by_run"] = str(trained_by)
        tags["training_reused"] = "true"
    reused = sorted({r["config"].get("evaluation", {}).get("reused_from") for r in cell.rows} - {None})
    if reused:
        tags["evaluations_reused_from"] = ", ".join(reused)
    for row in cell.rows:
        if row["metric"] is None and row["status"] != "ok":
            tags["error"] = f"{row['status']}: {row['error'] or ''}"
        elif row["status"] != "ok":
            tags[f"status/{metric_name(row['key'], row['classifier'])}"] = f"{row['status']}: {row['error'] or ''}"
    return tags


def result_metrics(rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Every ``ok`` row's value by :func:`metric_name`, and the cell's wall times."""
    values: dict[str, float] = {}
    for row in rows:
        if row["metric"] is not None and row["status"] == "ok" and row["value"] is not None:
            values[metric_name(row["key"], row["classifier"])] = float(row["value"])
    for column in ("train_wall_time_s", "cell_wall_time_s"):
        seconds = next((row[column] for row in rows if row.get(column) is not None), None)
        if seconds is not None:
            values[column] = float(seconds)
    return values


def loss_points(history: Mapping[str, Sequence[Mapping[str, float]]]) -> Iterator[tuple[str, float, int]]:
    """``(metric name, value, step)`` for every loss of every training step."""
    for model, steps in history.items():
        for entry in steps:
            step = int(entry.get("step", 0))
            for loss, value in entry.items():
                if loss != "step" and isinstance(value, (int, float)):
                    yield loss_name(model, loss), float(value), step


def row_summary(row: Mapping[str, Any]) -> dict[str, Any]:
    """One row of ``ganbench-results.json``: the exact result key beside the MLflow
    metric (or ``status/...`` tag) name it was logged under, so the mapping is readable."""
    summary = {
        name: row.get(name)
        for name in ("metric", "key", "classifier", "value", "status", "error", "n_real", "n_fake", "metric_wall_time_s")
    }
    if row.get("metric") is not None and row.get("key"):
        summary["mlflow_name"] = metric_name(row["key"], row.get("classifier"))
    return summary


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class MlflowTracker:
    """Logs to MLflow through its client API (never the fluent ``mlflow.start_run``, so a
    run the calling program has active is left alone)."""

    name = "mlflow"

    def __init__(self, tracking_uri: Optional[str], results_dir: Path):
        self.results_dir = Path(results_dir)
        given = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or None
        if given:
            self.uri, self.artifact_location = given, artifact_location(given, self.results_dir)
        else:
            self.uri, self.artifact_location = default_store(self.results_dir)
        self.mlflow = import_mlflow()
        self.client = None
        self.experiment_id: Optional[str] = None
        self.parent_id: Optional[str] = None

    # ------------------------------------------------------------------ the suite's run

    def open(self, suite: str) -> None:
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or f"ganbench-{suite}"
        if self.uri == default_store(self.results_dir)[0]:
            # SQLite creates the database file, not the folder it lies in.
            (self.results_dir.resolve() / STORE_FOLDER).mkdir(parents=True, exist_ok=True)
        try:
            with _answer_soon():
                self.client = self.mlflow.Client(tracking_uri=self.uri)
                experiment = self.client.get_experiment_by_name(name)
                if experiment is None:
                    self.experiment_id = self.client.create_experiment(name, artifact_location=self.artifact_location)
            if experiment is not None and experiment.lifecycle_stage != "active":
                raise GanbenchError(
                    f"MLflow experiment {name!r} in {self.uri} is deleted: restore it (mlflow experiments restore "
                    f"--experiment-id {experiment.experiment_id}) or set MLFLOW_EXPERIMENT_NAME to another name"
                )
            if experiment is not None:
                self.experiment_id = experiment.experiment_id
        except GanbenchError:
            raise
        except Exception as exc:
            why = one_line(exc)
            if "maintenance mode" in why or "MLFLOW_ALLOW_FILE_STORE" in str(exc):
                why = (
                    "MLflow 3 opens a file store only with MLFLOW_ALLOW_FILE_STORE=true set; "
                    "or give a database, e.g. --tracking-uri sqlite:///PATH/mlflow.db"
                )
            raise GanbenchError(f"--track mlflow: cannot use the tracking store {self.uri}: {why}") from None

    def start_suite(self, info: SuiteInfo) -> None:
        tags = {
            "suite": info.suite, "profile": info.profile, "ganbench_invocation": info.invocation,
            "executor": info.executor, "results_dir": str(info.results_dir), "ganbench_version": info.ganbench_version,
        }
        run = self.client.create_run(self.experiment_id, tags=tags, run_name=f"{info.suite} {info.profile}")
        self.parent_id = run.info.run_id
        params = {
            "gans": ", ".join(info.gans), "datasets": ", ".join(info.datasets),
            "seeds": ", ".join(str(s) for s in info.seeds), "cells": str(info.cells), "force": str(info.force).lower(),
        }
        limit = self.mlflow.param_length
        self._log(self.parent_id, params={k: v if len(v) <= limit else v[: limit - 3] + "..." for k, v in params.items()})

    def end_suite(self, status: str, counts: Mapping[str, int], error: Optional[str] = None) -> None:
        if self.parent_id is None:
            return
        now = _now_ms()
        self._log(
            self.parent_id,
            metrics=[(f"cells_{name}", float(count), 0) for name, count in counts.items()],
            tags={"error": error} if error else {},
            timestamp=now,
        )
        self.client.set_terminated(self.parent_id, status=status, end_time=now)

    # ------------------------------------------------------------------ a cell's run

    def log_cell(self, cell: CellRecord) -> None:
        now = _now_ms()
        wall = next((r["cell_wall_time_s"] for r in cell.rows if r.get("cell_wall_time_s") is not None), None)
        tags = {"mlflow.parentRunId": self.parent_id, **cell_tags(cell)} if self.parent_id else cell_tags(cell)
        run = self.client.create_run(
            self.experiment_id, start_time=now - int((wall or 0) * 1000), tags=tags, run_name=cell.key
        )
        run_id = run.info.run_id
        try:
            first = cell.rows[0] if cell.rows else {}
            params, cut = params_of({"config_hash": first.get("config_hash") or "", **cell.config}, self.mlflow.param_length)
            metrics = [(name, value, 0) for name, value in result_metrics(cell.rows).items()]
            metrics += list(loss_points(cell.history))
            self._log(run_id, params=params, tags={"params_truncated": ", ".join(cut)} if cut else {}, metrics=metrics, timestamp=now)
            with tempfile.TemporaryDirectory(prefix="ganbench-mlflow-") as staging:
                self._stage_artifacts(cell, Path(staging))
                self.client.log_artifacts(run_id, staging)
        except BaseException:
            self.client.set_terminated(run_id, status="FAILED", end_time=_now_ms())
            raise
        self.client.set_terminated(run_id, status="FAILED" if cell.status == "failed" else "FINISHED", end_time=now)

    def _stage_artifacts(self, cell: CellRecord, staging: Path) -> None:
        """Into ``staging``: the cell's artifact folder without the weights, the loss
        plot, the recorded config and every row's exact names and values."""
        if cell.artifacts_dir is not None:
            shutil.copytree(
                cell.artifacts_dir, staging, dirs_exist_ok=True,
                ignore=lambda folder, names: [n for n in names if n.endswith(WEIGHTS_SUFFIXES)],
            )
        if cell.history and not (staging / "losses.png").exists():
            from ..leaderboard.assets import plot_losses

            plot_losses(cell.history, f"{cell.gan}: training losses", staging / "losses.png")
        (staging / "ganbench-config.json").write_text(json.dumps(cell.config, indent=2, sort_keys=True, default=str))
        (staging / "ganbench-results.json").write_text(json.dumps([row_summary(r) for r in cell.rows], indent=2))

    def _log(
        self,
        run_id: str,
        metrics: Iterable[tuple[str, float, int]] = (),
        params: Mapping[str, str] = {},
        tags: Mapping[str, str] = {},
        timestamp: Optional[int] = None,
    ) -> None:
        """Metrics, params and tags in batches of MLflow's limits: thousands of loss
        points are a few requests, not thousands."""
        m = self.mlflow
        timestamp = timestamp or _now_ms()
        entries = [m.Metric(name, value, timestamp, step) for name, value, step in metrics]
        for batch in _chunks([m.Param(k, v) for k, v in params.items()], PARAMS_PER_BATCH):
            self.client.log_batch(run_id, params=batch)
        for batch in _chunks([m.RunTag(k, v) for k, v in tags.items()], PARAMS_PER_BATCH):
            self.client.log_batch(run_id, tags=batch)
        for batch in _chunks(entries, METRICS_PER_BATCH):
            self.client.log_batch(run_id, metrics=batch)


#: While the store is opened: a tracking server that does not answer is refused in
#: seconds, not after MLflow's default 7 retries with growing waits (minutes). Logging
#: the cells later keeps MLflow's defaults, so a short outage is ridden out.
OPEN_HTTP_SETTINGS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}


@contextmanager
def _answer_soon() -> Iterator[None]:
    """:data:`OPEN_HTTP_SETTINGS` for the duration, where the environment sets none."""
    added = {name: value for name, value in OPEN_HTTP_SETTINGS.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def _now_ms() -> int:
    return int(time.time() * 1000)
