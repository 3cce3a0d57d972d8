"""Real exports, right answers with no hand-tuning: for each flavour of tests/fixtures/exports,
`sdbridge init --from` writes a config, `check` runs it unedited, and the records and item
statuses are those the export's own rows call for (expected values are read from the file)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sdbridge.cli import app
from tests.exports import onboard, onboard_files, rows_of, statuses

runner = CliRunner()


def test_jira_cloud_headers_find_components_due_dates_and_status_category(tmp_path):
    report, printed = onboard(tmp_path, "jira-cloud.csv")
    assert "Jira CSV export (Cloud headers)" in printed and "preset jira-csv" in printed
    rows = rows_of("jira-cloud.csv")
    incidents = [r for r in rows if r["Issue Type"] == "Incident"]
    changes = [r for r in rows if r["Issue Type"] == "Change"]
    source = report["sources"][0]
    assert source["records_by_work_product"] == {"WP.18": len(incidents), "WP.11": len(changes)}
    found = statuses(report)
    with_component = [r["Issue key"] for r in incidents if r["Components"]]
    without = [r["Issue key"] for r in incidents if not r["Components"]]
    assert with_component and without
    assert all((key, "WP.18.e") not in found for key in with_component)  # `Components` is Component/s
    assert all(found[(key, "WP.18.e")] == "missing" for key in without)
    assert all((r["Issue key"], "WP.11.d") not in found for r in changes)  # `Due date` is Due Date
    assert not [f for f in report["findings"] if f["status"] == "invalid"]


def test_jira_data_center_resolution_decides_done_and_comment_padding_is_dropped(tmp_path):
    report, printed = onboard(tmp_path, "jira-datacenter.csv")
    assert "Data Center/Server headers" in printed
    found = statuses(report)
    incidents = [r for r in rows_of("jira-datacenter.csv") if r["Issue Type"] == "Incident"]
    fixed_unassigned = [r["Issue key"] for r in incidents if r["Resolution"] == "Fixed" and not r["Assignee"]]
    open_unassigned = [r["Issue key"] for r in incidents if r["Resolution"] != "Fixed" and not r["Assignee"]]
    assert fixed_unassigned and open_unassigned
    # `Verified - UAT` is no status the preset knows, but `Resolution: Fixed` says done:
    # the resolver (pending until done) is due, and missing
    assert all(found[(key, "WP.18.c")] == "missing" for key in fixed_unassigned)
    assert all((key, "WP.18.c") not in found for key in open_unassigned)  # still pending


def test_a_spanish_jsm_export_reads_headers_dates_and_an_empty_approvals_cell(tmp_path):
    report, printed = onboard(tmp_path, "jsm-es.csv")
    assert "Jira Service Management" in printed and "es UI" in printed
    rows = rows_of("jsm-es.csv")
    changes = [r for r in rows if r["Tipo de Incidencia"] == "Cambio"]
    incidents = [r for r in rows if r["Tipo de Incidencia"] == "Incidente"]
    assert report["sources"][0]["records_by_work_product"] == {"WP.18": len(incidents), "WP.11": len(changes)}
    found = statuses(report)
    assert all(r["Campo personalizado (Approvals)"] == "ApprovalsCFValue{approvals=[]}" for r in changes)
    assert all(found[(r["Clave de incidencia"], "WP.11.f")] == "missing" for r in changes)
    p07 = next(c for c in report["process_checks"] if c["id"] == "P07.change-approved")
    assert p07["status"] != "met"
    # `18/ago/26 9:10 AM`-style dates are read: no date is invalid, start and end are there
    assert any("/ago/" in r["Creada"] or "/dic/" in r["Creada"] for r in rows)
    assert not [f for f in report["findings"] if f["status"] == "invalid"]
    resolved = [r["Clave de incidencia"] for r in incidents if r["Resuelta"]]
    assert resolved and all((key, "WP.18.i") not in found for key in resolved)


def test_an_excel_resaved_server_export_skips_blank_rows_and_reads_excel_dates(tmp_path):
    report, _ = onboard(tmp_path, "jira-server-excel.csv")
    source = report["sources"][0]
    assert source["items_pulled"] == 1 and source["records_by_work_product"]["WP.18"] == 1
    assert "739 blank row(s) (nothing between the delimiters) are not items and were skipped" in source["notes"]
    assert ("SRV-1", "WP.18.i") not in statuses(report)  # 16/02/2017 15:26 read as a date
    assert source["records_by_work_product"].get("WP.11") is None  # no change type: switched off


@pytest.mark.parametrize("name", ["gitlab-13.csv", "gitlab-16.csv"])
def test_gitlab_old_and_new_column_orders(tmp_path, name):
    report, printed = onboard(tmp_path, name)
    assert "GitLab issues CSV" in printed
    incidents = [r for r in rows_of(name) if "incident" in r["Labels"].lower()]
    assert report["sources"][0]["records_by_work_product"] == {"WP.18": len(incidents)}
    found = statuses(report)
    ids = [r["URL"].split("example.com/")[1].replace("/-/issues/", "#") for r in incidents]
    assert all((rid, "WP.18.d") not in found for rid in ids)  # impact read from the description's section


def test_a_servicenow_cmdb_list_with_lower_case_field_names(tmp_path):
    report, printed = onboard(tmp_path, "servicenow-cmdb_ci.csv")
    assert "ServiceNow CMDB list export" in printed
    rows = rows_of("servicenow-cmdb_ci.csv")
    assert report["sources"][0]["records_by_work_product"] == {"WP.02": len(rows)}
    found = statuses(report)
    ids = {r["sys_id"]: r for r in rows}
    assert all(((rid, "WP.02.g") in found) == (not row["location"]) for rid, row in ids.items())
    assert all((rid, "WP.02.e") not in found for rid in ids)  # install_date read as the date of service


def test_a_french_glpi_ticket_list(tmp_path):
    report, printed = onboard(tmp_path, "glpi-fr.csv")
    assert "GLPI ticket list, fr UI" in printed
    rows = rows_of("glpi-fr.csv", delimiter=";")
    # incidents and requests alike: both are service incident records (standard, clause 10.31)
    assert report["sources"][0]["records_by_work_product"] == {"WP.18": len(rows)}
    found = statuses(report)
    assert not [f for f in report["findings"] if f["status"] == "invalid"]
    assert all((r["ID"], "WP.18.f") not in found for r in rows)  # Priorité is Priority


def test_a_source_that_maps_nothing_says_why_and_exits_3(tmp_path):
    (tmp_path / "e.csv").write_text(
        "Issue key,Summary,Issue Type\nA-1,x,Task\nA-2,y,Story\nA-3,z,Task\n", encoding="utf-8"
    )
    (tmp_path / "c.yaml").write_text(
        "sources:\n  - {name: j, type: csv, path: e.csv, preset: jira-csv}\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["check", "-c", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "r")])
    assert result.exit_code == 3
    text = " ".join(result.output.split())
    assert (
        "WP.18: 0 of 3 rows kept by `where:` — 0 have Issue Type in ['Incident'] (values: Task 2, Story 1) — "
        "set `map.WP.18.where`" in text
    )
    assert "source 'j': none of its 3 row(s) became a record" in text
    assert "not every source could be checked: j (unmapped)" in text


def test_a_date_format_that_reads_under_half_the_values_is_a_note(tmp_path):
    (tmp_path / "e.csv").write_text(
        "Key,Summary,Created\nA-1,x,16/02/2017 15:26\nA-2,y,17/02/2017 09:00\nA-3,z,2017-02-18\n", encoding="utf-8"
    )
    (tmp_path / "c.yaml").write_text(
        "sources:\n  - name: t\n    type: csv\n    path: e.csv\n    date_formats: ['%Y-%m-%d']\n"
        "    map: {WP.18: {fields: {id: Key, title: Summary, started_at: Created}}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check", "-c", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert (
        "WP.18.started_at: 1 of 3 values read as dates with %Y-%m-%d; e.g. '16/02/2017 15:26' — set "
        "`date: {formats: [...]}` on the field, or `date_formats:` on the source" in text
    )


def test_headers_match_without_case_and_an_absent_column_names_the_closest(tmp_path):
    (tmp_path / "e.csv").write_text("ci id,NAME,Locaton\n1,a,Oslo\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text(
        "sources:\n  - {name: t, type: csv, path: e.csv, preset: generic-cmdb}\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["check", "-c", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "r"), "-f", "json"])
    assert result.exit_code == 0, result.output
    source = json.loads((tmp_path / "r" / "report.json").read_text())["sources"][0]
    assert source["records_by_work_product"] == {"WP.02": 1}
    assert any(
        "location (Location / Site / Data centre / Datacenter, closest headers: Locaton)" in n for n in source["notes"]
    )


def test_mapping_reads_the_export_and_marks_each_column(tmp_path):
    (tmp_path / "e.csv").write_text("Key,Summary,Location\n1,a,\n2,b,\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text(
        "sources:\n  - {name: t, type: csv, path: e.csv, preset: generic-cmdb}\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["mapping", "-c", str(tmp_path / "c.yaml")], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 3}
    assert "found Key (2 of 2 filled)" in lines["id"]
    assert "empty: Location has no value" in lines["location"]
    assert "absent" in lines["owner"]


def test_a_few_unread_dates_are_named_by_shape_and_formats_tried(tmp_path):
    (tmp_path / "e.csv").write_text(
        "Key,Summary,Created\nA-1,x,2017-02-16\nA-2,y,2017-02-17\nA-3,z,17/2/2017\nA-4,w,2017-02-18\n",
        encoding="utf-8",
    )
    (tmp_path / "c.yaml").write_text(
        "sources:\n  - name: t\n    type: csv\n    path: e.csv\n    date_formats: ['%Y-%m-%d']\n"
        "    map: {WP.18: {fields: {id: Key, title: Summary, started_at: Created}}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check", "-c", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "r"), "-f", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert (
        "WP.18.started_at: 1 of 4 values are not dates sdbridge reads with %Y-%m-%d: '99/9/9999' (1)"
        in (report["sources"][0]["notes"])
    )
    invalid = [f for f in report["findings"] if f["status"] == "invalid"]
    assert [f["record_id"] for f in invalid] == ["A-3"]
    assert "the source's notes name the formats tried" in invalid[0]["message"]


def test_a_documents_folder_given_to_init_becomes_a_documents_source(tmp_path):
    demo_documents = Path(__file__).resolve().parents[2] / "src" / "sdbridge" / "demo" / "data" / "documents"
    shutil.copytree(demo_documents, tmp_path / "policies")
    config = tmp_path / "sdbridge.yaml"
    made = runner.invoke(app, ["init", "--from", str(tmp_path / "policies"), "--out", str(config)])
    assert made.exit_code == 0, made.output
    assert "documents folder (Markdown)" in made.output
    written = config.read_text(encoding="utf-8")
    assert "type: documents" in written and "preset: documents" in written
    checked = runner.invoke(app, ["check", "-c", str(config), "--out", str(tmp_path / "r"), "-f", "json"])
    assert checked.exit_code == 0, checked.output
    source = json.loads((tmp_path / "r" / "report.json").read_text())["sources"][0]
    assert source["type"] == "documents" and source["mapped"] == len(list((tmp_path / "policies").rglob("*.md")))


def test_init_from_nothing_or_onto_a_config_is_one_line(tmp_path):
    empty = runner.invoke(app, ["init", "--from", "--out", str(tmp_path / "c.yaml")])
    assert empty.exit_code == 2 and "give at least one export after --from" in empty.output
    (tmp_path / "c.yaml").write_text("sources: []\n", encoding="utf-8")
    (tmp_path / "e.csv").write_text("Key,Summary\nA-1,x\n", encoding="utf-8")
    onto = runner.invoke(app, ["init", "--from", str(tmp_path / "e.csv"), "--out", str(tmp_path / "c.yaml")])
    assert onto.exit_code == 2 and "exists; use --force" in onto.output
    assert (tmp_path / "c.yaml").read_text(encoding="utf-8") == "sources: []\n"


def test_a_reopened_incident_with_its_resolution_left_set_is_open_and_a_note_counts_it(tmp_path):
    (tmp_path / "e.csv").write_text(
        "Issue key,Summary,Issue Type,Status,Resolution,Assignee,Created,Resolved\n"
        "H-1,x,Incident,Reopened,Fixed,,01/Feb/26 9:00 AM,\n"
        "H-2,y,Incident,Reopened,Fixed,,02/Feb/26 9:00 AM,\n"
        "H-3,z,Incident,Verified - UAT,Fixed,,03/Feb/26 9:00 AM,\n"
        "H-4,w,Incident,Closed,Fixed,,04/Feb/26 9:00 AM,05/Feb/26 9:00 AM\n",
        encoding="utf-8",
    )
    (tmp_path / "c.yaml").write_text("sources:\n  - {name: j, type: csv, path: e.csv, preset: jira-csv}\n")
    result = runner.invoke(app, ["check", "-c", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "r"), "-f", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    end = report["work_products"]["WP.18"]["items"]["WP.18.i"]
    assert end["pending"] == 2  # H-1, H-2: open again, so their end date waits
    assert end["missing"] == 1  # H-3: an unknown status, and the Resolution says done
    notes = report["sources"][0]["notes"]
    assert "WP.18.done: 2 record(s) where Status (Reopened 2) and Resolution disagree: Status decides" in notes
    check = next(c for c in report["process_checks"] if c["id"] == "P14.incidents-closed")
    assert check["status"] != "met"


def test_a_value_that_only_looks_filled_is_empty_whatever_the_config_names(tmp_path):
    """A hand-written config that maps JSM's approvals cell as it is: `ApprovalsCFValue{approvals=[]}`,
    `N/A` and ServiceNow's `(empty)` are empty all the same, so no change counts as approved."""
    (tmp_path / "e.csv").write_text(
        "Issue key,Summary,Issue Type,Status,Custom field (Approvals),Custom field (Business impact),Priority,Created\n"
        "C-1,a,Change,Done,ApprovalsCFValue{approvals=[]},Low,High,01/Feb/26 9:00 AM\n"
        "C-2,b,Change,Done,N/A,Low,High,01/Feb/26 9:00 AM\n"
        "C-3,c,Change,Done,(empty),Low,High,01/Feb/26 9:00 AM\n",
        encoding="utf-8",
    )
    (tmp_path / "c.yaml").write_text(
        "sources:\n  - name: j\n    type: csv\n    path: e.csv\n    map:\n      WP.11:\n        fields:\n"
        "          id: Issue key\n          title: Summary\n          business_impact: Custom field (Business impact)\n"
        '          approval: "Custom field (Approvals)"\n'
    )
    result = runner.invoke(app, ["check", "-c", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "r"), "-f", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert report["work_products"]["WP.11"]["items"]["WP.11.f"]["missing"] == 3
    assert next(r for r in report["requirements"] if r["id"] == "P07")["status"] != "met"


def test_a_placeholder_is_empty_before_a_transform_reads_it(tmp_path):
    (tmp_path / "e.csv").write_text("Key,Summary,Severity\nT-1,a,N/A\nT-2,b,(empty)\nT-3,c,S1\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text(
        "sources:\n  - name: t\n    type: csv\n    path: e.csv\n    map:\n      WP.18:\n        fields:\n"
        "          id: Key\n          title: Summary\n          significant: {from: Severity, transforms: [{matches: '.'}]}\n"
    )
    result = runner.invoke(app, ["check", "-c", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "r"), "-f", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert report["work_products"]["WP.18"]["items"]["WP.18.h"]["not_applicable"] == 2  # only T-3 is significant


def test_german_priorities_make_an_incident_significant_and_a_rule_that_matches_nothing_is_a_note(tmp_path):
    (tmp_path / "de.csv").write_text(
        "Vorgangsschlüssel,Zusammenfassung,Vorgangstyp,Status,Priorität,Erstellt\n"
        "D-1,Mail,Vorfall,Offen,Höchste,01/Feb/26 9:00 AM\n"
        "D-2,Web,Vorfall,Offen,Hoch,01/Feb/26 9:00 AM\n"
        "D-3,DNS,Vorfall,Offen,Mittel,01/Feb/26 9:00 AM\n",
        encoding="utf-8",
    )
    (tmp_path / "low.csv").write_text(
        "Vorgangsschlüssel,Zusammenfassung,Vorgangstyp,Status,Priorität,Erstellt\n"
        "L-1,Mail,Vorfall,Offen,Mittel,01/Feb/26 9:00 AM\nL-2,Web,Vorfall,Offen,Niedrig,01/Feb/26 9:00 AM\n",
        encoding="utf-8",
    )
    report, printed = onboard_files(tmp_path, "de.csv", "low.csv")
    h = report["work_products"]["WP.18"]["items"]["WP.18.h"]
    assert h["not_applicable"] == 3  # D-3, L-1, L-2; Höchste and Hoch are significant
    low = next(s for s in report["sources"] if s["name"] == "low")
    assert any("no record counts as significant" in n and "Mittel 1, Niedrig 1" in n for n in low["notes"])
    assert "WP.18.h" not in low["never_provides"].get("WP.18", [])  # it applies to none: not "never provided"
    high = next(s for s in report["sources"] if s["name"] == "de")
    assert "WP.18.h" in high["never_provides"]["WP.18"]  # it applies, and no root cause column exists


def test_init_writes_a_config_that_reads_back_when_a_file_name_holds_a_control_character(tmp_path):
    name = "odd\x1bname.csv"
    (tmp_path / name).write_text("Issue key,Summary,Issue Type\nA-1,x,Incident\n", encoding="utf-8")
    report, _ = onboard_files(tmp_path, name)
    assert report["sources"][0]["records_by_work_product"] == {"WP.18": 1}
