"""Checkpoints as safetensors: loading one never runs code, so a checkpoint from
someone else's results folder is safe to open."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from safetensors.torch import load_file, save_file
from torch import nn


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
