"""The public surface a plugin author and a user get: ``ganbench.api`` documents every
name it exports (shapes, dtypes, ranges, errors: a docstring for each, every parameter
of every function described), its reference builds with ``mkdocs build --strict``,
``ganbench.testing`` names the extra that brings pytest, and ``python -m ganbench`` runs.

mkdocstrings leaves an undocumented name out of the reference without a warning, so
strict mode alone cannot catch a missing docstring: the griffe checks here do, reading
the docstrings exactly as the reference does (Google style)."""

from __future__ import annotations

import importlib.util
import logging
import re
import tomllib
import subprocess
import sys
from pathlib import Path

import pytest

import ganbench
import ganbench.api as api

ROOT = Path(__file__).resolve().parents[1]


def test_all_lists_only_names_the_module_has():
    missing = [name for name in api.__all__ if not hasattr(api, name)]
    assert not missing and len(set(api.__all__)) == len(api.__all__)


def test_the_helpers_a_reader_needs_are_public():
    # docs/writing-a-plugin.md promises these; a rename must change the docs too.
    for name in (
        "decode_image", "to_grey", "crop_to_content", "square_resize", "stratified_split",
        "patient_split", "cross_split_duplicates", "image_split", "content_fingerprint", "Inspection",
    ):
        assert name in api.__all__, name


def test_hookimpl_is_the_package_marker():
    assert api.hookimpl is ganbench.hookimpl


# --------------------------------------------------------------------------- docstrings

try:
    import griffe
except ImportError:  # the docs extra brings it
    griffe = None


@pytest.fixture(scope="module")
def api_module():
    if griffe is None:
        pytest.skip("griffe is not installed: pip install -e '.[docs]' (the README's test command does)")
    loader = griffe.GriffeLoader(search_paths=[str(ROOT)], docstring_parser=griffe.Parser.google)
    package = loader.load("ganbench")
    loader.resolve_aliases(external=False, implicit=False)
    return package["api"]


def _target(obj):
    return obj.final_target if obj.is_alias else obj


def _documented_parameters(obj) -> set[str]:
    """Names an Args or Attributes section describes, or the text names as ``name`` or
    `name` (the prose style of many of ganbench's docstrings)."""
    docstring = obj.docstring
    named = set(re.findall(r"``?(\w+)``?", docstring.value))
    for section in docstring.parsed:
        if section.kind in (griffe.DocstringSectionKind.parameters, griffe.DocstringSectionKind.attributes):
            named |= {item.name for item in section.value}
    return named


def _problems(obj, where: str) -> list[str]:
    obj = _target(obj)
    if obj.docstring is None or not obj.docstring.value.strip():
        return [f"{where} has no docstring"]
    problems = []
    if obj.is_function:
        wanted = [p.name for p in obj.parameters if p.name not in ("self", "cls") and p.kind.value not in ("variadic positional", "variadic keyword")]
        undocumented = sorted(set(wanted) - _documented_parameters(obj))
        if undocumented:
            problems.append(f"{where}: parameters {undocumented} are not documented")
    if obj.is_class:
        # A field may be described in its class's docstring instead (``name``: ...).
        described_by_class = _documented_parameters(obj)
        for name, member in obj.all_members.items():
            if name.startswith("_"):
                continue
            member_target = _target(member)
            if not member_target.canonical_path.startswith("ganbench."):
                continue  # inherited from the standard library or torch
            if member_target.is_attribute and name in described_by_class:
                continue
            problems += _problems(member, f"{where}.{name}")
    return problems


def test_every_public_name_is_documented(api_module):
    problems = [problem for name in api.__all__ for problem in _problems(api_module[name], f"ganbench.api.{name}")]
    assert not problems, "\n".join(problems)


def test_every_docstring_parses_without_a_warning(api_module, caplog):
    def parse(obj, seen):
        obj = _target(obj)
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            obj.docstring.parse(griffe.Parser.google, warn_unknown_params=True)
        if obj.is_class:
            for name, member in obj.all_members.items():
                if not name.startswith("_") and _target(member).canonical_path.startswith("ganbench."):
                    parse(member, seen)

    with caplog.at_level(logging.WARNING, logger="griffe"):
        seen: set[str] = set()
        for name in api.__all__:
            parse(api_module[name], seen)
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert not warnings, "\n".join(warnings)


# --------------------------------------------------------------------------- the reference


@pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings_handlers") is None,
    reason="mkdocs and mkdocstrings are not installed: pip install -e '.[docs]' (the README's test command does)",
)
def test_the_api_reference_builds_in_strict_mode(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    page = (tmp_path / "site" / "api" / "index.html").read_text()
    # mkdocstrings leaves out a name it finds no docstring for, silently.
    missing = [name for name in api.__all__ if f'id="ganbench.api.{name}"' not in page]
    assert not missing, f"the API reference has no entry for {missing}"
    for page_name in ("writing-a-plugin", "plugins", "suite-files", "tracking"):
        if (ROOT / "docs" / f"{page_name}.md").exists():
            assert (tmp_path / "site" / page_name / "index.html").exists(), f"docs/{page_name}.md is not in the site"


# --------------------------------------------------------------------------- the package


def test_python_dash_m_ganbench_runs():
    result = subprocess.run([sys.executable, "-m", "ganbench", "--help"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout and "run" in result.stdout


def test_ganbench_testing_without_pytest_names_the_extra():
    # pytest hidden from the import system, as in an environment without the extra: the
    # contract checks still import, and a fixture says which extra brings pytest.
    script = (
        "import sys\n"
        "sys.modules['pytest'] = None\n"
        "import ganbench.testing as t\n"
        "assert callable(t.check_gan)\n"
        "try:\n"
        "    t.tiny_image_data()\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ganbench[testing]" in result.stdout


# --------------------------------------------------------------------------- optional inspect


class _LoadOnly(api.Dataset):
    """A reader with only ``load``: `Dataset.inspect` is optional."""

    name = "load-only"
    description = "a reader with only load()"
    source = "tests/test_api_docs.py"
    needs_path = False

    def load(self, path, image_size, channels, progress):
        import dataclasses

        from ganbench.testing import tiny_data

        data = tiny_data(size=image_size, channels=channels)
        # One test image copied from the training split: the report's duplicate check
        # must find it, so the report is about the loaded pixels, not made up.
        data.test.images[0] = data.train.images[0]
        return dataclasses.replace(data, name=self.name, skipped={"unreadable image": 2}, notes="made in memory")


class _OwnInspect(_LoadOnly):
    name = "own-inspect"

    def inspect(self, path, progress):
        return api.Inspection(dataset=self.name, root="-", layout="its own", class_names=("a", "b"), counts={})


def test_a_reader_without_inspect_is_inspected_from_what_it_loads():
    from ganbench.data.inspection import inspect_dataset

    report = inspect_dataset(_LoadOnly(), None, api.SilentProgress())
    assert report.dataset == "load-only" and report.class_names == ("no_tumor", "tumor_1")
    assert report.counts == {"train": {"no_tumor": 8, "tumor_1": 8}, "test": {"no_tumor": 4, "tumor_1": 4}}
    assert report.skipped == {"unreadable image": 2}
    assert report.duplicates.startswith("1 of 8 test images have an exact duplicate")
    assert "has no inspect of its own" in report.notes[0] and "made in memory" in report.notes
    assert "load-only" in report.render()


def test_a_readers_own_inspect_is_used():
    from ganbench.data.inspection import inspect_dataset

    assert inspect_dataset(_OwnInspect(), None, api.SilentProgress()).layout == "its own"


def test_the_extras_a_plugin_author_installs_are_declared():
    """``pip install "ganbench[testing]"`` brings pytest (ganbench.testing's fixtures),
    ``ganbench[docs]`` what the strict build above needs."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {extra: {re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].lower() for req in reqs} for extra, reqs in extras.items()}
    assert "pytest" in names["testing"]
    assert {"mkdocs", "mkdocstrings", "mkdocstrings-python", "pymdown-extensions"} <= names["docs"]
