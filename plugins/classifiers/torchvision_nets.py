"""ImageNet architectures from torchvision as downstream classifiers, with the dense heads
the papers put on them, and offline-only loading of their ImageNet weights.

* ``mobilenet-v2``: BrainGAN (Alrashedy et al., Sensors 2022), Table 5: MobileNetV2,
  then flatten of its 7 x 7 x 1280 feature map, dense 512, dropout, one sigmoid unit.
  torchvision's MobileNetV2 has exactly the trainable weights of Keras's (3,504,872 with
  the ImageNet classifier), so with one output the count, batch-norm statistics included
  as Keras counts them, is Table 6's 34,371,649.
* ``resnet152``: BrainGAN, Table 4: ResNet152V2, flatten of 7 x 7 x 2048, dense 256,
  dropout, one sigmoid unit. torchvision has no ResNet152V2 (He et al.'s pre-activation
  variant, as in Keras); its ResNet-152 is "v1.5" (post-activation, the stride-2 of a
  downsampling bottleneck in its 3x3 rather than its first 1x1 convolution): same depth
  and widths, a different network and different ImageNet weights.
* ``resnet50``: the cGAN report (2023), Sec. 3.6: ResNet50 (torchvision v1.5 again; the
  report used Keras's v1), global average pooling, dense 512 ReLU, dropout 0.5, softmax;
  the report froze Keras's first 15 "layers": see :func:`freeze_keras_layers`.

All three are built with ``weights=None`` (torchvision never downloads then) and trained
from scratch unless ``pretrained``. Pretrained ImageNet weights are read only from a file
already on disk: ``$GANBENCH_CLASSIFIER_WEIGHTS_DIR/<file>`` or the file torchvision
itself would have cached, ``<torch.hub.get_dir()>/checkpoints/<file>``, ``<file>`` being
the name in the torchvision weights' URL (e.g. ``resnet50-0676ba61.pth``). ganbench
never downloads; a missing file raises
:class:`~ganbench.errors.PretrainedWeightsUnavailable` naming the file and the folders.

:class:`ImageNetInput`, :func:`find_local_weights` and :func:`network_with_local_weights`
are shared with the other ImageNet-pretrained classifier plugins (:mod:`.efficientnet_lite`).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ClassVar, Optional, Sequence
from urllib.parse import urlparse

import torch
from torch import nn
from torchvision import models
from torchvision.models import MobileNet_V2_Weights, ResNet50_Weights, ResNet152_Weights, WeightsEnum
from torchvision.ops import FrozenBatchNorm2d

from ganbench.api import Classifier, PretrainedWeightsUnavailable, hookimpl

#: A folder holding weight files, looked at before torch's hub cache.
WEIGHTS_DIR_ENV = "GANBENCH_CLASSIFIER_WEIGHTS_DIR"

#: The normalisation torchvision's ImageNet weights were trained with (pixels in [0, 1]).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# --------------------------------------------------------------------------- input


class ImageNetInput(nn.Module):
    """Feeds ganbench images, (N, C, H, W) in [-1, 1] with C 1 (grey) or 3, to a network
    that expects ImageNet-style RGB input.

    A grey channel is repeated to three rather than the first convolution narrowed, so
    ImageNet weights load unchanged and see what they would see for a grey photo. The
    range is mapped to the normalisation the weights were trained with,
    ``(pixel / 255 - mean) / std``; for a network trained from scratch this is a fixed
    affine map and does no harm.
    """

    def __init__(self, network: nn.Module, channels: int, mean=IMAGENET_MEAN, std=IMAGENET_STD):
        super().__init__()
        if channels not in (1, 3):
            raise ValueError(f"ImageNet networks take 1 (grey) or 3 (RGB) channels, got {channels}")
        self.channels = channels
        self.network = network
        mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
        # [-1, 1] -> pixel / 255 = (x + 1) / 2 -> (pixel / 255 - mean) / std, folded into
        # one multiply-add. Not persistent: they are constants, not learnt state.
        self.register_buffer("scale", 0.5 / std, persistent=False)
        self.register_buffer("shift", (0.5 - mean) / std, persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.channels == 1:
            images = images.expand(-1, 3, -1, -1)
        return self.network(images * self.scale + self.shift)


# --------------------------------------------------------------------------- offline weights


def weights_search_path(file_name: str, bundled: Sequence[Path] = ()) -> list[Path]:
    """Where a weights file may lie, in the order looked at: the folder a person named,
    then ``bundled`` places (a pip package that ships the file), then torch's hub cache."""
    places = []
    if os.environ.get(WEIGHTS_DIR_ENV):
        places.append(Path(os.environ[WEIGHTS_DIR_ENV]).expanduser() / file_name)
    places.extend(bundled)
    places.append(Path(torch.hub.get_dir()) / "checkpoints" / file_name)
    return places


def find_local_weights(file_name: str, network: str, how_to_get: str, bundled: Sequence[Path] = ()) -> Path:
    """The first existing file of :func:`weights_search_path`; never downloads.

    Raises :class:`PretrainedWeightsUnavailable` naming the file, every folder looked in,
    where to put it, and ``how_to_get`` (a sentence: how a person gets the file)."""
    places = weights_search_path(file_name, bundled)
    for place in places:
        if place.is_file():
            return place
    unset = "" if os.environ.get(WEIGHTS_DIR_ENV) else f" (${WEIGHTS_DIR_ENV} is not set)"
    raise PretrainedWeightsUnavailable(
        f"pretrained {network} needs the weights file {file_name!r}, which is in none of: "
        f"{', '.join(str(p.parent) for p in places)}{unset}. ganbench never downloads weights: put "
        f"{file_name!r} in {places[-1].parent} or in a folder named by {WEIGHTS_DIR_ENV}. {how_to_get}"
    )


def network_with_local_weights(
    make: Callable[[], nn.Module], locate: Callable[[], Path], pretrained: bool
) -> nn.Module:
    """``make()``, with the state dict in the file ``locate()`` finds loaded when
    ``pretrained``. The file is looked for first: a missing one fails before a slow build."""
    path = locate() if pretrained else None
    network = make()
    if path is not None:
        load_local_weights(network, path)
    return network


def load_local_weights(network: nn.Module, path: Path) -> None:
    """Load the state dict in ``path`` into ``network``; every key must match."""
    try:
        # weights_only: a weights file is data, never code to run.
        network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as error:  # a truncated download, another network's file: say which file
        raise PretrainedWeightsUnavailable(
            f"the weights file {path} does not load into {type(network).__name__}: {error}"
        ) from error


# --------------------------------------------------------------------------- heads


def dense_head(in_channels: int, grid: int, hidden: int, num_classes: int, dropout: float = 0.5) -> nn.Sequential:
    """The papers' heads: the feature map average-pooled onto a ``grid`` x ``grid`` grid
    and flattened (grid 1 is global average pooling), one hidden ReLU layer with
    dropout, then the logits."""
    return nn.Sequential(
        # A grid sized for the paper's input keeps the paper's head at any input size.
        nn.AdaptiveAvgPool2d(grid),
        nn.Flatten(),
        nn.Linear(in_channels * grid * grid, hidden),
        nn.ReLU(inplace=True),
        nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),
    )


def resnet_features(network: models.ResNet) -> tuple[nn.Module, int]:
    """A ResNet up to its last stage (the pooling and the 1000-way layer belong to the
    head), keeping torchvision's module names, and its output width."""
    body = OrderedDict((name, m) for name, m in network.named_children() if name not in ("avgpool", "fc"))
    return nn.Sequential(body), network.fc.in_features


# --------------------------------------------------------------------------- Keras-style freezing


@dataclass(frozen=True)
class KerasLayer:
    """One entry of a Keras model's ``layers`` list, mapped onto torchvision: the module
    that holds its weights (``owner.attribute``), or no owner for a weightless layer
    (input, padding, ReLU, pooling, add)."""

    name: str
    owner: Optional[nn.Module] = None
    attribute: str = ""

    @property
    def module(self) -> Optional[nn.Module]:
        return None if self.owner is None else getattr(self.owner, self.attribute)


def keras_resnet50_layers(network: models.ResNet) -> list[KerasLayer]:
    """``tf.keras.applications.ResNet50(include_top=False).layers``, all 175 in Keras's
    order, each mapped onto the torchvision module with the same role."""
    layers = [
        KerasLayer("input"),
        KerasLayer("conv1_pad"),
        KerasLayer("conv1_conv", network, "conv1"),
        KerasLayer("conv1_bn", network, "bn1"),
        KerasLayer("conv1_relu"),
        KerasLayer("pool1_pad"),
        KerasLayer("pool1_pool"),
    ]
    stages = (network.layer1, network.layer2, network.layer3, network.layer4)
    for stage, blocks in enumerate(stages, start=2):
        for number, block in enumerate(blocks, start=1):
            prefix = f"conv{stage}_block{number}_"
            layers += [
                KerasLayer(prefix + "1_conv", block, "conv1"),
                KerasLayer(prefix + "1_bn", block, "bn1"),
                KerasLayer(prefix + "1_relu"),
                KerasLayer(prefix + "2_conv", block, "conv2"),
                KerasLayer(prefix + "2_bn", block, "bn2"),
                KerasLayer(prefix + "2_relu"),
            ]
            if block.downsample is not None:
                # Keras lists the shortcut's convolution between the main path's last two layers.
                layers += [
                    KerasLayer(prefix + "0_conv", block.downsample, "0"),
                    KerasLayer(prefix + "3_conv", block, "conv3"),
                    KerasLayer(prefix + "0_bn", block.downsample, "1"),
                    KerasLayer(prefix + "3_bn", block, "bn3"),
                ]
            else:
                layers += [KerasLayer(prefix + "3_conv", block, "conv3"), KerasLayer(prefix + "3_bn", block, "bn3")]
            layers += [KerasLayer(prefix + "add"), KerasLayer(prefix + "out")]
    return layers


def freeze_keras_layers(network: models.ResNet, count: int) -> list[KerasLayer]:
    """Freeze the first ``count`` layers of ResNet50 as the cGAN report did with
    ``for layer in base_model.layers[:15]: layer.trainable = False``; returns them.

    A "layer" is an entry of Keras's ResNet50 ``layers`` list (:func:`keras_resnet50_layers`),
    weightless ones included, because that is what the report's code counted. Of such
    a layer's weights, a convolution's get ``requires_grad = False``; a batch norm is
    replaced by torchvision's ``FrozenBatchNorm2d`` (scale, shift and statistics become
    constant buffers), because Keras runs a non-trainable batch norm in inference mode,
    and because ganbench's batch-norm recalibration then leaves it alone.

    The report's 15 thus freeze the stem (conv1, bn1) and, of the first bottleneck
    (``layer1.0``), conv1, bn1, conv2, bn2, the shortcut convolution ``downsample.0`` and
    conv3, but not ``downsample.1`` or bn3: 8 weight layers, 83,520 weights (0.35 % of the
    backbone), not the "first 30 %" (15 of 50 weight layers) its text says.
    """
    layers = keras_resnet50_layers(network)
    if not 0 <= count <= len(layers):
        raise ValueError(f"freeze_layers must be between 0 and {len(layers)} (Keras's ResNet50 layers), got {count}")
    for layer in layers[:count]:
        module = layer.module
        if isinstance(module, nn.BatchNorm2d):
            frozen = FrozenBatchNorm2d(module.num_features, eps=module.eps)
            frozen.load_state_dict(module.state_dict())
            setattr(layer.owner, layer.attribute, frozen)
        elif module is not None:
            module.requires_grad_(False)
    return layers[:count]


# --------------------------------------------------------------------------- classifiers


class TorchvisionClassifier(Classifier):
    """A torchvision ImageNet architecture, its ImageNet classifier replaced by the
    source's dense head, behind :class:`ImageNetInput`."""

    supports_pretrained = True
    #: The torchvision weights whose file ``pretrained`` reads (and whose layout it has).
    weights: ClassVar[WeightsEnum]
    #: The torchvision constructor (a staticmethod, so it is not bound to the instance).
    architecture: ClassVar[Callable[..., nn.Module]]
    #: The source's head: the feature grid it flattens (1: global pooling) and its width.
    head_grid: ClassVar[int]
    head_units: ClassVar[int]
    #: Settings the source does not state and the plugin had to choose, one sentence each.
    assumptions: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def weights_file(cls) -> str:
        """The file name torchvision's own download would cache the weights under."""
        return Path(urlparse(cls.weights.url).path).name

    @staticmethod
    def features(network: nn.Module) -> tuple[nn.Module, int]:
        """The network without its ImageNet classifier, and its output width."""
        raise NotImplementedError

    def imagenet_network(self, pretrained: bool) -> nn.Module:
        """The full torchvision network (1000 classes), with ImageNet weights if asked."""
        return network_with_local_weights(lambda: self.architecture(weights=None), self.locate_weights, pretrained)

    def locate_weights(self) -> Path:
        return find_local_weights(
            self.weights_file(),
            f"{self.name} ({type(self.weights).__name__}.{self.weights.name})",
            f"It is at {self.weights.url}: download it on a machine with internet.",
        )

    def assemble(self, network: nn.Module, num_classes: int, channels: int) -> nn.Module:
        features, width = self.features(network)
        head = dense_head(width, self.head_grid, self.head_units, num_classes)
        return ImageNetInput(nn.Sequential(OrderedDict(features=features, head=head)), channels)

    def build(self, num_classes: int, image_size: int, channels: int, pretrained: bool = False) -> nn.Module:
        return self.assemble(self.imagenet_network(pretrained), num_classes, channels)


#: The BrainGAN networks' training (Table 6 and Sec. 4); SGD as Keras's default, no momentum.
BRAINGAN_PAPER = {"epochs": 300, "batch_size": 32, "optimizer": "sgd", "lr": 1e-4, "momentum": 0.0, "pretrained": True}
#: ganbench's CPU-sized runs from scratch: SGD at 1e-4 would learn nothing in a few epochs.
FROM_SCRATCH_SMOKE = {"epochs": 3, "batch_size": 32, "optimizer": "adam", "lr": 1e-3}
FROM_SCRATCH_QUICK = {**FROM_SCRATCH_SMOKE, "epochs": 15}

BRAINGAN_HEAD_ASSUMPTIONS = (
    "Head input: the 7 x 7 feature map of the paper's 224-px input; other sizes are average-pooled onto 7 x 7, "
    "so the head is the paper's at every size.",
    "Dropout 0.5 and ReLU on the hidden dense layer: the paper gives no rate, and says hidden layers use ReLU.",
    "SGD without momentum (Keras's default SGD): Table 6 names SGD and the rate only.",
    "ImageNet weights (torchvision IMAGENET1K_V1, the original recipe) in the paper profile: the paper fine-tunes "
    "'pre-trained initial weights'; smoke and quick train from scratch with Adam 1e-3 so they run offline.",
    "Inputs normalised as the ImageNet weights expect, not the paper's [0, 1] pixels.",
    "num_classes logits with softmax cross-entropy instead of one sigmoid unit (same for two classes).",
)


class MobileNetV2Classifier(TorchvisionClassifier):
    name = "mobilenet-v2"
    description = "MobileNetV2 (torchvision) with BrainGAN's flatten-dense 512 head (Sensors 2022, Table 5)"
    source = "Sandler et al., CVPR 2018; Alrashedy et al., BrainGAN, Sensors 2022: Tables 5 and 6"
    weights = MobileNet_V2_Weights.IMAGENET1K_V1
    architecture = staticmethod(models.mobilenet_v2)
    head_grid, head_units = 7, 512
    profiles = {"smoke": FROM_SCRATCH_SMOKE, "quick": FROM_SCRATCH_QUICK, "paper": BRAINGAN_PAPER}
    assumptions = BRAINGAN_HEAD_ASSUMPTIONS

    @staticmethod
    def features(network):
        return network.features, network.last_channel


class ResNet152Classifier(TorchvisionClassifier):
    name = "resnet152"
    description = (
        "ResNet-152 v1.5 (torchvision; BrainGAN used Keras's ResNet152V2) with BrainGAN's flatten-dense 256 head"
    )
    source = "He et al., CVPR 2016 (torchvision v1.5); Alrashedy et al., BrainGAN, Sensors 2022: Tables 4 and 6"
    weights = ResNet152_Weights.IMAGENET1K_V1
    architecture = staticmethod(models.resnet152)
    head_grid, head_units = 7, 256
    profiles = {"smoke": FROM_SCRATCH_SMOKE, "quick": FROM_SCRATCH_QUICK, "paper": BRAINGAN_PAPER}
    assumptions = (
        "torchvision's ResNet-152 v1.5 stands in for Keras's ResNet152V2 (pre-activation): torchvision has no V2.",
        *BRAINGAN_HEAD_ASSUMPTIONS,
    )
    features = staticmethod(resnet_features)


class ResNet50Classifier(TorchvisionClassifier):
    """ResNet-50 with the cGAN report's head; ``freeze_layers`` freezes Keras-style
    layers (:func:`freeze_keras_layers`), 15 in the paper profile as in the report."""

    name = "resnet50"
    description = "ResNet-50 v1.5 (torchvision) with the cGAN report's head (GAP, dense 512, dropout 0.5), layer freezing"
    source = "He et al., CVPR 2016 (torchvision v1.5); cGAN + ResNet50 report 2023, Sec. 3.6 and Ch. 5"
    weights = ResNet50_Weights.IMAGENET1K_V1
    architecture = staticmethod(models.resnet50)
    head_grid, head_units = 1, 512
    profiles = {
        "smoke": {**FROM_SCRATCH_SMOKE, "freeze_layers": 0},
        "quick": {**FROM_SCRATCH_SMOKE, "epochs": 10, "freeze_layers": 0},
        "paper": {
            "epochs": 20, "batch_size": 32, "optimizer": "adam", "lr": 1e-3, "pretrained": True, "freeze_layers": 15,
        },
    }
    assumptions = (
        "torchvision's ResNet-50 v1.5 (stride in the 3x3 convolution, no convolution biases) stands in for "
        "Keras's ResNet50 v1.",
        "A frozen 'layer' is an entry of Keras's ResNet50 layers list, as the report's code counts them; 15 freeze "
        "8 weight layers of the stem and first bottleneck, not the 30 % its text claims.",
        "Adam at lr 1e-3: the training log starts at lr 0.0010 (Keras's Adam default); the optimiser is not shown.",
        "Batch 32 (Keras's default; 75 steps an epoch fit about 2,400 training images at 32).",
        "20 epochs, the run on the augmented data (the real-only run had 15); its EarlyStopping and "
        "ReduceLROnPlateau callbacks are not reproduced.",
        "ImageNet weights (torchvision IMAGENET1K_V1) in the paper profile, as Keras's include_top=False base; "
        "smoke and quick train from scratch so they run offline.",
        "Inputs normalised as the ImageNet weights expect; the report fed [-1, 1] pixels.",
    )
    features = staticmethod(resnet_features)
    build_options = ("freeze_layers",)

    def build(
        self, num_classes: int, image_size: int, channels: int, pretrained: bool = False, freeze_layers: int = 0
    ) -> nn.Module:
        network = self.imagenet_network(pretrained)
        freeze_keras_layers(network, freeze_layers)
        return self.assemble(network, num_classes, channels)


@hookimpl
def register_classifiers(register):
    register(MobileNetV2Classifier())
    register(ResNet50Classifier())
    register(ResNet152Classifier())
