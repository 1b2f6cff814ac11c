"""The plugin contract checks of ganbench.testing: every built-in GAN, dataset, metric
and classifier keeps its contract, each check fails a broken item naming the rule it
breaks, and the isolated plugin set holds only what a test hands it (every hook,
register_references and register_commands included)."""

import copy
import dataclasses
import os
import subprocess
import sys
import types

import click
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from ganbench import hookimpl
from ganbench.plugins import ALLOW_ENV, register_commands
from ganbench.specs import Claim, Dataset, Detection, ImageSplit, Measure, Metric, MetricResult, Reference
from ganbench.testing import (
    DIRECT,
    check_classifier,
    check_dataset,
    check_gan,
    check_metric,
    load_isolated,
    tiny_data,
    tiny_evaluation,
)
from ganbench_plugins.classifiers.small_cnn import SmallCNN
from ganbench_plugins.gans.adversarial import AdversarialModel
from ganbench_plugins.gans.dcgan import DCGAN
from medical_fixtures import KAGGLE_LAYOUTS, make_dicom_tree, make_kaggle_layout, make_msd_tree

BUILTINS = load_isolated(builtins=True).registry
#: Metrics that run the Inception network: tens of seconds on a busy CPU.
INCEPTION = {"fid", "kid", "precision-recall"}


@pytest.fixture(autouse=True)
def private_cache(session_inception_cache):
    """Converted weights, decoded datasets and the DICOM salt go to the session's
    temporary cache, never the user's."""


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py: tiny tensors run fastest on one thread


# --------------------------------------------------------------------------- built-ins


@pytest.mark.parametrize("name", BUILTINS.names("gans"))
def test_builtin_gan_keeps_the_contract(name):
    check_gan(BUILTINS.get("gans", name))


def layout_for(name, root):
    """A small copy of the on-disk layout a built-in dataset reads, and the options it
    needs to read that copy."""
    if name in KAGGLE_LAYOUTS:
        return make_kaggle_layout(root, name), {}
    makers = {
        "image-folder": lambda: (make_kaggle_layout(root, "brain-tumor-classification-mri"), {}),
        # The test volumes are 20 slices deep; the default range is the thesis' 60-100.
        "msd-brain-tumour": lambda: (make_msd_tree(root), {"slices": "4-16"}),
        "dicom-folder": lambda: (make_dicom_tree(root), {}),
    }
    if name not in makers:
        pytest.fail(f"no test layout for the dataset {name!r}: add one to layout_for")
    return makers[name]()


@pytest.mark.parametrize("name", BUILTINS.names("datasets"))
def test_builtin_dataset_keeps_the_contract(name, tmp_path):
    dataset = BUILTINS.get("datasets", name)
    check_dataset(dataset)  # as with no --data
    if dataset.needs_path:
        path, options = layout_for(name, tmp_path / "data")
        data = check_dataset(dataset.configure(options), path)
        assert data is not None and len(data.train) > 0


@pytest.fixture(scope="module")
def shared_evaluation(tmp_path_factory):
    """One evaluation for every metric, as in a run: the Inception metrics then share
    one pass of the network between them."""
    return tiny_evaluation(tmp_path_factory.mktemp("evaluation"), tiny_data(16))


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in INCEPTION else n for n in BUILTINS.names("metrics")]
)
def test_builtin_metric_keeps_the_contract(name, shared_evaluation):
    metric = BUILTINS.get("metrics", name)
    classifier = BUILTINS.get("classifiers", "small-cnn") if metric.kind == "downstream" else None
    check_metric(metric, shared_evaluation, classifier=classifier)


@pytest.mark.parametrize("name", ["ssim", "psnr", "mse", "ms-ssim"])
def test_paired_metrics_keep_the_contract_for_translations(name):
    result = check_metric(BUILTINS.get("metrics", name), image_to_image=True)
    assert any(key.endswith("_paired_translation") for key in result.values)


@pytest.mark.parametrize("name", BUILTINS.names("classifiers"))
def test_builtin_classifier_keeps_the_contract(name):
    check_classifier(BUILTINS.get("classifiers", name))


# --------------------------------------------------------------------------- broken GANs


def gan(base=DCGAN, **attributes):
    return type("BrokenGAN", (base,), {"name": "broken-gan", **attributes})()


def with_model(method, replacement, base=DCGAN):
    """A DCGAN whose built model has ``method`` replaced."""

    def build(self, spec, hparams, device):
        model = base.build(self, spec, hparams, device)
        setattr(model, method, types.MethodType(replacement, model))
        return model

    return gan(base, build=build)


def unbounded_sample(model, n, labels=None, generator=None):
    return AdversarialModel.sample(model, n, labels, generator) + 2


def unseeded_sample(model, n, labels=None, generator=None):
    return AdversarialModel.sample(model, n, labels, None)


NO_STEPS = {p: {k: v for k, v in t.items() if k not in ("steps", "epochs")} for p, t in DCGAN.profiles.items()}

BROKEN_GANS = {
    "name": (gan(name="Broken_GAN"), "lower-kebab-case"),
    "description": (gan(description=""), "description must be a non-empty string"),
    "kind": (gan(kind="text-to-image"), "kind must be one of noise-to-image, image-to-image"),
    "profile": (gan(profiles={"smoke": DCGAN.profiles["smoke"]}), r"hyperparameters\('quick'\) raised GanbenchError"),
    "step count": (gan(profiles=NO_STEPS), "must have 'steps' or 'epochs'"),
    "shared table": (
        gan(profiles=copy.deepcopy(DCGAN.profiles), hyperparameters=lambda self, profile: self.profiles[profile]),
        "fresh copy",
    ),
    "build": (gan(build=lambda self, spec, hparams, device: object()), r"build\(\) must return a GANModel"),
    "nan loss": (with_model("train_step", lambda m, real, labels: {"loss_d": float("nan")}), "finite python float losses"),
    "tensor loss": (with_model("train_step", lambda m, real, labels: {"loss_d": torch.tensor(0.5)}), "finite python float losses"),
    "no update": (with_model("train_step", lambda m, real, labels: {"loss_d": 0.5}), "changed no weight"),
    "range": (with_model("sample", unbounded_sample), r"values in \[-1, 1\]"),
    "shape": (with_model("sample", lambda m, n, labels=None, generator=None: torch.zeros(n, 1, 8, 8)), "images of shape"),
    "seed": (with_model("sample", unseeded_sample), "same images twice for one seed"),
    "checkpoint": (with_model("networks", lambda m: {"discriminator": m.discriminator}), "loaded from a checkpoint"),
    "labels": (gan(conditional=True), "different images for different labels"),
}


def test_check_gan_rejects_what_is_not_a_gan():
    with pytest.raises(AssertionError, match="not a ganbench.specs.GAN"):
        check_gan(SmallCNN())


# --------------------------------------------------------------------------- broken datasets


class TinyDataset(Dataset):
    name = "tiny-dataset"
    description = "ganbench.testing's tiny data as a dataset plugin"
    source = "tests"
    obtain = "generated by the test"
    needs_path = False

    def load(self, path, image_size, channels, progress):
        return dataclasses.replace(tiny_data(image_size, channels), name=self.name)


def dataset(**attributes):
    return type("BrokenDataset", (TinyDataset,), attributes)()


def loading(change):
    """A TinyDataset whose loaded data goes through ``change`` first."""
    return dataset(load=lambda self, path, size, channels, progress: change(TinyDataset.load(self, path, size, channels, progress)))


def shifted_labels(data):
    return dataclasses.replace(data, train=ImageSplit(data.train.images, data.train.labels + 1))


def refuses_path(self, path, size, channels, progress):
    if path is None:
        raise TypeError("expected str, bytes or os.PathLike object, not NoneType")
    return TinyDataset.load(self, path, size, channels, progress)


BROKEN_DATASETS = {
    "obtain": (dataset(obtain=""), "obtain must say how a user gets the data"),
    "size": (loading(lambda data: dataclasses.replace(tiny_data(8), name=data.name)), r"train images must be \(1, 32, 32\), got \(1, 8, 8\)"),
    "name": (loading(lambda data: tiny_data()), "LoadedData.name must be the dataset's name"),
    "labels": (loading(shifted_labels), r"train labels must index class_names, found \[2\]"),
    "classes": (loading(lambda data: dataclasses.replace(data, class_names=("all",))), "at least two distinct names"),
    "empty class": (loading(lambda data: dataclasses.replace(data, class_names=(*data.class_names, "rare"))), "every class needs training images"),
    "fingerprint": (loading(lambda data: dataclasses.replace(data, fingerprint=str(torch.rand(1).item()))), "same fingerprint"),
    "greedy detect": (dataset(detect=lambda self, path: Detection(True, "mine")), "must not claim an empty folder"),
    "missing path": (dataset(needs_path=True, load=refuses_path), "must raise GanbenchError, raised TypeError"),
    "options": (dataset(configure=lambda self, options: self), "unknown option must raise GanbenchError"),
}


def test_the_tiny_dataset_keeps_the_contract():
    data = check_dataset(TinyDataset())
    assert data.name == "tiny-dataset"


# --------------------------------------------------------------------------- broken metrics


class MeanPixelGap(Metric):
    name = "mean-pixel-gap"
    description = "Gap between the mean grey level of generated and real images"
    source = "tests"
    kind = "distribution"
    direction = "lower"
    result_keys = ("mean_pixel_gap",)
    protocol = "Absolute difference of the mean uint8 pixel value of the generated set and the real reference set."

    def compute(self, evaluation, classifier=None):
        real = evaluation.real_reference()
        gap = (evaluation.fake.images.float().mean() - real.images.float().mean()).abs()
        return MetricResult({"mean_pixel_gap": float(gap)}, n_real=len(real), n_fake=len(evaluation.fake))


def metric(**attributes):
    return type("BrokenMetric", (MeanPixelGap,), attributes)()


def returning(values, **result):
    return metric(compute=lambda self, evaluation, classifier=None: MetricResult(values, **result))


BROKEN_METRICS = {
    "direction": (metric(direction="up"), "direction must be one of lower, higher"),
    "no keys": (metric(result_keys=()), "result_keys must be non-empty"),
    "headline": (metric(headline_keys=("fid",)), r"headline_keys must be among result_keys, has \['fid'\]"),
    "protocol": (metric(protocol=""), "protocol must say what is compared"),
    "reason": (metric(unavailable_reason=lambda self: ""), "must be None or a message"),
    "undeclared key": (returning({"mean_pixel_gap": 1.0, "extra": 2.0}), r"keys not in result_keys: \['extra'\]"),
    "nan": (returning({"mean_pixel_gap": float("nan")}), "finite real numbers"),
    "not a number": (returning({"mean_pixel_gap": "1.0"}), "finite real numbers"),
    "count": (returning({"mean_pixel_gap": 1.0}, n_real=-1), "n_real must be None or a count"),
    "artifact": (returning({"mean_pixel_gap": 1.0}, artifacts={"plot": "plot.png"}), r"missing \['plot.png'\]"),
    "result type": (metric(compute=lambda self, evaluation, classifier=None: {"mean_pixel_gap": 1.0}), "must return a MetricResult"),
    "raises": (metric(compute=lambda self, evaluation, classifier=None: 1 / 0), "raised ZeroDivisionError"),
}


def test_a_downstream_metric_is_checked_with_a_classifier():
    result = check_metric(BUILTINS.get("metrics", "tstr"))
    assert "tstr_accuracy" in result.values


def test_an_unavailable_metric_is_not_computed():
    assert check_metric(metric(unavailable_reason=lambda self: "needs weights", compute=lambda *a: 1 / 0)) is None


# --------------------------------------------------------------------------- broken classifiers


def classifier(**attributes):
    return type("BrokenClassifier", (SmallCNN,), {"name": "broken-cnn", **attributes})()


def building(change):
    return classifier(build=lambda self, num_classes, *args, **kwargs: change(SmallCNN.build(self, num_classes, *args, **kwargs), num_classes))


class AlwaysDropout(nn.Module):
    def forward(self, x):
        return nn.functional.dropout(x, 0.5, training=True)


BROKEN_CLASSIFIERS = {
    "lr": (classifier(profiles={p: {"epochs": 1, "batch_size": 8, "optimizer": "adam"} for p in SmallCNN.profiles}), r"\['lr'\] must be a positive number"),
    "epochs": (classifier(profiles={p: {**t, "epochs": 0} for p, t in SmallCNN.profiles.items()}), r"\['epochs'\] must be a positive int"),
    "logits": (building(lambda net, k: nn.Sequential(net, nn.Linear(k, k + 1))), r"logits of shape \(2, 2\)"),
    "eval mode": (building(lambda net, k: nn.Sequential(net, AlwaysDropout())), "deterministic in eval mode"),
    "pretrained": (classifier(build=lambda self, k, size, channels, pretrained=False: SmallCNN.build(self, k, size, channels)), "must raise PretrainedWeightsUnavailable"),
    "pretrained error": (
        classifier(supports_pretrained=True, build=lambda self, k, size, channels, pretrained=False: 1 / 0 if pretrained else SmallCNN.build(self, k, size, channels)),
        "must load local weights or raise PretrainedWeightsUnavailable, raised ZeroDivisionError",
    ),
    "frozen": (building(lambda net, k: net.requires_grad_(False)), "a training step .* raised RuntimeError"),
}


#: What each check is handed, the broken items, and how its messages begin.
CHECKS = {
    "gan": (lambda item: check_gan(item, overrides={"width": 4}), BROKEN_GANS, "GAN '"),
    "dataset": (check_dataset, BROKEN_DATASETS, "dataset 'tiny-dataset'"),
    "metric": (check_metric, BROKEN_METRICS, "metric 'mean-pixel-gap'"),
    "classifier": (check_classifier, BROKEN_CLASSIFIERS, "classifier 'broken-cnn'"),
}


@pytest.mark.parametrize("kind, rule", [(kind, rule) for kind, (_, broken, _) in CHECKS.items() for rule in broken])
def test_a_check_names_the_broken_rule(kind, rule):
    check, broken, subject = CHECKS[kind]
    item, message = broken[rule]
    with pytest.raises(AssertionError, match=message) as info:
        check(item)
    assert str(info.value).startswith(subject) and " breaks the plugin contract: " in str(info.value)


# --------------------------------------------------------------------------- isolated plugin sets


def plugin_module(**hooks):
    module = types.ModuleType("test_plugin")
    for hook, function in hooks.items():
        setattr(module, hook, hookimpl(function))
    return module


def registering(*items):
    return lambda register: [register(item) for item in items]


def test_the_registry_fixture_holds_only_the_plugins_given(ganbench_registry):
    registry = ganbench_registry(plugin_module(register_gans=registering(gan(name="only-gan"))))
    assert registry.names("gans") == ["only-gan"] and registry.names("metrics") == []
    assert registry.provenance("gans", "only-gan").distribution == DIRECT


def test_builtins_on_request_and_whatever_the_allow_list_says(ganbench_registry, monkeypatch):
    monkeypatch.setenv(ALLOW_ENV, "some-other-distribution")
    registry = ganbench_registry(plugin_module(register_gans=registering(gan(name="extra-gan"))), builtins=True)
    assert {"dcgan", "extra-gan"} <= set(registry.names("gans"))
    assert registry.provenance("gans", "dcgan").distribution == "ganbench"
    assert os.environ[ALLOW_ENV] == "some-other-distribution"


class ObjectPlugin:
    """A plugin that is an object rather than a module."""

    @hookimpl
    def register_metrics(self, register):
        register(MeanPixelGap())


def test_plugins_may_be_objects_or_module_names(ganbench_registry):
    registry = ganbench_registry(ObjectPlugin(), "ganbench_plugins.classifiers.small_cnn")
    assert registry.names("metrics") == ["mean-pixel-gap"] and registry.names("classifiers") == ["small-cnn"]


def test_a_failing_plugin_fails_the_test():
    def explode(register):
        raise RuntimeError("boom")

    with pytest.raises(AssertionError, match=r"(?s)plugins failed to load:.*RuntimeError: boom"):
        load_isolated(("exploding", plugin_module(register_gans=explode)))
    with pytest.raises(AssertionError, match="is the distribution installed"):
        load_isolated(distributions=["ganbench-no-such-distribution"])


def test_register_references_reaches_the_registry(ganbench_registry):
    reference = Reference(paper="Test 2024", table="Table 1", gan="dcgan", metric="fid", value=12.5, dataset_family="tiny", protocol="FID on 10k images")
    registry = ganbench_registry(plugin_module(register_references=registering(reference)))
    assert registry.get("references", reference.name) is reference


def test_register_claims_reaches_the_registry(ganbench_registry):
    better, worse = Measure("dcgan", "fid"), Measure("vanilla-gan", "fid")
    claim = Claim(paper="Test 2024", where="Table 1", text="DCGAN has the lower FID", comparisons=((better, worse),))
    registry = ganbench_registry(plugin_module(register_claims=registering(claim)))
    assert registry.get("claims", claim.name) is claim
    assert registry.in_registration_order("claims") == [claim]


def test_register_commands_adds_a_command():
    def add_hello(cli):
        @cli.command("hello")
        def hello():
            click.echo("hello from a plugin")

    plugins = load_isolated(plugin_module(register_commands=add_hello))
    group = click.Group("ganbench")
    register_commands(plugins, group)
    assert CliRunner().invoke(group, ["hello"]).output == "hello from a plugin\n"


def test_tiny_image_data_fixture(tiny_image_data):
    assert tiny_image_data.image_spec.size == 32 and tiny_image_data.class_names == ("no_tumor", "tumor_1")
    assert len(tiny_image_data.train) == 16 and set(tiny_image_data.test.labels.tolist()) == {0, 1}


def test_ganbench_testing_is_a_pytest_plugin_that_imports_no_torch(pytestconfig):
    loaded = pytestconfig.pluginmanager.get_plugin("ganbench")
    assert loaded is sys.modules["ganbench.testing"], "the pytest11 entry point is missing: pip install -e ."
    probe = "import sys, ganbench.testing; print(sorted(m for m in ('torch', 'ganbench.specs') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_a_dataset_that_needs_a_path_must_refuse_none():
    with pytest.raises(AssertionError, match=r"load\(None\) of a dataset that needs a path must raise GanbenchError \(the CLI"):
        check_dataset(dataset(needs_path=True))
