"""A reading library's warnings, caught while a dataset is read and summarised once.

pydicom warns about every slightly non-conforming element of every file (through
``warnings.warn`` and its ``pydicom`` logger, the same text twice): thousands of lines
on stderr for one real archive, hiding the lines that matter. `captured_warnings`
catches both channels while a reader runs and counts each distinct message; the reader
then logs one line (`WarningTally.headline`) and keeps the details in its data
notes (`WarningTally.details`).

Messages are de-identified before they are kept: pydicom quotes element values in them
(``Invalid value for VR PN: 'Doe^Jane'``), so every quoted string becomes ``'…'``; only
their first sentence is kept (the rest is advice such as a link to the standard).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

#: A quoted value in a message (Python repr of str or bytes, either quote); a quote
#: right after a letter is an apostrophe ("doesn't"), not the start of a value.
_QUOTED = re.compile(r"""(?<![A-Za-z])b?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")
#: Where a message's first sentence ends.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def scrub(message: str) -> str:
    """The first sentence of ``message`` on one line, every quoted value replaced by ``'…'``."""
    text = " ".join(_QUOTED.sub("'…'", str(message)).split())
    return _SENTENCE_END.split(text, maxsplit=1)[0]


@dataclass
class WarningTally:
    """What one library said while a dataset was read: de-identified message -> times."""

    library: str
    counts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def headline(self, dataset: str) -> str:
        """One line for the log: how many warnings of how many kinds, where the details are."""
        return (
            f"{dataset}: {self.library} warned {self.total} times ({len(self.counts)} distinct "
            f"message{'s' if len(self.counts) != 1 else ''}) "
            "while reading; they are summarised in the data notes (`ganbench data inspect` shows them)"
        )

    def details(self, top: int = 5) -> str:
        """The ``top`` most frequent messages with their counts, on one line."""
        shown = "; ".join(f"{n}x {message}" for message, n in self.counts.most_common(top))
        more = len(self.counts) - top
        return f"{self.library} warnings ({self.total}): {shown}" + (f"; and {more} other messages" if more > 0 else "")


@contextmanager
def captured_warnings(library: str, logger_name: str | None = None) -> Iterator[WarningTally]:
    """Inside the block, Python warnings and records of ``logger_name`` (default:
    ``library``) at WARNING or above are counted in the yielded tally instead of
    printed. A message sent to both channels (pydicom's ``warn_and_log``) counts once.

    Uses `warnings.catch_warnings`, which is process-wide: call it from the
    thread that reads, around single-threaded reading."""
    tally = WarningTally(library)
    logger = logging.getLogger(logger_name or library)
    logged: Counter = Counter()

    class _Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                logged[scrub(record.getMessage())] += 1
            except Exception:  # a record that cannot be formatted is still one warning
                logged["(unformattable log record)"] += 1

    handler = _Count(logging.WARNING)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield tally
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        warned = Counter(scrub(str(w.message)) for w in caught)
        # The same message through both channels is one warning, not two.
        for message in set(warned) | set(logged):
            tally.counts[message] += max(warned[message], logged[message])
