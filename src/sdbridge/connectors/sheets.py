"""One worksheet read as text columns, holding only what the sheet holds.

pandas' Excel reader pads every row to the widest row, so one stray cell far to the right
(or a `<dimension>` that claims thousands of columns) turns a small sheet into rows x
16,384 cells in memory. This reader keeps each column sparse while it reads, skips rows with
no value, and keeps only columns that have a header or a value: memory follows the sheet's
content, never its claimed extent, and the whole is capped at `MAX_CELLS`.

Values become text as pandas would give them (`dtype=str`): whole numbers without `.0`,
dates as `2026-02-25 22:17:00`; error cells and the usual empty renderings are missing, as
in the CSV reader.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sdbridge.connectors.header import LOOKED_AT, find_header

MAX_CELLS = 20_000_000
"""Values of one sheet read at most: the pure-Python reader takes minutes past this (a sheet
of 120 million cells took longer than ten); larger sheets are read from a CSV export."""
MAX_GRID = 100_000_000
"""Rows x columns of one sheet at most, the grid the columns are padded to in memory."""
MAX_TEXT_BYTES = 512 << 20
"""The text of one sheet's cells read at most: a sheet of inline strings packed into a small
workbook (a zip bomb) stops here instead of filling the memory."""

NULL_TEXTS = frozenset(
    ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"]
    + ["<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]
)
"""Texts read as missing, as pandas and pyarrow read them in a CSV."""


class SheetTooLarge(Exception):
    def __init__(self, rows: int, columns: int, text: int = 0) -> None:
        if text:
            super().__init__(f"the sheet holds more than {MAX_TEXT_BYTES >> 20} MiB of text (after {rows:,} rows)")
        else:
            super().__init__(
                f"the sheet holds more than {min(MAX_CELLS, MAX_GRID):,} cells ({rows:,} rows x {columns:,} "
                "columns so far)"
            )


@dataclass
class Sheet:
    header: list[str]
    """One name per kept column: its header text, or `Column N` (N as Excel numbers it)."""
    columns: list[list[str | None]]
    rows: list[int]
    """The sheet row number of each kept row (the header is row 1)."""
    blank_rows: int = 0
    """Rows between the header and the last row with a value that hold none."""
    above: int = 0
    """Rows above the header (a title, blank rows, notes)."""


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return None if value.strip() in NULL_TEXTS else value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, (datetime, date, time)):
        return str(value)
    return str(value)


def read_sheet(path: Path, choose: Callable[[list[str]], str], header_row: int | None = None) -> tuple[str, Sheet]:
    """The sheet `choose(sheet names)` of the workbook at `path` (openpyxl, read-only); its
    header is row `header_row`, or found (see `connectors.header`)."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        name = choose(book.sheetnames)
        worksheet = book[name]
        worksheet.reset_dimensions()  # trust the cells, not the sheet's claim about its size
        rows = worksheet.iter_rows()
        try:
            return name, _collect(rows, header_row)
        finally:
            rows.close()  # a sheet refused half-way leaves no part of the file open
    finally:
        book.close()


def _values(row: Any) -> dict[int, str]:
    return {
        cell.column - 1: text
        for cell in row
        if getattr(cell, "data_type", None) != "e"  # #DIV/0!, #REF!: no value
        and (text := as_text(cell.value)) is not None
    }


def _collect(rows: Any, header_row: int | None = None) -> Sheet:
    rows = iter(rows)
    top = [_values(row) for row in itertools.islice(rows, LOOKED_AT)]
    if header_row is not None:
        at = header_row - 1
    else:
        width = max((max(v) + 1 for v in top if v), default=0)
        at = find_header([[v.get(i) for i in range(width)] for v in top])
    header: dict[int, str] = {}
    columns: dict[int, list[str | None]] = {}
    kept: list[int] = []
    cells = text_bytes = 0
    for number, values in enumerate(itertools.chain(top, map(_values, rows)), start=1):
        if number <= at:
            continue
        cells += len(values)
        text_bytes += sum(len(v) for v in values.values())
        if cells > MAX_CELLS:
            raise SheetTooLarge(len(kept), len(columns.keys() | header.keys()))
        if text_bytes > MAX_TEXT_BYTES:
            raise SheetTooLarge(len(kept), len(columns), text=text_bytes)
        if number == at + 1:
            header = values
        elif values:
            position = len(kept)
            kept.append(number)
            for index, text in values.items():
                column = columns.setdefault(index, [])
                column.extend([None] * (position - len(column)))
                column.append(text)
            if len(columns) > len(header) or position % 4096 == 0:
                _within_cap(len(kept), len(columns.keys() | header.keys()))
    indexes = sorted(header.keys() | columns.keys())
    _within_cap(len(kept), len(indexes))
    filled = []
    for index in indexes:
        column = columns.get(index, [])
        column.extend([None] * (len(kept) - len(column)))
        filled.append(column)
    return Sheet(
        header=[header.get(i) or f"Column {i + 1}" for i in indexes],
        columns=filled,
        rows=kept,
        blank_rows=kept[-1] - (at + 1) - len(kept) if kept else 0,
        above=at,
    )


def _within_cap(rows: int, columns: int) -> None:
    if rows * columns > MAX_GRID:
        raise SheetTooLarge(rows, columns)
