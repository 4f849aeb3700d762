"""The catalogue's database: engines and DDL generated from the declared tables.

``make_engine(url)`` gives an engine on which ``integral.scw`` is written the same way on
SQLite and PostgreSQL: on SQLite each schema is an attached database file beside the main
one (``hera.sqlite`` → ``hera.integral.sqlite``), attached on every new connection.

``create_catalog(engine, tableset)`` creates, idempotently, the schemas, tables, views and
indexes of a :class:`~tap_catalog.tableset.TableSet`; on an existing catalogue it adds the
declared columns a table lacks (ALTER TABLE ADD COLUMN, rows kept) and rebuilds SQLite's
stand-ins of views whose columns changed. The spatial index contract, which the
ADQL translator relies on, for every table declared with ``sky = [ra, dec]``:

- PostgreSQL: a GiST index on ``spoint(radians(ra), radians(dec))`` (pgsphere);
- SQLite: an R*Tree ``<schema>.<table>_sky(id, xmin, xmax, ymin, ymax, zmin, zmax)`` with
  ``id`` the table's rowid and (x, y, z) the unit vector of (ra, dec) (min == max), kept in
  step by triggers on the table, so every writer maintains it.

Views: SQLite refuses a view in one attached database that reads another, so a declared
view is, on SQLite, a table of the same columns that :func:`refresh_views` refills from the
view's definition; the loader and the ingest call it in their transaction.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from . import row_access
from .adql.translation.dialects import sqlite_functions
from .tableset import Column, Table, TableSet

log = logging.getLogger(__name__)

_SQL_TYPES = {
    "postgresql": {"boolean": "BOOLEAN", "short": "SMALLINT", "int": "INTEGER", "long": "BIGINT",
                   "float": "REAL", "double": "DOUBLE PRECISION"},
    "sqlite": {"boolean": "INTEGER", "short": "INTEGER", "int": "INTEGER", "long": "INTEGER",
               "float": "REAL", "double": "REAL"},
}


# -- engines ------------------------------------------------------------------------------
def schema_file(main: str, schema: str) -> str:
    """The file holding ``schema`` beside the SQLite database ``main``."""
    if main in ("", ":memory:"):
        return ":memory:"
    path = Path(main)
    stem = path.with_suffix("") if path.suffix in (".sqlite", ".sqlite3", ".db") else path
    return f"{stem}.{schema}.sqlite"


def make_engine(url: str, schemas: list[str] | None = None) -> Engine:
    """An engine for ``url``. On SQLite, every connection attaches one database per schema
    (``schemas``, by default those of the declared tables), runs in WAL mode with
    synchronous=NORMAL and foreign keys on, and gets the ``adql_*`` functions that the
    ADQL translator's SQLite SQL calls (:mod:`.adql.translation.dialects.sqlite_functions`)."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    if schemas is None:
        schemas = [s.name for s in TableSet.load().schemas]
    main = url.split("///", 1)[1] if "///" in url else ""
    if main and main != ":memory:":
        Path(main).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        for schema in schemas:
            cur.execute("ATTACH DATABASE ? AS " + schema, (schema_file(main, schema),))
        if main and main != ":memory:":
            for db in ["main", *schemas]:
                cur.execute(f"PRAGMA {db}.journal_mode=WAL")
                cur.execute(f"PRAGMA {db}.synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
        sqlite_functions.register(dbapi_conn)

    return engine


# -- DDL ------------------------------------------------------------------------------------
def sql_type(column: Column, dialect: str) -> str:
    """The column's SQL type: VOTable datatype and arraysize mapped for ``dialect``."""
    if column.datatype in ("char", "unicodeChar"):
        size = column.arraysize or "1"
        if dialect == "postgresql":
            # code-point order, as SQLite sorts and compares, whatever the database's locale
            return (f"VARCHAR({size})" if size.isdigit() else "TEXT") + ' COLLATE "C"'
        return "TEXT"
    return _SQL_TYPES[dialect][column.datatype]


def _q(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def create_catalog(engine: Engine, tableset: TableSet) -> None:
    """Create what ``tableset`` declares, leaving existing objects (and their rows) alone."""
    with engine.begin() as conn:
        dialect = conn.dialect.name
        if dialect == "postgresql":
            if any(t.sky for t in tableset):
                ensure_pgsphere(conn)
            for schema in tableset.schemas:
                conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {_q(conn, schema.name)}"))
        tables = [t for t in tableset if t.type != "view" or dialect == "sqlite"]
        for table in _dependency_order(tables):
            if table.type == "view":
                _drop_outdated_stand_in(conn, table)
            conn.execute(text(_create_table_sql(conn, table, tableset)))
            _add_missing_columns(conn, table)
            for sql in _index_sql(conn, table):
                conn.execute(text(sql))
        if dialect == "postgresql":
            for table in tableset:
                if table.type == "view":
                    conn.execute(text(_create_view_sql(conn, table)))
            _create_barrier_views(conn, tableset)
        else:
            refresh_views(conn, tableset)


def _existing_columns(conn: Connection, table: Table) -> dict[str, bool]:
    """The columns ``table`` has in the database, lower case, each with whether it is NOT
    NULL (empty when the table does not exist)."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text(f"PRAGMA {_q(conn, table.schema_name)}.table_info({_q(conn, table.table_name)})"))
        return {r[1].lower(): bool(r[3]) for r in rows}
    rows = conn.execute(text(
        "SELECT column_name, is_nullable FROM information_schema.columns "
        "WHERE table_schema = :schema AND table_name = :table"),
        {"schema": table.schema_name, "table": table.table_name})
    return {name.lower(): nullable == "NO" for name, nullable in rows}


def _add_missing_columns(conn: Connection, table: Table) -> None:
    """Give a table of an existing catalogue the columns declared since it was created
    (a declared NOT NULL column cannot be added to rows that exist: that one needs
    ``hera catalog init --drop`` and a new ingest)."""
    existing = _existing_columns(conn, table)
    for column in table.columns:
        if column.name.lower() in existing:
            continue
        if not column.nullable:
            raise RuntimeError(f"{table.name} lacks the NOT NULL column {column.name}: recreate the "
                               "catalogue (hera catalog init --drop) and ingest its files again")
        if_not_exists = " IF NOT EXISTS" if conn.dialect.name == "postgresql" else ""
        conn.execute(text(f"ALTER TABLE {_qualified(conn, table)} ADD COLUMN{if_not_exists} "
                          f"{_q(conn, column.name)} {sql_type(column, conn.dialect.name)}"))
        log.info("added column %s to %s", column.name, table.name)


def _drop_outdated_stand_in(conn: Connection, table: Table) -> None:
    """Drop the SQLite table that stands for a view (and its R*Tree) when its columns or
    their NOT NULL no longer match the declaration: refresh_views refills it anyway."""
    existing = _existing_columns(conn, table)
    declared = {c.name.lower(): not c.nullable for c in table.columns}
    if not existing or existing == declared:
        return
    if table.sky:
        conn.execute(text(f"DROP TABLE IF EXISTS {_q(conn, table.schema_name)}."
                          f"{_q(conn, table.table_name + '_sky')}"))
    conn.execute(text(f"DROP TABLE {_qualified(conn, table)}"))


def access_rule_problems(engine: Engine) -> list[str]:
    """What keeps the access rule of proprietary rows from working at full speed, each
    with the remedy (``hera doctor``); empty when all is well. SQLite needs nothing."""
    if engine.dialect.name != "postgresql":
        return []
    problems = []
    with engine.connect() as conn:
        for name in row_access.ROW_ACCESS:
            view = row_access.barrier_view_name(name)
            if conn.execute(text("SELECT to_regclass(:v)"), {"v": view}).scalar() is None:
                problems.append(f"the barrier view {view} is missing: run 'hera init'")
        if conn.execute(text("SELECT to_regtype('spoint')")).scalar() is None:
            problems.append("pgsphere is not installed in this database: run 'hera init'")
            return problems
        missing = row_access.missing_leakproof(conn)
    if missing:
        problems.append("cone searches over proprietary tables scan every row, because these "
                        "functions are not LEAKPROOF; a superuser runs, in this database: "
                        + " ".join(f"ALTER FUNCTION {f} LEAKPROOF;" for f in missing))
    return problems


def _create_barrier_views(conn: Connection, tableset: TableSet) -> None:
    """The security-barrier views over the tables with proprietary rows, and the
    LEAKPROOF marks that let a cone search through them use the sky index
    (:mod:`tap_catalog.row_access`)."""
    protected = [t for t in tableset if t.name.lower() in row_access.ROW_ACCESS]
    for table in protected:
        conn.execute(text(row_access.barrier_view_sql(
            table.name.lower(), [c.name for c in table.columns],
            row_access.ROW_ACCESS[table.name.lower()])))
    if any(t.sky for t in protected):
        refused = row_access.ensure_leakproof(conn)
        if refused:
            log.warning("this database role may not mark pgsphere's cone functions LEAKPROOF, "
                        "so cone searches over proprietary tables scan every row; a "
                        "superuser runs, in this database: %s (checked by 'hera doctor')",
                        " ".join(refused))


def ensure_pgsphere(conn: Connection) -> None:
    """Make pgsphere's ``spoint`` available: ``CREATE EXTENSION pg_sphere``, or, where the
    packaged script fails (Debian 12's pgsphere 1.2.0 on PostgreSQL >= 15.x stops on the
    commutators of the smoc operators kept for GAVO DaCHS), that script without those
    operators, run as plain SQL from the server's share directory."""
    if conn.execute(text("SELECT to_regtype('spoint')")).scalar() is not None:
        return
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_sphere"))
        return
    except DBAPIError as err:
        failure = err
    sharedir = conn.execute(text("SELECT setting FROM pg_config WHERE name = 'SHAREDIR'")).scalar()
    version = conn.execute(text(
        "SELECT default_version FROM pg_available_extensions WHERE name = 'pg_sphere'")).scalar()
    script_path = Path(sharedir or "", "extension", f"pg_sphere--{version}.sql")
    if not version or not script_path.is_file():
        raise failure
    script = script_path.read_text()
    script = re.sub(r"^\\echo .*$", "", script, flags=re.M)
    script = script.replace("MODULE_PATHNAME", "$libdir/pg_sphere")
    script = re.sub(r"-- a minimal set of backwards-compatible operators for GAVO DaCHS.*?(?=\n-- debugging)",
                    "", script, flags=re.S)
    conn.connection.driver_connection.execute(script)


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


def _qualified(conn: Connection, table: Table) -> str:
    return f"{_q(conn, table.schema_name)}.{_q(conn, table.table_name)}"


def _create_table_sql(conn: Connection, table: Table, tableset: TableSet) -> str:
    dialect = conn.dialect.name
    parts = [f"{_q(conn, c.name)} {sql_type(c, dialect)}{'' if c.nullable else ' NOT NULL'}"
             for c in table.columns]
    if table.primary_key and table.type != "view":
        parts.append(f"PRIMARY KEY ({', '.join(_q(conn, c) for c in table.primary_key)})")
    for fk in table.foreign_keys if table.type != "view" else ():
        target = tableset.get(fk.target_table)
        if target is None or (dialect == "sqlite" and target.schema_name != table.schema_name):
            continue  # SQLite keys stay inside one attached database; TAP_SCHEMA still lists it
        ref = _q(conn, target.table_name) if dialect == "sqlite" else _qualified(conn, target)
        parts.append(f"FOREIGN KEY ({', '.join(_q(conn, c) for c in fk.from_columns)}) "
                     f"REFERENCES {ref} ({', '.join(_q(conn, c) for c in fk.target_columns)}) "
                     "DEFERRABLE INITIALLY DEFERRED")
    return f"CREATE TABLE IF NOT EXISTS {_qualified(conn, table)} (\n  " + ",\n  ".join(parts) + "\n)"


def _index_sql(conn: Connection, table: Table) -> list[str]:
    dialect = conn.dialect.name
    schema, name = _q(conn, table.schema_name), table.table_name
    if dialect == "sqlite":
        def create(index, body):
            return f"CREATE INDEX IF NOT EXISTS {schema}.{_q(conn, index)} ON {_q(conn, name)} {body}"
    else:
        def create(index, body):
            return f"CREATE INDEX IF NOT EXISTS {_q(conn, index)} ON {schema}.{_q(conn, name)} {body}"
    pk = [c.lower() for c in table.primary_key]
    # the primary key's index already serves its first column
    sql = [create(f"{name}_{c.name}_idx", f"({_q(conn, c.name)})")
           for c in table.columns if c.indexed and not (pk and c.name.lower() == pk[0])]
    if table.sky:
        ra, dec = (_q(conn, c) for c in table.sky)
        if dialect == "postgresql":
            sql.append(create(f"{name}_sky_idx", f"USING gist (spoint(radians({ra}), radians({dec})))"))
        else:
            sql.extend(_sqlite_sky_sql(schema, name, ra, dec))
    return sql


def _sqlite_sky_sql(schema: str, name: str, ra: str, dec: str) -> list[str]:
    """The R*Tree companion of ``schema.name`` and the triggers that keep it in step."""
    sky = f"{name}_sky"

    def vector(row):
        x = f"cos(radians({row}.{dec})) * cos(radians({row}.{ra}))"
        y = f"cos(radians({row}.{dec})) * sin(radians({row}.{ra}))"
        z = f"sin(radians({row}.{dec}))"
        return f"{x}, {x}, {y}, {y}, {z}, {z}"

    insert = (f"INSERT INTO {sky} (id, xmin, xmax, ymin, ymax, zmin, zmax) "
              f"SELECT new.rowid, {vector('new')} WHERE new.{ra} IS NOT NULL AND new.{dec} IS NOT NULL;")
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {schema}.{sky} USING rtree(id, xmin, xmax, ymin, ymax, zmin, zmax)",
        f"CREATE TRIGGER IF NOT EXISTS {schema}.{sky}_insert AFTER INSERT ON {name} BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {schema}.{sky}_update AFTER UPDATE OF {ra}, {dec} ON {name} BEGIN "
        f"DELETE FROM {sky} WHERE id = old.rowid; {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {schema}.{sky}_delete AFTER DELETE ON {name} BEGIN "
        f"DELETE FROM {sky} WHERE id = old.rowid; END",
    ]


def _create_view_sql(conn: Connection, table: Table) -> str:
    columns = ", ".join(_q(conn, c.name) for c in table.columns)
    return (f"CREATE OR REPLACE VIEW {_qualified(conn, table)} ({columns}) AS\n"
            + _definition(table, conn.dialect.name))


def _definition(table: Table, dialect: str) -> str:
    definition = table.definition or {}
    if dialect not in definition:
        raise ValueError(f"view {table.name} has no definition for {dialect}")
    return definition[dialect].strip()


def refresh_views(conn: Connection, tableset: TableSet) -> None:
    """Refill, on SQLite, the tables that stand for declared views (nothing to do on
    PostgreSQL, where they are views)."""
    if conn.dialect.name != "sqlite":
        return
    for table in tableset:
        if table.type == "view":
            columns = ", ".join(_q(conn, c.name) for c in table.columns)
            conn.execute(text(f"DELETE FROM {_qualified(conn, table)}"))
            conn.execute(text(f"INSERT INTO {_qualified(conn, table)} ({columns})\n"
                              + _definition(table, "sqlite")))


def drop_catalog(engine: Engine, tableset: TableSet) -> None:
    """Drop what ``tableset`` declares (tests and ``catalog init --drop``)."""
    with engine.begin() as conn:
        dialect = conn.dialect.name
        if dialect == "postgresql":
            for name in row_access.ROW_ACCESS:
                view = ".".join(_q(conn, p) for p in row_access.barrier_view_name(name).split("."))
                conn.execute(text(f"DROP VIEW IF EXISTS {view}"))
        for table in reversed(_dependency_order(list(tableset))):
            if dialect == "postgresql" and table.type == "view":
                conn.execute(text(f"DROP VIEW IF EXISTS {_qualified(conn, table)}"))
        for table in reversed(_dependency_order(list(tableset))):
            if table.type == "view" and dialect == "postgresql":
                continue
            if table.sky and dialect == "sqlite":
                conn.execute(text(f"DROP TABLE IF EXISTS {_q(conn, table.schema_name)}."
                                  f"{_q(conn, table.table_name + '_sky')}"))
            conn.execute(text(f"DROP TABLE IF EXISTS {_qualified(conn, table)}"
                              + (" CASCADE" if dialect == "postgresql" else "")))
