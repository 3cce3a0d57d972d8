"""sdbridge against fakes as strict as the vendors' published specifications (contract-checked
when each fake stops): the defects the lenient fakes hid, each pinned by a test."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from sdbridge.cli import app
from sdbridge.config import load_config
from sdbridge.errors import ConfigError
from sdbridge.runner import run_once, store_path
from tests.fakes.gitlab_data import build_portal
from tests.fakes.gitlab_server import BOT, FakeGitLab
from tests.fakes.jira_server import FakeJira
from tests.gitlab_setup import TOKEN as GITLAB_TOKEN
from tests.gitlab_setup import ours as gitlab_ours
from tests.gitlab_setup import write_config as write_gitlab_config
from tests.jira_setup import TOKEN, fake, gapped, ours, token_env, write_config  # noqa: F401 (fixtures)

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


def push_config(tmp_path: Path, fake: FakeJira, **extra):
    return load_config(write_config(tmp_path, fake.base, push={"enabled": True}, **extra))


def one_comment_each(fake: FakeJira, tickets: set[str]) -> None:
    assert tickets
    for key in tickets:
        assert len(ours(fake, key)) == 1, f"{key}: {len(ours(fake, key))} sdbridge comments"


# --- 1 and 8: one comment per ticket, whatever fails ----------------------------------------


def test_twenty_runs_against_the_strict_fake_leave_one_comment_per_gapped_ticket(fake, tmp_path):
    cfg = push_config(tmp_path, fake)
    outcomes = [run_once(cfg, out=tmp_path / "r") for _ in range(20)]
    tickets = gapped(outcomes[-1])
    one_comment_each(fake, tickets)
    assert all(o.pushes[0].writes == 0 for o in outcomes[1:])  # a normal night writes nothing
    reads = [p for m, p, _ in fake.requests if m == "POST" and p.endswith("/comment/list")]
    assert len(reads) == 19  # the comments of every ticket are checked in one documented request a night
    assert not [p for m, p, q in fake.requests if m == "GET" and "properties" in q.get("expand", "")]


def test_a_failed_property_read_and_lost_create_answers_duplicate_nothing(fake, tmp_path):
    cfg = push_config(tmp_path, fake)
    fake.lose_next("/rest/api/3/issue/", "502")  # the first comment is written, its answer is a 502
    first = run_once(cfg, out=tmp_path / "r")
    tickets = gapped(first)
    one_comment_each(fake, tickets)
    assert first.pushes[0].created == len(tickets) and not first.pushes[0].notes
    fake.fail_next("/rest/api/3/comment/list", (503, {}))  # reading the markers fails once
    second = run_once(cfg, out=tmp_path / "r")
    assert second.pushes[0].writes == 0
    fix = next(iter(sorted(tickets)))
    fake.comments_of(fix).clear()  # someone deleted our comment ...
    fake.lose_next(f"/rest/api/3/issue/{fix}/comment", "drop")  # ... and the re-write's answer is lost
    run_once(cfg, out=tmp_path / "r")
    one_comment_each(fake, tickets)


def test_a_push_killed_after_writing_a_comment_is_resumed_without_a_duplicate(fake, tmp_path):
    config_path = write_config(tmp_path, fake.base, push={"enabled": True})
    env = {**os.environ, "SDB_JIRA_TOKEN": TOKEN, "SDBRIDGE_FAULT": "after-comment-write"}
    killed = subprocess.run(
        [sys.executable, "-m", "sdbridge", "run", "-c", str(config_path), "--out", str(tmp_path / "r")],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == 97, killed.stderr
    written = [p for m, p, _ in fake.requests if m == "POST" and p.endswith("/comment")]
    assert len(written) == 1  # it died right after the first comment, before saving it
    outcome = run_once(load_config(config_path), out=tmp_path / "r")
    one_comment_each(fake, gapped(outcome))


def test_a_lost_store_writes_no_second_comment(fake, tmp_path):
    cfg = push_config(tmp_path, fake)
    tickets = gapped(run_once(cfg, out=tmp_path / "r"))
    for leftover in store_path(cfg).parent.glob("state.db*"):
        leftover.unlink()
    again = run_once(cfg, out=tmp_path / "r")
    assert again.pushes[0].created == 0
    # nothing changed on the tickets: every comment already says what it should, so none is re-edited
    assert again.pushes[0].updated == 0 and again.pushes[0].unchanged == len(tickets)
    edits = [p for m, p, _ in fake.requests if m == "PUT" and "/comment/" in p]
    assert edits == []
    one_comment_each(fake, tickets)


def test_a_comment_whose_marker_property_was_removed_is_still_the_one_comment(fake, tmp_path):
    cfg = push_config(tmp_path, fake)
    tickets = gapped(run_once(cfg, out=tmp_path / "r"))
    key = sorted(tickets)[0]
    ours(fake, key)[0]["properties"] = []  # an app or a person removed the `sdbridge` property
    issue = fake._issue(key)
    issue["fields"]["priority"] = None  # a new gap: the comment must change
    fake._touch(issue)
    outcome = run_once(cfg, out=tmp_path / "r")
    assert outcome.pushes[0].created == 0
    mine = [c for c in fake.comments_of(key) if c["author"].get("accountId") == "bot-account"]
    assert len(mine) == 1 and "Priority" in json.dumps(mine[0]["body"])


def test_a_comment_a_person_edited_stays_the_one_comment_and_a_persons_own_is_never_edited(fake, tmp_path):
    cfg = push_config(tmp_path, fake)
    tickets = gapped(run_once(cfg, out=tmp_path / "r"))
    key = sorted(tickets)[0]
    ours(fake, key)[0]["body"] = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "edited by Kari"}]}],
    }
    human = {
        "id": "777",
        "body": "I quote: sdbridge:iso29110-gaps",
        "author": {"accountId": "kari"},
        "properties": [{"key": "sdbridge", "value": {"marker": "sdbridge:iso29110-gaps"}}],
        "created": "2026-11-01T10:00:00.000+0100",
    }
    fake.comments_of(key).append(human)
    issue = fake._issue(key)
    issue["fields"]["priority"] = None  # a new gap: the comment must change
    fake._touch(issue)
    outcome = run_once(cfg, out=tmp_path / "r")
    assert outcome.pushes[0].updated >= 1
    one_comment_each(fake, tickets)
    assert "Priority" in json.dumps(ours(fake, key)[0]["body"])  # ours was updated in place
    assert human["body"] == "I quote: sdbridge:iso29110-gaps"  # the person's comment was not touched


# --- 2, 3, 4, 5: what the pull reads ---------------------------------------------------------


def _check(tmp_path: Path, config_path: Path) -> dict:
    assert runner.invoke(app, ["pull", "-c", str(config_path)]).exit_code in (0, 3)
    result = runner.invoke(app, ["check", "-c", str(config_path), "--out", str(tmp_path / "r")])
    assert result.exit_code in (0, 3), result.output
    return json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))


def test_an_approval_on_the_second_page_is_read(fake, tmp_path):
    change = next(i for i in fake.issues if i["fields"]["issuetype"]["name"] == "Change")
    change["_approvals"] = [
        {"id": "1", "name": "Security", "finalDecision": "declined", "canAnswerApproval": False, "approvers": []},
        {
            "id": "2",
            "name": "CAB",
            "finalDecision": "approved",
            "canAnswerApproval": False,
            "approvers": [],
            "completedDate": {
                "iso8601": "2026-03-01T10:00:00+0100",
                "jira": "2026-03-01T10:00:00.000+0100",
                "friendly": "01/Mar/26 10:00 AM",
                "epochMillis": 1772355600000,
            },
        },
    ]
    config_path = write_config(tmp_path, fake.base, approvals=True)
    report = _check(tmp_path, config_path)
    pages = [q for m, p, q in fake.requests if p.endswith(f"/request/{change['key']}/approval")]
    assert len(pages) == 2 and pages[1]["start"] == "1"
    assert not [
        f
        for f in report["findings"]
        if f["record_id"] == change["key"] and f["item"] == "WP.11.f" and "approval" in f["message"]
    ]


def _resolved_with_a_non_status_change(fake) -> dict:
    resolved = next(i for i in fake.issues if len(i["_changelog"]) == 2)
    resolved["_changelog"].insert(
        0,
        {
            "id": "0",
            "created": resolved["_changelog"][0]["created"],
            "items": [
                {"field": "assignee", "fieldId": "assignee", "fieldtype": "jira", "toString": "Ops", "to": "ops"}
            ],
        },
    )
    return resolved


def _done_at(config_path, key: str):
    from sdbridge.store import Store

    with Store(store_path(load_config(config_path))) as store:
        item = next(i for i in store.items("jira") if i.get("key") == key)
    return item["sdbridge"]["done_at"]


def test_the_bulk_changelog_is_read_to_its_last_page(fake, tmp_path):
    fake.bulk_changelog_page = 7  # many pages: the token is followed to the end
    resolved = _resolved_with_a_non_status_change(fake)
    histories = sum(1 for i in fake.issues for h in i["_changelog"] if h["items"][0]["field"] == "status")
    config_path = write_config(tmp_path, fake.base)
    assert runner.invoke(app, ["pull", "-c", str(config_path)]).exit_code == 0
    assert fake.count("/changelog/bulkfetch") == math.ceil(histories / 7) > 2  # status changes only
    assert fake.count("/changelog") == fake.count("/changelog/bulkfetch")  # none issue by issue
    assert _done_at(config_path, resolved["key"]) is not None


def test_without_the_bulk_endpoint_changelogs_are_read_per_issue_to_their_last_page(fake, tmp_path):
    """A site without `changelog/bulkfetch` (404): the paged per-issue changelog, whose
    `total` is optional and absent here, is read to its last page."""
    assert not fake.changelog_total
    fake.faults["/rest/api/3/changelog/bulkfetch"] = [(404, {})]
    resolved = _resolved_with_a_non_status_change(fake)
    config_path = write_config(tmp_path, fake.base)
    result = runner.invoke(app, ["pull", "-c", str(config_path)])
    assert result.exit_code == 0, result.output
    assert "changelogs were read issue by issue" in result.output
    pages = [q for m, p, q in fake.requests if p.endswith(f"/issue/{resolved['key']}/changelog")]
    assert [q["startAt"] for q in pages] == ["0", "2"]  # the done transition is on page 2
    assert _done_at(config_path, resolved["key"]) is not None


def test_an_assets_object_field_gives_the_object_label_not_an_empty_list(fake, tmp_path):
    incident = next(i for i in fake.issues if i["fields"]["issuetype"]["name"] == "Incident")
    first = fake.assets[0]
    incident["fields"]["customfield_10101"] = [
        {"workspaceId": "w1", "id": f"w1:{first['id']}", "objectId": first["id"]}
    ]
    incident["fields"]["components"] = []  # the Assets field is the only place that names the CI
    config_path = write_config(tmp_path, fake.base)
    report = _check(tmp_path, config_path)
    assert not [f for f in report["findings"] if f["record_id"] == incident["key"] and f["item"] == "WP.18.e"]


def test_one_odd_issue_is_one_rejected_record_and_the_rest_is_pulled(fake, tmp_path):
    odd = fake.issues[3]
    odd["fields"]["comment"] = "a text where a page of comments belongs"  # (a bare list is read: see test_jira)
    config_path = write_config(tmp_path, fake.base)
    report = _check(tmp_path, config_path)
    source = report["sources"][0]
    assert source["rejected"] == 1 and source["items_pulled"] == source["mapped"] + source["excluded"] + 1
    assert any(odd["key"] in r["reason"] and "could not be read" in r["reason"] for r in source["rejections"])
    assert source["mapped"] > 100


# --- 7: a wiki body on Cloud is refused at load -------------------------------------------------


def test_a_wiki_body_with_cloud_auth_is_a_config_error(fake, tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, fake.base, push={"enabled": True, "jira_body": "wiki"}))
    assert "push.jira_body: wiki does not work with auth: cloud" in str(caught.value)


# --- 6 and 8: GitLab -------------------------------------------------------------------------


@pytest.fixture
def gitlab(monkeypatch):
    monkeypatch.setenv("SDB_GITLAB_TOKEN", GITLAB_TOKEN)
    server = FakeGitLab(token=GITLAB_TOKEN, projects=[build_portal()])
    server.start()
    yield server
    server.stop()


def test_gitlab_pipelines_name_who_ran_them_from_the_single_pipeline(gitlab, tmp_path):
    report = _check(tmp_path, write_gitlab_config(tmp_path, gitlab.base))
    assert report["work_products"]["WP.20"]["records"] > 0
    messages = {f["message"] for f in report["findings"] if f["item"] == "WP.20.f"}
    assert messages and not [m for m in messages if "performed by" in m or "performed at" in m], messages
    assert gitlab.count(r"/pipelines/\d+$") == len(gitlab.projects[0].pipelines)  # one detail read each


def test_gitlab_deployments_are_never_ordered_by_update_time_without_its_filter(gitlab, tmp_path):
    config_path = write_gitlab_config(tmp_path, gitlab.base)
    for _ in range(2):  # a full pull, then an increment
        result = runner.invoke(app, ["pull", "-c", str(config_path)])
        assert result.exit_code == 0, result.output
    for path, query in gitlab.requests:
        if path.endswith("/deployments") and query.get("order_by") == "updated_at":
            assert query.get("updated_after") or query.get("updated_before"), query


def test_gitlab_documents_page_the_tree_by_keyset_and_a_missing_folder_is_named(gitlab, tmp_path):
    portal = gitlab.projects[0]
    for n in range(130):  # more than one page of 100
        portal.files[f"docs/gov/doc-{n:03}.md"] = f"---\nwork_product: WP.14\nid: D-{n}\n---\n# Policy {n}\n"
    config = tmp_path / "docs.yaml"

    def write(path: str) -> None:
        config.write_text(
            yaml.safe_dump(
                {
                    "sources": [
                        {
                            "name": "docs",
                            "type": "documents",
                            "preset": "documents",
                            "gitlab": {
                                "url": gitlab.base,
                                "token": "${SDB_GITLAB_TOKEN}",
                                "project": "nordlys/portal",
                                "ref": "main",
                                "path": path,
                            },
                        }
                    ]
                }
            ),
            encoding="utf-8",
        )

    write("docs/gov")
    pulled = runner.invoke(app, ["pull", "-c", str(config)])
    assert pulled.exit_code == 0 and "docs: pulled 130 items" in pulled.output, pulled.output
    trees = [q for p, q in gitlab.requests if p.endswith("/repository/tree")]
    assert len(trees) == 7 and all(q.get("pagination") == "keyset" for q in trees)  # 20 a page (GitLab's default)
    write("docs/nowhere")
    missing = runner.invoke(app, ["pull", "-c", str(config)])
    assert missing.exit_code == 3
    assert "folder 'docs/nowhere' does not exist in nordlys/portal at main" in missing.output


def test_gitlab_twenty_runs_and_a_lost_note_answer_leave_one_note_per_ticket(gitlab, tmp_path):
    cfg = load_config(write_gitlab_config(tmp_path, gitlab.base, push={"enabled": True}))
    gitlab.lose_next("/api/v4/projects/", "502")  # the first note is written, its answer lost
    outcomes = [run_once(cfg, out=tmp_path / "r") for _ in range(20)]
    findings = outcomes[-1].assessment.findings
    tickets = set(findings[findings.work_product.isin(["WP.18", "WP.11"])].record_id)
    assert tickets
    for ticket in tickets:
        assert len(gitlab_ours(gitlab, ticket)) == 1, ticket
    assert all(o.pushes[0].writes == 0 for o in outcomes[1:])
    assert BOT["id"] == 1
