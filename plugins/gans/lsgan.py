"""LSGAN (Mao et al., ICCV 2017), one of the IJACSA 2024 Table VI baselines, as its paper
defines it: least-squares losses with the 0-1 coding (a = 0 for generated, b = 1 for
real, c = 1 the value G wants D to give its images), a linear D output, Adam with
beta1 0.5, on the DCGAN networks. IJACSA states none of these for its baseline.
"""

from __future__ import annotations

from ganbench.api import hookimpl

from .adversarial import FAST_KERNELS, LeastSquares
from .dcgan_nets import DCGANFamily

_COMMON = {
    "latent_dim": 100, "lr_d": 2e-4, "lr_g": 2e-4, "betas": (0.5, 0.999), "batch_size": 64,
    "a": 0.0, "b": 1.0, "c": 1.0,
    **FAST_KERNELS,
}


class LSGAN(DCGANFamily):
    name = "lsgan"
    description = "Least-squares GAN (Mao et al. 2017), DCGAN networks"
    source = "Mao et al., ICCV 2017; baseline of IJACSA 2024 (Table VI)"
    profiles = {
        "smoke": {**_COMMON, "steps": 150, "width": 32},
        "quick": {**_COMMON, "epochs": 100, "width": 64},
        "paper": {**_COMMON, "epochs": 1000, "width": 64},
    }
    assumptions = (
        "All settings from Mao et al. (0-1 coding; their other coding is a=-1, b=1, c=0): IJACSA names LSGAN without any.",
        "Learning rate 2e-4 (the DCGAN value common in reimplementations) and the DCGAN networks, not LSGAN's 112 px scene networks.",
        "Epochs (1000 at the paper profile) are not stated anywhere for brain MRI.",
    )

    def objective(self, hparams):
        return LeastSquares(hparams["a"], hparams["b"], hparams["c"])


@hookimpl
def register_gans(register):
    register(LSGAN())
