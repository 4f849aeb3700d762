"""The catalogue's database: engines and DDL generated from the declared tables.

``make_engine(url)`` gives an engine on which ``integral.scw`` is written the same way on
every database (on SQLite each schema is an attached database file beside the main one).

``create_catalog(engine, tableset)`` creates, idempotently, the schemas, tables, views and
indexes of a :class:`~tap_catalog.tableset.TableSet`; on an existing catalogue it adds the
declared columns a table lacks (ALTER TABLE ADD COLUMN, rows kept) and rebuilds the
stand-ins of views whose columns changed where views are tables. Every table declared
with ``sky = [ra, dec]`` gets the spatial index that its database's ADQL translation
relies on (a GiST index on PostgreSQL, an R*Tree on SQLite).

What a database does its own way is asked of its dialect (:mod:`tap_catalog.dialects`);
this module holds what is the same on all: the order of the statements, the tables'
columns, keys and indexes.
"""
from __future__ import annotations

import logging

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url

from .dialects import DIALECTS, Dialect, dialect_of
from .dialects.base import qualified, quote_name
from .tableset import Table, TableSet

log = logging.getLogger(__name__)


def make_engine(url: str, schemas: list[str] | None = None) -> Engine:
    """An engine for ``url`` on which the tables of each schema of ``schemas`` (by default
    those of the declared tables) are written ``schema.table``."""
    dialect = DIALECTS.get(make_url(url).get_backend_name())
    if dialect is None:  # a database Hera has no dialect for: SQLAlchemy says what it lacks
        return create_engine(url, pool_pre_ping=True)
    return dialect.make_engine(url, schemas)


def create_catalog(engine: Engine, tableset: TableSet) -> None:
    """Create what ``tableset`` declares, leaving existing objects (and their rows) alone."""
    with engine.begin() as conn:
        dialect = dialect_of(conn)
        dialect.prepare_catalog(conn, tableset)
        tables = [t for t in tableset if t.type != "view" or dialect.views_are_tables]
        for table in _dependency_order(tables):
            dialect.prepare_table(conn, table)
            conn.execute(text(_create_table_sql(conn, dialect, table, tableset)))
            _add_missing_columns(conn, dialect, table)
            for sql in _index_sql(conn, dialect, table):
                conn.execute(text(sql))
        dialect.finish_catalog(conn, tableset)


def _add_missing_columns(conn: Connection, dialect: Dialect, table: Table) -> None:
    """Give a table of an existing catalogue the columns declared since it was created
    (a declared NOT NULL column cannot be added to rows that exist: that one needs
    ``hera catalog init --drop`` and a new ingest)."""
    existing = dialect.existing_columns(conn, table)
    for column in table.columns:
        if column.name.lower() in existing:
            continue
        if not column.nullable:
            raise RuntimeError(f"{table.name} lacks the NOT NULL column {column.name}: recreate the "
                               "catalogue (hera catalog init --drop) and ingest its files again")
        conn.execute(text(dialect.add_column_sql(conn, table, column)))
        log.info("added column %s to %s", column.name, table.name)


def access_rule_problems(engine: Engine) -> list[str]:
    """What keeps the access rule of proprietary rows from working at full speed, each
    with the remedy (``hera doctor``); empty when all is well."""
    return dialect_of(engine).access_rule_problems(engine)


def _dependency_order(tables: list[Table]) -> list[Table]:
    """Referenced tables before the tables whose foreign keys point at them."""
    names = {t.name.lower() for t in tables}
    done, ordered = set(), []

    def visit(table, seen=()):
        if table.name.lower() in done or table.name.lower() in seen:
            return
        for fk in table.foreign_keys:
            target = fk.target_table.lower()
            if target in names and target != table.name.lower():
                visit(next(t for t in tables if t.name.lower() == target), seen + (table.name.lower(),))
        done.add(table.name.lower())
        ordered.append(table)

    for t in tables:
        visit(t)
    return ordered


def _create_table_sql(conn: Connection, dialect: Dialect, table: Table, tableset: TableSet) -> str:
    parts = [f"{quote_name(conn, c.name)} {dialect.column_type(c)}{'' if c.nullable else ' NOT NULL'}"
             for c in table.columns]
    if table.primary_key and table.type != "view":
        parts.append(f"PRIMARY KEY ({', '.join(quote_name(conn, c) for c in table.primary_key)})")
    for fk in table.foreign_keys if table.type != "view" else ():
        target = tableset.get(fk.target_table)
        ref = dialect.foreign_key_target(conn, table, target) if target is not None else None
        if ref is None:
            continue  # TAP_SCHEMA still lists it
        parts.append(f"FOREIGN KEY ({', '.join(quote_name(conn, c) for c in fk.from_columns)}) "
                     f"REFERENCES {ref} ({', '.join(quote_name(conn, c) for c in fk.target_columns)}) "
                     "DEFERRABLE INITIALLY DEFERRED")
    return f"CREATE TABLE IF NOT EXISTS {qualified(conn, table)} (\n  " + ",\n  ".join(parts) + "\n)"


def _index_sql(conn: Connection, dialect: Dialect, table: Table) -> list[str]:
    name = table.table_name
    pk = [c.lower() for c in table.primary_key]
    # the primary key's index already serves its first column
    sql = [dialect.create_index_sql(conn, table, f"{name}_{c.name}_idx", f"({quote_name(conn, c.name)})")
           for c in table.columns if c.indexed and not (pk and c.name.lower() == pk[0])]
    if table.sky:
        ra, dec = (quote_name(conn, c) for c in table.sky)
        sql.extend(dialect.sky_index_sql(conn, table, ra, dec))
    return sql


def refresh_views(conn: Connection, tableset: TableSet) -> None:
    """Bring the declared views up to date where they are tables that stand for views
    (SQLite; the loader and the ingest call it in their transaction)."""
    dialect_of(conn).refresh_views(conn, tableset)


def drop_catalog(engine: Engine, tableset: TableSet) -> None:
    """Drop what ``tableset`` declares (tests and ``catalog init --drop``)."""
    with engine.begin() as conn:
        dialect = dialect_of(conn)
        dialect.drop_access_rules(conn)
        tables = list(reversed(_dependency_order(list(tableset))))
        if not dialect.views_are_tables:
            for table in tables:
                if table.type == "view":
                    conn.execute(text(f"DROP VIEW IF EXISTS {qualified(conn, table)}"))
        for table in tables:
            if table.type == "view" and not dialect.views_are_tables:
                continue
            for sql in dialect.drop_table_sql(conn, table):
                conn.execute(text(sql))
