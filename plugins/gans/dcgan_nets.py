"""The DCGAN networks (Radford, Metz and Chintala, ICLR 2016) at any power-of-two image
size: the backbone that DCGAN, WGAN, WGAN-GP, LSGAN and InfoGAN share in their papers.

Radford et al.'s rules: strided (transposed) convolutions and no pooling; batch norm in G
and D except on G's output and D's input layer; ReLU in G with a tanh output, LeakyReLU
0.2 in D; no fully connected hidden layers; weights from N(0, 0.02). Kernels are 4x4
with stride 2 as in the authors' released code (the paper's figure draws 5x5). The stages
follow the image size, 4x4 -> size doubling, with ``width`` channels at full resolution
and twice as many per halving, capped at ``8 * width`` (Radford's 64 px generator is
8w-4w-2w-w; larger images repeat the 8w stage instead of growing past it).

Image sizes: every power of two from 8 up, with no upper limit (:data:`SIZES`). Each
doubling adds one stride-2 stage to both networks, Radford et al.'s own rule, and there
is no dense layer whose width follows the image: at 512 px and width 32 (the smoke
profile) the generator has 4.2 M parameters and the discriminator 3.8 M; at width 64,
16.2 M and 15.3 M. Other sizes (112 px) are refused, because the stages could not reach
the 4 x 4 seed map by halving.

Not a plugin: the GAN plugins build on it (:class:`DCGANFamily`).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Mapping

from torch import nn

from ganbench.api import GAN

from .adversarial import AdversarialModel, Objective
from .sizes import SizeRule

SIZES = SizeRule(
    minimum=8,
    powers_of_two=True,
    reason="Each stride-2 stage of the DCGAN networks halves the image down to their 4 x 4 seed map "
    "(Radford et al.'s one stage per doubling), so the size must be a power of two.",
)


def stages(size: int) -> int:
    """Doublings from the 4x4 seed to ``size``; sizes must be powers of two >= 8."""
    if size < 8 or not math.log2(size).is_integer():
        raise ValueError(f"DCGAN networks need a power-of-two image size >= 8, got {size}")
    return int(math.log2(size)) - 2


def stage_widths(size: int, width: int) -> list[int]:
    """Channels after each stage of the discriminator, from full resolution down to
    4x4 (the generator uses them in reverse)."""
    return [min(width * 2**i, 8 * width) for i in range(stages(size))]


def generator(latent_dim: int, size: int, channels: int, width: int, output_activation: bool = True) -> nn.Sequential:
    widths = stage_widths(size, width)[::-1]
    layers: list[nn.Module] = [
        nn.Unflatten(1, (latent_dim, 1, 1)),
        nn.ConvTranspose2d(latent_dim, widths[0], 4, 1, 0, bias=False),
        nn.BatchNorm2d(widths[0]),
        nn.ReLU(True),
    ]
    for c_in, c_out in zip(widths, widths[1:]):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
    layers.append(nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False))
    if output_activation:
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def discriminator_body(size: int, channels: int, width: int, batch_norm: bool = True) -> nn.Sequential:
    """Strided convolutions down to a ``stage_widths[-1]`` x 4 x 4 feature map.

    ``batch_norm=False`` for critics whose gradient penalty is per image (WGAN-GP:
    batch norm would make each image's score depend on the others in its batch)."""
    widths = stage_widths(size, width)
    layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1, bias=not batch_norm), nn.LeakyReLU(0.2, True)]
    for c_in, c_out in zip(widths, widths[1:]):
        layers.append(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(nn.LeakyReLU(0.2, True))
    return nn.Sequential(*layers)


def discriminator(size: int, channels: int, width: int, batch_norm: bool = True) -> nn.Sequential:
    """One score (a logit, or a critic value) per image."""
    body = discriminator_body(size, channels, width, batch_norm)
    return nn.Sequential(*body, nn.Conv2d(stage_widths(size, width)[-1], 1, 4, 1, 0, bias=False), nn.Flatten(0))


def init_weights(module: nn.Module) -> None:
    """Radford et al.: every weight from N(0, 0.02); batch-norm scales from N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANFamily(GAN):
    """A GAN on the DCGAN networks; subclasses choose the objective (and whether the
    discriminator keeps batch norm). Hyperparameters: ``latent_dim``, ``width`` and the
    optimiser settings :class:`.adversarial.AdversarialModel` reads."""

    discriminator_batch_norm: ClassVar[bool] = True
    sizes: ClassVar[SizeRule] = SIZES

    def objective(self, hparams: Mapping[str, Any]) -> Objective:
        raise NotImplementedError

    def build(self, spec, hparams, device) -> AdversarialModel:
        self.sizes.check(self.name, spec.size)
        latent, width = hparams["latent_dim"], hparams["width"]
        generator_net = generator(latent, spec.size, spec.channels, width)
        discriminator_net = discriminator(spec.size, spec.channels, width, self.discriminator_batch_norm)
        generator_net.apply(init_weights)
        discriminator_net.apply(init_weights)
        return AdversarialModel(generator_net, discriminator_net, self.objective(hparams), latent, hparams, device)
