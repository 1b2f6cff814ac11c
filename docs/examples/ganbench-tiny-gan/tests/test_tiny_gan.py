"""The tiny GAN against ganbench's plugin contract. The fixtures ganbench_registry and
tiny_image_data come from ganbench.testing, a pytest plugin installed with ganbench."""

import torch

from ganbench.api import SilentProgress
from ganbench.runner.training import train
from ganbench.testing import check_gan, check_resume
from ganbench_tiny_gan import plugin


def test_tiny_gan_keeps_the_gan_contract(ganbench_registry):
    registry = ganbench_registry(plugin)
    check_gan(registry.get("gans", "tiny-gan"))


def test_tiny_gan_resumes_exactly_from_a_checkpoint(ganbench_registry):
    check_resume(ganbench_registry(plugin).get("gans", "tiny-gan"))


def test_the_entry_point_registers_the_gan(ganbench_registry):
    registry = ganbench_registry(distributions=["ganbench-tiny-gan"])
    assert registry.names("gans") == ["tiny-gan"]
    assert registry.provenance("gans", "tiny-gan").plugin == "tiny-gan"


def test_it_trains_in_the_core_training_loop(tiny_image_data):
    gan = plugin.TinyGAN()
    hparams = {**gan.hyperparameters("smoke"), "steps": 20, "batch_size": 8}
    torch.manual_seed(0)
    model = gan.build(tiny_image_data.image_spec, hparams, torch.device("cpu"))
    history = train(model, tiny_image_data.train, hparams, 0, torch.device("cpu"), SilentProgress())
    assert len(history) == 20 and set(history[-1]) == {"step", "loss_d", "loss_g"}
