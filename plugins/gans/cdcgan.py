"""Conditional DCGAN as the cGAN report (2023) builds it with the GANForge library, layer
for layer (its listing, lines 299-371 of the plain-text copy), in PyTorch:

* both networks embed the class label (Embedding(num_classes, 50)) and map it with a
  dense layer to one extra image plane, concatenated with their input;
* D: five 5x5 stride-2 convolutions (32, 64, 128, 256, 256 filters, "same" padding, with
  bias) each followed by batch norm and LeakyReLU 0.2, then flatten, dropout 0.4 and one
  logit;
* G: a dense layer from the latent (256) to a (size/16)^2 x 256 map, concatenated with
  the label plane, four 4x4 stride-2 transposed convolutions (256, 128, 64, 32) each with
  batch norm and LeakyReLU 0.1, then a 5x5 convolution to the image and tanh;
* D's loss is the mean of its real and generated BCE terms (GANForge's training step),
  G's the non-saturating BCE; Adam 2e-4, beta1 0.5 for both; 50 epochs; 128 px, 3
  channels, 4 classes, 10,000 generated images in the report.

At 128 px, 3 channels and 4 classes the trainable parameters are 5,958,795 (G) and
3,558,889 (D), as the Keras listing gives. The report's own code reads the seed size from
``discriminator.layers[-1]``, which cannot run; GANForge uses the map after D's fourth
convolution, size/16, which is what this module does. Keras conventions throughout:
glorot-uniform weights, batch-norm momentum 0.99 and epsilon 1e-3.

Image sizes: multiples of 32 from 32 to 512 px (:data:`SIZES`). The layers are the
report's at every size (five stride-2 convolutions in D, four in G); what follows the
size is G's seed map (size/16 square, from a dense layer of 256 x (size/16)^2 outputs)
and the label planes (a dense layer of size^2 outputs in D). At 512 px and 1 channel
that is 69.2 M generator parameters (67.4 M of them in the seed layer) and 16.2 M
discriminator ones, against 6.0 M and 3.6 M at the report's 128 px; one step at batch 2
peaks near 3 GB on a CPU. At 1024 px the seed layer alone would have 269 M parameters,
past the budget of 250 M per network (:mod:`.sizes`), so sizes above 512 are refused.
"""

from __future__ import annotations

from torch import nn
import torch

from ganbench.api import GAN, ImageSpec, hookimpl

from .adversarial import FAST_KERNELS, AdversarialModel, NonSaturating
from .keras_init import keras_batch_norm, keras_init
from .sizes import SizeRule

EMBEDDING = 50
D_FILTERS = (32, 64, 128, 256, 256)
G_FILTERS = (256, 128, 64, 32)

SIZES = SizeRule(
    minimum=32,
    multiple=32,
    maximum=512,
    reason="The report's discriminator has five stride-2 convolutions (a multiple of 32), and the generator's "
    "seed layer has 256 x (size/16)^2 outputs: 67 M parameters at 512 px, 269 M at 1024, past the budget "
    "of 250 M per network.",
)


def check_size(size: int) -> None:
    SIZES.check("cdcgan", size)


class LabelPlane(nn.Module):
    """Class label -> one ``side`` x ``side`` plane: Embedding(classes, 50) then Dense."""

    def __init__(self, num_classes: int, side: int):
        super().__init__()
        self.side = side
        self.embed = nn.Embedding(num_classes, EMBEDDING)
        self.dense = nn.Linear(EMBEDDING, side * side)

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        return self.dense(self.embed(labels)).view(-1, 1, self.side, self.side)


class ConditionalDiscriminator(nn.Module):
    def __init__(self, spec: ImageSpec):
        super().__init__()
        check_size(spec.size)
        self.label_plane = LabelPlane(spec.num_classes, spec.size)
        layers: list[nn.Module] = []
        c_in = spec.channels + 1
        for c_out in D_FILTERS:
            layers += [nn.Conv2d(c_in, c_out, 5, 2, 2), keras_batch_norm(c_out), nn.LeakyReLU(0.2)]
            c_in = c_out
        side = spec.size // 2 ** len(D_FILTERS)
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.4), nn.Linear(c_in * side * side, 1), nn.Flatten(0))

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(torch.cat([images, self.label_plane(labels)], 1)))


class ConditionalGenerator(nn.Module):
    def __init__(self, latent_dim: int, spec: ImageSpec):
        super().__init__()
        check_size(spec.size)
        self.side = spec.size // 2 ** len(G_FILTERS)
        self.label_plane = LabelPlane(spec.num_classes, self.side)
        self.seed = nn.Linear(latent_dim, self.side * self.side * G_FILTERS[0])
        layers: list[nn.Module] = []
        c_in = G_FILTERS[0] + 1
        for c_out in G_FILTERS:
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), keras_batch_norm(c_out), nn.LeakyReLU(0.1)]
            c_in = c_out
        layers += [nn.Conv2d(c_in, spec.channels, 5, 1, 2), nn.Tanh()]
        self.upsample = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        seed = self.seed(z).view(-1, G_FILTERS[0], self.side, self.side)
        return self.upsample(torch.cat([seed, self.label_plane(labels)], 1))


_COMMON = {"latent_dim": 256, "lr_d": 2e-4, "lr_g": 2e-4, "betas": (0.5, 0.999), "eps": 1e-7, "batch_size": 64, **FAST_KERNELS}


class CDCGAN(GAN):
    name = "cdcgan"
    description = "Conditional DCGAN of the cGAN report (label embedding 50 in both nets, latent 256)"
    source = "cGAN + ResNet50 brain-MRI report, 2023 (GANForge ConditionalDCGAN listing)"
    conditional = True
    profiles = {
        "smoke": {**_COMMON, "steps": 300},
        "quick": {**_COMMON, "epochs": 25},
        "paper": {**_COMMON, "epochs": 50},
    }
    assumptions = (
        "Batch size 64: the report does not state it.",
        "Seed map of size/16 (GANForge's layers[-7]); the report's printed layers[-1] cannot run.",
        "Class-balanced labels when sampling; the report drew 10,000 labels at random (about 2,500 per class).",
        "Sizes other than the report's 128 px keep its layers and scale the seed map (size/16), up to 512 px.",
    )
    sizes = SIZES

    def build(self, spec, hparams, device) -> AdversarialModel:
        self.sizes.check(self.name, spec.size)
        latent = hparams["latent_dim"]
        generator, discriminator = ConditionalGenerator(latent, spec), ConditionalDiscriminator(spec)
        generator.apply(keras_init)
        discriminator.apply(keras_init)
        return AdversarialModel(
            generator, discriminator, NonSaturating(d_scale=0.5), latent, hparams, device, num_classes=spec.num_classes
        )


@hookimpl
def register_gans(register):
    register(CDCGAN())
