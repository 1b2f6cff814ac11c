"""A tiny suite through the real CLI: train, sample, evaluate, store, resume, force,
failures, leaderboard."""

import dataclasses
import json
import re
import types

import pytest
from click.testing import CliRunner

from ganbench import hookimpl
from ganbench.cli import cli
from ganbench.plugins import load_plugins
from ganbench.results.store import ResultsStore
from ganbench.specs import ProfileSettings, Suite, Variant
from ganbench_plugins.datasets.brain_phantom import BrainPhantom
from ganbench_plugins.gans.dcgan import DCGAN
from cli_runs import invoke_with

pytestmark = pytest.mark.slow


class TinyPhantom(BrainPhantom):
    name = "tiny-phantom"


class ExplodingGAN(DCGAN):
    name = "exploding-gan"

    def build(self, spec, hparams, device):
        model = super().build(spec, hparams, device)

        def explode(real, labels):
            raise RuntimeError("diverged on purpose")

        model.train_step = explode
        return model


TINY = Suite(
    name="tiny",
    description="end-to-end test suite",
    gans=("vanilla-gan", "dcgan"),
    datasets=("tiny-phantom",),
    metrics=("fid", "kid", "precision-recall", "ssim", "ms-ssim", "psnr", "mse", "diversity-ms-ssim", "memorization", "tstr", "trtr", "trstr"),
    classifiers=("small-cnn",),
    profiles={
        "smoke": ProfileSettings(
            image_size=16,
            seeds=1,
            n_fake=16,
            n_real=32,
            metric_settings={"classifier_epochs": 1},
            gan_overrides={"steps": 3, "batch_size": 8},
        )
    },
)


# Resume, force and failure handling do not depend on the metrics: a suite with one
# cheap metric keeps those tests from recomputing Inception features.
TINY_CHEAP = Suite(
    name="tiny-cheap",
    description="end-to-end test suite with one cheap metric",
    gans=("dcgan",),
    datasets=("tiny-phantom",),
    metrics=("psnr",),
    classifiers=(),
    # Without classifier_epochs: no metric here reads it, so a run would refuse it.
    profiles={"smoke": dataclasses.replace(TINY.profiles["smoke"], metric_settings={})},
)


# Every registered GAN through the runner, image-to-image included, with the cheap
# metrics: what matters here is that each kind of GAN yields a labelled generated set.
TINY_ZOO = Suite(
    name="tiny-zoo",
    description="every GAN, a few steps each",
    gans=(),
    datasets=("tiny-phantom",),
    metrics=("ssim", "psnr", "tstr"),
    classifiers=("small-cnn",),
    profiles={
        "smoke": ProfileSettings(
            image_size=32, n_fake=16, n_real=32, metric_settings={"classifier_epochs": 1},
            gan_overrides={"steps": 2, "batch_size": 4},
        )
    },
)


# A paper-style sweep: a variant per image size, training-set size and epochs, one on
# the tumour-vs-normal task, one evaluating fewer metrics; training cost as result keys.
TINY_SWEEP = Suite(
    name="tiny-sweep",
    description="variants through the runner",
    gans=("vanilla-gan", "dcgan"),
    datasets=("tiny-phantom",),
    metrics=("psnr", "training-cost"),
    classifiers=(),
    profiles={
        "smoke": ProfileSettings(
            image_size=16, n_fake=8, n_real=16, gan_overrides={"steps": 2, "batch_size": 4},
            variants=(
                Variant("small-two-class", train_images=8, epochs=1, class_task="tumour-vs-normal"),
                Variant("big", image_size=32, n_fake=12, gans=("dcgan",), metrics=("training-cost",)),
            ),
        )
    },
)


def tiny_plugin():
    module = types.ModuleType("tiny_plugin")

    @hookimpl
    def register_suites(register):
        register(TINY)
        register(TINY_CHEAP)
        register(TINY_ZOO)
        register(TINY_SWEEP)

    @hookimpl
    def register_datasets(register):
        register(TinyPhantom(train_per_class=12, test_per_class=4))

    @hookimpl
    def register_gans(register):
        register(ExplodingGAN())

    module.register_suites, module.register_datasets, module.register_gans = register_suites, register_datasets, register_gans
    return module


def statuses(output: str) -> list[str]:
    """The per-cell status words the run command prints, in order."""
    # A line starts with a timestamp where output is no terminal (ganbench.progress).
    return re.findall(r"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d )?\s*(ran|skipped|failed) \S+/seed-", output, flags=re.M)


def invoke(*args):
    return invoke_with(("tiny-plugin", tiny_plugin()), *args)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    outcome = invoke("run", "--suite", "tiny", "--results", str(results), "--device", "cpu")
    return results, outcome


def test_every_cell_reports_every_metric(first_run):
    results, outcome = first_run
    assert outcome.exit_code == 0, outcome.output
    rows = ResultsStore(results).rows("tiny")
    assert {r["status"] for r in rows} == {"ok"}, [r["error"] for r in rows if r["status"] != "ok"]
    keys = {(r["gan"], r["key"]) for r in rows}
    for gan in ("vanilla-gan", "dcgan"):
        for key in ("fid", "kid_mean", "ssim_nearest_real", "psnr_nearest_real", "tstr_accuracy", "trtr_accuracy",
                    "trstr_accuracy", "tstr_best_val_auc", "precision", "mse_nearest_real", "memorization_pixels", "ms_ssim_nearest_real", "ms_ssim_diversity"):
            assert (gan, key) in keys
    fid = [r for r in rows if r["key"] == "fid"][0]
    assert fid["n_fake"] == 16 and fid["n_real"] == 32 and fid["resolution"] == 16
    assert '"torch"' in fid["packages_json"] and "tiny-plugin" in fid["plugins_json"]
    artifacts = results / fid["artifacts_dir"]
    for name in ("checkpoint.safetensors", "samples.png", "losses.json", "config.json"):
        assert (artifacts / name).is_file(), name


def test_rerun_skips_finished_cells_and_force_appends(tmp_path):
    args = ("run", "--suite", "tiny-cheap", "--results", str(tmp_path), "--device", "cpu", "--seeds", "2")
    first = invoke(*args)
    assert first.exit_code == 0 and statuses(first.output) == ["ran", "ran"]
    before = ResultsStore(tmp_path).rows()
    again = invoke(*args)
    assert again.exit_code == 0
    assert statuses(again.output) == ["skipped", "skipped"] and ResultsStore(tmp_path).rows() == before
    forced = invoke(*args, "--force")
    assert forced.exit_code == 0 and statuses(forced.output) == ["ran", "ran"]
    rows = ResultsStore(tmp_path).rows()
    assert rows[: len(before)] == before  # the old rows are untouched
    assert len({r["run_id"] for r in rows}) == 4


def test_more_seeds_run_only_the_new_cells(tmp_path):
    invoke("run", "--suite", "tiny-cheap", "--results", str(tmp_path), "--device", "cpu")
    more = invoke("run", "--suite", "tiny-cheap", "--results", str(tmp_path), "--device", "cpu", "--seeds", "2")
    assert statuses(more.output) == ["skipped", "ran"]


def test_a_failing_cell_is_recorded_and_the_suite_goes_on(tmp_path):
    outcome = invoke("run", "--suite", "tiny-cheap", "--results", str(tmp_path), "--gans", "exploding-gan,dcgan", "--device", "cpu")
    assert outcome.exit_code == 1
    rows = ResultsStore(tmp_path).rows()
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(failed) == 1 and "diverged on purpose" in failed[0]["error"]
    assert any(r["gan"] == "dcgan" and r["status"] == "ok" for r in rows)
    assert (tmp_path / failed[0]["artifacts_dir"] / "error.txt").is_file()


def test_leaderboard_markdown(first_run):
    results, _ = first_run
    outcome = invoke("leaderboard", "--suite", "tiny", "--results", str(results))
    assert outcome.exit_code == 0
    text = outcome.output
    assert "| dcgan" in text and "| vanilla-gan" in text
    assert "fid ↓" in text and "tstr_accuracy (small-cnn) ↑" in text
    assert "synthetic phantom" in text and "## Provenance" in text


def test_unknown_names_list_the_available_ones(tmp_path):
    outcome = CliRunner().invoke(cli, ["run", "--suite", "tiny", "--gans", "nope", "--results", str(tmp_path)], obj=load_plugins(extra_modules=[("tiny-plugin", tiny_plugin())]))
    assert outcome.exit_code == 2
    assert "unknown GAN 'nope'; available GANs:" in outcome.output and "dcgan" in outcome.output


def test_every_gan_runs_through_the_suite(tmp_path):
    gans = [g for g in load_plugins().registry.names("gans")]
    outcome = invoke("run", "--suite", "tiny-zoo", "--results", str(tmp_path), "--device", "cpu", "--gans", ",".join(gans))
    rows = ResultsStore(tmp_path).rows("tiny-zoo")
    failed = {(r["gan"], r["metric"]): r["error"] for r in rows if r["status"] != "ok"}
    assert outcome.exit_code == 0 and not failed, failed
    for gan in gans:
        keys = {r["key"] for r in rows if r["gan"] == gan}
        assert {"ssim_nearest_real", "psnr_nearest_real", "tstr_accuracy"} <= keys, gan
    cyclegan = next(r for r in rows if r["gan"] == "cyclegan" and r["key"] == "psnr_nearest_real")
    # 12 training images per class, 20% (2) held out. Each tumour class gets the 2
    # held-out no-tumour images translated; no-tumour gets its quota of 4 (16 / 4
    # classes) from the three models' held-out tumour images translated back: 2+1+1.
    assert cyclegan["n_fake"] == 3 * 2 + 4
    assert (tmp_path / cyclegan["artifacts_dir"] / "samples.png").is_file()


def test_a_sweep_runs_each_variant_with_its_own_settings_and_resumes(tmp_path):
    outcome = invoke("run", "--suite", "tiny-sweep", "--results", str(tmp_path), "--device", "cpu")
    assert outcome.exit_code == 0, outcome.output
    assert statuses(outcome.output) == ["ran"] * 3
    rows = ResultsStore(tmp_path).rows("tiny-sweep")
    assert {r["status"] for r in rows} == {"ok"}, [r["error"] for r in rows if r["status"] != "ok"]
    by_variant = {}
    for r in rows:
        by_variant.setdefault(r["cell_key"].rsplit("/", 1)[1], []).append(r)
    assert set(by_variant) == {"small-two-class", "big"}
    small = json.loads(by_variant["small-two-class"][0]["config_json"])
    assert small["class_names"] == ["no_tumor", "tumor"] and small["train_images"] == 8
    assert small["gan_hparams"]["epochs"] == 1 and "steps" not in small["gan_hparams"]
    assert small["variant"] == {"name": "small-two-class", "train_images": 8, "epochs": 1, "class_task": "tumour-vs-normal"}
    assert {r["gan"] for r in by_variant["small-two-class"]} == {"vanilla-gan", "dcgan"}
    # Per class on the merged task: no_tumor and tumor.
    assert {r["key"] for r in by_variant["small-two-class"] if r["gan"] == "dcgan"} == {
        "psnr_nearest_real", "psnr_nearest_real[no_tumor]", "psnr_nearest_real[tumor]", "train_wall_time_min", "train_device_hours",
    }
    big = by_variant["big"]
    assert {r["gan"] for r in big} == {"dcgan"} and {r["resolution"] for r in big} == {32}
    assert {r["key"] for r in big} == {"train_wall_time_min", "train_device_hours"}
    minutes = next(r for r in big if r["key"] == "train_wall_time_min")
    assert minutes["value"] == pytest.approx(minutes["train_wall_time_s"] / 60)
    again = invoke("run", "--suite", "tiny-sweep", "--results", str(tmp_path), "--device", "cpu")
    assert statuses(again.output) == ["skipped"] * 3
    board = invoke("leaderboard", "--suite", "tiny-sweep", "--results", str(tmp_path))
    assert "variant `big`" in board.output and "variant `small-two-class`" in board.output


def test_a_malformed_variant_is_refused_before_training(tmp_path):
    bad = dataclasses.replace(
        TINY_SWEEP, name="tiny-bad-sweep",
        profiles={"smoke": dataclasses.replace(TINY_SWEEP.profiles["smoke"], variants=(Variant("Big Size"),))},
    )
    module = types.ModuleType("bad_sweep")
    module.register_suites = hookimpl(lambda register: register(bad))
    plugins = load_plugins(extra_modules=[("tiny-plugin", tiny_plugin()), ("bad-sweep", module)])
    outcome = CliRunner().invoke(cli, ["run", "--suite", "tiny-bad-sweep", "--results", str(tmp_path)], obj=plugins)
    assert outcome.exit_code != 0 and "lower-kebab" in outcome.output
    assert not (tmp_path / "artifacts").exists()
