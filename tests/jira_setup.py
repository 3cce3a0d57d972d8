"""A Jira source against the loopback fake, shared by the tests that pull from it or push to
it: the token, the fake server (a fixture), the config that reads it, and what sdbridge wrote."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sdbridge.mapping.table import RECORD_ID
from sdbridge.marker import MARKER
from sdbridge.values import as_text
from tests.fakes.jira_data import assets_from_cmdb, custom_field_list, issues_from_csv
from tests.fakes.jira_server import FakeJira
from tests.fakes.waiting import serving

TOKEN = "t0ken-that-must-never-show"


@contextmanager
def running_jira(token: str = TOKEN, *, cloud: bool = True, **options: Any) -> Iterator[FakeJira]:
    """The loopback Jira (Cloud or Data Center) with the demo's incidents and custom fields,
    its URL as `base`, for as long as the block runs; `options` go to `FakeJira`."""
    fake = FakeJira(
        cloud=cloud, token=token, issues=issues_from_csv(cloud=cloud), custom_fields=custom_field_list(), **options
    )
    with serving(fake) as server:
        yield server


@pytest.fixture
def fake():
    with running_jira(assets=assets_from_cmdb()) as server:
        yield server


def jira_source(base: str, *, cloud: bool = True, **extra: Any) -> dict[str, Any]:
    """A Jira source of the config, reading project NHS of the fake at `base` with the token
    from $SDB_JIRA_TOKEN; `extra` adds or replaces keys."""
    source = {
        "name": "jira",
        "type": "jira",
        "url": base,
        "auth": "cloud" if cloud else "datacenter",
        "token": "${SDB_JIRA_TOKEN}",
        "projects": ["NHS"],
        "preset": "jira-service-management",
        **({"email": "bot@example.invalid"} if cloud else {}),
    }
    return {**source, **extra}


def write_config(folder: Path, base: str, *, cloud: bool = True, **extra) -> Path:
    defaults = {
        "timezone": "Europe/Oslo",
        "page_size": 50,
        "retry": {"tries": 5, "backoff_seconds": 0.05, "max_wait_seconds": 2, "budget_seconds": 60},
    }
    source = jira_source(base, cloud=cloud, **{**defaults, **extra})
    if cloud:
        source.setdefault("assets", {"workspace_id": "w1", "url": f"{base}/jsm/assets/workspace/w1/v1"})
    path = folder / "jira.yaml"
    path.write_text(yaml.safe_dump({"sources": [source], "reports": {"out": "reports"}}), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def token_env(monkeypatch):
    monkeypatch.setenv("SDB_JIRA_TOKEN", TOKEN)


def canonical(frame: pd.DataFrame, drop: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    columns = [c for c in frame.columns if not c.startswith("_") and c not in ("url", *drop)]
    text = {c: as_text(frame[c]).fillna("") for c in columns}
    return {rid: {c: text[c].iat[i] for c in columns} for i, rid in enumerate(frame[RECORD_ID])}


def ours(fake: FakeJira, key: str) -> list[dict]:
    return [
        c
        for c in fake.comments_of(key)
        if any(p["key"] == "sdbridge" and p["value"].get("marker") == MARKER for p in c.get("properties", []))
        and c["author"].get("accountId") == "bot-account"
    ]


def gapped(outcome) -> set[str]:
    findings = outcome.assessment.findings
    rows = findings[findings.work_product.isin(["WP.18", "WP.11"]) & (findings.source == "jira")]
    return set(rows.record_id)
