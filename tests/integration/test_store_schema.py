"""The store's tables are declared once (`sdbridge.store.schema`). A SQLite file reaches them
through its frozen history of migrations, a PostgreSQL database by creating them: both must
hold exactly the declared tables, columns, keys and indexes, or a query written against the
declaration would fail on one backend only."""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa

from sdbridge.store import SQLITE_MIGRATIONS, Store
from sdbridge.store.schema import metadata


def _shape(inspector: sa.Inspector, dialect: sa.Dialect, tables) -> dict:
    """Per table: columns (name, type as the backend writes it, nullable), primary key,
    indexes, unique and foreign keys, as sets of column names."""
    shape = {}
    for name in tables:
        shape[name] = {
            "columns": {(c["name"], str(c["type"]).upper(), c["nullable"]) for c in inspector.get_columns(name)},
            "primary": tuple(inspector.get_pk_constraint(name)["constrained_columns"]),
            "indexes": {
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(name)
                if not i.get("duplicates_constraint")  # PostgreSQL's index behind a UNIQUE
            },
            "unique": {tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)},
            "foreign": {
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in inspector.get_foreign_keys(name)
            },
        }
    return shape


def _declared(dialect: sa.Dialect) -> dict:
    shape = {}
    for table in metadata.sorted_tables:
        primary = tuple(c.name for c in table.primary_key.columns)
        shape[table.name] = {
            "columns": {
                (c.name, c.type.compile(dialect).upper(), bool(c.nullable) and c.name not in primary)
                for c in table.columns
            },
            "primary": primary,
            "indexes": {(i.name, tuple(c.name for c in i.columns), bool(i.unique)) for i in table.indexes},
            "unique": {
                tuple(c.name for c in u.columns) for u in table.constraints if isinstance(u, sa.UniqueConstraint)
            },
            "foreign": {
                (
                    tuple(c.name for c in f.columns),
                    f.referred_table.name,
                    tuple(e.column.name for e in f.elements),
                )
                for f in table.foreign_key_constraints
            },
        }
    return shape


def _sqlite_nullable_key(shape: dict) -> dict:
    """SQLite reports a rowid key (`INTEGER PRIMARY KEY`) as nullable; it never holds NULL."""
    for table in shape.values():
        table["columns"] = {
            (name, kind, nullable and name not in table["primary"]) for name, kind, nullable in table["columns"]
        }
    return shape


def test_a_sqlite_store_migrated_from_its_first_schema_holds_the_declared_tables(tmp_path):
    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    db.executescript(SQLITE_MIGRATIONS[0])  # a store as the first version wrote it
    db.execute("PRAGMA user_version = 1")
    db.close()
    with Store(path) as store:
        engine = store.engine
        found = _sqlite_nullable_key(_shape(sa.inspect(engine), engine.dialect, sa.inspect(engine).get_table_names()))
        assert found == _declared(engine.dialect)


def test_a_new_sqlite_store_holds_the_declared_tables(tmp_path):
    with Store(tmp_path / "state.db") as store:
        engine = store.engine
        found = _sqlite_nullable_key(_shape(sa.inspect(engine), engine.dialect, sa.inspect(engine).get_table_names()))
        assert found == _declared(engine.dialect)


def test_a_postgresql_store_holds_the_declared_tables(postgres_server):
    with Store(postgres_server.new_database(), password=postgres_server.password) as store:
        engine = store.engine
        inspector = sa.inspect(engine)
        names = [n for n in inspector.get_table_names() if n != "sdbridge_schema"]
        assert _shape(inspector, engine.dialect, names) == _declared(engine.dialect)
