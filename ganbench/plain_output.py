"""Whether output is read by a person at a terminal or by a log file, a pipe, ``grep``.

At a terminal ganbench draws live progress bars and rich tables. Anywhere else (output
redirected to a file, a pipe, a cluster job, CI, ``TERM=dumb``) bars draw nothing and
tables would be wrapped at 80 columns, so ganbench writes plain text instead: one
timestamped line per stage of a run, and listings as tab-separated values.

``GANBENCH_OUTPUT=plain`` asks for plain output at a terminal too; ``auto`` (or unset)
decides by the stream; any other value is an error.
"""

from __future__ import annotations

import os
from datetime import datetime

from .errors import GanbenchError

#: The environment variable that forces plain output.
OUTPUT_ENV = "GANBENCH_OUTPUT"
OUTPUT_MODES = ("auto", "plain")


def wants_plain(console) -> bool:
    """True when ``console`` (a :class:`rich.console.Console`) does not write to an
    interactive terminal, or when ``GANBENCH_OUTPUT=plain``.

    Raises :class:`GanbenchError` for a ``GANBENCH_OUTPUT`` other than ``auto`` or
    ``plain``."""
    mode = os.environ.get(OUTPUT_ENV, "").strip().lower() or "auto"
    if mode not in OUTPUT_MODES:
        raise GanbenchError(f"{OUTPUT_ENV}={os.environ[OUTPUT_ENV]!r}: use one of {', '.join(OUTPUT_MODES)}")
    # is_terminal looks at the stream each time (tests swap sys.stdout and sys.stderr);
    # a dumb terminal cannot redraw bars either.
    return mode == "plain" or not console.is_terminal or console.is_dumb_terminal


def timestamped(line: str) -> str:
    """``line`` after the local time, ``2026-12-01 03:04:05 line``."""
    return f"{datetime.now():%Y-%m-%d %H:%M:%S} {line}"
