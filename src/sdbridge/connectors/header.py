"""Where the column names are: hand-kept workbooks and re-saved exports put a title line, a
blank row or a note ("Exported by Kari, 3 March") above the header. The header is the first
row as wide as the table and made of names, not values; the rows above it are skipped and
counted in a note. `header_row:` on the source says it outright."""

from __future__ import annotations

import re
from collections.abc import Sequence

LOOKED_AT = 30
"""Rows read from the top to find the header: a title block is never longer."""
_NUMBER = re.compile(r"^[\s\d.,:/+%-]*$")


def find_header(rows: Sequence[Sequence[str | None]]) -> int:
    """The index (0-based) of the header among the first rows of a table: the first row whose
    filled cells are at least 60 % of the widest row's (and at least two, unless the table is
    one column wide), mostly words, and mostly distinct (Jira repeats a header per value).
    0 when no row stands out."""
    head = [[c.strip() for c in row if c is not None and c.strip()] for row in rows[:LOOKED_AT]]
    widest = max((len(cells) for cells in head), default=0)
    if widest <= 1:
        return 0
    for index, cells in enumerate(head):
        if len(cells) < max(2, 0.6 * widest):
            continue
        words = sum(1 for c in cells if not _NUMBER.match(c))
        if words * 2 >= len(cells) and len(set(cells)) * 2 >= len(cells):
            return index
    return 0


def skipped_note(skipped: int, where: str) -> str:
    return (
        f"{skipped} row(s) above the header in {where} (a title, blank rows or notes) were skipped; "
        "set `header_row:` on the source if the header is elsewhere"
    )
