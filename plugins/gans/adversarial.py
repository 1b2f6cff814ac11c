"""The adversarial training step shared by the noise-to-image GANs: a generator, a
discriminator (or critic), an objective, and an optimiser for each. What differs between
GAN variants is the networks and the objective; what a GAN plugin builds is an
:class:`AdversarialModel` with both.

Objectives (the loss the papers name):

* :class:`NonSaturating`: Goodfellow et al. 2014, D maximises log D(x) + log(1 - D(G(z))),
  G maximises log D(G(z)); on logits with BCE-with-logits (the papers' sigmoid + BCE
  without its overflow);
* :class:`LeastSquares`: Mao et al. 2017, with the a-b-c coding;
* :class:`Wasserstein`: Arjovsky et al. 2017 (weight clipping) or Gulrajani et al. 2017
  (gradient penalty).

One call of :meth:`AdversarialModel.train_step` is one discriminator update on one real
batch; the generator is updated on every ``n_critic``-th call (1 for most GANs, 5 for the
Wasserstein GANs, whose Algorithm 1 draws a fresh real batch per critic iteration). The
losses returned name what was updated: ``loss_g`` appears only on calls that updated G.

Not a plugin: the GAN plugins build on it.
"""

from __future__ import annotations

from typing import Mapping, Optional

import torch
from torch import nn
from torch.nn import functional as F

from ganbench.api import GANModel

# --------------------------------------------------------------------------- objectives


class Objective:
    """How D's outputs on real and generated images become the two losses."""

    def discriminator_loss(self, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def generator_loss(self, fake_out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def penalty(self, model: "AdversarialModel", real, fake, labels) -> Optional[torch.Tensor]:
        """An extra discriminator loss term computed from the inputs, or None."""
        return None

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        """A constraint enforced on D's weights after each update."""


class NonSaturating(Objective):
    """``d_scale`` halves D's loss where the source averages the real and fake terms
    (Keras implementations that train D on one concatenated batch)."""

    def __init__(self, d_scale: float = 1.0):
        self.d_scale = d_scale

    def discriminator_loss(self, real_out, fake_out):
        real = F.binary_cross_entropy_with_logits(real_out, torch.ones_like(real_out))
        fake = F.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out))
        return self.d_scale * (real + fake)

    def generator_loss(self, fake_out):
        return F.binary_cross_entropy_with_logits(fake_out, torch.ones_like(fake_out))


class LeastSquares(Objective):
    """D: 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]; G: 1/2 E[(D(G(z)) - c)^2]."""

    def __init__(self, a: float = 0.0, b: float = 1.0, c: float = 1.0):
        self.a, self.b, self.c = a, b, c

    def discriminator_loss(self, real_out, fake_out):
        return 0.5 * (real_out - self.b).pow(2).mean() + 0.5 * (fake_out - self.a).pow(2).mean()

    def generator_loss(self, fake_out):
        return 0.5 * (fake_out - self.c).pow(2).mean()


class Wasserstein(Objective):
    """The critic maximises E[f(x)] - E[f(G(z))], so its loss is the negative; G
    minimises -E[f(G(z))]. Lipschitz continuity by clipping every critic weight to
    [-clip, clip] after each update (WGAN), or by the penalty
    ``gp_weight * (||grad f(x_hat)||_2 - 1)^2`` on random interpolates x_hat between
    real and generated images, one uniform epsilon per image (WGAN-GP)."""

    def __init__(self, clip: Optional[float] = None, gp_weight: Optional[float] = None):
        if (clip is None) == (gp_weight is None):
            raise ValueError("a Wasserstein objective needs exactly one of clip and gp_weight")
        self.clip, self.gp_weight = clip, gp_weight

    def discriminator_loss(self, real_out, fake_out):
        return fake_out.mean() - real_out.mean()

    def generator_loss(self, fake_out):
        return -fake_out.mean()

    def penalty(self, model, real, fake, labels):
        if self.gp_weight is None:
            return None
        epsilon = torch.rand(real.shape[0], *([1] * (real.ndim - 1)), device=real.device)
        mixed = (epsilon * real + (1 - epsilon) * fake).requires_grad_(True)
        out = model.discriminate(mixed, labels)
        (grad,) = torch.autograd.grad(out.sum(), mixed, create_graph=True)
        return self.gp_weight * (grad.flatten(1).norm(2, dim=1) - 1).pow(2).mean()

    def after_discriminator_step(self, discriminator):
        if self.clip is not None:
            with torch.no_grad():
                for parameter in discriminator.parameters():
                    parameter.clamp_(-self.clip, self.clip)


# --------------------------------------------------------------------------- optimisers


#: The kernels the built-in GANs on :class:`AdversarialModel` train with, as
#: hyperparameters: channels-last activations (``channels_last``: the layout oneDNN and
#: cuDNN convolve fastest; a DCGAN step at 32 px took 100 ms against 123 ms on a
#: 2-core CPU) and PyTorch's fused Adam (``fused_adam``: one kernel for the whole
#: update, where the default runs several per tensor; a vanilla-GAN step at 32 px took
#: 19 ms against 30 ms with both; docs/performance.md has every GAN's). The model and its maths are the same, the rounding is not:
#: trained weights, and every number computed from them, differ from a run with both
#: off. Being hyperparameters, they are in each cell's config hash (results of the two
#: never share one), and ``--gan-setting channels_last=false --gan-setting
#: fused_adam=false`` trains with PyTorch's default kernels.
FAST_KERNELS = {"channels_last": True, "fused_adam": True}


def make_optimizer(parameters, hparams: Mapping, lr: float) -> torch.optim.Optimizer:
    """``hparams['optimizer']``: adam (default; ``betas``, ``eps``, ``fused_adam``) or
    rmsprop. Raises ``ValueError`` for another name."""
    name = hparams.get("optimizer", "adam")
    if name == "adam":
        # fused=None, not False, is PyTorch's default (its for-each or per-tensor update).
        fused = True if hparams.get("fused_adam", False) else None
        return torch.optim.Adam(parameters, lr=lr, betas=tuple(hparams["betas"]), eps=hparams.get("eps", 1e-8), fused=fused)
    if name == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; expected adam or rmsprop")


# --------------------------------------------------------------------------- the model


class AdversarialModel(GANModel):
    """A generator and a discriminator trained against each other.

    With ``num_classes`` the GAN is conditional: both networks are called with the
    labels as a second argument (the generated images get the real batch's labels, as
    the cGAN report's training step does), and :meth:`sample` needs labels.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        objective: Objective,
        latent_dim: int,
        hparams: Mapping,
        device: torch.device,
        num_classes: Optional[int] = None,
    ):
        # Channels-last moves only the 4-D (convolution) weights; a fully connected
        # network is left as it is.
        layout = {"memory_format": torch.channels_last} if hparams.get("channels_last", False) else {}
        self.generator = generator.to(device, **layout)
        self.discriminator = discriminator.to(device, **layout)
        self.objective = objective
        self.latent_dim = latent_dim
        self.device = device
        self.num_classes = num_classes
        self.n_critic = int(hparams.get("n_critic", 1))
        #: WGAN's reference code: 100 critic iterations for the first 25 generator
        #: iterations and every 500th, so the critic starts (and stays) near optimal.
        self.critic_boost = bool(hparams.get("critic_boost", False))
        self.opt_g = make_optimizer(self.generator.parameters(), hparams, hparams["lr_g"])
        self.opt_d = make_optimizer(self.discriminator.parameters(), hparams, hparams["lr_d"])
        self.critic_steps = 0  # discriminator updates since the last generator update
        self.generator_steps = 0

    # ---- pieces subclasses may change

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def latent(self, n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        # Drawn on the CPU so that a seeded generator gives the same latents on any device.
        return torch.randn(n, self.latent_dim, generator=generator).to(self.device)

    def generate(self, z: torch.Tensor, labels: Optional[torch.Tensor]) -> torch.Tensor:
        return self.generator(z) if self.num_classes is None else self.generator(z, labels)

    def discriminate(self, images: torch.Tensor, labels: Optional[torch.Tensor]) -> torch.Tensor:
        return self.discriminator(images) if self.num_classes is None else self.discriminator(images, labels)

    def extra_losses(self, z, fake, d_out_fake, for_generator: bool) -> dict[str, torch.Tensor]:
        """Terms added to D's (``for_generator`` False) or G's loss (InfoGAN's
        mutual-information term); keyed by the name they are reported under."""
        return {}

    def adversarial_output(self, d_out) -> torch.Tensor:
        """The real/fake score in D's output (InfoGAN's D also returns code estimates)."""
        return d_out

    # ---- training

    def critic_iterations(self) -> int:
        if self.critic_boost and (self.generator_steps < 25 or self.generator_steps % 500 == 0):
            return 100
        return self.n_critic

    def train_step(self, real: torch.Tensor, labels: Optional[torch.Tensor]) -> dict[str, float]:
        self.generator.train()
        self.discriminator.train()
        real = real.to(self.device, non_blocking=True)
        if labels is not None:
            labels = labels.to(self.device)
        if self.num_classes is not None and labels is None:
            raise ValueError("a conditional GAN trains on labelled images")
        update_g = self.critic_steps + 1 >= self.critic_iterations()

        z = self.latent(real.shape[0])
        with torch.set_grad_enabled(update_g):
            fake = self.generate(z, labels)

        self.opt_d.zero_grad(set_to_none=True)
        d_out_fake = self.discriminate(fake.detach(), labels)
        loss_d = self.objective.discriminator_loss(
            self.adversarial_output(self.discriminate(real, labels)), self.adversarial_output(d_out_fake)
        )
        report = {"loss_d": loss_d}
        penalty = self.objective.penalty(self, real, fake.detach(), labels)
        if penalty is not None:
            report["penalty"] = penalty
            loss_d = loss_d + penalty
        for name, term in self.extra_losses(z, fake, d_out_fake, for_generator=False).items():
            report[name] = term
            loss_d = loss_d + term
        loss_d.backward()
        self.opt_d.step()
        self.objective.after_discriminator_step(self.discriminator)
        self.critic_steps += 1

        if update_g:
            self.opt_g.zero_grad(set_to_none=True)
            d_out = self.discriminate(fake, labels)
            loss_g = self.objective.generator_loss(self.adversarial_output(d_out))
            report["loss_g"] = loss_g
            for name, term in self.extra_losses(z, fake, d_out, for_generator=True).items():
                report[f"{name}_g"] = term
                loss_g = loss_g + term
            loss_g.backward()
            self.opt_g.step()
            self.critic_steps = 0
            self.generator_steps += 1
        return {name: float(value.detach()) for name, value in report.items()}

    # ---- sampling

    def sample_labels(self, n: int) -> torch.Tensor:
        """Labels cycling through the classes, for a conditional GAN sampled without."""
        return torch.arange(n) % self.num_classes

    @torch.no_grad()
    def sample(self, n, labels=None, generator=None) -> torch.Tensor:
        self.generator.eval()
        if self.num_classes is not None and labels is None:
            labels = self.sample_labels(n)
        z = self.latent(n, generator)
        # In the standard layout whatever the networks' (channels_last), for the metrics.
        return self.generate(z, None if labels is None else labels.to(self.device)).float().contiguous()
