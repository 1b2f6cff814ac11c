"""The example third-party distribution docs/examples/ganbench-tiny-gan, installed: found
under its own distribution name, listed, run through a suite by the runner, its dataset
reader inspected by `ganbench data inspect`, and its own tests passing."""

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganbench.cli import cli
from ganbench.results.store import ResultsStore
from test_end_to_end import invoke

DISTRIBUTION = "ganbench-tiny-gan"
EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "ganbench-tiny-gan"

try:
    metadata.distribution(DISTRIBUTION)
except metadata.PackageNotFoundError:
    pytest.skip(
        "docs/examples/ganbench-tiny-gan is not installed: pip install -e docs/examples/ganbench-tiny-gan (CI does this)",
        allow_module_level=True,
    )


def ganbench(*args):
    """The CLI as a user runs it: every installed plugin, nothing handed over. Returns
    what it wrote to stdout (progress goes to stderr, and `--json` output must parse)."""
    outcome = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert outcome.exit_code == 0, outcome.output
    return outcome.stdout


def statuses(output: str) -> list[str]:
    """The per-cell status words the run command prints, in order (a line may start
    with a timestamp: output that is not a terminal is a log)."""
    return re.findall(r"^(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d )?\s*(ran|skipped|failed) \S+/seed-", output, flags=re.M)


def test_ganbench_plugins_lists_it_under_its_own_distribution():
    infos = {info["name"]: info for info in json.loads(ganbench("plugins", "--json"))}
    assert infos["tiny-gan"]["distribution"] == DISTRIBUTION
    assert infos["tiny-gan"]["hooks"] == ["register_gans"] and infos["tiny-gan"]["error"] is None
    assert infos["tiny-folder"]["distribution"] == DISTRIBUTION
    assert infos["tiny-folder"]["hooks"] == ["register_datasets"] and infos["tiny-folder"]["error"] is None


def test_ganbench_list_gans_shows_it():
    assert "tiny-gan" in ganbench("list", "gans")
    listed = {record["name"]: record for record in json.loads(ganbench("list", "gans", "--json"))}
    assert DISTRIBUTION in listed["tiny-gan"]["plugin"]


def test_its_gan_runs_through_a_suite(tmp_path):
    outcome = invoke("run", "--suite", "tiny-cheap", "--gans", "tiny-gan", "--results", str(tmp_path), "--device", "cpu")
    assert outcome.exit_code == 0 and statuses(outcome.output) == ["ran"], outcome.output
    rows = ResultsStore(tmp_path).rows("tiny-cheap")
    # One PSNR over all samples, and one per class (tiny-gan is trained once per class).
    assert {(r["gan"], r["key"], r["status"]) for r in rows} == {("tiny-gan", "psnr_nearest_real", "ok")} | {
        ("tiny-gan", f"psnr_nearest_real[{name}]", "ok") for name in json.loads(rows[0]["config_json"])["class_names"]
    }
    provenance = json.loads(rows[0]["plugins_json"])["gans/tiny-gan"]
    assert provenance == {"plugin": "tiny-gan", "distribution": DISTRIBUTION, "version": metadata.version(DISTRIBUTION)}


def test_its_reader_without_an_inspect_of_its_own_is_inspected(tmp_path):
    """tiny-folder implements only load(): `ganbench data inspect` reports what it loads."""
    from PIL import Image

    for cls in ("no_tumor", "tumor"):
        for patient in range(3):
            folder = tmp_path / cls / f"p{cls[0]}{patient}"
            folder.mkdir(parents=True)
            for n in range(2):
                Image.new("L", (20, 24), 40 * patient + 10 * n + (100 if cls == "tumor" else 0)).save(folder / f"{n}.png")
    (tmp_path / "tumor" / "pt0" / "copy.png").write_bytes((tmp_path / "tumor" / "pt1" / "0.png").read_bytes())
    report = json.loads(ganbench("data", "inspect", str(tmp_path), "--dataset", "tiny-folder", "--json"))
    assert report["dataset"] == "tiny-folder" and report["class_names"] == ["no_tumor", "tumor"]
    assert sum(report["counts"]["train"].values()) + sum(report["counts"]["test"].values()) == 13
    assert report["patients"] == {"train": 4, "test": 2}
    assert "has no inspect of its own" in report["notes"][0]
    assert report["duplicates"].startswith(("0 of", "1 of"))


def test_the_example_distributions_own_tests_pass():
    """Its tests (tests/ of the example), run as its author runs them: from its folder."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=EXAMPLE, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout
