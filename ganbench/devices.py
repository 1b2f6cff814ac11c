"""``--device auto|cpu|cuda[:N]`` to a torch device, with a clear error when CUDA is asked
for on a machine without it."""

from __future__ import annotations

import torch

from .errors import GanbenchError


def resolve_device(spec: str = "auto") -> torch.device:
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise GanbenchError(
                f"--device {spec}: CUDA is not available here (torch {torch.__version__}); "
                "use --device cpu or --device auto"
            )
        device = torch.device(spec)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise GanbenchError(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s)")
        return device
    raise GanbenchError(f"--device {spec!r}: expected auto, cpu, cuda or cuda:N")


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return "cpu"
