"""PostgreSQL with pgsphere: geometry as ``spoint`` / ``scircle`` / ``spoly`` (radians),
output as DALI arrays of degrees; the sky index is a GiST index on
``spoint(radians(ra), radians(dec))``; proprietary rows are read through the tables'
security-barrier views."""
from __future__ import annotations

import math
from datetime import datetime
from typing import Optional

from ....row_access import RowAccess, barrier_view_name, settings_sql
from ....tableset import Table
from ...errors import ADQLSemanticError
from ..values import Value, quote
from .base import Alias, Dialect


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
