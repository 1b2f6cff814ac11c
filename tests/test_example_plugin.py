"""The example third-party distribution docs/examples/ganbench-tiny-gan, installed: found
under its own distribution name, listed, and run through a suite by the runner."""

import json
from importlib import metadata

import pytest
from click.testing import CliRunner

from ganbench.cli import cli
from ganbench.results.store import ResultsStore
from test_end_to_end import invoke, statuses

DISTRIBUTION = "ganbench-tiny-gan"

try:
    metadata.distribution(DISTRIBUTION)
except metadata.PackageNotFoundError:
    pytest.skip(
        "docs/examples/ganbench-tiny-gan is not installed: pip install -e docs/examples/ganbench-tiny-gan (CI does this)",
        allow_module_level=True,
    )


def ganbench(*args):
    """The CLI as a user runs it: every installed plugin, nothing handed over."""
    outcome = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert outcome.exit_code == 0, outcome.output
    return outcome.output


def test_ganbench_plugins_lists_it_under_its_own_distribution():
    infos = {info["name"]: info for info in json.loads(ganbench("plugins", "--json"))}
    assert infos["tiny-gan"]["distribution"] == DISTRIBUTION
    assert infos["tiny-gan"]["hooks"] == ["register_gans"] and infos["tiny-gan"]["error"] is None


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
