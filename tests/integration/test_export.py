"""The audit package: contents indexed by the standard's ids, period selection, verification."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sdbridge.cli import app

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "config" / "demo.yaml"
runner = CliRunner()


def export(tmp_path: Path, *extra: str) -> Path:
    target = tmp_path / "audit.zip"
    result = runner.invoke(app, ["export", "-c", str(DEMO_CONFIG), "--out", str(target), *extra])
    assert result.exit_code == 0, result.output
    return target


def test_a_fresh_package_holds_what_an_auditor_asks_for_and_verifies(tmp_path):
    package = export(tmp_path)
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        checklist = list(csv.DictReader(io.StringIO(archive.read("annex-c-checklist.csv").decode())))
        trace = list(csv.DictReader(io.StringIO(archive.read("annex-b-traceability.csv").decode())))
        report = json.loads(archive.read("report.json"))
    assert {
        "index.html",
        "report.json",
        "findings.csv",
        "annex-c-checklist.csv",
        "annex-b-traceability.csv",
        "WP.18/records.csv",
        "WP.18/records.json",
        "WP.18/findings.csv",
        "manifest.json",
    } <= names
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert manifest["run_id"] == report["run_id"] and manifest["evidence_collected_at"]
    assert {row["work_product"] for row in checklist} == {f"WP.{i:02d}" for i in range(1, 22)}
    assert {row["requirement"] for row in trace} == {f"P{i:02d}" for i in range(1, 18)}
    assert any(r["guide_task"] == "IN.2.4" and r["work_product"] == "WP.18" for r in trace)
    result = runner.invoke(app, ["export", "--verify", str(package)])
    assert result.exit_code == 0 and "every file matches" in result.output


@pytest.mark.parametrize("victim", ["WP.18/records.csv", "report.json"])
def test_one_changed_byte_is_found_and_named(tmp_path, victim):
    package = export(tmp_path)
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == victim:
                data = bytes([data[0] ^ 1]) + data[1:]
            target.writestr(name, data)
    result = runner.invoke(app, ["export", "--verify", str(tampered)])
    assert result.exit_code == 1
    assert f"{victim}: altered" in result.output


def test_a_missing_file_is_named(tmp_path):
    package = export(tmp_path)
    stripped = tmp_path / "stripped.zip"
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(stripped, "w") as target:
        for name in source.namelist():
            if name != "annex-c-checklist.csv":
                target.writestr(name, source.read(name))
    result = runner.invoke(app, ["export", "--verify", str(stripped)])
    assert result.exit_code == 1 and "annex-c-checklist.csv: missing" in result.output


def test_the_period_selects_records_by_their_dates(tmp_path):
    whole = export(tmp_path)
    half = tmp_path / "half.zip"
    result = runner.invoke(
        app, ["export", "-c", str(DEMO_CONFIG), "--out", str(half), "--period", "2026-01-01..2026-03-31"]
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(whole) as a, zipfile.ZipFile(half) as b:
        all_rows = list(csv.DictReader(io.StringIO(a.read("WP.18/records.csv").decode())))
        q1_rows = list(csv.DictReader(io.StringIO(b.read("WP.18/records.csv").decode())))
        manifest = json.loads(b.read("manifest.json"))
        policy = b.read("WP.14/records.csv")
    assert 0 < len(q1_rows) < len(all_rows)
    assert all("2026-01" <= row["started_at"][:7] <= "2026-03" for row in q1_rows if row["started_at"])
    assert manifest["period"] == "2026-01-01..2026-03-31"
    assert b"POL-001" in policy  # documents are evidence whatever the period


def test_a_bad_period_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["export", "-c", str(DEMO_CONFIG), "--period", "last year"])
    assert result.exit_code == 2 and "FROM..TO" in result.output


def test_each_work_products_records_agree_across_csv_and_json(tmp_path):
    """records.json (encoded column-wise, like report.json) holds what records.csv holds,
    the item statuses included, with nulls as null."""
    package = export(tmp_path)
    with zipfile.ZipFile(package) as archive:
        for name in [n for n in archive.namelist() if n.endswith("/records.json")]:
            records = json.loads(archive.read(name))
            rows = list(csv.DictReader(io.StringIO(archive.read(name.replace(".json", ".csv")).decode())))
            assert len(records) == len(rows) > 0
            assert list(records[0]) == list(rows[0])
            for record, row in zip(records, rows, strict=True):
                as_csv = {k: "" if v is None else str(v) for k, v in record.items()}
                assert {k: v.removeprefix("'") for k, v in as_csv.items()} == {
                    k: v.removeprefix("'") for k, v in row.items()
                }  # the CSV neutralises formulas, the JSON keeps them
            assert any(k.startswith("status WP.") for k in records[0])


def test_a_package_that_cannot_be_written_leaves_nothing_and_says_why(tmp_path, monkeypatch):
    import sdbridge.export as export_module

    made: list[str] = []

    def members():
        for name in ("report.json", "findings.csv", "WP.18/records.csv"):
            made.append(name)
            yield name, b"x" * 1000
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        export_module.write_package(members(), tmp_path / "audit.zip")
    assert not (tmp_path / "audit.zip").exists() and not list(tmp_path.iterdir())
    assert made == ["report.json", "findings.csv", "WP.18/records.csv"]

    original = zipfile.ZipFile.open
    handed: list[str] = []

    def full_disk(self, name, mode="r", *args, **kwargs):
        if mode == "w" and getattr(name, "filename", name) == "m7.csv":
            raise OSError(28, "No space left on device")
        return original(self, name, mode, *args, **kwargs)

    def many():
        for at in range(50):
            handed.append(f"m{at}.csv")
            yield f"m{at}.csv", iter([b"a,b\n", b"1,2\n"])

    monkeypatch.setattr(zipfile.ZipFile, "open", full_disk)
    with pytest.raises(OSError, match="No space left"):  # the writer thread's failure reaches the caller
        export_module.write_package(many(), tmp_path / "b.zip")
    assert not list(tmp_path.iterdir())
    assert len(handed) < 50  # the producer stopped soon after the writer failed


def test_a_full_disk_during_export_is_one_line(tmp_path, monkeypatch):
    original = zipfile.ZipFile.open

    def full_disk(self, name, mode="r", *args, **kwargs):
        if mode == "w":  # writing a member of the package (reading a workbook goes on)
            raise OSError(28, "No space left on device")
        return original(self, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", full_disk)
    target = tmp_path / "audit.zip"
    result = runner.invoke(app, ["export", "-c", str(DEMO_CONFIG), "--out", str(target)])
    assert result.exit_code == 2
    assert f"could not write {target}: No space left on device" in result.output
    assert "Traceback" not in result.output and not target.exists()
