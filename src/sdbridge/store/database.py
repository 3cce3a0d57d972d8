"""Opening a store (a SQLite file or a PostgreSQL database), bringing its schema up to date,
and the statements every part of the store runs through: one tenant's rows only, one write
transaction at a time, a database error said in one line."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import ColumnElement, Executable

from sdbridge.errors import SdbridgeError
from sdbridge.store.schema import SQLITE_MIGRATIONS, steps
from sdbridge.tenants import DEFAULT_TENANT, valid_tenant
from sdbridge.urls import database_url_problem, is_url, masked_url

log = logging.getLogger("sdbridge.store")


class StoreError(SdbridgeError):
    """The store cannot be opened or is held by another run."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def display_url(url: str | sa.URL) -> str:
    """A database URL as it may be shown: never with its password, in its user part or its
    query (`urls.masked_url`, the one place URLs are masked)."""
    try:
        text = sa.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is no number, an open [
        return "<a database URL that cannot be read>"
    return masked_url(text)


def lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for a name (stable across processes and versions)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


class Database:
    """One tenant's view of a store's database: opening, schema, locks and statements. The
    store's parts (runs, snapshots, findings, push state) add what they keep."""

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
        from sdbridge.store.schema import runs

        others = [t for (t,) in self._rows(sa.select(runs.c.tenant).distinct().where(runs.c.tenant != self.tenant))]
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

    # --- statements --------------------------------------------------------------------------

    def mine(self, *tables: sa.FromClause) -> ColumnElement[bool]:
        """The tenant rule, written once: every table a statement reads is this tenant's rows
        only. Statements put it in their WHERE (and rows written get `tenant` from `_stamp`)."""
        return sa.and_(*(table.c.tenant == self.tenant for table in tables))

    def _stamp(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {**row, "tenant": self.tenant}

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

    def _many(self, conn: Connection, statement: Executable, rows: Iterable[Mapping[str, Any]]) -> None:
        batch = list(rows)
        if batch:
            conn.execute(statement, batch)

    def _write(self, statement: Executable) -> int:
        with self.transaction() as conn:
            return int(conn.execute(statement).rowcount)

    def _rows(self, statement: Executable) -> list[tuple[Any, ...]]:
        try:
            with self.engine.connect() as conn:
                return [tuple(row) for row in conn.execute(statement)]
        except sa.exc.DBAPIError as exc:
            raise self._error("cannot read", exc) from None

    def _one(self, statement: Executable) -> tuple[Any, ...] | None:
        rows = self._rows(statement)
        return rows[0] if rows else None

    def _insert(self, table: sa.Table) -> Any:
        """An INSERT in this backend's words (for `ON CONFLICT`)."""
        return (sqlite.insert if self.dialect == "sqlite" else postgresql.insert)(table)

    def _upsert(self, table: sa.Table, keys: tuple[str, ...], update: Iterable[str], **fixed: Any) -> Any:
        """Insert a row, or update `update` (from the row) and `fixed` on the row with its key."""
        insert = self._insert(table)
        changes: dict[str, Any] = {name: insert.excluded[name] for name in update}
        return insert.on_conflict_do_update(index_elements=["tenant", *keys], set_={**changes, **fixed})

    def execute(self, sql: str, **params: Any) -> list[Any]:
        """Run one statement in its own transaction (`:tenant` is this store's tenant) and
        return its rows, if any: for tools, benchmarks and tests that look inside."""
        with self.transaction() as conn:
            result = conn.execute(sa.text(sql), {"tenant": self.tenant, **params})
            return [tuple(row) for row in result] if result.returns_rows else []

    # --- schema ----------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Bring the schema up to date. Each step reads the version inside its own write
        transaction (under a lock on PostgreSQL), so runs that start together on a new store
        migrate it once."""
        migrations = steps(self.dialect)
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
                    step = migrations[version]
                    if isinstance(step, str):
                        for statement in filter(str.strip, step.split(";")):
                            conn.exec_driver_sql(statement)
                    else:
                        step(conn)
                    self._set_version(conn, version + 1)

    def _version(self, conn: Connection) -> int:
        if self.dialect == "sqlite":
            return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key("sdbridge schema")})
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

    # --- locks -----------------------------------------------------------------------------

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
        return AdvisoryLock(lock_engine, lock_key(f"sdbridge run {self.tenant}"), self.tenant, self.where)

    def tenants(self) -> list[str]:
        """Every tenant the store holds, most recently run first (the portfolio's rows)."""
        from sdbridge.store.schema import runs

        last = sa.func.max(runs.c.started_at).label("last")
        rows = self._rows(sa.select(runs.c.tenant, last).group_by(runs.c.tenant).order_by(last.desc(), runs.c.tenant))
        return [tenant for tenant, _ in rows]
