"""A small, fast CNN baseline for the downstream (train-on-synthetic) metrics.

Not from any paper: it exists so the downstream protocol runs in seconds on a CPU and
so that scores measure the data more than the classifier's capacity. Four blocks of
conv3x3-BN-ReLU-maxpool, then global average pooling, so one network serves every
image size from 32 to 256 (and smaller toy sizes in tests).
"""

from __future__ import annotations

from torch import nn

from ganbench.api import Classifier, PretrainedWeightsUnavailable, hookimpl

WIDTHS = (16, 32, 64, 128)
DROPOUT = 0.3

_COMMON = {"batch_size": 32, "optimizer": "adam", "lr": 1e-3}
HPARAMS = {
    "smoke": {**_COMMON, "epochs": 3},
    "quick": {**_COMMON, "epochs": 15},
    "paper": {**_COMMON, "epochs": 30},
}


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        # No conv bias: the batch norm right after it has its own shift.
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


def small_cnn(num_classes: int, channels: int, widths=WIDTHS, dropout: float = DROPOUT) -> nn.Sequential:
    blocks, c_in = [], channels
    for c_out in widths:
        blocks.append(conv_block(c_in, c_out))
        c_in = c_out
    return nn.Sequential(
        *blocks,
        # Global pooling makes the head independent of the input size.
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(dropout),
        nn.Linear(c_in, num_classes),
    )


class SmallCNN(Classifier):
    name = "small-cnn"
    description = "Small 4-block CNN (conv-BN-ReLU-pool, global average pool); fast baseline"
    source = "ganbench baseline; not from a paper"
    supports_pretrained = False
    profiles = HPARAMS

    def build(self, num_classes: int, image_size: int, channels: int, pretrained: bool = False) -> nn.Module:
        if pretrained:
            raise PretrainedWeightsUnavailable(
                "classifier 'small-cnn' has no pretrained weights: it is a ganbench baseline "
                "that is always trained from scratch; run it without pretrained weights"
            )
        # Four 2x poolings need at least 16 px to leave a 1x1 map.
        if image_size < 16:
            raise ValueError(f"small-cnn needs images of at least 16 px, got {image_size}")
        return small_cnn(num_classes, channels)


@hookimpl
def register_classifiers(register):
    register(SmallCNN())
