"""What sources gave: a file source's whole table per distinct content (Arrow IPC), a network
source's items (upserted by item id, with a version history). Each is saved with the
source's cursor advance in one transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from sdbridge.connectors.base import RawTable
from sdbridge.faults import fault_point
from sdbridge.store.database import now
from sdbridge.store.runs import Runs
from sdbridge.store.schema import item_versions, items, table_snapshots


@dataclass
class Snapshot:
    id: int
    source: str
    content_hash: str
    pulled_at: datetime
    raw: RawTable


def _frame_to_ipc(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _ipc_to_frame(data: bytes) -> pd.DataFrame:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all().to_pandas()


_B = sa.bindparam
"""Parameters of statements run for many rows (named apart from the columns they set)."""


class Snapshots(Runs):
    """Table snapshots (file sources) and items (network sources)."""

    def save_table(self, raw: RawTable, content_hash: str, cursor: dict[str, Any]) -> int:
        """Store a new table version and advance the cursor, atomically. Snapshot numbers
        count per tenant (the run lock makes this tenant's writer the only one)."""
        frame = raw.frame
        if raw.kind == "json":  # items of any shape: stored as JSON text
            frame = frame.assign(_item=frame["_item"].map(lambda item: json.dumps(item, default=str)))
        data = _frame_to_ipc(frame)
        with self.transaction() as conn:
            highest = sa.select(sa.func.coalesce(sa.func.max(table_snapshots.c.id), 0) + 1)
            snapshot_id = int(conn.execute(highest.where(self.mine(table_snapshots))).scalar_one())
            row = {
                "id": snapshot_id,
                "source": raw.source,
                "content_hash": content_hash,
                "location": raw.location,
                "fetched_at": raw.fetched_at.isoformat(),
                "pulled_at": now(),
                "columns": json.dumps(raw.columns),
                "notes": json.dumps(raw.notes),
                "kind": raw.kind,
                "data": data,
            }
            conn.execute(sa.insert(table_snapshots).values(self._stamp(row)))
            fault_point("after-snapshot-write")
            self._advance(conn, raw.source, {**cursor, "snapshot_id": snapshot_id, "content_hash": content_hash})
        return snapshot_id

    def table(self, source: str, snapshot_id: int | None = None) -> Snapshot | None:
        """The latest (or a given) table version of a source."""
        t = table_snapshots.c
        query = sa.select(t.id, t.source, t.content_hash, t.location, t.fetched_at, t.pulled_at)
        query = query.add_columns(t.columns, t.notes, t.kind, t.data).where(self.mine(table_snapshots))
        if snapshot_id is None:
            row = self._one(query.where(t.source == source).order_by(t.id.desc()).limit(1))
        else:
            row = self._one(query.where(t.id == snapshot_id))
        if row is None:
            return None
        sid, name, digest, location, fetched, pulled, kept_columns, notes, kind, data = row
        frame = _ipc_to_frame(bytes(data))
        if kind == "json":
            frame["_item"] = frame["_item"].map(json.loads).astype(object)
        raw = RawTable(
            source=name,
            frame=frame,
            columns=json.loads(kept_columns),
            location=location,
            fetched_at=datetime.fromisoformat(fetched),
            kind=kind,
            notes=json.loads(notes),
        )
        return Snapshot(id=sid, source=name, content_hash=digest, pulled_at=datetime.fromisoformat(pulled), raw=raw)

    # --- item snapshots (network sources) --------------------------------------------------

    def save_items(
        self,
        source: str,
        found: Iterable[tuple[str, dict[str, Any], str | None]],
        cursor: dict[str, Any] | None,
        *,
        run_id: str | None = None,
        full: bool = False,
    ) -> dict[str, int]:
        """Upsert items (id, payload, source's updated timestamp) and advance the cursor in
        one transaction. With `full`, active items not in this pull left the source: they are
        marked inactive (kept, with a 'deleted' version), never silently kept as live. Without
        a cursor (live mode saving the one ticket it read) the pull's cursor and its time stay
        as they were."""
        moment = now()
        counts = {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0}
        i = items.c
        one_item = sa.and_(self.mine(items), i.source == _B("b_source"), i.item_id == _B("b_item"))
        with self.transaction() as conn:
            known = {
                item_id: (digest, bool(active))
                for item_id, digest, active in conn.execute(
                    sa.select(i.item_id, i.content_hash, i.active).where(self.mine(items), i.source == source)
                )
            }
            seen: set[str] = set()
            unchanged: list[dict[str, Any]] = []
            latest: list[dict[str, Any]] = []
            versions: list[dict[str, Any]] = []
            for item_id, payload, updated in found:
                seen.add(item_id)
                text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)  # NUL escaped
                digest = hashlib.sha256(text.encode()).hexdigest()
                before = known.get(item_id)
                if before == (digest, True):
                    unchanged.append({"b_source": source, "b_item": item_id, "b_now": moment})
                    continue
                change = "created" if before is None else "updated"
                counts[change] += 1
                row = {"tenant": self.tenant, "source": source, "item_id": item_id, "content_hash": digest}
                latest.append(
                    {**row, "updated_at": updated, "first_seen": moment, "last_seen": moment, "active": 1}
                    | {"payload": text}
                )
                versions.append({**row, "seen_at": moment, "run_id": run_id, "change": change, "payload": text})
            counts["unchanged"] = len(unchanged)
            self._many(conn, sa.update(items).where(one_item).values(last_seen=_B("b_now")), unchanged)
            update = ("content_hash", "updated_at", "last_seen", "payload")
            self._many(conn, self._upsert(items, ("source", "item_id"), update, active=1), latest)
            self._many(conn, sa.insert(item_versions), versions)
            if full:
                gone = [item_id for item_id, (_, active) in sorted(known.items()) if active and item_id not in seen]
                self._many(
                    conn,
                    sa.update(items).where(one_item).values(active=0),
                    ({"b_source": source, "b_item": item_id} for item_id in gone),
                )
                self._many(
                    conn,
                    sa.insert(item_versions),
                    (
                        {"tenant": self.tenant, "source": source, "item_id": item_id, "seen_at": moment}
                        | {"run_id": run_id, "change": "deleted", "content_hash": "", "payload": None}
                        for item_id in gone
                    ),
                )
                counts["deleted"] = len(gone)
            fault_point("after-snapshot-write")
            if cursor is not None:
                self._advance(conn, source, cursor)
        return counts

    def saved_since(self, source: str, since: str) -> list[dict[str, Any]]:
        """The items of a source saved after `since` (an ISO time) by something other than a
        pull of a run: live mode's re-reads of single tickets."""
        v = item_versions.c
        read_alone = (
            sa.select(1)
            .where(v.tenant == items.c.tenant, v.source == items.c.source, v.item_id == items.c.item_id)
            .where(v.seen_at > since, v.run_id.is_(None))
        )
        rows = self._rows(
            sa.select(items.c.payload).where(
                self.mine(items), items.c.source == source, items.c.active == 1, read_alone.exists()
            )
        )
        return [json.loads(r[0]) for r in rows]

    def items(self, source: str, as_of: str | None = None) -> list[dict[str, Any]]:
        """Active items of a source now, or as they were at `as_of` (an ISO time)."""
        i, v = items.c, item_versions.c
        if as_of is None:
            rows = self._rows(
                sa.select(i.payload).where(self.mine(items), i.source == source, i.active == 1).order_by(i.item_id)
            )
            return [json.loads(r[0]) for r in rows]
        last = (
            sa.select(v.item_id, sa.func.max(v.row_no).label("last"))
            .where(self.mine(item_versions), v.source == source, v.seen_at <= as_of)
            .group_by(v.item_id)
            .subquery("m")
        )
        rows = self._rows(sa.select(v.change, v.payload).join(last, v.row_no == last.c.last).order_by(v.item_id))
        return [json.loads(payload) for change, payload in rows if change != "deleted"]
