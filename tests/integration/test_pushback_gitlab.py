"""Push-back to GitLab against the loopback fake: one living note per ticket, labels, summary."""

from __future__ import annotations

from sdbridge.config import load_config
from sdbridge.marker import MARKER
from sdbridge.runner import run_once
from tests.fakes.gitlab_server import FakeGitLab
from tests.gitlab_setup import fake, ours, token_env, write_config  # noqa: F401 (fixtures)


def item_of(fake: FakeGitLab, ticket: str) -> dict:
    project = fake.projects[0]
    iid = int(ticket.split("#")[-1].split("!")[-1])
    return next(i for i in (project.issues if "#" in ticket else project.merge_requests) if i["iid"] == iid)


def tickets_with_gaps(outcome) -> set[str]:
    f = outcome.assessment.findings
    return set(f[f.work_product.isin(["WP.18", "WP.11"])].record_id)


def test_five_runs_one_note_per_ticket_then_retract_on_fix(fake, tmp_path):
    cfg = load_config(write_config(tmp_path, fake.base, push={"enabled": True, "summary": {"enabled": True}}))
    outcomes = [run_once(cfg, out=tmp_path / "r") for _ in range(5)]
    tickets = tickets_with_gaps(outcomes[-1])
    assert outcomes[0].pushes[0].created == len(tickets) > 0
    assert all(o.pushes[0].created == 0 and o.pushes[0].updated == 0 for o in outcomes[1:])
    for ticket in tickets:
        assert len(ours(fake, ticket)) == 1, ticket
        assert "iso29110-gap" in item_of(fake, ticket)["labels"]
    summaries = [i for i in fake.projects[0].issues if i["title"] == "ISO/IEC 29110 gap summary (sdbridge)"]
    assert len(summaries) == 1 and "| WP.18" in summaries[0]["description"]
    # Fix the only gap of one incident: who resolved it, or its component.
    findings = outcomes[-1].assessment.findings
    per_ticket = findings.groupby("record_id")["item"].apply(set)
    ticket, items = next((t, i) for t, i in per_ticket.items() if "#" in t and i in ({"WP.18.c"}, {"WP.18.e"}))
    issue = item_of(fake, ticket)
    if items == {"WP.18.c"}:  # as GitLab keeps them: `assignee` is the first of `assignees`
        issue["assignee"] = {"id": 9, "name": "Kari Hansen", "username": "kari"}
        issue["assignees"] = [issue["assignee"]]
    else:
        issue["labels"].append("component::portal")
    fake._touch(issue)
    after = run_once(cfg, out=tmp_path / "r").pushes[0]
    assert after.retracted == 1
    assert "iso29110-gap" not in issue["labels"]
    assert "now present" in ours(fake, ticket)[0]["body"]


def test_dry_run_writes_nothing(fake, tmp_path):
    cfg = load_config(write_config(tmp_path, fake.base, push={"enabled": True}))
    outcome = run_once(cfg, out=tmp_path / "r", dry_run=True)
    assert outcome.pushes[0].created > 0 and fake.writes == 0


def test_a_human_note_quoting_the_marker_is_never_edited(fake, tmp_path):
    cfg = load_config(write_config(tmp_path, fake.base, push={"enabled": True}))
    outcome = run_once(cfg, out=tmp_path / "r")
    ticket = sorted(t for t in tickets_with_gaps(outcome) if "#" in t)[0]
    iid = int(ticket.split("#")[1])
    notes = fake.projects[0].notes[iid]
    notes.remove(ours(fake, ticket)[0])
    human = {
        "id": 4242,
        "body": f"quoting <!-- {MARKER} -->",
        "author": {"id": 77, "username": "kari", "name": "Kari Hansen"},
        "system": False,
        "created_at": "2026-11-01T10:00:00.000Z",
        "noteable_type": "Issue",
        "noteable_iid": iid,
    }
    notes.append(human)
    fake._touch(item_of(fake, ticket))
    push = run_once(cfg, out=tmp_path / "r").pushes[0]
    assert push.created == 1 and human["body"].startswith("quoting") and human in notes
