"""The store: what a nightly job needs to be unattended and replayable, for one tenant.

Two backends behind one API, both through SQLAlchemy Core:
- SQLite (the default): one file, `.sdbridge/state.db`, WAL, mode 0600, for a single team;
- PostgreSQL (`store: {url: postgresql://…}` or `SDBRIDGE_STORE_URL`), shared by the runs of
  many tenants (client teams), each run locked per tenant with an advisory lock.

Every row is keyed by its tenant (`tenant:` in the config, default `default`), and every
query asks for the store's own tenant only, so tenants sharing a database never see each
other. It keeps:
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

The schema is a list of migrations per backend (SQL text, applied in order, the version kept
in the database). SQLite keeps its history of four steps so that stores written by earlier
versions upgrade in place; PostgreSQL starts at the current schema. Alembic was not used: the
schema is nine tables, its steps are data conversions written in SQL, and a list applied
inside one locked transaction per step is all a store that is never edited by hand needs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from sdbridge.assessment import STORED_FINDING_COLUMNS, Assessment
from sdbridge.connectors.base import RawTable
from sdbridge.errors import SdbridgeError
from sdbridge.faults import fault_point
from sdbridge.tenants import DEFAULT_TENANT, TENANT_PATTERN, valid_tenant
from sdbridge.urls import database_url_problem, is_url, masked_url

SQLITE_MIGRATIONS: list[str] = [
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


def schema(dialect: str) -> str:
    """The current schema, keyed by tenant, in the dialect's words for an auto-numbered key
    and a byte string."""
    row_no = "INTEGER PRIMARY KEY" if dialect == "sqlite" else "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    blob = "BLOB" if dialect == "sqlite" else "BYTEA"
    return f"""
    CREATE TABLE runs (
        tenant TEXT NOT NULL, id TEXT NOT NULL, trigger TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,
        status TEXT NOT NULL DEFAULT 'running', error TEXT, PRIMARY KEY (tenant, id)
    );
    CREATE INDEX runs_started ON runs(tenant, started_at);
    CREATE TABLE run_sources (
        tenant TEXT NOT NULL, run_id TEXT NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL,
        error TEXT, items INTEGER, changed INTEGER, snapshot_id INTEGER, pulled_at TEXT,
        PRIMARY KEY (tenant, run_id, source), FOREIGN KEY (tenant, run_id) REFERENCES runs(tenant, id)
    );
    CREATE TABLE cursors (
        tenant TEXT NOT NULL, source TEXT NOT NULL, state TEXT NOT NULL, last_ok_at TEXT, updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant, source)
    );
    CREATE TABLE table_snapshots (
        tenant TEXT NOT NULL, id INTEGER NOT NULL, source TEXT NOT NULL, content_hash TEXT NOT NULL,
        location TEXT NOT NULL, fetched_at TEXT NOT NULL, pulled_at TEXT NOT NULL,
        columns TEXT NOT NULL, notes TEXT NOT NULL, kind TEXT NOT NULL, data {blob} NOT NULL,
        PRIMARY KEY (tenant, id)
    );
    CREATE INDEX table_snapshots_source ON table_snapshots(tenant, source, id);
    CREATE TABLE items (
        tenant TEXT NOT NULL, source TEXT NOT NULL, item_id TEXT NOT NULL, content_hash TEXT NOT NULL,
        updated_at TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1,
        payload TEXT NOT NULL, PRIMARY KEY (tenant, source, item_id)
    );
    CREATE TABLE item_versions (
        row_no {row_no}, tenant TEXT NOT NULL, source TEXT NOT NULL, item_id TEXT NOT NULL, seen_at TEXT NOT NULL,
        run_id TEXT, change TEXT NOT NULL, content_hash TEXT NOT NULL, payload TEXT
    );
    CREATE INDEX item_versions_item ON item_versions(tenant, source, item_id, seen_at);
    CREATE TABLE assessments (
        tenant TEXT NOT NULL, run_id TEXT NOT NULL, report TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (tenant, run_id), UNIQUE (tenant, seq), FOREIGN KEY (tenant, run_id) REFERENCES runs(tenant, id)
    );
    CREATE TABLE finding_spans (
        row_no {row_no}, tenant TEXT NOT NULL, id TEXT NOT NULL, work_product TEXT NOT NULL, item TEXT NOT NULL,
        record_id TEXT, source TEXT, status TEXT NOT NULL, severity TEXT, url TEXT, message TEXT,
        opened INTEGER NOT NULL, closed INTEGER
    );
    CREATE INDEX finding_spans_open ON finding_spans(tenant, closed);
    CREATE INDEX finding_spans_opened ON finding_spans(tenant, opened);
    CREATE INDEX finding_spans_id ON finding_spans(tenant, id);
    CREATE TABLE push_state (
        tenant TEXT NOT NULL, source TEXT NOT NULL, ticket TEXT NOT NULL, comment_id TEXT, fingerprint TEXT,
        labelled INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL, PRIMARY KEY (tenant, source, ticket)
    )
    """


TABLES = (
    "runs",
    "run_sources",
    "cursors",
    "table_snapshots",
    "items",
    "item_versions",
    "assessments",
    "finding_spans",
    "push_state",
)
"""Every table, parents before children."""

_V3_COLUMNS = {
    "runs": "id, trigger, started_at, ended_at, status, error",
    "run_sources": "run_id, source, status, error, items, changed, snapshot_id, pulled_at",
    "cursors": "source, state, last_ok_at, updated_at",
    "table_snapshots": "id, source, content_hash, location, fetched_at, pulled_at, columns, notes, kind, data",
    "items": "source, item_id, content_hash, updated_at, first_seen, last_seen, active, payload",
    "item_versions": "rowid AS row_no, source, item_id, seen_at, run_id, change, content_hash, payload",
    "assessments": "run_id, report, seq",
    "finding_spans": "rowid AS row_no, id, work_product, item, record_id, source, status, severity, url, message, "
    "opened, closed",
    "push_state": "source, ticket, comment_id, fingerprint, labelled, updated_at",
}

SQLITE_MIGRATIONS.append(
    # 4: every row keyed by tenant; the rows a store already holds are the default tenant's
    # (a SQLite store is one team's). Tables are rebuilt, as SQLite cannot change a key.
    "\n".join(
        [
            "DROP INDEX table_snapshots_source; DROP INDEX item_versions_item; DROP INDEX assessments_seq;",
            "DROP INDEX finding_spans_open; DROP INDEX finding_spans_opened; DROP INDEX finding_spans_id;",
            *(f"ALTER TABLE {t} RENAME TO v3_{t};" for t in TABLES),
            schema("sqlite") + ";",
            *(
                f"INSERT INTO {t} (tenant, {', '.join(c.split(' AS ')[-1] for c in cols.split(', '))}) "
                f"SELECT '{DEFAULT_TENANT}', {cols} FROM v3_{t};"
                for t, cols in _V3_COLUMNS.items()
            ),
            *(f"DROP TABLE v3_{t};" for t in reversed(TABLES)),
        ]
    )
)
POSTGRES_MIGRATIONS: list[str] = [schema("postgresql")]
SCHEMA_VERSION = len(SQLITE_MIGRATIONS)
"""The SQLite schema version a store has once opened."""


log = logging.getLogger("sdbridge.store")

PushRow = tuple[str | None, str | None, bool]
"""What push-back saved for a ticket: its comment's id, the fingerprint of what it said, and
whether the label is on (push-back reads it as a `PushState`)."""


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


def display_url(url: str | sa.URL) -> str:
    """A database URL as it may be shown: never with its password, in its user part or its
    query (`values.masked_url`, the one place URLs are masked)."""
    try:
        text = sa.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is no number, an open [
        return "<a database URL that cannot be read>"
    return masked_url(text)


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


@dataclass
class Snapshot:
    id: int
    source: str
    content_hash: str
    pulled_at: datetime
    raw: RawTable


class Store:
    """One tenant's view of a store: a SQLite file (`location` a path) or a PostgreSQL
    database (`location` a `postgresql://` URL; `password`, when given, is used instead of
    one in the URL or libpq's own `PGPASSWORD`/`.pgpass`)."""

    def __init__(
        self,
        location: Path | str,
        *,
        tenant: str = DEFAULT_TENANT,
        password: str | None = None,
        any_tenant: bool = False,
    ) -> None:
        if not valid_tenant(tenant):
            raise StoreError(
                f"{tenant!r} is not a tenant id",
                hint="use 1-63 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit",
            )
        self.tenant = tenant
        self._tickets: Any = None
        self.path: Path | None = None
        if is_url(location):
            self.where = display_url(str(location))
            if self.where.startswith("<"):
                raise StoreError(
                    "the store URL cannot be read (a port that is no number, an unclosed [ of an IPv6 address?)",
                    hint="write it as postgresql://USER@HOST:PORT/DATABASE",
                )
            problem = database_url_problem(str(location))
            if problem:  # wherever it came from: the config, SDBRIDGE_STORE_URL, --store, --to
                raise StoreError(
                    f"{problem}: {self.where}",
                    hint="give the password as SDBRIDGE_STORE_PASSWORD or `store.password_file`, never in the URL",
                )
            self.engine = self._postgres(str(location), password)
        else:
            self.path = Path(location)
            self.where = str(self.path)
            self.engine = self._sqlite(self.path)
        try:
            self._migrate()
        except sa.exc.DBAPIError as exc:
            self.engine.dispose()
            raise self._error("cannot open", exc) from None
        except UnicodeError:  # a host name no resolver can encode (IDNA), found only on connect
            self.engine.dispose()
            raise StoreError(
                f"the host name of the store URL is not a valid host name: {self.where}",
                hint="write it as postgresql://USER@HOST:PORT/DATABASE",
            ) from None
        if self.path is not None and not any_tenant:
            self._one_tenant_per_file()

    # --- opening ---------------------------------------------------------------------------

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _sqlite(self, path: Path) -> Engine:
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
        except OSError as exc:
            raise StoreError(
                f"cannot use the store {path}: {exc.strerror or exc}",
                hint="check that its folder exists and is writable",
            ) from None
        engine = sa.create_engine(f"sqlite+pysqlite:///{path}", connect_args={"timeout": 30}, poolclass=NullPool)

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi: Any, _record: Any) -> None:
            dbapi.isolation_level = None  # transactions are begun below, not by the driver
            dbapi.execute("PRAGMA foreign_keys=ON")

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # A writer takes the write lock when it begins (no deadlock upgrading a read);
            # readers never wait for it (WAL).
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

        try:
            with engine.connect() as conn:
                version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
                tables = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'").all()
        except sa.exc.DBAPIError as exc:
            engine.dispose()
            raise StoreError(f"cannot open the store {path}: {exc.orig}", hint="is it an sdbridge state.db?") from None
        if not created and version == 0 and tables:
            engine.dispose()
            raise StoreError(
                f"{path} is not an sdbridge store (a database of something else)",
                hint="point `store.path` at another file",
            )
        # Only once it is known to be a store is it made private: a file given by mistake
        # (`--from notes.db`) is left as it was.
        try:
            if version and path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
                log.warning("the store %s was readable by others; it is private (0600) now", path)
        except OSError as exc:
            engine.dispose()
            raise StoreError(f"cannot use the store {path}: {exc.strerror or exc}") from None
        return engine

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
                for number, migration in enumerate(SQLITE_MIGRATIONS):
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

    def _postgres(self, url: str, password: str | None) -> Engine:
        try:
            parsed = sa.make_url(url)
        except (sa.exc.ArgumentError, ValueError):
            raise StoreError(
                "the store URL cannot be read as a database URL",
                hint="write it as postgresql://USER@HOST:PORT/DATABASE",
            ) from None
        if parsed.get_backend_name() not in ("postgresql", "postgres"):
            raise StoreError(
                f"the store URL {self.where} is not a PostgreSQL URL",
                hint="use postgresql://USER@HOST:PORT/DATABASE, or `store.path` for a SQLite file",
            )
        parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            import psycopg  # noqa: F401 - SQLAlchemy imports it late, with a traceback of its own
        except ImportError:
            raise StoreError(
                f"the store {self.where} is PostgreSQL, and the PostgreSQL driver (psycopg) is not installed",
                hint="install the `postgresql` extra: pip install 'sdbridge[postgresql]' "
                "(or leave out store.url and $SDBRIDGE_STORE_URL to use a SQLite file)",
            ) from None
        if password is not None:
            parsed = parsed.set(password=password)
        # A run holds two connections: one for its statements (used one at a time, kept in
        # this pool) and one that holds its tenant's lock (`run_lock`). Many tenants at once
        # need max_connections to match.
        return sa.create_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=1,
            max_overflow=1,
            connect_args={"connect_timeout": 10, "application_name": "sdbridge"},
        )

    def _error(self, doing: str, exc: sa.exc.DBAPIError) -> StoreError:
        first = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        if self.path is None:
            return StoreError(
                f"{doing} the store {self.where}: {first}",
                hint="check `store.url` (or SDBRIDGE_STORE_URL), that the server is up, and the password "
                "(SDBRIDGE_STORE_PASSWORD or `store.password_file`)",
            )
        return StoreError(f"{doing} the store {self.where}: {first}", hint="is it an sdbridge state.db?")

    def _one_tenant_per_file(self) -> None:
        """A SQLite store is one team's: opening it as another tenant would silently start a
        second, empty history beside the first."""
        others = [t for (t,) in self._rows("SELECT DISTINCT tenant FROM runs WHERE tenant <> :tenant")]
        if others:
            self.close()
            raise StoreError(
                f"the store {self.where} holds the history of tenant {others[0]!r}, not {self.tenant!r}",
                hint=f"set `tenant: {others[0]}` in the config, or point `store.path` at a new file",
            )

    def close(self) -> None:
        if self._tickets is not None:
            self._tickets.close()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- statements --------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction; a failure to write (disk full, read-only file, server gone)
        is said in one line and nothing is half-written."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(write=True)
                with conn.begin():
                    yield conn
        except sa.exc.DBAPIError as exc:
            raise StoreError(
                f"the store {self.where} could not be written: {exc.orig}",
                hint="free disk space, or check that the store is writable; nothing was half-written"
                if self.path is not None
                else "check that the database server is up and the user may write; nothing was half-written",
            ) from None

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"tenant": self.tenant, **params}

    def _run(self, conn: Connection, sql: str, **params: Any) -> Any:
        return conn.execute(sa.text(sql), self._params(params))

    def _many(self, conn: Connection, sql: str, rows: Iterable[dict[str, Any]]) -> None:
        batch = [self._params(row) for row in rows]
        if batch:
            conn.execute(sa.text(sql), batch)

    def _write(self, sql: str, **params: Any) -> int:
        with self.transaction() as conn:
            return self._run(conn, sql, **params).rowcount

    def _rows(self, sql: str, **params: Any) -> list[Any]:
        try:
            with self.engine.connect() as conn:
                return [tuple(row) for row in self._run(conn, sql, **params)]
        except sa.exc.DBAPIError as exc:
            raise self._error("cannot read", exc) from None

    def _one(self, sql: str, **params: Any) -> tuple[Any, ...] | None:
        rows = self._rows(sql, **params)
        return rows[0] if rows else None

    def execute(self, sql: str, **params: Any) -> list[Any]:
        """Run one statement in its own transaction (`:tenant` is this store's tenant) and
        return its rows, if any: for tools, benchmarks and tests that look inside."""
        with self.transaction() as conn:
            result = self._run(conn, sql, **params)
            return [tuple(row) for row in result] if result.returns_rows else []

    # --- schema ----------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Bring the schema up to date. Each step reads the version inside its own write
        transaction (under a lock on PostgreSQL), so runs that start together on a new store
        migrate it once."""
        migrations = SQLITE_MIGRATIONS if self.dialect == "sqlite" else POSTGRES_MIGRATIONS
        while True:
            with self.engine.connect() as conn:
                conn.execution_options(write=True)
                with conn.begin():
                    version = self._version(conn)
                    if version > len(migrations):
                        raise StoreError(
                            f"the store {self.where} was written by a newer sdbridge "
                            f"(schema {version} > {len(migrations)})",
                            hint="upgrade sdbridge",
                        )
                    if version == len(migrations):
                        return
                    for statement in filter(str.strip, migrations[version].split(";")):
                        conn.exec_driver_sql(statement)
                    self._set_version(conn, version + 1)

    def _version(self, conn: Connection) -> int:
        if self.dialect == "sqlite":
            return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key("sdbridge schema")})
        if conn.execute(sa.text("SELECT to_regclass('sdbridge_schema')")).scalar() is None:
            return 0
        return int(conn.execute(sa.text("SELECT version FROM sdbridge_schema")).scalar_one())

    def _set_version(self, conn: Connection, version: int) -> None:
        if self.dialect == "sqlite":
            conn.exec_driver_sql(f"PRAGMA user_version = {version}")
            return
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS sdbridge_schema (version INTEGER NOT NULL)")
        conn.exec_driver_sql("DELETE FROM sdbridge_schema")
        conn.execute(sa.text("INSERT INTO sdbridge_schema (version) VALUES (:v)"), {"v": version})

    @property
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return self._version(conn)

    def ticket_lock(self, source: str, ticket: str) -> Any:
        """Hold one ticket for writing its comment and label (see `runlock.TicketLocks`)."""
        from sdbridge.runlock import TicketLocks

        if self._tickets is None:
            if self.path is not None:
                self._tickets = TicketLocks(self.path)
            else:  # a pool of its own: a lock is held while the ticket's writes go out
                engine = sa.create_engine(
                    self.engine.url, pool_size=4, max_overflow=12, connect_args={"connect_timeout": 10}
                )
                self._tickets = TicketLocks(None, engine)
        return self._tickets.hold(self.tenant, source, ticket)

    def run_lock(self) -> Any:
        """One run at a time per tenant: a `flock` beside a SQLite file, a PostgreSQL
        advisory lock (released by the server when the holder's session ends) otherwise."""
        from sdbridge.runlock import AdvisoryLock, RunLock

        if self.path is not None:
            return RunLock(self.path)
        # The lock lives on a connection of its own, outside the pool the statements use.
        lock_engine = sa.create_engine(self.engine.url, poolclass=NullPool, connect_args={"connect_timeout": 10})
        return AdvisoryLock(lock_engine, _lock_key(f"sdbridge run {self.tenant}"), self.tenant, self.where)

    # --- runs ------------------------------------------------------------------------------

    def start_run(self, run_id: str, trigger: str) -> None:
        """Record a run. The caller holds the run lock, so a run still marked `running` was
        killed: it is closed as `interrupted` first."""
        with self.transaction() as conn:
            interrupted = self._run(
                conn,
                "UPDATE runs SET status = 'interrupted', ended_at = :now, error = 'the process ended before the run "
                "did' WHERE tenant = :tenant AND status = 'running'",
                now=_now(),
            ).rowcount
            self._run(
                conn,
                "INSERT INTO runs (tenant, id, trigger, started_at) VALUES (:tenant, :id, :trigger, :now)",
                id=run_id,
                trigger=trigger,
                now=_now(),
            )
        if interrupted and self.dialect == "sqlite":
            # The last run did not end cleanly: make sure the file it left is sound.
            verdict = self._rows("PRAGMA quick_check")[0][0]
            if verdict != "ok":
                raise StoreError(
                    f"the store {self.where} is damaged ({verdict})",
                    hint="restore it from a backup, or move it away to start a new history",
                )

    def end_run(self, run_id: str, status: str, error: str | None = None) -> None:
        self._write(
            "UPDATE runs SET ended_at = :now, status = :status, error = :error WHERE tenant = :tenant AND id = :id",
            now=_now(),
            status=status,
            error=error,
            id=run_id,
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
        self._write(
            "INSERT INTO run_sources (tenant, run_id, source, status, error, items, changed, snapshot_id, pulled_at) "
            "VALUES (:tenant, :run_id, :source, :status, :error, :items, :changed, :snapshot_id, :now) "
            "ON CONFLICT (tenant, run_id, source) DO UPDATE SET status = excluded.status, error = excluded.error, "
            "items = excluded.items, changed = excluded.changed, snapshot_id = excluded.snapshot_id, "
            "pulled_at = excluded.pulled_at",
            run_id=run_id,
            source=source,
            status=status,
            error=error,
            items=items,
            changed=changed,
            snapshot_id=snapshot_id,
            now=_now(),
        )

    def runs(self, limit: int = 30) -> list[RunRecord]:
        """The latest runs, newest first."""
        rows = self._rows(
            "SELECT id, trigger, started_at, ended_at, status, error FROM runs WHERE tenant = :tenant "
            "ORDER BY started_at DESC, id DESC LIMIT :limit",
            limit=limit,
        )
        return [RunRecord(*row) for row in rows]

    def run(self, run_id: str) -> RunDetail:
        row = self._one(
            "SELECT id, trigger, started_at, ended_at, status, error FROM runs WHERE tenant = :tenant AND id = :id",
            id=run_id,
        )
        if row is None:
            raise StoreError(f"no run {run_id!r} in {self.where}", hint="`sdbridge history` lists the runs")
        sources = self._rows(
            "SELECT source, status, snapshot_id, error FROM run_sources WHERE tenant = :tenant AND run_id = :id",
            id=run_id,
        )
        run, trigger, started, ended, status, error = row
        return RunDetail(
            run, trigger, started, ended, status, error, sources={s: RunSource(st, i, e) for s, st, i, e in sources}
        )

    def snapshot_as_of(self, source: str, moment: str) -> int | None:
        """The snapshot of a file source that a run starting at `moment` checked: the latest
        one recorded by a run that started no later."""
        row = self._one(
            "SELECT rs.snapshot_id FROM run_sources rs JOIN runs r ON r.tenant = rs.tenant AND r.id = rs.run_id "
            "WHERE rs.tenant = :tenant AND rs.source = :source AND rs.snapshot_id IS NOT NULL "
            "AND r.started_at <= :moment ORDER BY r.started_at DESC LIMIT 1",
            source=source,
            moment=moment,
        )
        return row[0] if row else None

    def last_pulls(self) -> dict[str, RunSource]:
        """Per source, its latest pull (pulled, unchanged, partial, failed), so an offline
        `check` can say that the data it checks is from before a failed pull."""
        rows = self._rows(
            "SELECT source, status, snapshot_id, error FROM run_sources rs WHERE tenant = :tenant AND pulled_at = "
            "(SELECT MAX(pulled_at) FROM run_sources WHERE tenant = :tenant AND source = rs.source)"
        )
        return {source: RunSource(status, snapshot, error) for source, status, snapshot, error in rows}

    # --- cursors ---------------------------------------------------------------------------

    def cursor(self, source: str) -> dict[str, Any]:
        row = self._one(
            "SELECT state, last_ok_at FROM cursors WHERE tenant = :tenant AND source = :source", source=source
        )
        if row is None:
            return {}
        return {**json.loads(row[0]), "last_ok_at": row[1]}

    def cursors(self) -> dict[str, dict[str, Any]]:
        """Every source's cursor (what the portfolio shows as data age)."""
        rows = self._rows("SELECT source, state, last_ok_at FROM cursors WHERE tenant = :tenant")
        return {source: {**json.loads(state), "last_ok_at": ok} for source, state, ok in rows}

    def _advance(self, conn: Connection, source: str, state: dict[str, Any]) -> None:
        now = _now()
        self._run(
            conn,
            "INSERT INTO cursors (tenant, source, state, last_ok_at, updated_at) VALUES (:tenant, :source, :state, "
            ":now, :now) ON CONFLICT (tenant, source) DO UPDATE SET state = excluded.state, "
            "last_ok_at = excluded.last_ok_at, updated_at = excluded.updated_at",
            source=source,
            state=json.dumps(state),
            now=now,
        )

    def touch(self, source: str) -> None:
        """A pull found nothing new: the data is still good as of now."""
        self._write(
            "UPDATE cursors SET last_ok_at = :now, updated_at = :now WHERE tenant = :tenant AND source = :source",
            now=_now(),
            source=source,
        )

    # --- table snapshots (file sources) ----------------------------------------------------

    def save_table(self, raw: RawTable, content_hash: str, cursor: dict[str, Any]) -> int:
        """Store a new table version and advance the cursor, atomically. Snapshot numbers
        count per tenant (the run lock makes this tenant's writer the only one)."""
        frame = raw.frame
        if raw.kind == "json":  # items of any shape: stored as JSON text
            frame = frame.assign(_item=frame["_item"].map(lambda item: json.dumps(item, default=str)))
        data = _frame_to_ipc(frame)
        with self.transaction() as conn:
            snapshot_id = int(
                self._run(
                    conn, "SELECT COALESCE(MAX(id), 0) + 1 FROM table_snapshots WHERE tenant = :tenant"
                ).scalar_one()
            )
            self._run(
                conn,
                "INSERT INTO table_snapshots (tenant, id, source, content_hash, location, fetched_at, pulled_at, "
                "columns, notes, kind, data) VALUES (:tenant, :id, :source, :hash, :location, :fetched, :now, "
                ":columns, :notes, :kind, :data)",
                id=snapshot_id,
                source=raw.source,
                hash=content_hash,
                location=raw.location,
                fetched=raw.fetched_at.isoformat(),
                now=_now(),
                columns=json.dumps(raw.columns),
                notes=json.dumps(raw.notes),
                kind=raw.kind,
                data=data,
            )
            fault_point("after-snapshot-write")
            self._advance(conn, raw.source, {**cursor, "snapshot_id": snapshot_id, "content_hash": content_hash})
        return snapshot_id

    def table(self, source: str, snapshot_id: int | None = None) -> Snapshot | None:
        """The latest (or a given) table version of a source."""
        columns = "id, source, content_hash, location, fetched_at, pulled_at, columns, notes, kind, data"
        if snapshot_id is None:
            row = self._one(
                f"SELECT {columns} FROM table_snapshots WHERE tenant = :tenant AND source = :source "
                "ORDER BY id DESC LIMIT 1",
                source=source,
            )
        else:
            row = self._one(
                f"SELECT {columns} FROM table_snapshots WHERE tenant = :tenant AND id = :id", id=snapshot_id
            )
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
        items: Iterable[tuple[str, dict[str, Any], str | None]],
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
        now = _now()
        counts = {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0}
        with self.transaction() as conn:
            known = {
                item_id: (digest, bool(active))
                for item_id, digest, active in self._run(
                    conn,
                    "SELECT item_id, content_hash, active FROM items WHERE tenant = :tenant AND source = :source",
                    source=source,
                )
            }
            seen: set[str] = set()
            unchanged: list[dict[str, Any]] = []
            changed: list[dict[str, Any]] = []
            for item_id, payload, updated in items:
                seen.add(item_id)
                text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)  # NUL escaped
                digest = hashlib.sha256(text.encode()).hexdigest()
                before = known.get(item_id)
                if before == (digest, True):
                    unchanged.append({"source": source, "item_id": item_id, "now": now})
                    continue
                change = "created" if before is None else "updated"
                counts[change] += 1
                changed.append(
                    {
                        "source": source,
                        "item_id": item_id,
                        "hash": digest,
                        "updated": updated,
                        "now": now,
                        "payload": text,
                        "run_id": run_id,
                        "change": change,
                    }
                )
            counts["unchanged"] = len(unchanged)
            self._many(
                conn,
                "UPDATE items SET last_seen = :now WHERE tenant = :tenant AND source = :source AND item_id = :item_id",
                unchanged,
            )
            self._many(
                conn,
                "INSERT INTO items (tenant, source, item_id, content_hash, updated_at, first_seen, last_seen, active, "
                "payload) VALUES (:tenant, :source, :item_id, :hash, :updated, :now, :now, 1, :payload) "
                "ON CONFLICT (tenant, source, item_id) DO UPDATE SET content_hash = excluded.content_hash, "
                "updated_at = excluded.updated_at, last_seen = excluded.last_seen, active = 1, "
                "payload = excluded.payload",
                changed,
            )
            self._many(
                conn,
                "INSERT INTO item_versions (tenant, source, item_id, seen_at, run_id, change, content_hash, payload) "
                "VALUES (:tenant, :source, :item_id, :now, :run_id, :change, :hash, :payload)",
                changed,
            )
            if full:
                gone = [
                    {"source": source, "item_id": item_id, "now": now, "run_id": run_id}
                    for item_id, (_, active) in sorted(known.items())
                    if active and item_id not in seen
                ]
                self._many(
                    conn,
                    "UPDATE items SET active = 0 WHERE tenant = :tenant AND source = :source AND item_id = :item_id",
                    gone,
                )
                self._many(
                    conn,
                    "INSERT INTO item_versions (tenant, source, item_id, seen_at, run_id, change, content_hash) "
                    "VALUES (:tenant, :source, :item_id, :now, :run_id, 'deleted', '')",
                    gone,
                )
                counts["deleted"] = len(gone)
            fault_point("after-snapshot-write")
            if cursor is not None:
                self._advance(conn, source, cursor)
        return counts

    def saved_since(self, source: str, since: str) -> list[dict[str, Any]]:
        """The items of a source saved after `since` (an ISO time) by something other than a
        pull of a run: live mode's re-reads of single tickets."""
        rows = self._rows(
            "SELECT i.payload FROM items i WHERE i.tenant = :tenant AND i.source = :source AND i.active = 1 "
            "AND EXISTS (SELECT 1 FROM item_versions v WHERE v.tenant = i.tenant AND v.source = i.source "
            "AND v.item_id = i.item_id AND v.seen_at > :since AND v.run_id IS NULL)",
            source=source,
            since=since,
        )
        return [json.loads(r[0]) for r in rows]

    def items(self, source: str, as_of: str | None = None) -> list[dict[str, Any]]:
        """Active items of a source now, or as they were at `as_of` (an ISO time)."""
        if as_of is None:
            rows = self._rows(
                "SELECT payload FROM items WHERE tenant = :tenant AND source = :source AND active = 1 ORDER BY item_id",
                source=source,
            )
            return [json.loads(r[0]) for r in rows]
        rows = self._rows(
            "SELECT v.change, v.payload FROM item_versions v JOIN (SELECT item_id, MAX(row_no) AS last "
            "FROM item_versions WHERE tenant = :tenant AND source = :source AND seen_at <= :as_of GROUP BY item_id) m "
            "ON v.row_no = m.last ORDER BY v.item_id",
            source=source,
            as_of=as_of,
        )
        return [json.loads(payload) for change, payload in rows if change != "deleted"]

    # --- assessments -----------------------------------------------------------------------

    def save_assessment(self, run_id: str, report: dict[str, Any], findings: pd.DataFrame) -> None:
        """Keep a run's assessment and its findings as spans: a finding that is in this run
        word for word as in the last one stays open; one that is gone or changed is closed
        here; a new or changed one opens here. Only what changed is written. Saving the latest
        run again replaces it."""
        columns = list(STORED_FINDING_COLUMNS)
        new = _storable(findings[columns])
        with self.transaction() as conn:
            existing, latest = self._run(
                conn,
                "SELECT (SELECT seq FROM assessments WHERE tenant = :tenant AND run_id = :run_id), "
                "(SELECT MAX(seq) FROM assessments WHERE tenant = :tenant)",
                run_id=run_id,
            ).one()
            if existing is not None:
                if existing != latest:
                    raise StoreError(f"run {run_id} is not the latest assessed run: its findings cannot be replaced")
                seq = existing
                self._run(conn, "DELETE FROM finding_spans WHERE tenant = :tenant AND opened = :seq", seq=seq)
                self._run(
                    conn, "UPDATE finding_spans SET closed = NULL WHERE tenant = :tenant AND closed = :seq", seq=seq
                )
                self._run(
                    conn,
                    "UPDATE assessments SET report = :report WHERE tenant = :tenant AND run_id = :run_id",
                    run_id=run_id,
                    report=json.dumps(report),
                )
            else:
                seq = (latest or 0) + 1
                self._run(
                    conn,
                    "INSERT INTO assessments (tenant, run_id, report, seq) VALUES (:tenant, :run_id, :report, :seq)",
                    run_id=run_id,
                    report=json.dumps(report),
                    seq=seq,
                )
            open_rows = self._run(
                conn,
                f"SELECT row_no, {', '.join(columns)} FROM finding_spans WHERE tenant = :tenant AND closed IS NULL",
            ).all()
            current = pd.DataFrame([tuple(r) for r in open_rows], columns=["row_no", *columns])
            gone, opened = _span_changes(current, new)
            self._many(
                conn,
                "UPDATE finding_spans SET closed = :seq WHERE row_no = :row_no",
                ({"seq": seq, "row_no": r} for r in gone),
            )
            self._many(
                conn,
                f"INSERT INTO finding_spans (tenant, {', '.join(columns)}, opened) "
                f"VALUES (:tenant, {', '.join(':' + c for c in columns)}, :seq)",
                ({**dict(zip(columns, row, strict=True)), "seq": seq} for row in opened.itertuples(index=False)),
            )

    def push_state(self, source: str) -> dict[str, PushRow]:
        """Per ticket, what push-back saved: (comment id, fingerprint, labelled)."""
        rows = self._rows(
            "SELECT ticket, comment_id, fingerprint, labelled FROM push_state WHERE tenant = :tenant "
            "AND source = :source",
            source=source,
        )
        return {t: (c, f, bool(lab)) for t, c, f, lab in rows}

    def push_state_of(self, source: str, ticket: str) -> PushRow | None:
        """One ticket's saved push state (read again while the ticket is held)."""
        row = self._one(
            "SELECT comment_id, fingerprint, labelled FROM push_state WHERE tenant = :tenant AND source = :source "
            "AND ticket = :ticket",
            source=source,
            ticket=ticket,
        )
        return (row[0], row[1], bool(row[2])) if row else None

    def save_push_state(
        self, source: str, ticket: str, comment_id: str | None, fingerprint: str, labelled: bool
    ) -> None:
        self._write(
            "INSERT INTO push_state (tenant, source, ticket, comment_id, fingerprint, labelled, updated_at) VALUES "
            "(:tenant, :source, :ticket, :comment_id, :fingerprint, :labelled, :now) "
            "ON CONFLICT (tenant, source, ticket) DO UPDATE SET comment_id = excluded.comment_id, "
            "fingerprint = excluded.fingerprint, labelled = excluded.labelled, updated_at = excluded.updated_at",
            source=source,
            ticket=ticket,
            comment_id=comment_id,
            fingerprint=fingerprint,
            labelled=int(labelled),
            now=_now(),
        )

    def latest_assessed_run(self) -> str | None:
        row = self._one(
            "SELECT r.id FROM runs r JOIN assessments a ON a.tenant = r.tenant AND a.run_id = r.id "
            "WHERE r.tenant = :tenant ORDER BY r.started_at DESC LIMIT 1"
        )
        return row[0] if row else None

    def assessment(self, run_id: str) -> Assessment | None:
        """A stored run's assessment (without its findings: see `findings`)."""
        row = self._one("SELECT report FROM assessments WHERE tenant = :tenant AND run_id = :run_id", run_id=run_id)
        return Assessment.model_validate_json(row[0]) if row else None

    def previous_assessed_run(self, run_id: str) -> str | None:
        """The assessed run before this one."""
        row = self._one(
            "SELECT a.run_id FROM assessments a JOIN runs r ON r.tenant = a.tenant AND r.id = a.run_id "
            "WHERE a.tenant = :tenant AND r.started_at < "
            "(SELECT started_at FROM runs WHERE tenant = :tenant AND id = :run_id) ORDER BY r.started_at DESC LIMIT 1",
            run_id=run_id,
        )
        return row[0] if row else None

    _IN_RUN = "s.tenant = a.tenant AND s.opened <= a.seq AND (s.closed IS NULL OR s.closed > a.seq)"
    """A span covers an assessed run `a` (with the span as `s`)."""

    def findings(self, run_id: str, source: str | None = None) -> pd.DataFrame:
        """A stored run's findings (of one source), with the columns the store keeps."""
        query = (
            f"SELECT {', '.join('s.' + c for c in STORED_FINDING_COLUMNS)} FROM finding_spans s "
            f"JOIN assessments a ON a.tenant = :tenant AND a.run_id = :run_id WHERE {self._IN_RUN}"
        )
        if source is not None:
            query += " AND s.source = :source"
        rows = self._rows(query + " ORDER BY s.row_no", run_id=run_id, source=source)
        return pd.DataFrame(rows, columns=list(STORED_FINDING_COLUMNS))

    def trend(self, limit: int = 30) -> list[dict[str, Any]]:
        """Gaps per WP over the last assessed runs, oldest first."""
        rows = self._rows(
            "SELECT r.id, r.started_at, a.report FROM runs r JOIN assessments a ON a.tenant = r.tenant "
            "AND a.run_id = r.id WHERE r.tenant = :tenant ORDER BY r.started_at DESC LIMIT :limit",
            limit=limit,
        )
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
        query = (
            "SELECT s.id FROM finding_spans s JOIN assessments a ON a.tenant = :tenant AND a.run_id = :run_id "
            f"WHERE {self._IN_RUN}"
        )
        return {r[0] for r in self._rows(query, run_id=run_id)}

    def finding_history(self, finding_id: str) -> list[tuple[str, str, bool]]:
        """Per assessed run (oldest first): run id, start time, and whether the gap was open."""
        spans = self._rows(
            "SELECT opened, closed FROM finding_spans WHERE tenant = :tenant AND id = :id", id=finding_id
        )
        return [
            (run_id, started, any(o <= seq and (c is None or c > seq) for o, c in spans))
            for run_id, started, seq in self._rows(
                "SELECT r.id, r.started_at, a.seq FROM runs r JOIN assessments a ON a.tenant = r.tenant "
                "AND a.run_id = r.id WHERE r.tenant = :tenant ORDER BY a.seq"
            )
        ]

    def open_since(self) -> pd.DataFrame:
        """Each finding open in the latest assessed run, with the run its gap has been open
        since without a break (`first_seen`) and that run's start (`first_seen_at`): spans of
        one finding chain when one closes in the run the next opens (its wording changed),
        and a night without it breaks the chain (closed, then reopened, counts anew)."""
        spans = pd.DataFrame(
            self._rows(
                "SELECT id, opened, closed FROM finding_spans WHERE tenant = :tenant AND id IN "
                "(SELECT id FROM finding_spans WHERE tenant = :tenant AND closed IS NULL)"
            ),
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
            self._rows(
                "SELECT a.seq, r.id, r.started_at FROM assessments a JOIN runs r ON r.tenant = a.tenant "
                "AND r.id = a.run_id WHERE a.tenant = :tenant"
            ),
            columns=["seq", "first_seen", "first_seen_at"],
        ).set_index("seq")
        found = runs.reindex(start.to_numpy())
        found.index = start.index
        return found

    def tenants(self) -> list[str]:
        """Every tenant the store holds, most recently run first (the portfolio's rows)."""
        rows = self._rows("SELECT tenant, MAX(started_at) AS last FROM runs GROUP BY tenant ORDER BY last DESC, tenant")
        return [tenant for tenant, _ in rows]

    def as_tenant(self, tenant: str) -> Store:
        """The same store seen as another tenant (sharing the connection pool)."""
        if not valid_tenant(tenant):
            raise StoreError(f"{tenant!r} is not a tenant id")
        other = object.__new__(Store)
        other.__dict__.update(self.__dict__)
        other.tenant = tenant
        return other

    def size_of_findings(self) -> int:
        """Rows the findings take (spans), for the store-growth benchmark."""
        return int(self._rows("SELECT COUNT(*) FROM finding_spans WHERE tenant = :tenant")[0][0])


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for a name (stable across processes and versions)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def _storable(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings as the store keeps them: Python values, None for missing, no NUL characters
    (which PostgreSQL text cannot hold), so what is read back compares equal. The NUL test
    runs in Arrow over each text column; only a column that holds one is rewritten."""
    clean = findings.copy(deep=False)
    for column in clean.columns:
        if pd.api.types.is_numeric_dtype(clean[column]):
            continue
        text = clean[column].astype("str")
        if text.str.contains("\x00", regex=False, na=False).any():
            clean[column] = text.str.replace("\x00", "\ufffd", regex=False)
    return clean.astype(object).where(clean.notna(), None)


def _span_changes(current: pd.DataFrame, new: pd.DataFrame) -> tuple[list[int], pd.DataFrame]:
    """(row numbers of open spans to close, findings to open): compared word for word on
    every kept column (a finding whose message or severity changed is a new span), by a
    64-bit hash of each row computed column-wise."""
    columns = list(new.columns)
    if current.empty:
        return [], new
    if new.empty:
        return [int(r) for r in current["row_no"]], new

    def digest(frame: pd.DataFrame) -> np.ndarray:
        plain = frame[columns].astype(object).where(frame[columns].notna(), None)
        return pd.util.hash_pandas_object(plain, index=False).to_numpy()

    old_digest, new_digest = digest(current), digest(new)
    kept = np.isin(old_digest, new_digest)
    gone = [int(r) for r in current["row_no"].to_numpy()[~kept]]
    return gone, new[~np.isin(new_digest, old_digest[kept])]


def copy_store(source: Store, target: Store, *, tenant: str, batch: int = 5_000) -> dict[str, int]:
    """Copy a one-tenant store's rows into another store as `tenant` (`sdbridge store
    migrate`), in one transaction: rows per table copied. The target must not hold that
    tenant yet."""
    counts: dict[str, int] = {}
    with source.engine.connect() as read, target.transaction() as write:
        there = write.execute(sa.text("SELECT 1 FROM runs WHERE tenant = :t LIMIT 1"), {"t": tenant}).first()
        there = (
            there or write.execute(sa.text("SELECT 1 FROM cursors WHERE tenant = :t LIMIT 1"), {"t": tenant}).first()
        )
        if there:
            raise StoreError(
                f"the store {target.where} already holds tenant {tenant!r}",
                hint="give another --tenant, or migrate into a database without it; nothing was copied",
            )
        for table in TABLES:
            names = [c for c in _columns(read, table) if c != "row_no"]
            order = "row_no" if table in ("item_versions", "finding_spans") else ", ".join(_key(table))
            result = read.execution_options(stream_results=True).execute(
                sa.text(f"SELECT {', '.join(names)} FROM {table} ORDER BY {order}")
            )
            insert = sa.text(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})")
            counts[table] = 0
            while rows := result.fetchmany(batch):
                write.execute(insert, [{**dict(zip(names, row, strict=True)), "tenant": tenant} for row in rows])
                counts[table] += len(rows)
    return counts


def _columns(conn: Connection, table: str) -> list[str]:
    return list(conn.execute(sa.text(f"SELECT * FROM {table} LIMIT 0")).keys())


def _key(table: str) -> Sequence[str]:
    return {
        "runs": ("tenant", "started_at", "id"),
        "run_sources": ("tenant", "run_id", "source"),
        "cursors": ("tenant", "source"),
        "table_snapshots": ("tenant", "id"),
        "items": ("tenant", "source", "item_id"),
        "assessments": ("tenant", "seq"),
        "push_state": ("tenant", "source", "ticket"),
    }[table]


__all__ = [
    "DEFAULT_TENANT",
    "TENANT_PATTERN",
    "PushRow",
    "RunDetail",
    "RunRecord",
    "RunSource",
    "Snapshot",
    "Store",
    "StoreError",
    "copy_store",
    "display_url",
    "is_url",
]
