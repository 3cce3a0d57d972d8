"""The command line behaves like the tools people already use: config discovery, secrets read
only when needed, verbosity and JSON logs, run ids that scripts can use, checked arguments."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sdbridge.cli import app, global_options_first
from tests.commands import sdbridge
from tests.jira_setup import TOKEN, fake, token_env, write_config  # noqa: F401 (fixtures)

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


def test_the_config_is_found_from_the_option_the_environment_or_the_folder(demo_workspace, monkeypatch):
    folder = demo_workspace.parent
    monkeypatch.chdir(folder)
    monkeypatch.delenv("SDBRIDGE_CONFIG", raising=False)
    found = runner.invoke(app, ["check", "--out", "r1"])  # ./sdbridge.yaml
    assert found.exit_code == 0, found.output
    other = folder / "other.yml"
    shutil.copy(demo_workspace, other)
    (folder / "broken.yaml").write_text("sources: [\n", encoding="utf-8")
    monkeypatch.setenv("SDBRIDGE_CONFIG", str(folder / "broken.yaml"))  # the environment beats ./sdbridge.yaml
    assert runner.invoke(app, ["check", "--out", "r2"]).exit_code == 2
    assert runner.invoke(app, ["check", "-c", str(other), "--out", "r3"]).exit_code == 0  # -c beats both
    monkeypatch.delenv("SDBRIDGE_CONFIG")
    demo_workspace.rename(folder / "sdbridge.yml")
    assert runner.invoke(app, ["check", "--out", "r4"]).exit_code == 0  # ./sdbridge.yml
    typo = runner.invoke(app, ["check", "-c", "sdbrige.yml"])
    assert typo.exit_code == 2 and "does not exist" in typo.output and "did you mean sdbridge.yml?" in typo.output
    (folder / "sdbridge.yml").unlink()
    none = runner.invoke(app, ["check"])
    assert none.exit_code == 2 and "SDBRIDGE_CONFIG" in none.output


def test_offline_commands_run_without_the_token_and_pull_names_the_variable(fake, tmp_path, monkeypatch):
    config = write_config(tmp_path, fake.base)
    assert runner.invoke(app, ["pull", "-c", str(config)]).exit_code == 0
    monkeypatch.delenv("SDB_JIRA_TOKEN")
    before = len(fake.requests)
    checked = runner.invoke(app, ["check", "-c", str(config), "--out", str(tmp_path / "r")])
    assert checked.exit_code == 0, checked.output
    assert json.loads((tmp_path / "r" / "report.json").read_text())["summary"]["records"] > 0
    assert runner.invoke(app, ["mapping", "-c", str(config), "-w", "WP.18"]).exit_code == 0
    assert runner.invoke(app, ["history", "-c", str(config)]).exit_code == 0
    assert len(fake.requests) == before  # offline: no request
    pulled = runner.invoke(app, ["pull", "-c", str(config)])
    assert pulled.exit_code == 2
    assert "SDB_JIRA_TOKEN is not set" in pulled.output and TOKEN not in pulled.output


def test_quieter_prints_nothing_and_json_logs_parse(demo_workspace):
    folder = demo_workspace.parent
    quiet = sdbridge("run", "-qq", cwd=folder)  # global options after the command work too
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "" and quiet.stderr == ""
    logged = sdbridge("--log-format", "json", "-qq", "run", cwd=folder)
    assert logged.returncode == 0 and logged.stdout == ""
    lines = [json.loads(line) for line in logged.stderr.splitlines()]
    events = {line["event"] for line in lines}
    assert {"pull", "check", "reports", "run"} <= events
    pull = next(line for line in lines if line["event"] == "pull")
    assert {"run_id", "source", "status", "items", "seconds", "time", "level"} <= set(pull)
    run = next(line for line in lines if line["event"] == "run")
    assert run["status"] == "ok" and run["records"] > 0 and run["run_id"] == pull["run_id"]


def test_run_ids_stay_whole_in_piped_history_and_export_packages_the_last_run(demo_workspace):
    folder = demo_workspace.parent
    assert sdbridge("run", "-q", cwd=folder).returncode == 0
    as_json = json.loads(sdbridge("history", "--format", "json", cwd=folder).stdout)
    run_id = as_json[-1]["run_id"]
    piped = sdbridge("history", cwd=folder, env={"COLUMNS": "80"})
    assert piped.returncode == 0 and run_id in piped.stdout  # not cut to "202611…"
    assert run_id in sdbridge("history", "--format", "csv", cwd=folder).stdout
    detail = sdbridge("history", "--run", run_id, cwd=folder)
    assert detail.returncode == 0 and "jira" in detail.stdout and "160 gaps in 111 of 234 records" in detail.stdout
    exported = sdbridge("export", "--out", "audit.zip", cwd=folder)
    assert exported.returncode == 0, exported.stderr
    manifest = json.loads(zipfile.ZipFile(folder / "audit.zip").read("manifest.json"))
    assert manifest["run_id"] == run_id  # the stored run, not a new id history never lists
    # Unzipped and zipped again by another tool, with folder entries: still verifies.
    rezipped = folder / "rezipped.zip"
    with zipfile.ZipFile(folder / "audit.zip") as source, zipfile.ZipFile(rezipped, "w") as target:
        folders = {name.rsplit("/", 1)[0] + "/" for name in source.namelist() if "/" in name}
        for name in sorted(folders):
            target.writestr(name, b"")
        for name in source.namelist():
            target.writestr(name, source.read(name))
    verified = sdbridge("export", "--verify", str(rezipped), cwd=folder)
    assert verified.returncode == 0, verified.stderr


@pytest.mark.parametrize("command", [["mapping"], ["history"]])
def test_a_mistyped_work_product_is_an_error_not_silence(demo_workspace, command):
    result = runner.invoke(app, [*command, "-c", str(demo_workspace), "-w", "WP.99"])
    assert result.exit_code == 2 and "no work product 'WP.99'" in result.output


def test_python_dash_m_and_the_global_options_anywhere(tmp_path):
    version = sdbridge("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("sdbridge ")
    assert global_options_first(["check", "-c", "x.yaml", "-q", "--log-format", "json", "-vv"]) == [
        "-q",
        "--log-format",
        "json",
        "-vv",
        "check",
        "-c",
        "x.yaml",
    ]
    assert global_options_first(["export", "--", "-q"]) == ["export", "--", "-q"]


def test_the_scheduler_logs_each_jobs_real_next_fire_time(demo_workspace):
    from sdbridge.config import load_config
    from sdbridge.scheduler import _next_fire, build_scheduler

    config_text = (
        demo_workspace.read_text(encoding="utf-8") + '\nschedule: {cron: "0 2 * * *", timezone: Europe/Oslo}\n'
    )
    demo_workspace.write_text(config_text, encoding="utf-8")
    scheduler = build_scheduler(load_config(demo_workspace))
    nexts = [_next_fire(job) for job in scheduler.get_jobs()]
    assert nexts and all(n and "T02:00:00+" in n for n in nexts)
