"""The "proposed GAN" of the IJACSA 2024 brain-MRI paper (GAN + CNN): a generator of a
dense layer, a reshape and transposed convolutions with batch norm and ReLU; a
discriminator of convolutions with spectral normalisation (Miyato et al., ICLR 2018) and
LeakyReLU, then flatten and dense layers; BCE-with-logits; Adam for both (its Table I
and Section III). One GAN per class ("train_GAN is called twice": normal and tumour).

The paper gives no layer sizes, learning rate, batch size or epochs. The layers follow
its Table I with DCGAN-style sizes (:mod:`.dcgan_nets` widths, 4x4 kernels, stride 2),
spectral normalisation on every discriminator layer (one power iteration per step, as
Miyato et al.), no batch norm in the discriminator, and two dense layers (Table I says
"dense layers"); Adam 2e-4, betas (0.5, 0.999) (Miyato et al.'s DCGAN-style setting).

Image sizes: IJACSA trains at 256 and 512 px. Every power of two from 8 up works
(:data:`.dcgan_nets.SIZES`): one stride-2 stage per doubling in both networks, and the
discriminator's dense layer reads the 4 x 4 map at every size, so nothing grows with the
image but one more capped-width stage (at 512 px: generator 4.2 M parameters at the
smoke profile's width 32, 16.2 M at the paper's 64). 112 px and other sizes that are not
powers of two are refused.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganbench.api import GAN, ImageSpec, hookimpl

from . import dcgan_nets
from .adversarial import FAST_KERNELS, AdversarialModel, NonSaturating

DENSE_WIDTH = 128


def sn_generator(latent_dim: int, spec: ImageSpec, width: int) -> nn.Sequential:
    widths = dcgan_nets.stage_widths(spec.size, width)[::-1]
    layers: list[nn.Module] = [
        nn.Linear(latent_dim, widths[0] * 4 * 4, bias=False),
        nn.Unflatten(1, (widths[0], 4, 4)),
        nn.BatchNorm2d(widths[0]),
        nn.ReLU(True),
    ]
    for c_in, c_out in zip(widths, widths[1:]):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
    layers += [nn.ConvTranspose2d(widths[-1], spec.channels, 4, 2, 1), nn.Tanh()]
    return nn.Sequential(*layers)


def sn_discriminator(spec: ImageSpec, width: int) -> nn.Sequential:
    widths = dcgan_nets.stage_widths(spec.size, width)
    layers: list[nn.Module] = []
    c_in = spec.channels
    for c_out in widths:
        layers += [spectral_norm(nn.Conv2d(c_in, c_out, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        c_in = c_out
    layers += [
        nn.Flatten(),
        spectral_norm(nn.Linear(c_in * 4 * 4, DENSE_WIDTH)),
        nn.LeakyReLU(0.2, True),
        spectral_norm(nn.Linear(DENSE_WIDTH, 1)),
        nn.Flatten(0),
    ]
    return nn.Sequential(*layers)


_COMMON = {"latent_dim": 100, "lr_d": 2e-4, "lr_g": 2e-4, "betas": (0.5, 0.999), "batch_size": 64, **FAST_KERNELS}


class SNGAN(GAN):
    name = "sn-gan"
    description = "IJACSA 2024 'proposed GAN': transposed-conv G, spectral-norm D, BCE-with-logits, Adam"
    source = "GAN + CNN brain MRI, IJACSA 2024 (Table I, Sec. III); Miyato et al., ICLR 2018 (spectral norm)"
    profiles = {
        "smoke": {**_COMMON, "steps": 150, "width": 32},
        "quick": {**_COMMON, "epochs": 100, "width": 64},
        "paper": {**_COMMON, "epochs": 1000, "width": 64},
    }
    assumptions = (
        "Every layer size: IJACSA's Table I names layer types only; DCGAN-style widths and 4x4 kernels are used.",
        "Adam 2e-4, betas (0.5, 0.999), batch 64, latent 100 and the epochs (1000 at the paper profile): not stated.",
        "Samples come from the final generator; IJACSA saved images every 10th batch during training.",
        "At IJACSA's 256 and 512 px, one more stride-2 stage per doubling (DCGAN's rule): no layer count is given.",
    )
    sizes = dcgan_nets.SIZES

    def build(self, spec, hparams, device) -> AdversarialModel:
        self.sizes.check(self.name, spec.size)
        latent, width = hparams["latent_dim"], hparams["width"]
        generator = sn_generator(latent, spec, width)
        generator.apply(dcgan_nets.init_weights)
        # The discriminator keeps PyTorch's default initialisation: spectral
        # normalisation rescales every weight, so N(0, 0.02) would be undone anyway.
        return AdversarialModel(generator, sn_discriminator(spec, width), NonSaturating(), latent, hparams, device)


@hookimpl
def register_gans(register):
    register(SNGAN())
