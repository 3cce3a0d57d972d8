"""CSV and XLSX exports on disk: Jira's "Export Excel CSV (all fields)", GitLab's issues CSV,
CMDB spreadsheets, feedback logs.

Real exports are messy: Jira repeats a header once per value (three `Labels` columns are one
multi-valued field), Excel on Windows writes cp1252 or a UTF-8 BOM, European locales use `;`,
GitLab puts a `'` before cells that could be read as formulas. All values are read as text;
typing is the mapping's job. A malformed file is an `InputError` naming file and line: a row
is never dropped silently.

CSV is parsed by pyarrow (multi-threaded, and it detects ragged rows in both directions);
line numbers for error messages are recovered with the standard `csv` module, only on the
error path.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import itertools
import re
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from sdbridge.connectors.base import ROW, RawTable
from sdbridge.connectors.header import LOOKED_AT, find_header, skipped_note
from sdbridge.connectors.sheets import SheetTooLarge, read_sheet
from sdbridge.errors import InputError
from sdbridge.files import file_kind

if TYPE_CHECKING:  # the config models sit above the connectors: named for types only
    from sdbridge.sources import TableSourceConfig

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_SNIFF_BYTES = 64 * 1024
BINARY_MAGIC = (b"\x89PNG", b"PK\x03\x04", b"%PDF", b"GIF8", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0")
"""How images, zips (xlsx), PDFs and old .xls files start: none is a CSV export."""
MAX_SHARED_STRINGS_BYTES = 512 << 20
MAX_SHEET_BYTES = 1 << 30
"""The largest worksheet (its XML, unpacked) read: about ten million filled cells."""
MAX_SCANNED_ROWS = 100_000
"""Rows of a sheet looked through for formulas without a saved result."""
MAX_CELL_BYTES = 64 << 20
"""The largest single CSV cell read (pyarrow's block grows up to this)."""
_MAX_REPORTED_LINES = 5
# A UTF-8 multi-byte sequence: if a file has these, it is UTF-8 (perhaps damaged), not cp1252.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def physical_columns(header: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Give repeated headers unique names and group them: ["Labels", "Labels"] ->
    physical ["Labels", "Labels (2)"], groups {"Labels": ["Labels", "Labels (2)"]}."""
    counts: Counter[str] = Counter()
    physical: list[str] = []
    groups: dict[str, list[str]] = {}
    for index, raw in enumerate(header):
        name = (raw or "").strip() or f"Column {index + 1}"
        counts[name] += 1
        unique = name if counts[name] == 1 else f"{name} ({counts[name]})"
        physical.append(unique)
        groups.setdefault(name, []).append(unique)
    return physical, groups


def unquote_formula_prefix(frame: pd.DataFrame) -> None:
    """GitLab writes `'=1+2` for a cell whose text is `=1+2`; give the text back."""
    for column in frame.columns:
        if column != ROW and frame[column].dtype != "int64":
            frame[column] = frame[column].str.replace(r"^'(?=[=+\-@])", "", regex=True)


class TableFileConnector:
    """Reads one CSV or XLSX file as a `RawTable`."""

    remote = False

    def __init__(self, source: TableSourceConfig, *, resolve: Any) -> None:
        self.source = source
        self.path: Path = resolve(source.path)

    def content_hash(self) -> str | None:
        """The file's SHA-256, or None when it is missing (the pull then says so)."""
        if not self.path.is_file():
            return None
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def pull(self) -> RawTable:
        if not self.path.exists():
            raise InputError(
                "file does not exist",
                path=str(self.path),
                source=self.source.name,
                hint=f"check `path` of source {self.source.name!r}",
            )
        kind = file_kind(self.path)
        if kind is not None:
            raise InputError(
                f"is {kind}, not a regular file",
                path=str(self.path),
                source=self.source.name,
                hint=f"give `path` of source {self.source.name!r} the export file itself",
            )
        if self.path.suffix.lower() in EXCEL_SUFFIXES or self.source.type == "xlsx":
            frame, groups, notes = self._read_xlsx()
        else:
            frame, groups, notes = self._read_csv()
        if self.source.unquote_formulas:
            unquote_formula_prefix(frame)
        return RawTable(
            source=self.source.name,
            frame=frame,
            columns=groups,
            location=str(self.path),
            fetched_at=datetime.fromtimestamp(self.path.stat().st_mtime, UTC),
            notes=notes,
        )

    # --- CSV ------------------------------------------------------------------------------

    def _fail(self, message: str, *, line: int | None = None, hint: str | None = None) -> InputError:
        return InputError(message, path=str(self.path), line=line, source=self.source.name, hint=hint)

    def _encoding(self, head: bytes) -> str:
        wanted = self.source.encoding.lower().replace("_", "-")
        if wanted in ("auto", "utf-8", "utf8", "utf-8-sig"):
            return "utf-8"  # pyarrow skips a UTF-8 BOM itself
        try:
            codecs.lookup(wanted)
        except LookupError:
            raise self._fail(
                f"unknown encoding {self.source.encoding!r}", hint="use auto, utf-8, utf-8-sig or cp1252"
            ) from None
        return wanted

    def _delimiter(self, text: str) -> str:
        if self.source.delimiter != "auto":
            return "\t" if self.source.delimiter in ("\\t", "tab") else self.source.delimiter
        first_line = text.split("\n", 1)[0]
        try:
            return csv.Sniffer().sniff(first_line, delimiters=",;\t").delimiter
        except csv.Error:
            return ","

    def _read_csv(self) -> tuple[pd.DataFrame, dict[str, list[str]], list[str]]:
        with self.path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
        if not head.strip():
            raise self._fail("file is empty", hint="export it again with a header row")
        if head.startswith(BINARY_MAGIC) or head.count(b"\x00") > len(head) // 10:
            raise self._fail(
                "is not a text file (it holds NUL bytes: an image, a workbook, a zip?)",
                hint="give a CSV export here, or `type: xlsx` for a workbook",
            )
        encoding = self._encoding(head)
        if encoding == "utf-8" and not self._valid_utf8():
            # Checked before pyarrow reads it: a broken row with invalid UTF-8 would otherwise
            # reach pyarrow's row handler, which cannot even show it.
            data = self.path.read_bytes()
            if self.source.encoding == "auto" and not _UTF8_SEQUENCE.search(data):
                return self._parse_csv(head, "cp1252")  # a Windows export without UTF-8 in it
            raise self._decode_error(data)
        try:
            return self._parse_csv(head, encoding)
        except pa.ArrowInvalid as exc:
            if "invalid UTF8" not in str(exc):
                raise self._fail(f"cannot parse as CSV: {exc}") from None
            data = self.path.read_bytes()
            if self.source.encoding == "auto" and not _UTF8_SEQUENCE.search(data):
                return self._parse_csv(head, "cp1252")  # a Windows export without UTF-8 in it
            raise self._decode_error(data) from None

    def _valid_utf8(self) -> bool:
        """Whether the file is UTF-8 throughout, read in blocks (the memory stays small). A
        block of plain ASCII is valid as it is (a test at memory speed); the decoder reads the
        others, and any block while a character is still open from the one before."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        with self.path.open("rb") as handle:
            try:
                while block := handle.read(4 << 20):
                    if not block.isascii() or decoder.getstate()[0]:
                        decoder.decode(block)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                return False
        return True

    def _decode_error(self, data: bytes) -> InputError:
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            return self._fail(
                f"byte 0x{data[exc.start]:02x} is not valid UTF-8",
                line=line,
                hint="re-export as UTF-8, or set `encoding: cp1252` for a Windows export",
            )
        return self._fail("text is not valid UTF-8")

    def _header(self, text: str) -> tuple[str, int, list[str]]:
        """(delimiter, records above the header, the header's names). The header is found
        (see `connectors.header`) unless `header_row:` gives it; with `delimiter: auto`, the
        delimiter is the one that makes the widest header."""
        wanted = self.source.header_row
        if self.source.delimiter != "auto":
            candidates = [self._delimiter(text)]
        else:
            first = self._delimiter(text)
            candidates = [first, *(d for d in ",;\t|" if d != first)]
        best: tuple[str, int, list[str]] | None = None
        for delimiter in candidates:
            rows = list(itertools.islice(csv.reader(io.StringIO(text), delimiter=delimiter), LOOKED_AT))
            at = wanted - 1 if wanted is not None else find_header(rows)
            if at >= len(rows):
                raise self._fail(f"header_row {wanted} is past the rows read", line=wanted)
            header = rows[at] if rows else []
            if best is None or len([c for c in header if c.strip()]) > len([c for c in best[2] if c.strip()]):
                best = (delimiter, at, header)
        assert best is not None
        return best

    def _parse_csv(self, head: bytes, encoding: str) -> tuple[pd.DataFrame, dict[str, list[str]], list[str]]:
        text = head.decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="replace")
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # old Mac exports end lines with a bare CR
        delimiter, above, header = self._header(text)
        if not header:
            raise self._fail("no header row", line=1)
        physical, groups = physical_columns(header)
        ragged: list[Any] = []

        def on_bad_row(row: Any) -> str:
            ragged.append(row)
            return "skip"

        try:
            table = self._arrow_csv(physical, encoding, delimiter, on_bad_row, above)
        except UnicodeDecodeError as exc:
            raise self._fail(
                f"not valid {encoding} text (byte 0x{exc.object[exc.start]:02x})",
                hint="re-export as UTF-8, or set `encoding:` to the export's encoding",
            ) from None
        if ragged:
            raise self._ragged_error(encoding, delimiter, len(physical), len(ragged), above)
        # One contiguous buffer per column: every later step reads it as it is, instead of each
        # joining pyarrow's per-block pieces again (and touching fresh memory each time).
        table = table.combine_chunks()
        frame = table.to_pandas()
        frame[ROW] = pd.RangeIndex(above + 2, len(frame) + above + 2)  # as a spreadsheet shows it
        notes = [skipped_note(above, "the file")] if above and self.source.header_row is None else []
        if table.num_columns and table.num_rows:
            # Excel re-saving an export can leave hundreds of rows of bare delimiters
            blank = functools.reduce(pc.and_kleene, [pc.is_null(column) for column in table.columns])
            mask = blank.to_numpy(zero_copy_only=False).astype(bool)
            if mask.any():
                notes.append(
                    f"{int(mask.sum())} blank row(s) (nothing between the delimiters) are not items and were skipped"
                )
                frame = frame[~mask].reset_index(drop=True)
        return frame, groups, notes

    def _arrow_csv(
        self, physical: list[str], encoding: str, delimiter: str, on_bad_row: Any, above: int = 0
    ) -> pa.Table:
        """pyarrow's reader; a cell larger than a block (a pasted log, a few MB) is read with
        bigger blocks, up to `MAX_CELL_BYTES`."""
        block = 1 << 20
        while True:
            try:
                return self._arrow_read(physical, encoding, delimiter, on_bad_row, block, above)
            except pa.ArrowInvalid as exc:
                if "straddling" not in str(exc):
                    raise
                if block >= MAX_CELL_BYTES:
                    raise self._fail(
                        f"a cell is larger than {MAX_CELL_BYTES >> 20} MiB", hint="shorten that field in the export"
                    ) from None
                block *= 4

    def _arrow_read(
        self, physical: list[str], encoding: str, delimiter: str, on_bad_row: Any, block: int, above: int = 0
    ) -> pa.Table:
        return pacsv.read_csv(
            self.path,
            read_options=pacsv.ReadOptions(
                column_names=physical, skip_rows=above + 1, encoding=encoding, block_size=block
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_bad_row
            ),
            # large_string is what pandas' text columns hold: the frame then shares Arrow's
            # buffers instead of copying every cell (0.45 s of a 1M-row read).
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.large_string() for name in physical}, strings_can_be_null=True
            ),
        )

    def _ragged_error(self, encoding: str, delimiter: str, expected: int, count: int, above: int = 0) -> InputError:
        """Find the physical lines of rows whose field count differs from the header's."""
        codec = "utf-8-sig" if encoding == "utf-8" else encoding
        bad: list[tuple[int, int]] = []
        with self.path.open(encoding=codec, errors="replace", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            for _ in range(above + 1):
                next(reader, None)
            start = reader.line_num + 1
            for record in reader:
                if record and len(record) != expected:
                    bad.append((start, len(record)))
                    if len(bad) >= _MAX_REPORTED_LINES:
                        break
                start = reader.line_num + 1
        if not bad:
            return self._fail(f"{count} row(s) do not have the header's {expected} fields")
        first_line, got = bad[0]
        others = ", ".join(str(line) for line, _ in bad[1:])
        more = f"; also line(s) {others}" if others else ""
        more += f" ({count} such rows in all)" if count > len(bad) else ""
        return self._fail(
            f"row has {got} fields but the header has {expected}{more}",
            line=first_line,
            hint="fix the quoting or the delimiter of those rows, or re-export the file; "
            "no row was read from this file",
        )

    # --- XLSX -----------------------------------------------------------------------------

    def _read_xlsx(self) -> tuple[pd.DataFrame, dict[str, list[str]], list[str]]:
        self._check_workbook_parts()
        try:
            sheet, read = read_sheet(self.path, self._choose_sheet, self.source.header_row)
        except InputError:
            raise
        except SheetTooLarge as exc:
            raise self._fail(str(exc), hint="export the data as CSV instead") from None
        except MemoryError:
            raise self._fail("the workbook does not fit in memory", hint="export the data as CSV instead") from None
        except Exception as exc:  # openpyxl raises several unrelated types for a broken file
            raise self._fail(f"cannot open as an Excel workbook: {exc}") from None
        if not read.header:  # not one cell with a value
            raise self._fail(f"sheet {sheet!r} is empty")
        physical, groups = physical_columns(read.header)
        frame = pd.DataFrame(
            {name: pd.array(values, dtype="str") for name, values in zip(physical, read.columns)},
            index=pd.RangeIndex(len(read.rows)),
        )
        frame[ROW] = pd.array(read.rows, dtype="int64")  # the sheet's own row number
        notes = self._uncalculated(sheet)
        if read.above and self.source.header_row is None:
            notes.append(skipped_note(read.above, f"sheet {sheet!r}"))
        if read.blank_rows:
            notes.append(f"{read.blank_rows} blank row(s) in sheet {sheet!r} are not items and were skipped")
        return frame, groups, notes

    def _choose_sheet(self, names: list[str]) -> str:
        sheet = self.source.sheet
        if not names:
            raise self._fail("the workbook has no sheets")
        if sheet is None:
            return names[0]
        if isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise self._fail(f"the workbook has no sheet number {sheet}")
            return names[sheet]
        if sheet not in names:
            raise self._fail(f"the workbook has no sheet {sheet!r}", hint=f"sheets: {', '.join(names)}")
        return sheet

    def _check_workbook_parts(self) -> None:
        """Refuse, before reading a byte of it, a workbook whose parts would not fit once
        unpacked: the shared-strings table, any worksheet, or all parts together. The sizes are
        the ones the zip declares, and the zip reader stops at them (a part that unpacks to more
        fails its check): a small file that unpacks to gigabytes (a zip bomb) is refused here."""
        try:
            with zipfile.ZipFile(self.path) as archive:
                parts = {i.filename: i.file_size for i in archive.infolist()}
        except (zipfile.BadZipFile, OSError):
            return  # openpyxl says what is wrong with it
        if parts.get("xl/sharedStrings.xml", 0) > MAX_SHARED_STRINGS_BYTES:
            raise self._fail(
                f"the workbook's text table is larger than {MAX_SHARED_STRINGS_BYTES >> 20} MiB",
                hint="export the data as CSV instead",
            )
        sheets = {name: size for name, size in parts.items() if name.startswith("xl/worksheets/")}
        if any(size > MAX_SHEET_BYTES for size in sheets.values()) or sum(parts.values()) > 2 * MAX_SHEET_BYTES:
            largest = max(sheets.values(), default=0)
            raise self._fail(
                f"the workbook unpacks to {sum(parts.values()) >> 20:,} MiB (its largest sheet {largest >> 20:,} "
                f"MiB); sdbridge reads workbooks up to {MAX_SHEET_BYTES >> 20} MiB a sheet",
                hint="export the data as CSV instead",
            )

    def _uncalculated(self, sheet: str) -> list[str]:
        """Formula cells without a saved result read as blank, which would be false gaps: a
        note names them (a workbook written by a program and never opened in Excel)."""
        from openpyxl import load_workbook

        formulas = load_workbook(self.path, read_only=True, data_only=False)
        values = load_workbook(self.path, read_only=True, data_only=True)
        try:
            cells: list[str] = []
            for book in (formulas, values):
                book[sheet].reset_dimensions()  # the cells there are, not the claimed extent
            rows = zip(
                formulas[sheet].iter_rows(max_row=MAX_SCANNED_ROWS), values[sheet].iter_rows(max_row=MAX_SCANNED_ROWS)
            )
            for formula_row, value_row in rows:
                for formula, value in zip(formula_row, value_row):
                    if isinstance(formula.value, str) and formula.value.startswith("=") and value.value is None:
                        cells.append(getattr(formula, "coordinate", "?"))
        finally:
            formulas.close()
            values.close()
        if not cells:
            return []
        return [
            f"{len(cells)} formula cell(s) in sheet {sheet!r} have no saved result and read as blank "
            f"(e.g. {', '.join(cells[:5])}): open the workbook in Excel, recalculate and save it"
        ]
