"""Suites as TOML files (docs/suite-files.md): every registered suite written by
`ganbench suites show NAME --toml` reads back as the same suite; a bad field is one line
naming the file, the line and what is valid; `--gan-setting` is checked like
`--metric-setting`; and through the CLI a file runs, resumes, enters the config hash
(training reused when only the evaluation changed) and is named by its leaderboard."""

from __future__ import annotations

import json
import re
import types

import pytest
from click.testing import CliRunner

from ganbench import hookimpl
from ganbench.cli import cli
from ganbench.errors import GanbenchError
from ganbench.plugins import load_plugins
from ganbench.results.store import ResultsStore
from ganbench.runner.cell import RunSettings, gan_hparams
from ganbench.runner.matrix import Cell
from ganbench.settings import parse_hyperparameter, validate_gan_settings
from ganbench.specs import ProfileSettings, Suite, Variant
from ganbench.suite_file import (
    SUITE_FILE_PLUGIN,
    SuiteFileError,
    parse_suite_text,
    resolve_suite,
    suite_digest,
    suite_file_origin,
)
from ganbench.suite_file_writer import suite_to_toml
from ganbench.toml_lines import key_lines, line_of
from ganbench_plugins.datasets.brain_phantom import BrainPhantom


class SuiteFilePhantom(BrainPhantom):
    """The embedded phantom, a few images a class: a cell trains in seconds."""

    name = "suite-file-phantom"


def phantom_plugin():
    module = types.ModuleType("suite_file_phantom")

    @hookimpl
    def register_datasets(register):
        register(SuiteFilePhantom(train_per_class=8, test_per_class=4))

    module.register_datasets = register_datasets
    return module


def fresh_plugins():
    """Plugins with a registry of their own: a suite file registers its suite in it."""
    return load_plugins(extra_modules=[("suite-file-phantom", phantom_plugin())])


@pytest.fixture(scope="module")
def registry():
    return fresh_plugins().registry


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], obj=fresh_plugins())


#: The cheapest suite file: one GAN, two training steps, one metric that needs no network.
TINY = """\
# a tiny suite file
name = "tiny-file"
description = "one GAN, two steps"
gans = ["dcgan"]
datasets = ["suite-file-phantom"]
metrics = ["psnr"]

[profiles.smoke]
image_size = 16
n_fake = 8
n_real = 16

[profiles.smoke.gan_overrides]
steps = 2
batch_size = 4
"""


# --------------------------------------------------------------------------- reading and writing


def test_every_registered_suite_reads_back_as_itself(registry):
    names = registry.names("suites")
    assert "brain-mri" in names
    for suite, _ in registry.items("suites"):
        text = suite_to_toml(suite)
        back = parse_suite_text(text, f"{suite.name}.toml", registry)
        assert back == suite, suite.name
        assert suite_to_toml(back) == text


def test_suites_show_toml_prints_a_file_that_runs_as_the_registered_suite(tmp_path):
    shown = invoke("suites", "show", "brain-mri", "--toml")
    assert shown.exit_code == 0, shown.output
    path = tmp_path / "brain-mri.toml"
    path.write_text(shown.output)
    plugins = fresh_plugins()
    # An unchanged copy under the registered name is that suite, not a new one.
    assert resolve_suite(plugins.registry, str(path)) is plugins.registry.get("suites", "brain-mri")
    assert suite_file_origin(plugins.registry, "brain-mri") is None


def test_suites_show_prints_one_fact_a_line(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    shown = invoke("suites", "show", path)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == "suite tiny-file: one GAN, two steps"
    assert f"file: {path.resolve()} (content sha256 " in lines[1]
    assert "GANs: dcgan" in lines
    assert any(line.startswith("profile smoke (default): 16 px;") and "GAN overrides steps=2, batch_size=4" in line for line in lines)
    # The hint never redirects into the file it reads (the shell would empty it first).
    assert lines[-1] == f"as a suite file with every field written out: ganbench suites show {path} --toml > tiny-file-full.toml"


def test_a_variant_sweep_and_every_optional_key_round_trip(registry):
    suite = Suite(
        name="sweep-file", description='quotes " and \\ kept', gans=("dcgan", "vanilla-gan"), datasets=(),
        takes_data=True, metrics=("psnr", "tstr"), classifiers=("small-cnn",), class_task="tumour-vs-normal",
        unconditional_per_class=False, translation_source="no_tumor", source="s", data_note="d",
        default_profile="quick",
        profiles={
            "smoke": ProfileSettings(image_size=16, train_images=10, gans=("dcgan",)),
            "quick": ProfileSettings(
                image_size=32, channels=3, seeds=2, n_fake=20, n_real=30, classifiers=("small-cnn",),
                metric_settings={"classifier_epochs": 2}, gan_overrides={"betas": (0.0, 0.9), "steps": 3},
                variants=(
                    Variant("big", image_size=64, train_images=100, epochs=2, n_fake=40, classifier_epochs=1,
                            class_task="", gans=("dcgan",), metrics=("psnr",),
                            metric_settings={"classifier_epochs": 3}, gan_overrides={"lr_g": 0.001}),
                    Variant("plain"),
                ),
            ),
        },
    )
    text = suite_to_toml(suite)
    assert parse_suite_text(text, "sweep.toml", registry) == suite


def test_the_digest_ignores_comments_and_layout_but_not_fields(registry):
    suite = parse_suite_text(TINY, "a.toml", registry)
    relaid = "\n".join(line.split("#")[0].rstrip() for line in TINY.splitlines()).replace("n_fake = 8", "n_fake    =    8")
    assert suite_digest(parse_suite_text(relaid, "b.toml", registry)) == suite_digest(suite)
    changed = parse_suite_text(TINY.replace("steps = 2", "steps = 3"), "c.toml", registry)
    assert suite_digest(changed) != suite_digest(suite)


def test_key_lines_find_tables_arrays_of_tables_and_dotted_keys():
    text = 'a = 1\n[p.s]\nx = 2\n[[p.s.v]]\nname = "one"\n[[p.s.v]]\nname = "two"\n[p.s.v.m]\nk.j = 3\n'
    lines = key_lines(text)
    assert lines[("a",)] == 1 and lines[("p", "s", "x")] == 3
    assert lines[("p", "s", "v", 1, "name")] == 7 and lines[("p", "s", "v", 1, "m", "k", "j")] == 9
    assert line_of(lines, ("p", "s", "v", 0, "name", 4)) == 5  # an array element: its key's line


# --------------------------------------------------------------------------- one line per bad field


BAD_FIELDS = {
    # what is wrong: (replace this, with that), line, what the message must say
    "unknown GAN": (('gans = ["dcgan"]', 'gans = ["dcgn"]'), 4, ["unknown GAN 'dcgn' in gans", "did you mean dcgan?", "available GANs: ", "vanilla-gan"]),
    "wrong type": (("n_fake = 8", 'n_fake = "many"'), 10, ["profiles.smoke.n_fake must be a whole number of at least 1, got 'many'"]),
    "a bool for a count": (("n_real = 16", "n_real = true"), 11, ["profiles.smoke.n_real must be a whole number", "got true/false"]),
    "unknown key": (("n_real = 16", "n_real = 16\nsedes = 2"), 12, ["unknown key 'sedes' in profiles.smoke (did you mean seeds?)", "valid keys: image_size, channels, seeds"]),
    "unknown top-level key": (("metrics =", "metric = []\nmetrics ="), 6, ["unknown key 'metric' in the top level", "valid keys: name, description"]),
    "bad profile": (("[profiles.smoke]", "[profiles.fast]"), 8, ["unknown profile 'fast' in profiles; valid profiles: smoke, quick, paper"]),
    "TOML syntax": (('metrics = ["psnr"]', 'metrics = ["psnr"'), 8, ["not valid TOML: ", "(column "]),
    "unknown GAN setting": (("steps = 2", "stepz = 2"), 14, ["profiles.smoke.gan_overrides: no GAN of this suite (dcgan) has a hyperparameter 'stepz' (did you mean steps?)", "Valid keys: ", "latent_dim"]),
    "steps and epochs both": (("steps = 2", "steps = 2\nepochs = 1"), 15, ["profiles.smoke.gan_overrides.epochs: give the training length once, as steps or as epochs, not both"]),
    "GAN setting of the wrong type": (("batch_size = 4", "batch_size = 0.5"), 15, ["batch_size=0.5", "batch_size"]),
    "unknown metric setting": (("[profiles.smoke.gan_overrides]", "[profiles.smoke.metric_settings]\nbootstrapp = 3\n[profiles.smoke.gan_overrides]"), 14, ["bootstrapp"]),
    "not kebab": (('name = "tiny-file"', 'name = "Tiny File"'), 2, ["name must be lower-kebab-case", "'Tiny File'"]),
    "missing image size": (("image_size = 16\n", ""), 8, ["profiles.smoke lacks image_size"]),
    "unknown class task": (("metrics =", 'class_task = "tumor-only"\nmetrics ='), 6, ["unknown class task 'tumor-only'", "tumour-vs-normal"]),
    "default profile not in the file": (("metrics =", 'default_profile = "paper"\nmetrics ='), 6, ["default_profile 'paper' is not a profile of this file; its profiles: smoke"]),
    "downstream metric without a classifier": (('metrics = ["psnr"]', 'metrics = ["psnr", "tstr"]'), 6, ["the downstream metric tstr trains a classifier", "available: ", "small-cnn"]),
    "two variants of one name": (("[profiles.smoke.gan_overrides]", '[[profiles.smoke.variants]]\nname = "v"\n[[profiles.smoke.variants]]\nname = "v"\n[profiles.smoke.gan_overrides]'), 16, ["two variants of profiles.smoke are named 'v'"]),
}


@pytest.mark.parametrize("what", list(BAD_FIELDS))
def test_a_bad_field_names_the_file_the_line_and_what_is_valid(registry, what):
    (old, new), line, phrases = BAD_FIELDS[what]
    assert TINY.count(old) == 1
    with pytest.raises(SuiteFileError) as caught:
        parse_suite_text(TINY.replace(old, new), "my-suite.toml", registry)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"my-suite.toml, line {line}: "), message
    for phrase in phrases:
        assert phrase in message, (phrase, message)


def test_a_bad_file_fails_the_run_with_one_line_and_no_traceback(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(TINY.replace('gans = ["dcgan"]', 'gans = ["dcgn"]'))
    outcome = invoke("run", "--suite", path, "--results", tmp_path / "results", "--device", "cpu")
    assert outcome.exit_code == 2
    lines = [line for line in outcome.output.splitlines() if line.strip()]
    assert lines == [f"Error: {path}, line 4: " + lines[0].split(", line 4: ", 1)[1]], outcome.output
    assert "unknown GAN 'dcgn'" in lines[0] and "Traceback" not in outcome.output
    assert not (tmp_path / "results" / "results.sqlite").exists()  # refused before anything ran


def test_a_missing_file_says_how_registered_suites_are_named(tmp_path):
    outcome = invoke("run", "--suite", tmp_path / "nope.toml", "--results", tmp_path, "--device", "cpu")
    assert outcome.exit_code == 2 and "no such suite file" in outcome.output and "ganbench list suites" in outcome.output


def test_a_registered_name_is_refused_for_a_different_suite(tmp_path, registry):
    path = tmp_path / "mine.toml"
    path.write_text(TINY.replace('name = "tiny-file"', 'name = "brain-mri"'))
    with pytest.raises(SuiteFileError) as caught:
        resolve_suite(fresh_plugins().registry, str(path))
    assert str(caught.value).startswith(f"{path}, line 2: name 'brain-mri' is taken by a different suite (plugin ")
    assert "'my-brain-mri'" in str(caught.value)


def test_a_file_suite_is_registered_with_its_path_and_digest(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    registry = fresh_plugins().registry
    suite = resolve_suite(registry, str(path))
    origin = suite_file_origin(registry, "tiny-file")
    assert origin.plugin == SUITE_FILE_PLUGIN and origin.distribution == str(path.resolve())
    assert origin.version == suite_digest(suite)
    assert resolve_suite(registry, str(path)) is suite  # read again: the same registration
    assert resolve_suite(registry, "tiny-file") is suite  # and found by its name


# --------------------------------------------------------------------------- --gan-setting


def test_gan_settings_are_typed_like_each_gan_default(registry):
    typed = validate_gan_settings(registry, ("dcgan", "wgan-gp"), "smoke", {"steps": "4", "betas": "0.1,0.2", "n_critic": "2"})
    assert typed["dcgan"] == {"steps": 4, "betas": (0.1, 0.2)}  # dcgan has no n_critic
    assert typed["wgan-gp"] == {"steps": 4, "betas": (0.1, 0.2), "n_critic": 2}
    assert parse_hyperparameter("flag", "true", None) is True and parse_hyperparameter("x", "1", None) == 1


@pytest.mark.parametrize(
    "raw, phrases",
    [
        ({"stepz": "4"}, ["--gan-setting: no GAN of this run (dcgan) has a hyperparameter 'stepz' (did you mean steps?)", "Valid keys: batch_size, betas, channels_last, epochs, fused_adam"]),
        ({"steps": "0"}, ["--gan-setting: steps='0'"]),
        ({"steps": "many"}, ["steps='many'"]),
        ({"betas": "0.5"}, ["betas='0.5': expected 2 comma-separated values like 0.5,0.999", "dcgan's default at profile smoke: (0.5, 0.999)"]),
        ({"lr_g": "fast"}, ["lr_g='fast'", "dcgan's default at profile smoke: 0.0002"]),
        ({"steps": "4", "epochs": "2"}, ["give the training length once, as steps or as epochs, not both"]),
    ],
)
def test_a_bad_gan_setting_is_one_message_with_the_valid_values(registry, raw, phrases):
    with pytest.raises(GanbenchError) as caught:
        validate_gan_settings(registry, ("dcgan",), "smoke", raw)
    assert "\n" not in str(caught.value)
    for phrase in phrases:
        assert phrase in str(caught.value), (phrase, str(caught.value))


def test_a_gan_setting_in_steps_replaces_the_variant_epochs_and_wins_over_the_suite(registry):
    gan = registry.get("gans", "dcgan")
    settings = ProfileSettings(image_size=16, gan_overrides={"steps": 3, "lr_g": 0.5}, variants=(Variant("ep", epochs=2),))
    cell = Cell(suite="s", dataset="d", gan="dcgan", seed=0, profile="smoke", variant="ep")
    assert gan_hparams(gan, cell, settings)["epochs"] == 2 and "steps" not in gan_hparams(gan, cell, settings)
    run = RunSettings(**{k: getattr(settings, k) for k in ("image_size", "gan_overrides", "variants")}, gan_settings={"dcgan": {"steps": 5}})
    hparams = gan_hparams(gan, cell, run)
    assert hparams["steps"] == 5 and "epochs" not in hparams and hparams["lr_g"] == 0.5


# --------------------------------------------------------------------------- through the CLI


def statuses(output: str) -> list[str]:
    """The per-cell status words the run command ends with ("ran KEY (run ID)"), in
    order; a line may start with a timestamp (output to a file or pipe)."""
    return re.findall(r"\b(ran|skipped|failed) \S+/seed-\d+\S* \(run ", output)


def training_stages(results) -> set[str]:
    return {p.name for p in (results / "training").iterdir() if p.is_dir()}


@pytest.mark.slow
def test_a_suite_file_runs_resumes_and_enters_the_config_hash(tmp_path):
    path, results = tmp_path / "tiny.toml", tmp_path / "results"
    path.write_text(TINY)
    run = ("run", "--suite", path, "--results", results, "--device", "cpu")

    first = invoke(*run)
    assert first.exit_code == 0, first.output
    assert statuses(first.output) == ["ran"]
    board = (results / "leaderboard-tiny-file.md").read_text()
    assert "Suite file `tiny.toml` (content sha256 `" in board.split("\n## ", 1)[0]
    rows = ResultsStore(results).rows("tiny-file")
    assert {r["status"] for r in rows} == {"ok"}
    config = json.loads(rows[0]["config_json"])
    assert config["suite_file"] == suite_digest(parse_suite_text(TINY, "x", fresh_plugins().registry))
    assert config["gan_hparams"]["steps"] == 2 and config["gan_hparams"]["batch_size"] == 4
    stages = training_stages(results)
    assert len(stages) == 1

    # An unchanged file, a comment added: every cell is done already.
    path.write_text("# reviewed\n" + TINY)
    assert statuses(invoke(*run).output) == ["skipped"]

    # Only the description changed: a new config hash, so the cell runs again, but
    # training is not part of what changed: the trained generator is reused.
    path.write_text(TINY.replace("one GAN, two steps", "one GAN, two steps, described anew"))
    described = invoke(*run)
    assert statuses(described.output) == ["ran"], described.output
    assert training_stages(results) == stages
    hashes = {r["config_hash"] for r in ResultsStore(results).rows("tiny-file")}
    assert len(hashes) == 2

    # A GAN hyperparameter of the file changed: the cell trains anew.
    path.write_text(TINY.replace("steps = 2", "steps = 3"))
    retrained = invoke(*run)
    assert statuses(retrained.output) == ["ran"], retrained.output
    assert len(training_stages(results)) == 2

    # --gan-setting over the file's: typed, recorded, and again a new training.
    overridden = invoke(*run, "--gan-setting", "steps=1")
    assert statuses(overridden.output) == ["ran"], overridden.output
    newest = ResultsStore(results).rows("tiny-file")[-1]
    assert json.loads(newest["config_json"])["gan_hparams"]["steps"] == 1
    assert len(training_stages(results)) == 3

    # The leaderboard command takes the file too, and names it.
    out = tmp_path / "board.md"
    board = invoke("leaderboard", "--suite", path, "--results", results, "--out", out)
    assert board.exit_code == 0, board.output
    assert "Suite file `tiny.toml`" in out.read_text()


def test_a_bad_gan_setting_fails_the_run_before_anything_runs(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    outcome = invoke("run", "--suite", path, "--results", tmp_path / "results", "--device", "cpu", "--gan-setting", "stepz=1")
    assert outcome.exit_code == 2 and "Traceback" not in outcome.output
    lines = [line for line in outcome.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "has a hyperparameter 'stepz' (did you mean steps?)" in lines[0], outcome.output


def test_the_documented_example_is_a_valid_suite_file(registry):
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "suite-files.md").read_text()
    example = re.search(r"```toml\n(.*?)```", text, flags=re.S).group(1)
    suite = parse_suite_text(example, "docs/suite-files.md", registry)
    assert suite.name == "my-suite" and suite.profiles["smoke"].variants[0].train_images == 200
    assert suite_to_toml(parse_suite_text(suite_to_toml(suite), "again.toml", registry)) == suite_to_toml(suite)


def test_list_gans_json_shows_what_gan_settings_may_set():
    listed = {r["name"]: r for r in json.loads(invoke("list", "gans", "--json").output)}
    assert listed["dcgan"]["hyperparameters"]["smoke"]["steps"] == 150
    assert listed["dcgan"]["hyperparameters"]["smoke"]["betas"] == [0.5, 0.999]


def test_a_file_leaderboard_keeps_only_the_rows_of_the_file_current_content():
    from ganbench.registry import Provenance
    from ganbench.suite_file import rows_of_this_version

    origin = Provenance(SUITE_FILE_PLUGIN, "/x/tiny.toml", "new")
    rows = [
        {"id": 1, "config_json": json.dumps({"suite_file": "old"})},
        {"id": 2, "config_json": json.dumps({"suite_file": "new"})},
        {"id": 3, "config_json": json.dumps({"gan": "external"})},  # ganbench evaluate's: kept
    ]
    assert [r["id"] for r in rows_of_this_version(rows, origin)] == [2, 3]
    assert rows_of_this_version(rows, None) == rows


@pytest.mark.slow
def test_evaluate_takes_a_suite_file_and_records_its_content(tmp_path):
    import numpy as np
    from PIL import Image

    path, samples, results = tmp_path / "tiny.toml", tmp_path / "samples", tmp_path / "results"
    path.write_text(TINY)
    noise = np.random.default_rng(0)
    for name in ("glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor"):
        (samples / name).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(noise.integers(0, 256, (16, 16), dtype=np.uint8)).save(samples / name / f"{i}.png")
    outcome = invoke("evaluate", "--suite", path, "--samples", samples, "--name", "my-gan", "--results", results, "--device", "cpu")
    assert outcome.exit_code == 0, outcome.output
    rows = ResultsStore(results).rows("tiny-file")
    assert rows and {r["gan"] for r in rows} == {"my-gan"}
    digest = suite_digest(parse_suite_text(TINY, "x", fresh_plugins().registry))
    assert {json.loads(r["config_json"])["suite_file"] for r in rows} == {digest}
