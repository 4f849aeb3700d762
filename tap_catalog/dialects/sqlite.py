"""SQLite: geometry as DALI text, handled by the ``adql_*`` functions of
:mod:`.sqlite_functions` (which also give the math and the casts
PostgreSQL's behaviour); the sky index is an R*Tree of unit vectors per table.

Each schema is an attached database file beside the main one (``hera.sqlite`` →
``hera.integral.sqlite``, :func:`schema_file`), attached on every new connection. SQLite
refuses a view in one attached database that reads another, so a declared view is a
table of the same columns that :meth:`SQLite.refresh_views` refills from the view's
definition; the loader and the ingest call it in their transaction. A TAP query's
uploads are in an in-memory database attached as ``tap_upload``, its time limit a
progress handler.
"""
from __future__ import annotations

import math
import time
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Optional

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine

from ..adql import sphere
from ..adql.errors import ADQLSemanticError
from ..adql.translation.access import UNGUARDED, indexed_columns
from ..adql.translation.values import Value, literal_value, quote
from ..row_access import ROW_ACCESS, RowAccess, guarded_column, sqlite_visible_sql
from ..tableset import Table, TableSet
from . import sqlite_functions
from .base import UPLOAD_SCHEMA, Alias, Dialect, UpsertWriter, qualified, quote_name


def schema_file(main: str, schema: str) -> str:
    """The file holding ``schema`` beside the SQLite database ``main``."""
    if main in ("", ":memory:"):
        return ":memory:"
    path = Path(main)
    stem = path.with_suffix("") if path.suffix in (".sqlite", ".sqlite3", ".db") else path
    return f"{stem}.{schema}.sqlite"


class SQLite(Dialect):
    name = "sqlite"

    def xor(self, left: str, right: str) -> str:
        return f"(({left} | {right}) - ({left} & {right}))"

    def limit(self, limit: Optional[int], offset: Optional[int]) -> str:
        if limit is None and offset is not None:  # SQLite has no OFFSET without LIMIT
            return f" LIMIT -1 OFFSET {int(offset)}"
        return super().limit(limit, offset)

    def set_operation(self, op: str, all_: bool, left: str, right: str,
                      left_columns: list[str], right_columns: list[str], alias: Alias) -> str:
        """INTERSECT ALL / EXCEPT ALL, which SQLite lacks: number duplicates, then compare."""
        if not all_ or op == "UNION":
            return super().set_operation(op, all_, left, right, left_columns, right_columns,
                                         alias)
        numbered = "SELECT {cols}, row_number() OVER (PARTITION BY {cols}) AS \"_n\" FROM ({q})"
        cols = ", ".join(left_columns)
        inner = (numbered.format(cols=cols, q=left) + f" {op} "
                 + numbered.format(cols=", ".join(right_columns), q=right))
        return f"SELECT {cols} FROM ({inner}) AS {alias('a')}"

    # ---- strings ----
    def like(self, value: Value, pattern: Value, literal: Optional[str],
             case_insensitive: bool, negated: bool) -> str:
        neg = "NOT " if negated else ""
        if literal is not None:
            # SQLite's own operators run in C (and GLOB prefixes can use an index):
            # LIKE folds ASCII case, as PostgreSQL's ILIKE under the C collation;
            # GLOB is case-sensitive, its wildcards written for ADQL's
            if case_insensitive:
                return f"({value.sql} {neg}LIKE {pattern.sql})"
            return f"({value.sql} {neg}GLOB {self.string(_glob(literal))})"
        ci = 1 if case_insensitive else 0
        return f"({neg}adql_like({value.sql}, {pattern.sql}, {ci}))"

    def nocase_match(self, value: Value, pattern: Value) -> str:
        return f"adql_like({value.sql}, {pattern.sql}, 1) = 1"

    # ---- casts ----
    def cast_integer(self, sql: str, type_name: str) -> str:
        return f"adql_cast_int({sql})"

    def cast_real(self, sql: str) -> str:
        return f"adql_cast_real({sql})"

    def cast_double(self, sql: str) -> str:
        return f"adql_cast_double({sql})"

    def cast_char(self, value: Value, type_name: str, length: Optional[int]) -> str:
        pad = 1 if type_name == "CHAR" and length is not None else 0
        return f"adql_cast_char({value.sql}, {length if length is not None else -1}, {pad})"

    def cast_timestamp(self, sql: str) -> str:
        return f"adql_cast_timestamp({sql})"

    # ---- numbers ----
    def random(self) -> str:
        return "adql_rand()"

    def math(self, name: str, args: list[str]) -> str:
        return f"adql_{name.lower()}({', '.join(args)})"

    # ---- geometry ----
    def point(self, ra: str, dec: str) -> str:
        return f"adql_point({ra}, {dec})"

    def circle(self, ra: str, dec: str, radius: str) -> str:
        return f"adql_circle({ra}, {dec}, {radius})"

    def circle_around(self, center: str, radius: str) -> str:
        return f"adql_circle_p({center}, {radius})"

    def polygon(self, parts: list[str], alias: Alias) -> str:
        return "adql_polygon(" + ", ".join(parts) + ")"

    def polygon_of_points(self, points: list[str], alias: Alias) -> str:
        return "adql_polygon_p(" + ", ".join(points) + ")"

    def spatial(self, name: str, a: Value, b: Value) -> str:
        if name == "INTERSECTS" and b.geom == "point":
            a, b = b, a
        if a.geom == "point" and b.geom == "circle" and a.parts and b.parts:
            # a cone: no DALI text to build and parse for each row
            circle = [literal_value(x) for x in b.parts]
            if None not in circle:
                return _cone(a.parts, *circle)
            return f"(adql_point_in_circle({', '.join(a.parts + b.parts)}) = 1)"
        function = "adql_contains" if name == "CONTAINS" else "adql_intersects"
        return f"({function}({a.sql}, {b.sql}) = 1)"

    def geometry_equality(self, op: str, left: Value, right: Value) -> str:
        both = f"(adql_contains({left.sql}, {right.sql}) = 1 AND " \
               f"adql_contains({right.sql}, {left.sql}) = 1)"
        return both if op == "=" else f"(NOT {both})"

    def coord(self, axis: int, point: str) -> str:
        return f"adql_coord{axis}({point})"

    def area(self, geometry: str) -> str:
        return f"adql_area({geometry})"

    def circle_center(self, circle: str) -> str:
        return f"adql_centroid({circle})"

    def polygon_centroid(self, polygon: Value) -> str:
        return f"adql_centroid({polygon.sql})"

    def distance(self, a: Value, b: Value) -> str:
        if a.parts and b.parts:
            return f"adql_distance({', '.join(a.parts + b.parts)})"
        return f"adql_distance_p({a.sql}, {b.sql})"

    # ---- spatial index ----
    def cone_prefilter(self, alias_sql: str, table: Table, ra: str, dec: str, center_ra: str,
                       center_dec: str, radius: str,
                       constants: list[Optional[float]]) -> str:
        """A rowid lookup in the table's R*Tree (``<table>_sky``) of unit vectors, by the
        bounding box of the cap."""
        if None in constants:
            bounds = [f"adql_cap_bbox({center_ra}, {center_dec}, {radius}, {k})"
                      for k in range(6)]
        else:  # computed once here, not for each R*Tree node
            bounds = [repr(b) for b in sphere.cap_bbox(*constants)]
        names = ("xmin", "xmax", "ymin", "ymax", "zmin", "zmax")
        tests = []
        for axis in range(3):
            low, high = bounds[2 * axis], bounds[2 * axis + 1]
            tests.append(f"{names[2 * axis + 1]} >= {low}")
            tests.append(f"{names[2 * axis]} <= {high}")
        schema = table.schema_name
        rtree = (f"{quote(schema)}." if schema else "") + quote(table.table_name + "_sky")
        rowid = "hera_rowid" if table.name.lower() in ROW_ACCESS else "rowid"
        return f"{alias_sql}.{rowid} IN (SELECT id FROM {rtree} WHERE " + " AND ".join(tests) + ")"

    # ---- proprietary rows ----
    def visible_rows(self, table: Table, table_sql: str, access: RowAccess,
                     user_groups: frozenset, now: datetime) -> tuple[str, set[str]]:
        """SQLite has no security barrier and flattens derived tables: a derived table
        whose every column is NULL on a hidden row, so that the user's expressions,
        wherever SQLite's flattening puts them, see nothing of it. The rowid comes along
        (as ``hera_rowid``) for the sky index prefilter, and the indexed columns unguarded
        for comparisons with constants (see :mod:`..access`)."""
        visible = sqlite_visible_sql(access, user_groups, now)
        indexed = indexed_columns(table, access)
        columns = [guarded_column(c.name, access, visible, now) for c in table.columns]
        columns += [f"{quote(c)} AS {quote(UNGUARDED + c)}" for c in indexed]
        if table.sky:
            columns.append('rowid AS "hera_rowid"')
        return f"(SELECT {', '.join(columns)} FROM {table_sql} WHERE {visible})", set(indexed)

    # ---- the engine ----
    def make_engine(self, url: str, schemas: Optional[list[str]]) -> Engine:
        """Every connection attaches one database per schema, runs in WAL mode with
        synchronous=NORMAL and foreign keys on, and gets the ``adql_*`` functions that
        the translated SQL calls (:mod:`.sqlite_functions`)."""
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

    # ---- the catalogue's tables ----
    column_types = {"boolean": "INTEGER", "short": "INTEGER", "int": "INTEGER", "long": "INTEGER",
                    "float": "REAL", "double": "REAL"}
    views_are_tables = True

    def prepare_table(self, conn: Connection, table: Table) -> None:
        """Drop the table that stands for a view (and its R*Tree) when its columns or
        their NOT NULL no longer match the declaration: :meth:`refresh_views` refills it
        anyway."""
        if table.type != "view":
            return
        existing = self.existing_columns(conn, table)
        declared = {c.name.lower(): not c.nullable for c in table.columns}
        if not existing or existing == declared:
            return
        if table.sky:
            conn.execute(text(f"DROP TABLE IF EXISTS {quote_name(conn, table.schema_name)}."
                              f"{quote_name(conn, table.table_name + '_sky')}"))
        conn.execute(text(f"DROP TABLE {qualified(conn, table)}"))

    def existing_columns(self, conn: Connection, table: Table) -> dict[str, bool]:
        rows = conn.execute(text(f"PRAGMA {quote_name(conn, table.schema_name)}"
                                 f".table_info({quote_name(conn, table.table_name)})"))
        return {r[1].lower(): bool(r[3]) for r in rows}

    def foreign_key_target(self, conn: Connection, table: Table, target: Table) -> Optional[str]:
        if target.schema_name != table.schema_name:
            return None  # keys stay inside one attached database
        return quote_name(conn, target.table_name)

    def create_index_sql(self, conn: Connection, table: Table, index: str, body: str) -> str:
        return (f"CREATE INDEX IF NOT EXISTS {quote_name(conn, table.schema_name)}."
                f"{quote_name(conn, index)} ON {quote_name(conn, table.table_name)} {body}")

    def sky_index_sql(self, conn: Connection, table: Table, ra: str, dec: str) -> list[str]:
        """An R*Tree ``<schema>.<table>_sky(id, xmin, xmax, ymin, ymax, zmin, zmax)`` with
        ``id`` the table's rowid and (x, y, z) the unit vector of (ra, dec) (min == max),
        kept in step by triggers on the table, so every writer maintains it."""
        schema, name = quote_name(conn, table.schema_name), table.table_name
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

    def finish_catalog(self, conn: Connection, tableset: TableSet) -> None:
        self.refresh_views(conn, tableset)

    def refresh_views(self, conn: Connection, tableset: TableSet) -> None:
        """Refill the tables that stand for declared views."""
        for table in tableset:
            if table.type == "view":
                columns = ", ".join(quote_name(conn, c.name) for c in table.columns)
                conn.execute(text(f"DELETE FROM {qualified(conn, table)}"))
                conn.execute(text(f"INSERT INTO {qualified(conn, table)} ({columns})\n"
                                  + self.view_definition(table)))

    def drop_table_sql(self, conn: Connection, table: Table) -> list[str]:
        sky = ([f"DROP TABLE IF EXISTS {quote_name(conn, table.schema_name)}."
                f"{quote_name(conn, table.table_name + '_sky')}"] if table.sky else [])
        return sky + super().drop_table_sql(conn, table)

    # ---- a TAP query's session ----
    marker = "?"

    def begin_session(self, raw) -> None:
        # no transaction left open by the driver: ATTACH and DETACH refuse to run in one
        raw.driver_connection.rollback()

    def prepare_uploads(self, cur) -> None:
        cur.execute(f"ATTACH DATABASE ':memory:' AS {UPLOAD_SCHEMA}")

    def create_upload(self, cur, name: str, columns: str) -> str:
        target = f"{UPLOAD_SCHEMA}.{quote(name)}"
        cur.execute(f"CREATE TABLE {target} ({columns})")
        return target

    def set_deadline(self, raw, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        raw.driver_connection.set_progress_handler(lambda: time.monotonic() > deadline, 20_000)

    def open_cursor(self, raw):
        cursor = raw.cursor()
        sqlite_functions.forget_failure()
        return cursor

    def end_session(self, raw, uploaded: bool) -> None:
        raw.driver_connection.set_progress_handler(None, 0)
        if uploaded:
            raw.driver_connection.execute(f"DETACH DATABASE {UPLOAD_SCHEMA}")

    # ---- bulk writes ----
    def bulk_insert(self, conn: Connection, table: str, columns: list[str], rows: Iterable[dict],
                    batch: int, progress: Callable[[int], None]) -> int:
        """executemany in batches of ``batch`` rows."""
        insert = text(f"INSERT INTO {table} ({', '.join(columns)}) "
                      f"VALUES ({', '.join(':' + c for c in columns)})")
        n, chunk = 0, []
        for row in rows:
            chunk.append({c: row.get(c) for c in columns})
            if len(chunk) >= batch:
                conn.execute(insert, chunk)
                n += len(chunk)
                progress(len(chunk))
                chunk = []
        if chunk:
            conn.execute(insert, chunk)
            n += len(chunk)
        return n

    def upsert_writer(self, conn: Connection, table: str, columns: list[str], key: str,
                      version: str, on_conflict: str) -> UpsertWriter:
        return _ExecutemanyUpsert(conn, table, columns, on_conflict)

    def time_not_after(self, left: str, right: str) -> str:
        return f"{left} <= {right}"  # ISO-8601 text compares in time order


class _ExecutemanyUpsert(UpsertWriter):
    """Upserts each batch with executemany."""

    def __init__(self, conn: Connection, table: str, columns: list[str], on_conflict: str):
        self.conn = conn
        self.sql = text(f"INSERT INTO {table} AS t ({', '.join(quote_name(conn, c) for c in columns)}) "
                        f"VALUES ({', '.join(':' + c for c in columns)}) " + on_conflict)

    def write(self, rows: list[dict]) -> None:
        self.conn.execute(self.sql, rows)


def _glob(pattern: str) -> str:
    """An ADQL LIKE pattern (``%``, ``_``, no escape character) as a SQLite GLOB pattern."""
    special = {"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}
    return "".join(special.get(ch, ch) for ch in pattern)


def _cone(point: list[str], ra: float, dec: float, radius: float) -> str:
    """Point within a constant circle, in SQLite's own arithmetic: the haversine of the
    separation against that of the radius plus pgsphere's tolerance (accurate for tiny
    circles; radii stop at 90 deg)."""
    if not 0 <= radius <= 90:
        raise ADQLSemanticError(f"a CIRCLE radius must be between 0 and 90 degrees, "
                                f"not {radius:g}")
    half = math.pi / 360  # degrees to radians, halved
    limit = math.sin((math.radians(radius) + sphere.EPSILON) / 2) ** 2
    p_ra, p_dec = point
    return (f"(power(sin(({p_dec} - {dec!r}) * {half!r}), 2) + cos(radians({p_dec})) * "
            f"{math.cos(math.radians(dec))!r} * power(sin(({p_ra} - {ra!r}) * {half!r}), 2) "
            f"<= {limit!r})")
