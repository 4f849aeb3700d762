"""Spherical geometry for the ADQL functions on SQLite: points, circles, polygons.

Angles are degrees at the interface and unit vectors inside. Polygon edges are
great-circle arcs. Predicates are closed and use pgsphere's tolerance (``EPSILON``
radians), so that SQLite and PostgreSQL/pgsphere agree on points on a boundary.

A geometry travels through SQL as DALI text, space-separated degrees: a point is
"ra dec", a circle "ra dec radius", a polygon "ra1 dec1 ra2 dec2 ra3 dec3 ...";
the number of values tells which.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

#: pgsphere's tolerance for comparisons (radians)
EPSILON = 1e-9

Vec = tuple[float, float, float]


def unit(ra: float, dec: float) -> Vec:
    a, d = math.radians(ra), math.radians(dec)
    cd = math.cos(d)
    return (cd * math.cos(a), cd * math.sin(a), math.sin(d))


def lonlat(v: Vec) -> tuple[float, float]:
    x, y, z = v
    ra = math.degrees(math.atan2(y, x)) % 360.0
    return ra, math.degrees(math.atan2(z, math.hypot(x, y)))


def _dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: Vec, b: Vec) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _norm(a: Vec) -> float:
    return math.sqrt(_dot(a, a))


def _scale(a: Vec, s: float) -> Vec:
    return (a[0] * s, a[1] * s, a[2] * s)


def angle(a: Vec, b: Vec) -> float:
    """Angle between two unit vectors, radians, accurate at all separations."""
    return math.atan2(_norm(_cross(a, b)), _dot(a, b))


def distance(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """Great-circle distance in degrees."""
    return math.degrees(angle(unit(ra1, dec1), unit(ra2, dec2)))


@dataclass(frozen=True)
class Point:
    v: Vec


@dataclass(frozen=True)
class Circle:
    center: Vec
    radius: float  # radians


@dataclass(frozen=True)
class Polygon:
    """Vertices joined by great-circle arcs; the polygon is the smaller of the two regions
    its edges bound (as in pgsphere), whichever way round the vertices are given."""

    vertices: tuple[Vec, ...]

    @property
    def orientation(self) -> float:
        """+1 if the vertices run counter-clockwise around the polygon (seen from outside
        the sphere), else -1: the sign of its signed area."""
        return 1.0 if _signed_area(self.vertices) >= 0 else -1.0


Shape = Point | Circle | Polygon


def parse(text: str) -> Shape:
    """DALI text (or numbers) → shape; the count of values says which."""
    values = [float(x) for x in text.replace(",", " ").split()]
    if len(values) == 2:
        return Point(unit(*values))
    if len(values) == 3:
        return Circle(unit(values[0], values[1]), math.radians(values[2]))
    if len(values) >= 6 and len(values) % 2 == 0:
        return Polygon(tuple(unit(values[i], values[i + 1]) for i in range(0, len(values), 2)))
    raise ValueError(f"not a DALI point, circle or polygon: {text!r}")


def text(values) -> str:
    """Numbers → DALI text, exactly (shortest round-trip representation)."""
    return " ".join(repr(float(v)) for v in values)


def box_vertices(ra: float, dec: float, width: float, height: float) -> list[float]:
    """The ADQL BOX as polygon vertices: great-circle sides at right angles to the arms
    of a cross centred on (ra, dec) along the coordinate axes (counter-clockwise)."""
    xi, eta = math.tan(math.radians(width) / 2), math.tan(math.radians(height) / 2)
    a0, d0 = math.radians(ra), math.radians(dec)
    out = []
    for x, y in ((-xi, -eta), (xi, -eta), (xi, eta), (-xi, eta)):
        # inverse gnomonic projection about (a0, d0); east is +x (increasing ra)
        rho = math.hypot(x, y)
        c = math.atan(rho)
        d = math.asin(math.cos(c) * math.sin(d0) + y * math.sin(c) * math.cos(d0) / rho)
        a = a0 + math.atan2(x * math.sin(c),
                            rho * math.cos(d0) * math.cos(c) - y * math.sin(d0) * math.sin(c))
        out += [math.degrees(a) % 360.0, math.degrees(d)]
    return out


# ---- predicates ------------------------------------------------------------------------

def _arc_distance(p: Vec, a: Vec, b: Vec) -> float:
    """Angular distance (radians) from p to the great-circle arc a→b."""
    n = _cross(a, b)
    nn = _norm(n)
    if nn < 1e-15:
        return angle(p, a)
    n = _scale(n, 1 / nn)
    s = _dot(p, n)
    q = (p[0] - s * n[0], p[1] - s * n[1], p[2] - s * n[2])
    if _dot(_cross(a, q), n) >= 0 and _dot(_cross(q, b), n) >= 0 and _norm(q) > 1e-15:
        return math.asin(min(1.0, abs(s)))
    return min(angle(p, a), angle(p, b))


def _edges(poly: Polygon):
    vs = poly.vertices
    return [(vs[i], vs[(i + 1) % len(vs)]) for i in range(len(vs))]


def point_in_polygon(p: Vec, poly: Polygon) -> bool:
    """Winding number on the sphere; points within EPSILON of an edge are inside.

    The edges wind once around every point of the polygon, in the sense of its
    orientation; they also wind once, the other way, around the antipodes of those points,
    and not at all around the rest of the sphere."""
    total = 0.0
    for a, b in _edges(poly):
        if _arc_distance(p, a, b) <= EPSILON:
            return True
        # signed angle at p from a to b, seen from outside the sphere along p
        total += math.atan2(_dot(p, _cross(a, b)), _dot(a, b) - _dot(p, a) * _dot(p, b))
    return total * _orientation(poly) > math.pi


def _arcs_cross(a1: Vec, a2: Vec, b1: Vec, b2: Vec) -> bool:
    n1, n2 = _cross(a1, a2), _cross(b1, b2)
    t = _cross(n1, n2)
    if _norm(t) < 1e-15:
        return min(_arc_distance(b1, a1, a2), _arc_distance(b2, a1, a2),
                   _arc_distance(a1, b1, b2)) <= EPSILON
    t = _scale(t, 1 / _norm(t))
    for c in (t, _scale(t, -1)):
        if (_dot(_cross(a1, c), n1) >= 0 and _dot(_cross(c, a2), n1) >= 0
                and _dot(_cross(b1, c), n2) >= 0 and _dot(_cross(c, b2), n2) >= 0):
            return True
    return False


def contains(inner: Shape, outer: Shape) -> bool:
    """ADQL CONTAINS(inner, outer): ``inner`` lies within ``outer``."""
    if isinstance(outer, Point):
        return isinstance(inner, Point) and angle(inner.v, outer.v) <= EPSILON
    if isinstance(outer, Circle):
        if isinstance(inner, Point):
            return angle(inner.v, outer.center) - outer.radius <= EPSILON
        if isinstance(inner, Circle):
            return angle(inner.center, outer.center) + inner.radius - outer.radius <= EPSILON
        return all(angle(v, outer.center) - outer.radius <= EPSILON for v in inner.vertices)
    # outer is a polygon
    if isinstance(inner, Point):
        return point_in_polygon(inner.v, outer)
    if isinstance(inner, Circle):
        return point_in_polygon(inner.center, outer) and all(
            _arc_distance(inner.center, a, b) - inner.radius >= -EPSILON for a, b in _edges(outer))
    if not all(point_in_polygon(v, outer) for v in inner.vertices):
        return False
    return not any(_proper_cross(e, f) for e in _edges(inner) for f in _edges(outer))


def _proper_cross(e, f) -> bool:
    """Arcs crossing away from their end points (touching does not count)."""
    (a1, a2), (b1, b2) = e, f
    if min(_arc_distance(p, *f) for p in e) <= EPSILON or \
            min(_arc_distance(p, *e) for p in f) <= EPSILON:
        return False
    return _arcs_cross(a1, a2, b1, b2)


def intersects(a: Shape, b: Shape) -> bool:
    if isinstance(a, Point):
        return contains(a, b)
    if isinstance(b, Point):
        return contains(b, a)
    if isinstance(a, Circle) and isinstance(b, Circle):
        return angle(a.center, b.center) - a.radius - b.radius <= EPSILON
    if isinstance(a, Polygon) and isinstance(b, Circle):
        a, b = b, a
    if isinstance(a, Circle):  # b is a polygon
        return point_in_polygon(a.center, b) or any(
            _arc_distance(a.center, p, q) - a.radius <= EPSILON for p, q in _edges(b))
    return (any(point_in_polygon(v, b) for v in a.vertices)
            or any(point_in_polygon(v, a) for v in b.vertices)
            or any(_arcs_cross(*e, *f) for e in _edges(a) for f in _edges(b)))


def _signed_area(vs) -> float:
    """Sum of the signed solid angles (sr) of the triangle fan from the first vertex."""
    total = 0.0
    for i in range(1, len(vs) - 1):
        a, b, c = vs[0], vs[i], vs[i + 1]
        total += 2 * math.atan2(_dot(a, _cross(b, c)), 1 + _dot(a, b) + _dot(b, c) + _dot(c, a))
    return total


_orientations: dict = {}


def _orientation(poly: Polygon) -> float:
    found = _orientations.get(poly.vertices)
    if found is None:
        if len(_orientations) > 4096:
            _orientations.clear()
        found = _orientations[poly.vertices] = poly.orientation
    return found


def area(shape: Shape) -> float:
    """Solid angle in square degrees (of the smaller region, for a polygon)."""
    sr_to_deg2 = (180.0 / math.pi) ** 2
    if isinstance(shape, Point):
        return 0.0
    if isinstance(shape, Circle):
        return 2 * math.pi * (1 - math.cos(shape.radius)) * sr_to_deg2
    total = abs(_signed_area(shape.vertices))
    if total > 2 * math.pi:
        total = 4 * math.pi - total
    return total * sr_to_deg2


def centroid(shape: Shape) -> Vec:
    if isinstance(shape, Point):
        return shape.v
    if isinstance(shape, Circle):
        return shape.center
    s = [sum(v[i] for v in shape.vertices) for i in range(3)]
    n = _norm(tuple(s))
    return (s[0] / n, s[1] / n, s[2] / n)


def cap_bbox(ra: float, dec: float, radius: float) -> tuple[float, ...]:
    """Bounding box in xyz (xmin, xmax, ymin, ymax, zmin, zmax) of a spherical cap."""
    c = unit(ra, dec)
    r = math.radians(radius) + EPSILON
    out = []
    for i in range(3):
        theta = math.acos(max(-1.0, min(1.0, c[i])))  # angle between centre and axis i
        low = math.cos(min(theta + r, math.pi))
        high = math.cos(max(theta - r, 0.0))
        out += [low, high]
    return tuple(out)
