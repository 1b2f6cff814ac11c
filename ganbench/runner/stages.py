"""Stage reuse: a trained generator and its samples, kept once per training hash.

A cell is two stages: training (train the GAN, draw its samples) and evaluation (every
metric with every classifier). Training is by far the longer, and its result depends on
fewer settings than the cell's: the metrics, their settings and the classifiers change
nothing of it. So its outcome is kept under ``<results>/training/<training hash>/``:

* one folder per training phase with its checkpoints (:mod:`.checkpointing`);
* ``samples.safetensors``: the generated images and labels (and for an image-to-image
  GAN the source images and reconstructions), written last, atomically: its presence
  means the stage finished. Its metadata names the run that trained it, the training
  time and the training config.

A cell whose training hash has a finished stage evaluates that stage's samples instead
of training again: a re-run after an evaluation failed, a suite re-run with one more
metric or classifier, or variants that differ only in evaluation (IJACSA's classifier
trained for 5, 10 or 30 epochs on the same GAN's samples). Every row records the
training hash and the run that trained the generator (``config["stage"]``).

Two processes that need one stage (two Ray workers running cells of one training hash)
take turns through a claim on ``training/<hash>`` (:mod:`ganbench.results.claims`): the
second waits and then reuses what the first trained.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

import torch

from ..checkpoints import load_state, read_metadata, save_state
from ..results.claims import wait_for_claim
from ..results.provenance import config_hash
from ..specs import ImageSplit
from .checkpointing import DEFAULT_EVERY, PhaseCheckpoints

TRAINING_DIR = "training"
SAMPLES = "samples.safetensors"
#: Cell-config keys that change only the evaluation, never the trained generator or its
#: samples. ``variant`` and ``profile`` are here because everything of them that changes
#: training is in the config already (hyperparameters, size, counts, class names).
#: ``suite_file`` (the digest of a suite file's content) is here for the same reason:
#: every field of a file that changes training has its own key in the config as well:
#: ``gan_hparams`` (its profiles' and variants' ``gan_overrides`` and ``epochs``),
#: ``image_size``, ``channels``, ``n_fake``, ``train_images``, ``class_names`` (its
#: ``class_task``), ``training`` (``unconditional_per_class``) and ``translation``. So a
#: file that changes only what is evaluated or described reuses the trained generator,
#: and one that changes a GAN hyperparameter trains anew (tests/test_suite_file.py).
EVALUATION_ONLY = ("metrics", "metric_settings", "classifiers", "n_real", "variant", "profile", "suite_file")


def training_config(config: Mapping[str, Any], gan_provenance: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a cell's config that the trained generator and its samples depend
    on, with the GAN plugin's provenance (a new version of the plugin trains anew)."""
    kept = {key: value for key, value in config.items() if key not in EVALUATION_ONLY}
    return {**kept, "gan_plugin": dict(gan_provenance)}


def training_hash(config: Mapping[str, Any], gan_provenance: Mapping[str, Any]) -> str:
    return config_hash(training_config(config, gan_provenance))


@dataclass
class StageRecord:
    """A finished training stage, as a cell reuses it."""

    fake: ImageSplit
    sources: Optional[ImageSplit]
    reconstructions: Optional[ImageSplit]
    history: dict
    trained_by_run: str
    train_wall_time_s: float


class TrainingStage:
    """The stage folder of one training hash. ``every``: steps between checkpoints."""

    def __init__(self, results_dir: Path, hash_: str, every: int = DEFAULT_EVERY, log: Callable[[str], None] = lambda m: None):
        self.results_dir, self.hash, self.every, self.log = Path(results_dir), hash_, every, log
        self.folder = self.results_dir / TRAINING_DIR / hash_

    @contextmanager
    def held(self) -> Iterator["TrainingStage"]:
        """Exclusive use of this stage by this process (waits, and says so, while
        another holds it; released at exit or when the process dies)."""
        with wait_for_claim(self.results_dir, f"{TRAINING_DIR}/{self.hash}", self.log):
            yield self

    def phase(self, name: str) -> PhaseCheckpoints:
        """The checkpoints of one phase (``all``, a class name, a CycleGAN pair)."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "phase"
        return PhaseCheckpoints(self.folder / safe, self.every, self.log)

    @property
    def samples_path(self) -> Path:
        return self.folder / SAMPLES

    def finished(self) -> bool:
        return self.samples_path.is_file()

    def trained_by(self) -> Optional[str]:
        return read_metadata(self.samples_path).get("trained_by_run") if self.finished() else None

    def save(
        self,
        fake: ImageSplit,
        sources: Optional[ImageSplit],
        reconstructions: Optional[ImageSplit],
        history: dict,
        run_id: str,
        train_wall_time_s: float,
        config: Mapping[str, Any],
    ) -> None:
        splits = {"fake": fake, "sources": sources, "reconstructions": reconstructions}
        state = {
            name: {"images": split.images, "labels": split.labels} for name, split in splits.items() if split is not None
        }
        state["history"] = json.dumps(history)
        save_state(
            self.samples_path,
            state,
            {
                "trained_by_run": run_id,
                "train_wall_time_s": repr(float(train_wall_time_s)),
                "training_config": json.dumps(config, sort_keys=True, default=str),
            },
        )

    def load(self) -> StageRecord:
        state = load_state(self.samples_path)
        metadata = read_metadata(self.samples_path)

        def split(name: str) -> Optional[ImageSplit]:
            part = state.get(name)
            return None if part is None else ImageSplit(part["images"].to(torch.uint8), part["labels"].long())

        return StageRecord(
            fake=split("fake"),
            sources=split("sources"),
            reconstructions=split("reconstructions"),
            history=json.loads(state["history"]),
            trained_by_run=metadata["trained_by_run"],
            train_wall_time_s=float(metadata["train_wall_time_s"]),
        )
