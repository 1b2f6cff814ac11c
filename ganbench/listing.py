"""Listings (``ganbench list``, ``references``, ``plugins``, ``data detect``, ``data
options``): a rich table at a terminal; tab-separated values anywhere else.

The plain form is for ``grep``, ``cut`` and ``awk``: a header line with the column
names, then one record per line, fields separated by one tab, never wrapped or cut
(a tab or line break inside a value becomes a space). ``ganbench list metrics | grep
precision-recall`` finds the metric's row; ``cut -f1`` gives the names. It is written
when standard output is not a terminal, with ``--plain``, or with
``GANBENCH_OUTPUT=plain`` (:mod:`ganbench.plain_output`).

At a terminal the first column (the name) is never wrapped, and no column is made
narrower than its longest word, so a name or a result key is never split over lines.
"""

from __future__ import annotations

import re
from typing import Any, Optional, Sequence

import click
from rich.console import Console
from rich.table import Table

from .plain_output import wants_plain

#: Longest word a column keeps whole at a terminal; longer ones (a URL) may fold.
WHOLE_WORD_LIMIT = 40
#: Width left at least to each column of prose when the identifier columns keep their words whole.
PROSE_WIDTH = 12
#: Longest word of prose kept whole when there is room for it.
PROSE_WORD = 18
#: A value that lists identifiers (``fid, kid_mean``), as opposed to prose.
IDENTIFIERS = re.compile(r"[^\s,]*(, [^\s,]+)*")


def plain_value(value: Any) -> str:
    """``value`` as one TSV field: None is empty; tabs and line breaks become spaces."""
    return "" if value is None else re.sub(r"[\t\r\n]+", " ", str(value))


def tsv_lines(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """The header line and one line per row, fields joined by tabs."""
    return ["\t".join(columns)] + ["\t".join(plain_value(v) for v in row) for row in rows]


def plain_stdout(plain: bool = False) -> bool:
    """Whether a listing on standard output is written as tab-separated values: with
    ``--plain`` (``plain``), else when stdout is no interactive terminal."""
    return plain or wants_plain(Console())


def echo_tsv(columns: Sequence[str], rows: Sequence[Sequence[Any]], file=None) -> None:
    """Write :func:`tsv_lines` to ``file`` (default: standard output)."""
    # click.echo, not a rich console: rich would wrap long lines at its width.
    click.echo("\n".join(tsv_lines(columns, rows)), file=file)


def column_widths(columns: Sequence[str], rows: Sequence[Sequence[Any]], width: int) -> list[Optional[int]]:
    """The widths (without padding) to give the columns of a table at a terminal
    ``width`` characters wide; None everywhere when the table fits as it is.

    The first column, the names, keeps its width. Columns of identifiers (result keys,
    GAN names) get at least their longest word, so that none is split over lines;
    columns of prose at least :data:`PROSE_WIDTH`; what is left is shared in proportion
    to what each column would need to fit on one line. When even that does not fit,
    every entry is None again and rich folds what it must (never the names)."""
    values = [[plain_value(row[i]) for row in rows] for i in range(len(columns))]
    natural = [max([len(column), *(len(v) for v in vs)]) for column, vs in zip(columns, values)]
    room = width - (3 * len(columns) + 1) - natural[0]  # a border and two spaces of padding per column
    rest = range(1, len(columns))
    if sum(natural[i] for i in rest) <= room:
        return [None] * len(columns)
    longest_word = [max([len(c), *(len(w) for v in vs for w in v.split())]) for c, vs in zip(columns, values)]
    identifiers = {i for i in rest if all(IDENTIFIERS.fullmatch(v) for v in values[i])}
    # Prose keeps its words whole too if it can (up to PROSE_WORD), else PROSE_WIDTH.
    for prose_word in (PROSE_WORD, 0):
        minimum = {
            i: min(longest_word[i], WHOLE_WORD_LIMIT) if i in identifiers
            else min(natural[i], max(PROSE_WIDTH, len(columns[i]), min(longest_word[i], prose_word)))
            for i in rest
        }
        spare = room - sum(minimum.values())
        if spare >= 0:
            break
    else:
        return [None] * len(columns)
    wanted = {i: natural[i] - minimum[i] for i in rest}
    total = sum(wanted.values()) or 1
    widths = {i: minimum[i] + spare * wanted[i] // total for i in rest}
    return [natural[0], *(widths[i] for i in rest)]


def show_listing(
    console: Console, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], plain: Optional[bool] = None
) -> None:
    """Print ``rows`` (one sequence of values per record, in ``columns``' order) to
    ``console``'s stream. ``plain``: True for tab-separated values, False for a rich
    table, None to decide by the stream (:func:`ganbench.plain_output.wants_plain`)."""
    if plain or (plain is None and wants_plain(console)):
        echo_tsv(columns, rows, console.file)
        return
    table = Table(title=title, show_lines=False)
    widths = column_widths(columns, rows, console.width)
    for i, column in enumerate(columns):
        table.add_column(column, no_wrap=i == 0, overflow="fold", width=widths[i])
    for row in rows:
        table.add_row(*(plain_value(v) for v in row))
    console.print(table)


#: The ``--plain`` flag of every listing command.
plain_option = click.option(
    "--plain", is_flag=True, help="Tab-separated values with a header line, even at a terminal (the default when output is piped or redirected)."
)
