"""One short training per GAN family on the real brain-MRI set lowers FID against the
same, untrained network: the networks, losses and optimisers learn, not just run.

Slow (a minute or so per family on 2 CPU cores: the training and three passes of
generated images through Inception); needs ../shared/datasets.
"""

from __future__ import annotations

import pytest
import torch

from ganbench.plugins import load_plugins
from ganbench.runner.training import sample, train, train_pair
from ganbench.runner.translation import holdout, translate
from ganbench.specs import ImageSpec, ImageSplit, SilentProgress
from ganbench_plugins.datasets.image_folder import ImageFolder
from ganbench_plugins.metrics import fidelity

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]

SIZE = 32
N = 96  # generated and real images per FID
CPU = torch.device("cpu")
REGISTRY = load_plugins().registry

#: family -> (a GAN of it, training steps at its smoke settings). Measured on this data
#: (FID before -> after): vanilla-gan 600: 439 -> 353; dcgan 200: 440 -> 356; cdcgan 200:
#: 433 -> 388; sn-gan 200: 443 -> 386; gan-4layer 200: 460 -> 397; lsgan, wgan, infogan
#: and cyclegan drop by more than 15%. The gradient-penalty critic (wgan-gp) shares the
#: Wasserstein family's objective code but needs about 1000 steps (145 s) before its FID
#: falls (428 -> 458 at 400 steps, 323 at 1000): too slow for CI, so the family is
#: represented here by weight-clipped wgan.
FAMILIES = {
    "mlp": ("vanilla-gan", 600),
    "dcgan": ("dcgan", 200),
    "conditional": ("cdcgan", 200),
    "spectral-norm": ("sn-gan", 200),
    "least-squares": ("lsgan", 200),
    "wasserstein": ("wgan", 400),
    "info": ("infogan", 200),
    "thesis": ("gan-4layer", 200),
    "cycle": ("cyclegan", 150),
}
#: "Lowers FID": by more than 8% (the seeds are fixed, so the numbers above reproduce
#: on the same torch build; the margin leaves room for another build's arithmetic).
REQUIRED_DROP = 0.92


@pytest.fixture(scope="module", autouse=True)
def cache_root(session_inception_cache):
    return session_inception_cache


@pytest.fixture(scope="module")
def mri(shared_brain_mri):
    return ImageFolder().load(shared_brain_mri, SIZE, 1, SilentProgress())


def fid(fake: torch.Tensor, real: ImageSplit, name: str) -> float:
    scores = fidelity.compute_scores(
        ImageSplit(fake, torch.zeros(len(fake), dtype=torch.long)), real, CPU
    )
    return scores.values["fid"]


def generated(gan, model, mri, glioma) -> torch.Tensor:
    """Glioma-like images: samples, glioma-conditioned samples, or held-out no-tumour
    images translated."""
    if gan.kind == "image-to-image":
        _, held = holdout(mri.train, mri.class_names.index("no_tumor"))
        return translate(model, held.subset(torch.arange(min(N, len(held)))), reverse=False)
    labels = torch.full((N,), glioma) if gan.conditional else None
    return sample(model, N, seed=0, labels=labels)


@pytest.mark.parametrize("family", FAMILIES)
def test_short_training_lowers_fid(family, mri):
    gan_name, steps = FAMILIES[family]
    gan = REGISTRY.get("gans", gan_name)
    glioma = mri.class_names.index("glioma_tumor")
    real = mri.train.of_class(glioma)
    hparams = {**gan.hyperparameters("smoke"), "steps": steps}
    torch.manual_seed(0)
    model = gan.build(ImageSpec(SIZE, 1, 4), hparams, CPU)
    before = fid(generated(gan, model, mri, glioma), real.subset(torch.arange(N)), "glioma")
    if gan.kind == "image-to-image":
        source, _ = holdout(mri.train, mri.class_names.index("no_tumor"))
        target, _ = holdout(mri.train, glioma)
        train_pair(model, source, target, hparams, 0, CPU, SilentProgress())
    else:
        train(model, mri.train if gan.conditional else real, hparams, 0, CPU, SilentProgress())
    after = fid(generated(gan, model, mri, glioma), real.subset(torch.arange(N)), "glioma")
    print(f"{family} ({gan_name}, {steps} steps): FID {before:.1f} -> {after:.1f}")
    assert after < REQUIRED_DROP * before
