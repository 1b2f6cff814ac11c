"""The `ganbench` command line run in this process, as the end-to-end tests run it: the
installed plugins plus one test module's own, registered the way an installed one is."""

from __future__ import annotations

from typing import Optional

from click.testing import CliRunner, Result

from ganbench.cli import cli
from ganbench.plugins import load_plugins


def invoke_with(plugin: Optional[tuple[str, object]], *args) -> Result:
    """``ganbench ARGS`` with the installed plugins and ``plugin``, a (name, module)
    pair (None: the installed ones only); an exception the command does not handle
    propagates. The result's ``said`` is its output with the console's line wrapping
    undone, for phrases a narrow terminal would split."""
    plugins = load_plugins(extra_modules=[plugin] if plugin else [])
    result = CliRunner().invoke(cli, [str(a) for a in args], obj=plugins, catch_exceptions=False)
    result.said = " ".join(result.output.split())
    return result
