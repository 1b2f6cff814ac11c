"""Contract checks for every registered GAN, parametrised over the registry, and the
facts the papers fix (parameter counts, names)."""

import pytest
import torch

from ganbench.checkpoints import load_networks, save_networks
from ganbench.plugins import load_plugins
from ganbench.runner.training import sample
from ganbench.specs import PROFILES, ImageSpec, ImageToImageModel

REGISTRY = load_plugins().registry
GANS = REGISTRY.names("gans")
CPU = torch.device("cpu")

#: The twelve GANs of the five papers (issue 3), with the builtin distribution.
PAPER_GANS = {
    "vanilla-gan", "dcgan", "cdcgan", "sn-gan", "wgan", "wgan-gp", "lsgan", "infogan",
    "gan-4layer", "gan-7layer", "gan-15layer", "cyclegan",
}


def build(name, size=32, channels=1, seed=0, num_classes=4, profile="smoke"):
    gan = REGISTRY.get("gans", name)
    torch.manual_seed(seed)
    return gan.build(ImageSpec(size, channels, num_classes), gan.hyperparameters(profile), CPU)


def real_batch(n=8, size=32, channels=1, seed=1):
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def batch_labels(name, n=8):
    """Domain labels (half source, half target) for an image-to-image GAN, classes otherwise."""
    if REGISTRY.get("gans", name).kind == "image-to-image":
        return torch.arange(n) % 2
    return torch.arange(n) % 4


def outputs(model, n=4, seed=0, labels=None, size=32, channels=1):
    """What a GAN produces: samples from noise, or translations of fixed images."""
    if isinstance(model, ImageToImageModel):
        return model.translate(real_batch(n, size, channels, seed=100 + seed))
    return model.sample(n, labels=labels, generator=torch.Generator().manual_seed(seed))


def weights(module):
    return {k: v.clone() for k, v in module.state_dict().items() if v.is_floating_point()}


def test_every_gan_of_the_papers_is_registered_with_a_description_and_source():
    assert PAPER_GANS <= set(GANS)
    for name in PAPER_GANS:
        gan = REGISTRY.get("gans", name)
        assert gan.description and gan.source, name
        assert set(PROFILES) <= set(gan.profiles), name
        assert REGISTRY.provenance("gans", name).distribution == "ganbench"


@pytest.mark.parametrize("name", GANS)
@pytest.mark.parametrize("size,channels", [(32, 1), (64, 3)])
def test_outputs_have_the_right_shape_dtype_and_range(name, size, channels):
    model = build(name, size, channels)
    images = outputs(model, 5, size=size, channels=channels)
    assert images.shape == (5, channels, size, size)
    assert images.dtype == torch.float32
    assert images.min() >= -1 and images.max() <= 1 and torch.isfinite(images).all()


@pytest.mark.parametrize("name", GANS)
def test_training_gives_finite_losses_and_changes_every_network(name):
    model = build(name)
    before = {net: weights(module) for net, module in model.networks().items()}
    losses = model.train_step(real_batch(), batch_labels(name))
    assert losses and all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    # A critic may take several steps (n_critic) before the generator's first update.
    for _ in range(20):
        if "loss_g" in losses:
            break
        losses = model.train_step(real_batch(), batch_labels(name))
    assert "loss_g" in losses
    for net, module in model.networks().items():
        after = weights(module)
        assert any(not torch.equal(before[net][k], after[k]) for k in after), f"{net} did not change"


@pytest.mark.parametrize("name", GANS)
def test_same_seed_same_outputs(name):
    first, second = build(name, seed=3), build(name, seed=3)
    assert torch.equal(outputs(first, seed=7), outputs(second, seed=7))
    if not isinstance(first, ImageToImageModel):
        assert torch.equal(sample(first, 6, seed=7), sample(second, 6, seed=7))
        assert not torch.equal(sample(first, 6, seed=7), sample(first, 6, seed=8))


@pytest.mark.parametrize("name", GANS)
def test_checkpoint_round_trip_gives_identical_outputs(name, tmp_path):
    model = build(name, seed=1)
    model.train_step(real_batch(), batch_labels(name))
    save_networks(tmp_path / "ckpt.safetensors", model.networks(), {"gan": name})
    restored = build(name, seed=2)
    assert not torch.equal(outputs(model), outputs(restored))
    load_networks(tmp_path / "ckpt.safetensors", restored.networks())
    assert torch.equal(outputs(model), outputs(restored))


@pytest.mark.parametrize("name", [n for n in GANS if REGISTRY.get("gans", n).conditional])
def test_a_conditional_gans_labels_change_its_output(name):
    model = build(name)
    zeros, threes = torch.zeros(4, dtype=torch.long), torch.full((4,), 3)
    assert not torch.equal(outputs(model, labels=zeros), outputs(model, labels=threes))
    assert torch.equal(outputs(model, labels=zeros), outputs(model, labels=zeros))


def test_an_image_to_image_gan_translates_both_ways():
    model = build("cyclegan")
    images = real_batch(3)
    assert not torch.equal(model.translate(images), model.translate(images, reverse=True))
    with pytest.raises(TypeError, match="translate"):
        model.sample(2)


def trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@pytest.mark.parametrize(
    "name, generator, discriminator",
    [
        # Thesis Tables 1-4: trainable parameters at 112 x 112 x 1.
        ("gan-4layer", 20_072_001, 282_497),
        ("gan-7layer", 21_096_577, 282_497),
        ("gan-15layer", 8_092_929, 282_497),
    ],
)
def test_thesis_parameter_counts(name, generator, discriminator):
    model = build(name, size=112, channels=1, profile="paper")
    assert trainable(model.generator) == generator
    assert trainable(model.discriminator) == discriminator


def test_cdcgan_parameter_counts_match_the_reports_keras_listing():
    model = build("cdcgan", size=128, channels=3, num_classes=4, profile="paper")
    assert trainable(model.generator) == 5_958_795
    assert trainable(model.discriminator) == 3_558_889


def test_cyclegan_networks_match_zhu_et_al():
    # Zhu et al.'s ResNet-9 generator and 70x70 PatchGAN at 3 channels: the figures
    # their released code prints (11.378 M and 2.765 M).
    model = build("cyclegan", size=256, channels=3, profile="paper")
    assert trainable(model.g) == 11_378_179
    assert trainable(model.d_target) == 2_764_737


@pytest.mark.parametrize("name", ["dcgan", "cdcgan", "gan-7layer"])
def test_sizes_the_networks_cannot_make_are_refused(name):
    with pytest.raises(ValueError, match="size"):
        build(name, size=36)


def test_thesis_generators_make_112_px():
    assert outputs(build("gan-15layer", size=112)).shape == (4, 1, 112, 112)
