"""The interface of a database dialect: everything Hera does differently on one database
than on another.

- **translation**: the translator decides what a query means (names, scopes, types, result columns) and asks
its :class:`Dialect` how to spell each piece of SQL whose spelling or behaviour differs
between databases. Each method's docstring states the behaviour every dialect must give,
so that every database returns the same rows for the same query (docs/adql.md).
- **engine**: how an engine is made (:mod:`tap_catalog.database`);
- **catalogue**: the DDL of the declared tables, views, indexes and access rules
  (:mod:`tap_catalog.database`);
- **query session**: a TAP query's own connection, its uploads, time limit and cursor
  (:mod:`tap_catalog.query`);
- **bulk writes**: how ingest and the demo generator write many rows
  (:mod:`tap_catalog.ingest`, :mod:`tap_catalog.demo`).

The defaults are plain standard SQL; a dialect overrides what its database does otherwise.

A dialect holds no state of its own: what belongs to one translation (the aliases in use),
one connection or one query comes in as arguments, such as ``alias``, the translator's
allocator of fresh table aliases, or ``conn``, an SQLAlchemy connection.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Callable, Iterable, Optional

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

from ..adql.translation.values import Value
from ..row_access import RowAccess
from ..tableset import Column, Table, TableSet

#: the translator's allocator of a fresh, quoted table alias from a base name
Alias = Callable[[str], str]

#: the schema of a TAP query's uploaded tables (ADQL's TAP_UPLOAD)
UPLOAD_SCHEMA = "tap_upload"


def quote_name(conn: Connection, name: str) -> str:
    """An identifier as the database of ``conn`` quotes it (only where it must)."""
    return conn.dialect.identifier_preparer.quote(name)


def qualified(conn: Connection, table: Table) -> str:
    """The declared table's ``schema.table``, quoted for ``conn``."""
    return f"{quote_name(conn, table.schema_name)}.{quote_name(conn, table.table_name)}"


class Dialect(ABC):
    """How ADQL is written in one database's SQL."""

    #: SQLAlchemy's name of the database (``engine.dialect.name``)
    name: str

    # ---- literals and plain expressions ----
    def string(self, value: str) -> str:
        """A string literal (the translator has refused NUL characters)."""
        return "'" + value.replace("'", "''") + "'"

    def double(self, text: str) -> str:
        """A double-precision literal from Python's ``repr`` of a finite float."""
        return text

    def read_column(self, sql: str, datatype: str) -> str:
        """A declared column as ADQL reads it: booleans are 1 and 0 (ADQL has none)."""
        return sql

    def as_text(self, value: Value) -> str:
        """``value`` as text, for string operators (``||``, LIKE, LOWER, UPPER)."""
        return value.sql

    def divide(self, left: str, right: str) -> str:
        """``left / right``; a division by zero is NULL, not an error."""
        return f"({left} / {right})"

    @abstractmethod
    def xor(self, left: str, right: str) -> str:
        """Bitwise exclusive or of two integers."""

    def avg_argument(self, sql: str) -> str:
        """The argument of AVG, so that the average of integers is not truncated."""
        return sql

    # ---- ordering and row counts ----
    def order_term(self, sql: str, datatype: str, descending: bool, collate: bool) -> str:
        """One ORDER BY term: strings in code-point order, NULLs last ascending and first
        descending. ``collate`` is false for output columns, which must stay plain names."""
        return sql + (" DESC NULLS FIRST" if descending else " ASC NULLS LAST")

    def limit(self, limit: Optional[int], offset: Optional[int]) -> str:
        """The LIMIT / OFFSET clause (empty when neither is given)."""
        sql = f" LIMIT {int(limit)}" if limit is not None else ""
        if offset is not None:
            sql += f" OFFSET {int(offset)}"
        return sql

    def set_operation(self, op: str, all_: bool, left: str, right: str,
                      left_columns: list[str], right_columns: list[str], alias: Alias) -> str:
        """``left op [ALL] right`` (UNION, INTERSECT, EXCEPT) of two operands whose
        output columns are named ``left_columns`` and ``right_columns`` (quoted)."""
        return f"{left} {op}{' ALL' if all_ else ''} {right}"

    # ---- strings ----
    @abstractmethod
    def like(self, value: Value, pattern: Value, literal: Optional[str],
             case_insensitive: bool, negated: bool) -> str:
        """``value [NOT] LIKE / ILIKE pattern``: ``%`` and ``_`` wildcards, no escape
        character, ILIKE folding ASCII case only. ``literal`` is the pattern's text when
        the user wrote a string literal (None otherwise)."""

    @abstractmethod
    def nocase_match(self, value: Value, pattern: Value) -> str:
        """The boolean of ``ivo_nocasematch(value, pattern)``: ILIKE."""

    # ---- casts ----
    @abstractmethod
    def cast_integer(self, sql: str, type_name: str) -> str:
        """CAST to SMALLINT, INTEGER or BIGINT: rounds half to even, fails on text that is
        not a number and on overflow."""

    @abstractmethod
    def cast_real(self, sql: str) -> str:
        """CAST to REAL: the single-precision value, returned as a double exactly."""

    @abstractmethod
    def cast_double(self, sql: str) -> str:
        """CAST to DOUBLE PRECISION."""

    @abstractmethod
    def cast_char(self, value: Value, type_name: str, length: Optional[int]) -> str:
        """CAST to CHAR(n) (blank-padded) or VARCHAR[(n)] (truncated to n)."""

    @abstractmethod
    def cast_timestamp(self, sql: str) -> str:
        """CAST to TIMESTAMP."""

    # ---- numbers ----
    @abstractmethod
    def random(self) -> str:
        """RAND(): a double in [0, 1)."""

    @abstractmethod
    def math(self, name: str, args: list[str]) -> str:
        """The ADQL mathematical function ``name`` (ABS … TRUNCATE, but PI and RAND) as a
        double; ROUND halves away from zero, MOD takes the sign of the dividend."""

    # ---- geometry: constructors ----
    @abstractmethod
    def point(self, ra: str, dec: str) -> str:
        """POINT(ra, dec), degrees, in the dialect's representation of geometries."""

    @abstractmethod
    def circle(self, ra: str, dec: str, radius: str) -> str:
        """CIRCLE(ra, dec, radius), degrees."""

    @abstractmethod
    def circle_around(self, center: str, radius: str) -> str:
        """CIRCLE(point, radius) around a computed point."""

    @abstractmethod
    def polygon(self, parts: list[str], alias: Alias) -> str:
        """POLYGON from its vertices' coordinates (ra1, dec1, ra2, dec2, …, degrees)."""

    @abstractmethod
    def polygon_of_points(self, points: list[str], alias: Alias) -> str:
        """POLYGON from computed points."""

    # ---- geometry: functions and predicates ----
    @abstractmethod
    def spatial(self, name: str, a: Value, b: Value) -> str:
        """CONTAINS(a, b) or INTERSECTS(a, b) as an SQL boolean, with pgsphere's
        tolerance (:data:`tap_catalog.adql.sphere.EPSILON`)."""

    @abstractmethod
    def geometry_equality(self, op: str, left: Value, right: Value) -> str:
        """``left = right`` or ``left != right`` of two geometries."""

    @abstractmethod
    def coord(self, axis: int, point: str) -> str:
        """COORD1 (axis 1, ra) or COORD2 (axis 2, dec) of a point, degrees."""

    @abstractmethod
    def area(self, geometry: str) -> str:
        """AREA of a circle or polygon, square degrees."""

    @abstractmethod
    def circle_center(self, circle: str) -> str:
        """CENTROID of a computed circle: its centre."""

    @abstractmethod
    def polygon_centroid(self, polygon: Value) -> str:
        """CENTROID of a polygon: the direction of the sum of its vertices' unit vectors."""

    @abstractmethod
    def distance(self, a: Value, b: Value) -> str:
        """DISTANCE between two points, degrees."""

    def output(self, value: Value, alias: Alias) -> str:
        """A top-level result column; a geometry is a DALI array of degrees."""
        return value.sql

    # ---- spatial index ----
    def prefilters_cone(self, is_distance: bool) -> bool:
        """Whether a cone (``CONTAINS(POINT, CIRCLE) = 1`` or ``DISTANCE(...) < r``, not
        ``is_distance``) needs :meth:`cone_prefilter` for its table's spatial index."""
        return True

    @abstractmethod
    def cone_prefilter(self, alias_sql: str, table: Table, ra: str, dec: str, center_ra: str,
                       center_dec: str, radius: str,
                       constants: list[Optional[float]]) -> str:
        """A condition implied by "the sky position (``ra``, ``dec``) of ``table`` (read
        as ``alias_sql``) lies within ``radius`` of the centre" that the table's spatial
        index serves. ``constants`` are the centre's and radius' values where constant."""

    # ---- proprietary rows (see tap_catalog.row_access) ----
    @abstractmethod
    def visible_rows(self, table: Table, table_sql: str, access: RowAccess,
                     user_groups: frozenset, now: datetime) -> tuple[str, set[str]]:
        """What to read instead of ``table`` (``table_sql``): its rows that the user may
        see, hidden rows gone before any expression of the user's is evaluated on them.
        Also the names of the indexed columns this source gives unguarded, as
        :data:`tap_catalog.adql.translation.access.UNGUARDED` + name (empty if none)."""

    def access_setup(self, user_groups: frozenset, now: datetime) -> list[str]:
        """Statements to run before a query that reads a table with proprietary rows."""
        return []

    # ---- the engine (tap_catalog.database) ----
    def make_engine(self, url: str, schemas: Optional[list[str]]) -> Engine:
        """An engine for ``url`` on which the tables of each schema of ``schemas`` (None:
        those of the declared tables) are written ``schema.table``."""
        return create_engine(url, pool_pre_ping=True)

    # ---- the catalogue's tables (tap_catalog.database) ----
    #: the SQL type of each VOTable datatype but strings (:meth:`char_type`)
    column_types: dict[str, str]
    #: whether a declared view is a table of the same columns that
    #: :meth:`refresh_views` refills from its definition (the database cannot make it a view)
    views_are_tables = False

    def column_type(self, column: Column) -> str:
        """The column's SQL type: its VOTable datatype and arraysize mapped."""
        if column.datatype in ("char", "unicodeChar"):
            return self.char_type(column.arraysize or "1")
        return self.column_types[column.datatype]

    def char_type(self, size: str) -> str:
        """The SQL type of a string column of ``arraysize`` ``size``; strings sort and
        compare in code-point order."""
        return "TEXT"

    def view_definition(self, table: Table) -> str:
        """The SELECT that the declared view ``table`` gives for this database."""
        definition = table.definition or {}
        if self.name not in definition:
            raise ValueError(f"view {table.name} has no definition for {self.name}")
        return definition[self.name].strip()

    def prepare_catalog(self, conn: Connection, tableset: TableSet) -> None:
        """Make ready what the tables of ``tableset`` need before they are created."""

    def prepare_table(self, conn: Connection, table: Table) -> None:
        """Make way, before ``CREATE TABLE IF NOT EXISTS``, for the declared ``table``."""

    def existing_columns(self, conn: Connection, table: Table) -> dict[str, bool]:
        """The columns ``table`` has in the database, lower case, each with whether it is
        NOT NULL (empty when the table does not exist)."""
        rows = conn.execute(text(
            "SELECT column_name, is_nullable FROM information_schema.columns "
            "WHERE table_schema = :schema AND table_name = :table"),
            {"schema": table.schema_name, "table": table.table_name})
        return {name.lower(): nullable == "NO" for name, nullable in rows}

    def add_column_sql(self, conn: Connection, table: Table, column: Column) -> str:
        """The ALTER TABLE that gives an existing ``table`` its declared ``column``."""
        return (f"ALTER TABLE {qualified(conn, table)} ADD COLUMN "
                f"{quote_name(conn, column.name)} {self.column_type(column)}")

    def foreign_key_target(self, conn: Connection, table: Table, target: Table) -> Optional[str]:
        """How a foreign key of ``table`` names the table ``target`` it references (None:
        the database cannot keep that key; TAP_SCHEMA still lists it)."""
        return qualified(conn, target)

    def create_index_sql(self, conn: Connection, table: Table, index: str, body: str) -> str:
        """CREATE INDEX ``index`` on ``table``; ``body`` is the rest of the statement."""
        return f"CREATE INDEX IF NOT EXISTS {quote_name(conn, index)} ON {qualified(conn, table)} {body}"

    @abstractmethod
    def sky_index_sql(self, conn: Connection, table: Table, ra: str, dec: str) -> list[str]:
        """The statements that create the spatial index of ``table`` on its sky position
        (``ra``, ``dec``: its quoted columns), the index :meth:`cone_prefilter` serves."""

    def finish_catalog(self, conn: Connection, tableset: TableSet) -> None:
        """Create, once the tables exist, the views and the access rules of proprietary
        rows (:mod:`tap_catalog.row_access`)."""

    def refresh_views(self, conn: Connection, tableset: TableSet) -> None:
        """Bring the declared views up to date with their tables (nothing to do where
        views are views)."""

    def access_rule_problems(self, engine: Engine) -> list[str]:
        """What keeps the access rule of proprietary rows from working at full speed, each
        with the remedy (``hera doctor``); empty when all is well."""
        return []

    def drop_access_rules(self, conn: Connection) -> None:
        """Drop what :meth:`finish_catalog` made for the access rules."""

    def drop_table_sql(self, conn: Connection, table: Table) -> list[str]:
        """The statements that drop the declared table ``table`` and its indexes."""
        return [f"DROP TABLE IF EXISTS {qualified(conn, table)}"]

    # ---- a TAP query's session (tap_catalog.query) ----
    #: the placeholder of a bound parameter in the driver's paramstyle
    marker: str

    def upload_sql_name(self, name: str) -> Optional[str]:
        """The SQL name of the uploaded table ``TAP_UPLOAD.name`` (None: that name)."""
        return None

    def begin_session(self, raw) -> None:
        """Make ``raw`` (the request's DBAPI connection, as SQLAlchemy's pool lends it)
        ready for the request."""

    def prepare_uploads(self, cur) -> None:
        """Make room for the uploaded tables."""

    @abstractmethod
    def create_upload(self, cur, name: str, columns: str) -> str:
        """Create the uploaded table ``name`` with ``columns`` (SQL); returns its SQL name.
        The table is gone when the session ends."""

    @abstractmethod
    def set_deadline(self, raw, seconds: float) -> None:
        """Make the query on ``raw`` fail once it has run ``seconds``."""

    @abstractmethod
    def open_cursor(self, raw):
        """The cursor that runs the query and reads its rows."""

    def end_session(self, raw, uploaded: bool) -> None:
        """Undo, after the rollback, what the session changed on ``raw`` (``uploaded``:
        whether it had uploaded tables)."""

    # ---- bulk writes (tap_catalog.ingest, tap_catalog.demo) ----
    @abstractmethod
    def bulk_insert(self, conn: Connection, table: str, columns: list[str], rows: Iterable[dict],
                    batch: int, progress: Callable[[int], None]) -> int:
        """Insert ``rows`` (dicts, a missing column NULL) into ``table`` (``schema.table``),
        telling ``progress`` the rows written as they go; returns the number of rows."""

    @abstractmethod
    def upsert_writer(self, conn: Connection, table: str, columns: list[str], key: str,
                      version: str, on_conflict: str) -> "UpsertWriter":
        """A writer of batches of rows into ``table``, each row merged with the row of the
        same ``key`` by ``on_conflict`` (an ``ON CONFLICT`` clause that names the table
        ``t``), the highest ``version`` of a key first within a batch."""

    def time_not_after(self, left: str, right: str) -> str:
        """The condition that the ISO-8601 timestamp ``left`` is not after ``right``."""
        return f"CAST({left} AS TIMESTAMP) <= CAST({right} AS TIMESTAMP)"


class UpsertWriter(ABC):
    """What :meth:`Dialect.upsert_writer` gives: rows written batch by batch."""

    @abstractmethod
    def write(self, rows: list[dict]) -> None:
        """Write a batch of rows."""

    def finish(self) -> None:
        """Make the rows written so far part of the table (called after each file)."""
