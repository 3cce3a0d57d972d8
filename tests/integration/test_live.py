"""Live mode: `sdbridge serve` started as a process on loopback, driven by deliveries shaped
as Atlassian and GitLab document them (tests/fixtures/webhooks), sent by a real HTTP
client, against the strict loopback fakes. Every wait is on an event: the server's own log
line, or a request the fake answered."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from sdbridge.config import load_config
from sdbridge.runner import check_with_store
from tests.commands import sdbridge as run_sdbridge
from tests.fakes.jira_server import FakeJira
from tests.gitlab_setup import gitlab_source
from tests.jira_setup import jira_source, running_jira
from tests.webhooks import Served, copy_issue, jira_comment_event, jira_issue_event, send_jira

TOKEN = "jira-token-live-never-shown"
SECRET = "webhook-secret-live-never-shown"
ENV = {"SDB_JIRA_TOKEN": TOKEN, "SDB_HOOK_SECRET": SECRET}
CI_FIELD = "customfield_10101"


@pytest.fixture
def jira():
    with running_jira(TOKEN) as server:
        yield server


def workspace(folder: Path, base: str, *, collapse: float = 1.0, store: dict | None = None) -> Path:
    config = {
        "sources": [
            jira_source(
                base,
                timezone="Europe/Oslo",
                retry={"tries": 3, "backoff_seconds": 0.05, "max_wait_seconds": 2, "budget_seconds": 60},
                webhook={"secret": "${SDB_HOOK_SECRET}"},
                push={"enabled": True, "work_products": ["WP.18"]},
            )
        ],
        "live": {"collapse_seconds": collapse, "workers": 2},
        "reports": {"out": "reports", "formats": ["json"]},
        **({"store": store} if store else {}),
    }
    path = folder / "sdbridge.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def sdbridge(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    """With the tokens and webhook secret of this module's sources."""
    return run_sdbridge(*args, cwd=cwd, env={**ENV, **(env or {})})


def complete_incident(config: Path, jira: FakeJira) -> dict:
    """An incident of the fake that the nightly check finds complete (closed, no gap)."""
    import os

    os.environ.update(ENV)
    result, _ = check_with_store(load_config(config))
    gapped = set(result.assessment.findings["record_id"].astype(str))
    for issue in jira.issues:
        fields = issue["fields"]
        if (
            fields["issuetype"]["name"] == "Incident"
            and fields["status"]["statusCategory"]["key"] == "done"
            and issue["key"] not in gapped
            and fields.get(CI_FIELD)
        ):
            return issue
    raise AssertionError("the demo has no complete closed incident")


def own_comments(jira: FakeJira, key: str) -> list[dict]:
    return [c for c in jira.comments_of(key) if (c.get("author") or {}).get("accountId") == "bot-account"]


def text_of(comment: dict) -> str:
    return json.dumps(comment.get("body"))


@pytest.fixture
def nightly(tmp_path, jira):
    """A workspace whose first nightly pull has run (the store holds the source's items)."""
    config = workspace(tmp_path, jira.base)
    pulled = sdbridge("pull", "-q", cwd=tmp_path)
    assert pulled.returncode == 0, pulled.stderr
    return config


def new_incident_without_ci(jira: FakeJira, config: Path, number: int = 9001) -> dict:
    base = complete_incident(config, jira)
    made = copy_issue(base, number)
    made["fields"][CI_FIELD] = None
    made["fields"]["components"] = []
    with jira.lock:
        jira.issues.append(made)
        jira._touch(made)
    return made


def test_an_incident_created_without_a_ci_gets_its_comment_and_filling_it_retracts_it(tmp_path, jira, nightly):
    incident = new_incident_without_ci(jira, nightly)
    served = Served(nightly, ENV, cwd=tmp_path)
    try:
        answer = send_jira(served.hook("jira"), SECRET, jira_issue_event(incident, "jira:issue_created"))
        assert answer.status_code == 202 and answer.json() == {"status": "accepted"}
        assert jira.wait_for(lambda: "iso29110-gap" in incident["fields"]["labels"])  # the comment, then the label
        (comment,) = own_comments(jira, incident["key"])
        assert "The potential CI (WP.18 e)" in text_of(comment)
        # the engineer fills the CI: the same comment is retracted, the label removed
        with jira.lock:
            incident["fields"][CI_FIELD] = "web01"
            jira._touch(incident)
        assert send_jira(served.hook("jira"), SECRET, jira_issue_event(incident)).status_code == 202
        assert jira.wait_for(lambda: "iso29110-gap" not in incident["fields"]["labels"])
        (comment,) = own_comments(jira, incident["key"])
        assert "CI (WP.18 e)" not in text_of(comment) and "now present" in text_of(comment)
    finally:
        assert served.stop() == 0, served.log
    assert TOKEN not in served.log and SECRET not in served.log


def test_fifty_updates_in_a_burst_are_one_evaluation_with_the_right_final_comment(tmp_path, jira):
    config = workspace(tmp_path, jira.base, collapse=5.0)
    assert sdbridge("pull", "-q", cwd=tmp_path).returncode == 0
    incident = new_incident_without_ci(jira, config)
    served = Served(config, ENV, cwd=tmp_path)
    try:
        reads_before = jira.count(f"/issue/{incident['id']}")
        deliveries = [jira_issue_event(incident) for _ in range(50)]
        for n, delivery in enumerate(deliveries):
            delivery["timestamp"] += n  # fifty distinct updates, all newer than the last evaluated state
        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(pool.map(lambda d: send_jira(served.hook("jira"), SECRET, d), deliveries))
        assert {a.status_code for a in answers} == {202}
        assert served.wait_for(lambda: served.evaluations())
        (evaluation,) = served.evaluations()
        assert evaluation["deliveries"] == 50 and evaluation["outcome"] == "pushed"
        assert served.metric("sdbridge_live_evaluations_total") == 1
        assert jira.count(f"/issue/{incident['id']}") - reads_before == 1  # one read of the ticket
        assert served.metric("sdbridge_live_events_accepted_total") == 50
        (comment,) = own_comments(jira, incident["key"])
        assert "The potential CI (WP.18 e)" in text_of(comment)
    finally:
        assert served.stop() == 0, served.log


def test_a_redelivery_a_bad_signature_and_sdbridges_own_comment_change_nothing(tmp_path, jira, nightly):
    incident = new_incident_without_ci(jira, nightly)
    served = Served(nightly, ENV, cwd=tmp_path)
    try:
        event = jira_issue_event(incident, "jira:issue_created")
        assert send_jira(served.hook("jira"), SECRET, event, delivery="d-1").json() == {"status": "accepted"}
        assert served.wait_for(lambda: served.evaluations())
        assert own_comments(jira, incident["key"])
        requests_before = len(jira.requests)
        # the tracker retries the same delivery (the same identifier): dropped
        again = send_jira(served.hook("jira"), SECRET, event, delivery="d-1")
        assert again.status_code == 202 and again.json() == {"status": "duplicate"}
        # a delivery about a change older than the state already evaluated (late, reordered)
        late = jira_issue_event(incident)
        late["timestamp"] -= 60_000
        assert send_jira(served.hook("jira"), SECRET, late).json() == {"status": "stale"}
        # a forged one: refused before anything is read
        forged = send_jira(served.hook("jira"), SECRET, event, sign="sha256=" + "0" * 64)
        assert forged.status_code == 401
        unsigned = send_jira(served.hook("jira"), "another-secret", event)
        assert unsigned.status_code == 401
        # sdbridge's own comment comes back as an event: no evaluation, no loop
        (comment,) = own_comments(jira, incident["key"])
        own = jira_comment_event(incident, author="bot-account", text=text_of(comment))
        assert send_jira(served.hook("jira"), SECRET, own).json() == {"status": "own"}
        assert len(jira.requests) == requests_before  # not one request to the tracker
        assert served.metric("sdbridge_live_evaluations_total") == 1
        assert served.metric("sdbridge_live_events_rejected_total", reason="bad_signature") == 2
        health = __import__("requests").get(f"{served.url}/healthz", timeout=30)
        assert health.status_code == 200 and health.json()["status"] == "ok"
    finally:
        assert served.stop() == 0, served.log


def test_a_crash_mid_queue_loses_nothing_the_nightly_run_does_not_repair(tmp_path, jira):
    config = workspace(tmp_path, jira.base, collapse=300.0)  # the window outlives the process
    assert sdbridge("pull", "-q", cwd=tmp_path).returncode == 0
    incident = new_incident_without_ci(jira, config)
    served = Served(config, ENV, cwd=tmp_path)
    answer = send_jira(served.hook("jira"), SECRET, jira_issue_event(incident, "jira:issue_created"))
    assert answer.json() == {"status": "accepted"}
    served.kill()  # accepted, never evaluated
    assert own_comments(jira, incident["key"]) == []
    nightly = sdbridge("run", "-q", cwd=tmp_path)
    assert nightly.returncode == 0, nightly.stderr
    (comment,) = own_comments(jira, incident["key"])  # the incremental pull read the ticket again
    assert "The potential CI (WP.18 e)" in text_of(comment)


def test_a_graceful_stop_evaluates_what_it_accepted(tmp_path, jira):
    config = workspace(tmp_path, jira.base, collapse=300.0)
    assert sdbridge("pull", "-q", cwd=tmp_path).returncode == 0
    incident = new_incident_without_ci(jira, config)
    served = Served(config, ENV, cwd=tmp_path)
    assert send_jira(served.hook("jira"), SECRET, jira_issue_event(incident)).json() == {"status": "accepted"}
    assert served.stop() == 0, served.log  # SIGTERM: drained before the process ends
    (comment,) = own_comments(jira, incident["key"])
    assert "The potential CI (WP.18 e)" in text_of(comment)


def test_two_replicas_on_one_postgresql_store_fed_one_burst_leave_one_comment(
    tmp_path, jira, postgres_server, monkeypatch
):
    store = {
        "SDBRIDGE_STORE_URL": postgres_server.new_database(),
        "SDBRIDGE_STORE_PASSWORD": postgres_server.password,
    }
    for name, value in store.items():
        monkeypatch.setenv(name, value)
    config = workspace(tmp_path, jira.base)
    assert sdbridge("pull", "-q", cwd=tmp_path, env=store).returncode == 0
    incident = new_incident_without_ci(jira, config)
    replicas = [Served(config, {**ENV, **store}, cwd=tmp_path) for _ in range(2)]
    try:
        deliveries = [jira_issue_event(incident) for _ in range(20)]
        for n, delivery in enumerate(deliveries):
            delivery["timestamp"] += n
        # a load balancer spreads the burst over both replicas
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(
                pool.map(
                    lambda pair: send_jira(replicas[pair[0] % 2].hook("jira"), SECRET, pair[1]), enumerate(deliveries)
                )
            )
        assert {a.json()["status"] for a in answers} == {"accepted"}
        for replica in replicas:  # each evaluates the ticket it was told about
            assert replica.wait_for(lambda replica=replica: replica.evaluations())
        assert len(own_comments(jira, incident["key"])) == 1
        assert "iso29110-gap" in incident["fields"]["labels"]
        posts = [p for m, p, _ in jira.requests if m == "POST" and p.endswith(f"/issue/{incident['key']}/comment")]
        assert len(posts) == 1  # one comment written, ever
    finally:
        for replica in replicas:
            assert replica.stop() == 0, replica.log


# --- GitLab ------------------------------------------------------------------------------

GITLAB_TOKEN = "glpat-live-never-shown"
GITLAB_SECRET = "gitlab-hook-secret-never-shown"
GITLAB_ENV = {"SDB_GITLAB_TOKEN": GITLAB_TOKEN, "SDB_GITLAB_HOOK": GITLAB_SECRET}


@pytest.fixture
def gitlab():
    from tests.gitlab_setup import running_gitlab

    with running_gitlab(GITLAB_TOKEN) as server:
        yield server


def gitlab_workspace(folder: Path, base: str) -> Path:
    config = {
        "sources": [
            gitlab_source(
                base,
                retry={"tries": 3, "backoff_seconds": 0.05, "max_wait_seconds": 2, "budget_seconds": 60},
                webhook={"secret": "${SDB_GITLAB_HOOK}"},
                push={"enabled": True, "work_products": ["WP.18"]},
            )
        ],
        "live": {"collapse_seconds": 0.5, "workers": 2},
    }
    path = folder / "sdbridge.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_a_gitlab_incident_gets_its_note_and_own_notes_redeliveries_and_forgeries_change_nothing(
    tmp_path, gitlab, monkeypatch
):
    from tests.fakes.gitlab_server import BOT
    from tests.webhooks import gitlab_issue_event, gitlab_note_event, send_gitlab

    for name, value in GITLAB_ENV.items():
        monkeypatch.setenv(name, value)
    config = gitlab_workspace(tmp_path, gitlab.base)
    assert sdbridge("pull", "-q", cwd=tmp_path, env=GITLAB_ENV).returncode == 0
    result, _ = check_with_store(load_config(config))
    gapped = sorted(set(result.assessment.findings.query("work_product == 'WP.18'")["record_id"].astype(str)))
    project = gitlab.projects[0]
    iid = int(gapped[0].split("#")[1])
    issue = next(i for i in project.issues if i["iid"] == iid)

    def bot_notes() -> list[dict]:
        return [n for n in project.notes.get(iid, []) if n["author"]["id"] == BOT["id"]]

    served = Served(config, GITLAB_ENV, cwd=tmp_path)
    try:
        hook = served.hook("gitlab")
        first = send_gitlab(hook, GITLAB_SECRET, gitlab_issue_event(project.path, issue), key="k-1")
        assert first.status_code == 202 and first.json() == {"status": "accepted"}
        assert gitlab.wait_for(lambda: "iso29110-gap" in issue["labels"])
        (note,) = bot_notes()
        assert "(WP.18" in note["body"]
        assert served.wait_for(lambda: served.evaluations())
        writes = gitlab.writes
        again = send_gitlab(hook, GITLAB_SECRET, gitlab_issue_event(project.path, issue), key="k-1")
        assert again.json() == {"status": "duplicate"}
        own = gitlab_note_event(project.path, issue, user_id=BOT["id"], text=note["body"])
        assert send_gitlab(hook, GITLAB_SECRET, own, event="Note Hook").json() == {"status": "own"}
        label = gitlab_issue_event(
            project.path, issue, user_id=BOT["id"], changes={"labels": {"previous": [], "current": []}}
        )
        assert send_gitlab(hook, GITLAB_SECRET, label).json() == {"status": "own"}
        forged = send_gitlab(hook, "not-the-token", gitlab_issue_event(project.path, issue))
        assert forged.status_code == 401
        assert gitlab.writes == writes and len(served.evaluations()) == 1
    finally:
        assert served.stop() == 0, served.log
    assert GITLAB_TOKEN not in served.log and GITLAB_SECRET not in served.log


def test_a_delivery_too_large_a_full_queue_and_an_unknown_source_are_refused(tmp_path, jira, nightly):
    import requests

    text = yaml.safe_load(nightly.read_text(encoding="utf-8"))
    text["live"] = {"collapse_seconds": 300.0, "max_pending": 1, "max_body_bytes": 2048}
    nightly.write_text(yaml.safe_dump(text), encoding="utf-8")
    first, second = [i for i in jira.issues if i["fields"]["issuetype"]["name"] == "Incident"][:2]
    served = Served(nightly, ENV, cwd=tmp_path)
    try:
        hook = served.hook("jira")
        assert send_jira(hook, SECRET, jira_issue_event(first)).json() == {"status": "accepted"}
        full = send_jira(hook, SECRET, jira_issue_event(second))
        assert full.status_code == 503 and int(full.headers["Retry-After"]) > 0  # the tracker sends it again
        big = jira_issue_event(first)
        big["issue"]["fields"]["summary"] = "x" * 4096
        assert send_jira(hook, SECRET, big).status_code == 413
        assert requests.post(f"{served.url}/hooks/nowhere", data=b"{}", timeout=30).status_code == 404
        metrics = requests.get(f"{served.url}/metrics", timeout=30)
        assert metrics.status_code == 200 and "sdbridge_live_queue_depth 1.0" in metrics.text
    finally:
        assert served.stop() == 0, served.log  # the one accepted ticket is evaluated on the way out
    assert served.evaluations() and served.evaluations()[0]["deliveries"] == 1
