"""ADQL geometry (POINT, CIRCLE, POLYGON, BOX, CONTAINS, INTERSECTS, DISTANCE, …) and the
spatial-index prefilter of cones, written through the dialect.

A geometry's SQL is in the dialect's representation (pgsphere on PostgreSQL, DALI text on
SQLite). A geometry built by a constructor also keeps its DALI numbers (``parts``), which
every dialect outputs as given and which SQLite uses to skip building the text.
"""
from __future__ import annotations

import math
from typing import Optional

from .. import ast, sphere
from ..errors import ADQLSemanticError
from .values import Value, computed_column, geometry_column, literal_value, quote


class GeometryTranslation:
    """The :class:`~.translator.Translator`'s geometry; uses its ``dialect``, ``alias``,
    ``expr``, ``numeric``, ``number`` and ``not_geometry``."""

    # ---- predicates ----
    def geometry_predicate(self, node: ast.Comparison, scope) -> Optional[str]:
        """CONTAINS(a, b) = 1 and its variants as a plain predicate (index-friendly)."""
        func, number = node.left, node.right
        if isinstance(number, ast.FunctionCall):
            func, number = number, func
        if not (isinstance(func, ast.FunctionCall) and func.name in ("CONTAINS", "INTERSECTS")
                and isinstance(number, ast.Number) and node.op in ("=", "!=")
                and number.value in (0, 1)):
            return None
        truth = (number.value == 1) == (node.op == "=")
        predicate = self.spatial(func, scope)
        return predicate if truth else f"(NOT {predicate})"

    def spatial(self, func: ast.FunctionCall, scope) -> str:
        """CONTAINS / INTERSECTS as an SQL boolean."""
        a, b = (self.geometry(x, scope) for x in func.args)
        return self.dialect.spatial(func.name, a, b)

    def geometry_equality(self, op, left: Value, right: Value) -> str:
        if not (left.geom and right.geom):
            raise ADQLSemanticError("a geometry can only be compared with another geometry")
        return self.dialect.geometry_equality(op, left, right)

    def cone(self, term, scope) -> Optional[str]:
        """The spatial-index prefilter of ``term`` if it is a cone on the sky columns of a
        table in FROM: ``CONTAINS(POINT(ra, dec), CIRCLE(...)) = 1`` (or a constant
        POLYGON or BOX, by a circle around it) or ``DISTANCE(POINT(ra, dec), POINT(a, b))
        < r``. It is implied by the exact condition, so adding it changes no result."""
        match = _cone_pattern(term)
        if match is None:
            return None
        (ra_ref, dec_ref), center, radius, is_distance = match
        if not self.dialect.prefilters_cone(is_distance):
            return None
        for source in scope.sources:
            if source.table is None or source.table.sky is None:
                continue
            try:
                ra, dec = self.expr(ra_ref, scope).sql, self.expr(dec_ref, scope).sql
            except ADQLSemanticError:
                return None
            sky_ra, sky_dec = (quote(c) for c in source.table.sky)
            if ra != f"{source.alias_sql}.{sky_ra}" or dec != f"{source.alias_sql}.{sky_dec}":
                continue
            cra, cdec = (self.numeric(c, scope) for c in center)
            r = self.numeric(radius, scope)
            if is_distance and not 0 <= (constant(radius) or -1) <= 90:
                return None  # a circle of that radius does not exist: no prefilter
            constants = [constant(x) for x in (*center, radius)]
            return self.dialect.cone_prefilter(source.alias_sql, source.table, ra, dec,
                                               cra, cdec, r, constants)
        return None

    # ---- geometry-valued expressions ----
    def geometry(self, node, scope) -> Value:
        """Any geometry-valued expression, in the dialect's representation."""
        if isinstance(node, ast.FunctionCall) and not node.user_defined:
            name, args = node.name, strip_coordsys(node.args)  # the frame is ICRS (§4.2.1)
            if name == "POINT":
                return self.shape("point", [self.numeric(a, scope) for a in args])
            if name == "CIRCLE":
                if len(args) == 3:
                    parts = [self.numeric(a, scope) for a in args]
                else:
                    center = self.geometry(args[0], scope)
                    if center.geom != "point":
                        raise ADQLSemanticError("the centre of a CIRCLE must be a point")
                    if center.parts is None:
                        r = self.numeric(args[1], scope)
                        return Value(self.dialect.circle_around(center.sql, r),
                                     geometry_column("circle"), "circle")
                    parts = center.parts + [self.numeric(args[1], scope)]
                return self.shape("circle", parts)
            if name == "BOX":
                return self.shape("polygon", self.box_vertices(args))
            if name == "POLYGON":
                vals = [self.expr(a, scope) for a in args]
                if all(v.geom == "point" for v in vals):
                    if any(v.parts is None for v in vals):
                        sql = self.dialect.polygon_of_points([v.sql for v in vals], self.alias)
                        return Value(sql, geometry_column("polygon"), "polygon")
                    return self.shape("polygon", [x for v in vals for x in v.parts])
                for v in vals:
                    self.not_geometry(v, "POLYGON")
                return self.shape("polygon", [v.sql for v in vals])
            if name == "CENTROID":
                return self.centroid(self.geometry(args[0], scope))
            if name == "REGION":
                raise ADQLSemanticError("REGION is not supported by this service; use POINT, "
                                        "CIRCLE or POLYGON")
        v = self.expr(node, scope)
        if not v.geom:
            raise ADQLSemanticError("a geometry (POINT, CIRCLE, POLYGON or a geometry column) "
                                    "is needed here")
        return v

    def shape(self, kind: str, parts: list[str]) -> Value:
        """A point, circle or polygon from its DALI numbers (SQL expressions, degrees)."""
        if kind == "point":
            return Value(self.dialect.point(*parts), geometry_column("point"), "point", parts)
        if kind == "circle":
            ra, dec, r = parts
            radius = literal_value(r)
            if radius is not None and not 0 <= radius <= 90:
                raise ADQLSemanticError(f"a CIRCLE radius must be between 0 and 90 degrees, "
                                        f"not {radius:g}")
            return Value(self.dialect.circle(ra, dec, r), geometry_column("circle"), "circle",
                         parts)
        return Value(self.dialect.polygon(parts, self.alias), geometry_column("polygon"),
                     "polygon", parts)

    def box_vertices(self, args) -> list[str]:
        """The vertices of BOX(ra, dec, width, height) (or BOX(POINT(ra, dec), w, h)),
        computed here: ADQL 2.1 deprecates BOX, and this service takes constants only."""
        if len(args) == 3 and is_constructor(args[0], "POINT"):
            args = strip_coordsys(args[0].args) + list(args[1:])
        constants = [constant(a) for a in args]
        if len(constants) != 4 or any(c is None for c in constants):
            raise ADQLSemanticError("BOX takes constant numbers here (centre, width, height); "
                                    "BOX is deprecated in ADQL 2.1: use POLYGON for anything else")
        return [self.number(v).sql for v in sphere.box_vertices(*constants)]

    def centroid(self, g: Value) -> Value:
        """CENTROID: a circle's centre; a polygon's, the direction of the sum of its
        vertices' unit vectors (the same definition on every dialect)."""
        if g.geom == "point":
            return g
        if g.geom == "circle":
            if g.parts is not None:
                return self.shape("point", g.parts[:2])
            return Value(self.dialect.circle_center(g.sql), geometry_column("point"), "point")
        return Value(self.dialect.polygon_centroid(g), geometry_column("point"), "point")

    def distance(self, node: ast.FunctionCall, scope) -> Value:
        args = node.args
        if len(args) == 4:
            ra1, dec1, ra2, dec2 = (self.numeric(a, scope) for a in args)
            a, b = self.shape("point", [ra1, dec1]), self.shape("point", [ra2, dec2])
        else:
            a, b = (self.geometry(x, scope) for x in args)
            if a.geom != "point" or b.geom != "point":
                raise ADQLSemanticError("DISTANCE needs two points")
        return Value(self.dialect.distance(a, b), computed_column("double", unit="deg"))


# ---- the shapes of syntax trees ------------------------------------------------------------

def conjuncts(cond):
    """The terms of a condition's top-level ANDs."""
    if isinstance(cond, ast.And):
        yield from conjuncts(cond.left)
        yield from conjuncts(cond.right)
    else:
        yield cond


def is_constructor(node, name) -> bool:
    return isinstance(node, ast.FunctionCall) and node.name == name and not node.user_defined


def strip_coordsys(args):
    """A geometry constructor's arguments without the optional coordinate system: a
    leading string, or the NULL of a three-argument POINT (as the parser reads them)."""
    args = list(args)
    if args and (isinstance(args[0], ast.String)
                 or isinstance(args[0], ast.Null) and len(args) == 3):
        args = args[1:]
    return args


def constant(node) -> Optional[float]:
    """The value of a constant numeric expression, or None."""
    if isinstance(node, ast.Number):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and node.op in "+-":
        v = constant(node.operand)
        return None if v is None else (v if node.op == "+" else -v)
    if isinstance(node, ast.BinaryOp) and node.op in "+-*/":
        a, b = constant(node.left), constant(node.right)
        if a is None or b is None or (node.op == "/" and b == 0):
            return None
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None}[node.op]
    return None


def _bounding_cap(region) -> Optional[tuple[float, float, float]]:
    """(ra, dec, radius) of a circle holding a constant POLYGON or BOX, or None.

    The circle is centred on the mean of the vertices' unit vectors and reaches the
    farthest vertex; when that is less than 90 deg the circle is convex, so it holds the
    great-circle edges and the (smaller) region they bound."""
    if is_constructor(region, "BOX"):
        values = [constant(a) for a in strip_coordsys(region.args)]
        if len(values) != 4 or None in values:
            return None
        values = sphere.box_vertices(*values)
    elif is_constructor(region, "POLYGON"):
        values = []
        for a in strip_coordsys(region.args):
            if is_constructor(a, "POINT"):
                values += [constant(x) for x in strip_coordsys(a.args)]
            else:
                values.append(constant(a))
        if None in values or len(values) % 2:
            return None
    else:
        return None
    vertices = [sphere.unit(values[i], values[i + 1]) for i in range(0, len(values), 2)]
    center = sphere.centroid(sphere.Polygon(tuple(vertices)))
    radius = max(sphere.angle(center, v) for v in vertices)
    if radius >= math.radians(89.0):
        return None
    ra, dec = sphere.lonlat(center)
    return ra, dec, math.degrees(radius) + 1e-7


def _cone_pattern(term):
    """((ra_ref, dec_ref), (center_ra, center_dec), radius, is_distance) for an indexable
    cone term, or None."""
    if not isinstance(term, ast.Comparison):
        return None
    left, op, right = term.left, term.op, term.right
    flipped = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}
    # CONTAINS(POINT(ra, dec), CIRCLE(a, b, r)) = 1, either side
    for func, number in ((left, right), (right, left)):
        if (is_constructor(func, "CONTAINS") and isinstance(number, ast.Number)
                and number.value == 1 and op == "="):
            point, region = func.args
            if not (is_constructor(point, "POINT")
                    and all(isinstance(x, ast.ColumnRef) for x in strip_coordsys(point.args))):
                continue
            p = strip_coordsys(point.args)
            if is_constructor(region, "CIRCLE"):
                c = strip_coordsys(region.args)
                if len(c) == 2 and is_constructor(c[0], "POINT"):
                    c = strip_coordsys(c[0].args) + [c[1]]
                if len(c) == 3:
                    return (p[0], p[1]), (c[0], c[1]), c[2], False
            cap = _bounding_cap(region)
            if cap is not None:
                ra, dec, radius = (ast.Number(repr(v), v) for v in cap)
                return (p[0], p[1]), (ra, dec), radius, False
    # DISTANCE(POINT(ra, dec), POINT(a, b)) < r  (or r > DISTANCE(...)), either order
    if is_constructor(right, "DISTANCE"):
        left, right, op = right, left, flipped[op]
    if is_constructor(left, "DISTANCE") and op in ("<", "<="):
        args = left.args
        if len(args) == 2 and all(is_constructor(a, "POINT") for a in args):
            pairs = [strip_coordsys(a.args) for a in args]
        elif len(args) == 4:
            pairs = [list(args[:2]), list(args[2:])]
        else:
            return None
        for mine, other in (pairs, pairs[::-1]):
            if all(isinstance(x, ast.ColumnRef) for x in mine) and not any(
                    isinstance(x, ast.ColumnRef) for x in other):
                return (mine[0], mine[1]), (other[0], other[1]), right, True
    return None
