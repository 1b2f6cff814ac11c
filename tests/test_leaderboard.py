"""Leaderboard aggregation and rendering from hand-made result rows: statistics over
seeds, which row wins after a forced re-run, headline and detail columns, and when a
paper's number may be read against ours."""

import statistics
from pathlib import Path

import pytest

from ganbench.leaderboard.aggregate import aggregate
from ganbench.leaderboard.render import comparability, render_markdown
from ganbench.plugins import load_plugins
from ganbench.results.store import ResultRow, ResultsStore
from ganbench.specs import Reference


@pytest.fixture(scope="module")
def registry():
    return load_plugins().registry


def row(gan, seed, key, value, metric=None, classifier=None, run=None, family="fam", synthetic=False):
    metric = metric or {"fid": "fid", "kid_mean": "kid", "kid_std": "kid"}.get(key, "tstr")
    return ResultRow(
        run_id=run or f"{gan}-{seed}",
        suite="s",
        cell_key=f"s/d/{gan}/seed-{seed}/smoke",
        gan=gan,
        dataset="d",
        seed=seed,
        profile="smoke",
        config_hash="h",
        status="ok",
        config={},
        plugins={"gans/x": {"plugin": "p", "distribution": "ganbench", "version": "0"}},
        packages={"torch": "0"},
        metric=metric,
        key=key,
        classifier=classifier,
        value=value,
        n_real=40,
        n_fake=20,
        resolution=32,
        channels=1,
        device="cpu",
        dataset_family=family,
        dataset_synthetic=synthetic,
        artifacts_dir=f"artifacts/{gan}/{seed}",
        created_at="2026-01-02T00:00:00+00:00",
    )


def stored(tmp_path: Path, rows) -> list[dict]:
    store = ResultsStore(tmp_path)
    store.append(rows)
    return store.rows("s")


def test_mean_std_and_ci_over_seeds(tmp_path):
    values = [10.0, 12.0, 17.0]
    (table,) = aggregate(stored(tmp_path, [row("dcgan", s, "fid", v) for s, v in enumerate(values)]))
    entry = table.entry("dcgan", "fid")
    assert entry.mean == pytest.approx(13.0)
    assert entry.std == pytest.approx(statistics.stdev(values))
    # Student's t, 2 degrees of freedom: t(0.975) = 4.3027 (printed tables).
    assert entry.ci95 == pytest.approx(4.3027 * statistics.stdev(values) / 3**0.5, rel=1e-4)
    assert entry.seeds == [0, 1, 2]


def test_a_forced_rerun_supersedes_in_the_leaderboard_only(tmp_path):
    rows = stored(tmp_path, [row("dcgan", 0, "fid", 50.0, run="old"), row("dcgan", 0, "fid", 40.0, run="new")])
    assert len(rows) == 2
    (table,) = aggregate(rows)
    assert table.entry("dcgan", "fid").values == [40.0]


def test_headline_and_detail_columns(tmp_path, registry):
    rows = stored(tmp_path, [row("dcgan", 0, "fid", 50.0), row("dcgan", 0, "kid_mean", 0.1), row("dcgan", 0, "kid_std", 0.01)])
    markdown = render_markdown(aggregate(rows), registry, link_base=tmp_path, results_dir=tmp_path)
    main, detail = markdown.split("### More result keys")
    assert "fid ↓" in main and "kid_mean ↓" in main and "kid_std" not in main
    assert "| kid_std " in detail and "kid_std ↓" not in detail  # a spread is not a score


def test_rendering_is_deterministic(tmp_path, registry):
    rows = stored(tmp_path, [row(g, s, "fid", 10.0 * s + len(g)) for g in ("dcgan", "vanilla-gan") for s in (0, 1)])
    first = render_markdown(aggregate(rows), registry, link_base=tmp_path, results_dir=tmp_path)
    second = render_markdown(aggregate(list(reversed(rows))), registry, link_base=tmp_path, results_dir=tmp_path)
    assert first == second
    assert "| dcgan " in first and "2026-01-02" in first


REFERENCE = Reference(
    paper="p", table="T", gan="dcgan", metric="tstr_accuracy", value=0.9, dataset_family="fam",
    protocol="x", classifier="small-cnn", resolution=32,
)


def table_with(tmp_path, values, **kwargs):
    rows = [row("dcgan", s, "tstr_accuracy", v, classifier="small-cnn", **kwargs) for s, v in enumerate(values)]
    (table,) = aggregate(stored(tmp_path, rows))
    return table, table.entry("dcgan", "tstr_accuracy", "small-cnn")


@pytest.mark.parametrize(
    "values, verdict",
    [
        ([0.88, 0.92, 0.90], "comparable: reported value inside our 95% CI"),
        ([0.70, 0.72, 0.71], "comparable: reported value above our 95% CI"),
        ([0.97, 0.99, 0.98], "comparable: reported value below our 95% CI"),
        ([0.5], "comparable (one seed: no interval)"),
    ],
)
def test_comparability_against_the_ci(tmp_path, values, verdict):
    table, entry = table_with(tmp_path, values)
    assert comparability(REFERENCE, table, entry) == verdict


def test_not_comparable_on_other_data_or_a_phantom(tmp_path):
    table, entry = table_with(tmp_path / "a", [0.9, 0.9], family="other")
    assert comparability(REFERENCE, table, entry).startswith("not comparable: different data")
    table, entry = table_with(tmp_path / "b", [0.9, 0.9], synthetic=True)
    assert comparability(REFERENCE, table, entry).startswith("not comparable: synthetic phantom")


def test_phantom_leaderboards_show_no_paper_numbers(tmp_path, registry):
    rows = stored(tmp_path, [row("dcgan", 0, "tstr_accuracy", 0.3, classifier="small-cnn", synthetic=True)])
    markdown = render_markdown(aggregate(rows), registry, link_base=tmp_path, results_dir=tmp_path)
    assert "Reported in papers" not in markdown and "not shown" in markdown


def test_confidence_intervals_of_the_headline_values(tmp_path, registry):
    rows = stored(tmp_path, [row("dcgan", 0, "fid", 50.0), row("dcgan", 1, "fid", 54.0), row("vanilla-gan", 0, "fid", 70.0)])
    markdown = render_markdown(aggregate(rows), registry, link_base=tmp_path, results_dir=tmp_path)
    section = markdown.split("### 95% confidence intervals over seeds (Student's t)")[1]
    # Two seeds: mean 52, std 2.828, t(0.975, 1) = 12.706: 52 -+ 25.41.
    cells = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in section.splitlines() if line.startswith("| ")}
    assert cells["dcgan"] == "[26.59, 77.41]" and cells["vanilla-gan"] == "—"
