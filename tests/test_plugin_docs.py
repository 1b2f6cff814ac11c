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


def test_the_metric_kinds_in_the_reference_are_the_codes_list():
    """docs/plugins.md's kinds table and specs.METRIC_KINDS are one list: same kinds, same
    order, same descriptions."""
    from ganbench.specs import METRIC_KINDS

    section = REFERENCE.read_text().split("### Metric kinds", 1)
    assert len(section) == 2, "docs/plugins.md has no '### Metric kinds' section"
    body = section[1].split("\n## ", 1)[0]
    documented = dict(re.findall(r"^\| `([\w-]+)` \| (.+?) \|$", body, flags=re.M))
    assert list(documented) == list(METRIC_KINDS), (
        f"docs/plugins.md lists the metric kinds {list(documented)}, ganbench.specs.METRIC_KINDS "
        f"{list(METRIC_KINDS)}: change both"
    )
    assert documented == dict(METRIC_KINDS), "a kind's description in docs/plugins.md differs from METRIC_KINDS"


def test_the_docs_import_only_from_the_public_api():
    """A plugin author reads the docs, not the source: the tutorial and the reference
    import contracts and helpers from ganbench.api, never from ganbench's modules."""
    internal = re.compile(r"^from ganbench\.(?:specs|data|errors|settings|result_keys)\b.*$", re.M)
    for page in (REFERENCE, TUTORIAL):
        lines = internal.findall(page.read_text())
        assert not lines, f"docs/{page.name} imports from an internal module (use ganbench.api): {lines}"


def test_a_metric_of_an_unlisted_kind_is_refused_naming_the_kinds():
    from ganbench.api import Metric, MetricResult
    from ganbench.specs import METRIC_KINDS
    from ganbench.testing import check_metric

    class Fidelity(Metric):
        name = "mean-grey"
        description = "mean grey level of the generated images"
        source = "tests/test_plugin_docs.py"
        kind = "fidelity"  # not a kind: "distribution" is
        direction = "lower"
        result_keys = ("mean_grey",)
        protocol = "The mean uint8 pixel value of the generated set."

        def compute(self, evaluation, classifier=None):
            return MetricResult({"mean_grey": float(evaluation.fake.images.float().mean())})

    with pytest.raises(AssertionError, match="kind must be one of " + ", ".join(METRIC_KINDS)):
        check_metric(Fidelity())
