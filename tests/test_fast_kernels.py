"""The training kernels of the adversarial GANs (``channels_last``, ``fused_adam``,
:data:`ganbench_plugins.gans.adversarial.FAST_KERNELS`): they are hyperparameters (so in
the config hash, and settable), they lay out and update what they say, and they change
rounding only: with the same weights and inputs, each agrees with PyTorch's default
kernels to float32 rounding, and a run with them repeats itself bit for bit."""

import pytest
import torch

from ganbench.plugins import load_plugins
from ganbench.runner.training import build_model
from ganbench.settings import validate_gan_settings
from ganbench.specs import ImageSpec
from ganbench_plugins.gans.adversarial import make_optimizer

pytestmark = pytest.mark.usefixtures("one_thread")

REGISTRY = load_plugins().registry
CPU = torch.device("cpu")
SPEC = ImageSpec(32, 1, 4)
#: Adversarial GANs with convolutions: every one takes channels_last.
CONVOLUTIONAL = ("dcgan", "cdcgan", "sn-gan", "wgan", "wgan-gp", "lsgan", "infogan", "gan-4layer")


def model(name, spec=SPEC, **kernels):
    gan = REGISTRY.get("gans", name)
    hparams = {**gan.hyperparameters("smoke"), "batch_size": 8, **kernels}
    return build_model(gan, spec, hparams, CPU, seed=3)


def batch(name, n=8):
    images = torch.rand(n, 1, 32, 32, generator=torch.Generator().manual_seed(5)) * 2 - 1
    labels = torch.arange(n) % 4 if REGISTRY.get("gans", name).conditional else None
    return images, labels


def trained_weights(name, steps=1, **kernels):
    m = model(name, **kernels)
    torch.manual_seed(11)
    for _ in range(steps):
        m.train_step(*batch(name))
    return {f"{net}.{k}": v.detach().clone() for net, module in m.networks().items() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("name", ["vanilla-gan", *CONVOLUTIONAL, "gan-7layer", "gan-15layer"])
def test_the_built_in_adversarial_gans_train_with_the_fast_kernels_by_default(name):
    hparams = REGISTRY.get("gans", name).hyperparameters("smoke")
    if name != "vanilla-gan":  # fully connected: no layout to choose
        assert hparams["channels_last"] is True
    if hparams.get("optimizer", "adam") == "adam":
        assert hparams["fused_adam"] is True


def test_the_kernels_are_gan_settings_typed_as_booleans():
    typed = validate_gan_settings(REGISTRY, ["dcgan", "wgan"], "smoke", {"channels_last": "false", "fused_adam": "false"})
    assert typed["dcgan"] == {"channels_last": False, "fused_adam": False}
    assert typed["wgan"] == {"channels_last": False}  # RMSprop: no fused_adam to set


def test_channels_last_lays_out_the_convolution_weights_and_samples_come_back_standard():
    fast, plain = model("dcgan"), model("dcgan", channels_last=False)
    conv = [p for p in fast.discriminator.parameters() if p.ndim == 4 and p.shape[1] > 1]
    assert conv and all(p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous() for p in conv)
    assert all(p.is_contiguous() for p in plain.discriminator.parameters())
    images = model("dcgan", ImageSpec(32, 3, 4)).sample(4, generator=torch.Generator().manual_seed(0))
    assert images.shape == (4, 3, 32, 32) and images.is_contiguous()


def test_fused_adam_is_pytorchs_fused_update_and_only_when_asked():
    weights = [torch.nn.Parameter(torch.zeros(3))]
    assert make_optimizer(weights, {"betas": (0.5, 0.999), "fused_adam": True}, 1e-3).defaults["fused"] is True
    assert make_optimizer(weights, {"betas": (0.5, 0.999)}, 1e-3).defaults["fused"] is None
    assert isinstance(make_optimizer(weights, {"optimizer": "rmsprop", "fused_adam": True}, 1e-3), torch.optim.RMSprop)


@pytest.mark.parametrize("name", ["vanilla-gan", "cdcgan", "wgan-gp", "gan-4layer"])
def test_fused_adam_changes_rounding_not_the_update(name):
    """Five updates of the same weights with the same gradients, through the GAN's own
    optimiser settings (lr, betas, eps): the fused and the default Adam agree to
    float32 rounding. Each update moves a weight by about lr (1e-4 to 1e-3), far above
    the tolerance, so a wrong or missing update shows. (Compared on given gradients:
    inside a GAN, gradients near zero round to either side of it, and Adam's early
    moves are about lr times their sign.)"""
    hparams = REGISTRY.get("gans", name).hyperparameters("smoke")
    start = torch.randn(64, 32, generator=torch.Generator().manual_seed(1))
    fused, default = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
    optimisers = [make_optimizer([fused], hparams, hparams["lr_d"]), make_optimizer([default], {**hparams, "fused_adam": False}, hparams["lr_d"])]
    gradients = torch.Generator().manual_seed(2)
    for _ in range(5):
        grad = torch.randn(64, 32, generator=gradients)
        for weight, optimiser in zip((fused, default), optimisers):
            weight.grad = grad.clone()
            optimiser.step()
    torch.testing.assert_close(fused, default, rtol=1e-5, atol=1e-7)
    assert float((fused.detach() - start).abs().mean()) > hparams["lr_d"]


@pytest.mark.parametrize("name", CONVOLUTIONAL)
def test_channels_last_changes_rounding_not_the_networks(name):
    """The same weights in both layouts: generated images, scores and every gradient of
    a loss through G and D agree to float32 rounding. (Compared before the optimiser:
    Adam's first step is about lr times the gradient's sign, so a gradient that rounds
    to either side of zero would move a weight by 2 lr in one layout and not the other.)"""
    results = []
    for layout in (True, False):
        m = model(name, channels_last=layout)
        m.generator.train()
        m.discriminator.train()
        images, labels = batch(name)
        torch.manual_seed(13)  # the same dropout masks (cdcgan's D) in both layouts
        fake = m.generate(m.latent(8, torch.Generator().manual_seed(7)), labels)
        scores = torch.cat([m.adversarial_output(m.discriminate(x, labels)) for x in (images, fake)])
        (scores.square().mean() + fake.mean()).backward()
        grads = {f"{net}.{k}": p.grad for net, module in m.networks().items() for k, p in module.named_parameters()}
        results.append((fake.detach(), scores.detach(), grads))
    (fake_cl, scores_cl, grads_cl), (fake, scores, grads) = results
    torch.testing.assert_close(fake_cl, fake, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(scores_cl, scores, rtol=1e-4, atol=1e-5)
    assert grads_cl.keys() == grads.keys()
    # Relative to the largest gradient: a bias before batch norm has a true gradient of
    # zero, so its computed one is rounding noise in either layout.
    scale = max(float(g.abs().max()) for g in grads.values() if g is not None)
    for key, grad in grads.items():
        if grad is None:  # a head this loss does not reach (InfoGAN's Q)
            assert grads_cl[key] is None, key
            continue
        torch.testing.assert_close(grads_cl[key], grad, rtol=1e-3, atol=1e-5 * scale, msg=f"{name}: {key}")


def test_a_run_with_the_fast_kernels_repeats_itself_bit_for_bit():
    first, second = trained_weights("dcgan", steps=3), trained_weights("dcgan", steps=3)
    assert all(torch.equal(first[k], second[k]) for k in first)



def test_optimiser_moments_come_back_from_a_checkpoint_in_their_parameters_layout(tmp_path):
    """A checkpoint gives tensors back in the standard layout; fused Adam given
    standard-layout moments for a channels-last weight would update it wrongly (in
    memory order), so loading puts each moment in its parameter's layout."""
    from ganbench.checkpoints import load_state, save_state

    trained = model("dcgan")
    for _ in range(2):
        trained.train_step(*batch("dcgan"))
    save_state(tmp_path / "state.safetensors", trained.state_dict())
    restored = model("dcgan")
    restored.load_state_dict(load_state(tmp_path / "state.safetensors"))
    channels_last = 0
    for optimiser in (restored.opt_g, restored.opt_d):
        for param, state in optimiser.state.items():
            for key in ("exp_avg", "exp_avg_sq"):
                assert state[key].stride() == param.stride(), key
            channels_last += param.ndim == 4 and not param.is_contiguous()
    assert channels_last  # the case that needs it was there
    torch.manual_seed(21)
    trained.train_step(*batch("dcgan"))
    torch.manual_seed(21)
    restored.train_step(*batch("dcgan"))
    for (key, a), b in zip(trained.generator.state_dict().items(), restored.generator.state_dict().values()):
        assert torch.equal(a, b), key
