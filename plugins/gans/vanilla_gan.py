"""Vanilla GAN: fully connected generator and discriminator (Goodfellow et al. 2014),
as BrainGAN (Alrashedy et al., Sensors 2022, Fig. 4 and Table 2) trains it on brain MRI.

Fig. 4 of BrainGAN is a picture without layer sizes in the text we have; the layers here
are the classic Keras MLP GAN of that era (Linder-Noren's Keras-GAN ``gan.py``): G is
Dense 256-512-1024, each followed by LeakyReLU 0.2 and batch norm (Keras momentum 0.8),
then a tanh output; D is Dense 512-256 with LeakyReLU 0.2 and one logit; Keras'
glorot-uniform initialisation. Table 2 gives the optimiser settings: Adam, batch 128,
D lr 1e-4, G lr 2e-4, 1000 epochs.

Image sizes: any size up to 256 px (:data:`SIZES`). The generator's output layer has
1024 weights per pixel and channel, and the discriminator's input layer 512, so both grow
fourfold per doubling: at 256 px and 1 channel they have 67.9 M and 33.7 M parameters
(202 M and 101 M at 3 channels); at 512 px they would have 269 M and 134 M (807 M and
403 M at 3 channels), 6.5 GB with gradients and Adam's moments at 1 channel. That is past
ganbench's budget of 250 M parameters per network (:mod:`.sizes`) and far from the MLP
GAN BrainGAN describes, so 512 px is refused rather than widened or narrowed into a
different network.
"""

from __future__ import annotations

from torch import nn

from ganbench.api import GAN, ImageSpec, hookimpl

from .adversarial import FAST_KERNELS, AdversarialModel, NonSaturating
from .keras_init import keras_batch_norm, keras_init
from .sizes import SizeRule

SIZES = SizeRule(
    minimum=1,
    maximum=256,
    reason="Its fully connected networks have weights for every pixel (1024 per pixel and channel in the "
    "generator's output layer): at 512 px the generator would have 269 M parameters and the "
    "discriminator 134 M at 1 channel, past the budget of 250 M per network.",
)

_COMMON = {"latent_dim": 100, "lr_d": 1e-4, "lr_g": 2e-4, "betas": (0.5, 0.999), "fused_adam": FAST_KERNELS["fused_adam"]}


def mlp_generator(latent_dim: int, spec: ImageSpec) -> nn.Sequential:
    out = spec.channels * spec.size * spec.size
    layers: list[nn.Module] = []
    width_in = latent_dim
    for width in (256, 512, 1024):
        layers += [nn.Linear(width_in, width), nn.LeakyReLU(0.2), keras_batch_norm(width, momentum=0.8, dims=1)]
        width_in = width
    layers += [nn.Linear(width_in, out), nn.Tanh(), nn.Unflatten(1, (spec.channels, spec.size, spec.size))]
    return nn.Sequential(*layers)


def mlp_discriminator(spec: ImageSpec) -> nn.Sequential:
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
    source = "Goodfellow et al., NeurIPS 2014; Alrashedy et al., BrainGAN, Sensors 2022, Fig. 4 / Table 2"
    profiles = {
        "smoke": {**_COMMON, "batch_size": 64, "steps": 150},
        "quick": {**_COMMON, "batch_size": 128, "epochs": 100},
        "paper": {**_COMMON, "batch_size": 128, "epochs": 1000},
    }
    assumptions = (
        "Layer sizes of Keras-GAN's MLP GAN; BrainGAN's Fig. 4 gives none in text.",
        "Adam betas (0.5, 0.999) and latent size 100, as Keras-GAN; BrainGAN states only the learning rates.",
        "One GAN per class.",
        "Largest image size 256 px: BrainGAN states none, and the MLP's size-dependent layers would pass 250 M parameters at 512 px.",
    )
    sizes = SIZES

    def build(self, spec, hparams, device) -> AdversarialModel:
        self.sizes.check(self.name, spec.size)
        latent = hparams["latent_dim"]
        generator, discriminator = mlp_generator(latent, spec), mlp_discriminator(spec)
        generator.apply(keras_init)
        discriminator.apply(keras_init)
        return AdversarialModel(generator, discriminator, NonSaturating(), latent, hparams, device)


@hookimpl
def register_gans(register):
    register(VanillaGAN())
