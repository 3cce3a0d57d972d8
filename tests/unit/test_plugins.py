"""Third-party connectors register through the `sdbridge.connectors` entry-point group."""

from __future__ import annotations

import importlib.metadata
from datetime import UTC, datetime

import pandas as pd
import pytest

import sdbridge.connectors.base as base
from sdbridge.config import load_config
from sdbridge.connectors.base import ROW, RawTable
from sdbridge.errors import ConfigError
from sdbridge.pipeline import check


class ServiceNowLikeConnector:
    """What a plugin provides: a class taking the source config, returning raw items."""

    type = "itsm"

    def __init__(self, source, *, resolve):
        self.source = source

    def pull(self) -> RawTable:
        items = self.source.model_extra["demo_items"]
        frame = pd.DataFrame({"_item": pd.Series(items, dtype=object), ROW: range(1, len(items) + 1)})
        return RawTable(source=self.source.name, frame=frame, columns={}, location="itsm://demo",
                        fetched_at=datetime.now(UTC), kind="json")


class EntryPoint:
    name = "itsm"

    def load(self):
        return ServiceNowLikeConnector


@pytest.fixture
def plugin(monkeypatch):
    def entry_points(group=None):
        return [EntryPoint()] if group == "sdbridge.connectors" else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    monkeypatch.setattr(base, "entry_points", entry_points)


def test_a_plugin_source_type_is_configured_and_checked(plugin, write):
    path = write("c.yaml", """
        sources:
          - name: itsm
            type: itsm
            demo_items: [{number: INC1, priority: "1"}, {number: INC2}]
            map:
              WP.18:
                fields: {id: number, priority: priority}
    """)
    result = check(load_config(path))
    findings = result.assessment.findings
    assert result.tables["WP.18"].records == 2
    assert set(findings[findings.item == "WP.18.f"].record_id) == {"INC2"}


def test_an_unknown_type_lists_builtins_and_plugins(plugin, write):
    path = write("c.yaml", "sources:\n  - {name: x, type: remedy}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "unknown source type 'remedy'" in str(caught.value) and "itsm" in str(caught.value)
