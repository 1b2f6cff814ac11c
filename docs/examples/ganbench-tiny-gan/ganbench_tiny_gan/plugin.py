"""tiny-gan: a generator and a discriminator of two fully connected layers each, trained
with the least-squares GAN loss (Mao et al., ICCV 2017). It learns little, but trains
in seconds on a CPU at 32 px, which is what an example plugin needs."""

from __future__ import annotations

import torch
from torch import nn

from ganbench.api import GAN, GANModel, hookimpl

_COMMON = {"latent_dim": 32, "hidden": 128, "lr": 2e-4, "batch_size": 32}


class TinyGANModel(GANModel):
    def __init__(self, spec, hparams, device):
        self.shape = (spec.channels, spec.size, spec.size)
        self.latent_dim = hparams["latent_dim"]
        self.device = device
        pixels, hidden = spec.channels * spec.size * spec.size, hparams["hidden"]
        self.generator = nn.Sequential(
            nn.Linear(self.latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, pixels), nn.Tanh()
        ).to(device)
        self.discriminator = nn.Sequential(
            nn.Flatten(), nn.Linear(pixels, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1)
        ).to(device)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=hparams["lr"], betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=hparams["lr"], betas=(0.5, 0.999))

    def generate(self, z):
        return self.generator(z).view(-1, *self.shape)

    def train_step(self, real, labels):
        self.generator.train()
        real = real.to(self.device)
        fake = self.generate(torch.randn(real.shape[0], self.latent_dim, device=self.device))

        # D pushes its score towards 1 on real images and 0 on generated ones...
        loss_d = (self.discriminator(real) - 1).pow(2).mean() + self.discriminator(fake.detach()).pow(2).mean()
        self.opt_d.zero_grad()
        loss_d.backward()
        self.opt_d.step()

        # ...and G towards D scoring its images 1.
        loss_g = (self.discriminator(fake) - 1).pow(2).mean()
        self.opt_g.zero_grad()
        loss_g.backward()
        self.opt_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}

    @torch.no_grad()
    def sample(self, n, labels=None, generator=None):
        self.generator.eval()
        # Drawn on the CPU, where the seeded generator lives, so a seed gives the same
        # images on every device.
        z = torch.randn(n, self.latent_dim, generator=generator).to(self.device)
        return self.generate(z)

    def networks(self):
        return {"generator": self.generator, "discriminator": self.discriminator}


class TinyGAN(GAN):
    name = "tiny-gan"
    description = "Two-layer MLP GAN with the least-squares loss: the plugin tutorial's example"
    source = "ganbench docs/writing-a-plugin.md; loss of Mao et al., ICCV 2017"
    profiles = {
        "smoke": {**_COMMON, "steps": 100},
        "quick": {**_COMMON, "epochs": 20},
        "paper": {**_COMMON, "epochs": 100},
    }
    assumptions = ("Not from a paper: every setting is the example's own choice.",)

    def build(self, spec, hparams, device):
        return TinyGANModel(spec, hparams, device)


@hookimpl
def register_gans(register):
    register(TinyGAN())
