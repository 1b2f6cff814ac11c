"""Leaderboard aggregation and rendering from hand-made result rows: statistics over
seeds, which row wins after a forced re-run, headline and detail columns, and when a
paper's number may be read against ours."""

import csv
import dataclasses
import io
import json
import os
import statistics
from pathlib import Path

import pytest

from ganbench.leaderboard.aggregate import aggregate
from ganbench.leaderboard.assets import smoothed, write_assets
from ganbench.leaderboard.comparison import comparability, orderings
from ganbench.leaderboard.render import render_markdown
from ganbench.leaderboard.summary_figure import summary_points, write_summary_figure
from ganbench.leaderboard.tables_out import to_csv, to_json
from ganbench.results.export import load_rows, write_rows
from ganbench.plugins import load_plugins
from ganbench.results.store import ResultRow, ResultsStore
from ganbench.specs import Reference


@pytest.fixture(scope="module")
def registry():
    return load_plugins().registry


def row(gan, seed, key, value, metric=None, classifier=None, run=None, family="fam", synthetic=False, fingerprint=None, classes=None):
    metric = metric or {"fid": "fid", "kid_mean": "kid", "kid_std": "kid", "ssim_nearest_real": "ssim"}.get(key, "tstr")
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
        config={} if classes is None else {"class_names": list(classes)},
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
        dataset_fingerprint=fingerprint,
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


def folded_section(markdown: str, summary: str) -> str:
    """The body of the first folded section whose summary starts with ``summary``."""
    start = markdown.index(f"<summary>{summary}")
    return markdown[start:].split("</summary>", 1)[1].split("</details>", 1)[0]


def test_headline_and_detail_columns(tmp_path, registry):
    rows = stored(tmp_path, [row("dcgan", 0, "fid", 50.0), row("dcgan", 0, "kid_mean", 0.1), row("dcgan", 0, "kid_std", 0.01)])
    markdown = render_markdown(aggregate(rows), registry)
    main = folded_section(markdown, "Every headline result key")
    detail = folded_section(markdown, "More result keys")
    assert "fid ↓" in main and "kid_mean ↓" in main and "kid_std" not in main
    assert "| kid_std " in detail and "kid_std ↓" not in detail  # a spread is not a score


def test_rendering_is_deterministic(tmp_path, registry):
    rows = stored(tmp_path, [row(g, s, "fid", 10.0 * s + len(g)) for g in ("dcgan", "vanilla-gan") for s in (0, 1)])
    first = render_markdown(aggregate(rows), registry)
    second = render_markdown(aggregate(list(reversed(rows))), registry)
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
    assert comparability(REFERENCE, table, entry) == "different data (paper: fam; here: other)"
    table, entry = table_with(tmp_path / "b", [0.9, 0.9], synthetic=True)
    assert comparability(REFERENCE, table, entry).startswith("different data: synthetic phantom")


def test_phantom_leaderboards_show_no_paper_numbers(tmp_path, registry):
    rows = stored(tmp_path, [row("dcgan", 0, "tstr_accuracy", 0.3, classifier="small-cnn", synthetic=True)])
    markdown = render_markdown(aggregate(rows), registry)
    assert "Reported in papers" not in markdown and "not shown" in markdown


def test_confidence_intervals_of_the_headline_values(tmp_path, registry):
    rows = stored(tmp_path, [row("dcgan", 0, "fid", 50.0), row("dcgan", 1, "fid", 54.0), row("vanilla-gan", 0, "fid", 70.0)])
    markdown = render_markdown(aggregate(rows, registry), registry)
    section = folded_section(markdown, "95% confidence intervals over seeds (Student's t, clipped to each key's range)")
    # Two seeds: mean 52, std 2.828, t(0.975, 1) = 12.706: 52 -+ 25.41.
    cells = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in section.splitlines() if line.startswith("| ")}
    assert cells["dcgan"] == "[26.59, 77.41]" and cells["vanilla-gan"] == "—"


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"differences": ("2 classes, not 4",)}, "different protocol: 2 classes, not 4"),
        ({"classifier": "resnet152"}, "different protocol: classifier resnet152 in the paper, small-cnn here"),
        ({"resolution": 224}, "different protocol: 224 px in the paper, 32 px here"),
    ],
)
def test_different_protocol_says_why(tmp_path, change, reason):
    table, entry = table_with(tmp_path, [0.9, 0.91])
    assert comparability(dataclasses.replace(REFERENCE, **change), table, entry) == reason


def ranking_refs(values: dict, **fields) -> list[Reference]:
    return [
        Reference(paper="p", table="T", gan=gan, metric="fid", value=v, dataset_family="fam", protocol="x", **fields)
        for gan, v in values.items()
    ]


def fid_table(tmp_path, means: dict, spread: float = 0.1):
    rows = [row(g, s, "fid", m + (spread if s else -spread)) for g, m in means.items() for s in (0, 1, 2)]
    (table,) = aggregate(stored(tmp_path, rows))
    return table


def direction(key):
    return {"fid": "lower"}.get(key)


def test_rankings_same_and_different_order(tmp_path):
    table = fid_table(tmp_path, {"dcgan": 50.0, "vanilla-gan": 80.0})
    # FID: lower is better, so the paper ranks dcgan first, as we do.
    (same,) = orderings(table, ranking_refs({"dcgan": 40.0, "vanilla-gan": 60.0, "tumorgan": 10.0}), direction)
    assert same.reported == same.measured == ("dcgan", "vanilla-gan") and same.verdict == "same order"
    (other,) = orderings(table, ranking_refs({"dcgan": 70.0, "vanilla-gan": 60.0}), direction)
    assert other.reported == ("vanilla-gan", "dcgan") and other.verdict == "different order"
    close = fid_table(tmp_path / "close", {"dcgan": 50.0, "vanilla-gan": 50.05}, spread=1.0)
    (undecided,) = orderings(close, ranking_refs({"dcgan": 70.0, "vanilla-gan": 60.0}), direction)
    assert undecided.verdict == "different order (our 95% intervals overlap: undecided)"


def test_rankings_split_by_setting_and_skip_repeated_gans(tmp_path):
    table = fid_table(tmp_path, {"dcgan": 50.0, "vanilla-gan": 80.0})
    by_setting = ranking_refs({"dcgan": 1.0, "vanilla-gan": 2.0}, samples="10k") + ranking_refs(
        {"dcgan": 3.0, "vanilla-gan": 2.0}, samples="30k"
    )
    assert [o.context for o in orderings(table, by_setting, direction)] == ["10k", "30k"]
    per_class = ranking_refs({"dcgan": 1.0}, row="glioma") + ranking_refs({"dcgan": 2.0, "vanilla-gan": 3.0}, row="pituitary")
    assert orderings(table, per_class, direction) == []


def test_csv_and_json_formats(tmp_path, registry):
    rows = stored(tmp_path, [row("dcgan", s, "fid", v) for s, v in enumerate([10.0, 12.0, 17.0])])
    tables = aggregate(rows)
    records = list(csv.DictReader(io.StringIO(to_csv(tables))))
    assert [r["key"] for r in records] == ["fid"]
    assert float(records[0]["mean"]) == pytest.approx(13.0) and records[0]["seeds"] == "0 1 2"
    assert float(records[0]["ci95_high"]) - 13.0 == pytest.approx(tables[0].entry("dcgan", "fid").ci95)
    data = json.loads(to_json(tables, registry))
    (entry,) = data["tables"][0]["entries"]
    assert entry["n_seeds"] == 3 and entry["n_real"] == [40] and entry["status"] == "ok"


def test_an_exported_results_file_renders_the_same_markdown(tmp_path, registry):
    rows = stored(tmp_path, [row(g, s, "fid", 10.0 * s + len(g)) for g in ("dcgan", "cyclegan") for s in (0, 1)])
    write_rows(rows, tmp_path / "rows.jsonl")
    again = load_rows(tmp_path / "rows.jsonl", "s")
    assert again == rows
    assert render_markdown(aggregate(again), registry, "assets") == render_markdown(aggregate(rows), registry, "assets")
    assert "[samples](assets/d-smoke-dcgan-samples.png)" in render_markdown(aggregate(again), registry, "assets")


GOLDEN = Path(__file__).parent / "golden"


def test_golden_leaderboard(registry):
    """A fixed set of rows renders to the committed markdown byte for byte
    (GANBENCH_UPDATE_GOLDEN=1 rewrites it after an intended change)."""
    rows = load_rows(GOLDEN / "leaderboard-rows.jsonl")
    markdown = render_markdown(aggregate(rows, registry), registry, "leaderboard")
    expected = GOLDEN / "leaderboard.md"
    if os.environ.get("GANBENCH_UPDATE_GOLDEN"):
        expected.write_text(markdown)
    assert markdown == expected.read_text()


def test_loss_curves_and_sample_grids_are_written(tmp_path):
    rows = stored(tmp_path, [row("dcgan", 1, "fid", 5.0), row("dcgan", 0, "fid", 6.0)])
    (table,) = aggregate(rows)
    artifacts = tmp_path / "artifacts" / "dcgan" / "0"  # the lowest seed's
    artifacts.mkdir(parents=True)
    history = {c: [{"step": i, "d_loss": 1.0 / (i + 1), "g_loss": 0.5} for i in range(60)] for c in ("glioma", "no_tumor")}
    (artifacts / "losses.json").write_text(json.dumps(history))
    (artifacts / "samples.png").write_bytes(b"grid")  # not an image: copied, but no strip is cut from it
    written = write_assets([table], tmp_path, tmp_path / "out")
    assert sorted(p.name for p in written) == ["d-smoke-dcgan-losses.png", "d-smoke-dcgan-samples.png"]
    assert (tmp_path / "out" / "d-smoke-dcgan-samples.png").read_bytes() == b"grid"
    first = (tmp_path / "out" / "d-smoke-dcgan-losses.png").read_bytes()
    assert first.startswith(b"\x89PNG")
    write_assets([table], tmp_path, tmp_path / "out")
    assert (tmp_path / "out" / "d-smoke-dcgan-losses.png").read_bytes() == first


def test_moving_mean():
    assert smoothed([2.0, 4.0, 6.0, 8.0], window=2) == [2.0, 3.0, 5.0, 7.0]


def test_one_ranking_per_classifier_of_ours_and_papers_classifiers_merged(tmp_path):
    values = {("dcgan", "small-cnn"): 0.6, ("vanilla-gan", "small-cnn"): 0.4, ("dcgan", "ijacsa-cnn"): 0.3, ("vanilla-gan", "ijacsa-cnn"): 0.5}
    rows = [
        row(gan, s, "tstr_accuracy", v + 0.01 * s, classifier=c) for (gan, c), v in values.items() for s in (0, 1, 2)
    ]
    (table,) = aggregate(stored(tmp_path, rows))
    refs = [
        Reference(paper="p", table="T", gan=g, metric="tstr_accuracy", value=v, dataset_family="fam", protocol="x", classifier=c)
        for c in ("braingan-cnn", "resnet152")
        for g, v in (("dcgan", 0.97), ("vanilla-gan", 0.95))
    ]
    found = orderings(table, refs, lambda key: "higher")
    assert [(o.classifier_here, o.measured, o.classifiers) for o in found] == [
        ("ijacsa-cnn", ("vanilla-gan", "dcgan"), ("braingan-cnn", "resnet152")),
        ("small-cnn", ("dcgan", "vanilla-gan"), ("braingan-cnn", "resnet152")),
    ]
    assert [o.verdict for o in found] == ["different order", "same order"]


# --------------------------------------------------------------------------- what is comparable

TWO = ("no_tumor", "tumor")
FOUR = ("glioma", "meningioma", "no_tumor", "pituitary")


def test_tables_never_mix_data_fingerprints_or_class_sets(tmp_path, registry):
    """A 2-class TSTR accuracy of 0.625 and a 4-class 0.25 never share a table, a mean or a
    ranking, whether the fingerprint or only the recorded class set tells them apart."""
    rows = stored(tmp_path, [
        row("dcgan", 0, "tstr_accuracy", 0.625, classifier="small-cnn", fingerprint="fp2", classes=TWO),
        row("dcgan", 1, "tstr_accuracy", 0.25, classifier="small-cnn", fingerprint="fp4", classes=FOUR),
        row("vanilla-gan", 0, "tstr_accuracy", 0.3, classifier="small-cnn", fingerprint="fp4", classes=FOUR),
        row("vanilla-gan", 1, "tstr_accuracy", 0.6, classifier="small-cnn", fingerprint="fp4", classes=TWO),
    ])
    tables = aggregate(rows, registry)
    assert [(t.group.fingerprint, t.group.classes) for t in tables] == [("fp2", TWO), ("fp4", FOUR), ("fp4", TWO)]
    assert [{gan: t.entry(gan, "tstr_accuracy", "small-cnn").values for gan in t.gans()} for t in tables] == [
        {"dcgan": [0.625]}, {"dcgan": [0.25], "vanilla-gan": [0.3]}, {"vanilla-gan": [0.6]},
    ]
    refs = [
        Reference(paper="p", table="T", gan=g, metric="tstr_accuracy", value=v, dataset_family="fam", protocol="x")
        for g, v in (("dcgan", 0.9), ("vanilla-gan", 0.8))
    ]
    assert [o.measured for t in tables for o in orderings(t, refs, lambda key: "higher")] == [("vanilla-gan", "dcgan")]
    markdown = render_markdown(tables, registry, "assets")
    headings = [line for line in markdown.splitlines() if line.startswith("## d ")]
    assert headings == [
        "## d (dataset family `fam`), profile `smoke`, data `fp2`, 2 classes",
        "## d (dataset family `fam`), profile `smoke`, data `fp4`, 4 classes",
        "## d (dataset family `fam`), profile `smoke`, data `fp4`, 2 classes",
    ]
    assert "Data: fingerprint `fp4`; 4 classes (glioma, meningioma, no_tumor, pituitary); 32 px, 1 channel." in markdown
    # Each table's pictures have names of their own.
    links = {line.split("](assets/")[1].split(")")[0] for line in markdown.splitlines() if "[samples](assets/" in line}
    assert len(links) == 4
    records = list(csv.DictReader(io.StringIO(to_csv(tables))))
    assert [(r["dataset_fingerprint"], r["classes"], r["mean"]) for r in records if r["gan"] == "dcgan"] == [
        ("fp2", "no_tumor; tumor", "0.625"), ("fp4", "glioma; meningioma; no_tumor; pituitary", "0.25"),
    ]


def test_rows_without_recorded_classes_still_split_by_fingerprint(tmp_path, registry):
    rows = stored(tmp_path, [row("dcgan", 0, "fid", 50.0, fingerprint="a"), row("dcgan", 1, "fid", 90.0, fingerprint="b")])
    tables = aggregate(rows, registry)
    assert [t.entry("dcgan", "fid").values for t in tables] == [[50.0], [90.0]]
    assert "class names not recorded" in render_markdown(tables, registry)


# --------------------------------------------------------------------------- bounded intervals


def interval_cells(markdown: str) -> dict[str, list[str]]:
    section = folded_section(markdown, "95% confidence intervals over seeds")
    return {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in section.splitlines() if line.startswith("| ") and "GAN" not in line}


def test_intervals_of_bounded_scores_stay_in_their_range(tmp_path, registry):
    rows = stored(tmp_path, [
        # Accuracy 0.2 and 0.9: mean -+ 12.7 * 0.495 / sqrt 2 is [-3.9, 5.0] unclipped.
        row("dcgan", 0, "tstr_accuracy", 0.2, classifier="small-cnn"), row("dcgan", 1, "tstr_accuracy", 0.9, classifier="small-cnn"),
        row("dcgan", 0, "fid", 5.0), row("dcgan", 1, "fid", 80.0),
        # KID's unbiased estimate may be negative: no lower bound to clip to.
        row("dcgan", 0, "kid_mean", -0.01), row("dcgan", 1, "kid_mean", 0.05),
    ])
    tables = aggregate(rows, registry)
    accuracy = tables[0].entry("dcgan", "tstr_accuracy", "small-cnn")
    assert accuracy.bounds == (0.0, 1.0) and accuracy.interval == (0.0, 1.0)
    assert accuracy.mean - accuracy.ci95 < -3  # what was shown before
    assert tables[0].entry("dcgan", "fid").interval[0] == 0.0
    kid = tables[0].entry("dcgan", "kid_mean")
    assert kid.interval == pytest.approx((kid.mean - kid.ci95, kid.mean + kid.ci95))
    markdown = render_markdown(tables, registry)
    accuracy_cell, fid, kid_cell = interval_cells(markdown)["dcgan"]
    assert accuracy_cell == "[0, 1]" and fid.startswith("[0, ") and kid_cell.startswith("[-")
    assert "clipped to the range of values the metric declares for the result key" in markdown.split("## Statistics")[1]
    (record,) = [r for r in csv.DictReader(io.StringIO(to_csv(tables))) if r["key"] == "tstr_accuracy"]
    assert (record["ci95_low"], record["ci95_high"]) == ("0.0", "1.0")


def test_every_declared_range_belongs_to_a_result_key(registry):
    for metric, _ in registry.items("metrics"):
        assert set(metric.value_ranges) <= set(metric.result_keys) | set(metric.per_class_keys), metric.name
        for low, high in metric.value_ranges.values():
            assert low < high
    ranges = {key: metric.range_of(key) for metric, _ in registry.items("metrics") for key in metric.result_keys}
    assert ranges["tstr_accuracy"] == ranges["precision"] == ranges["ms_ssim_diversity"] == (0.0, 1.0)
    assert ranges["ssim_nearest_real"] == (-1.0, 1.0) and ranges["fid"] == ranges["psnr_nearest_real"] == (0.0, float("inf"))


def test_a_value_outside_its_declared_range_is_excluded(tmp_path, registry):
    rows = stored(tmp_path, [row("dcgan", 0, "tstr_accuracy", 0.5, classifier="small-cnn"), row("dcgan", 1, "tstr_accuracy", 1.5, classifier="small-cnn")])
    (table,) = aggregate(rows, registry)
    entry = table.entry("dcgan", "tstr_accuracy", "small-cnn")
    assert entry.values == [0.5] and entry.excluded == ["value 1.5 is outside the range [0, 1] its metric declares"]
    assert "0.5 (1 excluded)" in render_markdown([table], registry)


# --------------------------------------------------------------------------- headline, strip, figure, folding


def headline_rows(gans=("dcgan", "vanilla-gan"), seeds=(0, 1)) -> list:
    """A brain-mri-like set of keys: more than a headline can hold."""
    keys = [
        ("tstr_accuracy", "tstr", "ijacsa-cnn"), ("fid", "fid", None), ("kid_mean", "kid", None),
        ("precision", "precision-recall", None), ("ssim_nearest_real", "ssim", None), ("psnr_nearest_real", "psnr", None),
        ("tstr_accuracy", "tstr", "small-cnn"), ("trtr_accuracy", "trtr", "small-cnn"), ("trstr_accuracy", "trstr", "small-cnn"),
        ("ms_ssim_diversity", "diversity-ms-ssim", None), ("memorization_pixels", "memorization", None),
        ("ssim_nearest_real[glioma]", "ssim", None),
    ]
    return [
        row(gan, seed, key, 0.1 + 0.1 * g + 0.01 * seed, metric=metric, classifier=classifier)
        for g, gan in enumerate(gans) for seed in seeds for key, metric, classifier in keys
    ]


def headline_of(markdown: str) -> list[list[str]]:
    """The first table of the first leaderboard table: header and body cells."""
    section = markdown.split("\n## ", 2)[1]
    lines = [line for line in section.split("<details>")[0].splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.split("|")[1:-1]] for line in lines if not line.startswith("|--")]


def test_the_headline_answers_each_question_once_in_at_most_eight_columns(tmp_path, registry):
    rows = [dict(r, suite="brain-mri") for r in stored(tmp_path, headline_rows())]
    markdown = render_markdown(aggregate(rows, registry), registry)
    header, *body = headline_of(markdown)
    assert len(header) <= 8
    # ijacsa-cnn's rows come first, but brain-mri lists small-cnn first among its classifiers.
    assert header == [
        "GAN", "fid ↓", "ssim_nearest_real ↑", "tstr_accuracy (small-cnn) ↑", "ms_ssim_diversity",
        "memorization_pixels ↓", "seeds", "n_real / n_fake",
    ]
    # Mean [95% interval over seeds], three significant digits: fid 0.1, 0.11 -> 0.105 -+ 12.7 * 0.00707.
    assert body[0] == ["dcgan", "0.105 [0.0415, 0.169]"] + ["0.105 [0.0415, 0.169]"] * 4 + ["2", "40 / 20"]
    assert "ssim_nearest_real[glioma]" not in header


def without(rows, *keys):
    return [r for r in rows if r["key"] not in keys]


@pytest.mark.parametrize(
    "drop, expected",
    [
        # No FID: the first headline key of a distribution metric; no SSIM: the first paired one.
        (("fid", "ssim_nearest_real"), ["kid_mean ↓", "psnr_nearest_real ↑"]),
        # No diversity or memorisation metric: their columns are left out.
        (("ms_ssim_diversity", "memorization_pixels"), ["fid ↓", "ssim_nearest_real ↑", "tstr_accuracy (ijacsa-cnn) ↑"]),
        # No TSTR: the train-on-real-and-synthetic score stands in; never TRTR, a real-data baseline.
        (("tstr_accuracy",), ["fid ↓", "ssim_nearest_real ↑", "trstr_accuracy (small-cnn) ↑", "ms_ssim_diversity"]),
        (("tstr_accuracy", "trstr_accuracy"), ["fid ↓", "ssim_nearest_real ↑", "ms_ssim_diversity"]),
        (("fid", "kid_mean", "precision", "ssim_nearest_real", "psnr_nearest_real", "tstr_accuracy", "trtr_accuracy",
          "trstr_accuracy", "ms_ssim_diversity", "memorization_pixels"), []),
    ],
    ids=["no-fid-no-ssim", "no-diversity-no-memorisation", "no-tstr", "no-tstr-no-trstr", "per-class-only"],
)
def test_headline_columns_fall_back_when_a_suite_lacks_a_metric(tmp_path, registry, drop, expected):
    markdown = render_markdown(aggregate(without(stored(tmp_path, headline_rows()), *drop), registry), registry)
    header = headline_of(markdown)[0]
    assert header[0] == "GAN" and header[-2:] == ["seeds", "n_real / n_fake"]
    assert header[1:-2][: len(expected)] == expected
    if not expected:  # a per-class key never stands in for a question
        assert header == ["GAN", "seeds", "n_real / n_fake"]


def test_a_key_without_any_value_gives_way_to_one_with_values(tmp_path, registry):
    """FID unavailable everywhere (no Inception weights): KID answers the distance question;
    when nothing has a value, the first candidate shows why."""
    rows = stored(tmp_path, [row("dcgan", 0, "fid", 1.0), row("dcgan", 0, "kid_mean", 0.2)])
    rows = [dict(r, status="unavailable", value=None, error="no weights") if r["key"] == "fid" else r for r in rows]
    assert headline_of(render_markdown(aggregate(rows, registry), registry)) == [
        ["GAN", "kid_mean ↓", "seeds", "n_real / n_fake"], ["dcgan", "0.2", "1", "40 / 20"],
    ]
    only_fid = [r for r in rows if r["key"] == "fid"]
    assert headline_of(render_markdown(aggregate(only_fid, registry), registry))[1][:2] == ["dcgan", "unavailable"]


def test_everything_but_the_headline_and_pictures_is_folded(tmp_path, registry):
    rows = stored(tmp_path, headline_rows() + [row("dcgan", 0, "tstr_best_val_accuracy", 0.5, classifier="braingan-cnn")])
    markdown = render_markdown(aggregate(rows, registry), registry, "assets")
    lines = markdown.splitlines()
    first = lines.index("<details>")
    # Above the first fold: the headline table, the strip and the figure, nothing more.
    tables_above = [line for line in lines[:first] if line.startswith("|--")]
    assert len(tables_above) == 1
    assert [line for line in lines[:first] if line.startswith("![")] == [
        # These rows record no class names: the caption says the columns are class indices.
        "![Samples of dcgan, vanilla-gan: one row per GAN, columns by class index (names not recorded), the lowest seed](assets/d-smoke-strip.png)",
        "![fid against tstr_accuracy (ijacsa-cnn), one point per GAN with its 95% intervals](assets/d-smoke-summary.png)",
    ]
    # The title, one short line, the table's heading, then its headline table.
    assert lines[0].startswith("# ") and lines[1] == "" and len(lines[2]) < 250 and lines[4].startswith("## ")
    assert lines[6].startswith("| GAN ")
    assert "## How to read these tables" in markdown
    assert lines.count("<details>") == lines.count("</details>") >= 6
    for i, line in enumerate(lines):
        if line == "<details>":
            # GitHub renders markdown (tables) inside a fold only after a blank line.
            assert lines[i + 1].startswith("<summary>") and lines[i + 1].endswith("</summary>") and lines[i + 2] == ""
            assert lines.index("</details>", i) < (lines.index("<details>", i + 1) if "<details>" in lines[i + 1:] else len(lines))
    summaries = [line for line in lines if line.startswith("<summary>")]
    assert "<summary>Per-class result keys</summary>" in summaries and "<summary>More result keys</summary>" in summaries
    per_class = folded_section(markdown, "Per-class result keys")
    assert "| GAN         | class   | ssim_nearest_real ↑   |" in per_class and "| dcgan       | glioma  |" in per_class
    assert "[glioma]" not in folded_section(markdown, "More result keys")
    assert "## Provenance" in markdown and "- Packages: torch 0" in folded_section(markdown, "Packages, plugins")


def test_the_summary_figure_has_one_point_per_gan(tmp_path, registry):
    rows = stored(tmp_path, headline_rows(gans=("dcgan", "sn-gan", "vanilla-gan")))
    (table,) = aggregate(rows, registry)
    written = write_assets([table], None, tmp_path / "out", registry)
    assert [p.name for p in written] == ["d-smoke-summary.png"]
    drawn = write_summary_figure(table, registry, tmp_path / "again.png")
    assert (tmp_path / "again.png").read_bytes() == written[0].read_bytes()  # same rows, same bytes
    fid = {gan: table.entry(gan, "fid").mean for gan in table.gans()}
    tstr = {gan: table.entry(gan, "tstr_accuracy", "ijacsa-cnn").mean for gan in table.gans()}
    assert drawn == [(gan, pytest.approx(fid[gan]), pytest.approx(tstr[gan])) for gan in ("dcgan", "sn-gan", "vanilla-gan")]
    assert [p.gan for p in summary_points(table, registry)] == ["dcgan", "sn-gan", "vanilla-gan"]


def test_no_figure_where_it_compares_nothing(tmp_path, registry):
    one_gan = aggregate(stored(tmp_path / "one", headline_rows(gans=("dcgan",))), registry)
    no_downstream = aggregate(without(stored(tmp_path / "two", headline_rows()), "tstr_accuracy", "trstr_accuracy"), registry)
    for tables in (one_gan, no_downstream):
        assert write_assets(tables, None, tmp_path / "out", registry) == []
        assert "-summary.png" not in render_markdown(tables, registry, "assets")
    assert not (tmp_path / "out").exists()  # nothing to draw: no empty folder either


def test_the_strip_is_cut_from_the_grids_and_redrawn_from_copies(tmp_path, registry):
    """From a results directory the strip is cut from each cell's grid; rendered again
    from an export, from the grids the first rendering copied beside the markdown."""
    import numpy as np
    import torch
    from PIL import Image

    from ganbench.runner.cell import save_sample_grid
    from ganbench.specs import ImageSplit

    rows = stored(tmp_path, headline_rows())
    for gan in ("dcgan", "vanilla-gan"):
        folder = tmp_path / "artifacts" / gan / "0"
        folder.mkdir(parents=True)
        images = torch.full((4, 1, 32, 32), 60 if gan == "dcgan" else 200, dtype=torch.uint8)
        save_sample_grid(ImageSplit(images, torch.tensor([0, 0, 1, 1])), folder / "samples.png")
    tables = aggregate(rows, registry)
    out = tmp_path / "board"
    names = sorted(p.name for p in write_assets(tables, tmp_path, out, registry))
    assert names == ["d-smoke-dcgan-samples.png", "d-smoke-strip.png", "d-smoke-summary.png", "d-smoke-vanilla-gan-samples.png"]
    strip = np.asarray(Image.open(out / "d-smoke-strip.png").convert("L"))
    assert strip.shape[0] >= 2 * 96 and (strip == 60).sum() >= 4 * 96 * 96 and (strip == 200).sum() >= 4 * 96 * 96
    first = (out / "d-smoke-strip.png").read_bytes()
    (out / "d-smoke-strip.png").unlink()
    assert [p.name for p in write_assets(tables, None, out, registry)] == ["d-smoke-strip.png", "d-smoke-summary.png"]
    assert (out / "d-smoke-strip.png").read_bytes() == first


# --------------------------------------------------------------------------- missing data renders, and says so


def test_a_gan_without_samples_is_named_under_the_strip(tmp_path, registry):
    """A GAN whose every cell failed has no grid: the strip shows the others, the line
    under it names the one left out, and the failure is listed."""
    rows = stored(tmp_path, headline_rows() + [row("cdcgan", 0, "fid", 1.0)])
    rows = [dict(r, status="failed", key=None, value=None, error="RuntimeError: diverged") if r["gan"] == "cdcgan" else r for r in rows]
    lines = render_markdown(aggregate(rows, registry), registry, "assets").splitlines()
    strip = next(i for i, line in enumerate(lines) if line.startswith("![Samples of "))
    assert lines[strip].startswith("![Samples of dcgan, vanilla-gan: ")
    assert lines[strip + 2] == "No samples of cdcgan: no cell of it finished."
    assert "Failed: cdcgan seed 0: RuntimeError: diverged" in lines
    assert not any("No samples of" in line for line in render_markdown(aggregate(rows, registry), registry).splitlines())


def test_one_seed_shows_the_mean_alone_and_no_figure_intervals(tmp_path, registry):
    rows = stored(tmp_path, headline_rows(seeds=(0,)))
    header, *body = headline_of(render_markdown(aggregate(rows, registry), registry))
    # No interval from one value: the mean alone, and the seed count says why.
    assert body[0] == ["dcgan", "0.1", "0.1", "0.1", "0.1", "0.1", "1", "40 / 20"]
    (table,) = aggregate(rows, registry)
    points = summary_points(table, registry)
    assert [p.gan for p in points] == ["dcgan", "vanilla-gan"] and all(p.x_interval is None and p.y_interval is None for p in points)
    drawn = write_summary_figure(table, registry, tmp_path / "one-seed.png")
    assert [name for name, _, _ in drawn] == ["dcgan", "vanilla-gan"]


def test_a_metric_missing_for_one_gan_shows_a_dash(tmp_path, registry):
    rows = [r for r in stored(tmp_path, headline_rows()) if not (r["gan"] == "vanilla-gan" and r["key"] == "ms_ssim_diversity")]
    header, *body = headline_of(render_markdown(aggregate(rows, registry), registry))
    column = header.index("ms_ssim_diversity")
    assert [cells[column] for cells in body] == ["0.105 [0.0415, 0.169]", "—"]


def test_recorded_class_names_label_the_strip_caption(tmp_path, registry):
    rows = stored(tmp_path, [row(gan, 0, "fid", 1.0, classes=("glioma", "no_tumor")) for gan in ("dcgan", "wgan")])
    markdown = render_markdown(aggregate(rows, registry), registry, "assets")
    assert "![Samples of dcgan, wgan: one row per GAN, columns by class, the lowest seed](assets/d-smoke-strip.png)" in markdown
