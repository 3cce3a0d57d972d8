"""Runs, what each source did in each run, and the sources' cursors."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdbridge.store.database import Database, StoreError, now
from sdbridge.store.schema import cursors, run_sources, runs


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


_RUN = (runs.c.id, runs.c.trigger, runs.c.started_at, runs.c.ended_at, runs.c.status, runs.c.error)


class Runs(Database):
    """The run history and the cursors."""

    def start_run(self, run_id: str, trigger: str) -> None:
        """Record a run. The caller holds the run lock, so a run still marked `running` was
        killed: it is closed as `interrupted` first."""
        moment = now()
        with self.transaction() as conn:
            interrupted = conn.execute(
                sa.update(runs)
                .where(self.mine(runs), runs.c.status == "running")
                .values(status="interrupted", ended_at=moment, error="the process ended before the run did")
            ).rowcount
            conn.execute(sa.insert(runs).values(self._stamp({"id": run_id, "trigger": trigger, "started_at": moment})))
        if interrupted and self.dialect == "sqlite":
            # The last run did not end cleanly: make sure the file it left is sound.
            verdict = self._rows(sa.text("PRAGMA quick_check"))[0][0]
            if verdict != "ok":
                raise StoreError(
                    f"the store {self.where} is damaged ({verdict})",
                    hint="restore it from a backup, or move it away to start a new history",
                )

    def end_run(self, run_id: str, status: str, error: str | None = None) -> None:
        self._write(
            sa.update(runs)
            .where(self.mine(runs), runs.c.id == run_id)
            .values(ended_at=now(), status=status, error=error)
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
        update = ("status", "error", "items", "changed", "snapshot_id", "pulled_at")
        row: dict[str, Any] = {"run_id": run_id, "source": source, "status": status, "error": error, "items": items}
        row |= {"changed": changed, "snapshot_id": snapshot_id, "pulled_at": now()}
        self._write(self._upsert(run_sources, ("run_id", "source"), update).values(self._stamp(row)))

    def runs(self, limit: int = 30) -> list[RunRecord]:
        """The latest runs, newest first."""
        rows = self._rows(
            sa.select(*_RUN).where(self.mine(runs)).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
        )
        return [RunRecord(*row) for row in rows]

    def run(self, run_id: str) -> RunDetail:
        row = self._one(sa.select(*_RUN).where(self.mine(runs), runs.c.id == run_id))
        if row is None:
            raise StoreError(f"no run {run_id!r} in {self.where}", hint="`sdbridge history` lists the runs")
        rs = run_sources.c
        sources = self._rows(
            sa.select(rs.source, rs.status, rs.snapshot_id, rs.error).where(self.mine(run_sources), rs.run_id == run_id)
        )
        run, trigger, started, ended, status, error = row
        return RunDetail(
            run, trigger, started, ended, status, error, sources={s: RunSource(st, i, e) for s, st, i, e in sources}
        )

    def snapshot_as_of(self, source: str, moment: str) -> int | None:
        """The snapshot of a file source that a run starting at `moment` checked: the latest
        one recorded by a run that started no later."""
        rs = run_sources.c
        row = self._one(
            sa.select(rs.snapshot_id)
            .join(runs, sa.and_(runs.c.tenant == rs.tenant, runs.c.id == rs.run_id))
            .where(self.mine(run_sources), rs.source == source, rs.snapshot_id.is_not(None))
            .where(runs.c.started_at <= moment)
            .order_by(runs.c.started_at.desc())
            .limit(1)
        )
        return row[0] if row else None

    def last_pulls(self) -> dict[str, RunSource]:
        """Per source, its latest pull (pulled, unchanged, partial, failed), so an offline
        `check` can say that the data it checks is from before a failed pull."""
        rs = run_sources.alias("rs")
        latest = (
            sa.select(sa.func.max(run_sources.c.pulled_at))
            .where(self.mine(run_sources), run_sources.c.source == rs.c.source)
            .scalar_subquery()
        )
        rows = self._rows(
            sa.select(rs.c.source, rs.c.status, rs.c.snapshot_id, rs.c.error).where(
                self.mine(rs), rs.c.pulled_at == latest
            )
        )
        return {source: RunSource(status, snapshot, error) for source, status, snapshot, error in rows}

    # --- cursors ---------------------------------------------------------------------------

    def cursor(self, source: str) -> dict[str, Any]:
        row = self._one(
            sa.select(cursors.c.state, cursors.c.last_ok_at).where(self.mine(cursors), cursors.c.source == source)
        )
        if row is None:
            return {}
        return {**json.loads(row[0]), "last_ok_at": row[1]}

    def cursors(self) -> dict[str, dict[str, Any]]:
        """Every source's cursor (what the portfolio shows as data age)."""
        c = cursors.c
        rows = self._rows(sa.select(c.source, c.state, c.last_ok_at).where(self.mine(cursors)))
        return {source: {**json.loads(state), "last_ok_at": ok} for source, state, ok in rows}

    def _advance(self, conn: Connection, source: str, state: dict[str, Any]) -> None:
        moment = now()
        row = {"source": source, "state": json.dumps(state), "last_ok_at": moment, "updated_at": moment}
        conn.execute(self._upsert(cursors, ("source",), ("state", "last_ok_at", "updated_at")).values(self._stamp(row)))

    def touch(self, source: str) -> None:
        """A pull found nothing new: the data is still good as of now."""
        moment = now()
        self._write(
            sa.update(cursors)
            .where(self.mine(cursors), cursors.c.source == source)
            .values(last_ok_at=moment, updated_at=moment)
        )
