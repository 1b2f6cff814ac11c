"""Output where there is no terminal: a run writes one timestamped line per stage (a
cell's start and end, every 10% of training, each metric's start and end), and every
listing is tab-separated values that grep, cut and awk read, names never split."""

from __future__ import annotations

import io
import re
import types

import pytest
from click.testing import CliRunner
from rich.console import Console

from ganbench import hookimpl
from ganbench.cli import LISTABLE, cli
from ganbench.listing import column_widths, show_listing
from ganbench.plugins import load_plugins
from ganbench.specs import Metric, MetricResult, ProfileSettings, Suite
from ganbench_plugins.datasets.brain_phantom import BrainPhantom

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
KEY = "plain-log/plain-phantom/dcgan/seed-0/smoke"


class PlainPhantom(BrainPhantom):
    name = "plain-phantom"


class BrokenScore(Metric):
    name = "broken-score"
    description = "always fails"
    direction = "higher"
    result_keys = ("broken_score",)
    protocol = "Raises."

    def compute(self, evaluation, classifier=None):
        raise RuntimeError("broken on purpose")


def plugin():
    module = types.ModuleType("plain_log_plugin")
    settings = ProfileSettings(image_size=16, seeds=1, n_fake=16, n_real=32, gan_overrides={"steps": 20, "batch_size": 8})

    @hookimpl
    def register_suites(register):
        register(Suite(
            name="plain-log", description="plain output test", gans=("dcgan",), datasets=("plain-phantom",),
            metrics=("psnr", "broken-score"), classifiers=(), profiles={"smoke": settings}, unconditional_per_class=False,
        ))

    @hookimpl
    def register_datasets(register):
        register(PlainPhantom(train_per_class=12, test_per_class=4))

    @hookimpl
    def register_metrics(register):
        register(BrokenScore())

    module.register_suites, module.register_datasets, module.register_metrics = register_suites, register_datasets, register_metrics
    return module


def stamped(output: str, pattern: str) -> list[str]:
    """The lines of ``output`` that are a timestamp and then match ``pattern`` whole."""
    return [line for line in output.splitlines() if re.fullmatch(f"{STAMP} {pattern}", line)]


def test_a_run_logs_each_stage_with_a_timestamp(tmp_path):
    plugins = load_plugins(extra_modules=[("plain-log-plugin", plugin())])
    args = ["run", "--suite", "plain-log", "--results", str(tmp_path), "--device", "cpu", "--no-leaderboard"]
    result = CliRunner().invoke(cli, args, obj=plugins, catch_exceptions=False)
    out = result.output
    assert result.exit_code == 1, out  # broken-score fails the cell
    assert stamped(out, re.escape(f"{KEY}: started"))
    assert stamped(out, re.escape(f"{KEY}: failed after ") + r"\d+ s")
    assert stamped(out, re.escape("dcgan seed 0: training: started (20)"))
    percents = stamped(out, r"dcgan seed 0: training: (\d+)/20 \((\d+)%\), \d+ s so far, about \d+ s left")
    assert [int(re.search(r"(\d+)/20", line).group(1)) for line in percents] == [2, 4, 6, 8, 10, 12, 14, 16, 18]
    assert stamped(out, r"dcgan seed 0: training: done in \d+ s")
    assert stamped(out, r"dcgan seed 0: sampling: started \(1\)")
    assert stamped(out, re.escape(f"{KEY}: psnr: started")) and stamped(out, re.escape(f"{KEY}: psnr: done in ") + r"\d+ s")
    assert stamped(out, re.escape(f"{KEY}: broken-score: started"))
    assert stamped(out, re.escape(f"{KEY}: broken-score: failed after ") + r"\d+ s")
    # The run's own lines (a cell's outcome with its error, the closing count) are log lines too.
    assert stamped(out, r" *failed " + re.escape(KEY) + r" \(run \w+\): .*broken on purpose.*")
    assert stamped(out, r"0 cell\(s\) ran, 0 skipped \(finished earlier\), 1 failed in \d+ s; results in .*")
    # In this order: the cell starts, trains, evaluates, ends.
    order = [out.index(f"{KEY}: started"), out.index("training: started"), out.index("psnr: started"), out.index(f"{KEY}: failed after")]
    assert order == sorted(order)


def invoke(*args):
    result = CliRunner().invoke(cli, list(args), obj=load_plugins(), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_list_metrics_is_one_tab_separated_line_per_metric():
    registry = load_plugins().registry
    lines = invoke("list", "metrics").splitlines()
    assert lines[0].split("\t") == ["name", "description", "keys", "better", "source"]
    names = [metric.name for metric, _ in registry.items("metrics")]
    assert [line.split("\t")[0] for line in lines[1:]] == names  # never split, never cut
    assert all(line.count("\t") == 4 for line in lines)
    (row,) = [line for line in lines if "precision-recall" in line.split("\t")[0]]  # what grep finds
    assert "precision" in row.split("\t")[2] and "recall" in row.split("\t")[2]


@pytest.mark.parametrize("kind", LISTABLE)
def test_every_listing_has_a_header_and_one_record_per_line(kind):
    registry = load_plugins().registry
    lines = invoke("list", kind).splitlines()
    fields = lines[0].count("\t")
    assert fields >= 1 and all(line.count("\t") == fields for line in lines)
    assert len(lines) == 1 + len(list(registry.items(kind)))


@pytest.mark.parametrize("args", [("references",), ("plugins",), ("data", "options", "msd-brain-tumour"), ("data", "detect", ".")])
def test_other_listings_are_tab_separated_too(args):
    lines = invoke(*args).splitlines()
    fields = lines[0].count("\t")
    assert fields >= 1 and len(lines) > 1 and all(line.count("\t") == fields for line in lines)


def test_data_inspect_plain_is_the_counts_per_class_and_split(tmp_path, monkeypatch):
    from medical_fixtures import make_kaggle_layout

    monkeypatch.setenv("GANBENCH_CACHE_DIR", str(tmp_path / "cache"))
    root = make_kaggle_layout(tmp_path / "data", "brain-tumor-classification-mri", per_class=3)
    result = CliRunner().invoke(cli, ["data", "inspect", str(root), "--plain"], obj=load_plugins(), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # the reading's progress lines go to stderr
    assert lines[0] == "class\ttrain\ttest"
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in lines[1:]}
    assert sorted(rows) == ["glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor"]
    assert all(len(counts) == 2 and all(c.isdigit() and int(c) > 0 for c in counts) for counts in rows.values())


def test_plain_flag_and_environment_win_over_a_terminal(monkeypatch):
    terminal = Console(file=io.StringIO(), force_terminal=True, width=80)
    show_listing(terminal, "t", ("name", "text"), [["a-rather-long-name-of-a-metric", "x\ty\nz"]], plain=True)
    assert terminal.file.getvalue() == "name\ttext\na-rather-long-name-of-a-metric\tx y z\n"
    monkeypatch.setenv("GANBENCH_OUTPUT", "plain")
    terminal = Console(file=io.StringIO(), force_terminal=True, width=80)
    show_listing(terminal, "t", ("name",), [["a"]])
    assert terminal.file.getvalue() == "name\na\n"


@pytest.mark.parametrize("width", [60, 80, 120])
def test_at_a_terminal_names_are_never_wrapped(width):
    registry = load_plugins().registry
    rows = [[m.name, m.description, ", ".join(m.result_keys), m.direction] for m, _ in registry.items("metrics")]
    terminal = Console(file=io.StringIO(), force_terminal=True, width=width, color_system=None)
    show_listing(terminal, "metrics", ("name", "description", "keys", "better"), rows)
    table = terminal.file.getvalue()
    assert all(name in table for name, *_ in rows)
    assert max(len(line) for line in table.splitlines()) <= width  # nothing cut off at the right
    if width >= 120:  # room enough: no result key is split either
        assert all(key in table for m, _ in registry.items("metrics") for key in m.result_keys)


def test_identifier_columns_keep_their_words_before_prose_does():
    rows = [["fid", "a long description " * 4, "fid_ci95_low, fid_ci95_high_and_more"]]
    widths = column_widths(("name", "description", "keys"), rows, 60)
    assert widths[0] == 4 and widths[2] >= len("fid_ci95_high_and_more") and widths[1] >= 12
    assert sum(widths) + 3 * 3 + 1 <= 60
    assert column_widths(("name", "keys"), [["fid", "fid"]], 80) == [None, None]  # fits as it is
