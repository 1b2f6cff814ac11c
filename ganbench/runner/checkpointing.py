"""Resumable training: a checkpoint every N steps, and a resume that continues exactly.

One training phase (a GAN on all classes, on one class, or one CycleGAN pair) keeps two
files in its own folder under ``<results>/training/<training hash>/``:

* ``latest.safetensors``: the state after the last multiple of N steps, replaced at each
  checkpoint (written to a temporary file and renamed: a ``kill -9`` while saving
  leaves the previous one whole);
* ``final.safetensors``: the state after the last step; ``latest`` is removed then.

The state is everything the next step depends on: the model's
:meth:`~ganbench.specs.GANModel.state_dict` (networks, optimisers, schedulers,
counters), torch's global RNG state (CPU, and the GPU's when training on one), the batch
orders' states, the step counter and the loss history. So a run resumed from step k
makes the same draws as one that never stopped, and on the same device gives the same
weights bit for bit (``tests/test_resume.py`` checks every built-in GAN).

The folder is keyed by the training hash (:mod:`ganbench.runner.stages`), which holds
everything that changes training: a changed setting never resumes a stale checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import torch

from ..checkpoints import load_state, read_metadata, save_state
from ..specs import GANModel

#: Default steps between checkpoints (``ganbench run --checkpoint-every``).
DEFAULT_EVERY = 500
LATEST, FINAL = "latest.safetensors", "final.safetensors"


@dataclass
class Resumed:
    """Where a phase continues: after ``step`` steps, with the loss history so far."""

    step: int
    history: list[dict]
    finished: bool


@dataclass
class PhaseCheckpoints:
    """The checkpoints of one training phase. ``every``: steps between checkpoints
    (0: none but the final one). ``log``: told where a phase resumes from."""

    folder: Path
    every: int = DEFAULT_EVERY
    log: Callable[[str], None] = lambda message: None

    @property
    def latest(self) -> Path:
        return self.folder / LATEST

    @property
    def final(self) -> Path:
        return self.folder / FINAL

    def resume(
        self, model: GANModel, streams: Mapping[str, Any], device: torch.device, steps: int, description: str
    ) -> Optional[Resumed]:
        """Load the final checkpoint, else the latest, into ``model``, the ``streams``
        (objects with ``state_dict``/``load_state_dict``) and torch's global RNG; None
        when there is none. A checkpoint of another step count (an interrupted run of
        other settings cannot share the folder, but a hand-copied file could) is
        ignored, and said so."""
        for path, finished in ((self.final, True), (self.latest, False)):
            if not path.is_file():
                continue
            saved_steps = int(read_metadata(path).get("steps", -1))
            if saved_steps != steps:
                self.log(f"{description}: ignoring checkpoint {path} (made for {saved_steps} steps, this training takes {steps})")
                continue
            state = load_state(path)
            model.load_state_dict(state["model"])
            for name, stream in streams.items():
                stream.load_state_dict(state["streams"][name])
            torch.set_rng_state(state["rng"]["cpu"])
            if device.type == "cuda" and "cuda" in state["rng"]:
                torch.cuda.set_rng_state(state["rng"]["cuda"], device)
            step = int(state["step"])
            if finished:
                self.log(f"{description}: already trained ({steps} steps), loaded from {path}")
            else:
                self.log(f"{description}: resuming from step {step} of {steps} ({path})")
            return Resumed(step, unpack_history(state["history"]), finished)
        return None

    def due(self, done: int, steps: int) -> bool:
        return self.every > 0 and done % self.every == 0 and done < steps

    def save(
        self, model: GANModel, streams: Mapping[str, Any], device: torch.device, done: int, steps: int, history: list[dict]
    ) -> None:
        """The state after ``done`` of ``steps`` steps: ``final`` when it is the last
        (``latest`` is removed then), else ``latest``."""
        rng = {"cpu": torch.get_rng_state()}
        if device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(device)
        state = {
            "model": model.state_dict(),
            "streams": {name: stream.state_dict() for name, stream in streams.items()},
            "rng": rng,
            "step": done,
            "history": pack_history(history),
        }
        finished = done >= steps
        save_state(self.final if finished else self.latest, state, {"steps": str(steps), "step": str(done)})
        if finished:
            self.latest.unlink(missing_ok=True)


def pack_history(history: list[dict]) -> dict[str, Any]:
    """The loss history as one float64 table (a JSON list of hundreds of thousands of
    dicts would swell the checkpoint's header): column names, and NaN where a step did
    not report that loss (a generator updated every n-th step). Python floats are
    doubles, so the values come back exactly."""
    keys = sorted({key for entry in history for key in entry})
    table = torch.tensor([[float(entry.get(key, float("nan"))) for key in keys] for entry in history], dtype=torch.float64)
    return {"keys": keys, "values": table.reshape(len(history), len(keys))}


def unpack_history(packed: Mapping[str, Any]) -> list[dict]:
    keys, table = packed["keys"], packed["values"].tolist()
    history = []
    for row in table:
        entry = {key: value for key, value in zip(keys, row) if value == value}  # NaN: not reported
        if "step" in entry:
            entry["step"] = int(entry["step"])
        history.append(entry)
    return history
