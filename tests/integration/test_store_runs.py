"""The store and nightly runs: replays, crash recovery, a failing source, the lock."""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sdbridge.cli import app
from sdbridge.config import load_config
from sdbridge.runlock import RunLock, StoreBusy
from sdbridge.runner import run_once, store_path
from sdbridge.store import SCHEMA_VERSION, SQLITE_MIGRATIONS, Store, StoreError
from tests.commands import sdbridge as run_sdbridge

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "src" / "sdbridge" / "demo"
runner = CliRunner()


@pytest.fixture
def workspace(demo_workspace: Path) -> Path:
    return demo_workspace.parent


def sdbridge(*args: str, cwd: Path, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    """The installed script, wide enough that tables keep one line per row."""
    return run_sdbridge(*args, cwd=cwd, env={"COLUMNS": "200", **(env or {})}, timeout=timeout, script=True)


def findings_of(folder: Path) -> list[dict]:
    """The findings of a report, without how long each has been open (that is about the night
    the report was made: a replay of an old run or a second run the same night differ in it)."""
    findings = json.loads((folder / "report.json").read_text(encoding="utf-8"))["findings"]
    return [{k: v for k, v in f.items() if k not in ("first_seen", "age_days")} for f in findings]


def test_two_runs_on_unchanged_inputs_agree_and_the_second_skips_the_files(workspace):
    first = sdbridge("run", "-c", "sdbridge.yaml", "--out", "r1", cwd=workspace)
    second = sdbridge("run", "-c", "sdbridge.yaml", "--out", "r2", cwd=workspace)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "jira: pulled 151 items" in first.stdout
    assert "jira: unchanged since the last pull, skipped" in second.stdout
    assert findings_of(workspace / "r1") == findings_of(workspace / "r2")
    with Store(workspace / ".sdbridge" / "state.db") as store:
        sources = len(load_config(workspace / "sdbridge.yaml").sources)
        assert store.execute("SELECT COUNT(*) FROM table_snapshots")[0][0] == sources
        assert [r.status for r in store.runs()] == ["ok", "ok"]


def test_store_file_is_private(workspace):
    run_once(load_config(workspace / "sdbridge.yaml"), out=workspace / "r")
    db = workspace / ".sdbridge" / "state.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, workspace):
    """(environment for `sdbridge`, opener of the store it writes) on each backend."""
    if request.param == "sqlite":
        return {}, lambda: Store(workspace / ".sdbridge" / "state.db")
    server = request.getfixturevalue("postgres_server")
    url = server.new_database()
    env = {"SDBRIDGE_STORE_URL": url, "SDBRIDGE_STORE_PASSWORD": server.password}
    return env, lambda: Store(url, password=server.password)


def test_a_run_killed_between_snapshot_and_cursor_loses_and_duplicates_nothing(workspace, backend):
    env, opened = backend
    crashed = sdbridge(
        "run", "-c", "sdbridge.yaml", cwd=workspace, env={**env, "SDBRIDGE_FAULT": "after-snapshot-write"}
    )
    assert crashed.returncode == 97  # the process died inside the first source's transaction
    with opened() as store:
        assert store.execute("SELECT COUNT(*) FROM table_snapshots")[0][0] == 0
        assert store.cursor("jira") == {}
    recovered = sdbridge("run", "-c", "sdbridge.yaml", "--out", "after", cwd=workspace, env=env)
    assert recovered.returncode == 0, recovered.stderr
    assert "jira: pulled 151 items" in recovered.stdout
    with opened() as store:
        names = sorted(s.name for s in load_config(workspace / "sdbridge.yaml").sources)
        assert store.execute("SELECT source, COUNT(*) FROM table_snapshots GROUP BY source ORDER BY source") == [
            (name, 1) for name in names
        ]
        statuses = {r.status for r in store.runs()}
        assert statuses == {"interrupted", "ok"}  # the next run closed the killed one's row, and was ok
    clean = sdbridge("check", "-c", "sdbridge.yaml", "--out", "clean", cwd=workspace, env=env)
    assert clean.returncode == 0, clean.stderr
    assert findings_of(workspace / "after") == findings_of(workspace / "clean")
    assert not (workspace / ".sdbridge" / "state.db").exists() or not env  # PostgreSQL: no file beside


def test_a_failing_source_makes_the_run_partial_and_the_rest_is_still_reported(workspace):
    good = sdbridge("run", "-c", "sdbridge.yaml", "--out", "good", cwd=workspace)
    assert good.returncode == 0
    before = {s["name"]: s for s in json.loads((workspace / "good" / "report.json").read_text())["sources"]}
    (workspace / "data" / "gitlab-issues.csv").write_text("Issue ID,Title\n1,a,b\n", encoding="utf-8")  # ragged
    result = sdbridge("run", "-c", "sdbridge.yaml", "--out", "partial", cwd=workspace)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "gitlab" in result.stderr and "gitlab-issues.csv:2" in result.stderr
    report = json.loads((workspace / "partial" / "report.json").read_text())
    sources = {s["name"]: s for s in report["sources"]}
    assert sources["gitlab"]["status"] == "failed"
    assert "gitlab-issues.csv:2" in sources["gitlab"]["error"]
    assert sources["gitlab"]["data_age_hours"] is not None  # the last good data is named and aged
    assert sources["gitlab"]["items_pulled"] == before["gitlab"]["items_pulled"]  # ... and still checked
    assert sources["jira"]["status"] == "ok" and sources["jira"]["mapped"] == before["jira"]["mapped"]
    assert "Traceback" not in result.stderr
    markdown = (workspace / "partial" / "report.md").read_text(encoding="utf-8")
    assert "**gitlab failed:**" in markdown and "h old" in markdown


def test_a_source_that_never_worked_is_reported_failed_with_no_records(workspace):
    (workspace / "data" / "cmdb.xlsx").unlink()
    result = sdbridge("run", "-c", "sdbridge.yaml", "--out", "r", cwd=workspace)
    assert result.returncode == 3
    report = json.loads((workspace / "r" / "report.json").read_text())
    cmdb = next(s for s in report["sources"] if s["name"] == "cmdb")
    assert cmdb["status"] == "failed" and "does not exist" in cmdb["error"]
    assert report["summary"]["by_work_product"]["WP.18"]["records"] > 0


def test_check_replays_a_past_run_after_the_file_changed(workspace):
    config = load_config(workspace / "sdbridge.yaml")
    first = run_once(config, out=workspace / "r1")
    path = workspace / "data" / "jira-export.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",Incident,", ",Task,", 10), encoding="utf-8")
    second = run_once(config, out=workspace / "r2")
    assert second.assessment.summary.records < first.assessment.summary.records
    replay = runner.invoke(
        app,
        ["check", "-c", str(workspace / "sdbridge.yaml"), "--run", first.run_id, "--out", str(workspace / "replay")],
    )
    assert replay.exit_code == 0, replay.output
    assert findings_of(workspace / "replay") == findings_of(workspace / "r1")


def test_check_says_when_a_file_changed_since_the_pull(workspace):
    run_once(load_config(workspace / "sdbridge.yaml"), out=workspace / "r")
    with (workspace / "data" / "gitlab-issues.csv").open("a", encoding="utf-8") as handle:
        handle.write("")
    (workspace / "data" / "gitlab-issues.csv").write_bytes(
        (workspace / "data" / "gitlab-issues.csv").read_bytes() + b"\n"
    )
    result = runner.invoke(
        app, ["check", "-c", str(workspace / "sdbridge.yaml"), "--out", str(workspace / "c")], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0
    assert "gitlab-issues.csv has changed since" in result.output


def test_history_shows_runs_and_the_trend(workspace):
    config = load_config(workspace / "sdbridge.yaml")
    first = run_once(config, out=workspace / "r")
    path = workspace / "data" / "jira-export.csv"
    rows = path.read_text(encoding="utf-8").replace("TBD", "Disk full")
    path.write_text(rows, encoding="utf-8")
    run_once(config, out=workspace / "r")
    result = runner.invoke(app, ["history", "-c", str(workspace / "sdbridge.yaml")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert first.run_id in result.output
    assert "WP.18" in result.output and "Service incident record" in result.output
    gone = next(f for f in first.assessment.findings.itertuples() if f.item == "WP.18.h")
    follow = runner.invoke(
        app, ["history", "-c", str(workspace / "sdbridge.yaml"), "--finding", gone.id], env={"COLUMNS": "200"}
    )
    assert follow.exit_code == 0 and "open" in follow.output


def test_one_run_at_a_time(workspace):
    config = load_config(workspace / "sdbridge.yaml")
    path = store_path(config)
    path.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from pathlib import Path; from sdbridge.runlock import RunLock;"
            "l=RunLock(Path(sys.argv[1])).acquire(); print('held', flush=True); time.sleep(30)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = sdbridge("run", "-c", "sdbridge.yaml", cwd=workspace)
        assert result.returncode == 2
        assert f"pid {holder.pid}" in result.stderr and "in use by another sdbridge run" in result.stderr
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    # The holder died without releasing: its lock is taken over.
    lock = RunLock(path).acquire()
    assert lock.took_over and lock.took_over["pid"] == holder.pid
    with pytest.raises(StoreBusy):
        RunLock(path).acquire()
    lock.release()


def test_an_old_store_is_upgraded_in_place(tmp_path):
    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    db.executescript(SQLITE_MIGRATIONS[0])
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO runs (id, trigger, started_at, status) VALUES ('r1', 'manual', '2026-01-01', 'ok')")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert [r.id for r in store.runs()] == ["r1"]
        store.execute("SELECT * FROM push_state")


def test_a_store_from_a_newer_sdbridge_is_refused(tmp_path):
    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer sdbridge"):
        Store(path)


def test_the_html_report_draws_the_trend_of_past_runs(workspace):
    config = load_config(workspace / "sdbridge.yaml")
    run_once(config, out=workspace / "r", formats=["html"])
    single = (workspace / "r" / "report.html").read_text(encoding="utf-8")
    assert "Trend of gaps" not in single  # one run: nothing to draw yet
    run_once(config, out=workspace / "r", formats=["html"])
    html = (workspace / "r" / "report.html").read_text(encoding="utf-8")
    assert "Trend of gaps per work product" in html and "<polyline" in html
    assert 'aria-label="Gaps per work product over the last 2 runs"' in html
