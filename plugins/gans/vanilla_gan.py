"""Vanilla GAN: fully connected generator and discriminator (Goodfellow et al. 2014),
as BrainGAN (Alrashedy et al., Sensors 2022, Fig. 4 and Table 2) trains it on brain MRI.

Fig. 4 of BrainGAN is a picture without layer sizes in the text we have; the layers here
are the classic MLP GAN that Keras implementations of that era use (G: 256-512-1024 with
LeakyReLU 0.2 and batch norm, tanh output; D: 512-256 with LeakyReLU 0.2, one logit).
Table 2 gives the optimiser settings: Adam, batch 128, D lr 1e-4, G lr 2e-4, 1000 epochs.
beta1 is not reported; 0.5 (Radford et al.) is used.
"""

from __future__ import annotations

from torch import nn

from ganbench import hookimpl
from ganbench.specs import GAN, ImageSpec

from .adversarial import BCEAdversarialModel

HPARAMS = {
    "smoke": {"batch_size": 64, "steps": 150, "latent_dim": 100, "lr_d": 1e-4, "lr_g": 2e-4, "betas": (0.5, 0.999)},
    "quick": {"batch_size": 128, "epochs": 100, "latent_dim": 100, "lr_d": 1e-4, "lr_g": 2e-4, "betas": (0.5, 0.999)},
    "paper": {"batch_size": 128, "epochs": 1000, "latent_dim": 100, "lr_d": 1e-4, "lr_g": 2e-4, "betas": (0.5, 0.999)},
}


def mlp_generator(latent_dim: int, spec: ImageSpec) -> nn.Module:
    out = spec.channels * spec.size * spec.size
    layers: list[nn.Module] = []
    width_in = latent_dim
    for width in (256, 512, 1024):
        layers += [nn.Linear(width_in, width), nn.LeakyReLU(0.2)]
        # Keras' BatchNormalization(momentum=0.8) keeps 80% of the old running
        # average; PyTorch's momentum is the weight of the new value.
        if width != 256:
            layers.append(nn.BatchNorm1d(width, momentum=0.2))
        width_in = width
    layers += [nn.Linear(width_in, out), nn.Tanh(), nn.Unflatten(1, (spec.channels, spec.size, spec.size))]
    return nn.Sequential(*layers)


def mlp_discriminator(spec: ImageSpec) -> nn.Module:
    inputs = spec.channels * spec.size * spec.size
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(inputs, 512),
        nn.LeakyReLU(0.2),
        nn.Linear(512, 256),
        nn.LeakyReLU(0.2),
        nn.Linear(256, 1),
        nn.Flatten(0),
    )


class VanillaGAN(GAN):
    name = "vanilla-gan"
    description = "Fully connected GAN (Goodfellow 2014) with BrainGAN's training settings"
    source = "Alrashedy et al., BrainGAN, Sensors 2022, Fig. 4 / Table 2"

    def hyperparameters(self, profile: str) -> dict:
        return dict(HPARAMS[profile])

    def build(self, spec, hparams, device) -> BCEAdversarialModel:
        latent = hparams["latent_dim"]
        return BCEAdversarialModel(mlp_generator(latent, spec), mlp_discriminator(spec), latent, hparams, device)


@hookimpl
def register_gans(register):
    register(VanillaGAN())
