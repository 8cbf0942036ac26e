"""Tables that fit the console: whole cells, no wrapping; the columns that do not fit are
left out, least important first, so that the caller can show them below the table.

Run ids, image tags and script names are what a reader copies: cut or folded over two
lines they cannot be pasted, so every column here is ``no_wrap`` and sized to its
longest cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich import box
from rich.cells import cell_len
from rich.console import JustifyMethod
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

__all__ = ["Column", "FittedTable", "fit_table", "prose"]

_GAP, _EDGES = 2, 2
"""Cells between two columns of the tables made here (padding 1 on each side, collapsed),
and the blank cells of the box at both ends of a line."""


@dataclass(frozen=True)
class Column:
    """One column: its header, its cells (one per row), and how long it stays.

    ``priority`` 0 is never left out; among the others, the highest goes first.
    """

    header: str
    cells: Sequence[Text | str]
    priority: int = 0
    justify: JustifyMethod = "left"

    @property
    def width(self) -> int:
        cells = [cell_len(c.plain if isinstance(c, Text) else c) for c in self.cells]
        return max([cell_len(self.header), *cells])


@dataclass(frozen=True)
class FittedTable:
    """The table of the columns that fit, and the headers of those left out."""

    table: Table
    dropped: set[str] = field(default_factory=set)


def fit_table(columns: Sequence[Column], width: int) -> FittedTable:
    """A table of ``columns`` no wider than ``width`` where possible: columns of the
    highest priority are left out until the rest fit (priority 0 always stays)."""
    kept = list(columns)
    droppable = sorted((c for c in columns if c.priority > 0), key=lambda c: -c.priority)
    for column in droppable:
        if _total_width(kept) <= width:
            break
        kept.remove(column)
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, collapse_padding=True)
    for column in kept:
        table.add_column(
            column.header, no_wrap=True, min_width=column.width, justify=column.justify
        )
    rows = len(columns[0].cells) if columns else 0
    for row in range(rows):
        table.add_row(*(column.cells[row] for column in kept))
    return FittedTable(table, {c.header for c in columns if c not in kept})


def _total_width(columns: Sequence[Column]) -> int:
    return sum(c.width for c in columns) + _GAP * max(len(columns) - 1, 0) + _EDGES


def prose(text: str, indent: int = 2) -> Padding:
    """A line of prose (a reason, a description) under a table: wrapped at the console's
    width between words, each line indented, never cut. Print it with ``soft_wrap=False``."""
    return Padding(Text(text), (0, 0, 0, indent))
