"""Does ganbench meet its GPU goals? One check, eight minutes, one table.

Every figure in the README was measured on a 2-core CPU; the ``quick`` and ``paper``
profiles are meant for a GPU, where nothing had been measured. Someone with one H100 or
H200 runs ``bash benchmarks/gpu_check.sh`` from a fresh clone (after the README's install)
and pastes the table it prints into README.md. The steps, each a subprocess under its own
time limit:

1. ``tiny-run``: the CI's tiny run of the main job on CUDA (``brain-mri`` suite, smoke
   profile, embedded phantom, ``dcgan``, the profile's two seeds, one classifier epoch)
   with a fresh results folder and a fresh ``GANBENCH_CACHE_DIR`` (so a cold start, weights
   conversion included): wall time, exit status, leaderboard written.
2. ``features``: images/s of ganbench's own Inception feature extraction
   (``ganbench_plugins.metrics.fidelity.extract_features``) at the batch size ganbench
   picks (``--batch`` overrides it), after a warm-up, between ``torch.cuda.synchronize``
   calls; and the largest absolute difference between CUDA and CPU features of a few
   images, since FID is only comparable when the features do not depend on the device.
3. ``train-step``: ``benchmarks/bench_train_step.py --device cuda`` (DCGAN 64 px
   through ganbench against a bare PyTorch loop), its ratio bare / ganbench.
4. ``quick-cell``: the wall time of one cell of the ``quick`` profile (dcgan, one seed;
   the downstream classifiers are restricted to ``small-cnn`` unless
   ``--quick-classifiers`` says otherwise, because the profile's seven, ResNet-152
   among them, may not fit what is left of the eight minutes; the table says which ran).

The whole check has a budget (:data:`BUDGET_S`); each step runs under
``min(its own limit, what is left)``, is killed with its process group when it passes it,
and shows in the table as ``TIMED OUT``; a step that fails shows as ``FAILED``, one that
found no time left as ``SKIPPED``, and the next step runs regardless. The shell script adds
an outer guard, so nothing can keep the machine longer than eight minutes.

Without CUDA the check refuses (exit 2, one line) unless ``--cpu-dry-run``: then every step
runs on the CPU at tiny sizes (a 16 px copy of the suite with 16 images per set, two
training steps, a few Inception images), which tests everything but the GPU itself. Its
numbers mean nothing; the goals are for a GPU.

Exit status: 0 every step ran and met its goal; 1 a step failed, timed out or was
skipped; 2 refused (no CUDA, bad arguments); 3 every step ran but a goal was missed
(GPU runs only: a dry run on a CPU misses the GPU goals by design).

``gpu_check.py features-worker ...`` is step 2's subprocess, not meant to be run by hand.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
#: Seconds the Python side may take in all. The shell script's guard kills at 480 s (the
#: promised eight minutes); the difference covers interpreter start-up and the last kill.
BUDGET_S = 465.0
#: Kept back from every step's limit: a killed step's grace period and the table.
RESERVE_S = 15.0
#: A step is not started with less than this left: it could not finish anyway.
MIN_STEP_S = 10.0
#: SIGTERM, then this many seconds, then SIGKILL: ganbench gets to close its store.
KILL_GRACE_S = 5.0
#: Each step's own limit in seconds; None: whatever the budget has left. The quick cell
#: comes last and takes the rest, so fast earlier steps leave it more.
#: The Inception batch of the images/s step on a GPU: large, as the 3,000 images/s goal asks.
LARGE_BATCH = 256
STEP_LIMITS: dict[str, Optional[float]] = {"tiny-run": 120.0, "features": 75.0, "train-step": 60.0, "quick-cell": None}

#: Table rows, in order: key -> the "measure" column.
MEASURES = {
    "tiny-run": "tiny suite run (smoke), wall time",
    "features-rate": "Inception features, images/s",
    "features-diff": "Inception features, max abs diff device vs CPU",
    "train-step": "DCGAN 64 px train step, ratio bare / ganbench",
    "quick-cell": "one quick-profile cell, wall time",
}

# The "ok" column.
YES, NO, FAILED, TIMED_OUT, SKIPPED = "yes", "NO", "FAILED", "TIMED OUT", "SKIPPED"
#: Statuses that mean the step did not produce its measurement.
BROKEN = (FAILED, TIMED_OUT, SKIPPED)

#: Goals that have a number: Inception features fast enough that FID is never what a GPU
#: run waits for, features that do not depend on the device (FID must stay comparable), and
#: at most 5% harness overhead per training step (bench_train_step.py's own goal).
FEATURES_RATE_GOAL_MIN = 3000.0
FEATURES_DIFF_GOAL_MAX = 1e-3
TRAIN_STEP_RATIO_GOAL_MIN = 0.95
RUN_GOAL = "exit 0, leaderboard written"

DRY_RUN_SUITE = "gpu-check-dry-run"


# --------------------------------------------------------------------------- goals and rows


@dataclass(frozen=True)
class Goal:
    """A threshold a measured number must reach: ``op`` is ``">="`` or ``"<="``."""

    op: str
    threshold: float
    unit: str = ""

    def __post_init__(self):
        if self.op not in (">=", "<="):
            raise ValueError(f"goal operator must be '>=' or '<=', got {self.op!r}")

    def met(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return value >= self.threshold if self.op == ">=" else value <= self.threshold

    def text(self) -> str:
        number = f"{self.threshold:g}" if abs(self.threshold) < 1000 else f"{self.threshold:,.0f}"
        return f"{self.op} {number}{(' ' + self.unit) if self.unit else ''}"


@dataclass(frozen=True)
class Row:
    measure: str
    value: str
    goal: str
    ok: str
    note: str = ""


@dataclass(frozen=True)
class StepResult:
    """How a step's subprocess ended: ``status`` is ``done`` (exit 0), ``failed`` (another
    exit status, or a step that could not start), ``timeout`` or ``skipped``."""

    name: str
    status: str
    rc: Optional[int] = None
    wall_s: float = 0.0
    limit_s: float = 0.0
    log: str = ""
    last_line: str = ""


def judge(value: Optional[float], goal: Goal) -> str:
    """The "ok" column of a measured number; ``None`` (not measured) is a failure."""
    if value is None:
        return FAILED
    return YES if goal.met(value) else NO


def broken_row(measure: str, goal: str, step: StepResult) -> Row:
    """The row of a measurement whose step failed, timed out or was skipped."""
    log = f"; log {step.log}" if step.log else ""
    if step.status == "timeout":
        return Row(measure, f"> {step.limit_s:.0f} s", goal, TIMED_OUT, f"killed at its {step.limit_s:.0f} s limit{log}")
    if step.status == "skipped":
        return Row(measure, "-", goal, SKIPPED, "no time left in the 8-minute budget")
    reason = ": ".join(part for part in (f"exit {step.rc}" if step.rc is not None else "", step.last_line) if part)
    return Row(measure, "-", goal, FAILED, f"{reason or 'failed'}{log}")


def run_row(measure: str, step: StepResult, leaderboard_problem: Optional[str], note: str) -> Row:
    """A ``ganbench run`` step's row: its wall time, ok when it exited 0 and wrote its
    leaderboard (``leaderboard_problem`` says what is wrong with it, None when nothing)."""
    if step.status != "done":
        return broken_row(measure, RUN_GOAL, step)
    if leaderboard_problem:
        return Row(measure, f"{step.wall_s:.1f} s", RUN_GOAL, FAILED, f"exit 0 but {leaderboard_problem}; log {step.log}")
    return Row(measure, f"{step.wall_s:.1f} s", RUN_GOAL, YES, note)


def feature_rows(step: StepResult, measured: Optional[dict], note: str) -> list[Row]:
    """Step 2's two rows from the worker's JSON (None when it wrote none)."""
    rate_goal = Goal(">=", FEATURES_RATE_GOAL_MIN, "images/s")
    diff_goal = Goal("<=", FEATURES_DIFF_GOAL_MAX)
    rate, diff = MEASURES["features-rate"], MEASURES["features-diff"]
    if step.status != "done" or measured is None:
        if step.status == "done":  # exit 0 and no JSON: say so rather than "exit 0"
            step = dataclasses.replace(step, status="failed", last_line="the worker wrote no result")
        return [broken_row(rate, rate_goal.text(), step), broken_row(diff, diff_goal.text(), step)]
    ips, max_diff = float(measured["images_per_s"]), float(measured["max_abs_diff"])
    rate_note = (
        f"batch {measured['batch']}, {measured['images']} images {measured['size']} px grey, "
        f"{measured['seconds']:.2f} s{('; ' + note) if note else ''}"
    )
    diff_note = (
        f"{measured['diff_images']} images, {measured['device']} at batch {measured['batch']} "
        f"vs CPU at batch {measured['cpu_batch']}"
    )
    if str(measured["device"]).startswith("cuda"):
        diff_note += f"; cuDNN TF32 {'on' if measured.get('cudnn_tf32') else 'off'}"
    return [
        Row(rate, f"{ips:,.0f}", rate_goal.text(), judge(ips, rate_goal), rate_note),
        Row(diff, f"{max_diff:.1e}", diff_goal.text(), judge(max_diff, diff_goal), diff_note),
    ]


def train_step_row(step: StepResult, parsed: Optional[dict], note: str) -> Row:
    """Step 3's row. bench_train_step.py exits 1 when the ratio misses its goal: that is a
    measurement (``NO``), not a failure, as long as the ratio was printed."""
    goal = Goal(">=", TRAIN_STEP_RATIO_GOAL_MIN)
    measure = MEASURES["train-step"]
    if step.status in ("timeout", "skipped"):
        return broken_row(measure, goal.text(), step)
    if parsed is None or step.rc not in (0, 1):
        if step.status == "done":
            step = dataclasses.replace(step, status="failed", last_line="no 'ratio bare / ganbench' line in its output")
        return broken_row(measure, goal.text(), step)
    ratio = parsed["ratio"]
    detail = f"ganbench {parsed['ganbench_ms']:.2f} ms/step, bare {parsed['bare_ms']:.2f} ms/step"
    return Row(measure, f"{ratio:.3f}", goal.text(), judge(ratio, goal), f"{detail}; {note}" if note else detail)


# --------------------------------------------------------------------------- parsing


_TRAIN_MS = re.compile(r"^\s*(ganbench|bare)\s*:\s*([0-9.]+)\s*ms/step", re.MULTILINE)
_TRAIN_RATIO = re.compile(r"ratio bare / ganbench:\s*([0-9.]+)")


def parse_train_step(text: str) -> Optional[dict]:
    """``{"ratio", "ganbench_ms", "bare_ms"}`` from bench_train_step.py's output, or None
    when the ratio line is missing (the script crashed before it)."""
    ratio = _TRAIN_RATIO.search(text)
    if ratio is None:
        return None
    ms = {name: float(value) for name, value in _TRAIN_MS.findall(text)}
    return {"ratio": float(ratio.group(1)), "ganbench_ms": ms.get("ganbench", math.nan), "bare_ms": ms.get("bare", math.nan)}


def read_json(path: Path) -> Optional[dict]:
    """A step's JSON result, or None when it is missing or cut short."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def leaderboard_problem(results: Path, suite: str, gan: str) -> Optional[str]:
    """What is wrong with a run's leaderboard (missing, empty, without the GAN), or None."""
    path = results / f"leaderboard-{suite}.md"
    if not path.is_file():
        return f"no {path.name}"
    text = path.read_text(errors="replace")
    if not text.strip():
        return f"{path.name} is empty"
    if gan not in text:
        return f"{path.name} does not mention {gan}"
    return None


def _cell(text: str) -> str:
    return str(text).replace("\n", " ").replace("|", "\\|").strip()


def markdown_table(rows: Sequence[Row]) -> str:
    """The rows as a GitHub markdown table, columns padded so it also reads as plain text."""
    header = ["measure", "value", "goal", "ok", "note"]
    body = [[_cell(getattr(row, field)) for field in header] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in body)) if body else len(column) for i, column in enumerate(header)]

    def line(cells):
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)) + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)])


def parse_markdown_table(text: str) -> list[dict[str, str]]:
    """The rows of the first markdown table in ``text``, as column -> cell (unescaped)."""
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    if len(lines) < 2:
        return []

    def cells(line: str) -> list[str]:
        return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]

    header = cells(lines[0])
    return [dict(zip(header, cells(line))) for line in lines[2:]]


def header_line(info: dict) -> str:
    """One line: when, on what, with which torch, CUDA and commit."""
    parts = [
        f"ganbench GPU check, {info['date']}",
        f"GPU: {info['gpu']}",
        f"torch {info['torch']}",
        f"CUDA {info['cuda']}",
        f"cuDNN {info['cudnn']}",
        f"commit {info['commit']}",
    ]
    if info.get("dry_run"):
        parts.append("CPU DRY RUN at tiny sizes: the numbers test the script, the goals are for a GPU")
    return " | ".join(parts)


def report_markdown(header: str, rows: Sequence[Row]) -> str:
    return f"{header}\n\n{markdown_table(rows)}\n"


def exit_code(rows: Sequence[Row], dry_run: bool) -> int:
    """0 all ran and met their goals; 1 a step broke; 3 a goal missed (not counted in a dry
    run, whose CPU cannot meet the GPU goals)."""
    if any(row.ok in BROKEN for row in rows):
        return 1
    if not dry_run and any(row.ok == NO for row in rows):
        return 3
    return 0


def git_commit(repo: Path) -> str:
    """The checked-out commit, read from the ``.git`` files (no git binary needed: a GPU
    box may lack it). Handles a worktree's ``.git`` file and packed refs."""
    git = repo / ".git"
    try:
        if git.is_file():
            text = git.read_text().strip()
            if not text.startswith("gitdir:"):
                return "unknown (unreadable .git file)"
            git = (repo / text.split(":", 1)[1].strip()).resolve()
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head[:12]
        ref = head.split(":", 1)[1].strip()
        common = git
        if (git / "commondir").is_file():
            common = (git / (git / "commondir").read_text().strip()).resolve()
        for base in (git, common):
            if (base / ref).is_file():
                return (base / ref).read_text().strip()[:12]
        for base in (common, git):
            packed = base / "packed-refs"
            if packed.is_file():
                for line in packed.read_text().splitlines():
                    fields = line.split()
                    if len(fields) == 2 and fields[1] == ref:
                        return fields[0][:12]
        return f"unknown ({ref} has no commit)"
    except OSError:
        return "unknown (no .git)"


# --------------------------------------------------------------------------- running steps


class Terminated(Exception):
    """SIGTERM (the shell's guard): stop the running step's process group, then leave."""


def _on_sigterm(signum, frame):
    raise Terminated()


def _kill_group(process: subprocess.Popen) -> None:
    # Each step runs in a session of its own, so its children (a ganbench run's workers)
    # go with it. SIGTERM first, so ganbench can close its store; then SIGKILL for whatever
    # is left of the group, even when the step itself has gone.
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass


def _last_line(path: Path) -> str:
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:160] if lines else ""


def run_step(name: str, cmd: Sequence[str], limit_s: float, log: Path, env: dict, cwd: Path, log_label: str = "") -> StepResult:
    """Run ``cmd`` with its output in ``log``; kill its process group after ``limit_s``."""
    label = log_label or str(log)
    start = time.perf_counter()
    with open(log, "wb") as out:
        out.write(("$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        try:
            process = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True)
        except OSError as error:
            return StepResult(name, "failed", None, 0.0, limit_s, label, f"could not start {cmd[0]}: {error}")
        try:
            rc = process.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            return StepResult(name, "timeout", None, time.perf_counter() - start, limit_s, label, _last_line(log))
        except BaseException:
            _kill_group(process)
            raise
    wall = time.perf_counter() - start
    return StepResult(name, "done" if rc == 0 else "failed", rc, wall, limit_s, label, "" if rc == 0 else _last_line(log))


def step_limit(name: str, deadline: float, now: float) -> float:
    """The step's limit: its own, or less when the budget has less left (0: skip it)."""
    left = deadline - now - RESERVE_S
    own = STEP_LIMITS[name]
    limit = left if own is None else min(own, left)
    return limit if limit >= MIN_STEP_S else 0.0


# --------------------------------------------------------------------------- step 2's worker


def sample_images(n: int, size: int, seed: int = 0):
    """Deterministic grey uint8 images with smooth structure (N x 1 x size x size)."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(seed)
    low = torch.rand((n, 1, 8, 8), generator=g)
    return F.interpolate(low, size=(size, size), mode="bilinear", align_corners=False).mul(255).round().to(torch.uint8)


def features_worker(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="gpu_check.py features-worker")
    parser.add_argument("--device", required=True)
    parser.add_argument("--images", type=int, required=True, help="images to time (at most, see --max-seconds)")
    parser.add_argument("--batch", type=int, default=0, help="override ganbench's batch size (0: ganbench's)")
    parser.add_argument("--diff-images", type=int, required=True)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--max-seconds", type=float, default=30.0, help="stop timing after this long")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)

    import torch

    from ganbench_plugins.metrics import fidelity

    device, cpu = torch.device(args.device), torch.device("cpu")

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    # The CPU reference first, at ganbench's own CPU batch size, before any override
    # touches the table (in a dry run both sides are the CPU: then the override makes the
    # comparison one of batch sizes, which must not change the features either).
    sample = sample_images(args.diff_images, args.size, seed=1)
    cpu_batch = fidelity.feature_batch_size(cpu)
    reference = fidelity.extract_features(sample, cpu)

    # The table is touched only for an override, and put back afterwards: another
    # developer is reworking this code, and the default path uses public functions only.
    saved = dict(fidelity.FEATURE_BATCH_SIZE) if args.batch else None
    try:
        if args.batch:
            fidelity.FEATURE_BATCH_SIZE[device.type] = args.batch
        batch = fidelity.feature_batch_size(device)
        per_call = batch * max(1, math.ceil(min(args.images, 1024) / batch))
        images = sample_images(per_call, args.size)
        # Warm-up: loads the weights onto the device, initialises CUDA and cuDNN.
        fidelity.extract_features(images[: 2 * batch], device)
        sync()
        done, start = 0, time.perf_counter()
        while done < args.images:
            fidelity.extract_features(images, device)
            done += per_call
            if time.perf_counter() - start > args.max_seconds:
                break
        sync()
        seconds = time.perf_counter() - start
        on_device = fidelity.extract_features(sample, device)
        sync()
    finally:
        if saved is not None:
            fidelity.FEATURE_BATCH_SIZE.clear()
            fidelity.FEATURE_BATCH_SIZE.update(saved)

    result = {
        "device": str(device),
        "batch": batch,
        "cpu_batch": cpu_batch,
        "images": done,
        "size": args.size,
        "seconds": seconds,
        "images_per_s": done / seconds,
        "diff_images": args.diff_images,
        "max_abs_diff": float((on_device - reference).abs().max()),
        # The likeliest reason for a large difference: cuDNN's TF32 convolutions.
        "cudnn_tf32": bool(torch.backends.cudnn.allow_tf32),
    }
    args.json.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class Plan:
    """What each step runs: the GPU check's sizes, or the dry run's tiny ones."""

    device: str
    #: The suite's name: its leaderboard is leaderboard-SUITE.md.
    suite: str
    tiny_args: tuple[str, ...]
    tiny_note: str
    feature_args: tuple[str, ...]
    feature_note: str
    train_args: tuple[str, ...]
    train_note: str
    quick_args: tuple[str, ...]
    quick_note: str


def write_dry_run_suite(path: Path) -> None:
    """brain-mri as a suite file, shrunk so a CPU gets through it in seconds: 16 px and 16
    images per set (Inception on the CPU costs ~0.2 s an image, the cost that matters)."""
    from ganbench.suite_file_writer import suite_to_toml
    from ganbench_plugins.suites.brain_mri import BRAIN_MRI

    smoke = dataclasses.replace(BRAIN_MRI.profiles["smoke"], image_size=16, n_fake=16, n_real=16)
    suite = dataclasses.replace(
        BRAIN_MRI, name=DRY_RUN_SUITE, description="brain-mri shrunk for gpu_check.py --cpu-dry-run",
        profiles={"smoke": smoke}, default_profile="smoke",
    )
    path.write_text(suite_to_toml(suite, header="# Written by benchmarks/gpu_check.py --cpu-dry-run."))


def make_plan(args, workdir: Path) -> Plan:
    from ganbench_plugins.suites.brain_mri import BRAIN_MRI

    quick_classifiers = args.quick_classifiers
    profile_count = len(BRAIN_MRI.profiles["quick"].classifiers or BRAIN_MRI.classifiers)
    classifier_args: tuple[str, ...] = () if quick_classifiers == "all" else ("--classifiers", quick_classifiers)
    classifier_note = (
        f"the profile's {profile_count} classifiers" if quick_classifiers == "all"
        else f"classifiers {quick_classifiers} only (the profile's {profile_count} may not fit 8 min; --quick-classifiers all)"
    )
    if args.cpu_dry_run:
        suite = workdir / "dry-run-suite.toml"
        write_dry_run_suite(suite)
        tiny = ("--gan-setting", "steps=2", "--metric-setting", "classifier_epochs=1")
        return Plan(
            device="cpu",
            suite=DRY_RUN_SUITE,
            tiny_args=("--suite", str(suite), "--gans", "dcgan", "--seeds", "1", *tiny),
            tiny_note="dry run: 16 px suite, 16 images per set, dcgan, 1 seed, 2 steps",
            # Batch 1 against the CPU's 8: on a CPU the comparison is one of batch sizes.
            feature_args=("--images", "8", "--diff-images", "2", "--batch", str(args.batch or 1)),
            feature_note="dry run",
            train_args=("--steps", "2", "--repeat", "1"),
            train_note="dry run: 2 steps x 1 round",
            quick_args=("--suite", str(suite), "--profile", "smoke", "--gans", "dcgan", "--seeds", "1", *tiny,
                        "--classifiers", "small-cnn"),
            quick_note="dry run: the smoke profile of the 16 px suite instead of quick",
        )
    return Plan(
        device=args.device,
        suite="brain-mri",
        tiny_args=("--suite", "brain-mri", "--gans", "dcgan", "--metric-setting", "classifier_epochs=1"),
        tiny_note="dcgan, the profile's 2 seeds, classifier_epochs=1, cold cache",
        # The goal is for a large batch; ganbench's own CUDA batch (64) is a
        # --batch 64 away.
        feature_args=("--images", "16384", "--diff-images", "8", "--batch", str(args.batch or LARGE_BATCH)),
        feature_note="",
        train_args=("--steps", "200", "--repeat", "5"),
        train_note="200 steps x 5 rounds",
        quick_args=("--suite", "brain-mri", "--profile", "quick", "--gans", "dcgan", "--seeds", "1", *classifier_args),
        quick_note=f"dcgan, 1 seed, {classifier_note}",
    )


def environment_info(device: str, dry_run: bool) -> dict:
    import torch

    cuda = torch.version.cuda or "none (CPU-only torch build)"
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "gpu": "none (CPU dry run)" if dry_run else torch.cuda.get_device_name(torch.device(device)),
        "torch": torch.__version__,
        "cuda": cuda,
        "cudnn": cudnn if cudnn is not None else "none",
        "commit": git_commit(REPO),
        "dry_run": dry_run,
    }


def refusal(device: str) -> Optional[str]:
    """Why the GPU check cannot run here (one line), or None when it can."""
    import torch

    if not torch.cuda.is_available():
        build = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        return (
            f"gpu_check: CUDA is not available (torch {torch.__version__}, {build}); run it on a machine with an "
            "NVIDIA GPU, or pass --cpu-dry-run to run every step on the CPU at tiny sizes"
        )
    if not device.startswith("cuda"):
        return f"gpu_check: --device must be cuda or cuda:N, got {device!r} (use --cpu-dry-run for the CPU)"
    try:
        torch.cuda.get_device_name(torch.device(device))
    except (RuntimeError, AssertionError, ValueError) as error:
        return f"gpu_check: cannot use {device!r}: {str(error).splitlines()[0] if str(error) else error!r}"
    return None


def check(args) -> int:
    started = time.perf_counter()
    deadline = started + BUDGET_S
    if not args.cpu_dry_run:
        reason = refusal(args.device)
        if reason:
            print(reason, file=sys.stderr)
            return 2
    signal.signal(signal.SIGTERM, _on_sigterm)

    # Always a new folder: an old results folder would make ganbench skip its finished
    # cells, and an old cache would make step 1 warm.
    if args.workdir:
        Path(args.workdir).mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="ganbench-gpu-check-", dir=args.workdir)).resolve()
    (workdir / "logs").mkdir()
    out = Path(args.out).resolve() if args.out else workdir / "gpu-check.md"
    cache = workdir / "cache"  # fresh: step 1 is a cold start, as a new user's first run is
    env = {**os.environ, "GANBENCH_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1"}
    plan = make_plan(args, workdir)
    info = environment_info(plan.device, args.cpu_dry_run)
    python = sys.executable
    print(f"gpu_check: working in {workdir} (logs/, results, ganbench cache)", flush=True)

    def step(number: int, name: str, cmd: Sequence[str]) -> StepResult:
        limit = step_limit(name, deadline, time.perf_counter())
        log = workdir / "logs" / f"{name}.log"
        label = f"logs/{name}.log"
        if not limit:
            print(f"[{number}/4] {name}: SKIPPED, no time left in the budget", flush=True)
            return StepResult(name, "skipped", log=label)
        print(f"[{number}/4] {name}: limit {limit:.0f} s, log {log}", flush=True)
        result = run_step(name, cmd, limit, log, env, REPO, label)
        # "exit N", not "FAILED": bench_train_step.py exits 1 for a missed goal; the table judges.
        outcome = {"done": "done", "failed": f"exit {result.rc}", "timeout": "TIMED OUT"}[result.status]
        print(f"      {outcome} in {result.wall_s:.1f} s{(': ' + result.last_line) if result.last_line else ''}", flush=True)
        return result

    ganbench = (python, "-m", "ganbench", "run", "--device", plan.device)
    rows: list[Row] = []
    try:
        tiny_results = workdir / "tiny-run"
        result = step(1, "tiny-run", (*ganbench, *plan.tiny_args, "--results", str(tiny_results)))
        problem = leaderboard_problem(tiny_results, plan.suite, "dcgan") if result.status == "done" else None
        rows.append(run_row(MEASURES["tiny-run"], result, problem, plan.tiny_note))

        feature_json = workdir / "features.json"
        result = step(2, "features", (python, str(Path(__file__).resolve()), "features-worker", "--device", plan.device,
                                      *plan.feature_args, "--json", str(feature_json)))
        rows += feature_rows(result, read_json(feature_json) if result.status == "done" else None, plan.feature_note)

        bench = REPO / "benchmarks" / "bench_train_step.py"
        result = step(3, "train-step", (python, str(bench), "--device", plan.device, *plan.train_args))
        output = (workdir / "logs" / "train-step.log").read_text(errors="replace")
        parsed = parse_train_step(output) if result.status in ("done", "failed") else None
        rows.append(train_step_row(result, parsed, plan.train_note))

        quick_results = workdir / "quick-cell"
        result = step(4, "quick-cell", (*ganbench, *plan.quick_args, "--results", str(quick_results)))
        problem = leaderboard_problem(quick_results, plan.suite, "dcgan") if result.status == "done" else None
        rows.append(run_row(MEASURES["quick-cell"], result, problem, plan.quick_note))
    except (KeyboardInterrupt, Terminated):
        print("gpu_check: interrupted; the table below has the steps that finished", file=sys.stderr)
        done = {row.measure for row in rows}
        stopped = StepResult("interrupted", "failed", None, last_line="the check was interrupted before this finished")
        rows += [broken_row(m, "-", stopped) for m in MEASURES.values() if m not in done]

    header = header_line(info)
    text = report_markdown(header, rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    code = exit_code(rows, args.cpu_dry_run)
    print()
    print(text, end="")
    print(f"\nmarkdown: {out}")
    print(f"total {time.perf_counter() - started:.0f} s; exit {code}", flush=True)
    return code


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["features-worker"]:
        return features_worker(argv[1:])
    parser = argparse.ArgumentParser(
        prog="gpu_check.sh",
        description="Measure ganbench on one CUDA GPU in at most 8 minutes and print one table.",
    )
    parser.add_argument("--cpu-dry-run", action="store_true",
                        help="no GPU needed: every step on the CPU at tiny sizes (tests the script, not the GPU)")
    parser.add_argument("--device", default="cuda", help="the CUDA device (default: cuda)")
    parser.add_argument("--batch", type=int, default=0,
                        help=f"Inception batch size for the images/s step (default {LARGE_BATCH}; the CPU dry run: 1)")
    parser.add_argument("--quick-classifiers", default="small-cnn",
                        help="classifiers of the quick cell: a comma-separated list, or 'all' for the profile's "
                             "(default: small-cnn, to fit the 8 minutes)")
    parser.add_argument("--out", help="write the markdown table here (default: WORKDIR/gpu-check.md)")
    parser.add_argument("--workdir", help="folder in which a new run folder is made for logs, results and the fresh "
                                          "ganbench cache (default: the system's temporary folder)")
    args = parser.parse_args(argv)
    if args.batch < 0:
        parser.error("--batch must be at least 1 (or 0 for ganbench's own)")
    return check(args)


if __name__ == "__main__":
    sys.exit(main())
