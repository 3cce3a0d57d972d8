"""The flavours real teams export beyond Jira and GitLab, each read with no hand-written config:
`init --from` then `check`, and the records and item statuses the fixture's own rows call for.

Fixtures: tests/fixtures/exports, written by scripts/make_export_fixtures.py (their README
names the product, version, language and where each shape comes from)."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.exports import onboard, rows_of, statuses

SN_DONE = ("Resolved", "Closed", "Canceled")


def significant(row: dict[str, str]) -> bool:
    return row["priority"] in ("1 - Critical", "2 - High") or row["impact"] == "1 - High"


@pytest.mark.parametrize(
    ("name", "style"),
    [("servicenow-incident-fields.csv", "field names"), ("servicenow-incident-labels.csv", "labels")],
)
def test_a_servicenow_incident_list_in_either_header_style(tmp_path, name, style):
    report, printed = onboard(tmp_path, name)
    assert f"ServiceNow incident list export ({style} as headers)" in printed
    assert "taken as a ticket list" in printed
    labels = {"Number": "number", "Short description": "short_description", "Caller": "caller_id"}
    labels |= {"Priority": "priority", "Impact": "impact", "State": "state", "Assigned to": "assigned_to"}
    labels |= {"Configuration item": "cmdb_ci", "Resolution notes": "close_notes", "Resolved": "resolved_at"}
    rows = [{labels.get(k, k): v for k, v in r.items()} for r in rows_of(name)]
    assert report["sources"][0]["records_by_work_product"] == {"WP.18": len(rows)}
    found = statuses(report)
    for row in rows:
        key, done = row["number"], row["state"] in SN_DONE
        # (empty) is ServiceNow's empty reference: no resolver; due once the incident is done
        expect_resolver = "missing" if done and row["assigned_to"] in ("", "(empty)") else None
        assert found.get((key, "WP.18.c")) == expect_resolver, key
        assert found.get((key, "WP.18.e")) == (None if row["cmdb_ci"] else "missing"), key
        expect_steps = "missing" if done and not row["close_notes"] else None  # open: pending
        assert found.get((key, "WP.18.g")) == expect_steps, key
    items = report["work_products"]["WP.18"]["items"]
    assert items["WP.18.h"]["not_applicable"] == sum(not significant(r) for r in rows)
    assert items["WP.18.i"]["pending"] == sum(r["state"] not in SN_DONE for r in rows)
    assert not [f for f in report["findings"] if f["status"] == "invalid"]


def test_a_servicenow_event_log_keeps_the_latest_row_of_each_incident(tmp_path):
    report, printed = onboard(tmp_path, "servicenow-incident-events.csv")
    rows = rows_of("servicenow-incident-events.csv")
    latest: dict[str, dict[str, str]] = {}
    for row in rows:
        if row["Number"] not in latest or row["Updated"] > latest[row["Number"]]["Updated"]:
            latest[row["Number"]] = row
    source = report["sources"][0]
    assert source["records_by_work_product"] == {"WP.18": len(latest)}
    assert (source["items_pulled"], source["mapped"], source["excluded"]) == (
        len(rows),
        len(latest),
        len(rows) - len(latest),
    )
    assert f"{len(rows)} rows -> {len(latest)} tickets" in printed
    assert any(f"{len(rows)} rows -> {len(latest)} tickets by Number" in note for note in source["notes"])
    done = [k for k, r in latest.items() if r["State"] in SN_DONE]
    assert report["work_products"]["WP.18"]["items"]["WP.18.i"]["pending"] == len(latest) - len(done)


def test_a_servicenow_change_list_counts_only_an_approved_approval(tmp_path):
    report, printed = onboard(tmp_path, "servicenow-change-labels.csv")
    assert "ServiceNow change_request list export" in printed
    rows = rows_of("servicenow-change-labels.csv")
    assert report["sources"][0]["records_by_work_product"] == {"WP.11": len(rows)}
    found = statuses(report)
    for row in rows:
        approved = row["Approval"] == "Approved"
        assert (found.get((row["Number"], "WP.11.f")) is None) == approved, row["Number"]
        assert (found.get((row["Number"], "WP.11.d")) is None) == bool(row["Planned start date"]), row["Number"]


def test_a_servicenow_problem_list_is_checked_for_root_cause_and_solution(tmp_path):
    report, _ = onboard(tmp_path, "servicenow-problem-fields.csv")
    rows = rows_of("servicenow-problem-fields.csv")
    assert report["sources"][0]["records_by_work_product"] == {"WP.18": len(rows)}
    found = statuses(report)
    for row in rows:
        done = row["state"] in SN_DONE
        complete = row["cause_notes"] and row["fix_notes"]
        assert found.get((row["number"], "WP.18.h")) == (None if complete or not done else "missing"), row["number"]


def test_a_custom_servicenow_table_is_read_by_the_meaning_of_its_u_fields(tmp_path):
    report, printed = onboard(tmp_path, "servicenow-u-table.csv")
    assert "taken as a ticket list" in printed
    rows = rows_of("servicenow-u-table.csv")
    assert report["sources"][0]["records_by_work_product"] == {"WP.18": len(rows)}
    found = statuses(report)
    for row in rows:
        done = row["u_state"] == "Closed"
        assert found.get((row["u_number"], "WP.18.g")) == (
            "missing" if done and not row["u_resolution_notes"] else None
        )
        assert (found.get((row["u_number"], "WP.18.i")) is None) == (done and bool(row["u_closed"]) or not done)


@pytest.mark.parametrize("code", ["pt", "es", "de"])
def test_a_glpi_ticket_list_without_a_type_column_in_another_language(tmp_path, code):
    name = f"glpi-{code}.csv"
    report, printed = onboard(tmp_path, name)
    assert f"GLPI ticket list, {code} UI" in printed
    assert "taken as a ticket list" in printed
    rows = rows_of(name, delimiter=";")
    header = list(rows[0])
    ident, status, priority, technician = header[0], header[2], header[5], header[7]
    assert report["sources"][0]["records_by_work_product"] == {"WP.18": len(rows)}  # never a CMDB
    found = statuses(report)
    done_words = {"pt": ("Solucionado", "Fechado"), "es": ("Resuelto", "Cerrado"), "de": ("Gelöst", "Geschlossen")}
    for row in rows:
        key = row[ident].replace(" ", "")  # `2 553` is ticket 2553
        done = row[status] in done_words[code]
        assert found.get((key, "WP.18.c")) == ("missing" if done and not row[technician] else None), key
        assert found.get((key, "WP.18.f")) is None  # the priority column is read in that language
    high = {"pt": ("Muito alta", "Alta"), "es": ("Muy urgente", "Urgente"), "de": ("Sehr hoch", "Hoch")}[code]
    items = report["work_products"]["WP.18"]["items"]
    assert items["WP.18.h"]["not_applicable"] == sum(r[priority] not in high for r in rows)
    assert items["WP.18.i"]["pending"] == sum(r[status] not in done_words[code] for r in rows)


def test_a_portuguese_glpi_list_joins_several_technicians(tmp_path):
    onboard(tmp_path, "glpi-pt.csv")
    text = (tmp_path / "sdbridge.yaml").read_text(encoding="utf-8")
    assert "preset: glpi-csv" in text and "generic-cmdb" not in text


def test_german_jira_values_decide_type_done_and_significance(tmp_path):
    report, printed = onboard(tmp_path, "jira-de.csv")
    rows = rows_of("jira-de.csv")
    incidents = [r for r in rows if r["Vorgangstyp"] == "Vorfall"]
    changes = [r for r in rows if r["Vorgangstyp"] == "Änderung"]
    source = report["sources"][0]
    assert source["records_by_work_product"] == {"WP.18": len(incidents), "WP.11": len(changes)}
    reopened = [r for r in incidents if r["Status"] == "Wieder geöffnet"]
    assert reopened and all(r["Lösung"] == "Fertig" for r in reopened)  # the resolution left set
    items = report["work_products"]["WP.18"]["items"]
    assert items["WP.18.i"]["pending"] == sum(r["Status"] != "Fertig" for r in incidents)  # reopened: open
    note = f"WP.18.done: {len(reopened)} record(s) where Status (Wieder geöffnet {len(reopened)}) and Resolution"
    assert any(n.startswith(note) for n in source["notes"])
    assert items["WP.18.h"]["not_applicable"] == sum(r["Priorität"] not in ("Höchste", "Hoch") for r in incidents)


def test_a_hand_kept_workbook_with_a_title_row_is_read_from_its_header(tmp_path):
    report, printed = onboard(tmp_path, "cmdb-titled.xlsx")
    assert "preset generic-cmdb" in printed and "3 row(s) above the header in sheet 'CMDB'" in printed
    source = report["sources"][0]
    assert source["records_by_work_product"] == {"WP.02": 15} and source["status"] == "ok"
    book = load_workbook(tmp_path / "cmdb-titled.xlsx", read_only=True)
    rows = list(book["CMDB"].iter_rows(min_row=5, values_only=True))
    book.close()
    found = statuses(report)
    for row in rows:
        assert (found.get((row[0], "WP.02.f")) is None) == bool(row[6])  # Owner
        assert (found.get((row[0], "WP.02.a")) is None) == bool(row[2])  # Description


def test_no_source_hides_behind_the_others_in_a_run_of_many_exports(tmp_path):
    """Eight exports together: the GLPI tickets are incidents whatever else the run holds, so
    their open tickets keep P14's closure check from being met organisation-wide."""
    names = ["jira-cloud.csv", "gitlab-16.csv", "servicenow-cmdb_ci.csv", "glpi-pt.csv", "glpi-de.csv"]
    names += ["servicenow-incident-labels.csv", "servicenow-change-labels.csv", "cmdb-titled.xlsx"]
    report, _ = onboard(tmp_path, *names)
    by_name = {s["name"]: s for s in report["sources"]}
    for code in ("pt", "de"):
        assert by_name[f"glpi-{code}"]["records_by_work_product"] == {
            "WP.18": len(rows_of(f"glpi-{code}.csv", delimiter=";"))
        }
    assert by_name["servicenow-cmdb_ci"]["records_by_work_product"].keys() == {"WP.02"}
    assert by_name["cmdb-titled"]["records_by_work_product"] == {"WP.02": 15}
    check = next(c for c in report["process_checks"] if c["id"] == "P14.incidents-closed")
    assert check["status"] == "gap"
