"""Hostile and broken input: an audit package that lies, credentials in a URL, a broken or
foreign store, markup in text from outside, a bug. Each gets one clear line and the right
exit code, never a traceback and never a false "intact"."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sdbridge import cli, verify
from sdbridge.cli import app

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "config" / "demo.yaml"


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("pkg") / "audit.zip"
    result = runner.invoke(app, ["export", "-c", str(DEMO_CONFIG), "--fresh", "--out", str(target)])
    assert result.exit_code == 0, result.output
    return target


def rebuild(source: Path, target: Path, change) -> Path:
    """A copy of a package with its entries passed through `change(name, data, archive)`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of a duplicate name: that is the point
        with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
            for info in original.infolist():
                change(info.filename, original.read(info.filename), copy)
    return target


def verified(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["export", "--verify", str(path)])
    return result.exit_code, result.output


def test_the_real_package_verifies(package):
    assert verified(package)[0] == 0


def test_a_zip_holding_only_a_manifest_does_not_verify(package, tmp_path):
    lone = tmp_path / "lone.zip"
    with zipfile.ZipFile(lone, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"run_id": "x", "files": {}}))
    code, output = verified(lone)
    assert code == 1 and "manifest.json" in output and "cannot be trusted" in output
    listed_nothing_else = tmp_path / "lone2.zip"
    with zipfile.ZipFile(listed_nothing_else, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"run_id": "x", "files": {"a.txt": "0" * 64}}))
        archive.writestr("a.txt", "")
    code, output = verified(listed_nothing_else)
    assert code == 1 and "manifest.json: altered" in output  # not one sdbridge wrote


def test_a_second_entry_of_the_same_name_is_caught(package, tmp_path):
    def twice(name, data, archive):
        if name == "report.json":
            archive.writestr(name, b'{"tampered": true}')
        archive.writestr(name, data)

    code, output = verified(rebuild(package, tmp_path / "twice.zip", twice))
    assert code == 1 and "report.json: appears 2 times" in output


def test_a_manifest_that_lists_no_report_is_refused(package, tmp_path):
    from sdbridge.export import manifest_digest

    def without_report(name, data, archive):
        if name == "manifest.json":
            manifest = json.loads(data)
            del manifest["files"]["report.json"]
            manifest["manifest_sha256"] = manifest_digest(manifest)
            data = json.dumps(manifest, indent=2)
        if name != "report.json":
            archive.writestr(name, data)

    code, output = verified(rebuild(package, tmp_path / "noreport.zip", without_report))
    assert code == 1 and "does not list report.json" in output


@pytest.mark.parametrize("files", [[], None, "x", {"report.json": "not-a-digest"}])
def test_a_manifest_of_the_wrong_shape_is_one_line_not_a_traceback(package, tmp_path, files):
    def bad_manifest(name, data, archive):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"] = files
            data = json.dumps(manifest)
        archive.writestr(name, data)

    code, output = verified(rebuild(package, tmp_path / "shape.zip", bad_manifest))
    assert code == 1 and "manifest.json" in output and "Traceback" not in output


def test_unsafe_names_links_encryption_and_unknown_methods_are_reported(package, tmp_path):
    def hostile(name, data, archive):
        archive.writestr(name, data)
        if name == "report.json":
            archive.writestr("../escape.txt", b"x")
            link = zipfile.ZipInfo("link")
            link.external_attr = 0o120777 << 16
            archive.writestr(link, "/etc/passwd")

    path = rebuild(package, tmp_path / "hostile.zip", hostile)
    code, output = verified(path)
    assert code == 1 and "climbs out of the package" in output and "symbolic link" in output
    raw = bytearray(path.read_bytes())
    # Flag the first entry encrypted, the second with an unknown method (local and central headers).
    position = raw.find(b"PK\x01\x02")
    raw[position + 8] |= 0x01
    second = raw.find(b"PK\x01\x02", position + 4)
    raw[second + 10 : second + 12] = (99).to_bytes(2, "little")
    tampered = tmp_path / "flags.zip"
    tampered.write_bytes(bytes(raw))
    code, output = verified(tampered)
    assert code == 1 and ("encrypted" in output or "method 99" in output)


def test_a_damaged_stream_and_a_zip_bomb_are_reported_not_unpacked(package, tmp_path, monkeypatch):
    raw = bytearray(package.read_bytes())
    start = raw.find(b"PK\x03\x04", 100)
    raw[start + 60 : start + 90] = b"\xff" * 30  # inside some deflate stream
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(raw))
    code, output = verified(damaged)
    assert code == 1 and "Traceback" not in output
    monkeypatch.setattr(verify, "MAX_ENTRY_BYTES", 1000)  # stands for 2 GiB: the same code path
    code, output = verified(package)
    assert code == 1 and "unpacks to more than the size a package may hold" in output


@pytest.mark.parametrize("target", ["folder", "/dev/zero", "/proc/self/status"])
def test_verify_and_export_refuse_what_is_not_a_package_file(tmp_path, target):
    path = tmp_path if target == "folder" else Path(target)
    result = runner.invoke(app, ["export", "--verify", str(path)])
    if target == "/proc/self/status":  # a readable regular file, but no zip
        assert result.exit_code == 1 and "not a readable zip archive" in result.output
    else:
        assert result.exit_code == 2 and "not a file" in result.output
    written = runner.invoke(app, ["export", "-c", str(DEMO_CONFIG), "--fresh", "--out", str(path)])
    assert written.exit_code == 2 and (
        "is a folder" in written.output or "system folder" in written.output or "not a regular file" in written.output
    )


def test_credentials_in_a_url_are_refused_and_never_echoed(tmp_path, monkeypatch):
    monkeypatch.setenv("T", "tok")
    config = tmp_path / "c.yaml"
    for url in ("https://bot:S3CRET-TOKEN@acme.atlassian.net", "https://acme.atlassian.net/?token=S3CRET-TOKEN"):
        config.write_text(
            f"sources:\n  - {{name: j, type: jira, url: '{url}', auth: cloud, email: a@b.c, token: '${{T}}', "
            "projects: [OPS]}\n",
            encoding="utf-8",
        )
        result = runner.invoke(app, ["check", "-c", str(config)])
        assert result.exit_code == 2 and "carries" in result.output and "token: ${ENV_VARIABLE}" in result.output
        assert "S3CRET-TOKEN" not in result.output


def test_an_emptied_or_foreign_store_is_refused_not_replaced(demo_workspace):
    store = demo_workspace.parent / ".sdbridge" / "state.db"
    assert runner.invoke(app, ["run", "-c", str(demo_workspace)]).exit_code == 0
    store.write_bytes(b"")
    result = runner.invoke(app, ["run", "-c", str(demo_workspace)])
    assert result.exit_code == 2 and "not an sdbridge store (0 bytes)" in result.output
    assert store.stat().st_size == 0  # not silently re-created: the history is not thrown away
    store.unlink()
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE invoices (id INTEGER)")
    result = runner.invoke(app, ["history", "-c", str(demo_workspace)])
    assert result.exit_code == 2 and "not an sdbridge store" in result.output


def test_a_killed_runs_row_is_closed_and_the_store_made_private(demo_workspace):
    folder = demo_workspace.parent
    assert runner.invoke(app, ["run", "-c", str(demo_workspace)]).exit_code == 0
    store = folder / ".sdbridge" / "state.db"
    with sqlite3.connect(store) as db:
        db.execute(
            "INSERT INTO runs (tenant, id, trigger, started_at) VALUES ('default', '19700101T000000Z-dead00', "
            "'manual', '1970-01-01T00:00:00+00:00')"
        )
    os.chmod(store, 0o644)
    assert runner.invoke(app, ["run", "-c", str(demo_workspace)]).exit_code == 0
    with sqlite3.connect(store) as db:
        status = db.execute("SELECT status FROM runs WHERE id = '19700101T000000Z-dead00'").fetchone()[0]
    assert status == "interrupted"
    assert store.stat().st_mode & 0o777 == 0o600
    shown = runner.invoke(app, ["history", "-c", str(demo_workspace), "--format", "json"])
    assert shown.exit_code == 0 and {r["status"] for r in json.loads(shown.output)} == {"ok", "interrupted"}
    assert runner.invoke(app, ["history", "-c", str(demo_workspace)]).exit_code == 0


def test_runs_started_together_on_a_new_store_never_break_its_schema(demo_workspace):
    folder = demo_workspace.parent
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "sdbridge", "-q", "run"],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = []
    for process in started:
        _, stderr = process.communicate(timeout=300)
        results.append((process.returncode, stderr))
    assert any(code == 0 for code, _ in results)
    for code, stderr in results:
        assert "already exists" not in stderr and "Traceback" not in stderr
        assert code == 0 or "held by" in stderr or "another" in stderr, stderr


def test_markup_in_outside_text_is_printed_as_text(tmp_path):
    (tmp_path / "x.csv").write_text("Key,[/bold] Summary\nA-1,x\n", encoding="utf-8")
    config = tmp_path / "c[red].yaml"
    config.write_text(
        "sources:\n  - {name: t, type: csv, path: 'no[/]such.csv', map: {WP.18: {fields: {id: Key}}}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check", "-c", str(config)])
    assert result.exit_code == 2 and "no[/]such.csv" in result.output
    config.write_text(
        "sources:\n  - {name: t, type: csv, path: x.csv, map: {WP.18: {fields: {id: Key, "
        "title: '[/bold] Summary'}}}}\n",
        encoding="utf-8",
    )
    shown = runner.invoke(app, ["mapping", "-c", str(config)], env={"COLUMNS": "250"})
    assert shown.exit_code == 0 and "[/bold] Summary" in shown.output


def test_a_bug_is_one_line_a_log_file_and_exit_4(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)

    def boom(*args, **kwargs):
        raise RuntimeError("something sdbridge did not expect")

    monkeypatch.setattr("sdbridge.runner.check_with_store", boom)
    monkeypatch.setattr(sys, "argv", ["sdbridge", "check", "-c", str(DEMO_CONFIG)])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 4
    stderr = capsys.readouterr().err
    assert "internal error: RuntimeError: something sdbridge did not expect" in stderr
    assert "Traceback" not in stderr and "--debug" in stderr
    logs = list((tmp_path / ".sdbridge").glob("crash-*.log"))
    assert len(logs) == 1 and "Traceback" in logs[0].read_text() and logs[0].stat().st_mode & 0o777 == 0o600


def test_a_report_temp_file_left_by_a_killed_run_is_removed(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    stale = out / ".report.json.k1ll3d"
    stale.write_text("")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fresh = out / ".report.json.writing"
    fresh.write_text("")
    assert runner.invoke(app, ["check", "-c", str(DEMO_CONFIG), "--out", str(out), "-f", "json"]).exit_code == 0
    assert not stale.exists() and fresh.exists()  # only what a killed process left


# --- bounded and honest input --------------------------------------------------------------------


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_duplicated_key_is_an_error_naming_both_lines(tmp_path):
    (tmp_path / "a.csv").write_text("Key\nA-1\n", encoding="utf-8")
    path = _config(
        tmp_path, "sources:\n  - {name: a, type: csv, path: a.csv}\nsources:\n  - {name: b, type: csv, path: a.csv}\n"
    )
    result = runner.invoke(app, ["check", "-c", str(path)])
    assert result.exit_code == 2 and "'sources' appears twice (lines 1 and 3)" in result.output


def test_a_yaml_bomb_and_deep_nesting_are_refused_in_a_config_and_in_front_matter(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 10)}]\n" for n in range(9)
    )
    result = runner.invoke(app, ["check", "-c", str(_config(tmp_path, bomb))])
    assert result.exit_code == 2 and ("aliases" in result.output or "expands to more than" in result.output)
    deep = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    result = runner.invoke(app, ["check", "-c", str(_config(tmp_path, deep))])
    assert result.exit_code == 2 and "nested deeper than" in result.output
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "p.md").write_text("---\n" + bomb + "---\n# Policy\n", encoding="utf-8")
    path = _config(tmp_path, "sources:\n  - {name: d, type: documents, path: docs, preset: documents}\n")
    result = runner.invoke(app, ["check", "-c", str(path)])
    assert result.exit_code == 2 and "p.md" in result.output and "front matter" in result.output


@pytest.mark.parametrize(
    "preset", ["- a list\n- of things\n", "!!python/object/apply:os.system ['true']\n", b"\xff\xfe"]
)
def test_a_broken_preset_file_is_a_config_error(tmp_path, preset):
    target = tmp_path / "mine.yaml"
    target.write_bytes(preset if isinstance(preset, bytes) else preset.encode())
    (tmp_path / "a.csv").write_text("Key\nA-1\n", encoding="utf-8")
    path = _config(tmp_path, "sources:\n  - {name: a, type: csv, path: a.csv, preset: mine.yaml}\n")
    result = runner.invoke(app, ["check", "-c", str(path)])
    assert result.exit_code == 2 and "preset file" in result.output and "Traceback" not in result.output


def test_a_document_linking_outside_its_folder_is_not_read(tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("---\nwork_product: WP.14\n---\n# Secret\nnot evidence\n", encoding="utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "policy.md").write_text("---\nwork_product: WP.14\n---\n# Policy\nText.\n", encoding="utf-8")
    (docs / "leak.md").symlink_to(secret)
    path = _config(tmp_path, "sources:\n  - {name: d, type: documents, path: docs, preset: documents}\n")
    result = runner.invoke(app, ["check", "-c", str(path), "--out", str(tmp_path / "r"), "-f", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["work_products"]["WP.14"]["records"] == 1
    assert any("leak.md: a link to a file outside the documents folder" in n for n in report["sources"][0]["notes"])


def test_a_formula_after_a_bare_carriage_return_is_neutralised(tmp_path):
    (tmp_path / "a.csv").write_text('Key,Summary\nA-1,"ok\r=2+2"\n', encoding="utf-8", newline="")
    path = _config(
        tmp_path, "sources:\n  - {name: a, type: csv, path: a.csv, map: {WP.18: {fields: {id: Key, title: Summary}}}}\n"
    )
    assert runner.invoke(app, ["check", "-c", str(path), "--out", str(tmp_path / "r"), "-f", "csv,xlsx"]).exit_code == 0
    text = (tmp_path / "r" / "findings.csv").read_bytes().decode("utf-8")  # bare CRs kept as they are
    assert "ok\r'=2+2" in text and "\r=2+2" not in text


def test_control_characters_never_break_the_workbook(tmp_path):
    (tmp_path / "a.csv").write_text("Key,Summary\nA-1,nul\x00bell\x07\n", encoding="utf-8")
    path = _config(
        tmp_path, "sources:\n  - {name: a, type: csv, path: a.csv, map: {WP.18: {fields: {id: Key, title: Summary}}}}\n"
    )
    result = runner.invoke(app, ["check", "-c", str(path), "--out", str(tmp_path / "r"), "-f", "json,xlsx"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "report.xlsx").stat().st_size > 0


def test_a_report_folder_that_is_a_file_is_one_line(tmp_path):
    target = tmp_path / "reports"
    target.write_text("not a folder", encoding="utf-8")
    result = runner.invoke(app, ["check", "-c", str(DEMO_CONFIG), "--out", str(target)])
    assert result.exit_code == 2 and "is a file" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "is a folder, not a regular file"),
        ("/dev/zero", "is a character device, not a regular file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a text file"),
        (b"Key,Summary\n\x8d\x8e,x\n", "not valid"),
    ],
)
def test_files_that_are_not_csv_exports_are_named(tmp_path, content, expected):
    target = tmp_path / "a.csv"
    if content is None:
        target.mkdir()
    elif isinstance(content, str):
        target.symlink_to(content)  # a device where the export belongs: never "a folder"
    else:
        target.write_bytes(content)
    path = _config(tmp_path, "sources:\n  - {name: a, type: csv, path: a.csv, map: {WP.18: {fields: {id: Key}}}}\n")
    result = runner.invoke(app, ["check", "-c", str(path)])
    assert result.exit_code == 2 and expected in result.output and "Traceback" not in result.output


def test_a_huge_cell_and_bare_carriage_returns_are_read(tmp_path):
    (tmp_path / "big.csv").write_text("Key,Summary\nA-1," + "x" * 3_000_000 + "\nA-2,y\n", encoding="utf-8")
    (tmp_path / "cr.csv").write_bytes(b"Key,Summary\rA-1,x\rA-2,y\r")
    for name in ("big.csv", "cr.csv"):
        path = _config(
            tmp_path, f"sources:\n  - {{name: a, type: csv, path: {name}, map: {{WP.18: {{fields: {{id: Key}}}}}}}}\n"
        )
        result = runner.invoke(app, ["check", "-c", str(path), "--out", str(tmp_path / "r"), "-f", "json"])
        assert result.exit_code == 0, result.output
        assert json.loads((tmp_path / "r" / "report.json").read_text())["work_products"]["WP.18"]["records"] == 2


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("delimiter: ''", "must be auto, tab or one character"),
        ("delimiter: ';;'", "must be auto, tab or one character"),
    ],
)
def test_a_bad_delimiter_is_a_config_error(tmp_path, setting, expected):
    (tmp_path / "a.csv").write_text("Key\nA-1\n", encoding="utf-8")
    path = _config(tmp_path, f"sources:\n  - {{name: a, type: csv, path: a.csv, {setting}}}\n")
    result = runner.invoke(app, ["check", "-c", str(path)])
    assert result.exit_code == 2 and expected in result.output


def test_a_huge_number_and_an_impossible_date_are_config_errors(tmp_path):
    (tmp_path / "a.csv").write_text("Key\nA-1\n", encoding="utf-8")
    path = _config(
        tmp_path, "process: {max_open_days: 99999999999999999999}\nsources:\n  - {name: a, type: csv, path: a.csv}\n"
    )
    result = runner.invoke(app, ["check", "-c", str(path)])
    assert result.exit_code == 2 and "process.max_open_days" in result.output
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "p.md").write_text("---\nwork_product: WP.14\napproved_on: 2026-02-30\n---\n# P\nx\n", encoding="utf-8")
    path = _config(tmp_path, "sources:\n  - {name: d, type: documents, path: docs, preset: documents}\n")
    result = runner.invoke(app, ["check", "-c", str(path)])
    assert result.exit_code == 2 and "p.md" in result.output and "day is out of range" in result.output


def test_formula_cells_without_a_saved_result_are_named_in_a_note(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Key", "Summary"])
    book.active.append(["A-1", '=CONCAT("a","b")'])
    book.save(tmp_path / "f.xlsx")
    path = _config(
        tmp_path,
        "sources:\n  - {name: a, type: xlsx, path: f.xlsx, map: {WP.18: {fields: {id: Key, title: Summary}}}}\n",
    )
    result = runner.invoke(app, ["check", "-c", str(path), "--out", str(tmp_path / "r"), "-f", "json"])
    assert result.exit_code == 0, result.output
    notes = json.loads((tmp_path / "r" / "report.json").read_text())["sources"][0]["notes"]
    assert any("1 formula cell(s)" in n and "B2" in n and "recalculate" in n for n in notes)


def _far_flung_workbook(path: Path) -> Path:
    """Two records, one stray cell in Excel's last column, one 200,000 rows down, and a
    `<dimension>` that claims the whole grid: read padded, that is 3 billion cells."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Key", "Summary"])
    sheet.append(["A-1", "first"])
    sheet["XFD1"] = "stray"
    sheet["A200000"] = "A-2"
    book.save(path)
    with zipfile.ZipFile(path) as original:
        parts = {info.filename: original.read(info) for info in original.infolist()}
    sheet_xml = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet_xml.replace(b'ref="A1:XFD200000"', b'ref="A1:XFD1048576"')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as copy:
        for name, data in parts.items():
            copy.writestr(name, data)
    return path


def test_a_workbook_that_claims_the_whole_grid_is_read_by_its_cells(tmp_path):
    _far_flung_workbook(tmp_path / "far.xlsx")
    path = _config(
        tmp_path,
        "sources:\n  - {name: a, type: xlsx, path: far.xlsx, map: {WP.18: {fields: {id: Key, title: Summary}}}}\n",
    )
    result = runner.invoke(app, ["check", "-c", str(path), "--out", str(tmp_path / "r"), "-f", "json"])
    assert result.exit_code == 0, result.output
    source = json.loads((tmp_path / "r" / "report.json").read_text())["sources"][0]
    assert source["items_pulled"] == 2 and source["mapped"] == 2
    assert any("199997 blank row(s)" in n for n in source["notes"])


def test_a_sheet_past_the_cell_cap_is_one_line(tmp_path, monkeypatch):
    from sdbridge.connectors import sheets

    monkeypatch.setattr(sheets, "MAX_CELLS", 5)
    _far_flung_workbook(tmp_path / "far.xlsx")
    path = _config(
        tmp_path,
        "sources:\n  - {name: a, type: xlsx, path: far.xlsx, map: {WP.18: {fields: {id: Key, title: Summary}}}}\n",
    )
    result = runner.invoke(app, ["check", "-c", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "far.xlsx: the sheet holds more than 5 cells (" in " ".join(result.output.split())
    assert "export the data as CSV" in result.output


def test_a_gitlab_listing_that_pages_without_end_stops_the_source_only(monkeypatch, tmp_path):
    from tests.fakes.gitlab_data import build_portal
    from tests.fakes.gitlab_server import FakeGitLab
    from tests.gitlab_setup import TOKEN, write_config

    monkeypatch.setenv("SDB_GITLAB_TOKEN", TOKEN)
    server = FakeGitLab(token=TOKEN, projects=[build_portal()])
    server.start()
    try:
        config = write_config(tmp_path, server.base, max_pages=1)  # stands for a server that never stops
        result = runner.invoke(app, ["pull", "-c", str(config)])
        assert result.exit_code == 3 and "still paging after" in result.output and "Traceback" not in result.output
    finally:
        server.stop()


class BadServer:
    """A loopback server that answers every request with an endless body (`huge`, chunked,
    no length) or a body sent one byte at a time (`trickle`)."""

    def __init__(self, mode: str) -> None:
        import http.server
        import threading

        bad = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - the http.server hook
                bad.requests += 1
                if mode == "slow-headers":  # the status line and headers, one byte at a time
                    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                    try:
                        for byte in head * 20:  # far longer than the timeout at this pace
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(0.05)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                try:
                    if mode == "huge":
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        block = b"[" + b"0," * 32_000
                        for _ in range(200):  # ~12 MiB, far over the (lowered) cap
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                    else:
                        self.send_header("Content-Length", "200")
                        self.end_headers()
                        for _ in range(200):
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(0.05)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: what is under test

            def log_message(self, *args):
                pass

        self.requests = 0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("kind", ["jira", "gitlab"])
@pytest.mark.parametrize("mode", ["huge", "trickle", "slow-headers"])
def test_answers_read_by_the_client_libraries_are_size_and_time_capped(monkeypatch, tmp_path, kind, mode):
    """The first request of each source is the library's own (Jira's serverInfo, GitLab's
    project): an endless body stops at the cap, a trickling one at the source's timeout."""
    from sdbridge import http

    monkeypatch.setattr(http, "MAX_BODY_BYTES", 1 << 20)
    monkeypatch.setenv("SDB_TOKEN", "t")
    server = BadServer(mode)
    source = {
        "name": kind,
        "type": kind,
        "url": server.base,
        "token": "${SDB_TOKEN}",
        "projects": ["OPS"] if kind == "jira" else ["team/portal"],
        "timeout_seconds": 1,
        "retry": {"tries": 1, "backoff_seconds": 0},
    }
    if kind == "jira":
        source["auth"] = "datacenter"
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({"sources": [source]}), encoding="utf-8")
    try:
        result = runner.invoke(app, ["pull", "-c", str(config)])
    finally:
        server.stop()
    assert result.exit_code == 3 and "Traceback" not in result.output, result.output
    assert server.requests == 1
    line = " ".join(result.output.split())
    if mode == "huge":
        assert f"the answer from {server.base}" in line and "is larger than 1 MiB" in line
    else:  # a byte every 0.05 s never trips the per-read timeout: the whole answer's limit stops it
        assert "still failing after 1 attempt(s) (ReadTimeout)" in line


def _special_files(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    return fifo


@pytest.mark.parametrize("which", ["fifo", "/dev/zero"])
def test_a_config_that_is_a_fifo_or_a_device_is_refused_at_once(tmp_path, which):
    """Opening a FIFO waits for a writer forever; /dev/zero never ends: neither is read."""
    target = str(_special_files(tmp_path)) if which == "fifo" else which
    result = runner.invoke(app, ["check", "-c", target, "--out", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert "not a regular file" in result.output and "Traceback" not in result.output


def test_a_secret_file_that_is_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = _special_files(tmp_path)
    config = tmp_path / "c.yaml"
    config.write_text(
        "sources:\n  - name: g\n    type: gitlab\n    url: http://127.0.0.1:9\n"
        f"    token_file: {fifo}\n    projects: [a/b]\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["pull", "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert "secret file" in result.output and "named pipe" in result.output


@pytest.mark.parametrize("which", ["fifo", "/dev/full"])
def test_init_never_writes_its_config_over_a_device_or_a_fifo(tmp_path, which):
    target = _special_files(tmp_path) if which == "fifo" else Path(which)
    export = tmp_path / "e.csv"
    export.write_text("Issue key,Summary,Issue Type\nA-1,x,Incident\n", encoding="utf-8")
    before = os.stat(target).st_mode
    result = runner.invoke(app, ["init", "--from", str(export), "--out", str(target), "--force"])
    assert result.exit_code == 2, result.output
    assert "not a regular file" in result.output
    assert os.stat(target).st_mode == before  # still the device or the pipe


@pytest.mark.parametrize(("signal_name", "code", "said"), [("sigterm", 143, "SIGTERM"), ("sigint", 130, "Ctrl-C")])
def test_a_stop_while_reports_are_written_leaves_the_last_set_whole_and_the_run_interrupted(
    demo_workspace, signal_name, code, said
):
    """SIGTERM (an orchestrator) or SIGINT (Ctrl-C) after the first report of the new run was
    written (a fault point sends it, so the test waits on no clock): the folder still holds
    the previous run's reports, all of them, no hidden temporary files, and the run is
    recorded as interrupted."""
    folder = demo_workspace.parent
    first = subprocess.run(
        [sys.executable, "-m", "sdbridge", "-q", "run", "--out", "r"], cwd=folder, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in (folder / "r").iterdir()}
    stopped = subprocess.run(
        [sys.executable, "-m", "sdbridge", "run", "--out", "r"],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "SDBRIDGE_FAULT": f"{signal_name}:writing-reports"},
    )
    assert stopped.returncode == code, stopped.stderr
    assert f"interrupted ({said})" in stopped.stderr and "Traceback" not in stopped.stderr
    assert {p.name: p.read_bytes() for p in (folder / "r").iterdir()} == before  # nothing of the new run
    history = subprocess.run(
        [sys.executable, "-m", "sdbridge", "history", "--format", "json"], cwd=folder, capture_output=True, text=True
    )
    runs = json.loads(history.stdout)
    stopped_run = max(runs, key=lambda r: r["started_at"])
    assert stopped_run["status"] == "interrupted", runs


@pytest.mark.parametrize(
    ("files", "args", "said"),
    [
        ({"p.yaml": "name: p\noptions: [1, 2]\nmap: {}\n"}, ["check"], "`options` must be a mapping"),
        ({}, ["check"], "holds a NUL character"),
        ({}, ["history", "--store-url", "postgresql://u@h:abc/db"], "store URL cannot be read"),
        ({}, ["history", "--store-url", "postgresql://u@[::1/db"], "store URL cannot be read"),
    ],
    ids=["preset-options-list", "nul-in-path", "port-not-a-number", "open-ipv6-bracket"],
)
def test_shapes_that_crashed_are_one_line_and_exit_2(tmp_path, monkeypatch, files, args, said):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "a.csv").write_text("ID,Role\nR-1,x\n", encoding="utf-8")
    path = "a\\0.csv" if "nul" in said or "NUL" in said else "a.csv"
    preset = ", preset: p.yaml" if files else ""
    config = _config(tmp_path, f'sources:\n  - {{name: a, type: csv, path: "{path}"{preset}}}\n')
    if "--store-url" in args:
        monkeypatch.setenv("SDBRIDGE_STORE_URL", args[-1])
        args = args[:1]
    result = runner.invoke(app, [*args, "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert said in " ".join(result.output.split()) and "internal error" not in result.output


def test_a_package_with_a_corrupt_compressed_member_does_not_verify(package, tmp_path):
    broken = tmp_path / "broken.zip"
    data = bytearray(package.read_bytes())
    with zipfile.ZipFile(package) as archive:
        info = max(archive.infolist(), key=lambda i: i.compress_size)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 50
    for at in range(start, start + 200):
        data[at] ^= 0x5A
    broken.write_bytes(bytes(data))
    code, output = verified(broken)
    assert code == 1 and f"{info.filename}: damaged in the archive" in output and "internal error" not in output


def test_a_jira_search_that_gives_a_new_token_and_the_same_page_ends_by_progress(monkeypatch, tmp_path):
    from tests.fakes.jira_data import custom_field_list, issues_from_csv
    from tests.fakes.jira_server import FakeJira
    from tests.jira_setup import TOKEN, write_config

    monkeypatch.setenv("SDB_JIRA_TOKEN", TOKEN)
    server = FakeJira(
        cloud=True, token=TOKEN, issues=issues_from_csv(), custom_fields=custom_field_list(), endless=True
    )
    base = server.start()
    try:
        config = write_config(tmp_path, base, page_size=50, assets=None)
        result = runner.invoke(app, ["pull", "-c", str(config)])
        assert "Traceback" not in result.output
        assert "a page of issues already read; it was ended with 50" in " ".join(result.output.split())
        assert server.count("/search/jql") == 2  # the first page, and its repeat: no more
    finally:
        server.stop()


@pytest.mark.parametrize("graphql", [True, False], ids=["graphql", "rest"])
def test_a_gitlab_listing_whose_next_page_is_itself_ends_by_progress(monkeypatch, tmp_path, graphql):
    from tests.fakes.gitlab_data import build_portal
    from tests.fakes.gitlab_server import FakeGitLab
    from tests.gitlab_setup import TOKEN, write_config

    monkeypatch.setenv("SDB_GITLAB_TOKEN", TOKEN)
    server = FakeGitLab(token=TOKEN, projects=[build_portal()], next_to_itself=True)
    if graphql:  # GraphQL that says there is a next page, with a new cursor, and the same nodes
        from tests.fakes import gitlab_graphql

        portal = server.projects[0]
        node = {"id": "gid://gitlab/Issue/1", "iid": "1", "title": "x", "state": "opened", "webUrl": "u",
                "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z", "reference": "a#1",
                "labels": {"nodes": []}, "author": None, "type": "INCIDENT", "assignees": {"nodes": []},
                "notes": {"pageInfo": {"hasNextPage": False}, "nodes": []}}  # fmt: skip
        counter = iter(range(10**6))
        real = gitlab_graphql.answer

        def looping(fake, body):
            if "issues(" not in body.get("query", ""):
                return real(fake, body)
            page = {"pageInfo": {"hasNextPage": True, "endCursor": f"c{next(counter)}"}, "nodes": [node]}
            return {"data": {"project": {"issues": page}}}

        monkeypatch.setattr(gitlab_graphql, "answer", looping)
        del portal
    server.start()
    try:
        config = write_config(tmp_path, server.base, graphql=graphql)
        result = runner.invoke(app, ["pull", "-c", str(config)])
        assert "Traceback" not in result.output, result.output
        said = " ".join(result.output.split())
        assert "already read" in said if graphql else "named themselves as their next page" in said
        assert result.exit_code in (0, 3)
    finally:
        server.stop()


def test_a_file_that_is_no_store_keeps_its_permissions(tmp_path):
    """`portfolio --store notes.txt` by mistake: refused, and the file not made private first."""
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n", encoding="utf-8")
    os.chmod(notes, 0o644)
    result = runner.invoke(app, ["portfolio", "--store", str(notes), "--out", str(tmp_path / "p")])
    assert result.exit_code == 2, result.output
    assert notes.stat().st_mode & 0o777 == 0o644
