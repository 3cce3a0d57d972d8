"""The store's contract, on both backends (SQLite file, PostgreSQL server): what a run
records, cursors and snapshots, item history, push-back state, assessments and spans, and
tenants that share one store without seeing each other."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pandas as pd
import pytest
from typer.testing import CliRunner

from sdbridge.assessment import STORED_FINDING_COLUMNS
from sdbridge.connectors.base import RawTable
from sdbridge.runlock import StoreBusy
from sdbridge.store import Store, StoreError

REPORT = {"summary": {"by_work_product": {"WP.18": {"gaps": 1}}}}


def findings(*numbers: int, message: str = "Root cause (WP.18 h) is missing") -> pd.DataFrame:
    rows = [
        {
            "id": f"jira:OPS-{n}:WP.18.h",
            "work_product": "WP.18",
            "item": "WP.18.h",
            "record_id": f"OPS-{n}",
            "source": "jira",
            "status": "missing",
            "severity": "high",
            "url": None,
            "message": message,
        }
        for n in numbers
    ]
    return pd.DataFrame(rows, columns=STORED_FINDING_COLUMNS)


def table(source: str, rows: list[dict]) -> RawTable:
    return RawTable(
        source=source,
        frame=pd.DataFrame(rows),
        columns={k: [k] for k in rows[0]},
        location=f"/exports/{source}.csv",
        fetched_at=datetime(2026, 12, 1, tzinfo=UTC),
        notes=["1 blank row skipped"],
    )


def test_a_run_is_recorded_with_its_sources_and_a_killed_one_is_closed(store_at):
    store = store_at()
    store.start_run("r1", "schedule")
    store.record_source("r1", "jira", "pulled", items=10, changed=10)
    store.record_source("r1", "jira", "failed", error="HTTP 503")  # the same source again: replaced
    # r1 never ends (the process was killed); the next run closes it
    store.start_run("r2", "manual")
    store.record_source("r2", "cmdb", "unchanged", snapshot_id=3)
    store.end_run("r2", "ok")
    assert [(r.id, r.status) for r in store.runs()] == [("r2", "ok"), ("r1", "interrupted")]
    detail = store.run("r1")
    assert detail.sources["jira"].status == "failed" and detail.sources["jira"].error == "HTTP 503"
    assert store.last_pulls()["cmdb"].snapshot_id == 3
    with pytest.raises(StoreError, match="no run 'r9'"):
        store.run("r9")


def test_a_table_snapshot_and_its_cursor_are_read_back(store_at):
    store = store_at()
    first = store.save_table(table("cmdb", [{"CI": "db-1", "Owner": "Ana"}]), "h1", {"mtime": 1})
    second = store.save_table(table("cmdb", [{"CI": "db-1", "Owner": "Bo"}]), "h2", {"mtime": 2})
    assert (first, second) == (1, 2)
    latest = store.table("cmdb")
    assert latest is not None and latest.id == 2 and latest.content_hash == "h2"
    assert latest.raw.frame.to_dict("records") == [{"CI": "db-1", "Owner": "Bo"}]
    assert latest.raw.notes == ["1 blank row skipped"] and latest.raw.columns == {"CI": ["CI"], "Owner": ["Owner"]}
    assert store.table("cmdb", 1).raw.frame.loc[0, "Owner"] == "Ana"
    cursor = store.cursor("cmdb")
    assert cursor["snapshot_id"] == 2 and cursor["content_hash"] == "h2" and cursor["last_ok_at"]
    assert store.table("nothing") is None and store.cursor("nothing") == {}


def test_item_snapshots_keep_history_and_a_full_pull_retires_gone_items(store_at):
    store = store_at()
    store.start_run("r1", "pull")
    counts = store.save_items("jira", [("1", {"k": 1}, "t1"), ("2", {"k": 2}, "t1")], {"w": 1}, run_id="r1")
    assert counts == {"created": 2, "updated": 0, "unchanged": 0, "deleted": 0}
    first_seen = store.execute("SELECT MAX(seen_at) FROM item_versions WHERE tenant = :tenant")[0][0]
    counts = store.save_items("jira", [("1", {"k": 10}, "t2")], {"w": 2}, full=True)
    assert counts == {"created": 0, "updated": 1, "unchanged": 0, "deleted": 1}
    assert store.items("jira") == [{"k": 10}]
    assert store.cursor("jira")["w"] == 2
    assert sorted(p["k"] for p in store.items("jira", as_of=first_seen)) == [1, 2]
    versions = store.execute("SELECT item_id, change FROM item_versions ORDER BY row_no")
    assert versions == [("1", "created"), ("2", "created"), ("1", "updated"), ("2", "deleted")]
    assert store.save_items("jira", [("1", {"k": 10}, "t2")], {"w": 3})["unchanged"] == 1


def test_text_a_database_cannot_hold_is_kept_readable(store_at):
    """PostgreSQL text cannot hold NUL: a hostile export's NUL is kept as U+FFFD on both
    backends, so the finding stays the same span run after run."""
    store = store_at()
    store.start_run("r1", "cli")
    hostile = findings(1, message="Root cause\x00 missing")
    store.save_items("jira", [("1", {"summary": "a\x00b"}, None)], {})
    store.save_assessment("r1", REPORT, hostile)
    store.start_run("r2", "cli")
    store.save_assessment("r2", REPORT, hostile)
    assert store.findings("r2")["message"].tolist() == ["Root cause\ufffd missing"]
    assert store.size_of_findings() == 1
    assert store.items("jira") == [{"summary": "a\x00b"}]


def test_push_state_is_kept_per_ticket(store_at):
    store = store_at()
    store.save_push_state("jira", "OPS-1", "c-1", "f1", labelled=False)
    store.save_push_state("jira", "OPS-1", "c-1", "f2", labelled=True)
    store.save_push_state("gitlab", "g/p#1", None, "f3", labelled=False)
    state = store.push_state("jira")
    assert state == {"OPS-1": ("c-1", "f2", True)}


def test_assessments_spans_trend_and_ages_read_back(store_at):
    store = store_at()
    for night, numbers in enumerate([(1, 2, 3), (2, 3), (2, 3, 4)]):
        run_id = f"r{night}"
        store.execute(
            "INSERT INTO runs (tenant, id, trigger, started_at, status) VALUES (:tenant, :id, 'schedule', :at, 'ok')",
            id=run_id,
            at=f"2026-11-0{night + 1}T02:00:00+00:00",
        )
        store.save_assessment(run_id, REPORT, findings(*numbers))
    assert store.latest_assessed_run() == "r2" and store.previous_assessed_run("r2") == "r1"
    assert sorted(store.findings("r0")["record_id"]) == ["OPS-1", "OPS-2", "OPS-3"]
    assert store.finding_ids("r1") == {"jira:OPS-2:WP.18.h", "jira:OPS-3:WP.18.h"}
    assert [open_ for _, _, open_ in store.finding_history("jira:OPS-1:WP.18.h")] == [True, False, False]
    assert [t["by_work_product"]["WP.18"] for t in store.trend()] == [1, 1, 1]
    since = store.open_since()
    assert since.loc["jira:OPS-2:WP.18.h", "first_seen"] == "r0"
    assert since.loc["jira:OPS-4:WP.18.h", "first_seen"] == "r2"
    assert store.size_of_findings() == 4  # spans, not copies


def test_tenants_sharing_a_store_never_see_each_other(postgres_server):
    url = postgres_server.new_database()
    acme = Store(url, tenant="acme", password=postgres_server.password)
    globex = Store(url, tenant="globex", password=postgres_server.password)
    for store, name in ((acme, "acme"), (globex, "globex")):
        store.start_run("r1", "schedule")  # the same run id in both: keys are per tenant
        store.save_table(table("cmdb", [{"CI": f"{name}-db"}]), f"h-{name}", {})
        store.save_items("jira", [("OPS-1", {"owner": name}, None)], {"w": name})
        store.save_push_state("jira", "OPS-1", f"c-{name}", "f", labelled=True)
        store.save_assessment("r1", REPORT, findings(1, message=f"{name} gap"))
        store.end_run("r1", "ok")
    assert acme.table("cmdb").raw.frame.loc[0, "CI"] == "acme-db"
    assert globex.table("cmdb").id == acme.table("cmdb").id == 1
    assert acme.items("jira") == [{"owner": "acme"}] and globex.cursor("jira")["w"] == "globex"
    assert acme.push_state("jira")["OPS-1"][0] == "c-acme"
    assert acme.findings("r1")["message"].tolist() == ["acme gap"]
    assert globex.findings("r1")["message"].tolist() == ["globex gap"]
    assert len(acme.runs()) == len(globex.runs()) == 1
    assert sorted(acme.tenants()) == ["acme", "globex"]
    # a run of one tenant that is killed is closed by that tenant's next run only
    acme.start_run("r2", "schedule")
    globex.start_run("r2", "schedule")
    assert acme.run("r1").status == "ok" and [r.status for r in acme.runs()] == ["running", "ok"]
    acme.close()
    globex.close()


def test_a_sqlite_store_is_one_tenants(tmp_path):
    with Store(tmp_path / "state.db", tenant="acme") as store:
        store.start_run("r1", "cli")
    with pytest.raises(StoreError, match="holds the history of tenant 'acme', not 'globex'") as caught:
        Store(tmp_path / "state.db", tenant="globex")
    assert "tenant: acme" in caught.value.hint


def test_one_run_at_a_time_per_tenant_and_a_dead_holder_frees_it(store_at):
    acme = store_at("acme")
    with acme.run_lock():
        with pytest.raises(StoreBusy, match="in use by another sdbridge run"):
            store_at("acme").run_lock().acquire()
        if store_at.backend == "postgresql":
            with acme.as_tenant("globex").run_lock():  # another tenant runs meanwhile
                pass
    if store_at.backend != "postgresql":
        return
    # A holder killed in the middle of its run: the server ends its session and the lock.
    server_url, password = str(store_at.location), acme.engine.url.password
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from sdbridge.store import Store;"
            "s=Store(sys.argv[1], tenant='acme', password=sys.argv[2]); s.run_lock().acquire();"
            "print('held', flush=True); time.sleep(60)",
            server_url,
            password,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreBusy, match=r"pid \d+ on"):
            acme.run_lock().acquire()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    for _ in range(1200):  # the server notices the closed connection at once, or nearly (a loaded one: later)
        try:
            acme.run_lock().acquire().release()
            break
        except StoreBusy:
            import time

            time.sleep(0.1)
    else:
        pytest.fail("the lock of a killed holder was not released")


def test_a_store_that_cannot_be_reached_is_one_line_without_the_password(postgres_server):
    url = postgres_server.url("postgres").replace(str(postgres_server.port), "1")  # nothing listens on port 1
    with pytest.raises(StoreError) as caught:
        Store(url, password="s3cret-pw")
    message = f"{caught.value} {caught.value.hint}"
    assert "cannot open the store postgresql://sdbridge@127.0.0.1:1/postgres" in message
    assert "s3cret-pw" not in message and "\n" not in str(caught.value)
    with pytest.raises(StoreError, match="password authentication failed") as wrong:
        Store(postgres_server.url(), password="wrong")
    assert "wrong" not in str(wrong.value).replace("password authentication failed", "")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@db.invalid/x?password=Hunter2Secret",
        "postgresql://u@db.invalid/x?sslmode=require&sslpassword=Hunter2Secret",
        "postgresql://u:Hunter2Secret@db.invalid/x",
    ],
)
def test_a_store_url_with_a_password_is_refused_and_never_shown(tmp_path, monkeypatch, url):
    """From the environment, `portfolio --store` or the config: refused before any connection,
    and the one line says why without the password."""
    from sdbridge.cli import app

    runner = CliRunner()
    monkeypatch.setenv("SDBRIDGE_STORE_URL", url)
    shown = runner.invoke(app, ["portfolio", "--out", str(tmp_path / "p")])
    assert shown.exit_code == 2, shown.output
    assert "carries a password" in shown.output and "Hunter2Secret" not in shown.output
    assert not (tmp_path / "p").exists() or "Hunter2Secret" not in "".join(
        f.read_text(encoding="utf-8", errors="replace") for f in (tmp_path / "p").rglob("*") if f.is_file()
    )
    config = tmp_path / "sdbridge.yaml"
    config.write_text(f"store: {{url: '{url}'}}\nsources: []\n", encoding="utf-8")
    monkeypatch.delenv("SDBRIDGE_STORE_URL")
    checked = runner.invoke(app, ["history", "-c", str(config)])
    assert checked.exit_code == 2 and "carries a password" in checked.output and "Hunter2Secret" not in checked.output
