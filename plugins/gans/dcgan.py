"""DCGAN (Radford, Metz and Chintala, ICLR 2016), with the training settings BrainGAN
(Sensors 2022, Table 2) used for brain MRI: Adam, batch 64, D lr 1e-4, G lr 2e-4,
2000 epochs.

Architecture as in the DCGAN paper: strided transposed convolutions with batch norm and
ReLU in G (tanh output), strided convolutions with batch norm and LeakyReLU 0.2 in D (no
batch norm on D's input layer), no pooling, no fully connected hidden layers, weights
from N(0, 0.02). The number of stages follows the image size: 4x4 -> size, doubling.
"""

from __future__ import annotations

import math

from torch import nn

from ganbench import hookimpl
from ganbench.specs import GAN, ImageSpec

from .adversarial import BCEAdversarialModel

_COMMON = {"latent_dim": 100, "lr_d": 1e-4, "lr_g": 2e-4, "betas": (0.5, 0.999)}
HPARAMS = {
    "smoke": {**_COMMON, "batch_size": 64, "steps": 150, "width": 32},
    "quick": {**_COMMON, "batch_size": 64, "epochs": 100, "width": 64},
    "paper": {**_COMMON, "batch_size": 64, "epochs": 2000, "width": 64},
}


def stages(size: int) -> int:
    """Doublings from the 4x4 seed to ``size``; sizes must be powers of two >= 8."""
    if size < 8 or not math.log2(size).is_integer():
        raise ValueError(f"dcgan needs a power-of-two image size >= 8, got {size}")
    return int(math.log2(size)) - 2


def dcgan_generator(latent_dim: int, spec: ImageSpec, width: int) -> nn.Module:
    n = stages(spec.size)
    channels = width * 2 ** (n - 1)
    layers: list[nn.Module] = [
        nn.Unflatten(1, (latent_dim, 1, 1)),
        nn.ConvTranspose2d(latent_dim, channels, 4, 1, 0, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(True),
    ]
    for _ in range(n - 1):
        layers += [
            nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(channels // 2),
            nn.ReLU(True),
        ]
        channels //= 2
    layers += [nn.ConvTranspose2d(channels, spec.channels, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def dcgan_discriminator(spec: ImageSpec, width: int) -> nn.Module:
    n = stages(spec.size)
    layers: list[nn.Module] = [nn.Conv2d(spec.channels, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
    channels = width
    for _ in range(n - 1):
        layers += [
            nn.Conv2d(channels, channels * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(channels * 2),
            nn.LeakyReLU(0.2, True),
        ]
        channels *= 2
    layers += [nn.Conv2d(channels, 1, 4, 1, 0, bias=False), nn.Flatten(0)]
    return nn.Sequential(*layers)


def dcgan_init(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGAN(GAN):
    name = "dcgan"
    description = "Deep convolutional GAN (Radford et al. 2016) with BrainGAN's training settings"
    source = "Radford et al., ICLR 2016; Alrashedy et al., BrainGAN, Sensors 2022, Table 2"

    def hyperparameters(self, profile: str) -> dict:
        return dict(HPARAMS[profile])

    def build(self, spec, hparams, device) -> BCEAdversarialModel:
        latent, width = hparams["latent_dim"], hparams["width"]
        generator = dcgan_generator(latent, spec, width)
        discriminator = dcgan_discriminator(spec, width)
        generator.apply(dcgan_init)
        discriminator.apply(dcgan_init)
        return BCEAdversarialModel(generator, discriminator, latent, hparams, device)


@hookimpl
def register_gans(register):
    register(DCGAN())
