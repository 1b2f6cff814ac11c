"""InfoGAN (Chen et al., NeurIPS 2016), one of the IJACSA 2024 Table VI baselines, as
its paper and reference code define it: the generator's input is incompressible noise
plus latent codes (by default 62 uniform noise variables, one 10-way categorical code and
two uniform continuous codes in [-1, 1], the paper's MNIST setting), and an auxiliary
head Q on the discriminator's features predicts the codes of a generated image. The
variational lower bound on the mutual information between codes and image, weighted by
lambda = 1, is added to both D/Q's and G's losses: cross-entropy for the categorical
code, and for each continuous code the negative log-likelihood of a unit-variance
Gaussian, (c - mu)^2 / 2. Adam, beta1 0.5, D lr 2e-4 and G lr 1e-3 (the reference code).

The networks are the DCGAN ones (:mod:`.dcgan_nets`) with the latent widened by the
codes; Q is a dense 128 layer with batch norm and LeakyReLU on D's last feature map, as
in the paper's appendix. IJACSA states no setting for its baseline.

Image sizes: those of the DCGAN networks (:data:`.dcgan_nets.SIZES`), every power of two
from 8 up; Q reads D's last 4 x 4 map, so it does not grow with the image.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn
from torch.nn import functional as F

from ganbench.api import GAN, ImageSpec, hookimpl

from . import dcgan_nets
from .adversarial import FAST_KERNELS, AdversarialModel, NonSaturating

Q_WIDTH = 128


class InfoDiscriminator(nn.Module):
    """D's body shared by the real/fake logit and the code head Q."""

    def __init__(self, spec: ImageSpec, width: int, categories: int, continuous: int):
        super().__init__()
        features = dcgan_nets.stage_widths(spec.size, width)[-1]
        self.body = dcgan_nets.discriminator_body(spec.size, spec.channels, width)
        self.adversarial = nn.Sequential(nn.Conv2d(features, 1, 4, 1, 0, bias=False), nn.Flatten(0))
        self.q = nn.Sequential(
            nn.Flatten(),
            nn.Linear(features * 4 * 4, Q_WIDTH, bias=False),
            nn.BatchNorm1d(Q_WIDTH),
            nn.LeakyReLU(0.2, True),
            nn.Linear(Q_WIDTH, categories + continuous),
        )

    def forward(self, images: torch.Tensor):
        features = self.body(images)
        return self.adversarial(features), self.q(features)


class InfoGANModel(AdversarialModel):
    def __init__(self, generator, discriminator, hparams, device):
        self.noise_dim = hparams["noise_dim"]
        self.categories = hparams["categories"]
        self.continuous = hparams["continuous"]
        self.info_weight = hparams["info_weight"]
        latent = self.noise_dim + self.categories + self.continuous
        super().__init__(generator, discriminator, NonSaturating(), latent, hparams, device)

    def latent(self, n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        noise = torch.rand(n, self.noise_dim, generator=generator) * 2 - 1
        category = torch.randint(self.categories, (n,), generator=generator)
        continuous = torch.rand(n, self.continuous, generator=generator) * 2 - 1
        return torch.cat([noise, F.one_hot(category, self.categories).float(), continuous], 1).to(self.device)

    def adversarial_output(self, d_out):
        return d_out[0]

    def extra_losses(self, z, fake, d_out_fake, for_generator):
        q = d_out_fake[1]
        start = self.noise_dim
        category = z[:, start : start + self.categories].argmax(1)
        continuous = z[:, start + self.categories :]
        nll_category = F.cross_entropy(q[:, : self.categories], category)
        nll_continuous = 0.5 * (q[:, self.categories :] - continuous).pow(2).sum(1).mean()
        return {"info": self.info_weight * (nll_category + nll_continuous)}


_COMMON = {
    "noise_dim": 62, "categories": 10, "continuous": 2, "info_weight": 1.0,
    "lr_d": 2e-4, "lr_g": 1e-3, "betas": (0.5, 0.999), "batch_size": 64,
    **FAST_KERNELS,
}


class InfoGAN(GAN):
    name = "infogan"
    description = "InfoGAN (Chen et al. 2016): noise plus categorical/continuous codes, mutual-information head"
    source = "Chen et al., NeurIPS 2016 (and openai/InfoGAN); baseline of IJACSA 2024 (Table VI)"
    profiles = {
        "smoke": {**_COMMON, "steps": 150, "width": 32},
        "quick": {**_COMMON, "epochs": 100, "width": 64},
        "paper": {**_COMMON, "epochs": 1000, "width": 64},
    }
    assumptions = (
        "All settings from Chen et al.: IJACSA names InfoGAN without any; the codes are the paper's MNIST ones.",
        "DCGAN networks (the paper's are for 28-64 px datasets); batch 64 instead of the reference code's 128.",
        "Epochs (1000 at the paper profile) are not stated anywhere for brain MRI.",
    )
    sizes = dcgan_nets.SIZES

    def build(self, spec, hparams, device) -> InfoGANModel:
        self.sizes.check(self.name, spec.size)
        latent = hparams["noise_dim"] + hparams["categories"] + hparams["continuous"]
        generator = dcgan_nets.generator(latent, spec.size, spec.channels, hparams["width"])
        discriminator = InfoDiscriminator(spec, hparams["width"], hparams["categories"], hparams["continuous"])
        generator.apply(dcgan_nets.init_weights)
        discriminator.apply(dcgan_nets.init_weights)
        return InfoGANModel(generator, discriminator, hparams, device)


@hookimpl
def register_gans(register):
    register(InfoGAN())
