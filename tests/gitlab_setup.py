"""A GitLab source against the loopback fake, shared by the tests that pull from it or push to
it: the token, the fake server (a fixture), the config that reads it, and what sdbridge wrote."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from sdbridge.marker import MARKER
from tests.fakes.gitlab_data import build_portal
from tests.fakes.gitlab_server import BOT, FakeGitLab
from tests.fakes.waiting import serving

TOKEN = "glpat-must-never-show"


@pytest.fixture(autouse=True)
def token_env(monkeypatch):
    monkeypatch.setenv("SDB_GITLAB_TOKEN", TOKEN)


@contextmanager
def running_gitlab(token: str = TOKEN) -> Iterator[FakeGitLab]:
    """The loopback GitLab with the demo's portal project, for as long as the block runs."""
    with serving(FakeGitLab(token=token, projects=[build_portal()])) as server:
        yield server


@pytest.fixture
def fake():
    with running_gitlab() as server:
        yield server


def gitlab_source(base: str, **extra: Any) -> dict[str, Any]:
    """A GitLab source of the config, reading the portal project of the fake at `base` with
    the token from $SDB_GITLAB_TOKEN; `extra` adds or replaces keys."""
    source = {
        "name": "gitlab",
        "type": "gitlab",
        "url": base,
        "token": "${SDB_GITLAB_TOKEN}",
        "projects": ["nordlys/portal"],
        "preset": "gitlab",
    }
    return {**source, **extra}


def write_config(folder: Path, base: str, **extra) -> Path:
    defaults = {
        "per_page": 5,
        "retry": {"tries": 5, "backoff_seconds": 0.05, "max_wait_seconds": 2, "budget_seconds": 60},
    }
    source = gitlab_source(base, **{**defaults, **extra})
    path = folder / "gitlab.yaml"
    path.write_text(yaml.safe_dump({"sources": [source]}), encoding="utf-8")
    return path


def ours(fake: FakeGitLab, ticket: str) -> list[dict]:
    project = fake.projects[0]
    iid = int(ticket.split("#")[-1].split("!")[-1])
    notes = project.notes.get(iid, []) if "#" in ticket else project.mr_notes.get(iid, [])
    return [n for n in notes if MARKER in n["body"] and n["author"]["id"] == BOT["id"]]
