"""The non-saturating GAN objective (Goodfellow et al. 2014) shared by the GANs that
train with binary cross-entropy: a generator, a discriminator that outputs one logit,
and an Adam optimiser for each.

Not a plugin: the GAN plugins build on it.
"""

from __future__ import annotations

from typing import Mapping, Optional

import torch
from torch import nn
from torch.nn import functional as F

from ganbench.specs import GANModel


def adam(module: nn.Module, lr: float, betas) -> torch.optim.Adam:
    return torch.optim.Adam(module.parameters(), lr=lr, betas=tuple(betas))


class BCEAdversarialModel(GANModel):
    """D maximises log D(x) + log(1 - D(G(z))); G maximises log D(G(z)) (the
    non-saturating form). Computed on logits with BCE-with-logits, which is the
    papers' sigmoid + BCE without its overflow."""

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        latent_dim: int,
        hparams: Mapping,
        device: torch.device,
    ):
        self.generator = generator.to(device)
        self.discriminator = discriminator.to(device)
        self.latent_dim = latent_dim
        self.device = device
        self.opt_g = adam(self.generator, hparams["lr_g"], hparams["betas"])
        self.opt_d = adam(self.discriminator, hparams["lr_d"], hparams["betas"])

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def noise(self, n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        # Drawn on the CPU so that a seeded generator gives the same latents on any device.
        return torch.randn(n, self.latent_dim, generator=generator).to(self.device)

    def train_step(self, real: torch.Tensor, labels: Optional[torch.Tensor]) -> dict[str, float]:
        self.generator.train()
        self.discriminator.train()
        real = real.to(self.device, non_blocking=True)
        n = real.shape[0]
        fake = self.generator(self.noise(n))

        self.opt_d.zero_grad(set_to_none=True)
        logits_real = self.discriminator(real)
        logits_fake = self.discriminator(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(
            logits_real, torch.ones_like(logits_real)
        ) + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
        loss_d.backward()
        self.opt_d.step()

        self.opt_g.zero_grad(set_to_none=True)
        logits_gen = self.discriminator(fake)
        loss_g = F.binary_cross_entropy_with_logits(logits_gen, torch.ones_like(logits_gen))
        loss_g.backward()
        self.opt_g.step()
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}

    @torch.no_grad()
    def sample(self, n, labels=None, generator=None) -> torch.Tensor:
        self.generator.eval()
        return self.generator(self.noise(n, generator)).float()
