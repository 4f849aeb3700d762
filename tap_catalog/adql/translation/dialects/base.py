"""The interface of a database dialect: everything the translator writes differently for
one database than for another.

The translator decides what a query means (names, scopes, types, result columns) and asks
its :class:`Dialect` how to spell each piece of SQL whose spelling or behaviour differs
between databases. Each method's docstring states the behaviour every dialect must give,
so that every database returns the same rows for the same query (docs/adql.md).
The defaults are plain standard SQL; a dialect overrides what its database does otherwise.

A dialect holds no state of its own: what belongs to one translation (the aliases in use)
comes in as arguments, such as ``alias``, the translator's allocator of fresh table aliases.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Callable, Optional

from ....row_access import RowAccess
from ....tableset import Table
from ..values import Value

#: the translator's allocator of a fresh, quoted table alias from a base name
Alias = Callable[[str], str]


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
