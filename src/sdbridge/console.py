"""Tables for a terminal of any width, 80 columns included: one line per row, always.

Rich fits a table to the terminal by shrinking every column, numbers and ids included, or by
wrapping text into many lines. Here the columns that must stay whole (ids, counts) keep
their width, and only the text columns named `flex` give way — cut with an ellipsis, never
wrapped — sharing the room that is left in proportion to their share. The reports hold the
full text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

Cell = str | Text


@dataclass(frozen=True)
class Column:
    header: str
    justify: str = "left"
    flex: int = 0
    """0: keeps its width; above 0: gives way, with this share of the room left."""


def fitted_table(
    title: str, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], width: int, caption: str | None = None
) -> Table:
    """Cells are plain text (never read as markup) or `Text` with its own style."""
    cells = [[c if isinstance(c, Text) else Text(str(c)) for c in row] for row in rows]
    natural = [max([len(c.header), *(r[i].cell_len for r in cells)]) for i, c in enumerate(columns)]
    widths = list(natural)
    overhead = 3 * len(columns) + 1  # a space either side of each cell and the borders
    flexible = [i for i, c in enumerate(columns) if c.flex]
    room = width - overhead - sum(natural[i] for i in range(len(columns)) if i not in flexible)
    if flexible and sum(natural[i] for i in flexible) > room:
        # give each its share; what a column does not need goes to the others
        left, pending = max(room, len(flexible) * 4), list(flexible)
        while pending:
            shares = sum(columns[i].flex for i in pending)
            fitting = [i for i in pending if natural[i] <= left * columns[i].flex // shares]
            if not fitting:
                for i in pending:
                    widths[i] = max(4, left * columns[i].flex // shares)
                break
            for i in fitting:
                widths[i] = natural[i]
                left -= natural[i]
                pending.remove(i)
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for column, size in zip(columns, widths):
        table.add_column(column.header, justify=column.justify, width=size, no_wrap=True, overflow="ellipsis")  # type: ignore[arg-type]
    for row in cells:
        table.add_row(*row)
    return table
