"""Live mode's parts without a server: deliveries read as the vendors document them, the
webhooks registered on GitLab (and the steps for Jira), and the nightly push leaving a
ticket that live mode read after the nightly check."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import yaml
from typer.testing import CliRunner

from sdbridge.cli import app
from sdbridge.live.deliveries import DeliveryRefused, gitlab_delivery, jira_delivery
from tests.webhooks import body

runner = CliRunner()


def signed(secret: str, data: dict) -> tuple[dict[str, str], bytes]:
    raw = json.dumps(data).encode()
    mac = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"x-hub-signature": f"sha256={mac}", "x-atlassian-webhook-identifier": "w-1"}, raw


def test_a_jira_delivery_is_read_only_when_its_signature_matches():
    data = body("jira-issue-updated.json")
    headers, raw = signed("s3cret", data)
    delivery = jira_delivery("jira", "s3cret", headers, raw)
    assert delivery is not None
    assert (delivery.number, delivery.kind, delivery.changed_ms) == ("99291", "issue", 1525698237764)
    assert delivery.delivery_id == "jira:w-1" and delivery.actor == "5b10a2844c20165700ede21g"
    assert not delivery.label_only and not delivery.comment
    for wrong in ({**headers, "x-hub-signature": "sha256=" + "0" * 64}, {}, {"x-hub-signature": "sha1=ab"}):
        with pytest.raises(DeliveryRefused) as refused:
            jira_delivery("jira", "s3cret", wrong, raw)
        assert refused.value.status == 401
    with pytest.raises(DeliveryRefused) as unset:
        jira_delivery("jira", None, headers, raw)  # no secret configured: nothing is trusted
    assert unset.value.status == 401 and unset.value.reason == "no_secret"
    # a label-only change, and a comment by the bot in Data Center's shape (a name, no account id)
    data["changelog"]["items"] = [{"field": "labels", "fieldtype": "jira", "from": None, "to": None}]
    headers, raw = signed("s3cret", data)
    assert jira_delivery("jira", "s3cret", headers, raw).label_only
    comment = body("jira-comment-created.json")
    comment["comment"]["author"] = {"name": "bot", "displayName": "sdbridge bot"}
    headers, raw = signed("s3cret", comment)
    read = jira_delivery("jira", "s3cret", headers, raw)
    assert read.comment and read.actor == "bot"
    deleted = {**body("jira-issue-updated.json"), "webhookEvent": "jira:issue_deleted"}
    headers, raw = signed("s3cret", deleted)
    assert jira_delivery("jira", "s3cret", headers, raw) is None  # it left: the nightly run retires it


def test_gitlab_deliveries_of_every_kind_are_read_and_the_rest_are_not_relevant():
    headers = {"x-gitlab-token": "tok", "idempotency-key": "i-1"}
    issue = body("gitlab-issue-hook.json")
    read = gitlab_delivery("gl", "tok", headers, json.dumps(issue).encode())
    assert (read.kind, read.project, read.number, read.ticket) == (
        "issue",
        "gitlabhq/gitlab-test",
        "23",
        "gitlabhq/gitlab-test#23",
    )
    assert read.delivery_id == "gitlab:i-1" and not read.label_only
    incident = {**issue, "object_kind": "work_item"}  # incidents come as work items since 17.x
    incident["object_attributes"] = {**issue["object_attributes"], "type": "Incident"}
    assert gitlab_delivery("gl", "tok", headers, json.dumps(incident).encode()).kind == "issue"
    note = body("gitlab-note-hook-issue.json")
    read = gitlab_delivery("gl", "tok", headers, json.dumps(note).encode())
    assert (read.kind, read.number, read.comment) == ("issue", "17", True)
    commit_note = {**note, "object_attributes": {**note["object_attributes"], "noteable_type": "Commit"}}
    assert gitlab_delivery("gl", "tok", headers, json.dumps(commit_note).encode()) is None
    deployment = {"object_kind": "deployment", "deployment_id": 15, "status_changed_at": "2021-04-28 21:50:00 +0200"}
    deployment["project"] = issue["project"]
    assert gitlab_delivery("gl", "tok", headers, json.dumps(deployment).encode()).kind == "deployment"
    release = {"object_kind": "release", "tag": "v1.1", "project": issue["project"], "released_at": "2020-11-02"}
    assert gitlab_delivery("gl", "tok", headers, json.dumps(release).encode()).number == "v1.1"
    with pytest.raises(DeliveryRefused):
        gitlab_delivery("gl", "tok", {"x-gitlab-token": "nope"}, b"{}")
    with pytest.raises(DeliveryRefused) as not_json:
        gitlab_delivery("gl", "tok", headers, b"<xml/>")
    assert not_json.value.status == 400


def test_webhooks_register_adds_then_updates_gitlab_hooks_and_says_the_jira_steps(tmp_path, monkeypatch):
    from tests.fakes.gitlab_data import build_portal
    from tests.fakes.gitlab_server import FakeGitLab

    server = FakeGitLab(token="glpat-reg", projects=[build_portal()])
    server.start()
    monkeypatch.setenv("SDB_GITLAB_TOKEN", "glpat-reg")
    monkeypatch.delenv("GITLAB_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("SDB_JIRA_TOKEN", "t")
    try:
        config = tmp_path / "sdbridge.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "sources": [
                        {
                            "name": "gitlab",
                            "type": "gitlab",
                            "url": server.base,
                            "token": "${SDB_GITLAB_TOKEN}",
                            "projects": ["nordlys/portal"],
                            "webhook": {"secret": "${GITLAB_WEBHOOK_SECRET}"},
                        },
                        {
                            "name": "jira",
                            "type": "jira",
                            "url": "https://acme.atlassian.net",
                            "auth": "cloud",
                            "email": "bot@example.invalid",
                            "token": "${SDB_JIRA_TOKEN}",
                            "projects": ["OPS"],
                        },
                    ]
                }
            ),
            encoding="utf-8",
        )
        url = "https://sdbridge.example.com"
        made = runner.invoke(app, ["webhooks", "register", "-c", str(config), "--url", url])
        assert made.exit_code == 0, made.output
        (hook,) = server.projects[0].hooks
        assert hook["url"] == f"{url}/hooks/gitlab" and hook["issues_events"] and hook["note_events"]
        assert hook["deployment_events"] and hook["releases_events"] and not hook["push_events"]
        secret = server.projects[0].hook_tokens[hook["id"]]
        assert f"export GITLAB_WEBHOOK_SECRET={secret}" in made.output  # made, shown once, to keep
        assert "token" not in hook  # GitLab never shows it back
        assert "https://sdbridge.example.com/hooks/jira" in made.output and 'project in ("OPS")' in made.output
        assert "webhook: {secret: ${JIRA_WEBHOOK_SECRET}}" in made.output
        monkeypatch.setenv("GITLAB_WEBHOOK_SECRET", "kept-secret")
        again = runner.invoke(app, ["webhooks", "register", "-c", str(config), "--url", url, "-s", "gitlab"])
        assert again.exit_code == 0 and "webhook updated" in again.output
        assert len(server.projects[0].hooks) == 1 and server.projects[0].hook_tokens[hook["id"]] == "kept-secret"
        assert "kept-secret" not in again.output
    finally:
        server.stop()


def test_the_nightly_push_leaves_a_ticket_live_mode_read_after_the_nightly_check(demo_workspace, monkeypatch):
    """The night's check saw a gap; live mode then read the ticket again (the engineer had
    filled it) and retracted the comment: the night's push must not write its older verdict."""
    from sdbridge.config import load_config
    from sdbridge.runner import check_with_store, open_store, push_once
    from tests.jira_setup import jira_source, running_jira

    monkeypatch.setenv("SDB_JIRA_TOKEN", "tok")
    with running_jira("tok") as jira:
        config = demo_workspace.parent / "live.yaml"
        source = jira_source(jira.base, push={"enabled": True, "work_products": ["WP.18"]})
        config.write_text(yaml.safe_dump({"sources": [source]}), encoding="utf-8")
        cfg = load_config(config)
        assert runner.invoke(app, ["pull", "-c", str(config)]).exit_code == 0
        result, _ = check_with_store(cfg, record=True)  # the night's verdict, stored
        gapped = sorted(set(result.assessment.findings.query("work_product == 'WP.18'")["record_id"].astype(str)))
        ticket = gapped[0]
        with open_store(cfg) as store:  # live mode read that ticket again after the check
            item = next(i for i in store.items("jira") if i.get("key") == ticket)
            store.save_items("jira", [(str(item["id"]), {**item, "_live": 1}, None)], None)
        (pushed,) = push_once(cfg)

        def bot_comments(key: str) -> list[dict]:
            return [c for c in jira.comments_of(key) if (c.get("author") or {}).get("accountId") == "bot-account"]

        assert bot_comments(ticket) == []  # left as live mode left it
        assert all(len(bot_comments(other)) == 1 for other in gapped[1:])  # every other gapped ticket: its comment
        assert pushed.created == len(gapped) - 1
        assert any("read again by live mode" in note for note in pushed.notes)
