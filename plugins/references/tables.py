"""Turning a paper's table, kept as plain data, into :class:`~ganbench.specs.Reference`
records; shared by the reference modules of this package.

A table is a mapping of row label -> the values printed in that row, one per column,
``None`` where the paper prints nothing usable (N/A, a dash, OCR damage beyond repair),
which then gives no reference. Row and column labels are the paper's; where a table's
header is nested, or its rows are told apart only by two cells, the labels are joined
with ", " (e.g. "Vanilla GAN, Accuracy").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from ganbench.api import Reference

#: Unit of a column printed as percentages: stored as fractions with unit "fraction",
#: so that they meet ganbench's scores, which are fractions.
PERCENT = "percent"

Printed = Union[float, int, str, None]


@dataclass(frozen=True)
class Column:
    label: str
    #: Empty: each row names its own (``row_fields[row]["metric"]``), for tables whose
    #: rows are the scores (a "Precision" row, a "Recall" row).
    metric: str
    unit: str = ""
    differences: tuple[str, ...] = ()
    note: str = ""
    #: For values printed with words in them ("1 h 52 m", "10k"): printed text -> number.
    #: The printed text is kept in the reference's note.
    parse: Optional[Callable[[str], float]] = None
    #: Why the column's numbers cannot be set against ganbench's at all (another scale).
    incomparable: str = ""


def fraction(percent: float) -> float:
    """A printed percentage as a fraction: through Decimal, so 94.84 gives the float
    nearest 0.9484 rather than 94.84 / 100's rounding error, and x 100 prints 94.84."""
    return float(Decimal(str(percent)) / 100)


def _joined(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _unique(*groups: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(d for group in groups for d in group))


def table_references(
    *,
    paper: str,
    table: str,
    columns: Sequence[Column],
    rows: Mapping[str, Sequence[Printed]],
    row_fields: Mapping[str, Mapping[str, Any]] = {},
    cell_notes: Mapping[tuple[str, str], str] = {},
    **shared: Any,
) -> list[Reference]:
    """One reference per printed value of ``rows``.

    ``shared`` holds the :class:`Reference` fields every cell has (gan, dataset_family,
    protocol, ...); ``row_fields`` those of one row, which win over ``shared`` except
    ``note`` and ``differences``, which add up with the column's and the cell's.
    """
    printed_cells = {
        (row, column.label) for row, values in rows.items() for column, v in zip(columns, values) if v is not None
    }
    # A note on a cell that is not there (a typo, a value left out) would vanish unseen.
    stray = set(cell_notes) - printed_cells
    if stray:
        raise ValueError(f"{paper} {table}: notes on cells without a value: {sorted(stray)}")
    references = []
    for row, values in rows.items():
        if len(values) != len(columns):
            raise ValueError(f"{paper} {table} row {row!r}: {len(values)} values for {len(columns)} columns")
        own = dict(row_fields.get(row, {}))
        fields = {**shared, **own}
        for column, printed in zip(columns, values):
            if printed is None:
                continue
            printed_note = ""
            if column.parse is not None:
                value, printed_note = column.parse(str(printed)), f"printed {printed!r}"
            else:
                value = printed
            metric = column.metric or own.get("metric")
            if not metric:
                raise ValueError(f"{paper} {table}: no metric for row {row!r}, column {column.label!r}")
            unit = column.unit
            if unit == PERCENT:
                value, unit = fraction(value), "fraction"
            references.append(
                Reference(
                    **{
                        **fields,
                        "paper": paper,
                        "table": table,
                        "row": row,
                        "column": column.label,
                        "metric": metric,
                        "value": float(value),
                        "unit": unit,
                        "note": _joined(
                            shared.get("note", ""),
                            own.get("note", ""),
                            column.note,
                            cell_notes.get((row, column.label), ""),
                            printed_note,
                        ),
                        **({"incomparable": column.incomparable} if column.incomparable else {}),
                        "differences": _unique(
                            shared.get("differences", ()), own.get("differences", ()), column.differences
                        ),
                    }
                )
            )
    return references
