"""benchmarks/gpu_check.sh and gpu_check.py, on a machine without a GPU: the shell
script's syntax, its refusal without CUDA, the table and goal functions, the step runner's
time limit, and (slow) one whole ``--cpu-dry-run``. What only a GPU can show (the numbers)
is the script's job, not the tests'."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"
sys.path.insert(0, str(ROOT / "benchmarks"))

import gpu_check  # noqa: E402
from gpu_check import (  # noqa: E402
    FAILED, MEASURES, NO, SKIPPED, TIMED_OUT, YES, Goal, Row, StepResult, broken_row, exit_code, feature_rows,
    git_commit, header_line, leaderboard_problem, markdown_table, parse_markdown_table, parse_train_step,
    report_markdown, run_row, run_step, step_limit, train_step_row,
)


def script_env(**extra) -> dict:
    """The environment the shell script runs in here: this interpreter, no GPU visible
    (so the refusal is tested even on a machine that has one), one thread per library."""
    env = {**os.environ, "GANBENCH_PYTHON": sys.executable, "CUDA_VISIBLE_DEVICES": "",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env.update(extra)
    return env


# --------------------------------------------------------------------------- the shell script


def test_shell_script_syntax():
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_refuses_without_cuda_in_one_line():
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=script_env(), timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "CUDA is not available" in lines[0] and "--cpu-dry-run" in lines[0]
    assert result.stdout == ""


def test_refuses_without_the_venv_python(tmp_path):
    missing = tmp_path / "no-python"
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True,
                            env=script_env(GANBENCH_PYTHON=str(missing)), timeout=60)
    assert result.returncode == 2
    assert str(missing) in result.stderr and "pip install -e ." in result.stderr


def test_bad_batch_is_refused():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--batch", "-1"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--batch" in result.stderr


# --------------------------------------------------------------------------- goals


def test_goals():
    at_least = Goal(">=", 3000, "images/s")
    assert at_least.met(3000) and at_least.met(4000.5) and not at_least.met(2999.9)
    assert not at_least.met(float("nan"))
    assert at_least.text() == ">= 3,000 images/s"
    at_most = Goal("<=", 1e-3)
    assert at_most.met(1e-3) and at_most.met(0.0) and not at_most.met(0.0011)
    assert at_most.text() == "<= 0.001"
    with pytest.raises(ValueError, match="operator"):
        Goal("<", 1)


def test_judge():
    goal = Goal(">=", 0.95)
    assert gpu_check.judge(0.97, goal) == YES
    assert gpu_check.judge(0.9, goal) == NO
    assert gpu_check.judge(None, goal) == FAILED


# --------------------------------------------------------------------------- rows of steps


DONE = StepResult("x", "done", 0, 42.04, 120.0, "logs/x.log")


def test_run_row_ok_and_without_leaderboard():
    row = run_row("m", DONE, None, "dcgan, 2 seeds")
    assert (row.value, row.ok, row.note) == ("42.0 s", YES, "dcgan, 2 seeds")
    row = run_row("m", DONE, "no leaderboard-brain-mri.md", "n")
    assert row.ok == FAILED and "no leaderboard-brain-mri.md" in row.note and "logs/x.log" in row.note


def test_broken_rows_say_why():
    timeout = StepResult("x", "timeout", None, 120.3, 120.0, "logs/x.log", "last")
    row = run_row("m", timeout, None, "n")
    assert (row.value, row.ok) == ("> 120 s", TIMED_OUT) and "120 s limit" in row.note
    failed = StepResult("x", "failed", 1, 3.0, 120.0, "logs/x.log", "GanbenchError: boom")
    row = broken_row("m", "g", failed)
    assert row.ok == FAILED and row.note.startswith("exit 1: GanbenchError: boom") and "logs/x.log" in row.note
    row = broken_row("m", "g", StepResult("x", "skipped"))
    assert row.ok == SKIPPED and "budget" in row.note
    row = broken_row("m", "g", StepResult("x", "failed", None, last_line="could not start python"))
    assert row.note == "could not start python"


MEASURED = {"device": "cuda", "batch": 256, "cpu_batch": 8, "images": 16384, "size": 64, "seconds": 4.2,
            "images_per_s": 3900.7, "diff_images": 8, "max_abs_diff": 2.5e-3, "cudnn_tf32": True}


def test_feature_rows():
    rate, diff = feature_rows(DONE, MEASURED, "")
    assert (rate.measure, rate.value, rate.ok) == (MEASURES["features-rate"], "3,901", YES)
    assert "batch 256" in rate.note and "16384 images" in rate.note
    assert (diff.measure, diff.value, diff.ok) == (MEASURES["features-diff"], "2.5e-03", NO)
    assert "TF32 on" in diff.note
    cpu = {**MEASURED, "device": "cpu", "max_abs_diff": 0.0}
    assert "TF32" not in feature_rows(DONE, cpu, "dry run")[1].note


def test_feature_rows_of_a_broken_step():
    rows = feature_rows(StepResult("features", "timeout", None, 75, 75, "logs/features.log"), None, "")
    assert [r.ok for r in rows] == [TIMED_OUT, TIMED_OUT]
    rows = feature_rows(DONE, None, "")  # exit 0 but no JSON
    assert [r.ok for r in rows] == [FAILED, FAILED] and "no result" in rows[0].note


TRAIN_OUTPUT = """DCGAN 64x64x1, batch 64, width 32, 200 steps x 5 rounds on cuda (16 threads)
ganbench :      4.3 ms/step   all: 4.3, 4.4
bare     :      4.1 ms/step   all: 4.1, 4.2
ratio bare / ganbench: 0.953   (goal >= 0.95)
"""


def test_parse_train_step():
    assert parse_train_step(TRAIN_OUTPUT) == {"ratio": 0.953, "ganbench_ms": 4.3, "bare_ms": 4.1}
    assert parse_train_step("Traceback (most recent call last):\n  RuntimeError: CUDA error") is None


def test_train_step_row_missed_goal_is_a_measurement_not_a_failure():
    parsed = parse_train_step(TRAIN_OUTPUT.replace("0.953", "0.9"))
    row = train_step_row(StepResult("train-step", "failed", 1, 9, 60, "l"), parsed, "200 steps x 5 rounds")
    assert (row.value, row.ok) == ("0.900", NO) and "ganbench 4.30 ms/step" in row.note
    row = train_step_row(StepResult("train-step", "failed", 1, 9, 60, "l", "RuntimeError"), None, "")
    assert row.ok == FAILED
    row = train_step_row(StepResult("train-step", "failed", -9, 9, 60, "l"), parse_train_step(TRAIN_OUTPUT), "")
    assert row.ok == FAILED  # killed after printing: not a clean exit
    row = train_step_row(StepResult("train-step", "done", 0, 9, 60, "l"), None, "")
    assert row.ok == FAILED and "ratio" in row.note


def test_read_json_of_a_missing_or_cut_short_result(tmp_path):
    assert gpu_check.read_json(tmp_path / "missing.json") is None
    (tmp_path / "cut.json").write_text('{"images_per_s": 3')
    assert gpu_check.read_json(tmp_path / "cut.json") is None
    (tmp_path / "ok.json").write_text('{"images_per_s": 3}')
    assert gpu_check.read_json(tmp_path / "ok.json") == {"images_per_s": 3}


def test_leaderboard_problem(tmp_path):
    assert leaderboard_problem(tmp_path, "brain-mri", "dcgan") == "no leaderboard-brain-mri.md"
    board = tmp_path / "leaderboard-brain-mri.md"
    board.write_text("")
    assert "empty" in leaderboard_problem(tmp_path, "brain-mri", "dcgan")
    board.write_text("| vanilla-gan | 1 |")
    assert "does not mention dcgan" in leaderboard_problem(tmp_path, "brain-mri", "dcgan")
    board.write_text("| dcgan | 1 |")
    assert leaderboard_problem(tmp_path, "brain-mri", "dcgan") is None


# --------------------------------------------------------------------------- the table


def test_markdown_table_round_trips_and_escapes_pipes():
    rows = [Row("a | b", "1.0 s", ">= 3", YES, "x"), Row("c", "-", "g", TIMED_OUT, "line\nbreak")]
    table = markdown_table(rows)
    lines = table.splitlines()
    assert lines[0].startswith("| measure") and set(lines[1]) <= {"|", "-"}
    assert len({len(line) for line in lines}) == 1  # padded: reads as plain text too
    parsed = parse_markdown_table("header\n\n" + table + "\n\nafter")
    assert parsed == [
        {"measure": "a | b", "value": "1.0 s", "goal": ">= 3", "ok": YES, "note": "x"},
        {"measure": "c", "value": "-", "goal": "g", "ok": TIMED_OUT, "note": "line break"},
    ]
    assert parse_markdown_table("no table here") == []


def test_header_line_and_report():
    info = {"date": "2026-01-01 00:00 UTC", "gpu": "NVIDIA H200", "torch": "2.9.0", "cuda": "12.8",
            "cudnn": 91002, "commit": "abc123def456", "dry_run": False}
    header = header_line(info)
    for part in ("2026-01-01 00:00 UTC", "GPU: NVIDIA H200", "torch 2.9.0", "CUDA 12.8", "commit abc123def456"):
        assert part in header
    assert "DRY RUN" not in header and "\n" not in header
    assert "DRY RUN" in header_line({**info, "dry_run": True})
    text = report_markdown(header, [Row("m", "1", "g", YES)])
    assert text.startswith(header + "\n\n| measure") and text.endswith("|\n")


def test_exit_code():
    good = [Row("m", "1", "g", YES)]
    missed = good + [Row("n", "1", "g", NO)]
    assert exit_code(good, dry_run=False) == 0
    assert exit_code(missed, dry_run=False) == 3
    assert exit_code(missed, dry_run=True) == 0  # a CPU cannot meet the GPU goals
    for status in (FAILED, TIMED_OUT, SKIPPED):
        assert exit_code(missed + [Row("o", "-", "g", status)], dry_run=True) == 1


def test_step_limit_shares_the_budget():
    deadline = 1000.0
    assert step_limit("tiny-run", deadline, now=0.0) == gpu_check.STEP_LIMITS["tiny-run"]
    assert step_limit("quick-cell", deadline, now=500.0) == 500.0 - gpu_check.RESERVE_S
    assert step_limit("tiny-run", deadline, now=deadline - gpu_check.RESERVE_S - 20) == 20
    assert step_limit("features", deadline, now=deadline - gpu_check.RESERVE_S - 1) == 0.0  # skip


# --------------------------------------------------------------------------- git commit


def test_git_commit_from_files(tmp_path):
    sha = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "loose"
    (repo / ".git" / "refs" / "heads").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (repo / ".git" / "refs" / "heads" / "main").write_text(sha + "\n")
    assert git_commit(repo) == sha[:12]

    packed = tmp_path / "packed"
    (packed / ".git").mkdir(parents=True)
    (packed / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (packed / ".git" / "packed-refs").write_text(f"# pack-refs with: peeled\n{sha} refs/heads/main\n")
    assert git_commit(packed) == sha[:12]

    detached = tmp_path / "detached"
    (detached / ".git").mkdir(parents=True)
    (detached / ".git" / "HEAD").write_text(sha + "\n")
    assert git_commit(detached) == sha[:12]

    # A worktree: .git is a file naming its folder, whose refs live in the common folder.
    worktree = tmp_path / "worktree"
    worktree.mkdir()
    private = repo / ".git" / "worktrees" / "wt"
    private.mkdir(parents=True)
    (private / "HEAD").write_text("ref: refs/heads/main\n")
    (private / "commondir").write_text("../..\n")
    (worktree / ".git").write_text(f"gitdir: {private}\n")
    assert git_commit(worktree) == sha[:12]

    assert git_commit(tmp_path / "nothing").startswith("unknown")


# --------------------------------------------------------------------------- the step runner


def test_run_step_records_a_failure(tmp_path):
    log = tmp_path / "step.log"
    cmd = [sys.executable, "-c", "import sys; print('working'); print('boom: it broke'); sys.exit(3)"]
    result = run_step("s", cmd, 60, log, dict(os.environ), tmp_path)
    assert (result.status, result.rc, result.last_line) == ("failed", 3, "boom: it broke")
    assert log.read_text().startswith("$ ")  # the command heads its log

    result = run_step("s", [str(tmp_path / "missing-binary")], 60, tmp_path / "m.log", dict(os.environ), tmp_path)
    assert result.status == "failed" and result.rc is None and "could not start" in result.last_line


def test_run_step_kills_the_whole_process_group_at_its_limit(tmp_path):
    # The step starts a child of its own (as ganbench run's workers are): both must go.
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    log = tmp_path / "slow.log"
    result = run_step("slow", [sys.executable, "-c", code], 2, log, dict(os.environ), tmp_path)
    assert result.status == "timeout" and result.rc is None and result.limit_s == 2
    child = int(log.read_text().splitlines()[-1])
    for _ in range(100):  # the orphan is reaped by init shortly after the kill
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        if Path(f"/proc/{child}/stat").is_file() and ") Z " in Path(f"/proc/{child}/stat").read_text():
            break  # killed, waiting to be reaped
        time.sleep(0.1)
    else:
        os.kill(child, 9)
        pytest.fail("the step's child outlived the step's time limit")


# --------------------------------------------------------------------------- plans


def plan_args(**overrides):
    values = {"cpu_dry_run": False, "device": "cuda", "batch": 0, "quick_classifiers": "small-cnn"}
    values.update(overrides)
    return argparse.Namespace(**values)


def test_gpu_plan_runs_the_real_suite_and_says_which_classifiers(tmp_path):
    plan = gpu_check.make_plan(plan_args(), tmp_path)
    assert plan.device == "cuda" and plan.suite == "brain-mri"
    assert plan.tiny_args[:2] == ("--suite", "brain-mri") and "classifier_epochs=1" in plan.tiny_args
    assert ("--profile", "quick") == plan.quick_args[2:4] and plan.quick_args[-2:] == ("--classifiers", "small-cnn")
    assert "small-cnn only" in plan.quick_note
    # A large batch by default, as the images/s goal asks; ganbench's own is --batch 64.
    assert plan.feature_args[-2:] == ("--batch", str(gpu_check.LARGE_BATCH)) and gpu_check.LARGE_BATCH >= 256
    plan = gpu_check.make_plan(plan_args(quick_classifiers="all", batch=512), tmp_path)
    assert "--classifiers" not in plan.quick_args and "7 classifiers" in plan.quick_note
    assert plan.feature_args[-2:] == ("--batch", "512")
    assert not list(tmp_path.iterdir())  # a GPU plan writes no suite file


def test_dry_run_plan_writes_a_tiny_suite_file(tmp_path):
    plan = gpu_check.make_plan(plan_args(cpu_dry_run=True), tmp_path)
    assert plan.device == "cpu" and plan.suite == gpu_check.DRY_RUN_SUITE
    suite = tomllib.loads((tmp_path / "dry-run-suite.toml").read_text())
    assert suite["name"] == gpu_check.DRY_RUN_SUITE and list(suite["profiles"]) == ["smoke"]
    assert suite["profiles"]["smoke"]["image_size"] == 16 and suite["profiles"]["smoke"]["n_fake"] == 16
    assert "--profile" in plan.quick_args and "quick" not in plan.quick_args


# --------------------------------------------------------------------------- the whole dry run


@pytest.mark.slow
def test_cpu_dry_run_prints_every_row_and_writes_the_markdown(tmp_path):
    out = tmp_path / "table.md"
    result = subprocess.run(
        ["bash", str(SCRIPT), "--cpu-dry-run", "--workdir", str(tmp_path / "work"), "--out", str(out)],
        capture_output=True, text=True, env=script_env(), timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    rows = parse_markdown_table(result.stdout.split("\n\n", 1)[1])
    assert [row["measure"] for row in rows] == list(MEASURES.values()), result.stdout
    assert all(row["ok"] in (YES, NO) for row in rows), result.stdout
    # The runs and the features must pass in a dry run too; only the GPU's speed goals may miss.
    by_measure = {row["measure"]: row for row in rows}
    for key in ("tiny-run", "quick-cell", "features-diff"):
        assert by_measure[MEASURES[key]]["ok"] == YES, result.stdout
    assert out.is_file() and f"markdown: {out}" in result.stdout
    text = out.read_text()
    assert "CPU DRY RUN" in text.splitlines()[0] and "commit " in text.splitlines()[0]
    assert parse_markdown_table(text) == rows
