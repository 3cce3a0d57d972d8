"""The CSV/XLSX reader against the shapes of real exports and broken files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from sdbridge.config import TableSourceConfig
from sdbridge.connectors.base import ROW
from sdbridge.connectors.tables import TableFileConnector
from sdbridge.errors import InputError


def read(path: Path, **options):
    source = TableSourceConfig(name="src", type=options.pop("type", "csv"), path=path, **options)
    return TableFileConnector(source, resolve=lambda p: p).pull()


def test_repeated_jira_headers_become_one_multi_valued_field(write):
    path = write(
        "jira.csv",
        """
        Issue key,Labels,Labels,Labels,Summary
        SD-1,network,urgent,customer,First
        SD-2,,,,Second
    """,
    )
    raw = read(path)
    assert raw.columns["Labels"] == ["Labels", "Labels (2)", "Labels (3)"]
    first = raw.frame.iloc[0]
    assert [first[c] for c in raw.columns["Labels"]] == ["network", "urgent", "customer"]
    assert raw.items == 2


def test_ragged_row_names_file_and_line(write):
    path = write("broken.csv", 'a,b,c\n1,2,3\n4,"multi\nline",6\n7,8,9,10\n11,12,13\n')
    with pytest.raises(InputError) as caught:
        read(path)
    message = str(caught.value)
    assert f"{path}:5" in message  # the 4th row starts on line 5 (row 3 spans two lines)
    assert "4 fields but the header has 3" in message


def test_short_row_is_an_error_too(write):
    path = write("short.csv", "a,b,c\n1,2,3\n4,5\n")
    with pytest.raises(InputError, match=r"short\.csv:3"):
        read(path)


def test_utf8_bom_is_not_part_of_the_first_header(write):
    path = write("bom.csv", "\ufeffIssue key,Summary\nSD-1,Tjenesten på Tromsø\n")
    raw = read(path)
    assert "Issue key" in raw.columns
    assert raw.frame.loc[0, "Summary"] == "Tjenesten på Tromsø"


def test_cp1252_windows_export_is_read_in_auto_mode(write):
    path = write("win.csv", "Key;Summary\nSD-1;Café – down\n", encoding="cp1252")
    raw = read(path)
    assert list(raw.columns) == ["Key", "Summary"]  # ; detected
    assert raw.frame.loc[0, "Summary"] == "Café – down"


def test_damaged_utf8_names_the_line(write):
    path = write("bad.csv", "Key,Summary\nSD-1,Tromsø\nSD-2,caf\xe9\n".encode().replace(b"caf\xc3\xa9", b"caf\xe9"))
    with pytest.raises(InputError) as caught:
        read(path)
    assert f"{path}:3" in str(caught.value)
    assert "UTF-8" in str(caught.value)


def test_explicit_encoding_is_used(write):
    path = write("latin.csv", "Key,Summary\nSD-1,Tromsø\n", encoding="cp1252")
    assert read(path, encoding="cp1252").frame.loc[0, "Summary"] == "Tromsø"
    with pytest.raises(InputError, match="encoding"):
        read(path, encoding="klingon")


def test_gitlab_formula_quote_is_removed_when_asked(write):
    path = write("gl.csv", 'Title,Labels\n\'=SUM(A1),"incident,priority::1"\n')
    assert read(path).frame.loc[0, "Title"] == "'=SUM(A1)"
    assert read(path, unquote_formulas=True).frame.loc[0, "Title"] == "=SUM(A1)"


def test_rows_carry_their_spreadsheet_row_number(write):
    path = write("rows.csv", "a\nx\ny\n")
    assert read(path).frame[ROW].tolist() == [2, 3]


def test_missing_and_empty_files_are_clear_errors(write, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="empty"):
        read(write("empty.csv", ""))


def _workbook(path: Path) -> Path:
    book = Workbook()
    first = book.active
    first.title = "Readme"
    first.append(["This workbook lists our CIs"])
    sheet = book.create_sheet("CIs")
    sheet.append(["CI ID", "Name", "In service since", "Tag", "Tag"])
    sheet.append(["CI-1", "web01", datetime(2024, 3, 1, 12, 0), "prod", "dmz"])
    sheet.append([None, None, None, None, None])
    sheet.append(["CI-2", "db01", None, "prod", None])
    book.save(path)
    return path


def test_xlsx_sheet_by_name_with_repeated_headers_and_blank_rows(tmp_path):
    raw = read(_workbook(tmp_path / "cmdb.xlsx"), type="xlsx", sheet="CIs")
    assert raw.items == 2
    assert raw.frame[ROW].tolist() == [2, 4]
    assert raw.columns["Tag"] == ["Tag", "Tag (2)"]
    assert raw.frame.loc[0, "In service since"].startswith("2024-03-01")
    assert any("blank row" in note for note in raw.notes)


def test_xlsx_unknown_sheet_lists_the_sheets(tmp_path):
    with pytest.raises(InputError) as caught:
        read(_workbook(tmp_path / "cmdb.xlsx"), type="xlsx", sheet="Assets")
    assert "Readme, CIs" in str(caught.value)


@pytest.mark.parametrize("cut", [1, 2])
def test_a_character_split_across_read_blocks_is_read_and_one_left_open_is_refused(tmp_path, cut):
    """UTF-8 is checked a 4 MiB block at a time and plain ASCII blocks are skipped: a `€`
    whose bytes straddle two blocks reads whole; one cut short before a block of plain ASCII
    is damaged text (named with its line), not a file to read as cp1252."""
    block, euro = 4 << 20, "€".encode()
    head = "Key,Summary\nSD-9,Tromsø\n".encode() + b"SD-0,plain\n" * ((block - 200) // 11) + b"SD-1,"
    first = head + b"x" * (block - cut - len(head))
    assert len(first + euro[:cut]) == block  # the character's bytes straddle the end of the first block
    rest = b"\n" + b"SD-2,plain\n" * 3
    good = tmp_path / "good.csv"
    good.write_bytes(first + euro + b"y" + rest)
    assert read(good).frame["Summary"].iloc[-4].endswith("x€y")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(first + euro[:cut] + b"y" + rest)  # the rest of the character is missing
    with pytest.raises(InputError) as caught:
        read(bad)
    assert "UTF-8" in str(caught.value) and f"{bad}:" in str(caught.value)


TITLED = (
    "Service register — Nordlys Hosting AS\n"
    "\n"
    "Exported by Kari on 3 March 2026\n"
    "CI ID,Name,Type,Owner,Location\n"
    "CI-1,web-01,Server,Kari,Oslo\n"
    "CI-2,db-01,Server,,Bergen\n"
)


def test_title_lines_blank_rows_and_notes_above_a_csv_header_are_skipped_and_said(write):
    raw = read(write("register.csv", TITLED))
    assert list(raw.columns) == ["CI ID", "Name", "Type", "Owner", "Location"]
    assert raw.items == 2 and raw.frame[ROW].tolist() == [5, 6]  # the rows as a spreadsheet numbers them
    assert any("3 row(s) above the header" in note for note in raw.notes)


def test_a_title_row_and_a_blank_row_above_an_xlsx_header_are_skipped(tmp_path):
    book = Workbook()
    sheet = book.active
    for row in TITLED.splitlines():
        sheet.append(row.split(",") if row else [])
    book.save(tmp_path / "register.xlsx")
    raw = read(tmp_path / "register.xlsx", type="xlsx")
    assert list(raw.columns) == ["CI ID", "Name", "Type", "Owner", "Location"]
    assert raw.frame["Name"].tolist() == ["web-01", "db-01"] and raw.frame[ROW].tolist() == [5, 6]
    assert any("3 row(s) above the header in sheet" in note for note in raw.notes)


def test_header_row_says_where_the_header_is(write):
    path = write("odd.csv", "Notes,,\nKey,Value,\nID,Name,Kind\nX-1,alpha,a\n")
    assert list(read(path).columns) == ["Key", "Value", "Column 3"]  # as found: two names of three
    raw = read(path, header_row=3)
    assert list(raw.columns) == ["ID", "Name", "Kind"] and raw.items == 1 and not raw.notes


def test_a_plain_export_keeps_its_first_row_as_the_header(write):
    raw = read(write("plain.csv", "Issue key,Summary,Labels,Labels\nSD-1,12,3,4\nSD-2,5,6,7\n"))
    assert list(raw.columns) == ["Issue key", "Summary", "Labels"] and raw.items == 2 and not raw.notes


def _workbook_with_sheet_xml(path: Path, rows: int, text: str = "x") -> None:
    """A minimal workbook whose one sheet holds `rows` rows of ten inline-string cells: it
    compresses to almost nothing however large it unpacks (the shape of a zip bomb)."""
    import zipfile

    book = Workbook()
    book.active.append(["a"])
    book.save(path)
    with zipfile.ZipFile(path) as original:
        parts = {name: original.read(name) for name in original.namelist()}
    cells = "".join(f'<c r="{chr(65 + i)}{{row}}" t="inlineStr"><is><t>{text}</t></is></c>' for i in range(10))
    body = "".join(f'<row r="{n}">{cells.replace("{row}", str(n))}</row>' for n in range(1, rows + 1))
    parts["xl/worksheets/sheet1.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{body}</sheetData></worksheet>"
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for name, data in parts.items():
            bomb.writestr(name, data)


def test_a_workbook_that_unpacks_past_the_bound_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from sdbridge.connectors import tables

    monkeypatch.setattr(tables, "MAX_SHEET_BYTES", 1 << 20)
    _workbook_with_sheet_xml(tmp_path / "bomb.xlsx", 20_000)  # ~9 MiB of XML in a ~100 KiB file
    assert (tmp_path / "bomb.xlsx").stat().st_size < 1 << 20
    with pytest.raises(InputError) as caught:
        read(tmp_path / "bomb.xlsx", type="xlsx")
    assert "unpacks to" in str(caught.value) and "export the data as CSV" in str(caught.value)


def test_cells_and_text_are_counted_while_the_sheet_is_read(tmp_path, monkeypatch):
    from sdbridge.connectors import sheets

    _workbook_with_sheet_xml(tmp_path / "many.xlsx", 2_000)
    monkeypatch.setattr(sheets, "MAX_CELLS", 5_000)
    with pytest.raises(InputError, match="more than 5,000 cells"):
        read(tmp_path / "many.xlsx", type="xlsx")
    monkeypatch.setattr(sheets, "MAX_CELLS", 10**9)
    _workbook_with_sheet_xml(tmp_path / "wide.xlsx", 200, text="y" * 2_000)
    monkeypatch.setattr(sheets, "MAX_TEXT_BYTES", 1 << 20)
    with pytest.raises(InputError, match="more than 1 MiB of text"):
        read(tmp_path / "wide.xlsx", type="xlsx")
