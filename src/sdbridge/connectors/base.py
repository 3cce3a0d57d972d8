"""What every connector provides, and the registry that finds one by source type.

A connector only fetches: it turns a source into raw items with provenance and never
judges them. Built-in connectors are listed explicitly; third-party ones register through
the entry-point group `sdbridge.connectors` (name = source type, value = connector class).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol

import pandas as pd

from sdbridge.errors import ConfigError

ROW = "__row__"
"""Provenance column of a raw table: the 1-based data row (or item position) it came from."""


@dataclass
class RawTable:
    """What a pull returns: one row per source item, all values as text (or lists for
    JSON sources), plus how repeated headers group into multi-valued fields.

    `columns` maps a header as the user sees it ("Labels") to the physical columns holding
    its values in order (["Labels", "Labels (2)", "Labels (3)"]).
    """

    source: str
    frame: pd.DataFrame
    columns: dict[str, list[str]]
    location: str
    """Where the items came from (a file path or a URL), for messages and provenance."""
    fetched_at: datetime
    kind: str = "table"
    notes: list[str] = field(default_factory=list)

    @property
    def items(self) -> int:
        return len(self.frame)


@dataclass
class ItemBatch:
    """What a network connector's pull returns: items (id, payload, the source's updated
    time), the cursor to store with them, and whether this was a full pull (then items
    not in it have left the source)."""

    items: list[tuple[str, dict[str, Any], str | None]]
    cursor: dict[str, Any]
    full: bool
    requests: int = 0
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Parts that could not be read (a forbidden project): the pull is partial."""


class Connector(Protocol):
    type: ClassVar[str]

    def pull(self) -> RawTable: ...


BUILTIN: dict[str, str] = {
    "csv": "sdbridge.connectors.tables:TableFileConnector",
    "xlsx": "sdbridge.connectors.tables:TableFileConnector",
    "jira": "sdbridge.connectors.jira:JiraConnector",
    "gitlab": "sdbridge.connectors.gitlab:GitLabConnector",
    "documents": "sdbridge.connectors.documents:DocumentsConnector",
}


def _load(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    module = __import__(module_name, fromlist=[attr])
    return getattr(module, attr)


def push_writer_for(source: Any) -> Any:
    """The writer that pushes gaps back to a source (Jira or GitLab)."""
    from sdbridge.connectors.push_writers import GitLabWriter, JiraWriter

    writers = {"jira": JiraWriter, "gitlab": GitLabWriter}
    if source.type not in writers:
        raise ConfigError(f"source {source.name!r}: push-back is not available for {source.type} sources")
    return writers[source.type](source)


def connector_for(source: Any, *, resolve: Any) -> Connector:
    """The connector for a configured source. `resolve` turns config-relative paths into
    absolute ones."""
    kind = source.type
    if kind in BUILTIN:
        return _load(BUILTIN[kind])(source, resolve=resolve)
    for ep in entry_points(group="sdbridge.connectors"):
        if ep.name == kind:
            return ep.load()(source, resolve=resolve)
    known = sorted({*BUILTIN, *(ep.name for ep in entry_points(group="sdbridge.connectors"))})
    raise ConfigError(f"source {source.name!r}: unknown type {kind!r}; known types: {', '.join(known)}")
