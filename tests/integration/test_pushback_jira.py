"""Push-back to Jira against the loopback fake: exact, idempotent, capped, safe."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from sdbridge.cli import app
from sdbridge.config import load_config
from sdbridge.marker import MARKER
from sdbridge.runner import run_once
from tests.jira_setup import fake, gapped, ours, token_env, write_config  # noqa: F401 (fixtures)

runner = CliRunner()


def config(tmp_path, fake, **push):
    return load_config(write_config(tmp_path, fake.base, push={"enabled": True, **push}))


def test_five_runs_leave_exactly_one_comment_per_gapped_ticket(fake, tmp_path):
    cfg = config(tmp_path, fake)
    outcomes = [run_once(cfg, out=tmp_path / "r") for _ in range(5)]
    tickets = gapped(outcomes[-1])
    assert tickets
    first, *rest = [o.pushes[0] for o in outcomes]
    assert (first.created, first.updated, first.retracted) == (len(tickets), 0, 0)
    for later in rest:
        assert (later.created, later.updated, later.unchanged, later.retracted) == (0, 0, len(tickets), 0)
        assert later.writes == 0
    for key in tickets:
        assert len(ours(fake, key)) == 1, key
        assert "iso29110-gap" in fake._issue(key)["fields"]["labels"]
    untouched = {i["key"] for i in fake.issues} - tickets
    assert all(not ours(fake, key) for key in untouched)


def test_the_comment_names_items_and_carries_no_values_or_contacts(fake, tmp_path):
    outcome = run_once(config(tmp_path, fake), out=tmp_path / "r")
    key = sorted(gapped(outcome))[0]
    issue = fake._issue(key)
    text = str(ours(fake, key)[0]["body"])
    assert "ISO/IEC 29110 gap check" in text and "(WP.1" in text
    for value in (issue["fields"]["summary"], (issue["fields"]["reporter"] or {}).get("displayName", "@@")):
        assert value not in text
    assert not re.search(r"[\w.]+@[\w.]+", text)
    internal = [p for p in ours(fake, key)[0]["properties"] if p["key"] == "sd.public.comment"]
    assert internal == [{"key": "sd.public.comment", "value": {"internal": True}}]


def test_fixing_the_ticket_retracts_the_comment_and_the_label(fake, tmp_path):
    cfg = config(tmp_path, fake)
    outcome = run_once(cfg, out=tmp_path / "r")
    findings = outcome.assessment.findings
    per_ticket = findings[findings.source == "jira"].groupby("record_id")["item"].apply(set)
    key = next(k for k, items in per_ticket.items() if items == {"WP.18.e"})
    issue = fake._issue(key)
    issue["fields"]["customfield_10101"] = "CI-003 db01"
    fake._touch(issue)
    second = run_once(cfg, out=tmp_path / "r").pushes[0]
    assert second.retracted == 1
    assert "iso29110-gap" not in issue["fields"]["labels"]
    (comment,) = ours(fake, key)
    assert "now present" in str(comment["body"])
    third = run_once(cfg, out=tmp_path / "r").pushes[0]
    assert third.retracted == 0 and third.writes == 0


def test_resolved_comments_can_be_deleted_instead(fake, tmp_path):
    cfg = config(tmp_path, fake, on_resolved="delete")
    outcome = run_once(cfg, out=tmp_path / "r")
    findings = outcome.assessment.findings
    per_ticket = findings[findings.source == "jira"].groupby("record_id")["item"].apply(set)
    key = next(k for k, items in per_ticket.items() if items == {"WP.18.e"})
    fake._issue(key)["fields"]["customfield_10101"] = "CI-003 db01"
    fake._touch(fake._issue(key))
    run_once(cfg, out=tmp_path / "r")
    assert ours(fake, key) == []


def test_the_write_cap_holds(fake, tmp_path):
    outcome = run_once(config(tmp_path, fake, max_writes=7), out=tmp_path / "r")
    push = outcome.pushes[0]
    assert push.created == 3 and push.capped == len(gapped(outcome)) - 3
    assert fake.writes <= 7
    assert "write cap reached" in push.line()


def test_a_dry_run_sends_no_write_request(fake, tmp_path):
    path = write_config(tmp_path, fake.base, push={"enabled": True})
    result = runner.invoke(
        app, ["run", "-c", str(path), "--dry-run", "--out", str(tmp_path / "r")], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert fake.writes == 0
    assert "plan create" in result.output and "(dry run: nothing was written)" in result.output
    assert "created" in result.output


def test_a_human_comment_with_the_marker_is_left_alone(fake, tmp_path):
    cfg = config(tmp_path, fake)
    outcome = run_once(cfg, out=tmp_path / "r")
    key = sorted(gapped(outcome))[0]
    human = {
        "id": "555",
        "body": f"Copying what the bot said {MARKER}",
        "author": {"accountId": "a-human"},
        "properties": [{"key": "sdbridge", "value": {"marker": MARKER}}],
    }
    comments = fake.comments_of(key)
    comments.remove(ours(fake, key)[0])  # someone deleted sdbridge's comment ...
    comments.append(human)  # ... and a human quoted its marker
    fake._touch(fake._issue(key))
    push = run_once(cfg, out=tmp_path / "r").pushes[0]
    assert push.created == 1
    assert human in fake.comments_of(key) and human["body"].startswith("Copying")
    assert len(ours(fake, key)) == 1


def test_sdbridge_comments_never_count_as_restoration_steps(fake, tmp_path):
    cfg = config(tmp_path, fake)
    first = run_once(cfg, out=tmp_path / "r")
    second = run_once(cfg, out=tmp_path / "r")
    items = lambda o: set(o.assessment.findings.query("item == 'WP.18.g'").record_id)  # noqa: E731
    assert items(first) == items(second)


def test_push_command_reports_per_source(fake, tmp_path):
    path = write_config(tmp_path, fake.base, push={"enabled": True})
    assert runner.invoke(app, ["run", "-c", str(path), "--out", str(tmp_path / "r")]).exit_code == 0
    result = runner.invoke(app, ["push", "-c", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert re.search(r"push jira: created 0, updated 0, unchanged \d+, retracted 0", result.output)


def test_data_center_comments_are_wiki_text(tmp_path):
    from tests.jira_setup import running_jira

    with running_jira(cloud=False) as server:
        cfg = load_config(write_config(tmp_path, server.base, cloud=False, push={"enabled": True}))
        outcome = run_once(cfg, out=tmp_path / "r")
        key = sorted(gapped(outcome))[0]
        (comment,) = [c for c in server.comments_of(key) if c["author"].get("name") == "bot"]
        assert isinstance(comment["body"], str) and comment["body"].startswith("*ISO/IEC 29110 gap check*")
        assert "\n* " in comment["body"]


def test_labels_are_set_without_e_mailing_the_watchers(fake, tmp_path):
    outcome = run_once(config(tmp_path, fake), out=tmp_path / "r")
    assert gapped(outcome) and outcome.pushes[0].created
    assert fake.notified == []  # every label edit asked notifyUsers=false, which this token may do


def test_a_data_center_token_that_may_not_silence_edits_labels_with_notifications_and_says_so(tmp_path):
    from tests.jira_setup import running_jira

    with running_jira(cloud=False, may_silence=False) as server:
        cfg = load_config(write_config(tmp_path, server.base, cloud=False, push={"enabled": True}))
        outcome = run_once(cfg, out=tmp_path / "r")
        tickets = gapped(outcome)
        push = outcome.pushes[0]
        assert all("iso29110-gap" in server._issue(key)["fields"]["labels"] for key in tickets)
        refused = [q for m, p, q in server.requests if m == "PUT" and q.get("notifyUsers") == "false"]
        assert len(refused) == 1  # asked once, then not again this run
        assert any("without notifying watchers" in note for note in push.notes)
