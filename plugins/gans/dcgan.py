"""DCGAN (Radford, Metz and Chintala, ICLR 2016) with the training settings BrainGAN
(Alrashedy et al., Sensors 2022, Table 2) used for brain MRI: Adam, batch 64, D lr 1e-4,
G lr 2e-4, 2000 epochs (the text says 1000 for both GANs; Table 2 says 2000 for DCGAN).

The networks are :mod:`.dcgan_nets`: BrainGAN gives no layer sizes (its Fig. 5 is a
picture), only that it follows Radford et al. The objective is the non-saturating GAN
loss (BrainGAN's Eq. 1).
"""

from __future__ import annotations

from ganbench.api import hookimpl

from .adversarial import FAST_KERNELS, NonSaturating
from .dcgan_nets import DCGANFamily

_COMMON = {"latent_dim": 100, "lr_d": 1e-4, "lr_g": 2e-4, "betas": (0.5, 0.999), "batch_size": 64, **FAST_KERNELS}


class DCGAN(DCGANFamily):
    name = "dcgan"
    description = "Deep convolutional GAN (Radford et al. 2016) with BrainGAN's training settings"
    source = "Radford et al., ICLR 2016; Alrashedy et al., BrainGAN, Sensors 2022, Table 2"
    profiles = {
        "smoke": {**_COMMON, "steps": 150, "width": 32},
        "quick": {**_COMMON, "epochs": 100, "width": 64},
        "paper": {**_COMMON, "epochs": 2000, "width": 64},
    }
    assumptions = (
        "Adam betas (0.5, 0.999) (Radford et al.); BrainGAN states only the learning rates.",
        "Latent size 100 and normal noise; layer widths from Radford et al.'s released code (64 at full resolution).",
        "One GAN per class; BrainGAN calls it 'Deep Conditional GAN' but describes Radford's unconditional one.",
    )

    def objective(self, hparams):
        return NonSaturating()


@hookimpl
def register_gans(register):
    register(DCGAN())
