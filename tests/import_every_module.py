"""Import every module of ``ganbench`` and ``ganbench_plugins``; exit 1 naming each one
that fails. Needs no pytest: `.ci/run` runs it in the venv of the README's first
command (the runtime install, no test extra), where a module that imports something
no runtime dependency installs fails here instead of at the end of a user's run.

    python tests/import_every_module.py
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback


def every_module(package_names=("ganbench", "ganbench_plugins")) -> list[str]:
    names = []
    for package_name in package_names:
        package = importlib.import_module(package_name)
        names.append(package_name)
        names += [info.name for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}.")]
    return sorted(names)


def import_all(names) -> dict[str, str]:
    """Module name -> the last line of its import error, for each that fails."""
    failures = {}
    for name in names:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # SystemExit from a module counts too
            failures[name] = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return failures


def main() -> int:
    names = every_module()
    failures = import_all(names)
    for name, error in failures.items():
        print(f"cannot import {name}: {error}", file=sys.stderr)
    print(f"imported {len(names) - len(failures)} of {len(names)} modules of ganbench and ganbench_plugins")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
