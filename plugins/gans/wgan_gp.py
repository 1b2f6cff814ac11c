"""WGAN-GP (Gulrajani et al., NeurIPS 2017) as its paper defines it (Algorithm 1): the
DCGAN networks with a linear critic output and no batch norm in the critic (the penalty
is per image; batch norm would tie each image's score to its batch), the gradient
penalty lambda (||grad f(x_hat)||_2 - 1)^2 with lambda = 10 on uniform interpolates, 5
critic iterations per generator iteration, Adam with learning rate 1e-4 and betas
(0, 0.9), batch 64.

None of the five brain-MRI papers uses it; it is here as the standard fix for WGAN's
weight clipping, so a reader can see what the IJACSA WGAN baseline leaves on the table.
"""

from __future__ import annotations

from ganbench.api import hookimpl

from .adversarial import FAST_KERNELS, Wasserstein
from .dcgan_nets import DCGANFamily

_COMMON = {
    "latent_dim": 100, "lr_d": 1e-4, "lr_g": 1e-4, "betas": (0.0, 0.9), "gp_weight": 10.0,
    "n_critic": 5, "batch_size": 64,
    **FAST_KERNELS,
}


class WGANGP(DCGANFamily):
    name = "wgan-gp"
    description = "Wasserstein GAN with gradient penalty (Gulrajani et al. 2017), DCGAN networks"
    source = "Gulrajani et al., NeurIPS 2017 (Algorithm 1); extra baseline, not in the five papers"
    profiles = {
        "smoke": {**_COMMON, "steps": 300, "width": 32},
        "quick": {**_COMMON, "epochs": 100, "width": 64},
        "paper": {**_COMMON, "epochs": 1000, "width": 64},
    }
    discriminator_batch_norm = False
    assumptions = (
        "No brain-MRI paper here uses WGAN-GP; all settings are Gulrajani et al.'s.",
        "Epochs (1000 at the paper profile) are not stated anywhere for brain MRI.",
    )

    def objective(self, hparams):
        return Wasserstein(gp_weight=hparams["gp_weight"])


@hookimpl
def register_gans(register):
    register(WGANGP())
