"""`ganbench evaluate`: samples of a GAN trained elsewhere, scored with a suite's metrics,
stored as rows of an external GAN and ranked on the leaderboard beside ganbench's own.

FID runs on tiny sets here (16 generated, 24 real images at 16 px): the Inception network
takes about half a second per image on one CPU thread, so the brain-mri smoke profile's
600 images would take minutes. The brain-mri suite (and its embedded phantom) is used
where nothing is computed: the checks that refuse a folder or a name."""

import json
import math
import re
import types
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ganbench import hookimpl
from ganbench.cli import cli, evaluate_command
from ganbench.plugins import load_plugins
from ganbench.results.store import ResultsStore
from ganbench.specs import ProfileSettings, SilentProgress, Suite
from ganbench_plugins.datasets.brain_phantom import BrainPhantom

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ("glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor")


class ExternalPhantom(BrainPhantom):
    name = "external-phantom"


SMOKE = ProfileSettings(image_size=16, n_fake=16, n_real=24, gan_overrides={"steps": 2, "batch_size": 4})

#: FID, a paired and a classifier metric, and training cost (which external samples lack).
WITH_FID = Suite(
    name="tiny-external",
    description="evaluate test suite",
    gans=("dcgan",),
    datasets=("external-phantom",),
    metrics=("fid", "psnr", "tstr", "training-cost"),
    classifiers=("small-cnn",),
    profiles={"smoke": SMOKE},
)
#: Without FID, for what does not depend on the Inception network.
CHEAP = Suite(
    name="tiny-external-cheap",
    description="evaluate test suite, no Inception",
    gans=("dcgan",),
    datasets=("external-phantom",),
    metrics=("psnr", "tstr", "training-cost"),
    classifiers=("small-cnn",),
    profiles={"smoke": SMOKE},
)


def plugin():
    module = types.ModuleType("tiny_external_plugin")

    @hookimpl
    def register_suites(register):
        register(WITH_FID)
        register(CHEAP)

    @hookimpl
    def register_datasets(register):
        register(ExternalPhantom(train_per_class=8, test_per_class=4))

    module.register_suites, module.register_datasets = register_suites, register_datasets
    return module


@pytest.fixture(scope="module")
def plugins():
    return load_plugins(extra_modules=[("tiny-external-plugin", plugin())])


def invoke(plugins, *args):
    return CliRunner().invoke(cli, list(args), obj=plugins, catch_exceptions=False)


def evaluate(plugins, suite, samples, name, results, *extra):
    return invoke(
        plugins, "evaluate", "--suite", suite, "--samples", str(samples), "--name", name, "--results", str(results),
        "--device", "cpu", "--metric-setting", "classifier_epochs=1", "--classifiers", "small-cnn", *extra,
    )


def write_samples(folder: Path, per_class: int, names=("glioma", "Meningioma", "no_tumor", "pituitary_tumour"), size=16):
    """Real phantom test images as PNGs in class folders spelt otherwise than the
    dataset's class names; returns the folder."""
    data = ExternalPhantom(train_per_class=8, test_per_class=4).load(None, size, 1, SilentProgress())
    for label, name in enumerate(names):
        (folder / name).mkdir(parents=True, exist_ok=True)
        images = data.test.of_class(label).images
        for i in range(per_class):
            Image.fromarray(images[i % len(images), 0].numpy()).save(folder / name / f"{i:03d}.png")
    return folder


def rows_of(results: Path, suite: str, gan: str) -> list[dict]:
    return [r for r in ResultsStore(results).rows(suite) if r["gan"] == gan]


# --------------------------------------------------------------------------- with FID


@pytest.fixture(scope="module")
def evaluated(plugins, tmp_path_factory, session_inception_cache):
    """A dcgan trained by ganbench (two steps: noise) and real phantom images brought
    as the external GAN `my-gan`, into one results folder."""
    results = tmp_path_factory.mktemp("results")
    samples = write_samples(tmp_path_factory.mktemp("samples"), per_class=4)
    trained = invoke(plugins, "run", "--suite", "tiny-external", "--results", str(results), "--device", "cpu",
                     "--metric-setting", "classifier_epochs=1", "--seeds", "1", "--no-leaderboard")
    assert trained.exit_code == 0, trained.output
    first = evaluate(plugins, "tiny-external", samples, "my-gan", results)
    return results, samples, first


@pytest.mark.slow
def test_samples_are_scored_and_stored_as_an_external_gan(evaluated):
    results, samples, outcome = evaluated
    assert outcome.exit_code == 0, outcome.output
    assert "ran tiny-external/external-phantom/external-my-gan/seed-0/smoke" in outcome.output
    rows = rows_of(results, "tiny-external", "my-gan")
    assert {r["cell_key"] for r in rows} == {"tiny-external/external-phantom/external-my-gan/seed-0/smoke"}
    config = json.loads(rows[0]["config_json"])
    external = config["external"]
    assert external["samples"] == str(samples.resolve()) and external["count"] == 16 and len(external["fingerprint"]) == 64
    assert external["classes"] == {"Meningioma": "meningioma_tumor", "glioma": "glioma_tumor", "no_tumor": "no_tumor", "pituitary_tumour": "pituitary_tumor"}
    assert config["training"] == "external" and json.loads(rows[0]["plugins_json"])["gans/my-gan"]["plugin"] == "external"
    fid = next(r for r in rows if r["key"] == "fid")
    assert fid["status"] == "ok" and math.isfinite(fid["value"]) and fid["n_fake"] == 16 and fid["n_real"] == 24
    # Real images score better than a GAN trained for two steps.
    dcgan = next(r for r in rows_of(results, "tiny-external", "dcgan") if r["key"] == "fid")
    assert fid["value"] < dcgan["value"]
    by_key = {r["key"]: r for r in rows}
    assert by_key["tstr_accuracy"]["status"] == "ok" and by_key["psnr_nearest_real[glioma_tumor]"]["status"] == "ok"
    for key in ("train_wall_time_min", "train_device_hours"):
        assert by_key[key]["status"] == "unavailable" and "did not train" in by_key[key]["error"]
    assert (results / fid["artifacts_dir"] / "samples.png").is_file()


@pytest.mark.slow
def test_the_leaderboard_ranks_it_beside_the_trained_gans_marked_external(evaluated):
    results, _, _ = evaluated
    text = (results / "leaderboard-tiny-external.md").read_text()
    assert text.count("\n## external-phantom") == 1  # one table: the same data, size and classes
    assert re.search(r"^\| my-gan \(external\) +\|", text, flags=re.M) and re.search(r"^\| dcgan +\|", text, flags=re.M)
    assert "External: my-gan: samples generated outside ganbench and evaluated as given" in text
    assert "not trained by ganbench" in text


@pytest.mark.slow
def test_evaluating_the_same_folder_again_is_skipped(evaluated, plugins):
    results, samples, _ = evaluated
    before = ResultsStore(results).rows()
    again = evaluate(plugins, "tiny-external", samples, "my-gan", results, "--no-leaderboard")
    assert again.exit_code == 0, again.output
    assert "skipped tiny-external/external-phantom/external-my-gan/seed-0/smoke" in again.output
    assert ResultsStore(results).rows() == before


# --------------------------------------------------------------------------- no FID


def test_a_changed_folder_is_a_new_result_and_force_evaluates_again(plugins, tmp_path):
    samples = write_samples(tmp_path / "samples", per_class=4)
    first = evaluate(plugins, "tiny-external-cheap", samples, "mine", tmp_path / "results")
    assert first.exit_code == 0, first.output
    forced = evaluate(plugins, "tiny-external-cheap", samples, "mine", tmp_path / "results", "--force")
    assert "    ran " in forced.output
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(samples / "glioma" / "000.png")
    changed = evaluate(plugins, "tiny-external-cheap", samples, "mine", tmp_path / "results")
    assert changed.exit_code == 0 and "    ran " in changed.output
    rows = [r for r in rows_of(tmp_path / "results", "tiny-external-cheap", "mine") if r["key"] == "psnr_nearest_real"]
    fingerprints = [json.loads(r["config_json"])["external"]["fingerprint"] for r in rows]
    assert len(rows) == 3 and fingerprints[0] == fingerprints[1] != fingerprints[2]
    assert len({r["config_hash"] for r in rows}) == 2


def test_fewer_images_than_n_fake_warn_and_more_are_drawn_down_to_it(plugins, tmp_path):
    few = evaluate(plugins, "tiny-external-cheap", write_samples(tmp_path / "few", per_class=2), "few", tmp_path / "results", "--no-leaderboard")
    assert few.exit_code == 0 and "holds 8 images, fewer than the 16" in few.output
    many = evaluate(plugins, "tiny-external-cheap", write_samples(tmp_path / "many", per_class=6), "many", tmp_path / "results", "--no-leaderboard")
    assert many.exit_code == 0, many.output
    counts = {r["gan"]: r["n_fake"] for r in ResultsStore(tmp_path / "results").rows() if r["key"] == "psnr_nearest_real"}
    assert counts == {"few": 8, "many": 16}


def test_one_folder_of_images_is_unconditional_unless_a_class_is_given(plugins, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    for i in range(16):  # other sizes and colour: read as the datasets read images
        Image.fromarray(np.full((40, 30, 3), 10 * i, np.uint8)).save(flat / f"{i}.jpg")
    plain = evaluate(plugins, "tiny-external-cheap", flat, "flat", tmp_path / "results", "--no-leaderboard")
    assert plain.exit_code == 0, plain.output
    rows = {r["key"]: r for r in rows_of(tmp_path / "results", "tiny-external-cheap", "flat")}
    assert rows["psnr_nearest_real"]["status"] == "ok" and rows["psnr_nearest_real"]["resolution"] == 16
    assert rows["tstr_accuracy"]["status"] == "unavailable" and "without classes" in rows["tstr_accuracy"]["error"]
    classed = evaluate(plugins, "tiny-external-cheap", flat, "flat-glioma", tmp_path / "results", "--no-leaderboard", "--class", "Glioma")
    assert classed.exit_code == 0, classed.output
    config = json.loads(rows_of(tmp_path / "results", "tiny-external-cheap", "flat-glioma")[0]["config_json"])
    assert config["external"]["classes"] == {".": "glioma_tumor"}
    wrong = evaluate(plugins, "tiny-external-cheap", flat, "flat-x", tmp_path / "results", "--class", "astrocytoma")
    assert wrong.exit_code == 2 and "--class 'astrocytoma'" in wrong.output and "glioma_tumor" in wrong.output


def test_an_unreadable_image_is_named(plugins, tmp_path):
    samples = write_samples(tmp_path / "samples", per_class=4)
    (samples / "glioma" / "broken.png").write_bytes(b"not a png")
    outcome = evaluate(plugins, "tiny-external-cheap", samples, "broken", tmp_path / "results")
    assert outcome.exit_code == 2
    assert "broken.png" in outcome.output and "unreadable image" in outcome.output
    assert not ResultsStore(tmp_path / "results").rows()


# --------------------------------------------------------------------------- refusals on brain-mri


def test_a_sub_folder_that_is_no_class_is_refused_naming_the_classes(plugins, tmp_path):
    samples = tmp_path / "samples"
    for name in ("glioma", "astrocytoma"):
        (samples / name).mkdir(parents=True)
        Image.fromarray(np.zeros((32, 32), np.uint8)).save(samples / name / "0.png")
    outcome = evaluate(plugins, "brain-mri", samples, "my-gan", tmp_path / "results")
    assert outcome.exit_code == 2
    assert "'astrocytoma' matches no class" in outcome.output
    assert all(name in outcome.output for name in CLASSES)


def test_the_name_of_a_registered_gan_is_refused(plugins, tmp_path):
    samples = write_samples(tmp_path / "samples", per_class=1)
    outcome = evaluate(plugins, "brain-mri", samples, "dcgan", tmp_path / "results")
    assert outcome.exit_code == 2 and "--name 'dcgan' is a GAN ganbench trains" in outcome.output
    bad = evaluate(plugins, "brain-mri", samples, "My_GAN", tmp_path / "results")
    assert bad.exit_code == 2 and "lower-kebab" in bad.output


def test_an_empty_folder_is_refused(plugins, tmp_path):
    (tmp_path / "empty" / "glioma").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    outcome = evaluate(plugins, "brain-mri", tmp_path / "empty", "my-gan", tmp_path / "results")
    assert outcome.exit_code == 2 and "is empty: no images" in outcome.output
    missing = evaluate(plugins, "brain-mri", tmp_path / "nowhere", "my-gan", tmp_path / "results")
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_the_documented_command_uses_the_command_s_options():
    doc = (ROOT / "docs" / "evaluate.md").read_text()
    commands = [line for line in doc.splitlines() if line.startswith("ganbench evaluate ")]
    assert commands, "docs/evaluate.md shows no `ganbench evaluate` command"
    known = {opt for param in evaluate_command.params for opt in param.opts + param.secondary_opts}
    for command in commands:
        used = set(re.findall(r"(?<!\S)(--[a-z-]+)", command))
        assert used <= known, used - known
        assert {"--suite", "--samples", "--name"} <= used
