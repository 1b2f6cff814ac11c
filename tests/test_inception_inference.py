"""The inference form of the FID Inception network gives torch-fidelity's features.

The reference is torch-fidelity's own ``FeatureExtractorInceptionV3`` module with the
verified weights (``inception_weights.inception_extractor``), run as torch-fidelity runs
it (NCHW, ``no_grad``, batch norm as a separate layer). ganbench's features come from
``fidelity.extract_features`` (folded batch norms, channels-last, inference mode).
Agreement is asked to 1e-4 (max abs, on features whose largest values are about 4) and
FID to 4 significant digits; measured: about 6e-6 and 7-8 digits.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from ganbench_plugins.metrics import fidelity
from ganbench_plugins.metrics import inception_inference as ii
from ganbench_plugins.metrics import inception_weights as iw

torch_fidelity = pytest.importorskip("torch_fidelity")
from torch_fidelity.feature_extractor_inceptionv3 import BasicConv2d  # noqa: E402
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric  # noqa: E402

FEATURE_TOLERANCE = 1e-4
CPU = torch.device("cpu")


@pytest.fixture(scope="module", autouse=True)
def cache_root(session_inception_cache):
    return session_inception_cache


def random_uint8(shape, seed):
    return torch.randint(0, 256, shape, generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def smooth_uint8(n, size, seed, blobs=5):
    g = torch.Generator().manual_seed(seed)
    low = torch.rand((n, 1, blobs, blobs), generator=g)
    return F.interpolate(low, size=size, mode="bicubic", align_corners=False).clamp(0, 1).mul(255).round().to(torch.uint8)


def fidelity_features(images: torch.Tensor) -> torch.Tensor:
    """torch-fidelity's module, as torch-fidelity runs it: batches of 8, no_grad, NCHW."""
    network = iw.inception_extractor("cpu")
    rgb = images.expand(-1, 3, -1, -1).contiguous()
    with torch.no_grad():
        return torch.cat([network(rgb[i : i + 8])[0] for i in range(0, len(rgb), 8)])


def significant_digits_agree(a: float, b: float, digits: int = 4) -> bool:
    """|a - b| within half a unit of the ``digits``-th significant digit of ``a``."""
    unit = 10 ** (math.floor(math.log10(abs(a))) - digits + 1)
    return abs(a - b) <= unit / 2


@pytest.mark.slow
@pytest.mark.parametrize(
    "images",
    [
        pytest.param(lambda: random_uint8((3, 3, 299, 299), 0), id="299px-rgb"),
        pytest.param(lambda: random_uint8((4, 1, 32, 32), 1), id="32px-grey-noise"),
        pytest.param(lambda: smooth_uint8(4, 64, 2), id="64px-grey-smooth"),
        pytest.param(lambda: random_uint8((2, 3, 37, 45), 3), id="37x45-rgb"),
    ],
)
def test_features_equal_torch_fidelity(images):
    x = images()
    ours = fidelity.extract_features(x, CPU)
    theirs = fidelity_features(x)
    assert ours.shape == theirs.shape == (len(x), 2048)
    assert ours.dtype == torch.float32 and not ours.is_inference()
    assert theirs.abs().max() > 0.1  # not a vacuous pass on all-zero features
    diff = float((ours - theirs).abs().max())
    print(f"max abs feature difference: {diff:.3g}")
    assert diff < FEATURE_TOLERANCE


@pytest.mark.slow
def test_fid_equals_torch_fidelity_to_four_significant_digits():
    fake, real = smooth_uint8(24, 32, seed=10, blobs=4), smooth_uint8(24, 32, seed=11, blobs=6)

    def fid(f_fake, f_real):
        return float(fid_statistics_to_metric(fid_features_to_statistics(f_fake), fid_features_to_statistics(f_real), False)["frechet_inception_distance"])

    ours = fid(fidelity.extract_features(fake, CPU), fidelity.extract_features(real, CPU))
    theirs = fid(fidelity_features(fake), fidelity_features(real))
    print(f"FID ganbench {ours:.8g}, torch-fidelity {theirs:.8g}")
    assert theirs > 1.0
    assert significant_digits_agree(theirs, ours)


@pytest.mark.slow
def test_batch_size_does_not_change_features(monkeypatch):
    x = smooth_uint8(6, 32, seed=4)
    eight = fidelity.extract_features(x, CPU)
    monkeypatch.setitem(fidelity.FEATURE_BATCH_SIZE, "cpu", 1)
    one = fidelity.extract_features(x, CPU)
    assert float((eight - one).abs().max()) < FEATURE_TOLERANCE


# --------------------------------------------------------------------------- the schedule: resize and stem batches


@pytest.mark.parametrize("shape", [(2, 3, 32, 32), (1, 1, 37, 45), (2, 3, 299, 299), (1, 3, 512, 400), (1, 3, 1, 7)])
def test_resize_is_bit_identical_to_torch_fidelity(shape):
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    x = random_uint8(shape, 20).float()
    theirs = interpolate_bilinear_2d_like_tensorflow1x(x, size=(299, 299), align_corners=False)
    assert torch.equal(ii.tf1_bilinear_resize(x, 299), theirs)


@pytest.mark.slow
@pytest.mark.parametrize("n, stem_batch", [(5, None), (5, 2), (7, 3), (1, 8)])
def test_stem_batches_and_the_new_resize_change_no_feature(n, stem_batch):
    """InferencePool3 against torch-fidelity's own forward on the same folded copy:
    equal to the last bit, whatever the stem batch."""
    x = random_uint8((n, 3, 40, 40), 21)
    folded = ii.fold_conv_units(iw.inception_extractor("cpu")).to(memory_format=torch.channels_last)
    with torch.inference_mode():
        theirs = folded(x.contiguous(memory_format=torch.channels_last))[0]
        ours = ii.InferencePool3(folded, stem_batch)(x)[0]
    assert ours.shape == (n, 2048) and ours.dtype == torch.float32
    assert torch.equal(ours, theirs)


def test_the_inference_network_refuses_other_inputs():
    network = ii.inference_extractor("cpu")
    for bad in (torch.zeros(1, 3, 8, 8), torch.zeros(1, 1, 8, 8, dtype=torch.uint8), torch.zeros(3, 8, 8, dtype=torch.uint8)):
        with pytest.raises(ValueError, match="uint8 N x 3 x H x W"):
            network(bad)


# --------------------------------------------------------------------------- the folding, on one unit


def trained_looking_unit(seed: int) -> BasicConv2d:
    """A torch-fidelity conv unit with non-trivial batch-norm statistics and scale."""
    g = torch.Generator().manual_seed(seed)
    unit = BasicConv2d(5, 7, kernel_size=3, padding=1, stride=2)
    with torch.no_grad():
        unit.conv.weight.copy_(torch.randn(unit.conv.weight.shape, generator=g))
        unit.bn.weight.copy_(torch.rand(7, generator=g) + 0.5)
        unit.bn.bias.copy_(torch.randn(7, generator=g))
        unit.bn.running_mean.copy_(torch.randn(7, generator=g))
        unit.bn.running_var.copy_(torch.rand(7, generator=g) + 0.1)
    return unit.eval()


def test_folded_unit_equals_conv_bn_relu():
    unit = trained_looking_unit(0)
    x = torch.randn(2, 5, 11, 13, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = unit(x)
        folded = ii.FoldedConvUnit(unit)(x)
    assert folded.shape == expected.shape == (2, 7, 6, 7)
    assert (expected > 0).any() and (expected == 0).any()  # the ReLU both passes and cuts
    torch.testing.assert_close(folded, expected, rtol=1e-5, atol=1e-5)


def test_folding_copies_and_leaves_the_original_alone():
    net = torch.nn.Sequential(trained_looking_unit(2), trained_looking_unit(3).conv)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    folded = ii.fold_conv_units(net)
    assert isinstance(folded[0], ii.FoldedConvUnit) and isinstance(net[0], BasicConv2d)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_a_network_without_conv_units_is_refused():
    with pytest.raises(ValueError, match="BasicConv2d"):
        ii.fold_conv_units(torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3)))


def test_a_grouped_or_biased_convolution_is_refused():
    unit = trained_looking_unit(4)
    unit.conv = torch.nn.Conv2d(5, 7, 3, bias=True)
    with pytest.raises(ValueError, match="bias-free"):
        ii.FoldedConvUnit(unit)


def test_tf32_is_off_only_within_cuda_feature_extraction(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    with ii.exact_convolutions(torch.device("cuda")):
        assert torch.backends.cudnn.allow_tf32 is False
    assert torch.backends.cudnn.allow_tf32 is True
    with ii.exact_convolutions(CPU):
        assert torch.backends.cudnn.allow_tf32 is True
    with pytest.raises(RuntimeError):
        with ii.exact_convolutions(torch.device("cuda")):
            raise RuntimeError("a failing batch")
    assert torch.backends.cudnn.allow_tf32 is True
