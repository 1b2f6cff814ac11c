"""The ``ganbench`` command: ``ganbench ...`` and ``python -m ganbench ...``.

The command-line module imports torch and every plugin, which takes seconds; a Ctrl-C
in that time is an interruption to report, not a traceback to print. So the entry point
is this small module, which imports the rest inside the guard."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    cli_main()


if __name__ == "__main__":
    main()
