"""Copying a one-tenant store into another as a named tenant (`sdbridge store migrate`)."""

from __future__ import annotations

import sqlalchemy as sa

from sdbridge.store.database import Database, StoreError
from sdbridge.store.schema import COPY_ORDER, cursors, metadata, runs


def copy_store(source: Database, target: Database, *, tenant: str, batch: int = 5_000) -> dict[str, int]:
    """Copy a one-tenant store's rows into another store as `tenant`, in one transaction:
    rows per table copied. The target must not hold that tenant yet."""
    counts: dict[str, int] = {}
    with source.engine.connect() as read, target.transaction() as write:
        for table in (runs, cursors):
            if write.execute(sa.select(1).select_from(table).where(table.c.tenant == tenant).limit(1)).first():
                raise StoreError(
                    f"the store {target.where} already holds tenant {tenant!r}",
                    hint="give another --tenant, or migrate into a database without it; nothing was copied",
                )
        for table in metadata.sorted_tables:
            names = [c.name for c in table.columns if c.name != "row_no"]
            order = [table.c[name] for name in COPY_ORDER[table.name]]
            result = read.execution_options(stream_results=True).execute(
                sa.select(*(table.c[n] for n in names)).order_by(*order)
            )
            counts[table.name] = 0
            while rows := result.fetchmany(batch):
                write.execute(
                    sa.insert(table), [{**dict(zip(names, row, strict=True)), "tenant": tenant} for row in rows]
                )
                counts[table.name] += len(rows)
    return counts
