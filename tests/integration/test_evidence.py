"""No "met" without evidence, end to end through the CLI: exports that lack the inputs of a
check, empty exports and exports that can never provide an item."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sdbridge.cli import app

runner = CliRunner()


def _check(config: Path, out: Path) -> tuple[int, dict, str]:
    result = runner.invoke(app, ["check", "-c", str(config), "--out", str(out), "--format", "json,md,html"])
    return result.exit_code, json.loads((out / "report.json").read_text(encoding="utf-8")), result.output


def test_a_seven_column_jira_export_evidences_no_incident_check(write, tmp_path):
    # The columns of a minimal Jira "Export CSV (current fields)" with a narrow column choice.
    write(
        "narrow.csv",
        """
        Issue Type,Issue key,Issue id,Parent,Summary,Status,Resolution
        Incident,OPS-1,10001,,Mail down,In Progress,
        Incident,OPS-2,10002,,VPN flaps,Open,
        Incident,OPS-3,10003,,Disk alarm,Waiting for support,
        Task,OPS-4,10004,,Renew cert,Done,Done
        """,
    )
    config = write(
        "sdbridge.yaml",
        """
        sources:
          - {name: jira, type: csv, path: narrow.csv, preset: jira-csv}
        """,
    )
    code, report, _ = _check(config, tmp_path / "r")
    assert code == 0
    checks = {c["id"]: c for c in report["process_checks"]}
    assert checks["P14.incidents-closed"]["status"] == "not_evidenced"
    assert "0 of 3 incidents evaluated; 3 lack a start date" in checks["P14.incidents-closed"]["reason"]
    assert checks["P16.restoration-documented"]["status"] == "not_evidenced"
    assert "no source maps `restoration_steps` for WP.18" in checks["P16.restoration-documented"]["reason"]
    assert checks["P17.root-cause"]["status"] == "not_evidenced"
    assert "no source maps `significant`" in checks["P17.root-cause"]["reason"]
    assert not [r for r in report["requirements"] if r["status"] == "met"]
    # The three open incidents cannot show their end or root cause "pending": the export has no column.
    coverage = report["work_products"]["WP.18"]["items"]
    assert coverage["WP.18.i"]["pending"] == 0 and coverage["WP.18.i"]["missing"] == 3
    assert report["sources"][0]["never_provides"]["WP.18"][:2] == ["WP.18.b", "WP.18.c"]


def test_a_header_only_export_is_empty_and_its_work_product_has_no_evidence(write, tmp_path):
    write("roles.csv", "Role,Name,Responsibilities,Training,Competence,Service manager\n")
    write("incidents.csv", "Issue Type,Issue key,Summary,Status,Created\nIncident,OPS-1,Down,Done,2026-11-01 10:00\n")
    config = write(
        "sdbridge.yaml",
        """
        sources:
          - {name: roles, type: csv, path: roles.csv, preset: roles-list}
          - {name: jira, type: csv, path: incidents.csv, preset: jira-csv}
        """,
    )
    code, report, output = _check(config, tmp_path / "r")
    assert code == 0  # an empty export is read fine: no source failed
    roles = next(s for s in report["sources"] if s["name"] == "roles")
    assert roles["status"] == "empty" and roles["items_pulled"] == 0
    assert any("holds no data rows" in n for n in roles["notes"])
    wp08 = report["work_products"]["WP.08"]
    assert wp08["status"] == "no_evidence" and wp08["gaps"] == 0
    p15 = next(r for r in report["requirements"] if r["id"] == "P15")
    assert p15["status"] != "met" and "WP.08 has no records" in p15["reason"]
    assert "gap(s) in 0 of 0" not in json.dumps(report)
    assert "no evidence" in output
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "| roles | csv | empty |" in md


def test_a_gitlab_csv_export_never_provides_restoration_steps_or_root_cause(write, tmp_path):
    # GitLab "Export as CSV" columns (GitLab 16/17 issue list export); descriptions follow no template.
    write(
        "gitlab.csv",
        """
        Issue ID,URL,Title,State,Description,Author,Author Username,Assignee,Assignee Username,Confidential,Locked,Due Date,Created At (UTC),Updated At (UTC),Closed At (UTC),Milestone,Weight,Labels,Time Estimate,Time Spent
        1,https://gitlab.example.invalid/ops/web/-/issues/1,Site down,closed,Users saw 502,Ann,ann,Bo,bo,No,No,,2026-11-01 10:00:00,2026-11-01 12:00:00,2026-11-01 12:00:00,,,"incident,priority::1",0,0
        2,https://gitlab.example.invalid/ops/web/-/issues/2,Slow API,opened,Latency high,Ann,ann,,,No,No,,2026-11-20 10:00:00,2026-11-20 10:00:00,,,,"incident,priority::1",0,0
        """,
    )
    config = write(
        "sdbridge.yaml",
        """
        sources:
          - {name: gitlab, type: csv, path: gitlab.csv, preset: gitlab-csv}
        """,
    )
    code, report, output = _check(config, tmp_path / "r")
    assert code == 0
    gitlab = report["sources"][0]
    assert {"WP.18.g", "WP.18.h"} <= set(gitlab["never_provides"]["WP.18"])
    coverage = report["work_products"]["WP.18"]["items"]
    assert coverage["WP.18.g"]["pending"] == 0 and coverage["WP.18.g"]["missing"] == 2  # not pending on the open one
    findings = [f for f in report["findings"] if f["item"] in ("WP.18.g", "WP.18.h")]
    assert findings and all("not in this export" in f["message"] for f in findings)
    assert "gitlab never provides WP.18" in output
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "**gitlab** never provides WP.18: " in md and "WP.18.g (Steps taken to restore" in md
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "<b>gitlab</b> never provides WP.18" in html
    assert html.count("not in this export") == 0  # grouped, not one table row per record


def test_an_empty_jsm_approvals_value_is_no_approval(write, tmp_path):
    # A JSM "Export CSV (all fields)" writes the Approvals field as ApprovalsCFValue{approvals=[...]}.
    write(
        "jsm.csv",
        """
        Issue Type,Issue key,Summary,Status,Status Category,Approvals,Assignee
        Change,CHG-1,Patch db01,Done,Done,ApprovalsCFValue{approvals=[]},Unassigned
        Change,CHG-2,Patch web01,Done,Done,"ApprovalsCFValue{approvals=[ApprovalValue{name=CAB, finalDecision=declined}]}",null
        Change,CHG-3,Patch mail01,Done,Done,"ApprovalsCFValue{approvals=[ApprovalValue{name=CAB, finalDecision=approved}]}",[]
        """,
    )
    config = write(
        "sdbridge.yaml",
        """
        sources:
          - {name: jsm, type: csv, path: jsm.csv, preset: jira-csv}
        """,
    )
    code, report, _ = _check(config, tmp_path / "r")
    assert code == 0
    p07 = next(c for c in report["process_checks"] if c["id"] == "P07.change-approved")
    assert p07["status"] == "gap" and sorted(p07["records"]) == ["CHG-1", "CHG-2"]
    approved = [f["message"] for f in report["findings"] if f["record_id"] == "CHG-3" and f["item"] == "WP.11.f"]
    assert approved == ["Business impact and approvals (WP.11 f) is missing (business impact)"]  # approval present
    assert next(r for r in report["requirements"] if r["id"] == "P07")["status"] != "met"
