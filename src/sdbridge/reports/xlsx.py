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
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from sdbridge.assessment import Assessment
from sdbridge.files import atomic_write
from sdbridge.reports import neutralise, web_link

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

    def __init__(
        self,
        book: Workbook,
        title: str,
        header: list[str],
        widths: dict[str, float] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        self.sheet = book.create_sheet(title)
        self.book = book
        self.columns = len(header)
        self.rows = 0
        for letter, width in (widths or {}).items():
            self.sheet.column_dimensions[letter].width = width
        self.sheet.freeze_panes = "A3" if labels else "A2"
        self.append(header, bold=True)
        if labels:  # a second header row: what each item id means
            self.sheet.append([self.cell(label, wrap=True) for label in labels])
            self.rows += 1
        self.header_rows = self.rows

    def cell(
        self, value: Any, status: str | None = None, bold: bool = False, wrap: bool = False, link: str | None = None
    ) -> Any:
        cell = WriteOnlyCell(self.sheet, value=value)
        colour = FILLS.get(status or "")
        if colour:
            cell.fill = PatternFill("solid", start_color=colour, end_color=colour)
        if bold:
            cell.font = BOLD
        if wrap:
            cell.alignment = WRAP
        if link:
            cell.hyperlink = link
            cell.font = LINK
        return cell

    def append(self, values: Sequence[Any], statuses: Sequence[str | None] | None = None, bold: bool = False) -> None:
        if statuses is None and not bold:
            self.sheet.append(values)
        else:
            marks = statuses or [None] * len(values)
            self.sheet.append([v if isinstance(v, Cell) else self.cell(v, s, bold) for v, s in zip(values, marks)])
        self.rows += 1

    def close(self) -> None:
        if self.rows > self.header_rows and self.columns:
            first = self.header_rows  # the filter sits on the last header row
            self.sheet.auto_filter.ref = f"A{first}:{get_column_letter(self.columns)}{self.rows}"


BOLD = Font(bold=True)
LINK = Font(color="0563C1", underline="single")
WRAP = Alignment(wrap_text=True, vertical="top")


def write_xlsx(assessment: Assessment, out: Path) -> Path:
    book = Workbook(write_only=True)
    summary = book.create_sheet("Summary")
    summary.column_dimensions["D"].width = 90
    summary.freeze_panes = "A3"
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

    from sdbridge.profile import load_catalogue

    catalogue = load_catalogue()
    for wp_id, frame in assessment.item_status.items():
        items = [c for c in frame.columns if c.startswith("WP.")]
        labels = {i: catalogue.item(i).label for i in items}
        sheet = _Sheet(
            book,
            wp_id,
            ["Record", "Source", "Title", *items],
            {"A": 16, "B": 14, "C": 40, **{get_column_letter(4 + i): 18 for i in range(len(items))}},
            labels=["", "", "", *[labels[i] for i in items]],
        )
        gaps = frame[items].isin(["missing", "invalid"]).any(axis=1) if items else frame.index.isna()
        ordered = pd.concat([frame[gaps], frame[~gaps]]) if len(frame) > MAX_SHEET_ROWS else frame
        for row in ordered.head(MAX_SHEET_ROWS).itertuples(index=False):
            values = list(row)  # record id, source, title, url, then one status per item
            statuses = [str(v) for v in values[4:]]
            link = web_link(values[3])
            record = sheet.cell(safe(values[0]), link=link) if link else safe(values[0])
            sheet.append([record, values[1], safe(values[2]), *statuses], [None, None, None, *statuses])
        if len(frame) > MAX_SHEET_ROWS:
            sheet.sheet.append(
                [
                    f"... {len(frame) - MAX_SHEET_ROWS} more records (records with gaps first): see findings.csv "
                    "or the audit package"
                ]
            )
        sheet.close()
    columns = ["id", "work_product", "item", "record_id", "source", "status", "severity", "message", "title", "url"]
    columns += [c for c in ("owner", "age_days") if c in assessment.findings]
    findings = _Sheet(book, "Findings", columns, {"A": 28, "D": 16, "H": 60, "I": 40, "J": 40, "K": 20, "L": 10})
    message, url = columns.index("message"), columns.index("url")
    for row in assessment.findings[columns].head(MAX_SHEET_ROWS).itertuples(index=False):
        cells: list[Any] = [safe(v) if v == v else None for v in row]  # NaN -> empty
        cells[message] = findings.cell(cells[message], wrap=True)
        link = web_link(row[url])  # only http(s): a `javascript:` link from an export never becomes one
        cells[url] = findings.cell(cells[url], link=link) if link else cells[url]
        findings.sheet.append(cells)
        findings.rows += 1
    if len(assessment.findings) > MAX_SHEET_ROWS:
        findings.sheet.append([f"... {len(assessment.findings) - MAX_SHEET_ROWS} more findings in findings.csv"])
    findings.close()
    owners = _Sheet(book, "Owners", ["Owner", "Gaps", "Oldest (days)"], {"A": 30, "B": 10, "C": 14})
    for o in assessment.owners(limit=10_000):
        owners.append([safe(o["owner"]), o["gaps"], o["oldest_days"]])
    owners.close()
    return atomic_write(out / "report.xlsx", lambda tmp: book.save(tmp))
