"""The Jira connector: the real `jira` client over real HTTP against the loopback fake."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from sdbridge.cli import app
from sdbridge.config import load_config
from sdbridge.mapping.table import RECORD_ID
from sdbridge.pipeline import check
from sdbridge.runner import check_with_store
from tests.fakes.jira_data import DEMO, custom_field_list, issues_from_csv, many_issues
from tests.fakes.jira_server import FakeJira
from tests.jira_setup import TOKEN, canonical, fake, token_env, write_config  # noqa: F401 (fixtures)

runner = CliRunner()


def test_pull_then_check_gives_the_records_of_the_csv_export(fake, tmp_path):
    config_path = write_config(tmp_path, fake.base)
    pulled = runner.invoke(app, ["pull", "-c", str(config_path)])
    assert pulled.exit_code == 0, pulled.output
    api, _ = check_with_store(load_config(config_path))
    csv = check(load_config(DEMO.parent / "demo.yaml"))
    for wp in ("WP.18", "WP.11"):
        from_api = canonical(api.tables[wp].frame)
        from_csv = {
            k: v
            for k, v in canonical(csv.tables[wp].frame).items()
            if csv.tables[wp].frame.set_index(RECORD_ID).loc[k, "_source"] == "jira"
        }
        assert from_api.keys() == from_csv.keys()
        for key in from_api:
            expected = dict(from_csv[key])
            if wp == "WP.11" and expected["needed_by"] == "" and from_api[key]["needed_by"] == "":
                pass
            assert from_api[key] == expected, key
    assert canonical(api.tables["WP.02"].frame) == canonical(csv.tables["WP.02"].frame)


def test_the_hand_typed_date_is_the_one_difference(fake, tmp_path):
    """'ASAP' in the CSV's Due Date is invalid there; Jira's typed date field cannot hold it."""
    csv = check(load_config(DEMO.parent / "demo.yaml")).assessment.findings
    assert len(csv[(csv.item == "WP.11.d") & (csv.status == "invalid")]) == 1


def test_a_full_pull_costs_one_search_request_per_page(fake, tmp_path):
    config_path = write_config(tmp_path, fake.base)
    assert runner.invoke(app, ["pull", "-c", str(config_path)]).exit_code == 0
    searches = fake.count("/search/jql")
    assert searches == math.ceil(len(fake.issues) / 50) >= 3
    assert fake.count("/search") == searches  # never the old /search, which answers 410 on Cloud
    # changelogs in bulk: one request per 1,000 issues (and per page), never one per issue
    assert fake.count("/changelog/bulkfetch") == math.ceil(len(fake.issues) / 1000)
    assert fake.count("/changelog") == fake.count("/changelog/bulkfetch")


def test_a_second_pull_reads_only_what_changed_plus_the_overlap(fake, tmp_path):
    config_path = write_config(tmp_path, fake.base, overlap_minutes=0)
    assert runner.invoke(app, ["pull", "-c", str(config_path)]).exit_code == 0
    newest = max(i["_updated_ms"] for i in fake.issues)
    changed = fake.issues[:2]
    for offset, issue in enumerate(changed, start=1):
        issue["_updated_ms"] = newest + offset * 60_000
        issue["fields"]["updated"] = pd.Timestamp(issue["_updated_ms"], unit="ms", tz="UTC").isoformat()
        issue["fields"]["customfield_10103"] = None if issue["fields"]["customfield_10103"] else "Found"
    fake.requests.clear()
    second = runner.invoke(app, ["pull", "-c", str(config_path)])
    assert second.exit_code == 0, second.output
    searched = [q for _, path, q in fake.requests if path.endswith("/search/jql")]
    assert len(searched) == 1 and f"updated >= {newest}" in searched[0]["jql"]
    # the changelogs of the two changed issues + the one at the old watermark (>=), in one request
    assert fake.count("/changelog/bulkfetch") == 1 and fake.count("/changelog") == 1
    assert "incremental pull" in second.output and "created 0, updated 2" in second.output


def test_a_429_burst_and_a_503_are_survived_with_nothing_lost(fake, tmp_path):
    config_path = write_config(tmp_path, fake.base)
    fake.fail_next("/rest/api/3/search/jql", (429, {"Retry-After": "1"}), (429, {"Retry-After": "1"}), (503, {}))
    result = runner.invoke(app, ["pull", "-c", str(config_path)])
    assert result.exit_code == 0, result.output
    api, _ = check_with_store(load_config(config_path))
    assert api.tables["WP.18"].records + api.tables["WP.11"].records == sum(
        1 for i in fake.issues if i["fields"]["issuetype"]["name"] in ("Incident", "Change")
    )


def test_a_401_stops_the_source_with_one_line_and_exit_3(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("SDB_JIRA_TOKEN", "wrong")
    config_path = write_config(tmp_path, fake.base)
    result = runner.invoke(app, ["run", "-c", str(config_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 3
    assert "HTTP 401" in result.output and fake.base in result.output and "check the token" in result.output
    assert "Traceback" not in result.output and "wrong" not in result.output
    assert fake.count("/serverInfo") == 1  # not retried


def test_the_token_is_never_written_anywhere(fake, tmp_path):
    config_path = write_config(tmp_path, fake.base)
    result = runner.invoke(app, ["run", "-c", str(config_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_data_center_pages_with_startat_and_continues_past_the_result_window(tmp_path):
    server = FakeJira(
        cloud=False, token=TOKEN, issues=issues_from_csv(cloud=False), custom_fields=custom_field_list(), dc_window=60
    )
    base = server.start()
    try:
        config_path = write_config(tmp_path, base, cloud=False, result_window=60)
        result = runner.invoke(app, ["pull", "-c", str(config_path)])
        assert result.exit_code == 0, result.output
        searches = [q["jql"] for _, path, q in server.requests if path == "/rest/api/2/search"]
        assert any('key > "' in jql for jql in searches)
        api, _ = check_with_store(load_config(config_path))
        csv = check(load_config(DEMO.parent / "demo.yaml"))
        jira_ids = set(csv.tables["WP.18"].frame.query("_source == 'jira'")[RECORD_ID])
        assert set(api.tables["WP.18"].frame[RECORD_ID]) == jira_ids
        assert server.count("/changelog") == 0  # DC: changelog comes with expand=changelog
    finally:
        server.stop()


def test_an_ambiguous_custom_field_name_lists_the_candidates(fake, tmp_path):
    fake.custom_fields.append(
        {
            "id": "customfield_20000",
            "name": "Root cause",
            "custom": True,
            "schema": {"type": "option", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select"},
        }
    )
    config_path = write_config(tmp_path, fake.base)
    result = runner.invoke(app, ["pull", "-c", str(config_path)])
    assert result.exit_code == 2
    assert (
        "ambiguous" in result.output and "customfield_10103" in result.output and "customfield_20000" in result.output
    )


def test_check_makes_no_request_and_says_to_pull_first(fake, tmp_path):
    config_path = write_config(tmp_path, fake.base)
    result = runner.invoke(app, ["check", "-c", str(config_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 3, result.output  # a source that could not be checked, as `run` says it
    assert "jira (not pulled)" in result.output
    assert fake.requests == []
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["sources"][0]["status"] == "not_pulled"
    assert "sdbridge pull" in report["sources"][0]["error"]


def test_after_a_failed_pull_check_says_the_source_failed_not_ok(fake, tmp_path, monkeypatch):
    config_path = write_config(tmp_path, fake.base)
    assert runner.invoke(app, ["pull", "-c", str(config_path)]).exit_code == 0
    monkeypatch.setenv("SDB_JIRA_TOKEN", "revoked")
    assert runner.invoke(app, ["pull", "-c", str(config_path)]).exit_code == 3
    result = runner.invoke(app, ["check", "-c", str(config_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 3, result.output
    source = json.loads((tmp_path / "r" / "report.json").read_text())["sources"][0]
    assert source["status"] == "failed" and "401" in source["error"]
    assert source["mapped"] > 0  # checked on the last good data, which is kept
    assert any("checked the last good data" in note for note in source["notes"])


def test_jsm_approvals_evidence_the_change_approval(fake, tmp_path):
    changes = [
        i for i in fake.issues if i["fields"]["issuetype"]["name"] == "Change" and i["fields"]["customfield_10105"]
    ][:2]
    approved, unapproved = changes
    for issue in changes:
        issue["fields"]["customfield_10106"] = None
    approved["_approvals"] = [
        {
            "id": "1",
            "name": "CAB",
            "finalDecision": "approved",
            "completedDate": {"iso8601": "2026-05-01T10:00:00+0200"},
        }
    ]
    unapproved["_approvals"] = [{"id": "2", "name": "CAB", "finalDecision": "pending"}]
    config_path = write_config(tmp_path, fake.base)
    assert runner.invoke(app, ["pull", "-c", str(config_path)]).exit_code == 0
    result, _ = check_with_store(load_config(config_path))
    findings = result.assessment.findings
    f_items = findings[findings.item == "WP.11.f"]
    assert approved["key"] not in set(f_items.record_id)
    row = f_items[f_items.record_id == unapproved["key"]]
    assert len(row) == 1 and "(approval)" in row.message.iat[0]
    assert fake.count("/servicedeskapi/request/") == sum(
        1 for i in fake.issues if i["fields"]["issuetype"]["name"] == "Change"
    )


def test_a_full_pull_of_a_thousand_issues_is_at_the_request_minimum(tmp_path):
    """Searches of 100 and one bulk changelog request per 1,000 issues, plus the three
    set-up reads (server info, statuses, fields): the pull stays within 1.2x of that. (JSM
    approvals have no bulk endpoint: a source that reads them adds one request per change.)"""
    issues = many_issues(1000)
    server = FakeJira(cloud=True, token=TOKEN, issues=issues, custom_fields=custom_field_list(), assets=[])
    base = server.start()
    try:
        config_path = write_config(tmp_path, base, page_size=100, assets=None, approvals=False)
        result = runner.invoke(app, ["pull", "-c", str(config_path)])
        assert result.exit_code == 0, result.output
        minimum = math.ceil(1000 / 100) + math.ceil(1000 / 1000) + 3
        assert server.count("/search/jql") == 10 and server.count("/changelog/bulkfetch") == 1
        assert len(server.requests) <= 1.2 * minimum, sorted({p for _, p, _ in server.requests})
        assert "pulled 1000 items" in result.output
    finally:
        server.stop()


def test_a_retry_wait_says_what_it_waits_for_and_how_long(fake, tmp_path):
    fake.faults["/rest/api/3/search/jql"] = [(429, {"Retry-After": "1"})]
    config_path = write_config(tmp_path, fake.base)
    result = runner.invoke(app, ["pull", "-c", str(config_path)])
    assert result.exit_code == 0, result.output
    assert "jira: HTTP 429, waiting 1 s (Retry-After) before searching issues" in result.output
    quiet = runner.invoke(app, ["-qq", "pull", "-c", str(config_path)])
    assert quiet.exit_code == 0 and quiet.output == ""


@pytest.mark.parametrize("scope", [{"projects": ["NHS", "OPS"]}, {"projects": [], "jql": "labels is EMPTY"}])
def test_data_center_past_the_result_window_reads_every_issue_of_every_project(tmp_path, scope):
    """300 issues in two projects, a window of 100: Jira reads a key range inside one project
    only, so the search goes on project by project and loses none of the second project."""
    issues = many_issues(150, first_id=1000)
    for issue in many_issues(150, first_id=5000):
        issue["key"] = issue["key"].replace("NHS-", "OPS-")
        issues.append(issue)
    server = FakeJira(cloud=False, token=TOKEN, issues=issues, custom_fields=custom_field_list(), dc_window=100)
    base = server.start()
    try:
        config_path = write_config(tmp_path, base, cloud=False, result_window=100, page_size=50, **scope)
        pulled = runner.invoke(app, ["pull", "-c", str(config_path)])
        assert pulled.exit_code == 0, pulled.output
        checked = runner.invoke(app, ["check", "-c", str(config_path), "-f", "json", "--out", str(tmp_path / "r")])
        assert checked.exit_code == 0, checked.output
        report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
        assert report["sources"][0]["items_pulled"] == 300  # was 150: the second project was lost
        searches = [q for _, path, q in server.requests if path == "/rest/api/2/search"]
        assert all(int(q["startAt"]) < 100 for q in searches)  # never past the window
        assert len(searches) <= 300 // 50 + 4  # the minimum, plus one short page per project
    finally:
        server.stop()


def test_an_issue_that_is_no_customer_request_costs_its_own_approvals_only(fake, tmp_path):
    changes = [i for i in fake.issues if i["fields"]["issuetype"]["name"] == "Change"]
    lone, approved = [i for i in changes if i["fields"]["customfield_10105"]][:2]  # with a business impact
    lone["_not_request"] = True  # a change created in Jira itself: the approvals API answers 404
    approved["fields"]["customfield_10106"] = None
    approved["_approvals"] = [
        {
            "id": "1",
            "name": "CAB",
            "finalDecision": "approved",
            "completedDate": {"iso8601": "2026-05-01T10:00:00+0200"},
        }
    ]
    config_path = write_config(tmp_path, fake.base)
    pulled = runner.invoke(app, ["pull", "-c", str(config_path)])
    assert pulled.exit_code == 0, pulled.output  # was: the whole source failed
    assert f"the approvals of 1 issue(s) could not be read — {lone['key']} (404)" in " ".join(pulled.output.split())
    result, _ = check_with_store(load_config(config_path))
    f_items = result.assessment.findings[result.assessment.findings.item == "WP.11.f"]
    assert approved["key"] not in set(f_items.record_id)
    assert len(result.tables["WP.11"].frame) == len(changes)


def test_comments_given_as_a_bare_list_are_read_not_rejected(fake, tmp_path):
    issue = next(i for i in fake.issues if (i["fields"].get("comment") or {}).get("comments"))
    issue["fields"]["comment"] = list(issue["fields"]["comment"]["comments"])  # a proxy's shape
    config_path = write_config(tmp_path, fake.base)
    pulled = runner.invoke(app, ["pull", "-c", str(config_path)])
    assert pulled.exit_code == 0, pulled.output
    assert "could not be read" not in pulled.output
    result, _ = check_with_store(load_config(config_path))
    assert issue["key"] in set(result.tables["WP.18"].frame[RECORD_ID]) | set(result.tables["WP.11"].frame[RECORD_ID])
