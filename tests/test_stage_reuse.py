"""Stage reuse: a cell whose training finished earlier (in another suite, or in a run
whose evaluation failed) evaluates the kept samples instead of training again, and
copies earlier evaluations with identical settings; every row says which run trained
its generator and whose evaluation it reuses; ``--force`` trains anew."""

from __future__ import annotations

import dataclasses
import json
import types
from pathlib import Path

import pytest

from ganbench import hookimpl
from ganbench.results.store import ResultsStore
from ganbench.runner.stages import training_hash
from ganbench.specs import Metric, MetricResult, ProfileSettings, Suite, Variant
from ganbench_plugins.datasets.brain_phantom import BrainPhantom
from cli_runs import invoke_with

pytestmark = pytest.mark.slow


class ReusePhantom(BrainPhantom):
    name = "reuse-phantom"


class FlakyScore(Metric):
    """Fails while the file ``FlakyScore.failing`` exists: an evaluation that broke."""

    name = "flaky-score"
    description = "mean generated pixel, or an error"
    direction = "higher"
    result_keys = ("flaky_score",)
    protocol = "The mean pixel of the generated images."
    failing: Path = Path("/nonexistent")

    def compute(self, evaluation, classifier=None):
        if FlakyScore.failing.exists():
            raise RuntimeError("evaluation broke on purpose")
        return MetricResult({"flaky_score": float(evaluation.fake.images.float().mean())}, n_real=0, n_fake=len(evaluation.fake))


SETTINGS = ProfileSettings(image_size=16, seeds=1, n_fake=16, n_real=32, gan_overrides={"steps": 4, "batch_size": 8})


def suite(name, metrics, settings=SETTINGS):
    return Suite(
        name=name, description="stage reuse test", gans=("dcgan",), datasets=("reuse-phantom",), metrics=metrics,
        classifiers=(), profiles={"smoke": settings},
    )


def plugin():
    module = types.ModuleType("reuse_plugin")

    @hookimpl
    def register_suites(register):
        register(suite("reuse-a", ("psnr",)))
        register(suite("reuse-b", ("psnr", "ssim")))
        register(suite("reuse-flaky", ("psnr", "flaky-score")))
        # Two variants that change nothing of training: one training hash for both.
        register(suite("reuse-variants", ("psnr",), dataclasses.replace(SETTINGS, variants=(Variant("a"), Variant("b")))))

    @hookimpl
    def register_datasets(register):
        register(ReusePhantom(train_per_class=12, test_per_class=4))

    @hookimpl
    def register_metrics(register):
        register(FlakyScore())

    module.register_suites, module.register_datasets, module.register_metrics = register_suites, register_datasets, register_metrics
    return module


def invoke(*args):
    return invoke_with(("reuse-plugin", plugin()), *args, "--device", "cpu", "--no-leaderboard")


def rows_of(results, suite_name):
    """The rows of the plain result keys (not the per-class ones), config parsed."""
    rows = ResultsStore(results).rows(suite_name)
    return [dict(r, config=json.loads(r["config_json"])) for r in rows if "[" not in (r["key"] or "")]


def test_one_more_metric_reuses_the_trained_generator_and_the_evaluations_it_had(tmp_path):
    first = invoke("run", "--suite", "reuse-a", "--results", str(tmp_path))
    assert first.exit_code == 0, first.output
    (a,) = rows_of(tmp_path, "reuse-a")
    assert a["config"]["stage"]["trained_by_run"] == a["run_id"] and a["config"]["evaluation"]["reused_from"] is None

    second = invoke("run", "--suite", "reuse-b", "--results", str(tmp_path))
    assert second.exit_code == 0, second.output
    assert f"reusing the generator and samples that run {a['run_id']} trained" in second.said
    rows = {r["key"]: r for r in rows_of(tmp_path, "reuse-b")}
    assert set(rows) == {"psnr_nearest_real", "ssim_nearest_real"}
    for row in rows.values():
        assert row["config"]["stage"] == a["config"]["stage"] and row["train_wall_time_s"] == a["train_wall_time_s"]
    assert rows["psnr_nearest_real"]["config"]["evaluation"]["reused_from"] == a["run_id"]
    assert rows["psnr_nearest_real"]["value"] == a["value"]
    assert rows["ssim_nearest_real"]["config"]["evaluation"]["reused_from"] is None
    assert len(list((tmp_path / "training").iterdir())) == 1
    artifacts = tmp_path / rows["ssim_nearest_real"]["artifacts_dir"]
    assert json.loads((artifacts / "trained_by.json").read_text())["trained_by_run"] == a["run_id"]
    assert (artifacts / "samples.png").is_file()


def test_a_failed_evaluation_is_rerun_on_the_kept_samples(tmp_path):
    FlakyScore.failing = tmp_path / "failing"
    FlakyScore.failing.write_text("")
    first = invoke("run", "--suite", "reuse-flaky", "--results", str(tmp_path / "results"))
    assert first.exit_code == 1 and "evaluation broke on purpose" in first.said
    (trained,) = {r["run_id"] for r in rows_of(tmp_path / "results", "reuse-flaky")}

    FlakyScore.failing.unlink()
    again = invoke("run", "--suite", "reuse-flaky", "--results", str(tmp_path / "results"))
    assert again.exit_code == 0, again.output
    assert "reusing the generator and samples" in again.said and "dcgan seed 0: started" not in again.said
    latest = [r for r in rows_of(tmp_path / "results", "reuse-flaky") if r["run_id"] != trained]
    assert {r["key"]: r["status"] for r in latest} == {"psnr_nearest_real": "ok", "flaky_score": "ok"}
    by_key = {r["key"]: r["config"] for r in latest}
    assert by_key["psnr_nearest_real"]["evaluation"]["reused_from"] == trained
    assert by_key["flaky_score"]["evaluation"]["reused_from"] is None
    assert all(c["stage"]["trained_by_run"] == trained for c in by_key.values())


def test_force_trains_anew(tmp_path):
    assert invoke("run", "--suite", "reuse-a", "--results", str(tmp_path)).exit_code == 0
    forced = invoke("run", "--suite", "reuse-a", "--results", str(tmp_path), "--force")
    assert forced.exit_code == 0 and "--force: training anew" in forced.said
    first, second = rows_of(tmp_path, "reuse-a")
    assert second["config"]["stage"]["trained_by_run"] == second["run_id"] != first["run_id"]
    assert second["config"]["evaluation"]["reused_from"] is None
    assert second["value"] == first["value"]  # seeded: the same training gives the same samples


BASE = {
    "gan": "dcgan", "gan_hparams": {"steps": 4, "batch_size": 8}, "dataset": "d", "dataset_fingerprint": "f",
    "class_names": ["a", "b"], "seed": 0, "profile": "smoke", "image_size": 16, "channels": 1, "n_fake": 16,
    "n_real": 32, "metric_settings": {}, "metrics": ["psnr"], "classifiers": {}, "training": "one-model", "training_rng": 1,
}
GAN = {"plugin": "dcgan", "distribution": "ganbench", "version": "0"}


@pytest.mark.parametrize(
    "change",
    [
        {"metrics": ["psnr", "fid"]},
        {"metric_settings": {"classifier_epochs": 30}},
        {"classifiers": {"small-cnn": {}}},
        {"n_real": 64},
        {"variant": {"name": "cnn30", "classifier_epochs": 30}},  # IJACSA's classifier epochs: one GAN
        {"profile": "quick"},
    ],
)
def test_what_only_evaluates_keeps_the_training_hash(change):
    assert training_hash({**BASE, **change}, GAN) == training_hash(BASE, GAN)


@pytest.mark.parametrize(
    "change",
    [{"seed": 1}, {"gan_hparams": {"steps": 5, "batch_size": 8}}, {"n_fake": 32}, {"image_size": 32}, {"dataset_fingerprint": "g"}, {"train_images": 8}],
)
def test_what_changes_training_changes_the_training_hash(change):
    assert training_hash({**BASE, **change}, GAN) != training_hash(BASE, GAN)
    assert training_hash(BASE, {**GAN, "version": "1"}) != training_hash(BASE, GAN)


def test_force_discards_an_earlier_stage_once_and_reuses_what_it_trained(tmp_path):
    assert invoke("run", "--suite", "reuse-variants", "--results", str(tmp_path)).exit_code == 0
    forced = invoke("run", "--suite", "reuse-variants", "--results", str(tmp_path), "--force")
    assert forced.exit_code == 0, forced.output
    # The first variant's cell discards the earlier run's stage and trains; the second
    # reuses what this run trained instead of discarding it again.
    assert forced.said.count("--force: training anew") == 1
    assert forced.said.count("reusing the generator and samples") == 1
    earlier, forced_rows = rows_of(tmp_path, "reuse-variants")[:2], rows_of(tmp_path, "reuse-variants")[2:]
    assert len(forced_rows) == 2 and len({r["cell_key"] for r in forced_rows}) == 2
    trained_by = {r["config"]["stage"]["trained_by_run"] for r in forced_rows}
    assert len(trained_by) == 1 and trained_by.isdisjoint({r["run_id"] for r in earlier})
    assert len(list((tmp_path / "training").iterdir())) == 1
