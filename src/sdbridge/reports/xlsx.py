"""The XLSX workbook: a summary sheet (the requirements, filterable), Fix first, the sources
and work products, one sheet per fed work product (records x item status,
colour-coded, item labels under their ids, records linked to their tickets), the findings
(owner, age, wrapped messages, ticket links) and the owners. Every table has an autofilter
and a frozen header.

Written by XlsxWriter in `constant_memory` mode: each row goes to disk as it is written, so
memory stays flat and time grows with the rows (openpyxl, even write-only, took ~3 ms a
row). Text is written as text: `strings_to_formulas` and `strings_to_urls` are off, and
formula-like cells are still neutralised with a leading quote, as in the CSV.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from sdbridge import progress
from sdbridge.arrowtext import neutralise
from sdbridge.assessment import Assessment
from sdbridge.files import atomic_write
from sdbridge.reports.common import web_link

FILLS = {
    "present": "#C6EFCE",
    "missing": "#FFC7CE",
    "invalid": "#FFEB9C",
    "pending": "#DDEBF7",
    "not_applicable": "#EDEDED",
    "met": "#C6EFCE",
    "gap": "#FFC7CE",
    "not_evidenced": "#FFEB9C",
}
MAX_SHEET_ROWS = 100_000
"""Rows per sheet: beyond this a workbook is neither quick to write nor usable; the records
with gaps come first, and the sheet says where the rest are (CSV, JSON, the audit package)."""
COUNT_EVERY = 5_000
"""Rows between two updates of the progress display."""
MAX_LINKS = 65_000
"""Excel holds at most 65,530 links a sheet: past this, ticket ids are plain text."""
MAX_CELL_TEXT = 32_767
"""The most characters an Excel cell holds."""
UNHOLDABLE = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
"""Control characters a workbook cannot hold (one pattern for `safe` and `_cells`)."""
_UNHOLDABLE = re.compile(UNHOLDABLE)


def safe(value: object) -> object:
    """A cell value: lists joined, characters a workbook cannot hold (NUL, other controls)
    dropped, text cut to what a cell holds, formula-like text neutralised."""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, str):
        value = _UNHOLDABLE.sub("", value)[:MAX_CELL_TEXT]
    if value is None or (isinstance(value, float) and value != value):
        return None
    return neutralise(value)


class _Sheet:
    """A worksheet written row by row: a bold, frozen header (with an optional second row of
    labels), cells formatted as they are written, an autofilter over the table."""

    def __init__(
        self,
        book: Any,
        formats: dict[str, Any],
        title: str,
        header: list[str],
        widths: dict[int, float] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        self.sheet = book.add_worksheet(title)
        self.formats = formats
        self.columns = len(header)
        self.row = 0
        self.links = 0
        for column, width in (widths or {}).items():
            self.sheet.set_column(column, column, width)
        self.sheet.write_row(0, 0, header, formats["bold"])
        self.row = 1
        if labels:
            self.sheet.write_row(1, 0, labels, formats["label"])
            self.row = 2
        self.header_rows = self.row
        self.sheet.freeze_panes(self.row, 0)

    def write(self, values: Sequence[Any], statuses: Sequence[str | None] | None = None) -> None:
        if statuses is None:
            self.sheet.write_row(self.row, 0, values)
        else:
            for column, (value, status) in enumerate(zip(values, statuses)):
                self.sheet.write(self.row, column, value, self.formats.get(status or ""))
        self.row += 1

    def link(self, column: int, url: object, text: object) -> None:
        """A ticket link in this row (plain text past Excel's link limit or for a bad URL)."""
        target = web_link(url)
        if target and self.links < MAX_LINKS and len(target) <= 2079:
            self.sheet.write_url(self.row, column, target, self.formats["link"], string=str(text))
            self.links += 1
        else:
            self.sheet.write(self.row, column, text)

    def note(self, text: str) -> None:
        self.sheet.write(self.row, 0, text)
        self.row += 1

    def close(self, last_row: int | None = None) -> None:
        last = (last_row if last_row is not None else self.row) - 1
        if last >= self.header_rows and self.columns:
            self.sheet.autofilter(self.header_rows - 1, 0, last, self.columns - 1)


def _formats(book: Any) -> dict[str, Any]:
    formats = {status: book.add_format({"bg_color": colour}) for status, colour in FILLS.items()}
    formats["bold"] = book.add_format({"bold": True})
    formats["label"] = book.add_format({"italic": True, "text_wrap": True, "valign": "top", "font_size": 9})
    formats["wrap"] = book.add_format({"text_wrap": True, "valign": "top"})
    formats["link"] = book.add_format({"font_color": "#0563C1", "underline": 1})
    return formats


def write_xlsx(assessment: Assessment, out: Path) -> Path:
    return atomic_write(out / "report.xlsx", lambda tmp: _write(assessment, tmp))


def _write(assessment: Assessment, path: Path) -> None:
    book = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    formats = _formats(book)
    try:
        _summary(book, formats, assessment)
        _fix_first(book, formats, assessment)
        _sources(book, formats, assessment)
        _work_products(book, formats, assessment)
        _findings(book, formats, assessment)
        owners = _Sheet(book, formats, "Owners", ["Owner", "Gaps", "Oldest (days)"], {0: 30, 1: 10, 2: 14})
        for o in assessment.owners(limit=MAX_SHEET_ROWS):
            oldest = o["oldest_days"]
            owners.write([safe(o["owner"]), o["gaps"], None if oldest is None else int(oldest)])
        owners.close()
    finally:
        book.close()


def _summary(book: Any, formats: dict[str, Any], assessment: Assessment) -> None:
    """The requirements in scope, each with its status, the work left and why: a table people
    filter (by status, by process), under two lines that say which run it is."""
    by_requirement = {e.requirement: e for e in assessment.fix_first}
    sheet = book.add_worksheet("Summary")
    for column, width in {0: 12, 1: 9, 2: 14, 3: 10, 4: 60, 5: 90}.items():
        sheet.set_column(column, column, width)
    c = assessment.conformance
    sheet.write(0, 0, f"{assessment.profile} — variation {assessment.variation}", formats["bold"])
    sheet.write(
        1,
        0,
        f"Run {assessment.run_id}, generated {assessment.generated_at:%Y-%m-%d %H:%M} UTC · {c.requirements} "
        f"requirements: {c.met} met, {c.gap} gap, {c.not_evidenced} not evidenced · {assessment.summary.gaps} gaps",
    )
    header = ["Requirement", "Process", "Status", "Work left", "What blocks it", "Why"]
    sheet.write_row(3, 0, header, formats["bold"])
    row = 4
    for r in assessment.requirements:
        if not r.in_variation:
            continue
        entry = by_requirement.get(r.id)
        sheet.write_row(row, 0, [r.id, r.process])
        sheet.write(row, 2, r.status, formats.get(r.status))
        sheet.write_row(row, 3, [entry.work if entry else 0, safe(entry.summary if entry else ""), safe(r.reason)])
        row += 1
    sheet.freeze_panes(4, 0)
    sheet.autofilter(3, 0, max(row - 1, 4), len(header) - 1)


def _fix_first(book: Any, formats: dict[str, Any], assessment: Assessment) -> None:
    """Fix first as every report gives it: each requirement not met, the least work first."""
    from sdbridge.rules.fixfirst import start_with

    sheet = _Sheet(
        book,
        formats,
        "Fix first",
        ["Requirement", "Process", "Status", "Work", "Gaps", "Set-up steps", "What blocks it", "Start with"],
        {0: 12, 1: 9, 2: 14, 3: 8, 4: 8, 5: 12, 6: 70, 7: 70},
    )
    for e in assessment.fix_first:
        sheet.write(
            [e.requirement, e.process, e.status, e.work, e.gaps, e.setup, safe(e.summary), safe(start_with(e))],
            [None, None, e.status, None, None, None, None, None],
        )
    sheet.close()


def _sources(book: Any, formats: dict[str, Any], assessment: Assessment) -> None:
    sheet = _Sheet(
        book,
        formats,
        "Sources",
        ["Source", "Type", "Status", "Pulled", "Mapped", "Excluded", "Rejected", "Error"],
        {0: 20, 1: 12, 2: 12, 7: 80},
    )
    for s in assessment.sources:
        sheet.write(
            [safe(s.name), s.type, s.status, s.items_pulled, s.mapped, s.excluded, s.rejected, safe(s.error or "")]
        )
    sheet.close()
    sheet = _Sheet(
        book,
        formats,
        "Work products",
        ["Work product", "Name", "Evidence", "Records", "Records with gaps", "Gaps", "Fed by"],
        {0: 13, 1: 45, 2: 13, 4: 16, 6: 30},
    )
    for wp_id, w in assessment.work_products.items():
        sheet.write(
            [wp_id, w.name, w.status.replace("_", " "), w.records, w.records_with_gaps, w.gaps, safe(w.sources)]
        )
    sheet.close()


def _work_products(book: Any, formats: dict[str, Any], assessment: Assessment) -> None:
    from sdbridge.profile import load_catalogue

    catalogue = load_catalogue()
    for wp_id, frame in assessment.item_status.items():
        items = [c for c in frame.columns if c.startswith("WP.")]
        sheet = _Sheet(
            book,
            formats,
            wp_id,
            ["Record", "Source", "Title", *items],
            {0: 16, 1: 14, 2: 40, **{3 + i: 18 for i in range(len(items))}},
            labels=["", "", "", *[catalogue.item(i).label for i in items]],
        )
        gaps = frame[items].isin(["missing", "invalid"]).any(axis=1) if items else frame.index.isna()
        ordered = pd.concat([frame[gaps], frame[~gaps]]) if len(frame) > MAX_SHEET_ROWS else frame
        shown = min(len(ordered), MAX_SHEET_ROWS)
        for at, row in enumerate(ordered.head(MAX_SHEET_ROWS).itertuples(index=False)):
            if at % COUNT_EVERY == 0:
                progress.count(at, shown, f"{wp_id} records")
            values = list(row)  # record id, source, title, url, then one status per item
            statuses = [str(v) for v in values[4:]]
            sheet.link(0, values[3], safe(values[0]))
            for column, status in enumerate(statuses, start=3):
                sheet.sheet.write_string(sheet.row, column, status, formats.get(status))
            sheet.sheet.write(sheet.row, 1, values[1])
            sheet.sheet.write(sheet.row, 2, safe(values[2]))
            sheet.row += 1
        last = sheet.row
        if len(frame) > MAX_SHEET_ROWS:
            sheet.note(
                f"... {len(frame) - MAX_SHEET_ROWS} more records (records with gaps first): see findings.csv "
                "or the audit package"
            )
        sheet.close(last)


def _cells(findings: pd.DataFrame, columns: list[str]) -> list[list[Any]]:
    """The findings' cells column by column, made safe in Arrow (what `safe` does to one
    cell: characters a workbook cannot hold dropped, text cut to a cell's size, formulas
    neutralised), as plain Python values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from sdbridge.arrowtext import arrow_table

    table = arrow_table(findings[columns])
    out = []
    for name in columns:
        column = table.column(name).combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, pa.string())
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.replace_substring_regex(column, UNHOLDABLE, "")
            column = pc.utf8_slice_codeunits(column, 0, MAX_CELL_TEXT)
        values = column.to_pylist()
        out.append([None if isinstance(v, float) and v != v else v for v in values])
    return out


FINDING_HEADERS = {
    "id": "Finding id",
    "work_product": "Work product",
    "item": "Item",
    "record_id": "Record",
    "source": "Source",
    "status": "Status",
    "severity": "Severity",
    "message": "Finding",
    "title": "Title",
    "url": "Link",
    "owner": "Owner",
    "age_days": "Open (days)",
}
"""The Findings sheet's headings, for people (findings.csv and report.json keep the field
names, for tools)."""


def _findings(book: Any, formats: dict[str, Any], assessment: Assessment) -> None:
    columns = ["id", "work_product", "item", "record_id", "source", "status", "severity", "message", "title", "url"]
    columns += [c for c in ("owner", "age_days") if c in assessment.findings]
    header = [FINDING_HEADERS[c] for c in columns]
    sheet = _Sheet(book, formats, "Findings", header, {0: 28, 3: 16, 7: 60, 8: 40, 9: 40, 10: 20, 11: 10})
    message, url = columns.index("message"), columns.index("url")
    age = columns.index("age_days") if "age_days" in columns else -1
    findings = assessment.findings.head(MAX_SHEET_ROWS)
    cells = _cells(findings, columns)
    raw_urls = findings["url"].tolist()
    write, wrap = sheet.sheet.write, formats["wrap"]
    for at, values in enumerate(zip(*cells)):
        if at % COUNT_EVERY == 0:
            progress.count(at, len(findings), "findings")
        for column, value in enumerate(values):
            if value is None:
                continue
            if column == message:
                write(sheet.row, column, value, wrap)
            elif column == url:
                sheet.link(column, raw_urls[at], value)
            elif column == age:
                write(sheet.row, column, int(value))
            else:
                write(sheet.row, column, value)
        sheet.row += 1
    last = sheet.row
    if len(assessment.findings) > MAX_SHEET_ROWS:
        sheet.note(f"... {len(assessment.findings) - MAX_SHEET_ROWS} more findings in findings.csv")
    sheet.close(last)
