"""The plugin documentation keeps up with the code: every hook has its section in
docs/plugins.md and a test, and the tutorial's files are the example distribution's."""

import inspect
import re
from pathlib import Path

import pytest

from ganbench import hookspecs

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "plugins.md"
TUTORIAL = ROOT / "docs" / "writing-a-plugin.md"
EXAMPLE = ROOT / "docs" / "examples" / "ganbench-tiny-gan"
#: A fenced block that stands for a file of the example: the marker line, then the block.
FILE_BLOCK = re.compile(r"^<!-- file: (?P<path>\S+) -->\n```[\w-]*\n(?P<text>.*?)^```$", re.M | re.S)

HOOKS = sorted(
    name for name, function in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(function, "ganbench_spec")
)


def test_the_hooks_are_found():
    assert {"register_gans", "register_commands"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_section_in_the_reference(hook):
    headings = re.findall(r"^## (.+?)\s*$", REFERENCE.read_text(), flags=re.M)
    assert hook in headings, f"docs/plugins.md has no '## {hook}' section"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_named_by_a_test(hook):
    this = Path(__file__).resolve()
    naming = [p.name for p in sorted(ROOT.joinpath("tests").rglob("*.py")) if p.resolve() != this and hook in p.read_text()]
    assert naming, f"no test under tests/ names the hook {hook}"


def tutorial_files() -> dict[str, str]:
    blocks = {}
    for match in FILE_BLOCK.finditer(TUTORIAL.read_text()):
        assert match["path"] not in blocks, f"{match['path']} is shown twice in writing-a-plugin.md"
        blocks[match["path"]] = match["text"]
    return blocks


def test_the_tutorial_shows_every_source_file_of_the_example():
    sources = {
        p.relative_to(EXAMPLE).as_posix()
        for p in EXAMPLE.rglob("*")
        if p.is_file() and p.suffix in (".py", ".toml") and "egg-info" not in p.as_posix() and "__pycache__" not in p.parts
    }
    assert sources and sources == set(tutorial_files())


@pytest.mark.parametrize("path", sorted(tutorial_files()))
def test_a_file_in_the_tutorial_is_the_example_file(path):
    assert tutorial_files()[path] == (EXAMPLE / path).read_text(), (
        f"the block marked '<!-- file: {path} -->' in docs/writing-a-plugin.md differs from "
        f"docs/examples/ganbench-tiny-gan/{path}: change both"
    )
