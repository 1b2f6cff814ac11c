"""Checkpoints as safetensors: loading one never runs code, so a checkpoint from
someone else's results folder is safe to open.

Two kinds:

* :func:`save_networks` / :func:`load_networks`: the weights of named networks (what a
  finished cell keeps beside its samples).
* :func:`save_state` / :func:`load_state`: any nested state of dicts, lists, tensors and
  JSON scalars (a GAN's networks with its optimisers, schedulers and counters, RNG
  states, the step counter): the tensors go into the safetensors body, the structure into
  its JSON metadata. Dict keys keep their type (an optimiser's per-parameter state is
  keyed by int, and ``Optimizer.load_state_dict`` silently ignores str keys). Written to
  a temporary file and renamed, so a process killed while saving leaves the previous
  checkpoint whole.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

#: Metadata key that holds the JSON structure of a :func:`save_state` checkpoint.
STATE_KEY = "ganbench_state"


def save_networks(path: Path, networks: Mapping[str, nn.Module], metadata: Mapping[str, str] = ()) -> None:
    tensors = {
        f"{net_name}.{key}": value.detach().cpu().contiguous()
        for net_name, net in networks.items()
        for key, value in net.state_dict().items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=dict(metadata) or None)


def load_networks(path: Path, networks: Mapping[str, nn.Module]) -> None:
    """Load weights into ``networks`` in place; every tensor must match (strict)."""
    tensors = load_file(str(path))
    for net_name, net in networks.items():
        prefix = f"{net_name}."
        state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        net.load_state_dict(state, strict=True)


def _encode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, torch.Tensor):
        name = f"t{len(tensors)}"
        # A copy of its own: safetensors refuses tensors that share memory.
        tensors[name] = value.detach().cpu().clone().contiguous()
        return {"tensor": name}
    if isinstance(value, Mapping):
        return {"dict": [[_key(k), _encode(v, tensors)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"list" if isinstance(value, list) else "tuple": [_encode(v, tensors) for v in value]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    raise TypeError(f"cannot checkpoint a {type(value).__name__}: give tensors, dicts, lists, tuples or JSON scalars")


def _key(key: Any) -> Any:
    if isinstance(key, bool) or not isinstance(key, (int, str)):
        raise TypeError(f"checkpoint dict keys must be int or str, got {key!r}")
    return key


def _decode(node: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> Any:
    (kind, payload), = node.items()
    if kind == "tensor":
        return tensors[payload]
    if kind == "dict":
        return {k: _decode(v, tensors) for k, v in payload}
    if kind == "list":
        return [_decode(v, tensors) for v in payload]
    if kind == "tuple":
        return tuple(_decode(v, tensors) for v in payload)
    return payload


def save_state(path: Path, state: Mapping[str, Any], metadata: Mapping[str, str] = ()) -> None:
    """Write ``state`` (nested dicts/lists/tuples of tensors and JSON scalars) to
    ``path`` atomically. Raises TypeError for anything else (a value a checkpoint could
    not give back exactly)."""
    tensors: dict[str, torch.Tensor] = {}
    structure = _encode(state, tensors)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    save_file(tensors, str(partial), metadata={**dict(metadata), STATE_KEY: json.dumps(structure)})
    os.replace(partial, path)


def load_state(path: Path) -> dict[str, Any]:
    """The state :func:`save_state` wrote, tensors on the CPU. Raises ValueError for a
    safetensors file that holds no such state."""
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
        if STATE_KEY not in metadata:
            raise ValueError(f"{path} is not a ganbench training checkpoint (no {STATE_KEY!r} metadata)")
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    return _decode(json.loads(metadata[STATE_KEY]), tensors)


def read_metadata(path: Path) -> dict[str, str]:
    """A safetensors file's metadata without reading its tensors."""
    with safe_open(str(path), framework="pt") as handle:
        return dict(handle.metadata() or {})
