"""The custom CNNs two of the reproduced papers trained on generated brain MRI.

* ``braingan-cnn``: BrainGAN (Alrashedy et al., Sensors 2022, 22, 4297), the layer list
  of its Table 3, with the optimiser and learning rate of its Table 6 and the epochs and
  batch size of its Section 4 text.
* ``ijacsa-cnn``: the classifier of "GAN + CNN for brain tumour MRI" (IJACSA 2024), the
  layer list of its Table II, with the epochs of its Table V.

Both papers leave choices open (padding, dropout rates, the training settings IJACSA never
states). Each class lists what it had to choose in ``assumptions``, so a reader can tell
the paper's architecture from ganbench's reading of it. Neither paper published weights.

Both papers end in a sigmoid or softmax; here the last layer gives ``num_classes`` logits
and the softmax lives in the training loss (cross-entropy), as everywhere in ganbench.
For BrainGAN's single sigmoid unit this is the same model family: a two-logit softmax is a
sigmoid of the logits' difference.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from ganbench.api import Classifier, PretrainedWeightsUnavailable, hookimpl


def no_published_weights(name: str) -> PretrainedWeightsUnavailable:
    return PretrainedWeightsUnavailable(
        f"classifier {name!r} has no pretrained weights: its paper published none, so it is "
        "always trained from scratch; run it without pretrained weights"
    )


# --------------------------------------------------------------------------- BrainGAN

#: Keras's BatchNormalization defaults (BrainGAN used Keras); torch's momentum is 1 - Keras's.
KERAS_BN = {"eps": 1e-3, "momentum": 0.01}
#: The feature grid Table 3 flattens (24 x 24 x 128 = 73,728 at a 224-px input).
BRAINGAN_GRID = 24
BRAINGAN_CONV_DROPOUT = 0.25
BRAINGAN_DENSE_DROPOUT = 0.5
#: Smallest input the two valid convolutions and 3x3 poolings leave a feature map for.
BRAINGAN_MIN_SIZE = 12


def braingan_cnn(num_classes: int, channels: int) -> nn.Sequential:
    """Table 3, row by row; the comment on each layer is its row's output shape at the
    paper's 224 x 224 input."""
    features = nn.Sequential(
        nn.Conv2d(channels, 16, 3, padding=1),  # conv2d_1: 224 x 224 x 16
        nn.ReLU(inplace=True),  # activation_1: the table puts ReLU before the batch norm
        nn.BatchNorm2d(16, **KERAS_BN),  # batch_normalization_1
        nn.Conv2d(16, 32, 3, padding=1),  # conv2d_2: 224 x 224 x 32
        nn.ReLU(inplace=True),  # activation_2 (no batch norm in this block)
        nn.MaxPool2d(3),  # max_pooling2d_1: 74 x 74, so pool 3, stride 3, no padding
        nn.Dropout(BRAINGAN_CONV_DROPOUT),  # dropout_1
        nn.Conv2d(32, 64, 3),  # conv2d_3: 72 x 72 x 64, so no padding
        nn.ReLU(inplace=True),  # activation_3
        nn.BatchNorm2d(64, **KERAS_BN),  # batch_normalization_2
        nn.Conv2d(64, 128, 2),  # conv2d_4: 71 x 71 x 128 and 32,896 weights, so a 2x2 kernel
        nn.ReLU(inplace=True),  # no Activation row: Keras's inline activation="relu" (the text's ReLU)
        nn.MaxPool2d(3, ceil_mode=True),  # max_pooling2d_2: 24 x 24 (71 / 3 rounded up: Keras "same")
        nn.Dropout(BRAINGAN_CONV_DROPOUT),  # dropout_2
    )
    head = nn.Sequential(
        # The dense head was sized for the 24 x 24 grid of a 224-px input; pooling onto that
        # grid keeps the paper's head at every input size (an identity at 224 px).
        nn.AdaptiveAvgPool2d(BRAINGAN_GRID),
        nn.Flatten(),  # flatten_1: 73,728
        nn.Linear(128 * BRAINGAN_GRID**2, 512),  # dense_1
        nn.ReLU(inplace=True),
        nn.Dropout(BRAINGAN_DENSE_DROPOUT),
        nn.Linear(512, 1000),  # dense_2
        nn.ReLU(inplace=True),
        nn.Dropout(BRAINGAN_DENSE_DROPOUT),
        nn.Linear(1000, num_classes),  # dense_0 (one sigmoid unit in the paper)
    )
    return nn.Sequential(OrderedDict(features=features, head=head))


class BrainGANCNN(Classifier):
    """BrainGAN's CNN (Table 3): four convolutions, two max-poolings, three dense layers.

    Assumptions (also in ``assumptions``): padding and pooling are read off the table's
    output shapes; the dropout rates, the ReLU on conv2d_4 and the dense layers, and the
    adaptive pooling for inputs other than 224 px are ganbench's. The table's parameter
    column does not add up: four of its rows are off (438, 4,630, 18,486, 27,649,248,
    413,000 where the shapes give 448, 4,640, 18,496, 37,749,248, 513,000) and its total
    27,430,058 matches neither; the layer list, which this follows, gives 38,320,049 at
    224 x 224 x 3 with one output (counting batch-norm statistics, as Keras does).
    """

    name = "braingan-cnn"
    description = "BrainGAN's 4-conv CNN (Sensors 2022, Table 3) with its 73,728-512-1000 dense head"
    source = "Alrashedy et al., BrainGAN, Sensors 2022, 22, 4297: Table 3 (layers), Table 6 and Sec. 4 (training)"
    supports_pretrained = False
    profiles = {
        # smoke/quick: ganbench's CPU-sized runs; Adamax at Keras's default rate, because the
        # paper's 3e-5 learns next to nothing in a few epochs.
        "smoke": {"epochs": 3, "batch_size": 32, "optimizer": "adamax", "lr": 1e-3},
        "quick": {"epochs": 15, "batch_size": 32, "optimizer": "adamax", "lr": 1e-3},
        "paper": {"epochs": 300, "batch_size": 32, "optimizer": "adamax", "lr": 3e-5},
    }
    assumptions = (
        "Input 224 x 224 as in the paper; other sizes are average-pooled onto the 24 x 24 grid Table 3 "
        "flattens, so the dense head (and the parameter count) is the paper's at every size.",
        "'Same' padding for conv2d_1 and conv2d_2, none for conv2d_3 and conv2d_4, pool 3 with stride 3, the "
        "second pooling rounding up: the only settings that give Table 3's output shapes.",
        "conv2d_4 has a 2 x 2 kernel: its 32,896 parameters and 72 -> 71 output allow nothing else.",
        "ReLU after conv2d_4 and after dense_1 and dense_2: the text says hidden layers use ReLU and the table "
        "has no separate Activation row for them (Keras's inline activation).",
        "Layer order as the table lists it (ReLU before batch norm; no batch norm after conv2d_2 and conv2d_4), "
        "although the text says every block has one.",
        "Dropout 0.25 after the convolution blocks and 0.5 after the dense layers: the paper gives no rates.",
        "Batch norm with Keras's defaults (epsilon 1e-3, momentum 0.99), the framework the paper used.",
        "num_classes logits with softmax cross-entropy instead of one sigmoid unit (same for two classes).",
        "smoke and quick profiles use Adamax at 1e-3; only the paper profile has Table 6's 3e-5.",
    )

    def build(self, num_classes: int, image_size: int, channels: int, pretrained: bool = False) -> nn.Module:
        if pretrained:
            raise no_published_weights(self.name)
        if image_size < BRAINGAN_MIN_SIZE:
            raise ValueError(f"{self.name} needs images of at least {BRAINGAN_MIN_SIZE} px, got {image_size}")
        return braingan_cnn(num_classes, channels)


# --------------------------------------------------------------------------- IJACSA


IJACSA_DOWNSAMPLING = 4  # two 2x2 poolings


def ijacsa_cnn(num_classes: int, image_size: int, channels: int) -> nn.Sequential:
    """Table II, row by row."""
    grid = image_size // IJACSA_DOWNSAMPLING
    features = nn.Sequential(
        nn.Conv2d(channels, 64, 3, padding=1),  # (64, W, H): "same" padding
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),  # (64, W/2, H/2)
        nn.Conv2d(64, 128, 3, padding=1),  # (128, W/2, H/2)
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),  # (128, W/4, H/4)
    )
    head = nn.Sequential(
        nn.Flatten(),  # (128 W/4 H/4,): the table sizes the head by the input
        nn.Linear(128 * grid * grid, 256),
        nn.ReLU(inplace=True),
        nn.Linear(256, num_classes),  # softmax: in the loss
    )
    return nn.Sequential(OrderedDict(features=features, head=head))


class IjacsaCNN(Classifier):
    """The IJACSA 2024 classifier (Table II): two conv-ReLU-maxpool blocks, dense 256.

    Table II writes the flatten size as 128 x W/4 x H/4, so the dense layer is sized from
    the input size (no adaptive pooling): at the paper's 256 px that is 134,217,984
    weights in one layer, and 134,292,994 parameters in all for one channel and two
    classes. The paper states no optimiser, learning rate, batch size or dropout for the
    CNN (Adam and its settings are stated for the GAN); see ``assumptions``.
    """

    name = "ijacsa-cnn"
    description = "IJACSA 2024's CNN (Table II): 2 conv-ReLU-pool blocks (64, 128), dense 256"
    source = "GANs + CNN for brain-tumour MRI, IJACSA 15(6), 2024: Table II (layers), Table V (epochs 5/10/30)"
    supports_pretrained = False
    profiles = {
        "smoke": {"epochs": 3, "batch_size": 32, "optimizer": "adam", "lr": 1e-3},
        "quick": {"epochs": 10, "batch_size": 32, "optimizer": "adam", "lr": 1e-3},
        "paper": {"epochs": 30, "batch_size": 32, "optimizer": "adam", "lr": 1e-3},
    }
    assumptions = (
        "'Same' padding (stride 1) for both 3x3 convolutions, read off Table II's output shapes (W, H then W/2, H/2).",
        "2x2 max-pooling with stride 2; an input size not divisible by 4 is floored, as the pooling does.",
        "Adam at lr 1e-3 (Keras's and torch's default) and batch 32: the paper states Adam for the GAN only "
        "and gives no learning rate or batch size for the CNN.",
        "No dropout or batch norm: Table II lists none.",
        "The paper profile trains 30 epochs, the longest of Table V's 5/10/30; quick uses 10.",
        "num_classes logits with softmax cross-entropy; the table's final softmax is in the loss.",
    )

    def build(self, num_classes: int, image_size: int, channels: int, pretrained: bool = False) -> nn.Module:
        if pretrained:
            raise no_published_weights(self.name)
        if image_size < IJACSA_DOWNSAMPLING:
            raise ValueError(f"{self.name} needs images of at least {IJACSA_DOWNSAMPLING} px, got {image_size}")
        return ijacsa_cnn(num_classes, image_size, channels)


@hookimpl
def register_classifiers(register):
    register(BrainGANCNN())
    register(IjacsaCNN())
