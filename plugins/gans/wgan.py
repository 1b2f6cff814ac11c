"""WGAN (Arjovsky, Chintala and Bottou, ICML 2017), one of the IJACSA 2024 Table VI
baselines, as its paper defines it: the DCGAN networks with a linear critic output (the
critic keeps batch norm, as in the paper's DCGAN experiments), the critic loss
E[f(G(z))] - E[f(x)], every critic weight clipped to [-0.01, 0.01] after each update,
RMSProp with learning rate 5e-5, 5 critic iterations per generator iteration, batch 64
(Algorithm 1), and the reference code's 100 critic iterations for the first 25 and every
500th generator iteration. IJACSA states none of these for its baseline.
"""

from __future__ import annotations

from ganbench.api import hookimpl

from .adversarial import FAST_KERNELS, Wasserstein
from .dcgan_nets import DCGANFamily

_COMMON = {
    "latent_dim": 100, "optimizer": "rmsprop", "lr_d": 5e-5, "lr_g": 5e-5, "clip": 0.01,
    "n_critic": 5, "batch_size": 64,
    "channels_last": FAST_KERNELS["channels_last"],
}


class WGAN(DCGANFamily):
    name = "wgan"
    description = "Wasserstein GAN with weight clipping (Arjovsky et al. 2017), DCGAN networks"
    source = "Arjovsky, Chintala and Bottou, ICML 2017; baseline of IJACSA 2024 (Table VI)"
    profiles = {
        # One step is one critic iteration; the smoke profile leaves out the 100-iteration
        # warm-up, which alone would take 2,500 steps.
        "smoke": {**_COMMON, "steps": 300, "width": 32, "critic_boost": False},
        "quick": {**_COMMON, "epochs": 100, "width": 64, "critic_boost": True},
        "paper": {**_COMMON, "epochs": 1000, "width": 64, "critic_boost": True},
    }
    assumptions = (
        "All settings from Arjovsky et al.: IJACSA names WGAN as a baseline without any.",
        "Epochs (1000 at the paper profile) are not stated anywhere for brain MRI.",
    )

    def objective(self, hparams):
        return Wasserstein(clip=hparams["clip"])


@hookimpl
def register_gans(register):
    register(WGAN())
