"""Declared settings (issue 11, item 6): a run accepts only the settings its metrics,
classifiers and runner declare, typed and checked before any data is loaded or any GAN
trained; a typo or a bad value is one message naming the key, the value, what was
expected and the valid keys; values enter the config hash in normal form, so the
published results still resume."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from ganbench import hookimpl
from ganbench.errors import GanbenchError
from ganbench.results.provenance import canonical_json, config_hash
from ganbench.runner.suite_run import RunRequest, run_suite
from ganbench.settings import Setting, describe_settings, resolve_metric_settings, validate_metric_settings
from ganbench.specs import Metric, MetricResult, ProfileSettings
from ganbench.testing import check_classifier, check_metric, load_isolated
from ganbench_plugins.classifiers.small_cnn import SmallCNN
from ganbench_plugins.metrics.downstream import classifier_hparams



class DropoutCNN(SmallCNN):
    """A classifier that takes a setting of its own."""

    name = "dropout-cnn"
    settings = (Setting("dropout", float, None, "Dropout before the last layer", minimum=0.0, maximum=1.0),)


class DropoutPlugin:
    @hookimpl
    def register_classifiers(self, register):
        register(DropoutCNN())


BUILTINS = load_isolated(DropoutPlugin(), builtins=True).registry
SUITE = BUILTINS.get("suites", "brain-mri")
PUBLISHED = Path(__file__).resolve().parents[1] / "leaderboards" / "brain-mri.results.jsonl"


def validate(raw, classifiers=("small-cnn",)):
    return validate_metric_settings(BUILTINS, SUITE.metrics, classifiers, raw)


# --------------------------------------------------------------------------- refused up front


def test_an_unknown_key_is_refused_with_a_suggestion_and_the_valid_keys():
    with pytest.raises(GanbenchError) as info:
        validate({"fidelty_bootstrap": "10"})
    message = str(info.value)
    assert "'fidelty_bootstrap'" in message and "did you mean fidelity_bootstrap?" in message
    assert "Valid settings: classifier_epochs, fidelity_bootstrap, memorization_spaces, n_real, synthetic_share" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("classifier_epochs", "abc", "expected an integer, at least 1"),
        ("classifier_epochs", "0", "expected an integer, at least 1"),
        ("classifier_epochs", "2.5", "expected an integer"),
        ("fidelity_bootstrap", "5", "0 (off) or at least 20"),
        ("synthetic_share", "1", "below 1"),
        ("synthetic_share", "nan", "expected a number"),
        ("memorization_spaces", "pixels,pixel", "a comma-separated list, of pixels, inception"),
        ("n_real", "-3", "expected an integer, at least 1"),
    ],
)
def test_a_bad_value_is_refused_naming_key_value_and_type(key, value, expected):
    with pytest.raises(GanbenchError) as info:
        validate({key: value})
    message = str(info.value)
    assert message.startswith("--metric-setting: ")
    assert f"{key}={value!r}" in message and expected in message


def test_every_problem_is_named_in_one_message():
    with pytest.raises(GanbenchError) as info:
        validate({"classifier_epochs": "abc", "fidelty_bootstrap": "10"})
    assert "classifier_epochs='abc'" in str(info.value) and "'fidelty_bootstrap'" in str(info.value)


def test_the_runners_own_keys_cannot_be_set():
    with pytest.raises(GanbenchError, match="profile cannot be set: .*use --profile"):
        validate({"profile": "paper"})


def test_a_classifier_setting_needs_that_classifier_in_the_run():
    with pytest.raises(GanbenchError, match="no metric or classifier of this run takes 'dropout'"):
        validate({"dropout": "0.5"})
    assert validate({"dropout": "0.5"}, classifiers=("small-cnn", "dropout-cnn")) == {"dropout": 0.5}


# --------------------------------------------------------------------------- typed and normalised


def test_good_values_are_typed_and_normalised():
    typed = validate({
        "fidelity_bootstrap": "0100", "classifier_epochs": " 2 ", "synthetic_share": "0.25",
        "memorization_spaces": "inception, pixels,pixels", "n_real": "500",
    })
    assert typed == {
        "fidelity_bootstrap": 100, "classifier_epochs": 2, "synthetic_share": 0.25,
        "memorization_spaces": ("pixels", "inception"), "n_real": 500,
    }
    assert type(typed["fidelity_bootstrap"]) is int and type(typed["synthetic_share"]) is float


def test_one_value_spelled_two_ways_hashes_the_same():
    assert canonical_json(validate({"fidelity_bootstrap": "100"})) == canonical_json(validate({"fidelity_bootstrap": "0100"}))


def test_a_value_at_its_default_leaves_the_hash_unchanged():
    assert validate({"fidelity_bootstrap": "0", "synthetic_share": "0.50", "memorization_spaces": "pixels"}) == {}


def test_python_values_from_a_suite_are_checked_as_strings_are():
    assert validate({"memorization_spaces": ("pixels", "inception"), "classifier_epochs": 3}) == {
        "memorization_spaces": ("pixels", "inception"), "classifier_epochs": 3,
    }
    with pytest.raises(GanbenchError, match="expected an integer"):
        validate({"classifier_epochs": True})


def test_published_results_keep_their_config_hash():
    """Every cell of the published leaderboard hashes the same with the resolved
    settings in place of the stored ones, so a re-run resumes instead of retraining."""
    resolved = resolve_metric_settings(BUILTINS, SUITE, "smoke", ("small-cnn", "ijacsa-cnn"), {})
    rows = [json.loads(line) for line in PUBLISHED.read_text().splitlines() if line.strip()]
    assert rows
    for row in rows:
        config = json.loads(row["config_json"])
        for recorded_only in ("ganbench_version", "data_notes", "data_leakage"):
            config.pop(recorded_only, None)
        assert config_hash({**config, "metric_settings": resolved}) == row["config_hash"]


@pytest.mark.parametrize("profile", sorted(SUITE.profiles))
def test_the_suites_own_settings_enter_the_hash_as_before(profile):
    own = SUITE.profiles[profile].metric_settings
    resolved = resolve_metric_settings(BUILTINS, SUITE, profile, SUITE.classifiers, {})
    assert canonical_json(resolved) == canonical_json(dict(own))


def test_an_override_replaces_the_suites_value_and_its_default_removes_it():
    assert resolve_metric_settings(BUILTINS, SUITE, "quick", ("small-cnn",), {"memorization_spaces": "inception"}) == {
        "memorization_spaces": ("inception",)
    }
    assert resolve_metric_settings(BUILTINS, SUITE, "quick", ("small-cnn",), {"memorization_spaces": "pixels"}) == {}


# --------------------------------------------------------------------------- suites


def suite_plugin(metric_settings):
    bad = replace(SUITE, name="bad-suite", profiles={"smoke": ProfileSettings(image_size=32, metric_settings=metric_settings)})

    class Plugin:
        @hookimpl
        def register_suites(self, register):
            register(bad)

    return bad, Plugin()


def test_a_suite_with_invalid_settings_of_its_own_is_refused_at_resolution():
    suite, plugin = suite_plugin({"memorization_spaces": ("pixels", "pixel")})
    registry = load_isolated(plugin, builtins=True).registry
    with pytest.raises(GanbenchError) as info:
        resolve_metric_settings(registry, suite, "smoke", ("small-cnn",), {})
    message = str(info.value)
    assert message.startswith("suite 'bad-suite', profile 'smoke', metric_settings: memorization_spaces=")
    assert "of pixels, inception" in message


@pytest.fixture
def no_data_load(monkeypatch):
    """Loading the phantom fails the test: validation must come before any data."""
    phantom = type(BUILTINS.get("datasets", "brain-phantom"))

    def refuse(*args, **kwargs):
        raise AssertionError("the dataset was loaded before the settings were checked")

    monkeypatch.setattr(phantom, "load", refuse)


@pytest.mark.parametrize(
    "settings, message",
    [({"fidelty_bootstrap": "10"}, "did you mean fidelity_bootstrap"), ({"classifier_epochs": "abc"}, "expected an integer")],
)
def test_a_run_refuses_bad_settings_before_loading_any_data(settings, message, tmp_path, no_data_load):
    request = RunRequest(suite="brain-mri", metric_settings=settings, results_dir=tmp_path / "results")
    with pytest.raises(GanbenchError, match=message):
        run_suite(BUILTINS, request)


def test_a_run_refuses_a_suite_whose_own_settings_are_invalid(tmp_path, no_data_load):
    _, plugin = suite_plugin({"classifier_epochs": "many"})
    registry = load_isolated(plugin, builtins=True).registry
    with pytest.raises(GanbenchError, match="suite 'bad-suite', profile 'smoke', metric_settings: classifier_epochs='many'"):
        run_suite(registry, RunRequest(suite="bad-suite", results_dir=tmp_path / "results"))


# --------------------------------------------------------------------------- declarations


class Knob(Metric):
    name = "knob"
    description = "The value of a knob"
    source = "tests"
    result_keys = ("knob",)
    protocol = "Reports the knob setting."
    settings = (Setting("knob", float, 1.0, "The knob"),)

    def compute(self, evaluation, classifier=None):
        return MetricResult({"knob": self.settings[0].read(evaluation.settings)})


def knob(**attributes):
    return type("BrokenKnob", (Knob,), attributes)()


@pytest.mark.parametrize(
    "settings, rule",
    [
        (("knob",), "must hold ganbench.settings.Setting declarations, got 'knob'"),
        ([Setting("knob", float, 1.0, "The knob")], "must be a tuple of ganbench.settings.Setting, got list"),
        ((Setting("knob", float, 1.0, "The knob"),) * 2, "declares knob more than once"),
        ((Setting("n_real", int, None, "Mine"),), "declares n_real, which the runner sets"),
    ],
)
def test_the_contract_check_catches_a_malformed_declaration(settings, rule):
    with pytest.raises(AssertionError, match=rule) as info:
        check_metric(knob(settings=settings))
    assert str(info.value).startswith("metric 'knob' breaks the plugin contract: ")


def test_the_contract_check_catches_a_metric_reading_an_undeclared_setting():
    reading = knob(compute=lambda self, evaluation, classifier=None: MetricResult({"knob": float(evaluation.settings.get("dial", 1))}))
    with pytest.raises(AssertionError, match=r"read settings it does not declare in `settings`: \['dial'\]"):
        check_metric(reading)
    assert check_metric(Knob()).values == {"knob": 1.0}


def test_the_contract_check_catches_a_classifier_declaring_a_malformed_setting():
    broken = type("BrokenCNN", (SmallCNN,), {"name": "broken-cnn", "settings": ({"name": "dropout"},)})()
    with pytest.raises(AssertionError, match="classifier 'broken-cnn' breaks the plugin contract: settings must hold"):
        check_classifier(broken)


@pytest.mark.parametrize(
    "fields, error",
    [
        (("Knob", float, 1.0, "The knob"), "must be snake_case"),
        (("knob", list, None, "The knob"), "type must be one of"),
        (("knob", float, 1.0, " "), "needs a one-line description"),
        (("knob", int, 5, "The knob", None, 10), "its default is not a valid value"),
        (("knob", int, None, "The knob", None, None, None, lambda v: True), "check must be a callable stated in words"),
        (("knob", int, None, "The knob", ("a",)), "every choice must be an integer"),
        (("knob", str, None, "The knob", None, 1), "only an int or float setting has a minimum"),
        (("knob", tuple, ["a"], "The knob"), "not in normal form"),
    ],
)
def test_a_malformed_setting_fails_where_it_is_declared(fields, error):
    with pytest.raises((TypeError, ValueError), match=error):
        Setting(*fields)


def test_a_run_names_a_plugin_with_a_malformed_declaration():
    broken = knob(settings=("knob",))

    class Plugin:
        @hookimpl
        def register_metrics(self, register):
            register(broken)

    registry = load_isolated(Plugin()).registry
    with pytest.raises(GanbenchError, match=r"metric 'knob' declares its settings wrongly .*check_metric"):
        validate_metric_settings(registry, ["knob"], [], {"knob": "2"})


def test_builtin_declarations_are_listed():
    listed = {s["name"]: s for m in ("fid", "kid", "memorization", "tstr", "trstr") for s in describe_settings(BUILTINS.get("metrics", m))}
    assert listed["fidelity_bootstrap"] == {
        "name": "fidelity_bootstrap", "type": "int", "default": 0,
        "description": "Bootstrap resamples for 95% intervals of FID and KID (0: none)",
        "expected": "an integer, 0 (off) or at least 20",
    }
    assert listed["memorization_spaces"]["default"] == ["pixels"] and listed["memorization_spaces"]["type"] == "list"
    assert set(listed) == {"fidelity_bootstrap", "memorization_spaces", "classifier_epochs", "synthetic_share"}
    json.dumps(listed)


def test_a_classifier_setting_replaces_its_hyperparameter():
    hparams = classifier_hparams(DropoutCNN(), {"profile": "smoke", "dropout": 0.5, "classifier_epochs": 2})
    assert hparams["dropout"] == 0.5 and hparams["epochs"] == 2
    assert "dropout" not in classifier_hparams(DropoutCNN(), {"profile": "smoke"})
