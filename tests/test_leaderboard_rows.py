"""Whatever a stored or imported row holds, the leaderboard renders: a row that cannot be
counted is excluded with its reason, never averaged and never a traceback; a .jsonl
export that lacks fields stops with one line naming the file, the line and the fields."""

import json
import math
from pathlib import Path

import pytest

from ganbench.cli import main
from ganbench.errors import GanbenchError
from ganbench.leaderboard.aggregate import aggregate
from ganbench.leaderboard.render import render_markdown
from ganbench.leaderboard.tables_out import to_csv, to_json
from ganbench.plugins import load_plugins
from ganbench.results.export import load_rows, write_rows
from ganbench.results.store import ResultsStore

from test_leaderboard import row, stored


@pytest.fixture(scope="module")
def registry():
    return load_plugins().registry


def render_all(rows, registry) -> str:
    """Every output format of ``rows``; returns the markdown."""
    tables = aggregate(rows, registry)
    to_csv(tables)
    json.loads(to_json(tables, registry))
    return render_markdown(tables, registry)


def with_bad_row(tmp_path, **fields) -> list[dict]:
    rows = stored(tmp_path, [row("dcgan", 0, "fid", 50.0), row("dcgan", 1, "fid", 54.0)])
    bad = dict(rows[0], id=3, seed=2, cell_key="s/d/dcgan/seed-2/smoke", run_id="bad")
    bad.update(fields)
    return rows + [bad]


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"value": math.nan}, "dcgan seed 2, fid: value nan is not finite"),
        ({"value": math.inf}, "dcgan seed 2, fid: value inf is not finite"),
        ({"value": None}, "dcgan seed 2, fid: status 'ok' but no value (NULL; the store keeps a NaN as NULL)"),
        ({"value": "abc"}, "dcgan seed 2, fid: value 'abc' is not a number"),
        ({"value": "0.5"}, "dcgan seed 2, fid: value '0.5' is not a number"),
        ({"value": True}, "dcgan seed 2, fid: value True is not a number"),
        ({"status": "skipped"}, "dcgan seed 2, fid: unknown status 'skipped' (known: ok, failed, unavailable)"),
        ({"seed": "2"}, "dcgan seed 2, fid: seed '2' is not an integer"),
        ({"key": None}, "dcgan seed 2: no result key named"),
        ({"metric": None, "key": None}, "dcgan seed 2: status 'ok' but no metric named"),
    ],
    ids=["nan", "inf", "ok-without-value", "string", "numeric-string", "bool", "unknown-status", "string-seed", "no-key", "no-metric"],
)
def test_a_bad_row_is_excluded_with_its_reason_never_averaged(tmp_path, registry, fields, reason):
    rows = with_bad_row(tmp_path, **fields)
    markdown = render_all(rows, registry)
    (table,) = aggregate(rows, registry)
    assert table.entry("dcgan", "fid").values == [50.0, 54.0]
    assert f"Excluded, not counted in any mean: {reason}" in markdown


def test_an_entry_with_only_bad_rows_reads_excluded(tmp_path, registry):
    rows = stored(tmp_path, [row("dcgan", 0, "fid", 50.0)])
    rows.append(dict(rows[0], id=2, gan="vanilla-gan", cell_key="s/d/vanilla-gan/seed-0/smoke", value=math.nan))
    markdown = render_all(rows, registry)
    assert [line.split("|")[2].strip() for line in markdown.splitlines() if line.startswith("| vanilla-gan")][0] == "excluded"
    (table,) = aggregate(rows, registry)
    assert json.loads(to_json([table], registry))["tables"][0]["entries"][1]["status"] == "excluded"


def test_nan_and_text_values_through_the_store(tmp_path, registry):
    """SQLite keeps a NaN as NULL and a non-numeric text in a REAL column as text."""
    store = ResultsStore(tmp_path)
    store.append([row("dcgan", 0, "fid", 50.0), row("dcgan", 1, "fid", math.nan), row("dcgan", 2, "fid", "abc")])
    rows = store.rows("s")
    assert [r["value"] for r in rows] == [50.0, None, "abc"]
    markdown = render_all(rows, registry)
    assert "dcgan seed 1, fid: status 'ok' but no value" in markdown and "dcgan seed 2, fid: value 'abc' is not a number" in markdown


def test_corrupt_provenance_columns_do_not_stop_the_leaderboard(tmp_path, registry):
    rows = [
        dict(r, config_json="{not json", packages_json="[1, 2]", plugins_json='{"gans/x": 3}', created_at=None, device=None)
        for r in stored(tmp_path, [row("dcgan", 0, "fid", 50.0)])
    ]
    assert "## Provenance" in render_all(rows, registry)


# --------------------------------------------------------------------------- .jsonl import


def exported(tmp_path, lines) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_missing_required_fields_name_the_file_line_and_fields(tmp_path):
    rows = stored(tmp_path, [row("dcgan", 0, "fid", 50.0), row("dcgan", 1, "fid", 54.0)])
    broken = {k: v for k, v in rows[1].items() if k not in ("gan", "seed")}
    path = exported(tmp_path, [rows[0], broken])
    with pytest.raises(GanbenchError) as error:
        load_rows(path, "s")
    assert str(error.value).startswith(f"{path}:2: result row lacks gan, seed; ")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"seed": "0"}, ":1: field seed is '0', not an integer"),
        ({"id": None}, ":1: result row lacks id;"),
        ({"suite": 5}, ":1: field suite is 5, not text"),
        ({"metric": ["fid"]}, r":1: field metric is \['fid'\], not text"),
        ({"n_real": "40"}, ":1: field n_real is '40', not an integer"),
    ],
)
def test_fields_of_the_wrong_type_are_refused(tmp_path, change, message):
    (good,) = stored(tmp_path, [row("dcgan", 0, "fid", 50.0)])
    path = exported(tmp_path, [dict(good, **change)])
    with pytest.raises(GanbenchError, match=message):
        load_rows(path)


def test_a_line_that_is_no_object_is_refused(tmp_path):
    path = exported(tmp_path, [[1, 2]])
    with pytest.raises(GanbenchError, match=r"rows.jsonl:1 is not a result row: expected a JSON object, got list"):
        load_rows(path)


def test_missing_nullable_fields_read_as_null(tmp_path, registry):
    """Rows exported before a nullable column existed still render."""
    rows = stored(tmp_path, [row("dcgan", 0, "fid", 50.0), row("dcgan", 1, "fid", 54.0)])
    required = {"id", "run_id", "created_at", "suite", "cell_key", "gan", "dataset", "seed", "profile", "config_hash",
                "status", "config_json", "plugins_json", "packages_json", "metric", "key", "value"}
    path = exported(tmp_path, [{k: v for k, v in r.items() if k in required} for r in rows])
    again = load_rows(path, "s")
    assert again[0]["dataset_fingerprint"] is None and again[0]["n_real"] is None
    (table,) = aggregate(again, registry)
    assert table.entry("dcgan", "fid").values == [50.0, 54.0]
    render_all(again, registry)


def test_nan_written_to_an_export_is_excluded_when_read_back(tmp_path, registry):
    rows = with_bad_row(tmp_path, value=math.nan)
    write_rows(rows, tmp_path / "rows.jsonl")
    markdown = render_all(load_rows(tmp_path / "rows.jsonl", "s"), registry)
    assert "dcgan seed 2, fid: value nan is not finite" in markdown


def test_the_leaderboard_command_reports_a_broken_export_in_one_line(tmp_path, capsys):
    (good,) = stored(tmp_path, [row("dcgan", 0, "fid", 50.0)])
    path = exported(tmp_path, [{k: v for k, v in good.items() if k != "status"}])
    with pytest.raises(SystemExit) as exit:
        main(["leaderboard", "--suite", "brain-mri", "--results", str(path)])
    assert exit.value.code != 0
    err = capsys.readouterr().err
    assert f"{path}:1: result row lacks status" in " ".join(err.split()) and "Traceback" not in err
