"""Every published leaderboard is exactly what its committed results file renders to:
nobody edited the markdown by hand, and a change to the rendering that would alter a
published leaderboard shows up here (publish again with the command in
leaderboards/README.md)."""

from pathlib import Path

import pytest

from ganbench.cli import write_leaderboard
from ganbench.plugins import load_plugins

LEADERBOARDS = Path(__file__).resolve().parent.parent / "leaderboards"
PUBLISHED = sorted(p for p in LEADERBOARDS.glob("*.md") if p.with_suffix(".results.jsonl").is_file())


def test_there_is_a_published_leaderboard():
    assert [p.name for p in PUBLISHED] == sorted(
        ["brain-mri.md", "braingan-2022.md", "cgan-report-2023.md", "cyclegan-2022.md", "ijacsa-2024.md", "thesis-depth-2023.md"]
    )


@pytest.mark.parametrize("markdown", [p for p in PUBLISHED if p.stem != "brain-mri"], ids=lambda p: p.name)
def test_a_paper_report_opens_with_the_papers_tables_and_says_how_far_the_run_is(markdown):
    text = markdown.read_text()
    assert text.startswith("# Reproduction report: ")
    assert "This run: profile `smoke`" in text and "not a reproduction" in text
    assert "### The paper's claims" in text


@pytest.mark.parametrize("markdown", PUBLISHED, ids=lambda p: p.name)
def test_published_leaderboard_renders_from_its_results(markdown, tmp_path):
    results = markdown.with_suffix(".results.jsonl")
    rendered = write_leaderboard(load_plugins(), markdown.stem, results, tmp_path / markdown.name)
    assert rendered == markdown.read_text()
    # Every picture the markdown links is committed beside it.
    folder = markdown.with_suffix("")
    for line in rendered.splitlines():
        for part in line.split(f"]({folder.name}/")[1:]:
            assert (folder / part.split(")")[0]).is_file()
