"""One run at a time per store.

An advisory `flock` on `<store>.lock`: the kernel drops it when the holder dies, so a lock
left by a killed process is taken over without anyone deleting files. The file records the
holder's pid and start time so that a refused run can say who holds the store.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sdbridge.errors import SdbridgeError


class StoreBusy(SdbridgeError):
    """Another sdbridge run holds the store."""


class RunLock:
    def __init__(self, store_path: Path) -> None:
        self.path = store_path.with_name(store_path.name + ".lock")
        self._fd: int | None = None
        self.took_over: dict | None = None
        """What a previous, dead holder had written, when its lock was taken over."""

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read(fd)
            os.close(fd)
            who = f"pid {holder.get('pid', '?')}" + (f" on {holder['host']}" if holder.get("host") else "")
            since = holder.get("started_at", "an unknown time")
            raise StoreBusy(
                f"the store {self.path.with_suffix('')} is in use by another sdbridge run ({who}, started {since})",
                hint="wait for it to finish; a run that died releases the store by itself",
            ) from None
        previous = self._read(fd)
        if previous.get("pid") and previous.get("pid") != os.getpid():
            self.took_over = previous
        os.ftruncate(fd, 0)
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return self

    @staticmethod
    def _read(fd: int) -> dict:
        try:
            return json.loads(os.pread(fd, 4096, 0) or b"{}")
        except ValueError:
            return {}

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


class AdvisoryLock:
    """One run at a time per tenant on a shared PostgreSQL store: a session advisory lock,
    held on its own connection for the run and released by the server when that session
    ends (a killed run frees its tenant). The holder names itself in `application_name`,
    so a refused run can say who holds the tenant."""

    def __init__(self, engine: Any, key: int, tenant: str, where: str) -> None:
        self.engine, self.key, self.tenant, self.where = engine, key, tenant, where
        self._conn: Any = None
        self.took_over: dict | None = None

    def acquire(self) -> AdvisoryLock:
        import sqlalchemy as sa

        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            since = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
            name = f"sdbridge: pid {os.getpid()} on {socket.gethostname()[:24]}, started {since}"
            conn.execute(sa.text("SELECT set_config('application_name', :name, false)"), {"name": name[:63]})
            if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar():
                holder = conn.execute(
                    sa.text(
                        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                        "AND l.classid::bigint = :high AND l.objid::bigint = :low"
                    ),
                    {"high": (self.key >> 32) & 0xFFFFFFFF, "low": self.key & 0xFFFFFFFF},
                ).scalar()
                raise StoreBusy(
                    f"tenant {self.tenant!r} of the store {self.where} is in use by another sdbridge run"
                    + (f" ({holder.removeprefix('sdbridge: ')})" if holder else ""),
                    hint="wait for it to finish; a run that died releases its tenant by itself",
                )
        except BaseException:
            conn.close()
            self.engine.dispose()
            raise
        self._conn = conn
        return self

    def release(self) -> None:
        if self._conn is not None:
            import sqlalchemy as sa

            try:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            except sa.exc.DBAPIError:
                pass  # the session is gone, and its lock with it
            finally:
                self._conn.close()
                self._conn = None
                self.engine.dispose()

    def __enter__(self) -> AdvisoryLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


TICKET_STRIPES = 256
"""Lock files a SQLite store's ticket locks are spread over (a ticket maps to one of them)."""


class TicketLocks:
    """One writer per ticket at a time, across processes: the nightly push and `sdbridge
    serve` (and several replicas of it) never write the same ticket's comment at once.

    On a SQLite store, an exclusive `flock` on one of `TICKET_STRIPES` files in `locks/`
    beside it (a ticket hashes to a stripe: tickets sharing one wait for each other, briefly;
    the kernel drops the lock of a process that dies). On PostgreSQL, a transaction-level advisory lock
    on a connection of its own pool, released by the server when the holder's session ends.
    A lock is waited for (a push of one ticket takes a few requests), never refused."""

    def __init__(self, store_path: Path | None, engine: Any = None) -> None:
        self.folder = store_path.parent / "locks" / store_path.name if store_path is not None else None
        self.engine = engine

    @staticmethod
    def key(tenant: str, source: str, ticket: str) -> int:
        import hashlib

        name = f"sdbridge ticket {tenant}\x00{source}\x00{ticket}"
        return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)

    def hold(self, tenant: str, source: str, ticket: str) -> Any:
        from contextlib import contextmanager

        key = self.key(tenant, source, ticket)

        @contextmanager
        def held() -> Any:
            if self.folder is not None:
                self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                fd = os.open(self.folder / f"{key % TICKET_STRIPES:03d}.lock", os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
                return
            import sqlalchemy as sa

            with self.engine.connect() as conn, conn.begin():
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
                yield

        return held()

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
