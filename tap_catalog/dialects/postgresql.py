"""PostgreSQL with pgsphere: geometry as ``spoint`` / ``scircle`` / ``spoly`` (radians),
output as DALI arrays of degrees; the sky index is a GiST index on
``spoint(radians(ra), radians(dec))``; proprietary rows are read through the tables'
security-barrier views. A TAP query's uploads and time limit belong to its transaction
(temporary tables, ``SET LOCAL statement_timeout``); its rows come from a server-side
cursor. Bulk writes COPY."""
from __future__ import annotations

import logging
import math
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Optional

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from .. import row_access
from ..adql.errors import ADQLSemanticError
from ..adql.translation.values import Value, quote
from ..row_access import RowAccess, barrier_view_name, settings_sql
from ..tableset import Column, Table, TableSet
from .base import Alias, Dialect, UpsertWriter, qualified, quote_name

#: rows per fetch from a server-side cursor: what a query's result holds in memory at most
FETCH_ROWS = 2000
log = logging.getLogger(__name__)


class PostgreSQL(Dialect):
    name = "postgresql"

    # ---- literals and plain expressions ----
    def string(self, value: str) -> str:
        quoted = super().string(value)
        if "\\" in value:
            # an E'' literal reads the same whatever standard_conforming_strings says
            return "E" + quoted.replace("\\", "\\\\")
        return quoted

    def double(self, text: str) -> str:
        return f"CAST({text} AS DOUBLE PRECISION)"

    def read_column(self, sql: str, datatype: str) -> str:
        if datatype == "boolean":
            return f"CAST({sql} AS INTEGER)"  # ADQL has no booleans: 1 and 0, as on SQLite
        return sql

    def as_text(self, value: Value) -> str:
        if value.column.datatype not in ("char", "unicodeChar"):
            return f"CAST({value.sql} AS TEXT)"
        return value.sql

    def divide(self, left: str, right: str) -> str:
        return f"({left} / NULLIF({right}, 0))"  # division by zero is NULL, as on SQLite

    def xor(self, left: str, right: str) -> str:
        return f"({left} # {right})"

    def avg_argument(self, sql: str) -> str:
        return f"CAST({sql} AS DOUBLE PRECISION)"

    def order_term(self, sql: str, datatype: str, descending: bool, collate: bool) -> str:
        """The declared columns have the C collation (see :mod:`tap_catalog.database`), and
        expressions over them inherit it; an explicit COLLATE is added only to expressions
        that are not output columns (a COLLATE on an output name would turn it into an
        expression over the input columns, ambiguous in a self-join)."""
        if collate and datatype in ("char", "unicodeChar"):
            sql += ' COLLATE "C"'
        return super().order_term(sql, datatype, descending, collate)

    # ---- strings ----
    def like(self, value: Value, pattern: Value, literal: Optional[str],
             case_insensitive: bool, negated: bool) -> str:
        op = "ILIKE" if case_insensitive else "LIKE"
        neg = "NOT " if negated else ""
        return f"({self.as_text(value)} {neg}{op} {self.as_text(pattern)} ESCAPE '')"

    def nocase_match(self, value: Value, pattern: Value) -> str:
        return f"{self.as_text(value)} ILIKE {self.as_text(pattern)} ESCAPE ''"

    # ---- casts ----
    def cast_integer(self, sql: str, type_name: str) -> str:
        return f"CAST({sql} AS {type_name})"

    def cast_real(self, sql: str) -> str:
        # the float4 value as a double, exactly, as SQLite's adql_cast_real gives it
        return f"CAST(CAST({sql} AS REAL) AS DOUBLE PRECISION)"

    def cast_double(self, sql: str) -> str:
        return f"CAST({sql} AS DOUBLE PRECISION)"

    def cast_char(self, value: Value, type_name: str, length: Optional[int]) -> str:
        pg_type = ("VARCHAR" if length is None or type_name == "VARCHAR" else "CHAR") + (
            f"({length})" if length is not None else "")
        source = f"CAST({value.sql} AS TEXT)" if value.column.datatype == "double" else value.sql
        return f"CAST({source} AS {pg_type})"

    def cast_timestamp(self, sql: str) -> str:
        return f"CAST({sql} AS TIMESTAMP)"

    # ---- numbers ----
    def random(self) -> str:
        return "random()"

    def math(self, name: str, args: list[str]) -> str:
        if name in ("ROUND", "TRUNCATE"):
            function = "round" if name == "ROUND" else "trunc"
            places = f"CAST({args[1]} AS INTEGER)" if len(args) == 2 else "0"
            return (f"CAST({function}(CAST({args[0]} AS NUMERIC), {places}) "
                    f"AS DOUBLE PRECISION)")
        if name == "MOD":
            return (f"CAST(mod(CAST({args[0]} AS NUMERIC), CAST({args[1]} AS NUMERIC)) "
                    f"AS DOUBLE PRECISION)")
        function = {"LOG": "ln", "LOG10": "log", "CEILING": "ceiling"}.get(name, name.lower())
        doubles = [f"CAST({a} AS DOUBLE PRECISION)" for a in args]
        return f"{function}({', '.join(doubles)})"

    # ---- geometry ----
    def point(self, ra: str, dec: str) -> str:
        return f"spoint(radians({ra}), radians({dec}))"

    def circle(self, ra: str, dec: str, radius: str) -> str:
        return f"scircle(spoint(radians({ra}), radians({dec})), radians({radius}))"

    def circle_around(self, center: str, radius: str) -> str:
        return f"scircle({center}, radians({radius}))"

    def polygon(self, parts: list[str], alias: Alias) -> str:
        points = [self.point(parts[i], parts[i + 1]) for i in range(0, len(parts), 2)]
        return self.polygon_of_points(points, alias)

    def polygon_of_points(self, points: list[str], alias: Alias) -> str:
        rows = ", ".join(f"({i}, {p})" for i, p in enumerate(points))
        name = alias("v")
        return (f"(SELECT spoly({name}.p ORDER BY {name}.i) FROM (VALUES {rows}) "
                f"AS {name}(i, p))")

    def spatial(self, name: str, a: Value, b: Value) -> str:
        if name == "CONTAINS" or "point" in (a.geom, b.geom):
            if name == "INTERSECTS" and b.geom == "point":
                a, b = b, a
            if a.geom == "point" and b.geom == "point":
                return f"({a.sql} = {b.sql})"
            return f"({a.sql} @ {b.sql})"
        return f"({a.sql} && {b.sql})"

    def geometry_equality(self, op: str, left: Value, right: Value) -> str:
        return f"({left.sql} {'=' if op == '=' else '<>'} {right.sql})"

    def coord(self, axis: int, point: str) -> str:
        return f"degrees({'long' if axis == 1 else 'lat'}({point}))"

    def area(self, geometry: str) -> str:
        return f"(area({geometry}) * {repr((180 / math.pi) ** 2)})"

    def circle_center(self, circle: str) -> str:
        return f"center({circle})"

    def polygon_centroid(self, polygon: Value) -> str:
        if polygon.parts is None:
            raise ADQLSemanticError("CENTROID of a polygon column is not supported on this "
                                    "database; give the polygon's vertices")
        parts = polygon.parts
        vertices = [(parts[i], parts[i + 1]) for i in range(0, len(parts), 2)]
        x = " + ".join(f"cos(radians({d})) * cos(radians({a}))" for a, d in vertices)
        y = " + ".join(f"cos(radians({d})) * sin(radians({a}))" for a, d in vertices)
        z = " + ".join(f"sin(radians({d}))" for _, d in vertices)
        return f"spoint(atan2({y}, {x}), atan2({z}, sqrt(power({x}, 2) + power({y}, 2))))"

    def distance(self, a: Value, b: Value) -> str:
        return f"degrees({a.sql} <-> {b.sql})"

    def output(self, value: Value, alias: Alias) -> str:
        """pgsphere's geometries as arrays of degrees (a constructed one from its own
        numbers, NULL if any is)."""
        if not value.geom:
            return value.sql
        if value.parts is not None:
            nulls = " OR ".join(f"{p} IS NULL" for p in value.parts)
            return f"(CASE WHEN {nulls} THEN NULL ELSE ARRAY[{', '.join(value.parts)}] END)"
        g = value.sql
        if value.geom == "point":
            return f"ARRAY[degrees(long({g})), degrees(lat({g}))]"
        if value.geom == "circle":
            return (f"ARRAY[degrees(long(center({g}))), degrees(lat(center({g}))), "
                    f"degrees(radius({g}))]")
        name = alias("r")
        return (f"(SELECT array_agg(degrees(CAST({name}.m[1] AS DOUBLE PRECISION)) "
                f"ORDER BY {name}.n) FROM regexp_matches(CAST({g} AS TEXT), "
                f"'[-+0-9.eE]+', 'g') WITH ORDINALITY AS {name}(m, n))")

    # ---- spatial index ----
    def prefilters_cone(self, is_distance: bool) -> bool:
        """CONTAINS is already written with pgsphere's ``@``, which the GiST index serves;
        DISTANCE is not."""
        return is_distance

    def cone_prefilter(self, alias_sql: str, table: Table, ra: str, dec: str, center_ra: str,
                       center_dec: str, radius: str,
                       constants: list[Optional[float]]) -> str:
        """pgsphere's ``@``, which the GiST index on ``spoint(radians(ra), radians(dec))``
        serves."""
        return (f"(spoint(radians({ra}), radians({dec})) @ "
                f"scircle(spoint(radians({center_ra}), radians({center_dec})), "
                f"radians({radius})))")

    # ---- proprietary rows ----
    def visible_rows(self, table: Table, table_sql: str, access: RowAccess,
                     user_groups: frozenset, now: datetime) -> tuple[str, set[str]]:
        """The table's security-barrier view, which reads the groups and the time from
        the settings of :meth:`access_setup`."""
        view = barrier_view_name(table.name.lower())
        return ".".join(quote(p) for p in view.split(".")), set()

    def access_setup(self, user_groups: frozenset, now: datetime) -> list[str]:
        return [settings_sql(user_groups, now)]

    # ---- the catalogue's tables ----
    column_types = {"boolean": "BOOLEAN", "short": "SMALLINT", "int": "INTEGER", "long": "BIGINT",
                    "float": "REAL", "double": "DOUBLE PRECISION"}

    def char_type(self, size: str) -> str:
        # code-point order, as SQLite sorts and compares, whatever the database's locale
        return (f"VARCHAR({size})" if size.isdigit() else "TEXT") + ' COLLATE "C"'

    def prepare_catalog(self, conn: Connection, tableset: TableSet) -> None:
        """pgsphere (for the sky indexes) and the schemas."""
        if any(t.sky for t in tableset):
            ensure_pgsphere(conn)
        for schema in tableset.schemas:
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quote_name(conn, schema.name)}"))

    def add_column_sql(self, conn: Connection, table: Table, column: Column) -> str:
        return (f"ALTER TABLE {qualified(conn, table)} ADD COLUMN IF NOT EXISTS "
                f"{quote_name(conn, column.name)} {self.column_type(column)}")

    def sky_index_sql(self, conn: Connection, table: Table, ra: str, dec: str) -> list[str]:
        """A GiST index on ``spoint(radians(ra), radians(dec))`` (pgsphere)."""
        return [self.create_index_sql(conn, table, f"{table.table_name}_sky_idx",
                                      f"USING gist (spoint(radians({ra}), radians({dec})))")]

    def finish_catalog(self, conn: Connection, tableset: TableSet) -> None:
        """The declared views, then the security-barrier views over the tables with
        proprietary rows and the LEAKPROOF marks that let a cone search through them use
        the sky index (:mod:`tap_catalog.row_access`)."""
        for table in tableset:
            if table.type == "view":
                columns = ", ".join(quote_name(conn, c.name) for c in table.columns)
                conn.execute(text(f"CREATE OR REPLACE VIEW {qualified(conn, table)} ({columns}) AS\n"
                                  + self.view_definition(table)))
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

    def access_rule_problems(self, engine: Engine) -> list[str]:
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

    def drop_access_rules(self, conn: Connection) -> None:
        for name in row_access.ROW_ACCESS:
            view = ".".join(quote_name(conn, p) for p in row_access.barrier_view_name(name).split("."))
            conn.execute(text(f"DROP VIEW IF EXISTS {view}"))

    def drop_table_sql(self, conn: Connection, table: Table) -> list[str]:
        return [f"DROP TABLE IF EXISTS {qualified(conn, table)} CASCADE"]

    # ---- a TAP query's session ----
    marker = "%s"

    def upload_sql_name(self, name: str) -> Optional[str]:
        return f"pg_temp.{name}"

    def create_upload(self, cur, name: str, columns: str) -> str:
        cur.execute(f"CREATE TEMPORARY TABLE {quote(name)} ({columns}) ON COMMIT DROP")
        return quote(name)

    def set_deadline(self, raw, seconds: float) -> None:
        with raw.cursor() as cur:  # for this transaction only
            cur.execute(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")

    def open_cursor(self, raw):
        cursor = raw.cursor(name="tap")  # server side: rows come in batches
        cursor.itersize = FETCH_ROWS
        return cursor

    # ---- bulk writes ----
    def bulk_insert(self, conn: Connection, table: str, columns: list[str], rows: Iterable[dict],
                    batch: int, progress: Callable[[int], None]) -> int:
        """One COPY; ``progress`` hears of every 5,000 rows."""
        quoted = ", ".join(quote_name(conn, c) for c in columns)
        cursor = conn.connection.driver_connection.cursor()
        n = 0
        with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row.get(c) for c in columns])
                n += 1
                if n % 5000 == 0:
                    progress(5000)
        return n

    def upsert_writer(self, conn: Connection, table: str, columns: list[str], key: str,
                      version: str, on_conflict: str) -> UpsertWriter:
        return _CopyUpsert(conn, table, columns, key, version, on_conflict)


class _CopyUpsert(UpsertWriter):
    """COPYs the batches of a file into a temporary table, then upserts them in one
    statement, the newest version of each key first."""

    def __init__(self, conn: Connection, table: str, columns: list[str], key: str, version: str,
                 on_conflict: str):
        self.conn, self.table, self.columns = conn, table, columns
        self.key, self.version, self.on_conflict = key, version, on_conflict
        self.quoted = ", ".join(quote_name(conn, c) for c in columns)
        self.staging = f"{table.split('.')[-1]}_ingest_{int(time.time() * 1000)}"
        conn.execute(text(f"CREATE TEMPORARY TABLE {self.staging} (LIKE {table}) ON COMMIT DROP"))

    def write(self, rows: list[dict]) -> None:
        cursor = self.conn.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {self.staging} ({self.quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in self.columns])

    def finish(self) -> None:
        self.conn.execute(text(
            f"INSERT INTO {self.table} AS t ({self.quoted}) "
            f"SELECT DISTINCT ON ({self.key}) {self.quoted} FROM {self.staging} "
            f"ORDER BY {self.key}, {self.version} DESC " + self.on_conflict))
        self.conn.execute(text(f"TRUNCATE {self.staging}"))


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
