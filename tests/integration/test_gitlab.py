"""The GitLab connector: the real python-gitlab client over real HTTP against the loopback fake."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from sdbridge.cli import app
from sdbridge.config import load_config
from sdbridge.mapping.table import RECORD_ID
from sdbridge.pipeline import check
from sdbridge.runner import check_with_store, open_store
from tests.fakes.gitlab_data import DEMO, build_portal
from tests.fakes.gitlab_server import FakeGitLab, FakeProject
from tests.gitlab_setup import TOKEN, fake, token_env, write_config  # noqa: F401 (fixtures)
from tests.jira_setup import canonical

runner = CliRunner()


def pull(config_path: Path) -> str:
    result = runner.invoke(app, ["pull", "-c", str(config_path)])
    assert result.exit_code == 0, result.output
    return result.output


def test_pull_then_check_feeds_five_work_products(fake, tmp_path):
    config_path = write_config(tmp_path, fake.base)
    pull(config_path)
    result, _ = check_with_store(load_config(config_path))
    portal = fake.projects[0]
    tables = result.tables
    incidents = [i for i in portal.issues if i["issue_type"] == "incident" or "incident" in i["labels"]]
    assert tables["WP.18"].records == len(incidents)
    assert tables["WP.11"].records == len(portal.merge_requests)
    assert set(tables["WP.12"].frame[RECORD_ID]) == {"nordlys/portal/production", "nordlys/portal/staging"}
    assert tables["WP.13"].records == len(portal.releases)
    assert tables["WP.20"].records == len(portal.test_reports)  # pipelines without tests are no test report
    findings = result.assessment.findings
    unapproved = {f"nordlys/portal!{iid}" for iid, a in portal.approvals.items() if not a["approved_by"]}
    assert set(findings[(findings.item == "WP.11.f")].record_id) >= unapproved
    failing = findings[(findings.item == "WP.20.e")]
    assert set(failing.record_id) == {
        f"nordlys/portal#{p}" for p, r in portal.test_reports.items() if r["total"]["failed"]
    }
    production = tables["WP.12"].frame.set_index(RECORD_ID).loc["nordlys/portal/production"]
    assert len(production["change_schedule"]) == len(portal.deployments)


@pytest.mark.parametrize("graphql", [True, False], ids=["graphql", "rest"])
def test_csv_export_and_api_give_the_same_incident_records(fake, tmp_path, graphql):
    config_path = write_config(tmp_path, fake.base, graphql=graphql)
    pull(config_path)
    api, _ = check_with_store(load_config(config_path))
    csv = check(load_config(DEMO.parent / "demo.yaml"))
    from_csv = canonical(csv.tables["WP.18"].frame.query("_source == 'gitlab'"))
    from_api = canonical(api.tables["WP.18"].frame)
    assert from_api == from_csv


@pytest.mark.parametrize("graphql", [True, False], ids=["graphql", "rest"])
def test_every_page_is_read(fake, tmp_path, graphql):
    fake.total_limit = 3  # GitLab omits X-Total above 10,000; here above 3
    config_path = write_config(tmp_path, fake.base, graphql=graphql)
    pull(config_path)
    portal = fake.projects[0]
    pages = math.ceil(len(portal.issues) / 5)
    if graphql:  # issues with their notes and merge requests with their approvals, five to a request
        merge_pages = math.ceil(len(portal.merge_requests) / 5)
        # and one read of the server's schema, once a pull
        assert fake.count(r"^/api/graphql$") == 1 + pages + merge_pages and pages > 1
        assert fake.count(r"/issues") == 0 and fake.count(r"/merge_requests") == 0
    else:
        assert fake.count(r"/projects/42/issues$") == pages > 1
        assert fake.count(r"/issues/\d+/notes") == len(portal.issues)
        assert fake.count(r"/projects/42/merge_requests$") == math.ceil(len(portal.merge_requests) / 5)
        assert fake.count(r"/merge_requests/\d+/approvals") == len(portal.merge_requests)
    result, _ = check_with_store(load_config(config_path))
    assert result.tables["WP.11"].records == len(portal.merge_requests)  # no total needed to read them all


@pytest.mark.parametrize("graphql", [True, False], ids=["graphql", "rest"])
def test_a_second_pull_asks_only_for_what_changed(fake, tmp_path, graphql):
    config_path = write_config(tmp_path, fake.base, overlap_minutes=0, graphql=graphql)
    pull(config_path)
    fake.requests.clear()
    fake.graphql_requests.clear()
    issue = fake.projects[0].issues[0]
    issue["updated_at"] = "2099-01-01T00:00:00.000Z"
    issue["description"] += "\n## Root cause\nA full disk."
    output = pull(config_path)
    if graphql:
        schema, issues, merges = fake.graphql_requests  # the schema once; one page each, from their watermarks
        assert "__type" in schema["query"]
        assert "issues(" in issues["query"] and "mergeRequests(" in merges["query"]
        assert issues["variables"]["updatedAfter"] and merges["variables"]["updatedAfter"]
        assert fake.count(r"/issues") == 0
    else:
        issue_queries = [q for path, q in fake.requests if path.endswith("/projects/42/issues")]
        assert len(issue_queries) == 1 and issue_queries[0].get("updated_after")
        # the changed issue + the one at the old watermark (updated_after is inclusive)
        assert fake.count(r"/issues/\d+/notes") == 2
    assert "incremental pull" in output and "created 0, updated 1" in output


def test_429_and_502_are_survived_with_nothing_lost(fake, tmp_path):
    config_path = write_config(tmp_path, fake.base)
    fake.fail_next("/api/v4/projects/42/issues", (429, {"Retry-After": "1"}), (502, {}))
    fake.fail_next("/api/v4/projects/42/merge_requests", (429, {"RateLimit-Reset": "0"}))
    pull(config_path)
    result, _ = check_with_store(load_config(config_path))
    portal = fake.projects[0]
    assert result.tables["WP.11"].records == len(portal.merge_requests)
    assert result.tables["WP.18"].records == len(
        [i for i in portal.issues if i["issue_type"] == "incident" or "incident" in i["labels"]]
    )


def test_a_forbidden_project_is_named_and_the_others_are_checked(fake, tmp_path):
    fake.projects.append(FakeProject(id=43, path="nordlys/secret", forbidden=True))
    config_path = write_config(tmp_path, fake.base, projects=["nordlys/portal", "nordlys/secret", "nordlys/gone"])
    result = runner.invoke(app, ["run", "-c", str(config_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 3, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    source = report["sources"][0]
    assert source["status"] == "partial"
    assert "nordlys/secret" in source["error"] and "403" in source["error"]
    assert "nordlys/gone" in source["error"] and "404" in source["error"]
    assert report["summary"]["by_work_product"]["WP.18"]["records"] > 0
    assert TOKEN not in result.output


def test_a_group_is_listed_by_offset_pages_and_archived_projects_skipped(fake, tmp_path):
    fake.projects.append(FakeProject(id=44, path="nordlys/docs"))
    fake.projects.append(FakeProject(id=45, path="nordlys/old", archived=True))
    fake.groups["nordlys"] = [42, 44, 45]
    config_path = write_config(tmp_path, fake.base, projects=[], groups=["nordlys"], per_page=1)
    pull(config_path)
    listings = [q for path, q in fake.requests if path.endswith("/groups/nordlys/projects")]
    # groups.md documents no `pagination` for a group's projects (keyset is for `GET /projects`)
    assert len(listings) == 2 and "pagination" not in listings[0] and listings[1]["page"] == "2"
    asked = [r["variables"]["path"] for r in fake.graphql_requests if "path" in (r.get("variables") or {})]
    assert asked.count("nordlys/docs") == 2 and "nordlys/old" not in asked  # its issues and merge requests
    assert fake.count(r"/projects/45/") == 0


def test_documents_can_live_in_a_gitlab_repository(fake, tmp_path):
    from tests.fakes.gitlab_data import DEMO as DATA

    portal = fake.projects[0]
    for doc in (DATA / "documents").glob("*.md"):
        portal.files[f"docs/governance/{doc.name}"] = doc.read_text(encoding="utf-8")
    portal.files["README.md"] = "# not a governance document\n"
    config = tmp_path / "docs.yaml"
    config.write_text(
        "sources:\n  - name: docs\n    type: documents\n    preset: documents\n    gitlab:\n"
        f"      url: {fake.base}\n      token: ${{SDB_GITLAB_TOKEN}}\n      project: nordlys/portal\n"
        "      ref: main\n      path: docs/governance\n",
        encoding="utf-8",
    )
    check_first = runner.invoke(app, ["check", "-c", str(config), "--out", str(tmp_path / "before")])
    # check never reads the network: a source not pulled yet is named, and the run is partial (exit 3)
    assert check_first.exit_code == 3 and fake.requests == []
    assert "docs (not pulled)" in check_first.output
    first = runner.invoke(app, ["pull", "-c", str(config)])
    assert first.exit_code == 0, first.output
    assert "docs: pulled 13 items" in first.output
    raw_reads = fake.count(r"/repository/files/.+/raw")
    assert raw_reads == 13  # README.md outside the folder is not read
    again = runner.invoke(app, ["pull", "-c", str(config)])
    assert "unchanged since the last pull" in again.output
    assert fake.count(r"/repository/files/.+/raw") == raw_reads  # skipped by blob ids, nothing downloaded
    result, _ = check_with_store(load_config(config))
    assert result.tables["WP.14"].records == 1
    assert result.assessment.work_products["WP.14"].gaps == 0


def test_issue_links_are_read_only_when_a_map_reads_them(fake, tmp_path):
    portal = fake.projects[0]
    first = portal.issues[0]["iid"]
    portal.links[first] = [{"iid": 999, "references": {"full": "nordlys/portal#999"}, "link_type": "relates_to"}]
    config_path = write_config(tmp_path, fake.base)
    pull(config_path)
    assert fake.count(r"/issues/\d+/links") == 0  # the shipped preset does not map links: no request per issue
    assert fake.count(r"/issues/\d+/notes") == 0  # issues and their notes came by GraphQL
    # a map that reads the links: the next pull reads every issue again, with its links
    config = yaml.safe_load(config_path.read_text())
    config["sources"][0]["map"] = {"WP.18": {"fields": {"links": "sdbridge.links"}}}
    config_path.write_text(yaml.safe_dump(config))
    fake.requests.clear()
    output = pull(config_path)
    assert "full pull" in output
    assert fake.count(r"/issues/\d+/links") == len(portal.issues)
    assert fake.count(r"/merge_requests/\d+/approvals") == 0  # merge requests still in bulk
    result, _ = check_with_store(load_config(config_path))
    records = result.tables["WP.18"].frame.set_index(RECORD_ID)
    assert "nordlys/portal#999" in str(records.loc[f"nordlys/portal#{first}", "links"])


@pytest.mark.parametrize(
    "server", [False, "Field 'type' doesn't exist on type 'Issue'"], ids=["no-graphql", "older-schema"]
)
def test_a_server_whose_graphql_cannot_answer_is_read_over_rest(fake, tmp_path, server):
    fake.graphql = server
    config_path = write_config(tmp_path, fake.base)
    output = pull(config_path)
    assert "GraphQL API did not answer" in output and "read over REST" in output
    # the schema read, the issues and the merge requests query: each tried once, not once per project or page
    assert len(fake.graphql_requests) == 3
    portal = fake.projects[0]
    assert fake.count(r"/issues/\d+/notes") == len(portal.issues)
    api, _ = check_with_store(load_config(config_path))
    csv = check(load_config(DEMO.parent / "demo.yaml"))
    assert canonical(api.tables["WP.18"].frame) == canonical(csv.tables["WP.18"].frame.query("_source == 'gitlab'"))


def test_an_issue_with_more_notes_than_a_page_reads_the_rest_over_rest(fake, tmp_path):
    portal = fake.projects[0]
    incident = next(i for i in portal.issues if i.get("issue_type") == "incident")
    portal.notes[incident["iid"]] = [
        {
            "id": 90_000 + n,
            "body": f"step {n}",
            "author": {"id": 77, "username": "kari", "name": "Kari Hansen"},
            "system": False,
            "created_at": "2026-11-01T10:00:00.000Z",
            "noteable_type": "Issue",
            "noteable_iid": incident["iid"],
        }
        for n in range(101)
    ]
    config_path = write_config(tmp_path, fake.base)
    pull(config_path)
    assert fake.count(r"/issues/\d+/notes") == fake.count(rf"/issues/{incident['iid']}/notes") >= 1
    with open_store(load_config(config_path)) as store:
        (stored,) = [i for i in store.items("gitlab") if i.get("iid") == incident["iid"] and i["_kind"] == "issue"]
    assert stored["sdbridge"]["notes"] == [f"step {n}" for n in range(101)]


def test_a_full_pull_of_a_thousand_issues_is_at_the_request_minimum(tmp_path):
    from tests.fakes.gitlab_data import many_issues

    project = build_portal()
    project.issues = many_issues(project, 1000)
    project.merge_requests, project.deployments, project.releases, project.pipelines = [], [], [], []
    server = FakeGitLab(token=TOKEN, projects=[project])
    server.start()
    try:
        config_path = write_config(tmp_path, server.base, per_page=100)
        pull(config_path)
        listings = 5  # merge requests, deployments, environments, releases, pipelines: a page each at least
        minimum = (
            1
            + math.ceil(1000 / 100)
            + sum(
                max(1, math.ceil(len(getattr(project, name)) / 100))
                for name in ("merge_requests", "deployments", "environments", "releases", "pipelines")
            )
        )
        made = len(server.requests)
        assert listings == 5 and made <= 1.2 * minimum, f"{made} requests for a minimum of {minimum}"
        result, _ = check_with_store(load_config(config_path))
        incidents = [i for i in project.issues if i.get("issue_type") == "incident" or "incident" in i["labels"]]
        assert result.tables["WP.18"].records == len(incidents) > 0
    finally:
        server.stop()


def test_merge_requests_read_by_graphql_and_by_rest_are_the_same_records(fake, tmp_path):
    portal = fake.projects[0]
    portal.merge_requests[2]["milestone"] = {"id": 3, "title": "1.3", "due_date": "2026-03-01"}
    tables = {}
    for graphql in (True, False):
        folder = tmp_path / str(graphql)
        folder.mkdir()
        config_path = write_config(folder, fake.base, graphql=graphql)
        pull(config_path)
        result, _ = check_with_store(load_config(config_path))
        tables[graphql] = canonical(result.tables["WP.11"].frame)
    assert tables[True] == tables[False] and len(tables[True]) == len(portal.merge_requests)
    assert any("2026-03-01" in str(row) for row in tables[True].values())


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            {"data": {"project": {"issues": {"nodes": [{"iid": None}, "x", 7], "pageInfo": {"hasNextPage": False}}}}},
            "could not be read from the GraphQL answer",
        ),
        (
            {"data": {"project": {"issues": {"nodes": [], "pageInfo": {"hasNextPage": True, "endCursor": None}}}}},
            "still paging",
        ),
        ({"data": {"project": None}}, "is not visible to the token"),
        ({"data": {"project": {"issues": ["not", "a", "connection"]}}}, "has no issues"),
    ],
    ids=["nodes-without-ids", "endless-pages", "no-project", "wrong-shape"],
)
def test_a_hostile_graphql_answer_is_one_line_never_a_traceback(fake, tmp_path, answer, expected):
    fake.graphql = answer
    config_path = write_config(tmp_path, fake.base, resources=["issues"])
    result = runner.invoke(app, ["pull", "-c", str(config_path)])
    assert expected in result.output and "Traceback" not in result.output
    assert result.exit_code == (0 if expected.startswith("could not") else 3), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_gitlab_before_17_4_keeps_issues_and_merge_requests_in_bulk(fake, tmp_path):
    """GitLab added `MergeRequest.closedAt` in 17.4 and an older server refuses a query that
    asks for it: sdbridge reads the server's schema once and asks only what it offers, so
    nothing falls back to a request per item."""
    fake.graphql_before_17_4 = True
    config_path = write_config(tmp_path, fake.base)
    output = pull(config_path)
    assert "did not answer" not in output
    assert fake.count(r"/merge_requests/\d+/approvals") == 0 and fake.count(r"/issues/\d+/notes") == 0
    schema_reads = [r for r in fake.graphql_requests if "__type" in r["query"]]
    assert len(schema_reads) == 1  # once a pull, whatever the number of projects
    listings = [r["query"] for r in fake.graphql_requests if "mergeRequests(" in r["query"]]
    assert listings and all("closedAt" not in q for q in listings)
    api, _ = check_with_store(load_config(config_path))
    assert len(api.tables["WP.18"].frame) > 0
