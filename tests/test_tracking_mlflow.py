"""``ganbench run --track mlflow``: one MLflow run per executed cell, nested under one
run per invocation, holding the cell's config, per-step losses, every result key and its
pictures; read back from a local store and compared with the results store."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import types

import pytest

from ganbench import hookimpl
from ganbench.errors import GanbenchError
from ganbench.results.store import ResultsStore
from ganbench.specs import Metric, ProfileSettings, Suite
from ganbench.tracking import CellRecord, NoTracker, SuiteInfo, make_tracker
from ganbench.tracking.mlflow_tracker import (
    OPEN_HTTP_SETTINGS, TRUNCATION_NOTE, artifact_location, default_store, flatten, loss_name, metric_name, params_of,
)
from ganbench_plugins.datasets.brain_phantom import BrainPhantom
from cli_runs import invoke_with

needs_mlflow = pytest.mark.skipif(
    importlib.util.find_spec("mlflow") is None,
    reason='MLflow is not installed: pip install -e ".[mlflow]" runs these tests',
)


class TrackPhantom(BrainPhantom):
    name = "track-phantom"
    loads = 0

    def load(self, *args, **kwargs):
        TrackPhantom.loads += 1
        return super().load(*args, **kwargs)


class NeverAvailable(Metric):
    """A metric whose rows are all ``unavailable``: logged as tags, never as metrics."""

    name = "never-available"
    description = "always unavailable"
    direction = "higher"
    result_keys = ("never_score",)
    protocol = "Nothing: it is never available."

    def unavailable_reason(self):
        return "needs weights this machine does not have"

    def compute(self, evaluation, classifier=None):  # pragma: no cover - never called
        raise AssertionError("an unavailable metric is never computed")


STEPS = 4
SETTINGS = ProfileSettings(image_size=16, seeds=2, n_fake=16, n_real=32, gan_overrides={"steps": STEPS, "batch_size": 8})


def suite(name, metrics):
    return Suite(
        name=name, description="tracking test", gans=("dcgan",), datasets=("track-phantom",), metrics=metrics,
        classifiers=(), profiles={"smoke": SETTINGS},
    )


def plugin():
    module = types.ModuleType("track_plugin")

    @hookimpl
    def register_suites(register):
        register(suite("track-a", ("psnr", "never-available")))
        # One more metric, nothing of training changed: its cells reuse track-a's generators.
        register(suite("track-b", ("psnr", "ssim")))

    @hookimpl
    def register_datasets(register):
        register(TrackPhantom(train_per_class=12, test_per_class=4))

    @hookimpl
    def register_metrics(register):
        register(NeverAvailable())

    module.register_suites, module.register_datasets, module.register_metrics = register_suites, register_datasets, register_metrics
    return module


def invoke(*args):
    return invoke_with(("track-plugin", plugin()), *args, "--device", "cpu", "--no-leaderboard")


@pytest.fixture
def mlflow_env(monkeypatch, tmp_path):
    """No tracking URI or experiment from the environment, no telemetry; the test runs
    in an empty working directory that must stay empty (MLflow's own default for a
    database store's artifacts is ``./mlruns`` there)."""
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", *OPEN_HTTP_SETTINGS):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    yield
    assert sorted(p.name for p in cwd.iterdir()) == [], "nothing is written to the working directory"


def store_rows(results, suite_name, run_id):
    return [r for r in ResultsStore(results).rows(suite_name) if r["run_id"] == run_id]


# ---------------------------------------------------------------------- end to end


@needs_mlflow
def test_every_cell_is_a_nested_run_with_its_config_losses_scores_and_pictures(tmp_path, mlflow_env):
    from mlflow.tracking import MlflowClient

    result = invoke("run", "--suite", "track-a", "--results", str(tmp_path), "--track", "mlflow")
    assert result.exit_code == 0, result.output
    db = tmp_path / "mlflow" / "mlflow.db"
    assert db.is_file()
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiment = client.get_experiment_by_name("ganbench-track-a")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["suite"] == "track-a" and parent.data.metrics["cells_ran"] == 2
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == len(runs) - 1 == 2
    assert sorted(int(c.data.tags["seed"]) for c in children) == [0, 1]

    for child in children:
        tags, params, metrics = child.data.tags, child.data.params, child.data.metrics
        assert child.info.status == "FINISHED"
        rows = store_rows(tmp_path, "track-a", tags["ganbench_run_id"])
        assert rows, "the tag names the ganbench run whose rows these are"
        config = json.loads(rows[0]["config_json"])
        assert tags["gan"] == "dcgan" and tags["dataset"] == "track-phantom" and tags["cell_key"] == rows[0]["cell_key"]
        assert tags["config_hash"] == params["config_hash"] == rows[0]["config_hash"]
        assert tags["training_hash"] == config["stage"]["training_hash"] and tags["executor"] == "local"
        assert tags["ganbench_version"] == config["ganbench_version"]
        assert params["gan_hparams.steps"] == str(STEPS) and params["image_size"] == "16"

        ok = [r for r in rows if r["status"] == "ok"]
        assert any("[" in r["key"] for r in ok), "per-class keys are part of the check"
        for row in ok:
            assert metrics[metric_name(row["key"], row["classifier"])] == row["value"]
        unavailable = [r for r in rows if r["status"] == "unavailable"]
        assert [r["key"] for r in unavailable] == ["never_score"]
        assert "never_score" not in metrics
        assert tags["status/never_score"] == "unavailable: needs weights this machine does not have"

        # One trained model per class here (dcgan is unconditional): one curve per model and loss.
        histories = json.loads((tmp_path / rows[0]["artifacts_dir"] / "losses.json").read_text())
        assert len(histories) == len(config["class_names"])
        for model, history in histories.items():
            for loss in sorted(k for k in history[0] if k != "step"):
                points = client.get_metric_history(child.info.run_id, loss_name(model, loss))
                assert sorted(p.step for p in points) == list(range(STEPS))
                assert [p.value for p in sorted(points, key=lambda p: p.step)] == [h[loss] for h in history]

        logged = json.loads(open(client.download_artifacts(child.info.run_id, "ganbench-results.json", str(tmp_path / "dl"))).read())
        assert {(r["key"], r["mlflow_name"]) for r in logged if r["status"] == "ok"} == {
            (r["key"], metric_name(r["key"], r["classifier"])) for r in ok
        }, "the results file maps every exact key to its MLflow name"

        artifacts = {a.path for a in client.list_artifacts(child.info.run_id)}
        assert {"samples.png", "losses.png", "losses.json", "ganbench-config.json", "ganbench-results.json"} <= artifacts
        assert not any(path.endswith(".safetensors") for path in artifacts), "the weights stay in the results folder"


@needs_mlflow
def test_skipped_cells_are_not_logged_again_and_reused_training_names_the_run_that_trained(tmp_path, mlflow_env):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    assert invoke("run", "--suite", "track-a", "--seeds", "1", "--results", str(tmp_path), "--track", "mlflow", "--tracking-uri", uri).exit_code == 0
    again = invoke("run", "--suite", "track-a", "--seeds", "1", "--results", str(tmp_path), "--track", "mlflow", "--tracking-uri", uri)
    assert again.exit_code == 0, again.output
    assert not (tmp_path / "mlflow").exists(), "--tracking-uri replaces the store in the results folder"
    assert any((tmp_path / "elsewhere-artifacts").iterdir()), "the artifacts lie beside the SQLite file given"
    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("ganbench-track-a").experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 2 and len(runs) == 3, "the second invocation skipped its cell: a parent run and no child"
    assert sorted(p.data.metrics["cells_skipped"] for p in parents) == [0, 1]
    (trained,) = [r for r in runs if "mlflow.parentRunId" in r.data.tags]

    reused = invoke("run", "--suite", "track-b", "--seeds", "1", "--results", str(tmp_path), "--track", "mlflow", "--tracking-uri", uri)
    assert reused.exit_code == 0, reused.output
    (child,) = [
        r for r in client.search_runs([client.get_experiment_by_name("ganbench-track-b").experiment_id])
        if "mlflow.parentRunId" in r.data.tags
    ]
    assert child.data.tags["training_reused"] == "true"
    assert child.data.tags["trained_by_run"] == trained.data.tags["ganbench_run_id"] != child.data.tags["ganbench_run_id"]
    assert child.data.tags["training_hash"] == trained.data.tags["training_hash"]


@needs_mlflow
@pytest.mark.slow
def test_under_ray_the_driver_logs_what_the_workers_ran(tmp_path, mlflow_env):
    ray = pytest.importorskip("ray", reason='the ray extra is not installed (pip install -e ".[ray]")')
    from mlflow.tracking import MlflowClient

    # This module's plugin classes travel to the workers by value, as in test_ray_executor.py.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        result = invoke(
            "run", "--suite", "track-a", "--seeds", "1", "--results", str(tmp_path), "--track", "mlflow",
            "--executor", "ray", "--cpus-per-cell", "1",
        )
    finally:
        ray.shutdown()
    assert result.exit_code == 0, result.output
    assert "warning" not in result.said
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("ganbench-track-a").experiment_id])
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    (child,) = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert parent.data.tags["executor"] == "ray" and parent.data.metrics["cells_ran"] == 1
    rows = store_rows(tmp_path, "track-a", child.data.tags["ganbench_run_id"])
    row = rows[0]
    assert child.data.params["config_hash"] == row["config_hash"]
    # The config records where the cell ran: "ray on HOST pid N", a worker, not the driver.
    assert child.data.tags["executor"] == json.loads(row["config_json"])["executor"]
    assert child.data.tags["executor"].startswith("ray on ")
    ok = [r for r in rows if r["status"] == "ok"]
    assert ok and all(child.data.metrics[metric_name(r["key"], r["classifier"])] == r["value"] for r in ok)
    histories = json.loads((tmp_path / row["artifacts_dir"] / "losses.json").read_text())
    assert histories, "the worker's loss history reached the driver's results folder"
    for model, history in histories.items():
        for loss in (k for k in history[0] if k != "step"):
            assert len(client.get_metric_history(child.info.run_id, loss_name(model, loss))) == STEPS
    assert {"samples.png", "losses.png"} <= {a.path for a in client.list_artifacts(child.info.run_id)}


@needs_mlflow
def test_a_failed_cell_is_a_failed_run_with_its_error_and_the_losses_it_got_to(tmp_path, mlflow_env):
    from mlflow.tracking import MlflowClient

    tracker = make_tracker("mlflow", None, tmp_path)
    tracker.open("track-a")
    tracker.start_suite(SuiteInfo(
        suite="track-a", profile="smoke", invocation="0" * 32, executor="local", results_dir=tmp_path, gans=("dcgan",),
        datasets=("track-phantom",), seeds=(0,), cells=1, force=False, ganbench_version="test",
    ))
    row = {
        "config": {"gan": "dcgan", "gan_hparams": {"steps": 2}}, "config_hash": "c0ffee", "metric": None, "key": None,
        "classifier": None, "value": None, "status": "failed", "error": "RuntimeError: CUDA out of memory",
        "train_wall_time_s": None, "cell_wall_time_s": 1.5,
    }
    history = {"all": [{"step": 0, "loss_g": 1.0, "loss_d": 0.5}, {"step": 1, "loss_g": 0.75, "loss_d": 0.25}]}
    tracker.log_cell(CellRecord(
        key="dcgan/track-phantom/seed0", suite="track-a", gan="dcgan", dataset="track-phantom", seed=0, profile="smoke",
        variant="", status="failed", run_id="r1", error=row["error"], rows=[row], history=history,
    ))
    tracker.end_suite("FINISHED", {"ran": 0, "skipped": 0, "failed": 1})

    client = MlflowClient(tracking_uri=default_store(tmp_path)[0])
    runs = client.search_runs([client.get_experiment_by_name("ganbench-track-a").experiment_id])
    (child,) = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert child.info.status == "FAILED" and parent.info.status == "FINISHED"
    assert child.data.tags["error"] == "failed: RuntimeError: CUDA out of memory"
    assert child.data.params["config_hash"] == "c0ffee" and child.data.params["gan_hparams.steps"] == "2"
    assert [p.value for p in sorted(client.get_metric_history(child.info.run_id, "loss/all/loss_g"), key=lambda p: p.step)] == [1.0, 0.75]
    assert {a.path for a in client.list_artifacts(child.info.run_id)} == {"losses.png", "ganbench-config.json", "ganbench-results.json"}
    assert parent.data.metrics["cells_failed"] == 1


# ---------------------------------------------------------------------- refused early


def test_a_missing_mlflow_names_the_extra_before_any_data_is_loaded(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed: import raises ImportError
    with pytest.raises(GanbenchError, match=r'--track mlflow needs the mlflow extra: pip install "ganbench\[mlflow\]"'):
        make_tracker("mlflow", None, tmp_path)
    TrackPhantom.loads = 0
    result = invoke("run", "--suite", "track-a", "--results", str(tmp_path), "--track", "mlflow")
    assert result.exit_code == 2 and 'pip install "ganbench[mlflow]"' in result.said
    assert TrackPhantom.loads == 0 and not (tmp_path / "artifacts").exists()


def test_a_tracking_uri_without_track_is_refused(tmp_path):
    assert isinstance(make_tracker(None, None, tmp_path), NoTracker)
    result = invoke("run", "--suite", "track-a", "--results", str(tmp_path), "--tracking-uri", "sqlite:///x.db")
    assert result.exit_code == 2 and "--tracking-uri: only with --track mlflow" in result.said


@needs_mlflow
def test_an_unusable_tracking_store_is_refused_before_any_data_is_loaded(tmp_path, mlflow_env):
    TrackPhantom.loads = 0
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    uri = f"sqlite:///{blocker / 'mlflow.db'}"  # under a file: SQLite cannot create it
    result = invoke("run", "--suite", "track-a", "--results", str(tmp_path / "results"), "--track", "mlflow", "--tracking-uri", uri)
    assert result.exit_code == 2 and f"--track mlflow: cannot use the tracking store {uri}" in result.said
    assert TrackPhantom.loads == 0


@needs_mlflow
def test_a_file_store_and_a_server_that_does_not_answer_are_refused_with_what_to_do(tmp_path, mlflow_env, monkeypatch):
    import socket

    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    TrackPhantom.loads = 0
    uri = (tmp_path / "mlruns").as_uri()
    result = invoke("run", "--suite", "track-a", "--results", str(tmp_path / "results"), "--track", "mlflow", "--tracking-uri", uri)
    assert result.exit_code == 2
    assert f"cannot use the tracking store {uri}: MLflow 3 opens a file store only with MLFLOW_ALLOW_FILE_STORE=true" in result.said

    with socket.socket() as probe:  # a loopback port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    uri = f"http://127.0.0.1:{port}"
    result = invoke("run", "--suite", "track-a", "--results", str(tmp_path / "results"), "--track", "mlflow", "--tracking-uri", uri)
    assert result.exit_code == 2 and f"--track mlflow: cannot use the tracking store {uri}:" in result.said
    assert TrackPhantom.loads == 0
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ, "the quick-refusal settings are for opening only"


# ---------------------------------------------------------------------- names and params


def test_result_keys_become_mlflow_metric_names():
    assert metric_name("fid") == "fid"
    assert metric_name("tstr_f1[no_tumor]") == "tstr_f1.no_tumor"
    assert metric_name("tstr_accuracy", "small-cnn") == "small-cnn/tstr_accuracy"
    assert metric_name("ssim_nearest_real[glioma tumour (T1)]") == "ssim_nearest_real.glioma tumour _T1_"
    assert metric_name("precision@k") == "precision_k"
    assert loss_name("glioma->no_tumor", "loss_g") == "loss/glioma-to-no_tumor/loss_g"
    assert loss_name("..", "d") == "loss/_/d", "a name MLflow would read as a path"


def test_a_config_flattens_to_dotted_params_and_long_values_are_cut_with_a_note():
    config = {"gan": "dcgan", "gan_hparams": {"lr": 0.0002, "betas": [0.5, 0.999]}, "variant": {}, "seed": 3, "notes": "x" * 700}
    assert dict(flatten(config)) == {
        "gan": "dcgan", "gan_hparams.lr": "0.0002", "gan_hparams.betas": "[0.5, 0.999]", "variant": "{}", "seed": "3",
        "notes": "x" * 700,
    }
    params, cut = params_of(config, 500)
    assert cut == ["notes"] and len(params["notes"]) == 500 and params["notes"].endswith(TRUNCATION_NOTE)
    assert params["gan"] == "dcgan"


def test_a_database_store_given_gets_an_artifact_root_never_the_working_directory(tmp_path):
    db = tmp_path / "store" / "runs.db"
    assert artifact_location(f"sqlite:///{db}", tmp_path) == (tmp_path / "store" / "runs-artifacts").as_uri()
    assert artifact_location(f"sqlite:///{db}?timeout=5", tmp_path) == (tmp_path / "store" / "runs-artifacts").as_uri()
    # A database elsewhere: the results folder's store folder, as without --tracking-uri.
    assert artifact_location("postgresql+psycopg2://u@host/db", tmp_path) == default_store(tmp_path)[1]
    assert default_store(tmp_path)[1] == (tmp_path / "mlflow" / "artifacts").as_uri()
    # A tracking server or a file store chooses itself.
    assert artifact_location("http://localhost:5000", tmp_path) is None
    assert artifact_location(f"file://{tmp_path}/mlruns", tmp_path) is None
