"""The generators of 4, 7 and 15 layers and the 10-layer discriminator of the 2023 thesis
on GAN depth and FID (Tables 1-4): Keras Sequential models for 112 x 112 grayscale
slices of the Medical Segmentation Decathlon brain task, latent 100, tanh output.

The thesis lists layer types and trainable-parameter totals only; the sizes below are
the ones those totals admit (every kernel 5x5, "same" padding, dense layers of the
generators without bias, every (transposed) convolution with bias, the discriminator's
dense layer with bias), checked by ``tests/test_gan_zoo.py``:

=========== ================================================================ ==========
network     layers (112 px)                                                  parameters
=========== ================================================================ ==========
gan-4layer  Dense 56*56*64, LeakyReLU, reshape, ConvT 1 (stride 2)           20,072,001
gan-7layer  Dense 28*28*256, reshape, ConvT 128 (s1), BN, LReLU,             21,096,577
            ConvT 64 (s2), BN, LReLU, ConvT 1 (s2)
gan-15layer Dense 14*14*256, reshape, [ConvT 256 (s1), 128 (s2), 128 (s1),    8,092,929
            64 (s2)] each with BN and LReLU, ConvT 1 (s2)
D (10)      Conv 32 (s2), LReLU 0.01, Conv 64 (s2), BN, LReLU, Conv 128          282,497
            (s2), BN, LReLU, Flatten, Dense 1 (sigmoid)
=========== ================================================================ ==========

The parameter count fixes channels and kernels, not strides: where three of five layers
must halve, stride 2 goes where the channel count halves and at the output (the TF
DCGAN tutorial's pattern, which the thesis' code descends from). Other image sizes keep
the layers and scale the seed map (size / 2, / 4 or / 8; any multiple of 8).

The thesis trains at 112 px only. At other sizes the generator's dense layer, 100 x the
seed map's cells, grows fourfold per doubling; the largest size each GAN takes is the
largest power of two at which it stays within the budget of 250 M parameters per network
(:mod:`.sizes`):

=========== ========= =============================== ====================================
generator   sizes     generator parameters at 256 px  at 512 px
=========== ========= =============================== ====================================
gan-4layer  8 - 256   104.9 M                         419.4 M in the dense layer: refused
gan-7layer  8 - 256   105.9 M                         419.4 M in the dense layer: refused
gan-15layer 8 - 512   29.3 M                          107.9 M (a step of 2: 3.6 GB peak)
=========== ========= =============================== ====================================

The discriminator's dense layer grows the same way but from 128 x (size/8)^2 inputs:
0.78 M parameters at 512 px.

Not stated in the thesis and assumed from the TensorFlow DCGAN tutorial it builds on:
the generators' LeakyReLU slope (Keras' default 0.3), Adam learning rate 1e-4 for both
networks (Keras' default betas and epsilon, which the thesis says it kept), batch 256,
BCE with D's loss the sum of its real and generated terms.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ganbench.api import GAN, ImageSpec, hookimpl

from .adversarial import FAST_KERNELS, AdversarialModel, NonSaturating
from .keras_init import keras_batch_norm, keras_init
from .sizes import SizeRule

LATENT = 100
KERNEL, PAD = 5, 2
G_SLOPE = 0.3
D_SLOPE = 0.01


@dataclass(frozen=True)
class ThesisGenerator:
    """One of Tables 1-3: the dense layer's seed map, then (channels, stride) of every
    transposed convolution before the output one (stride 2)."""

    seed_divisor: int
    seed_channels: int
    activation_after_dense: bool
    blocks: tuple[tuple[int, int], ...]
    #: The largest image size: past it the dense layer would pass the parameter budget.
    max_size: int

    def sizes(self) -> SizeRule:
        at_double = LATENT * self.seed_channels * (2 * self.max_size // self.seed_divisor) ** 2
        return SizeRule(
            minimum=8,
            multiple=8,
            maximum=self.max_size,
            reason=f"The thesis' generators are for 112 px; other sizes scale the seed map of the dense layer "
            f"(size/{self.seed_divisor} square, {self.seed_channels} channels), which at {2 * self.max_size} px "
            f"would have {at_double / 1e6:.0f} M parameters, past the budget of 250 M per network; "
            "sizes must be multiples of 8 for the three stride-2 convolutions of the discriminator.",
        )


GENERATORS = {
    "gan-4layer": ThesisGenerator(2, 64, True, (), max_size=256),
    "gan-7layer": ThesisGenerator(4, 256, False, ((128, 1), (64, 2)), max_size=256),
    "gan-15layer": ThesisGenerator(8, 256, False, ((256, 1), (128, 2), (128, 1), (64, 2)), max_size=512),
}


def check_size(size: int) -> None:
    if size < 8 or size % 8:
        raise ValueError(f"the thesis networks need an image size that is a multiple of 8 (112 in the thesis), got {size}")


def transposed(c_in: int, c_out: int, stride: int) -> nn.ConvTranspose2d:
    # Keras Conv2DTranspose(5, strides, "same") gives exactly input * stride.
    return nn.ConvTranspose2d(c_in, c_out, KERNEL, stride, PAD, output_padding=stride - 1)


def thesis_generator(layout: ThesisGenerator, spec: ImageSpec) -> nn.Sequential:
    check_size(spec.size)
    side = spec.size // layout.seed_divisor
    layers: list[nn.Module] = [nn.Linear(LATENT, side * side * layout.seed_channels, bias=False)]
    if layout.activation_after_dense:
        layers.append(nn.LeakyReLU(G_SLOPE))
    layers.append(nn.Unflatten(1, (layout.seed_channels, side, side)))
    c_in = layout.seed_channels
    for c_out, stride in layout.blocks:
        layers += [transposed(c_in, c_out, stride), keras_batch_norm(c_out), nn.LeakyReLU(G_SLOPE)]
        c_in = c_out
    layers += [transposed(c_in, spec.channels, 2), nn.Tanh()]
    return nn.Sequential(*layers)


def thesis_discriminator(spec: ImageSpec) -> nn.Sequential:
    check_size(spec.size)
    side = spec.size // 8
    return nn.Sequential(
        nn.Conv2d(spec.channels, 32, KERNEL, 2, PAD),
        nn.LeakyReLU(D_SLOPE),
        nn.Conv2d(32, 64, KERNEL, 2, PAD),
        keras_batch_norm(64),
        nn.LeakyReLU(D_SLOPE),
        nn.Conv2d(64, 128, KERNEL, 2, PAD),
        keras_batch_norm(128),
        nn.LeakyReLU(D_SLOPE),
        nn.Flatten(),
        nn.Linear(128 * side * side, 1),
        nn.Flatten(0),
    )


_COMMON = {"lr_d": 1e-4, "lr_g": 1e-4, "betas": (0.9, 0.999), "eps": 1e-7, **FAST_KERNELS}
_ASSUMPTIONS = (
    "Strides of the transposed convolutions: the parameter totals do not fix them.",
    "Generator LeakyReLU slope 0.3, Adam 1e-4, batch 256 and the BCE form: from the TF DCGAN tutorial; the thesis states none.",
    "Sizes other than the thesis' 112 px keep its layers and scale the dense layer's seed map, up to the largest "
    "size within 250 M parameters (256 px for the 4- and 7-layer generators, 512 px for the 15-layer one).",
)


class ThesisGAN(GAN):
    """The thesis' generator of one depth with its 10-layer discriminator."""

    profiles = {
        "smoke": {**_COMMON, "batch_size": 64, "steps": 150},
        "quick": {**_COMMON, "batch_size": 256, "epochs": 20},
        # Table 5 trains 50 and 100 epochs on 10k, 30k and 50k slices.
        "paper": {**_COMMON, "batch_size": 256, "epochs": 50},
    }
    assumptions = _ASSUMPTIONS

    def __init__(self, name: str, layers: int):
        self.name = name
        self.description = f"Thesis generator of {layers} layers with its 10-layer discriminator (112 px grayscale)"
        self.source = f"GAN depth vs FID thesis, 2023, Tables {dict(zip((4, 7, 15), (1, 2, 3)))[layers]} and 4"
        self.layout = GENERATORS[name]
        self.sizes = self.layout.sizes()

    def build(self, spec, hparams, device) -> AdversarialModel:
        self.sizes.check(self.name, spec.size)
        generator, discriminator = thesis_generator(self.layout, spec), thesis_discriminator(spec)
        generator.apply(keras_init)
        discriminator.apply(keras_init)
        return AdversarialModel(generator, discriminator, NonSaturating(), LATENT, hparams, device)


@hookimpl
def register_gans(register):
    register(ThesisGAN("gan-4layer", 4))
    register(ThesisGAN("gan-7layer", 7))
    register(ThesisGAN("gan-15layer", 15))
