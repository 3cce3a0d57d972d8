"""The XLSX workbook: a summary sheet, one sheet per fed work product (records x item status,
colour-coded) and the findings. Text cells that a spreadsheet would run as formulas are
neutralised. Written in openpyxl's write-only mode: the time grows with the rows, not with
their square (asking a sheet for its last row on every cell made 40,000 rows take hours)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from sdbridge.assessment import Assessment
from sdbridge.files import atomic_write
from sdbridge.reports import neutralise

FILLS = {
    "present": "C6EFCE",
    "missing": "FFC7CE",
    "invalid": "FFEB9C",
    "pending": "DDEBF7",
    "not_applicable": "EDEDED",
    "met": "C6EFCE",
    "gap": "FFC7CE",
    "not_evidenced": "FFEB9C",
}
MAX_SHEET_ROWS = 100_000
"""Rows per sheet: beyond this a workbook is neither quick to write nor usable; the records
with gaps come first, and the sheet says where the rest are (CSV, JSON, the audit package)."""


def safe(value: object) -> object:
    """A cell value: lists joined, characters a workbook cannot hold (NUL, other controls)
    dropped, formula-like text neutralised."""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return neutralise(value)


class _Sheet:
    """A worksheet written row by row (openpyxl's write-only mode: time linear in the rows,
    memory bounded, as a nightly run over a large tracker needs): a bold, frozen header row,
    cells styled as they are written, an autofilter over the table."""

    def __init__(self, book: Workbook, title: str, header: list[str], widths: dict[str, float] | None = None) -> None:
        self.sheet = book.create_sheet(title)
        self.book = book
        self.columns = len(header)
        self.rows = 0
        for letter, width in (widths or {}).items():
            self.sheet.column_dimensions[letter].width = width
        self.sheet.freeze_panes = "A2"
        self.append(header, bold=True)

    def cell(self, value: Any, status: str | None = None, bold: bool = False) -> Any:
        cell = WriteOnlyCell(self.sheet, value=value)
        colour = FILLS.get(status or "")
        if colour:
            cell.fill = PatternFill("solid", start_color=colour, end_color=colour)
        if bold:
            cell.font = BOLD
        return cell

    def append(self, values: Sequence[Any], statuses: Sequence[str | None] | None = None, bold: bool = False) -> None:
        if statuses is None and not bold:
            self.sheet.append(values)
        else:
            marks = statuses or [None] * len(values)
            self.sheet.append([self.cell(v, s, bold) for v, s in zip(values, marks)])
        self.rows += 1

    def close(self) -> None:
        if self.rows > 1 and self.columns:
            self.sheet.auto_filter.ref = f"A1:{get_column_letter(self.columns)}{self.rows}"


BOLD = Font(bold=True)


def write_xlsx(assessment: Assessment, out: Path) -> Path:
    book = Workbook(write_only=True)
    summary = book.create_sheet("Summary")
    summary.column_dimensions["D"].width = 90
    summary.append([f"{assessment.profile} — variation {assessment.variation}"])
    summary.append([f"Run {assessment.run_id}, generated {assessment.generated_at:%Y-%m-%d %H:%M} UTC"])
    summary.append([])
    summary.append([WriteOnlyCell(summary, value=v) for v in ("Requirement", "Process", "Status", "Why")])
    for r in assessment.requirements:
        if r.in_variation:
            status = WriteOnlyCell(summary, value=r.status)
            colour = FILLS.get(r.status)
            if colour:
                status.fill = PatternFill("solid", start_color=colour, end_color=colour)
            summary.append([r.id, r.process, status, safe(r.reason)])
    summary.append([])
    summary.append(["Source", "Type", "Status", "Pulled", "Mapped", "Excluded", "Rejected", "Error"])
    for s in assessment.sources:
        summary.append(
            [safe(s.name), s.type, s.status, s.items_pulled, s.mapped, s.excluded, s.rejected, safe(s.error or "")]
        )
    summary.append([])
    summary.append(["Work product", "Name", "Evidence", "Records", "Records with gaps", "Gaps"])
    for wp_id, w in assessment.work_products.items():
        summary.append([wp_id, w.name, w.status.replace("_", " "), w.records, w.records_with_gaps, w.gaps])

    for wp_id, frame in assessment.item_status.items():
        items = [c for c in frame.columns if c.startswith("WP.")]
        sheet = _Sheet(
            book,
            wp_id,
            ["Record", "Source", "Title", *items],
            {"A": 16, "B": 14, "C": 40, **{get_column_letter(4 + i): 10 for i in range(len(items))}},
        )
        gaps = frame[items].isin(["missing", "invalid"]).any(axis=1) if items else frame.index.isna()
        ordered = pd.concat([frame[gaps], frame[~gaps]]) if len(frame) > MAX_SHEET_ROWS else frame
        for row in ordered.head(MAX_SHEET_ROWS).itertuples(index=False):
            values = list(row)
            statuses = [str(v) for v in values[4:]]
            sheet.append([safe(values[0]), values[1], safe(values[2]), *statuses], [None, None, None, *statuses])
        if len(frame) > MAX_SHEET_ROWS:
            sheet.sheet.append(
                [
                    f"... {len(frame) - MAX_SHEET_ROWS} more records (records with gaps first): see findings.csv "
                    "or the audit package"
                ]
            )
        sheet.close()
    columns = ["id", "work_product", "item", "record_id", "source", "status", "severity", "message", "title", "url"]
    findings = _Sheet(book, "Findings", columns, {"A": 28, "D": 16, "H": 80, "I": 40, "J": 40})
    for row in assessment.findings[columns].head(MAX_SHEET_ROWS).itertuples(index=False):
        findings.append([safe(v) if v == v else None for v in row])  # NaN -> empty
    if len(assessment.findings) > MAX_SHEET_ROWS:
        findings.sheet.append([f"... {len(assessment.findings) - MAX_SHEET_ROWS} more findings in findings.csv"])
    findings.close()
    return atomic_write(out / "report.xlsx", lambda tmp: book.save(tmp))
