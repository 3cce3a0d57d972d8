"""The `sdbridge` command end to end, on the demo data and on broken input."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sdbridge.cli import app

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "config" / "demo.yaml"
CONTRACT = {
    "profile",
    "variation",
    "generated_at",
    "run_id",
    "sources",
    "summary",
    "work_products",
    "requirements",
    "findings",
}
FINDING_KEYS = {"work_product", "item", "record_id", "source", "status", "severity", "url", "message"}

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("demo")
    result = runner.invoke(app, ["check", "-c", str(DEMO_CONFIG), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "report.json").read_text(encoding="utf-8")), out


def test_report_json_carries_the_contract(demo_report):
    report, _ = demo_report
    assert CONTRACT <= set(report)
    assert report["profile"] == "ISO/IEC 29110-4-3:2018"
    assert {"records", "records_with_gaps", "gaps", "by_work_product"} <= set(report["summary"])
    assert len(report["requirements"]) == 17
    assert all({"id", "status", "reason"} <= set(r) for r in report["requirements"])
    assert report["findings"] and all(FINDING_KEYS <= set(f) for f in report["findings"])
    for source in report["sources"]:
        assert {"name", "type", "items_pulled", "mapped", "rejected", "status"} <= set(source)


def test_report_numbers_reconcile(demo_report):
    report, _ = demo_report
    for source in report["sources"]:
        assert source["items_pulled"] == source["mapped"] + source["excluded"] + source["rejected"]
    summary = report["summary"]
    assert summary["gaps"] == len(report["findings"])
    by_wp = summary["by_work_product"]
    assert sum(w["records"] for w in by_wp.values()) == summary["records"]
    assert sum(w["gaps"] for w in by_wp.values()) == summary["gaps"]
    for wp_id, counts in by_wp.items():
        assert counts["gaps"] == sum(1 for f in report["findings"] if f["work_product"] == wp_id)
        records = report["work_products"][wp_id]["records"]
        from_sources = sum(s["records_by_work_product"].get(wp_id, 0) for s in report["sources"])
        assert records == from_sources


def test_demo_has_the_deliberate_gaps(demo_report):
    report, _ = demo_report
    findings = report["findings"]
    items = {f["item"] for f in findings}
    assert {"WP.18.h", "WP.18.g", "WP.18.e", "WP.11.f", "WP.02.f", "WP.06.c.6"} <= items
    assert any(f["status"] == "invalid" and f["item"] == "WP.11.d" for f in findings)  # "ASAP"
    jira = next(s for s in report["sources"] if s["name"] == "jira")
    assert jira["rejected"] == 1 and "duplicate" in jira["rejections"][0]["reason"]
    assert jira["excluded"] > 0  # service requests and tasks are not incidents or changes
    h = next(f for f in findings if f["item"] == "WP.18.h" and f["source"] == "jira")
    assert h["url"].startswith("https://nordlys.atlassian.net/browse/NHS-")
    assert "significant impact" in h["message"]


def test_markdown_report_groups_findings_by_wp_with_links(demo_report):
    _, out = demo_report
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "## Conformance by process" in text
    assert "### WP.18 Service incident record —" in text
    assert "](https://nordlys.atlassian.net/browse/NHS-" in text


def test_findings_csv_neutralises_formulas(demo_report):
    _, out = demo_report
    with (out / "findings.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    titles = [r["title"] for r in rows]
    assert not any(t.startswith(("=", "+", "@")) for t in titles)
    assert any(t.startswith("'=HYPERLINK") for t in titles)


def test_two_checks_give_identical_findings(tmp_path):
    for name in ("a", "b"):
        assert runner.invoke(app, ["check", "-c", str(DEMO_CONFIG), "--out", str(tmp_path / name)]).exit_code == 0
    a = json.loads((tmp_path / "a" / "report.json").read_text())["findings"]
    b = json.loads((tmp_path / "b" / "report.json").read_text())["findings"]
    assert a == b


def test_fail_on_gaps_exits_1(tmp_path):
    result = runner.invoke(app, ["check", "-c", str(DEMO_CONFIG), "--out", str(tmp_path), "--fail-on-gaps"])
    assert result.exit_code == 1


def test_format_option_selects_the_files(tmp_path):
    result = runner.invoke(app, ["check", "-c", str(DEMO_CONFIG), "--out", str(tmp_path), "--format", "csv"])
    assert result.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.csv"]
    bad = runner.invoke(app, ["check", "-c", str(DEMO_CONFIG), "--out", str(tmp_path), "--format", "pdf"])
    assert bad.exit_code == 2 and "pdf" in bad.output


def test_demo_command_prints_the_summary_and_writes_reports(tmp_path):
    result = runner.invoke(app, ["demo", "--out", str(tmp_path)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "Work products" in result.output and "Most frequent gaps" in result.output
    assert "WP.18" in result.output
    assert {p.name for p in tmp_path.iterdir()} == {
        "report.json",
        "report.md",
        "findings.csv",
        "findings.parquet",
        "report.html",
        "report.xlsx",
        "junit.xml",
    }


def test_demo_command_and_demo_config_agree(tmp_path, demo_report):
    runner.invoke(app, ["demo", "--out", str(tmp_path)])
    report, _ = demo_report
    demo = json.loads((tmp_path / "report.json").read_text())
    assert demo["summary"] == report["summary"]


def _sdbridge(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("sdbridge")
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def test_ragged_csv_is_exit_2_with_file_and_line_and_no_traceback(tmp_path):
    (tmp_path / "t.csv").write_text("Issue key,Issue Type\nSD-1,Incident\nSD-2,Incident,extra\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text(
        "sources:\n  - {name: t, type: csv, path: t.csv, map: {WP.18: {fields: {id: Issue key}}}}\n", encoding="utf-8"
    )
    result = _sdbridge("check", "-c", "c.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "t.csv:3" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "reports").exists()  # nothing half-done was written


def test_config_error_is_exit_2_without_traceback(tmp_path):
    (tmp_path / "c.yaml").write_text("sources:\n  - {name: t, type: csv}\n", encoding="utf-8")
    result = _sdbridge("check", "-c", "c.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "c.yaml:2: sources[0].path: Field required" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_writes_a_starter_that_loads(tmp_path):
    result = _sdbridge("init", "my.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    again = _sdbridge("init", "my.yaml", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "jira.csv").write_text(
        "Issue key,Issue Type,Summary,Priority,Created\nSD-1,Incident,Down,High,25/Feb/26 10:17 PM\n",
        encoding="utf-8",
    )
    check = _sdbridge("check", "-c", "my.yaml", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert (tmp_path / "reports" / "report.json").exists()


def test_mapping_command_shows_where_each_field_comes_from(tmp_path):
    result = runner.invoke(
        app, ["mapping", "-c", str(DEMO_CONFIG), "--source", "jira", "--work-product", "WP.18"], env={"COLUMNS": "220"}
    )
    assert result.exit_code == 0, result.output
    assert "jira -> WP.18 Service incident record" in result.output
    root = next(line for line in result.output.splitlines() if line.startswith("│ root_cause"))
    assert "WP.18.h" in root and "Custom field (Root cause)" in root and "preset jira-csv" in root
    assert "found Custom field (Root cause)" in root  # the demo export has that column, filled
    assert "Issue Type in ['Incident']" in result.output


def test_variation_can_be_chosen_on_the_command_line(tmp_path):
    result = runner.invoke(
        app, ["check", "-c", str(DEMO_CONFIG), "--variation", "governance", "--format", "json", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["variation"] == "governance" and report["conformance"]["requirements"] == 5
    bad = runner.invoke(app, ["check", "-c", str(DEMO_CONFIG), "--variation", "partial"])
    assert bad.exit_code == 2 and "governance, operational or full" in bad.output
