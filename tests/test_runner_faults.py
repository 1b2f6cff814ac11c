"""Faults inside a cell end in a message, in that cell, with nothing else lost:
non-finite generated images fail the cell (never silently turned into black or white
pixels), a metric that breaks its contract fails that metric only, a suite whose metrics
would write one key twice is refused before training, and a GAN's training does not
depend on random work done outside it."""

from __future__ import annotations

import math
import types

import pytest
import torch

from ganbench import hookimpl
from ganbench.errors import NonFiniteImagesError
from ganbench.metric_contract import duplicate_result_keys, result_problems
from ganbench.plugins import load_plugins
from ganbench.results.store import ResultsStore
from ganbench.runner.training import build_model, sample, train
from ganbench.specs import ImageSpec, ImageSplit, Metric, MetricResult, ProfileSettings, SilentProgress, Suite, to_uint8
from ganbench_plugins.datasets.brain_phantom import BrainPhantom
from ganbench_plugins.gans.dcgan import DCGAN
from cli_runs import invoke_with

CPU = torch.device("cpu")


class TinyPhantom(BrainPhantom):
    name = "tiny-phantom"


class HalfNaNGAN(DCGAN):
    """Samples whose first half is NaN: what a diverged generator gives."""

    name = "half-nan-gan"

    def build(self, spec, hparams, device):
        model = super().build(spec, hparams, device)
        real_sample = model.sample

        def half_nan(n, labels=None, generator=None):
            images = real_sample(n, labels=labels, generator=generator)
            images[: n // 2] = float("nan")
            return images

        model.sample = half_nan
        return model


def metric(name, keys, returns):
    """A metric whose compute returns ``returns`` (a value or a callable of nothing)."""

    class Broken(Metric):
        description = f"returns {name}"
        source = "test"
        protocol = "nothing is compared"

        def compute(self, evaluation, classifier=None):
            return returns() if callable(returns) else returns

    Broken.name, Broken.result_keys = name, tuple(keys)
    return Broken()


BROKEN_METRICS = [
    metric("plain-dict", ["a"], {"a": 1.0}),
    metric("nan-value", ["b"], MetricResult({"b": float("nan")})),
    metric("string-value", ["c"], MetricResult({"c": "0.5"})),
    metric("undeclared-key", ["d"], MetricResult({"d": 1.0, "sneaky": 2.0})),
]
PROFILE = {
    "smoke": ProfileSettings(image_size=16, seeds=1, n_fake=8, n_real=16, gan_overrides={"steps": 2, "batch_size": 4})
}
BREACHES = Suite(
    name="breaches",
    description="metrics that break their contract beside one that keeps it",
    gans=("dcgan",),
    datasets=("tiny-phantom",),
    metrics=("psnr", *(m.name for m in BROKEN_METRICS)),
    classifiers=(),
    profiles=PROFILE,
)
NON_FINITE = Suite(
    name="non-finite", description="a GAN with NaN samples", gans=("half-nan-gan", "dcgan"),
    datasets=("tiny-phantom",), metrics=("psnr",), classifiers=(), profiles=PROFILE,
)
SAME_KEY = Suite(
    name="same-key", description="two metrics writing one key", gans=("dcgan",), datasets=("tiny-phantom",),
    metrics=("psnr", "psnr-twin"), classifiers=(), profiles=PROFILE,
)


def plugin():
    module = types.ModuleType("faults_plugin")

    @hookimpl
    def register_suites(register):
        for suite in (BREACHES, NON_FINITE, SAME_KEY):
            register(suite)

    @hookimpl
    def register_datasets(register):
        register(TinyPhantom(train_per_class=8, test_per_class=4))

    @hookimpl
    def register_gans(register):
        register(HalfNaNGAN())

    @hookimpl
    def register_metrics(register):
        for broken in BROKEN_METRICS:
            register(broken)
        register(metric("psnr-twin", ["psnr_nearest_real"], MetricResult({"psnr_nearest_real": 1.0})))

    module.register_suites, module.register_datasets = register_suites, register_datasets
    module.register_gans, module.register_metrics = register_gans, register_metrics
    return module


def invoke(*args):
    return invoke_with(("faults-plugin", plugin()), *args)


# --------------------------------------------------------------------------- non-finite


def test_to_uint8_refuses_nan_and_inf_instead_of_clamping_them():
    images = torch.zeros(4, 1, 2, 2)
    images[1, 0, 0, 0] = float("nan")
    images[3, 0, 1, 1] = float("inf")
    with pytest.raises(NonFiniteImagesError, match="2 of 4 generated images.*1 NaN, 1 inf"):
        to_uint8(images)
    assert to_uint8(torch.zeros(1, 1, 2, 2)).dtype == torch.uint8


def test_sampling_counts_non_finite_images_over_every_batch_and_names_the_stage():
    model = HalfNaNGAN().build(ImageSpec(16, 1, 4), HalfNaNGAN().hyperparameters("smoke"), CPU)
    with pytest.raises(NonFiniteImagesError) as info:
        sample(model, 10, seed=0, batch_size=4, description="half-nan-gan seed 0: sampling")
    # batches of 4, 4, 2: the first 2, 2 and 1 are NaN
    assert info.value.bad_images == 5 and info.value.total == 10
    assert str(info.value).startswith("half-nan-gan seed 0: sampling: 5 of 10 generated images")


def test_a_cell_with_non_finite_samples_fails_with_a_message_and_the_suite_goes_on(tmp_path):
    outcome = invoke("run", "--suite", "non-finite", "--results", str(tmp_path), "--device", "cpu")
    assert outcome.exit_code == 1
    rows = ResultsStore(tmp_path).rows("non-finite")
    failed = [r for r in rows if r["gan"] == "half-nan-gan"]
    assert [r["status"] for r in failed] == ["failed"] and failed[0]["metric"] is None
    assert "NonFiniteImagesError" in failed[0]["error"] and "half-nan-gan seed 0" in failed[0]["error"]
    # One unconditional GAN per class, 8 images in 4 classes: the first class's 2 samples.
    assert "sampling: class 0: 1 of 2 generated images contain non-finite pixels" in failed[0]["error"]
    assert all(r["status"] == "ok" for r in rows if r["gan"] == "dcgan")


# --------------------------------------------------------------------------- contracts


@pytest.mark.parametrize(
    "broken, message",
    [
        (BROKEN_METRICS[0], "must return a MetricResult, got dict"),
        (BROKEN_METRICS[1], "finite real numbers"),
        (BROKEN_METRICS[2], "finite real numbers"),
        (BROKEN_METRICS[3], "keys not in result_keys: ['sneaky']"),
    ],
)
def test_result_problems_name_each_breach(broken, message):
    problems = result_problems(broken, broken.compute(None))
    assert any(message in p for p in problems), problems


def test_a_value_outside_its_declared_range_is_a_breach():
    bounded = metric("bounded", ["accuracy"], None)
    bounded.value_ranges = {"accuracy": (0.0, 1.0)}
    assert "outside their declared value_ranges" in result_problems(bounded, MetricResult({"accuracy": 1.4}))[0]
    assert result_problems(bounded, MetricResult({"accuracy": 1.0 + 1e-12})) == []


def test_a_good_result_has_no_problems():
    good = metric("good", ["g"], None)
    assert result_problems(good, MetricResult({"g": 0.5}, n_real=3, n_fake=2)) == []
    assert result_problems(good, MetricResult({"g": torch.tensor(0.5).item()})) == []


def test_a_metric_breaking_its_contract_fails_alone_and_the_others_are_kept(tmp_path):
    outcome = invoke("run", "--suite", "breaches", "--results", str(tmp_path), "--device", "cpu")
    assert outcome.exit_code == 1
    rows = ResultsStore(tmp_path).rows("breaches")
    by_metric = {}
    for row in rows:
        by_metric.setdefault(row["metric"], []).append(row)
    good = by_metric.pop("psnr")
    assert {r["status"] for r in good} == {"ok"} and all(math.isfinite(r["value"]) for r in good)
    for name, broken_rows in by_metric.items():
        assert [r["status"] for r in broken_rows] == ["failed"] * len(broken_rows), name
        assert all(r["value"] is None and "broke the plugin contract" in r["error"] for r in broken_rows), name
    assert "sneaky" not in {r["key"] for r in rows}
    # The leaderboard renders the run with the failures shown, not a crash.
    board = invoke("leaderboard", "--suite", "breaches", "--results", str(tmp_path))
    assert board.exit_code == 0 and "dcgan" in board.output


def test_a_suite_whose_metrics_share_a_result_key_is_refused_before_training(tmp_path):
    outcome = invoke("run", "--suite", "same-key", "--results", str(tmp_path), "--device", "cpu")
    assert outcome.exit_code == 2
    assert "'psnr_nearest_real' by psnr, psnr-twin" in outcome.output
    assert not (tmp_path / "results.sqlite").exists()


def test_duplicate_result_keys_lists_every_metric_of_a_shared_key():
    one, two, three = metric("one", ["x", "y"], None), metric("two", ["y"], None), metric("three", ["z"], None)
    assert duplicate_result_keys([one, two, three]) == {"y": ["one", "two"]}


# --------------------------------------------------------------------------- randomness


def test_training_does_not_depend_on_random_work_outside_it():
    """The same cell trained twice in one process, with unrelated random draws between
    building and training, ends with identical weights (training draws its noise,
    dropout and penalties from its own seeded stream)."""
    registry = load_plugins().registry
    data = TinyPhantom(train_per_class=8, test_per_class=2).load(None, 16, 1, SilentProgress())
    for name in ("dcgan", "wgan-gp", "infogan"):
        gan = registry.get("gans", name)
        hparams = {**gan.hyperparameters("smoke"), "steps": 3, "batch_size": 4}
        weights = []
        for unrelated in (0, 1000):
            torch.rand(unrelated)  # moves the global RNG by a different amount each time
            model = build_model(gan, ImageSpec(16, 1, data.image_spec.num_classes), hparams, CPU, seed=7)
            torch.randn(unrelated + 5)
            split = data.train if gan.conditional else data.train.of_class(0)
            train(model, split, hparams, 7, CPU, SilentProgress())
            weights.append({k: v.clone() for net in model.networks().values() for k, v in net.state_dict().items()})
        assert weights[0].keys() == weights[1].keys()
        assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0]), name


def test_training_leaves_the_callers_random_state_alone():
    gan = DCGAN()
    hparams = {**gan.hyperparameters("smoke"), "steps": 2, "batch_size": 4}
    split = ImageSplit(torch.randint(0, 255, (8, 1, 16, 16), dtype=torch.uint8), torch.zeros(8, dtype=torch.long))
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    model = build_model(gan, ImageSpec(16, 1, 1), hparams, CPU, seed=0)
    train(model, split, hparams, 0, CPU, SilentProgress())
    assert torch.equal(torch.rand(3), expected)



# --------------------------------------------------------------------------- data warnings


class Recording(SilentProgress):
    def __init__(self):
        self.messages: list[str] = []

    def log(self, message):
        self.messages.append(message)


def test_the_run_log_warns_about_classes_smaller_than_a_batch_and_one_class_data(tmp_path):
    import numpy as np
    from PIL import Image

    from ganbench.runner.suite_run import RunRequest, run_suite

    small = types.ModuleType("small_data")

    @hookimpl
    def register_datasets(register):
        register(type("SmallPhantom", (BrainPhantom,), {"name": "small-phantom"})(train_per_class=2, test_per_class=2))

    @hookimpl
    def register_suites(register):
        register(Suite(
            name="small", description="classes smaller than a batch", gans=("dcgan",), datasets=("small-phantom",),
            takes_data=True, metrics=("psnr",), classifiers=(), profiles=PROFILE,
        ))

    small.register_datasets, small.register_suites = register_datasets, register_suites
    registry = load_plugins(extra_modules=[("small-data", small)]).registry

    progress = Recording()
    run_suite(registry, RunRequest(suite="small", device="cpu", results_dir=tmp_path / "a"), progress)
    warnings = [m for m in progress.messages if m.startswith("warning:")]
    assert len(warnings) == 4 and all("fewer than the batch size 4 of dcgan" in w for w in warnings), warnings

    one_class = tmp_path / "one-class" / "glioma"
    one_class.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8)).save(one_class / f"{i}.png")
    progress = Recording()
    run_suite(registry, RunRequest(suite="small", data=tmp_path / "one-class", device="cpu", results_dir=tmp_path / "b"), progress)
    assert any("only the class 'glioma'" in m for m in progress.messages if m.startswith("warning:")), progress.messages
