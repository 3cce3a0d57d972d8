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
