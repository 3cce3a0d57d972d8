"""Third-party source types register through the `sdbridge.connectors` entry-point group and
then go through every command like a built-in: configured, pulled, checked, run, pushed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest
from typer.testing import CliRunner

from sdbridge import registry
from sdbridge.cli import app
from sdbridge.config import load_config
from sdbridge.connectors.base import ROW, ItemBatch, RawTable
from sdbridge.errors import ConfigError
from sdbridge.pipeline import check
from sdbridge.pushback.plan import OwnComment

runner = CliRunner()


class ItsmWriter:
    """A push writer kept in memory: what a plugin's writer would send to its tracker."""

    comments: dict[str, str] = {}
    writes: list[str] = []

    def __init__(self, source):
        self.source = source

    def me(self):
        return "bot"

    def find(self, comments):
        return {t: OwnComment(c, "bot", True) if t in self.comments else None for t, c in comments.items()}

    def find_own(self, ticket, me):
        return OwnComment(ticket, "bot", True) if ticket in self.comments else None

    def create(self, ticket, lines):
        self.writes.append(f"create {ticket}")
        self.comments[ticket] = "\n".join(lines)
        return ticket

    def update(self, ticket, comment_id, lines):
        self.writes.append(f"update {ticket}")

    def delete(self, ticket, comment_id):
        self.writes.append(f"delete {ticket}")

    def label(self, ticket, label, add):
        self.writes.append(f"label {ticket}")

    def summary(self, existing, title, lines):
        return "summary"


class ItsmConnector:
    """An item source shaped like a ServiceNow table API: what a plugin provides."""

    kind = "items"
    writer = ItsmWriter

    @staticmethod
    def ticket_of(item):
        return item.get("number")

    def __init__(self, source, *, resolve):
        self.source = source

    def pull_items(self, cursor, *, full=False) -> ItemBatch:
        items = [(i["number"], i, i.get("sys_updated_on")) for i in self.source.model_extra["demo_items"]]
        return ItemBatch(items=items, cursor={"pulled": len(items)}, full=True, requests=1)


class SheetConnector:
    """A file source of a plugin: read whole, skipped by its hash when unchanged."""

    remote = False

    def __init__(self, source, *, resolve):
        self.source = source

    def content_hash(self):
        return json.dumps(self.source.model_extra["demo_items"], sort_keys=True)

    def pull(self) -> RawTable:
        items = self.source.model_extra["demo_items"]
        frame = pd.DataFrame({"_item": pd.Series(items, dtype=object), ROW: range(1, len(items) + 1)})
        return RawTable(
            source=self.source.name,
            frame=frame,
            columns={},
            location="sheet://demo",
            fetched_at=datetime.now(UTC),
            kind="json",
        )


class EntryPoint:
    def __init__(self, name, target):
        self.name, self.target = name, target

    def load(self):
        return self.target


@pytest.fixture
def plugin(monkeypatch):
    def entry_points(group=None):
        if group != "sdbridge.connectors":
            return []
        return [EntryPoint("itsm", ItsmConnector), EntryPoint("sheet", SheetConnector)]

    # the one loader every part goes through reads installed packages' entry points here
    monkeypatch.setattr("importlib.metadata.entry_points", entry_points)
    registry._plugin.cache_clear()
    ItsmWriter.comments, ItsmWriter.writes = {}, []
    yield
    registry._plugin.cache_clear()


ITEMS = '[{number: INC1, priority: "1", sys_updated_on: "2026-11-01"}, {number: INC2, sys_updated_on: "2026-11-02"}]'


def test_a_plugin_item_source_is_pulled_checked_run_and_pushed(plugin, write, tmp_path):
    config = write(
        "c.yaml",
        f"""
        sources:
          - name: itsm
            type: itsm
            demo_items: {ITEMS}
            push: {{enabled: true, work_products: [WP.18]}}
            map:
              WP.18:
                fields: {{id: number, priority: priority}}
    """,
    )
    pulled = runner.invoke(app, ["pull", "-c", str(config)])
    assert pulled.exit_code == 0, pulled.output
    assert "itsm: pulled 2 items" in pulled.output
    checked = runner.invoke(app, ["check", "-c", str(config), "--out", str(tmp_path / "r")])
    assert checked.exit_code == 0, checked.output
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["sources"][0]["status"] == "ok" and report["work_products"]["WP.18"]["records"] == 2
    assert {f["record_id"] for f in report["findings"] if f["item"] == "WP.18.f"} == {"INC2"}
    dry = runner.invoke(app, ["run", "-c", str(config), "--dry-run", "--out", str(tmp_path / "r")])
    assert dry.exit_code == 0, dry.output
    assert "plan create    itsm INC2" in dry.output and ItsmWriter.writes == []
    pushed = runner.invoke(app, ["push", "-c", str(config), "--dry-run"])
    assert pushed.exit_code == 0 and "(dry run: nothing was written)" in pushed.output
    assert ItsmWriter.writes == []
    for _ in range(2):
        assert runner.invoke(app, ["push", "-c", str(config)]).exit_code == 0
    assert ItsmWriter.writes == ["create INC1", "label INC1", "create INC2", "label INC2"]  # once, not twice
    assert "Priority (WP.18 f) is missing" in ItsmWriter.comments["INC2"]


def test_a_plugin_file_source_is_checked_and_skipped_when_unchanged(plugin, write):
    path = write(
        "c.yaml",
        f"""
        sources:
          - name: sheet
            type: sheet
            demo_items: {ITEMS}
            map:
              WP.18:
                fields: {{id: number, priority: priority}}
    """,
    )
    result = check(load_config(path))
    findings = result.assessment.findings
    assert result.tables["WP.18"].records == 2
    assert set(findings[findings.item == "WP.18.f"].record_id) == {"INC2"}
    assert runner.invoke(app, ["pull", "-c", str(path)]).exit_code == 0
    again = runner.invoke(app, ["pull", "-c", str(path)])
    assert "sheet: unchanged since the last pull, skipped" in again.output


def test_push_on_a_type_without_a_writer_is_a_config_error(plugin, write):
    path = write("c.yaml", f"sources:\n  - {{name: s, type: sheet, demo_items: {ITEMS}, push: {{enabled: true}}}}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "push-back is not available for sheet sources" in str(caught.value)


def test_an_unknown_type_lists_builtins_and_plugins(plugin, write):
    path = write("c.yaml", "sources:\n  - {name: x, type: remedy}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "unknown source type 'remedy'" in str(caught.value) and "itsm" in str(caught.value)
