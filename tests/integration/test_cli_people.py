"""The command line holds no surprises for a person who knows ruff, pytest or dbt: -q still
prints results, -v says each step, logs carry their offset, arguments mean what they say,
nothing is overwritten unasked, one run id everywhere, and a missing driver is one line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from sdbridge.cli import app
from tests.commands import sdbridge as run_sdbridge

runner = CliRunner()


def sdbridge(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """At 100 columns unless a test says otherwise."""
    return run_sdbridge(*args, cwd=cwd, env={"COLUMNS": "100", **(env or {})})


def test_quiet_prints_the_results_and_quieter_prints_nothing(demo_workspace):
    folder = demo_workspace.parent
    quiet = sdbridge("run", "-q", cwd=folder)
    assert quiet.returncode == 0, quiet.stderr
    lines = quiet.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Variation full: 17 requirements") and lines[1].endswith(": ok")
    assert quiet.stderr == ""
    silent = sdbridge("run", "-qq", cwd=folder)
    assert silent.returncode == 0 and silent.stdout == "" and silent.stderr == ""
    history = sdbridge("-q", "history", cwd=folder)
    assert history.returncode == 0 and "Runs" in history.stdout and "manual" in history.stdout
    profile = sdbridge("profile", "-q", "-w", "WP.18", cwd=folder)
    assert profile.returncode == 0 and "WP.18.h" in profile.stdout


def test_verbose_says_each_step_and_very_verbose_each_request(demo_workspace):
    folder = demo_workspace.parent
    verbose = sdbridge("-v", "check", "--out", "r", cwd=folder)
    assert verbose.returncode == 0, verbose.stderr
    steps = [line for line in verbose.stderr.splitlines() if " info done step=" in line]
    assert any('step="checking the items and the process requirements"' in s for s in steps)
    assert all(re.match(r"^\d\d:\d\d:\d\d info ", s) for s in steps)
    assert not any(line.lstrip().startswith("{") for line in verbose.stderr.splitlines())  # no raw JSON blob


def test_very_verbose_logs_each_request_without_its_query_or_token(fake, tmp_path):
    config = write_jira_config(tmp_path, fake.base)
    pulled = sdbridge("-vv", "pull", "-c", str(config), cwd=tmp_path, env={"SDB_JIRA_TOKEN": TOKEN})
    assert pulled.returncode == 0, pulled.stderr
    requests = [line for line in pulled.stderr.splitlines() if " debug request " in line]
    assert requests and any("method=GET" in r and "status=200" in r for r in requests)
    assert TOKEN not in pulled.stderr and "?" not in " ".join(r.split("url=")[1].split()[0] for r in requests)


def test_json_log_times_carry_their_utc_offset(demo_workspace):
    logged = sdbridge("--log-format", "json", "-qq", "check", "--out", "r", cwd=demo_workspace.parent)
    assert logged.returncode == 0, logged.stderr
    times = [json.loads(line)["time"] for line in logged.stderr.splitlines()]
    assert times and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", t) for t in times)


def test_init_takes_the_config_to_write_and_the_exports_after_from(tmp_path):
    (tmp_path / "jira.csv").write_text(
        "Issue key,Summary,Issue Type,Status,Created,Priority\nOPS-1,Mail down,Incident,Open,01/Dec/26 10:00 AM,High\n",
        encoding="utf-8",
    )
    made = runner.invoke(app, ["init", str(tmp_path / "my.yaml"), "--from", str(tmp_path / "jira.csv")])
    assert made.exit_code == 0, made.output
    written = yaml.safe_load((tmp_path / "my.yaml").read_text(encoding="utf-8"))
    assert [s["path"] for s in written["sources"]][0].endswith("jira.csv")
    two = runner.invoke(app, ["init", str(tmp_path / "a.yaml"), str(tmp_path / "b.yml"), "--from", "x.csv"])
    assert two.exit_code == 2 and "more than one config to write" in two.output


def test_export_never_replaces_a_package_unasked(demo_workspace):
    folder = demo_workspace.parent
    assert sdbridge("run", "-qq", cwd=folder).returncode == 0
    assert sdbridge("export", "--out", "audit.zip", cwd=folder).returncode == 0
    first = (folder / "audit.zip").read_bytes()
    again = sdbridge("export", "--out", "audit.zip", cwd=folder)
    assert again.returncode == 2 and "audit.zip exists" in again.stderr and "--force" in again.stderr
    assert (folder / "audit.zip").read_bytes() == first
    forced = sdbridge("export", "--out", "audit.zip", "--force", cwd=folder)
    assert forced.returncode == 0, forced.stderr


@pytest.mark.parametrize(
    ("word", "said"),
    [("verify", "sdbridge export --verify"), ("status", "sdbridge history"), ("help", "sdbridge docs")],
)
def test_a_word_that_is_no_command_gets_the_command_that_does_it(tmp_path, word, said):
    result = sdbridge(word, "x.zip", cwd=tmp_path)
    assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr


def test_portfolio_reads_the_store_of_the_config_given_with_c(demo_workspace):
    folder = demo_workspace.parent
    assert sdbridge("run", "-qq", cwd=folder).returncode == 0
    made = sdbridge("portfolio", "-c", "sdbridge.yaml", "--out", "p", cwd=folder)
    assert made.returncode == 0, made.stderr
    tenants = json.loads((folder / "p" / "portfolio.json").read_text())["tenants"]
    assert [t["tenant"] for t in tenants] == ["default"] and tenants[0]["gaps"] > 0


def test_a_misspelt_config_key_says_which_key_was_meant(tmp_path):
    (tmp_path / "c.yaml").write_text(
        "sources:\n  - {name: t, type: csv, path: t.csv}\nreports:\n  formts: [json]\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["check", "-c", str(tmp_path / "c.yaml")])
    assert result.exit_code == 2
    assert "c.yaml:4: reports.formts: not a key sdbridge knows here; did you mean `formats`?" in result.output


def test_the_run_id_check_prints_is_the_one_history_finds(demo_workspace):
    folder = demo_workspace.parent
    assert sdbridge("pull", "-qq", cwd=folder).returncode == 0
    checked = sdbridge("check", "-q", "--out", "r", cwd=folder)
    assert checked.returncode == 0, checked.stderr
    run_id = re.search(r"^check (\S+): ok$", checked.stdout, flags=re.MULTILINE).group(1)
    assert json.loads((folder / "r" / "report.json").read_text())["run_id"] == run_id
    detail = sdbridge("history", "--run", run_id, cwd=folder)
    assert detail.returncode == 0 and "(check, ok," in detail.stdout
    runs = json.loads(sdbridge("history", "--format", "json", cwd=folder).stdout)
    assert [r["trigger"] for r in runs][-2:] == ["pull", "check"]


def test_schedule_run_now_is_recorded_as_run_now(demo_workspace):
    from sdbridge.config import load_config
    from sdbridge.scheduler import run_job
    from sdbridge.store import Store

    text = demo_workspace.read_text(encoding="utf-8") + '\nschedule: {cron: "0 2 * * *", timezone: UTC}\n'
    demo_workspace.write_text(text, encoding="utf-8")
    config = load_config(demo_workspace)
    run_job(config, config.schedule.jobs[0], f"run-now:{config.schedule.jobs[0].name}")
    run_job(config, config.schedule.jobs[0])
    with Store(demo_workspace.parent / ".sdbridge" / "state.db") as store:
        assert [r.trigger for r in store.runs()] == ["schedule:nightly", "run-now:nightly"]  # latest first


def test_a_postgresql_store_without_its_driver_is_one_line_naming_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now fails as if not installed
    (tmp_path / "c.yaml").write_text(
        "sources: []\nstore: {url: 'postgresql://sdbridge@db.invalid:5432/sdbridge'}\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["history", "-c", str(tmp_path / "c.yaml")])
    assert result.exit_code == 2, result.output
    assert "psycopg" in result.output and "sdbridge[postgresql]" in result.output
    assert "Traceback" not in result.output


# A Jira fake for the request log (the strict loopback server of tests/fakes).
TOKEN = "tok-vv-never-shown"


@pytest.fixture
def fake():
    from tests.jira_setup import running_jira

    with running_jira(TOKEN, cloud=False) as server:
        yield server


def write_jira_config(folder: Path, base: str) -> Path:
    from tests.jira_setup import jira_source

    config = folder / "sdbridge.yaml"
    source = jira_source(base, cloud=False, preset="jira-software")
    config.write_text(yaml.safe_dump({"sources": [source]}), encoding="utf-8")
    return config
