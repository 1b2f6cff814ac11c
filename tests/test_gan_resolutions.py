"""Image sizes of the twelve GANs of the papers, at the sizes the paper suites ask for
(32 to 512 px, and the thesis' 112): where a GAN's architecture can make a size, it
builds, samples images of that size and takes a finite training step; where it cannot,
``build`` refuses with a GanbenchError that names the GAN, the size and the sizes it
makes (plugins/gans/sizes.py); and no network passes the parameter budget at the
largest size its GAN takes."""

import pytest
import torch

import ganbench_plugins.gans.cdcgan as cdcgan_module
from ganbench.errors import GanbenchError
from ganbench.plugins import load_plugins
from ganbench.specs import ImageSpec, ImageToImageModel
from ganbench_plugins.gans.sizes import PARAMETER_BUDGET, SizeRule, UnsupportedImageSize

REGISTRY = load_plugins().registry
CPU = torch.device("cpu")
SIZES = (32, 64, 112, 128, 256, 512)
ALL, POWERS, UP_TO_256 = SIZES, (32, 64, 128, 256, 512), (32, 64, 112, 128, 256)

#: The suite sizes each GAN makes; it refuses the others of SIZES.
SUPPORTED = {
    "vanilla-gan": UP_TO_256,  # fully connected: 269 M generator parameters at 512 px
    "dcgan": POWERS,
    "cdcgan": POWERS,  # multiples of 32 up to 512
    "sn-gan": POWERS,
    "wgan": POWERS,
    "wgan-gp": POWERS,
    "lsgan": POWERS,
    "infogan": POWERS,
    "gan-4layer": UP_TO_256,  # the dense seed layer: 419 M parameters at 512 px
    "gan-7layer": UP_TO_256,
    "gan-15layer": ALL,
    "cyclegan": ALL,
}
SUPPORTED_CASES = [(name, size) for name, sizes in SUPPORTED.items() for size in sizes]
REFUSED_CASES = [(name, size) for name, sizes in SUPPORTED.items() for size in SIZES if size not in sizes]
#: The largest size each GAN takes, where it has one: beyond it a network would pass the budget.
LARGEST = {"vanilla-gan": 256, "cdcgan": 512, "gan-4layer": 256, "gan-7layer": 256, "gan-15layer": 512}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread: on a busy 2-core machine, two spinning OpenMP threads made a
    CycleGAN step at 32 px take 11 s instead of 0.15 s."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(name, size, channels=1, profile="smoke", seed=0, device=CPU):
    gan = REGISTRY.get("gans", name)
    torch.manual_seed(seed)
    return gan.build(ImageSpec(size, channels, 4), gan.hyperparameters(profile), device)


#: Where one step at 512 px takes more than ~10 s on one CPU thread (12-15 s measured;
#: 7-8 s on two idle cores, peaking at 2-3.6 GB), 512 px is checked by sampling only.
HEAVY_AT_512 = {"cdcgan", "cyclegan", "gan-15layer"}
TRAIN_CASES = [(name, size) for name, size in SUPPORTED_CASES if not (size == 512 and name in HEAVY_AT_512)]


def test_the_table_covers_the_papers_gans():
    assert set(SUPPORTED) <= set(REGISTRY.names("gans"))
    for name, sizes in SUPPORTED.items():
        rule = REGISTRY.get("gans", name).sizes
        assert tuple(s for s in SIZES if rule.allows(s)) == sizes, name
        assert rule.maximum == LARGEST.get(name), name


@pytest.mark.parametrize("name, size", SUPPORTED_CASES)
def test_a_supported_size_gives_images_of_that_size(name, size):
    model = build(name, size)
    if isinstance(model, ImageToImageModel):
        images = model.translate(torch.rand(2, 1, size, size) * 2 - 1)
    else:
        images = model.sample(2, generator=torch.Generator().manual_seed(1))
    assert images.shape == (2, 1, size, size)
    assert torch.isfinite(images).all() and images.min() >= -1 and images.max() <= 1


@pytest.mark.parametrize("name, size", TRAIN_CASES)
def test_a_supported_size_trains_a_finite_step(name, size):
    model = build(name, size)
    real = torch.rand(2, 1, size, size, generator=torch.Generator().manual_seed(2)) * 2 - 1
    losses = model.train_step(real, torch.tensor([0, 1]))  # classes, or source/target domains
    assert losses and all(torch.isfinite(torch.tensor(value)) for value in losses.values()), losses


@pytest.mark.parametrize("name, size", REFUSED_CASES)
def test_an_unsupported_size_is_refused_naming_gan_size_and_sizes(name, size):
    with pytest.raises(GanbenchError) as refused:
        build(name, size)
    assert isinstance(refused.value, UnsupportedImageSize) and isinstance(refused.value, ValueError)
    message = str(refused.value)
    assert message.startswith(f"{name} cannot make {size} x {size} px images")
    listed = message.split("(of the sizes ", 1)[1].split(")", 1)[0].split(": ", 1)[1]
    assert listed == " and ".join([", ".join(map(str, SUPPORTED[name][:-1])), str(SUPPORTED[name][-1])])


@pytest.mark.parametrize("name", SUPPORTED)
@pytest.mark.parametrize("channels", [1, 3])
def test_no_network_passes_the_parameter_budget_at_the_largest_size(name, channels):
    size = LARGEST.get(name, 512)
    if REGISTRY.get("gans", name).kind == "image-to-image":
        model = build(name, 32, channels, profile="paper")  # fully convolutional: no size dependence
    else:
        with torch.device("meta"):
            model = build(name, size, channels, profile="paper", device=torch.device("meta"))
    for net, module in model.networks().items():
        assert sum(p.numel() for p in module.parameters()) <= PARAMETER_BUDGET, f"{name} {net} at {size} px"


@pytest.mark.parametrize("name", LARGEST)
def test_the_budget_is_what_stops_the_size_one_doubling_later(name, monkeypatch):
    gan = REGISTRY.get("gans", name)
    anything = SizeRule(minimum=1, reason="")
    monkeypatch.setattr(gan, "sizes", anything)
    monkeypatch.setattr(cdcgan_module, "SIZES", anything)
    with torch.device("meta"):
        model = build(name, 2 * LARGEST[name], profile="paper", device=torch.device("meta"))
    largest = max(sum(p.numel() for p in module.parameters()) for module in model.networks().values())
    assert largest > PARAMETER_BUDGET
