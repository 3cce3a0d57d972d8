"""The local store: one SQLite file (default `.sdbridge/state.db`, WAL, mode 0600).

It keeps what a nightly job needs to be unattended and replayable:
- runs, with per-source status and counts;
- per-source cursors (file hash, watermark, time of the last good pull);
- snapshots: a file source's whole table (Arrow IPC, one version per distinct content);
  a network source's items (upsert by item id, with a version history);
- each run's assessment, and the findings as spans: one row per gap from the assessed run it
  opened in to the one it closed (or changed) in, so the store grows with what changes
  and every past run's findings are read back exactly;
- push-back state (used by the push-back step).

A source's snapshot and its cursor advance are written in one transaction: a run killed at
any point leaves the store as it was before that source's pull.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sdbridge.assessment import STORED_FINDING_COLUMNS, Assessment
from sdbridge.connectors.base import RawTable
from sdbridge.errors import SdbridgeError
from sdbridge.faults import fault_point

MIGRATIONS: list[str] = [
    # 1: runs, cursors, snapshots, assessments
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY, trigger TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,
        status TEXT NOT NULL DEFAULT 'running', error TEXT
    );
    CREATE TABLE run_sources (
        run_id TEXT NOT NULL REFERENCES runs(id), source TEXT NOT NULL, status TEXT NOT NULL,
        error TEXT, items INTEGER, changed INTEGER, snapshot_id INTEGER, pulled_at TEXT,
        PRIMARY KEY (run_id, source)
    );
    CREATE TABLE cursors (
        source TEXT PRIMARY KEY, state TEXT NOT NULL, last_ok_at TEXT, updated_at TEXT NOT NULL
    );
    CREATE TABLE table_snapshots (
        id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, content_hash TEXT NOT NULL,
        location TEXT NOT NULL, fetched_at TEXT NOT NULL, pulled_at TEXT NOT NULL,
        columns TEXT NOT NULL, notes TEXT NOT NULL, kind TEXT NOT NULL, data BLOB NOT NULL
    );
    CREATE INDEX table_snapshots_source ON table_snapshots(source, id);
    CREATE TABLE items (
        source TEXT NOT NULL, item_id TEXT NOT NULL, content_hash TEXT NOT NULL, updated_at TEXT,
        first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1,
        payload TEXT NOT NULL, PRIMARY KEY (source, item_id)
    );
    CREATE TABLE item_versions (
        source TEXT NOT NULL, item_id TEXT NOT NULL, seen_at TEXT NOT NULL, run_id TEXT,
        change TEXT NOT NULL, content_hash TEXT NOT NULL, payload TEXT
    );
    CREATE INDEX item_versions_item ON item_versions(source, item_id, seen_at);
    CREATE TABLE assessments (run_id TEXT PRIMARY KEY REFERENCES runs(id), report TEXT NOT NULL);
    CREATE TABLE findings (
        run_id TEXT NOT NULL, id TEXT NOT NULL, work_product TEXT NOT NULL, item TEXT NOT NULL,
        record_id TEXT, source TEXT, status TEXT NOT NULL, severity TEXT, url TEXT, message TEXT,
        PRIMARY KEY (run_id, id)
    );
    CREATE INDEX findings_id ON findings(id);
    """,
    # 2: push-back state (ticket -> the comment sdbridge owns and what it said)
    """
    CREATE TABLE push_state (
        source TEXT NOT NULL, ticket TEXT NOT NULL, comment_id TEXT, fingerprint TEXT,
        labelled INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL, PRIMARY KEY (source, ticket)
    );
    """,
    # 3: findings kept as spans (opened in one assessed run, closed in the first run where the
    # finding is gone or changed) instead of a copy per run. `seq` numbers the assessed runs
    # in order; existing per-run copies become spans (consecutive runs with the same finding,
    # word for word, are one span) and the copy table goes.
    """
    ALTER TABLE assessments ADD COLUMN seq INTEGER;
    UPDATE assessments SET seq = (
        SELECT COUNT(*) FROM assessments a2 JOIN runs r2 ON r2.id = a2.run_id JOIN runs r1 ON r1.id = assessments.run_id
        WHERE r2.started_at < r1.started_at OR (r2.started_at = r1.started_at AND r2.id <= r1.id)
    );
    CREATE UNIQUE INDEX assessments_seq ON assessments(seq);
    CREATE TABLE finding_spans (
        id TEXT NOT NULL, work_product TEXT NOT NULL, item TEXT NOT NULL, record_id TEXT, source TEXT,
        status TEXT NOT NULL, severity TEXT, url TEXT, message TEXT,
        opened INTEGER NOT NULL, closed INTEGER
    );
    INSERT INTO finding_spans (id, work_product, item, record_id, source, status, severity, url, message, opened, closed)
    SELECT id, work_product, item, record_id, source, status, severity, url, message, MIN(seq),
        CASE WHEN MAX(seq) = (SELECT MAX(seq) FROM assessments) THEN NULL ELSE MAX(seq) + 1 END
    FROM (
        SELECT f.*, a.seq, a.seq - ROW_NUMBER() OVER (
            PARTITION BY f.id, f.work_product, f.item, f.record_id, f.source, f.status, f.severity, f.url, f.message
            ORDER BY a.seq
        ) AS island
        FROM findings f JOIN assessments a ON a.run_id = f.run_id
    )
    GROUP BY id, work_product, item, record_id, source, status, severity, url, message, island
    ORDER BY MIN(seq), MIN(rowid);
    DROP TABLE findings;
    CREATE INDEX finding_spans_open ON finding_spans(closed);
    CREATE INDEX finding_spans_opened ON finding_spans(opened);
    CREATE INDEX finding_spans_id ON finding_spans(id);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


log = logging.getLogger("sdbridge.store")


class StoreError(SdbridgeError):
    """The store cannot be opened or is held by another run."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _frame_to_ipc(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _ipc_to_frame(data: bytes) -> pd.DataFrame:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all().to_pandas()


@dataclass(frozen=True)
class RunRecord:
    """One row of the run history."""

    id: str
    trigger: str
    started_at: str
    ended_at: str | None
    status: str
    error: str | None = None


@dataclass(frozen=True)
class RunSource:
    """What one source did in one run."""

    status: str
    snapshot_id: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class RunDetail(RunRecord):
    sources: dict[str, RunSource] = field(default_factory=dict)

    @property
    def as_of(self) -> str:
        """The moment its data is as of: its end, or its start while it runs."""
        return self.ended_at or self.started_at


@dataclass(frozen=True)
class PushState:
    """What push-back last did on one ticket: the comment it owns and what it said."""

    comment_id: str | None
    fingerprint: str | None
    labelled: bool


@dataclass
class Snapshot:
    id: int
    source: str
    content_hash: str
    pulled_at: datetime
    raw: RawTable


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            created = not path.exists()
            if created:
                self._create(path)
            if not path.is_file():
                raise StoreError(f"the store {path} is not a file", hint="point `store.path` at a file")
            elif path.stat().st_size == 0:
                raise StoreError(
                    f"{path} is not an sdbridge store (0 bytes): a store is never empty",
                    hint="move it away (a new store then starts) or restore it from a backup",
                )
            elif path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
                log.warning("the store %s was readable by others; it is private (0600) now", path)
        except OSError as exc:
            raise StoreError(
                f"cannot use the store {path}: {exc.strerror or exc}",
                hint="check that its folder exists and is writable",
            ) from None
        try:
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            if not created and self.schema_version == 0 and self._tables():
                self.db.close()
                raise StoreError(
                    f"{path} is not an sdbridge store (a database of something else)",
                    hint="point `store.path` at another file",
                )
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the store {path}: {exc}", hint="is it an sdbridge state.db?") from None

    @staticmethod
    def _create(path: Path) -> None:
        """A new store appears whole: built in a private temporary file, then linked into
        place, so no other process ever sees it empty (an empty store is a damaged one). When
        runs start together, one link wins and the others open that store."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
        os.close(os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
        try:
            db = sqlite3.connect(tmp, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                for number, migration in enumerate(MIGRATIONS):
                    db.executescript(migration)
                    db.execute(f"PRAGMA user_version = {number + 1}")
            finally:
                db.close()
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another run created it first: use that one
        finally:
            tmp.unlink(missing_ok=True)

    def _tables(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except sqlite3.OperationalError as exc:  # disk full, read-only file: said in one line
            self.db.execute("ROLLBACK")
            raise StoreError(
                f"the store {self.path} could not be written: {exc}",
                hint="free disk space, or check that the store is writable; nothing was half-written",
            ) from None
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        """Bring the schema up to date. Each step reads the version inside its own write
        transaction, so runs that start together on a new store migrate it once."""
        while True:
            with self.transaction() as db:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"the store {self.path} was written by a newer sdbridge (schema {version} > {SCHEMA_VERSION})"
                    )
                if version == SCHEMA_VERSION:
                    return
                for statement in filter(str.strip, MIGRATIONS[version].split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {version + 1}")

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    # --- runs ------------------------------------------------------------------------------

    def start_run(self, run_id: str, trigger: str) -> None:
        """Record a run. The caller holds the run lock, so a run still marked `running` was
        killed: it is closed as `interrupted` first."""
        with self.transaction() as db:
            interrupted = db.execute(
                "UPDATE runs SET status = 'interrupted', ended_at = ?, error = 'the process ended before the run did' "
                "WHERE status = 'running'",
                (_now(),),
            ).rowcount
            db.execute("INSERT INTO runs (id, trigger, started_at) VALUES (?, ?, ?)", (run_id, trigger, _now()))
        if interrupted:
            # The last run did not end cleanly: make sure the file it left is sound.
            verdict = self.db.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise StoreError(
                    f"the store {self.path} is damaged ({verdict})",
                    hint="restore it from a backup, or move it away to start a new history",
                )

    def end_run(self, run_id: str, status: str, error: str | None = None) -> None:
        self.db.execute(
            "UPDATE runs SET ended_at = ?, status = ?, error = ? WHERE id = ?", (_now(), status, error, run_id)
        )

    def record_source(
        self,
        run_id: str,
        source: str,
        status: str,
        *,
        error: str | None = None,
        items: int | None = None,
        changed: int | None = None,
        snapshot_id: int | None = None,
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO run_sources (run_id, source, status, error, items, changed, snapshot_id, "
            "pulled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, source, status, error, items, changed, snapshot_id, _now()),
        )

    def runs(self, limit: int = 30) -> list[RunRecord]:
        """The latest runs, newest first."""
        rows = self.db.execute(
            "SELECT id, trigger, started_at, ended_at, status, error FROM runs ORDER BY started_at DESC, id DESC "
            "LIMIT ?",
            (limit,),
        ).fetchall()
        return [RunRecord(*row) for row in rows]

    def run(self, run_id: str) -> RunDetail:
        row = self.db.execute(
            "SELECT id, trigger, started_at, ended_at, status, error FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id!r} in {self.path}", hint="`sdbridge history` lists the runs")
        sources = self.db.execute(
            "SELECT source, status, snapshot_id, error FROM run_sources WHERE run_id = ?", (run_id,)
        ).fetchall()
        run, trigger, started, ended, status, error = row
        return RunDetail(
            run, trigger, started, ended, status, error, sources={s: RunSource(st, i, e) for s, st, i, e in sources}
        )

    def snapshot_as_of(self, source: str, moment: str) -> int | None:
        """The snapshot of a file source that a run starting at `moment` checked: the latest
        one recorded by a run that started no later."""
        row = self.db.execute(
            "SELECT snapshot_id FROM run_sources rs JOIN runs r ON r.id = rs.run_id WHERE rs.source = ? "
            "AND rs.snapshot_id IS NOT NULL AND r.started_at <= ? ORDER BY r.started_at DESC LIMIT 1",
            (source, moment),
        ).fetchone()
        return row[0] if row else None

    def last_pulls(self) -> dict[str, RunSource]:
        """Per source, its latest pull (pulled, unchanged, partial, failed), so an offline
        `check` can say that the data it checks is from before a failed pull."""
        rows = self.db.execute(
            "SELECT source, status, snapshot_id, error FROM run_sources rs WHERE pulled_at = "
            "(SELECT MAX(pulled_at) FROM run_sources WHERE source = rs.source)"
        ).fetchall()
        return {source: RunSource(status, snapshot, error) for source, status, snapshot, error in rows}

    # --- cursors ---------------------------------------------------------------------------

    def cursor(self, source: str) -> dict[str, Any]:
        row = self.db.execute("SELECT state, last_ok_at FROM cursors WHERE source = ?", (source,)).fetchone()
        if row is None:
            return {}
        return {**json.loads(row[0]), "last_ok_at": row[1]}

    def _advance(self, db: sqlite3.Connection, source: str, state: dict[str, Any]) -> None:
        now = _now()
        db.execute(
            "INSERT INTO cursors (source, state, last_ok_at, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(source) DO UPDATE SET state = excluded.state, last_ok_at = excluded.last_ok_at, "
            "updated_at = excluded.updated_at",
            (source, json.dumps(state), now, now),
        )

    def touch(self, source: str) -> None:
        """A pull found nothing new: the data is still good as of now."""
        self.db.execute("UPDATE cursors SET last_ok_at = ?, updated_at = ? WHERE source = ?", (_now(), _now(), source))

    # --- table snapshots (file sources) ----------------------------------------------------

    def save_table(self, raw: RawTable, content_hash: str, cursor: dict[str, Any]) -> int:
        """Store a new table version and advance the cursor, atomically."""
        frame = raw.frame
        if raw.kind == "json":  # items of any shape: stored as JSON text
            frame = frame.assign(_item=frame["_item"].map(lambda item: json.dumps(item, default=str)))
        data = _frame_to_ipc(frame)
        with self.transaction() as db:
            snapshot_id = db.execute(
                "INSERT INTO table_snapshots (source, content_hash, location, fetched_at, pulled_at, columns, notes, "
                "kind, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    raw.source,
                    content_hash,
                    raw.location,
                    raw.fetched_at.isoformat(),
                    _now(),
                    json.dumps(raw.columns),
                    json.dumps(raw.notes),
                    raw.kind,
                    data,
                ),
            ).lastrowid
            if snapshot_id is None:
                raise StoreError(f"the store {self.path} did not keep the snapshot of {raw.source}")
            fault_point("after-snapshot-write")
            self._advance(db, raw.source, {**cursor, "snapshot_id": snapshot_id, "content_hash": content_hash})
        return int(snapshot_id)

    def table(self, source: str, snapshot_id: int | None = None) -> Snapshot | None:
        """The latest (or a given) table version of a source."""
        if snapshot_id is None:
            row = self.db.execute(
                "SELECT id, source, content_hash, location, fetched_at, pulled_at, columns, notes, kind, data "
                "FROM table_snapshots WHERE source = ? ORDER BY id DESC LIMIT 1",
                (source,),
            ).fetchone()
        else:
            row = self.db.execute(
                "SELECT id, source, content_hash, location, fetched_at, pulled_at, columns, notes, kind, data "
                "FROM table_snapshots WHERE id = ?",
                (snapshot_id,),
            ).fetchone()
        if row is None:
            return None
        sid, name, digest, location, fetched, pulled, columns, notes, kind, data = row
        frame = _ipc_to_frame(data)
        if kind == "json":
            frame["_item"] = frame["_item"].map(json.loads).astype(object)
        raw = RawTable(
            source=name,
            frame=frame,
            columns=json.loads(columns),
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
        items: Iterable[tuple[str, dict[str, Any], str | None]],
        cursor: dict[str, Any],
        *,
        run_id: str | None = None,
        full: bool = False,
    ) -> dict[str, int]:
        """Upsert items (id, payload, source's updated timestamp) and advance the cursor in
        one transaction. With `full`, active items not in this pull left the source: they are
        marked inactive (kept, with a 'deleted' version), never silently kept as live."""
        now = _now()
        counts = {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0}
        with self.transaction() as db:
            seen: set[str] = set()
            for item_id, payload, updated in items:
                seen.add(item_id)
                text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
                digest = hashlib.sha256(text.encode()).hexdigest()
                row = db.execute(
                    "SELECT content_hash, active FROM items WHERE source = ? AND item_id = ?", (source, item_id)
                ).fetchone()
                if row is not None and row[0] == digest and row[1]:
                    db.execute(
                        "UPDATE items SET last_seen = ? WHERE source = ? AND item_id = ?", (now, source, item_id)
                    )
                    counts["unchanged"] += 1
                    continue
                change = "created" if row is None else "updated"
                counts[change] += 1
                db.execute(
                    "INSERT INTO items (source, item_id, content_hash, updated_at, first_seen, last_seen, active, payload)"
                    " VALUES (?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT(source, item_id) DO UPDATE SET "
                    "content_hash = excluded.content_hash, updated_at = excluded.updated_at, "
                    "last_seen = excluded.last_seen, active = 1, payload = excluded.payload",
                    (source, item_id, digest, updated, now, now, text),
                )
                db.execute(
                    "INSERT INTO item_versions (source, item_id, seen_at, run_id, change, content_hash, payload) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (source, item_id, now, run_id, change, digest, text),
                )
            if full:
                gone = [
                    r[0]
                    for r in db.execute("SELECT item_id FROM items WHERE source = ? AND active = 1", (source,))
                    if r[0] not in seen
                ]
                for item_id in gone:
                    db.execute("UPDATE items SET active = 0 WHERE source = ? AND item_id = ?", (source, item_id))
                    db.execute(
                        "INSERT INTO item_versions (source, item_id, seen_at, run_id, change, content_hash) "
                        "VALUES (?, ?, ?, ?, 'deleted', '')",
                        (source, item_id, now, run_id),
                    )
                counts["deleted"] = len(gone)
            fault_point("after-snapshot-write")
            self._advance(db, source, cursor)
        return counts

    def items(self, source: str, as_of: str | None = None) -> list[dict[str, Any]]:
        """Active items of a source now, or as they were at `as_of` (an ISO time)."""
        if as_of is None:
            rows = self.db.execute(
                "SELECT payload FROM items WHERE source = ? AND active = 1 ORDER BY item_id", (source,)
            ).fetchall()
            return [json.loads(r[0]) for r in rows]
        rows = self.db.execute(
            "SELECT v.change, v.payload FROM item_versions v JOIN (SELECT item_id, MAX(rowid) AS last FROM item_versions"
            " WHERE source = ? AND seen_at <= ? GROUP BY item_id) m ON v.rowid = m.last ORDER BY v.item_id",
            (source, as_of),
        ).fetchall()
        return [json.loads(payload) for change, payload in rows if change != "deleted"]

    # --- assessments -----------------------------------------------------------------------

    def save_assessment(self, run_id: str, report: dict[str, Any], findings: pd.DataFrame) -> None:
        """Keep a run's assessment and its findings as spans: a finding that is in this run
        word for word as in the last one stays open; one that is gone or changed is closed
        here; a new or changed one opens here. Only what changed is written. Saving the latest
        run again replaces it."""
        columns = STORED_FINDING_COLUMNS
        new = findings[columns].astype(object).where(findings[columns].notna(), None)
        with self.transaction() as db:
            existing, latest = db.execute(
                "SELECT (SELECT seq FROM assessments WHERE run_id = ?), (SELECT MAX(seq) FROM assessments)", (run_id,)
            ).fetchone()
            if existing is not None:
                if existing != latest:
                    raise StoreError(f"run {run_id} is not the latest assessed run: its findings cannot be replaced")
                seq = existing
                db.execute("DELETE FROM finding_spans WHERE opened = ?", (seq,))
                db.execute("UPDATE finding_spans SET closed = NULL WHERE closed = ?", (seq,))
            else:
                seq = (latest or 0) + 1
            db.execute(
                "INSERT OR REPLACE INTO assessments (run_id, report, seq) VALUES (?, ?, ?)",
                (run_id, json.dumps(report), seq),
            )
            open_rows = db.execute(
                f"SELECT rowid, {', '.join(columns)} FROM finding_spans WHERE closed IS NULL"
            ).fetchall()
            current = pd.DataFrame(open_rows, columns=["rowid", *columns])
            gone, opened = _span_changes(current, new)
            db.executemany("UPDATE finding_spans SET closed = ? WHERE rowid = ?", ((seq, r) for r in gone))
            db.executemany(
                f"INSERT INTO finding_spans ({', '.join(columns)}, opened) VALUES ({', '.join('?' * len(columns))}, ?)",
                ((*row, seq) for row in opened.itertuples(index=False)),
            )

    def push_state(self, source: str) -> dict[str, PushState]:
        rows = self.db.execute(
            "SELECT ticket, comment_id, fingerprint, labelled FROM push_state WHERE source = ?", (source,)
        ).fetchall()
        return {t: PushState(c, f, bool(lab)) for t, c, f, lab in rows}

    def save_push_state(
        self, source: str, ticket: str, comment_id: str | None, fingerprint: str, labelled: bool
    ) -> None:
        self.db.execute(
            "INSERT INTO push_state (source, ticket, comment_id, fingerprint, labelled, updated_at) VALUES "
            "(?, ?, ?, ?, ?, ?) ON CONFLICT(source, ticket) DO UPDATE SET comment_id = excluded.comment_id, "
            "fingerprint = excluded.fingerprint, labelled = excluded.labelled, updated_at = excluded.updated_at",
            (source, ticket, comment_id, fingerprint, int(labelled), _now()),
        )

    def latest_assessed_run(self) -> str | None:
        row = self.db.execute(
            "SELECT r.id FROM runs r JOIN assessments a ON a.run_id = r.id ORDER BY r.started_at DESC LIMIT 1"
        ).fetchone()
        return row[0] if row else None

    def assessment(self, run_id: str) -> Assessment | None:
        """A stored run's assessment (without its findings: see `findings`)."""
        row = self.db.execute("SELECT report FROM assessments WHERE run_id = ?", (run_id,)).fetchone()
        return Assessment.model_validate_json(row[0]) if row else None

    def previous_assessed_run(self, run_id: str) -> str | None:
        """The assessed run before this one."""
        row = self.db.execute(
            "SELECT a.run_id FROM assessments a JOIN runs r ON r.id = a.run_id WHERE r.started_at < "
            "(SELECT started_at FROM runs WHERE id = ?) ORDER BY r.started_at DESC LIMIT 1",
            (run_id,),
        ).fetchone()
        return row[0] if row else None

    _IN_RUN = "s.opened <= a.seq AND (s.closed IS NULL OR s.closed > a.seq)"
    """A span covers an assessed run `a` (with the span as `s`)."""

    def findings(self, run_id: str, source: str | None = None) -> pd.DataFrame:
        """A stored run's findings (of one source), with the columns the store keeps."""
        query = (
            f"SELECT {', '.join('s.' + c for c in STORED_FINDING_COLUMNS)} FROM finding_spans s "
            f"JOIN assessments a ON a.run_id = ? WHERE {self._IN_RUN}"
        )
        params: tuple[str, ...] = (run_id,)
        if source is not None:
            query += " AND s.source = ?"
            params += (source,)
        rows = self.db.execute(query + " ORDER BY s.rowid", params).fetchall()
        return pd.DataFrame(rows, columns=STORED_FINDING_COLUMNS)

    def trend(self, limit: int = 30) -> list[dict[str, Any]]:
        """Gaps per WP over the last assessed runs, oldest first."""
        rows = self.db.execute(
            "SELECT r.id, r.started_at, a.report FROM runs r JOIN assessments a ON a.run_id = r.id "
            "ORDER BY r.started_at DESC LIMIT ?",
            (limit,),
        ).fetchall()
        trend = []
        for run_id, started, report in reversed(rows):
            by_wp = json.loads(report)["summary"]["by_work_product"]
            trend.append(
                {
                    "run_id": run_id,
                    "started_at": started,
                    "by_work_product": {wp: counts["gaps"] for wp, counts in by_wp.items()},
                }
            )
        return trend

    def finding_ids(self, run_id: str) -> set[str]:
        query = f"SELECT s.id FROM finding_spans s JOIN assessments a ON a.run_id = ? WHERE {self._IN_RUN}"
        return {r[0] for r in self.db.execute(query, (run_id,))}

    def finding_history(self, finding_id: str) -> list[tuple[str, str, bool]]:
        """Per assessed run (oldest first): run id, start time, and whether the gap was open."""
        spans = self.db.execute("SELECT opened, closed FROM finding_spans WHERE id = ?", (finding_id,)).fetchall()
        return [
            (run_id, started, any(o <= seq and (c is None or c > seq) for o, c in spans))
            for run_id, started, seq in self.db.execute(
                "SELECT r.id, r.started_at, a.seq FROM runs r JOIN assessments a ON a.run_id = r.id ORDER BY a.seq"
            )
        ]

    def open_since(self) -> pd.DataFrame:
        """Each finding open in the latest assessed run, with the run its gap has been open
        since without a break (`first_seen`) and that run's start (`first_seen_at`): spans of
        one finding chain when one closes in the run the next opens (its wording changed),
        and a night without it breaks the chain (closed, then reopened, counts anew)."""
        spans = pd.DataFrame(
            self.db.execute(
                "SELECT id, opened, closed FROM finding_spans WHERE id IN "
                "(SELECT id FROM finding_spans WHERE closed IS NULL)"
            ).fetchall(),
            columns=["id", "opened", "closed"],
        )
        start = spans[spans["closed"].isna()].set_index("id")["opened"].astype("int64")
        earlier = spans.dropna(subset=["closed"]).astype({"closed": "int64"})
        while len(earlier):
            joined = earlier.merge(start.rename("start"), left_on="id", right_index=True)
            linked = joined[joined["closed"] == joined["start"]]
            if linked.empty:
                break
            start.loc[linked["id"].to_numpy()] = linked["opened"].to_numpy()
        runs = pd.DataFrame(
            self.db.execute(
                "SELECT a.seq, r.id, r.started_at FROM assessments a JOIN runs r ON r.id = a.run_id"
            ).fetchall(),
            columns=["seq", "first_seen", "first_seen_at"],
        ).set_index("seq")
        found = runs.reindex(start.to_numpy())
        found.index = start.index
        return found

    def size_of_findings(self) -> int:
        """Rows the findings take (spans), for the store-growth benchmark."""
        return int(self.db.execute("SELECT COUNT(*) FROM finding_spans").fetchone()[0])


def _span_changes(current: pd.DataFrame, new: pd.DataFrame) -> tuple[list[int], pd.DataFrame]:
    """(rowids of open spans to close, findings to open): compared word for word on every
    kept column (a finding whose message or severity changed is a new span), by a 64-bit
    hash of each row computed column-wise."""
    columns = list(new.columns)
    if current.empty:
        return [], new
    if new.empty:
        return [int(r) for r in current["rowid"]], new

    def digest(frame: pd.DataFrame) -> np.ndarray:
        plain = frame[columns].astype(object).where(frame[columns].notna(), None)
        return pd.util.hash_pandas_object(plain, index=False).to_numpy()

    old_digest, new_digest = digest(current), digest(new)
    kept = np.isin(old_digest, new_digest)
    gone = [int(r) for r in current["rowid"].to_numpy()[~kept]]
    return gone, new[~np.isin(new_digest, old_digest[kept])]


__all__ = ["PushState", "RunDetail", "RunRecord", "RunSource", "SCHEMA_VERSION", "Snapshot", "Store", "StoreError"]
