"""What every connector provides: the two kinds of connector (`FileConnector`,
`ItemConnector`) and what they return (`RawTable`, `ItemBatch`).

A connector only fetches: it turns a source into raw items with provenance and never
judges them. Which connector serves which `type:` is said in `sdbridge.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pandas as pd

ROW = "__row__"
"""Provenance column of a raw table: the 1-based data row (or item position) it came from."""
REJECTED = "_rejected"
"""Key of an item a connector could pull but not read: its value says why. The mapping
rejects such an item with that reason, so the counts still reconcile."""


def full_pull_due(last_full: str | None, every_days: int | None) -> bool:
    """Whether a network source's periodic full pull (`full_every_days`) is due: the last one
    (an ISO time) is older than that. A source never pulled in full is handled by its caller."""
    if every_days is None or last_full is None:
        return False
    return datetime.fromisoformat(last_full) < datetime.now(UTC) - timedelta(days=every_days)


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


class FileConnector(Protocol):
    """A source read whole each time it changed (a file, a folder of documents): `pull`
    returns it as one table, `content_hash` tells whether it changed since the last pull
    without reading it all (None: it cannot tell, read it). A `remote` one is read over the
    network, so only `pull` may read it, never `check`."""

    remote: bool

    def pull(self) -> RawTable: ...

    def content_hash(self) -> str | None: ...


class ItemConnector(Protocol):
    """A source of items pulled incrementally (an issue tracker): what changed since the
    cursor, or everything with `full`."""

    def pull_items(self, cursor: dict[str, Any], *, full: bool = False) -> ItemBatch: ...


def item_table(source: str, location: str, items: list[dict[str, Any]]) -> RawTable:
    """A JSON source's items as the table its mapping reads: one row per item, in order."""
    frame = pd.DataFrame({"_item": pd.Series(items, dtype=object), ROW: range(1, len(items) + 1)})
    return RawTable(
        source=source, frame=frame, columns={}, location=location, fetched_at=datetime.now(UTC), kind="json"
    )
