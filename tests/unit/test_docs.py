"""The documentation tells the truth: the README's commands are run from the installed wheel
(`make dist-test`), the example configs of the pages load, the pages link to pages that
exist, and the starter config names no file an installed sdbridge lacks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sdbridge.cli import app, doc_pages
from sdbridge.config import load_config

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "src" / "sdbridge" / "docs"
runner = CliRunner()


def code_blocks(text: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_every_command_the_readme_shows_is_run_by_dist_test():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = {
        line.split()[1] for block in code_blocks(readme) for line in block.splitlines() if line.startswith("sdbridge ")
    }
    assert {"init", "check", "run", "history", "export"} <= commands
    script = (REPO / "scripts" / "dist_test.sh").read_text(encoding="utf-8")
    missing = [c for c in sorted(commands) if f'"$bin/sdbridge" {c}' not in script]
    assert not missing, f"README commands not run by make dist-test: {missing}"
    first_screen = readme.split("\n## ")[0]
    assert "make demo" in first_screen and "make test" in first_screen and "pipx install ." in first_screen
    assert "../shared" not in readme and "Both need only" not in readme


def test_the_pages_link_to_pages_that_exist_and_their_configs_load(tmp_path, monkeypatch):
    for name in ("JIRA_EMAIL", "JIRA_TOKEN", "GITLAB_TOKEN"):
        monkeypatch.setenv(name, "x")
    pages = sorted(DOCS.glob("*.md"))
    assert set(doc_pages()) == {p.stem for p in pages}
    loaded = 0
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([a-z-]+\.md)(?:#[a-z-]+)?\)", text):
            assert (DOCS / target).is_file(), f"{page.name} links to {target}"
        assert "../shared" not in text and "README" not in text, page.name
        for block in code_blocks(text):
            if block.startswith("#") and "\nversion: 1\n" in block and "sources:" in block:
                config = tmp_path / f"{page.stem}-{loaded}.yaml"
                config.write_text(block, encoding="utf-8")
                assert load_config(config).sources, page.name
                loaded += 1
    assert loaded >= 3  # Jira Cloud, Jira Data Center, GitLab


def test_sdbridge_docs_lists_the_pages_and_shows_one():
    listed = runner.invoke(app, ["docs"], env={"COLUMNS": "100"})
    assert listed.exit_code == 0 and "auditors" in listed.output and "push-back" in listed.output
    shown = runner.invoke(app, ["docs", "cli"])
    assert shown.exit_code == 0 and "Exit codes" in shown.output
    typo = runner.invoke(app, ["docs", "jra"])
    assert typo.exit_code == 2 and "did you mean 'jira'?" in typo.output


@pytest.mark.parametrize("zone", ["America/Chicago", "Asia/Tokyo"])
def test_the_starter_config_is_in_this_machines_zone_and_names_no_missing_file(tmp_path, monkeypatch, zone):
    monkeypatch.setenv("TZ", zone)
    target = tmp_path / "starter.yaml"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    text = target.read_text(encoding="utf-8")
    assert f"timezone: {zone}" in text and "Europe/Oslo" not in text
    assert not re.search(r"config/|deploy/|README", text)
    assert "sdbridge docs jira" in text
