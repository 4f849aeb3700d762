"""SQLite: geometry as DALI text, handled by the ``adql_*`` functions of
:mod:`.sqlite_functions` (which also give the math and the casts
PostgreSQL's behaviour); the sky index is an R*Tree of unit vectors per table."""
from __future__ import annotations

import math
from datetime import datetime
from typing import Optional

from ....row_access import ROW_ACCESS, RowAccess, guarded_column, sqlite_visible_sql
from ....tableset import Table
from ... import sphere
from ...errors import ADQLSemanticError
from ..access import UNGUARDED, indexed_columns
from ..values import Value, literal_value, quote
from .base import Alias, Dialect


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
