"""The store: what a nightly job needs to be unattended and replayable, for one tenant.

Two backends behind one API, both through SQLAlchemy Core:
- SQLite (the default): one file, `.sdbridge/state.db`, WAL, mode 0600, for a single team;
- PostgreSQL (`store: {url: postgresql://…}` or `SDBRIDGE_STORE_URL`), shared by the runs of
  many tenants (client teams), each run locked per tenant with an advisory lock.

Every row is keyed by its tenant (`tenant:` in the config, default `default`), and every
statement reads the store's own tenant only (`Database.mine`), so tenants sharing a database
never see each other. A source's snapshot and its cursor advance are written in one
transaction: a run killed at any point leaves the store as it was before that source's pull.

Its parts, one concern each, make up `Store`:
- `schema`: the tables, declared once, and how a store reaches them (migrations);
- `database`: opening, schema version, locks, and the statements everything runs through;
- `runs`: runs, per-source outcomes, cursors;
- `snapshots`: file sources' tables and network sources' items, with their history;
- `findings`: each run's assessment and the findings as spans;
- `pushstate`: push-back's state per ticket;
- `copy`: copying a store into another as a tenant.
"""

from __future__ import annotations

from sdbridge.store.copy import copy_store
from sdbridge.store.database import StoreError, display_url
from sdbridge.store.findings import Findings
from sdbridge.store.pushstate import PushRow, PushStates
from sdbridge.store.runs import RunDetail, RunRecord, RunSource
from sdbridge.store.schema import SCHEMA_VERSION, SQLITE_MIGRATIONS, TABLES
from sdbridge.store.snapshots import Snapshot, Snapshots
from sdbridge.tenants import DEFAULT_TENANT, TENANT_PATTERN, valid_tenant
from sdbridge.urls import is_url


class Store(Snapshots, Findings, PushStates):
    """One tenant's view of a store: a SQLite file (`location` a path) or a PostgreSQL
    database (`location` a `postgresql://` URL; `password`, when given, is used instead of
    one in the URL or libpq's own `PGPASSWORD`/`.pgpass`)."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def as_tenant(self, tenant: str) -> Store:
        """The same store seen as another tenant (sharing the connection pool)."""
        if not valid_tenant(tenant):
            raise StoreError(f"{tenant!r} is not a tenant id")
        other = object.__new__(Store)
        other.__dict__.update(self.__dict__)
        other.tenant = tenant
        return other


__all__ = [
    "DEFAULT_TENANT",
    "SCHEMA_VERSION",
    "SQLITE_MIGRATIONS",
    "TABLES",
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
