"""CycleGAN (Zhu, Park, Isola and Efros, ICCV 2017), as the 2022 brain-MRI paper uses it
to turn no-tumour T2 slices into tumour slices: two ResNet generators (G: source ->
target, F: target -> source), two 70 x 70 PatchGAN discriminators, least-squares
adversarial losses, an L1 cycle-consistency loss weighted by lambda = 10 (the paper's
Eq. 9), Adam 2e-4 with beta1 0.5, batch 1, a pool of the last 50 generated images for
the discriminators, and a learning rate that stays constant for the first half of
training and decays linearly to zero over the second (Zhu et al.: 100 + 100 epochs; the
brain-MRI paper trained 100 epochs in all, 256 x 256).

Networks as Zhu et al.'s released code builds them: generator c7s1-64, d128, d256, nine
residual blocks at 256 px (six below), u128, u64, c7s1-C with reflection padding,
instance norm (no affine parameters) and ReLU, tanh output; discriminator C64 (no norm)
-C128-C256 with stride 2, C512 with stride 1, then a 1-channel 4x4 convolution, instance
norm and LeakyReLU 0.2; weights from N(0, 0.02). The identity loss (0.5 x lambda), which
Zhu et al.'s code applies by default and the brain-MRI paper does not mention, is kept.

In a suite, the runner trains one CycleGAN per target class against the source class
(no tumour) and the "samples" are translations of held-out images: see
:mod:`ganbench.runner.translation`.

Image sizes: multiples of 4 from 32 px up, with no upper limit (:data:`SIZES`). Both
networks are fully convolutional, so their parameters do not depend on the size (the
paper networks: 11.4 M per generator and 2.8 M per discriminator at 3 channels); the
generator's two stride-2 downsamplings and two upsamplings give back the input size only
for multiples of 4, and the PatchGAN's three stride-2 and two 4 x 4 stride-1 layers need
at least 32 px to leave a patch map. Memory grows with the activations alone, four times
per doubling (one step of the smoke networks at 512 px and batch 2 peaks near 2 GB).
"""

from __future__ import annotations

import random

import torch
from torch import nn
from torch.nn import functional as F

from ganbench.api import GAN, ImageSpec, ImageToImageModel, hookimpl

from . import dcgan_nets
from .adversarial import make_optimizer
from .sizes import SizeRule

SIZES = SizeRule(
    minimum=32,
    multiple=4,
    reason="The ResNet generator's two stride-2 downsamplings and upsamplings return the input size only for "
    "multiples of 4, and the 70 x 70 PatchGAN needs at least 32 px to leave a patch map.",
)


def norm(channels: int) -> nn.InstanceNorm2d:
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), norm(channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def resnet_generator(channels: int, width: int, blocks: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(channels, width, 7), norm(width), nn.ReLU(True)]
    for mult in (1, 2):  # two stride-2 downsamplings
        layers += [nn.Conv2d(width * mult, width * mult * 2, 3, 2, 1), norm(width * mult * 2), nn.ReLU(True)]
    layers += [ResidualBlock(width * 4) for _ in range(blocks)]
    for mult in (4, 2):
        layers += [
            nn.ConvTranspose2d(width * mult, width * mult // 2, 3, 2, 1, output_padding=1),
            norm(width * mult // 2),
            nn.ReLU(True),
        ]
    layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, channels, 7), nn.Tanh()]
    return nn.Sequential(*layers)


def patch_discriminator(channels: int, width: int, layers: int = 3) -> nn.Sequential:
    """70 x 70 receptive field with ``layers`` = 3."""
    out: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    c_in = width
    for n in range(1, layers + 1):
        c_out = width * min(2**n, 8)
        stride = 2 if n < layers else 1
        out += [nn.Conv2d(c_in, c_out, 4, stride, 1), norm(c_out), nn.LeakyReLU(0.2, True)]
        c_in = c_out
    out.append(nn.Conv2d(c_in, 1, 4, 1, 1))
    return nn.Sequential(*out)


class ImagePool:
    """Shrivastava et al.'s history of generated images: half the time D sees an older
    image instead of the newest, which damps oscillation."""

    def __init__(self, size: int, rng: random.Random):
        self.size, self.rng, self.images = size, rng, []

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif self.rng.random() < 0.5:
                slot = self.rng.randrange(self.size)
                out.append(self.images[slot])
                self.images[slot] = image
            else:
                out.append(image)
        return torch.stack(out)


class CycleGANModel(ImageToImageModel):
    def __init__(self, spec: ImageSpec, hparams, device: torch.device, pool_seed: int):
        SIZES.check("cyclegan", spec.size)
        blocks = hparams["blocks"] if hparams.get("blocks") else (9 if spec.size >= 256 else 6)
        width, d_width = hparams["width"], hparams["d_width"]
        self.g = resnet_generator(spec.channels, width, blocks).to(device)  # source -> target
        self.f = resnet_generator(spec.channels, width, blocks).to(device)  # target -> source
        self.d_target = patch_discriminator(spec.channels, d_width).to(device)
        self.d_source = patch_discriminator(spec.channels, d_width).to(device)
        for net in self.networks().values():
            net.apply(dcgan_nets.init_weights)
        self.device = device
        self.cycle_weight = hparams["cycle_weight"]
        self.identity_weight = hparams["identity_weight"]
        self.decay_fraction = hparams["decay_fraction"]
        rng = random.Random(pool_seed)
        self.pool_target, self.pool_source = ImagePool(hparams["pool_size"], rng), ImagePool(hparams["pool_size"], rng)
        self.opt_g = make_optimizer(list(self.g.parameters()) + list(self.f.parameters()), hparams, hparams["lr"])
        self.opt_d = make_optimizer(
            list(self.d_target.parameters()) + list(self.d_source.parameters()), hparams, hparams["lr"]
        )
        self.schedulers: list = []

    def networks(self) -> dict[str, nn.Module]:
        return {"g": self.g, "f": self.f, "d_target": self.d_target, "d_source": self.d_source}

    def state_dict(self):
        # The image pools and their shared Python RNG change with training too; without
        # them a resumed run would feed the discriminators other images.
        state = super().state_dict()
        state["pools"] = {
            "target": list(self.pool_target.images),
            "source": list(self.pool_source.images),
            "rng": self.pool_target.rng.getstate(),
        }
        return state

    def load_state_dict(self, state) -> None:
        super().load_state_dict(state)
        pools = state["pools"]
        self.pool_target.images = [image.to(self.device) for image in pools["target"]]
        self.pool_source.images = [image.to(self.device) for image in pools["source"]]
        version, internal, gauss = pools["rng"]
        self.pool_target.rng.setstate((version, tuple(internal), gauss))  # one Random, shared by both pools

    def plan(self, total_steps: int) -> None:
        """Constant learning rate, then a linear decay to zero over the last
        ``decay_fraction`` of the steps (Zhu et al. decay per epoch; per step is the
        same line, sampled finer)."""
        constant = int(total_steps * (1 - self.decay_fraction))
        decay = max(1, total_steps - constant)

        def factor(step: int) -> float:
            return 1.0 - max(0, step - constant) / decay

        self.schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, factor) for opt in (self.opt_g, self.opt_d)]

    def _discriminators_learn(self, flag: bool) -> None:
        for net in (self.d_target, self.d_source):
            net.requires_grad_(flag)

    @staticmethod
    def _ls(out: torch.Tensor, target: float) -> torch.Tensor:
        return F.mse_loss(out, torch.full_like(out, target))

    def train_step(self, real, labels):
        if labels is None:
            raise ValueError("cyclegan trains on a batch of both domains: labels 0 (source) and 1 (target)")
        for net in self.networks().values():
            net.train()
        real, labels = real.to(self.device), labels.to(self.device)
        source, target = real[labels == 0], real[labels == 1]
        if len(source) == 0 or len(target) == 0:
            raise ValueError("cyclegan needs images of both domains in every batch")

        # Generators: fool both discriminators, reconstruct through the cycle. The
        # discriminators' weights need no gradients for this half.
        self._discriminators_learn(False)
        self.opt_g.zero_grad(set_to_none=True)
        fake_target, fake_source = self.g(source), self.f(target)
        adversarial = self._ls(self.d_target(fake_target), 1.0) + self._ls(self.d_source(fake_source), 1.0)
        cycle = F.l1_loss(self.f(fake_target), source) + F.l1_loss(self.g(fake_source), target)
        loss_g = adversarial + self.cycle_weight * cycle
        identity = torch.zeros((), device=self.device)
        if self.identity_weight > 0:
            identity = F.l1_loss(self.g(target), target) + F.l1_loss(self.f(source), source)
            loss_g = loss_g + self.identity_weight * self.cycle_weight * identity
        loss_g.backward()
        self.opt_g.step()

        # Discriminators: real vs pooled generated images, each loss halved.
        self._discriminators_learn(True)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d_target = 0.5 * (self._ls(self.d_target(target), 1.0) + self._ls(self.d_target(self.pool_target(fake_target)), 0.0))
        loss_d_source = 0.5 * (self._ls(self.d_source(source), 1.0) + self._ls(self.d_source(self.pool_source(fake_source)), 0.0))
        (loss_d_target + loss_d_source).backward()
        self.opt_d.step()
        for scheduler in self.schedulers:
            scheduler.step()
        return {
            "loss_g": float(adversarial.detach()),
            "cycle": float(cycle.detach()),
            "identity": float(identity.detach()),
            "loss_d": float((loss_d_target + loss_d_source).detach()),
        }

    @torch.no_grad()
    def translate(self, images: torch.Tensor, reverse: bool = False) -> torch.Tensor:
        net = self.f if reverse else self.g
        net.eval()
        return net(images.to(self.device)).float()


_COMMON = {
    "lr": 2e-4, "betas": (0.5, 0.999), "batch_size": 1, "cycle_weight": 10.0, "identity_weight": 0.5,
    "pool_size": 50, "decay_fraction": 0.5, "blocks": None,
}


class CycleGAN(GAN):
    name = "cyclegan"
    description = "CycleGAN (Zhu et al. 2017): unpaired no-tumour <-> tumour translation, ResNet G, PatchGAN D"
    source = "Zhu et al., ICCV 2017; CycleGAN brain-MRI tumour generation, 2022 (lambda 10, 100 epochs, 256 px)"
    kind = "image-to-image"
    profiles = {
        # Smoke: narrower networks and three residual blocks, so a CPU trains one pair in
        # about a minute; the other profiles are Zhu et al.'s networks.
        "smoke": {**_COMMON, "steps": 100, "width": 16, "d_width": 16, "blocks": 3, "batch_size": 4},
        "quick": {**_COMMON, "epochs": 20, "width": 64, "d_width": 64},
        "paper": {**_COMMON, "epochs": 100, "width": 64, "d_width": 64},
    }
    assumptions = (
        "Everything but lambda = 10, 100 epochs and 256 px is Zhu et al.'s: the brain-MRI paper states no optimiser or network.",
        "Identity loss 0.5 x lambda, as Zhu et al.'s code; the brain-MRI paper does not mention it.",
        "No resize-and-crop or flip augmentation (Zhu et al.'s code has it; the brain-MRI paper does not say).",
    )
    sizes = SIZES

    def build(self, spec, hparams, device) -> CycleGANModel:
        self.sizes.check(self.name, spec.size)
        # The pool's coin flips come from torch's seeded generator, so a seeded run
        # repeats exactly.
        return CycleGANModel(spec, hparams, device, pool_seed=int(torch.randint(2**31, ()).item()))


@hookimpl
def register_gans(register):
    register(CycleGAN())
