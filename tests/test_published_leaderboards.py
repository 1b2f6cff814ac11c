"""Every published leaderboard is exactly what its committed results file renders to:
nobody edited the markdown by hand, and a change to the rendering that would alter a
published leaderboard shows up here (publish again with the command in
leaderboards/README.md)."""

from pathlib import Path

import pytest
from PIL import Image

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
    linked = {part.split(")")[0] for line in rendered.splitlines() for part in line.split(f"]({folder.name}/")[1:]}
    assert all((folder / name).is_file() for name in linked)
    # And nothing else is: a picture no leaderboard links is a stale leftover.
    assert sorted(p.name for p in folder.iterdir()) == sorted(linked)


def test_the_brain_mri_leaderboard_opens_with_a_narrow_headline_and_the_samples_under_it():
    lines = (LEADERBOARDS / "brain-mri.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| GAN"))
    # The title, one short line and the table's heading come before it: nothing else.
    assert start == 6 and lines[0].startswith("# ") and len(lines[2]) < 250 and lines[4].startswith("## ")
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    header = [cell.strip() for cell in lines[start].split("|")[1:-1]]
    assert len(header) <= 8 and header[0] == "GAN" and header[-2:] == ["seeds", "n_real / n_fake"]
    assert end - start - 2 == 6  # one row per GAN
    assert lines[end] == "" and lines[end + 1].startswith("![Samples of ") and lines[end + 1].endswith("-strip.png)")
    assert end < lines.index("<details>")
    strip = LEADERBOARDS / lines[end + 1].split("](")[1].rstrip(")")
    with Image.open(strip) as image:
        assert image.height >= 6 * 96  # six GANs, tiles of at least 96 px


def test_the_readme_shows_the_published_headline_and_strip():
    """README's "What a run gives you" quotes brain-mri.md's first screen: kept in step."""
    readme = (LEADERBOARDS.parent / "README.md").read_text()
    lines = (LEADERBOARDS / "brain-mri.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| GAN"))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    assert "\n".join(lines[start:end]) in readme
    assert lines[end + 1].replace("](brain-mri/", "](leaderboards/brain-mri/") in readme
