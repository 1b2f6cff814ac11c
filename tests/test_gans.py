"""Contract checks for every registered GAN."""

import pytest
import torch

from ganbench.checkpoints import load_networks, save_networks
from ganbench.plugins import load_plugins
from ganbench.runner.training import sample
from ganbench.specs import ImageSpec

REGISTRY = load_plugins().registry
GANS = REGISTRY.names("gans")
CPU = torch.device("cpu")


def build(name, size=32, channels=1, seed=0, num_classes=4):
    gan = REGISTRY.get("gans", name)
    hparams = gan.hyperparameters("smoke")
    torch.manual_seed(seed)
    return gan.build(ImageSpec(size, channels, num_classes), hparams, CPU), hparams


def real_batch(n=8, size=32, channels=1):
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(1)) * 2 - 1


def test_the_vertical_slice_gans_are_registered():
    assert {"vanilla-gan", "dcgan"} <= set(GANS)


@pytest.mark.parametrize("name", GANS)
@pytest.mark.parametrize("size,channels", [(32, 1), (64, 3)])
def test_builds_samples_with_the_right_shape_and_range(name, size, channels):
    model, _ = build(name, size, channels)
    images = model.sample(5, generator=torch.Generator().manual_seed(0))
    assert images.shape == (5, channels, size, size)
    assert images.dtype == torch.float32
    assert images.min() >= -1 and images.max() <= 1


@pytest.mark.parametrize("name", GANS)
def test_one_training_step_changes_weights_and_gives_finite_losses(name):
    model, _ = build(name)
    before = {k: v.clone() for k, v in model.networks()["generator"].state_dict().items()}
    losses = model.train_step(real_batch(), torch.zeros(8, dtype=torch.long))
    assert losses and all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    after = model.networks()["generator"].state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before if before[k].is_floating_point())


@pytest.mark.parametrize("name", GANS)
def test_same_seed_same_samples(name):
    first, _ = build(name, seed=3)
    second, _ = build(name, seed=3)
    assert torch.equal(sample(first, 6, seed=7), sample(second, 6, seed=7))
    assert not torch.equal(sample(first, 6, seed=7), sample(first, 6, seed=8))


@pytest.mark.parametrize("name", GANS)
def test_checkpoint_round_trip_gives_identical_samples(name, tmp_path):
    model, _ = build(name, seed=1)
    model.train_step(real_batch(), None)
    save_networks(tmp_path / "ckpt.safetensors", model.networks(), {"gan": name})
    restored, _ = build(name, seed=2)
    assert not torch.equal(sample(model, 4, seed=0), sample(restored, 4, seed=0))
    load_networks(tmp_path / "ckpt.safetensors", restored.networks())
    assert torch.equal(sample(model, 4, seed=0), sample(restored, 4, seed=0))


def test_dcgan_rejects_sizes_that_are_not_powers_of_two():
    with pytest.raises(ValueError, match="power-of-two"):
        build("dcgan", size=48)
