"""The XLSX workbook: a summary sheet, one sheet per fed work product (records x item status,
colour-coded) and the findings. Text cells that a spreadsheet would run as formulas are
neutralised."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
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


def _header(sheet, names: list[str]) -> None:
    sheet.append(names)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"


def _fill(cell, status: str) -> None:
    colour = FILLS.get(status)
    if colour:
        cell.fill = PatternFill("solid", start_color=colour, end_color=colour)


def write_xlsx(assessment: Assessment, out: Path) -> Path:
    book = Workbook()
    summary = book.worksheets[0]
    summary.title = "Summary"
    summary.append([f"{assessment.profile} — variation {assessment.variation}"])
    summary.append([f"Run {assessment.run_id}, generated {assessment.generated_at:%Y-%m-%d %H:%M} UTC"])
    summary.append([])
    summary.append(["Requirement", "Process", "Status", "Why"])
    for r in assessment.requirements:
        if r.in_variation:
            summary.append([r.id, r.process, r.status, safe(r.reason)])
            _fill(summary.cell(summary.max_row, 3), r.status)
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
    summary.column_dimensions["D"].width = 90
    for wp_id, frame in assessment.item_status.items():
        sheet = book.create_sheet(wp_id)
        items = [c for c in frame.columns if c.startswith("WP.")]
        _header(sheet, ["Record", "Source", "Title", *items])
        gaps = frame[items].isin(["missing", "invalid"]).any(axis=1) if items else frame.index.isna()
        ordered = pd.concat([frame[gaps], frame[~gaps]]) if len(frame) > MAX_SHEET_ROWS else frame
        for row in ordered.head(MAX_SHEET_ROWS).itertuples(index=False):
            values = list(row)
            sheet.append([safe(values[0]), values[1], safe(values[2]), *values[4:]])
            for offset, status in enumerate(values[4:]):
                _fill(sheet.cell(sheet.max_row, 4 + offset), str(status))
        sheet.column_dimensions["C"].width = 40
        if len(frame) > MAX_SHEET_ROWS:
            sheet.append(
                [
                    f"... {len(frame) - MAX_SHEET_ROWS} more records (records with gaps first): see findings.csv "
                    "or the audit package"
                ]
            )
    findings = book.create_sheet("Findings")
    columns = ["id", "work_product", "item", "record_id", "source", "status", "severity", "message", "title", "url"]
    _header(findings, columns)
    for row in assessment.findings[columns].head(MAX_SHEET_ROWS).itertuples(index=False):
        findings.append([safe(v) if v == v else None for v in row])  # NaN -> empty
    if len(assessment.findings) > MAX_SHEET_ROWS:
        findings.append([f"... {len(assessment.findings) - MAX_SHEET_ROWS} more findings in findings.csv"])
    for sheet in book.worksheets[1:]:
        for index in range(1, min(sheet.max_column, 40) + 1):
            letter = get_column_letter(index)
            if sheet.column_dimensions[letter].width in (None, 13):
                sheet.column_dimensions[letter].width = 16
    return atomic_write(out / "report.xlsx", lambda tmp: book.save(tmp))
