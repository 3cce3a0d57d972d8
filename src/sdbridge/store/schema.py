"""The store's tables, declared once (SQLAlchemy `Table` objects), and how a store reaches them.

Both backends use these tables: PostgreSQL creates them from this declaration; a SQLite file
reaches them through its frozen history of four steps (`SQLITE_MIGRATIONS`), so a store
written by any earlier version upgrades in place. `tests/integration/test_store_schema.py`
checks that a migrated SQLite file and a new PostgreSQL database hold exactly these tables,
columns, keys and indexes. Every row is keyed by its tenant.

Why a list of steps and not Alembic: docs/decisions/0001-store-backends-and-migrations.md.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdbridge.tenants import DEFAULT_TENANT

metadata = sa.MetaData()

_ROW_NO = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""An auto-numbered row: `INTEGER PRIMARY KEY` (the rowid) in SQLite, an identity in PostgreSQL."""


def _text(name: str, *, null: bool = True, **kw: object) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=null, **kw)  # type: ignore[arg-type]


def _int(name: str, *, null: bool = True, **kw: object) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=null, **kw)  # type: ignore[arg-type]


def _tenant() -> sa.Column:
    return _text("tenant", null=False)


runs = sa.Table(
    "runs",
    metadata,
    _tenant(),
    _text("id", null=False),
    _text("trigger", null=False),
    _text("started_at", null=False),
    _text("ended_at"),
    _text("status", null=False, server_default="running"),
    _text("error"),
    sa.PrimaryKeyConstraint("tenant", "id"),
    sa.Index("runs_started", "tenant", "started_at"),
)
run_sources = sa.Table(
    "run_sources",
    metadata,
    _tenant(),
    _text("run_id", null=False),
    _text("source", null=False),
    _text("status", null=False),
    _text("error"),
    _int("items"),
    _int("changed"),
    _int("snapshot_id"),
    _text("pulled_at"),
    sa.PrimaryKeyConstraint("tenant", "run_id", "source"),
    sa.ForeignKeyConstraint(["tenant", "run_id"], ["runs.tenant", "runs.id"]),
)
cursors = sa.Table(
    "cursors",
    metadata,
    _tenant(),
    _text("source", null=False),
    _text("state", null=False),
    _text("last_ok_at"),
    _text("updated_at", null=False),
    sa.PrimaryKeyConstraint("tenant", "source"),
)
table_snapshots = sa.Table(
    "table_snapshots",
    metadata,
    _tenant(),
    _int("id", null=False),
    _text("source", null=False),
    _text("content_hash", null=False),
    _text("location", null=False),
    _text("fetched_at", null=False),
    _text("pulled_at", null=False),
    _text("columns", null=False),
    _text("notes", null=False),
    _text("kind", null=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.PrimaryKeyConstraint("tenant", "id"),
    sa.Index("table_snapshots_source", "tenant", "source", "id"),
)
items = sa.Table(
    "items",
    metadata,
    _tenant(),
    _text("source", null=False),
    _text("item_id", null=False),
    _text("content_hash", null=False),
    _text("updated_at"),
    _text("first_seen", null=False),
    _text("last_seen", null=False),
    _int("active", null=False, server_default=sa.text("1")),
    _text("payload", null=False),
    sa.PrimaryKeyConstraint("tenant", "source", "item_id"),
)
item_versions = sa.Table(
    "item_versions",
    metadata,
    sa.Column("row_no", _ROW_NO, sa.Identity(), primary_key=True),
    _tenant(),
    _text("source", null=False),
    _text("item_id", null=False),
    _text("seen_at", null=False),
    _text("run_id"),
    _text("change", null=False),
    _text("content_hash", null=False),
    _text("payload"),
    sa.Index("item_versions_item", "tenant", "source", "item_id", "seen_at"),
)
assessments = sa.Table(
    "assessments",
    metadata,
    _tenant(),
    _text("run_id", null=False),
    _text("report", null=False),
    _int("seq", null=False),
    sa.PrimaryKeyConstraint("tenant", "run_id"),
    sa.UniqueConstraint("tenant", "seq"),
    sa.ForeignKeyConstraint(["tenant", "run_id"], ["runs.tenant", "runs.id"]),
)
finding_spans = sa.Table(
    "finding_spans",
    metadata,
    sa.Column("row_no", _ROW_NO, sa.Identity(), primary_key=True),
    _tenant(),
    _text("id", null=False),
    _text("work_product", null=False),
    _text("item", null=False),
    _text("record_id"),
    _text("source"),
    _text("status", null=False),
    _text("severity"),
    _text("url"),
    _text("message"),
    _int("opened", null=False),
    _int("closed"),
    sa.Index("finding_spans_open", "tenant", "closed"),
    sa.Index("finding_spans_opened", "tenant", "opened"),
    sa.Index("finding_spans_id", "tenant", "id"),
)
push_state = sa.Table(
    "push_state",
    metadata,
    _tenant(),
    _text("source", null=False),
    _text("ticket", null=False),
    _text("comment_id"),
    _text("fingerprint"),
    _int("labelled", null=False, server_default=sa.text("0")),
    _text("updated_at", null=False),
    sa.PrimaryKeyConstraint("tenant", "source", "ticket"),
)

TABLES: tuple[str, ...] = tuple(table.name for table in metadata.sorted_tables)
"""Every table, parents before children."""

COPY_ORDER: dict[str, tuple[str, ...]] = {
    table.name: ("row_no",) if "row_no" in table.c else tuple(c.name for c in table.primary_key.columns)
    for table in metadata.sorted_tables
}
"""The order a table's rows are copied in: the order they were written (`row_no`), else their key."""


# --- SQLite: the history of a file, frozen -------------------------------------------------
# These steps are never edited: a file written by any version replays the steps it lacks.
# The fourth step's tables are written out as they were then, not derived from the
# declaration above, which may change in a later step.

_SQLITE_STEP_1 = """
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
"""
"""1: runs, cursors, snapshots, assessments."""

_SQLITE_STEP_2 = """
CREATE TABLE push_state (
    source TEXT NOT NULL, ticket TEXT NOT NULL, comment_id TEXT, fingerprint TEXT,
    labelled INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL, PRIMARY KEY (source, ticket)
);
"""
"""2: push-back state (ticket -> the comment sdbridge owns and what it said)."""

_SQLITE_STEP_3 = """
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
"""
"""3: findings kept as spans (opened in one assessed run, closed in the first run where the
finding is gone or changed) instead of a copy per run. `seq` numbers the assessed runs in
order; existing per-run copies become spans (consecutive runs with the same finding, word for
word, are one span) and the copy table goes."""

_V4_TABLES = """
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
    columns TEXT NOT NULL, notes TEXT NOT NULL, kind TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX table_snapshots_source ON table_snapshots(tenant, source, id);
CREATE TABLE items (
    tenant TEXT NOT NULL, source TEXT NOT NULL, item_id TEXT NOT NULL, content_hash TEXT NOT NULL,
    updated_at TEXT, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1,
    payload TEXT NOT NULL, PRIMARY KEY (tenant, source, item_id)
);
CREATE TABLE item_versions (
    row_no INTEGER PRIMARY KEY, tenant TEXT NOT NULL, source TEXT NOT NULL, item_id TEXT NOT NULL,
    seen_at TEXT NOT NULL, run_id TEXT, change TEXT NOT NULL, content_hash TEXT NOT NULL, payload TEXT
);
CREATE INDEX item_versions_item ON item_versions(tenant, source, item_id, seen_at);
CREATE TABLE assessments (
    tenant TEXT NOT NULL, run_id TEXT NOT NULL, report TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (tenant, run_id), UNIQUE (tenant, seq), FOREIGN KEY (tenant, run_id) REFERENCES runs(tenant, id)
);
CREATE TABLE finding_spans (
    row_no INTEGER PRIMARY KEY, tenant TEXT NOT NULL, id TEXT NOT NULL, work_product TEXT NOT NULL,
    item TEXT NOT NULL, record_id TEXT, source TEXT, status TEXT NOT NULL, severity TEXT, url TEXT, message TEXT,
    opened INTEGER NOT NULL, closed INTEGER
);
CREATE INDEX finding_spans_open ON finding_spans(tenant, closed);
CREATE INDEX finding_spans_opened ON finding_spans(tenant, opened);
CREATE INDEX finding_spans_id ON finding_spans(tenant, id);
CREATE TABLE push_state (
    tenant TEXT NOT NULL, source TEXT NOT NULL, ticket TEXT NOT NULL, comment_id TEXT, fingerprint TEXT,
    labelled INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL, PRIMARY KEY (tenant, source, ticket)
);
"""

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
"""What each table held at step 3, as the copy into step 4 reads it."""

_V3_TABLES = tuple(_V3_COLUMNS)

_SQLITE_STEP_4 = "\n".join(
    [
        "DROP INDEX table_snapshots_source; DROP INDEX item_versions_item; DROP INDEX assessments_seq;",
        "DROP INDEX finding_spans_open; DROP INDEX finding_spans_opened; DROP INDEX finding_spans_id;",
        *(f"ALTER TABLE {t} RENAME TO v3_{t};" for t in _V3_TABLES),
        _V4_TABLES,
        *(
            f"INSERT INTO {t} (tenant, {', '.join(c.split(' AS ')[-1] for c in cols.split(', '))}) "
            f"SELECT '{DEFAULT_TENANT}', {cols} FROM v3_{t};"
            for t, cols in _V3_COLUMNS.items()
        ),
        *(f"DROP TABLE v3_{t};" for t in reversed(_V3_TABLES)),
    ]
)
"""4: every row keyed by tenant; the rows a store already holds are the default tenant's (a
SQLite store is one team's). Tables are rebuilt, as SQLite cannot change a key."""

SQLITE_MIGRATIONS: list[str] = [_SQLITE_STEP_1, _SQLITE_STEP_2, _SQLITE_STEP_3, _SQLITE_STEP_4]
SCHEMA_VERSION = len(SQLITE_MIGRATIONS)
"""The SQLite schema version a store has once opened."""


# --- PostgreSQL: created from the declaration ------------------------------------------------


def _create_all(conn: Connection) -> None:
    metadata.create_all(conn)


Step = str | Callable[[Connection], None]
POSTGRES_MIGRATIONS: list[Step] = [_create_all]
"""PostgreSQL stores start at the current tables (step 1); later changes append steps."""


def steps(dialect: str) -> list[Step]:
    """The migration steps of a backend, in order (a step is SQL text or a function)."""
    return list(SQLITE_MIGRATIONS) if dialect == "sqlite" else list(POSTGRES_MIGRATIONS)
