"""Every module the runtime imports is installed by the runtime dependencies alone.

A green CI once hid a broken main job: `ganbench/leaderboard/aggregate.py` imported
scipy, which only the `test` extra brought in, so `ganbench run` crashed at its last
step on a fresh machine. The static check below reads every import in ganbench/ and
plugins/ (top level and inside functions) and asks that each third-party module come
from a distribution pyproject.toml's `dependencies` name; `.ci/run` also runs
`tests/import_every_module.py` in a venv built without the test extra.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OWN = {"ganbench", "ganbench_plugins"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {canonical(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]) for spec in project["dependencies"]}


def _guarded(node: ast.AST, parents: dict) -> bool:
    """Inside ``try: ... except ImportError`` (optional) or ``if TYPE_CHECKING:``."""
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.Try) and node in parent.body:
            for handler in parent.handlers:
                names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                if any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names):
                    return True
        if isinstance(parent, ast.If) and "TYPE_CHECKING" in ast.unparse(parent.test) and node in parent.body:
            return True
        node = parent
    return False


def third_party_imports(source: str) -> set[str]:
    """Top-level names of the absolute imports in ``source`` that are neither the
    standard library, ganbench itself, nor guarded as optional."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if _guarded(node, parents):
            continue
        found |= {n.split(".")[0] for n in names}
    return {n for n in found if n not in sys.stdlib_module_names and n not in OWN and n != "__future__"}


def undeclared(imports: dict[str, set[str]], declared: set[str], providers: dict[str, list[str]]) -> dict[str, str]:
    """module -> 'file, file: from DIST (not declared)' for each import no declared
    distribution provides."""
    missing = {}
    for module, files in sorted(imports.items()):
        dists = {canonical(d) for d in providers.get(module, [])}
        if not dists & declared:
            where = ", ".join(sorted(files))
            missing[module] = f"imported by {where}; provided by {sorted(dists) or 'no installed distribution'}"
    return missing


def runtime_imports() -> dict[str, set[str]]:
    imports: dict[str, set[str]] = {}
    for folder in ("ganbench", "plugins"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for module in third_party_imports(path.read_text()):
                imports.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    return imports


def test_every_runtime_import_is_a_declared_dependency():
    missing = undeclared(runtime_imports(), declared_distributions(), metadata.packages_distributions())
    assert not missing, f"add to [project] dependencies in pyproject.toml (or guard as optional): {missing}"


def test_the_check_finds_an_undeclared_import_inside_a_function():
    # The scipy case: imported lazily inside a method, brought only by the test extra.
    source = "import math\n\ndef ci95():\n    from scipy.stats import t\n    return t\n"
    imports = {m: {"aggregate.py"} for m in third_party_imports(source)}
    assert imports == {"scipy": {"aggregate.py"}}
    assert "scipy" in undeclared(imports, {"torch"}, {"scipy": ["scipy"]})
    assert undeclared(imports, {"scipy"}, {"scipy": ["scipy"]}) == {}


def test_guarded_and_type_checking_imports_are_optional():
    source = (
        "from typing import TYPE_CHECKING\n"
        "try:\n    import pytest\nexcept ImportError:\n    pytest = None\n"
        "if TYPE_CHECKING:\n    import pandas\n"
    )
    assert third_party_imports(source) == set()


def test_import_every_module_script_reports_a_missing_module(tmp_path):
    # Blocking scipy the way a runtime-only venv lacks it: the script must name the module.
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nclass _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'tabulate':\n            raise ModuleNotFoundError(\"No module named 'tabulate'\")\n"
        "sys.meta_path.insert(0, _Block())\n"
    )
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "import_every_module.py")], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 1
    assert "cannot import ganbench.leaderboard.render" in result.stderr and "tabulate" in result.stderr


@pytest.mark.slow
def test_import_every_module_script_passes_here():
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "import_every_module.py")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
