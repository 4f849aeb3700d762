"""The SQL functions the ADQL translator's SQLite output calls, as Python callables.

``register(dbapi_connection)`` adds them to a ``sqlite3`` connection; the database
layer calls it from an SQLAlchemy "connect" event::

    sqlalchemy.event.listen(engine, "connect", lambda conn, record: register(conn))

Every function is named ``adql_*``; each returns NULL for a NULL argument, as SQL
functions do. Geometry values are DALI text (see :mod:`tap_catalog.adql.sphere`). The math follows
PostgreSQL where the two databases differ (ROUND halves away from zero, MOD takes the
sign of the dividend, CAST to an integer rounds half to even), so that both backends
return the same rows.
"""
from __future__ import annotations

import math
import random
import re
import struct
import threading
from datetime import datetime, timezone
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import lru_cache, wraps

from ..adql import sphere


_failure = threading.local()


def last_failure() -> str | None:
    """What the last ``adql_*`` function that failed in this thread said, and with which
    arguments: sqlite3 itself reports only "user-defined function raised exception"."""
    return getattr(_failure, "message", None)


def forget_failure() -> None:
    """Clear :func:`last_failure` before a statement runs."""
    _failure.message = None


#: the ADQL spelling of the functions whose SQL name differs from it
_CAST_TYPES = {"int": "INTEGER", "double": "DOUBLE PRECISION", "real": "REAL",
               "char": "CHAR", "timestamp": "TIMESTAMP"}


def _as_adql(name: str, args) -> str:
    """How the user wrote the call that failed: ``CAST('Smith' AS INTEGER)``, ``SQRT(-1.0)``."""
    shown = ", ".join(repr(a) for a in args)
    kind = name.removeprefix("adql_cast_")
    if kind in _CAST_TYPES:
        return f"CAST({shown} AS {_CAST_TYPES[kind]})"
    return f"{name.removeprefix('adql_').removesuffix('_p').upper()}({shown})"


def _nulls(name: str, func):
    @wraps(func)
    def wrapper(*args):
        if any(a is None for a in args):
            return None
        try:
            return func(*args)
        except Exception as err:
            _failure.message = f"{_as_adql(name, args)}: {err}"
            raise
    return wrapper


@lru_cache(maxsize=4096)
def _shape(text):
    return sphere.parse(text)


def _bool(value: bool) -> int:
    return 1 if value else 0


def _decimal_places(x, n, rounding):
    if isinstance(x, int) and n >= 0:
        return float(x)
    if not math.isfinite(x):
        return x
    quantum = Decimal(1).scaleb(-int(n))
    return float(Decimal(repr(float(x))).quantize(quantum, rounding=rounding)) if n >= 0 else \
        float((Decimal(repr(float(x))) / quantum).quantize(Decimal(1), rounding=rounding) * quantum)


def _round(x, n=0):
    return _decimal_places(x, n, ROUND_HALF_UP)


def _truncate(x, n=0):
    return _decimal_places(x, n, ROUND_DOWN)


@lru_cache(maxsize=256)
def _like_regex(pattern: str, case_insensitive: bool):
    parts = []
    for ch in pattern:
        parts.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    # ASCII case folding only, as SQLite's LIKE and PostgreSQL's ILIKE under the C collation
    return re.compile("".join(parts), re.S | (re.I | re.A if case_insensitive else 0))


def _like(value, pattern, case_insensitive):
    return _bool(_like_regex(str(pattern), bool(case_insensitive)).fullmatch(str(value)))


def _cast_int(x):
    if isinstance(x, str):
        x = float(x.strip()) if re.search(r"[.eE]", x) else int(x.strip())
    return int(round(x)) if isinstance(x, float) else int(x)


def _cast_real(x):
    return struct.unpack("f", struct.pack("f", float(x)))[0]


def _cast_char(x, n, pad):
    s = x if isinstance(x, str) else _text(x)
    if n is not None and n >= 0:
        s = s[:n].ljust(n) if pad else s[:n]
    return s


def _text(x):
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return str(x)


def _cast_timestamp(x):
    """ISO-8601 text as PostgreSQL's timestamp reads it back (no zone, seconds, microseconds
    only when not zero); a zone is converted to UTC."""
    stamp = datetime.fromisoformat(str(x).strip().replace("Z", "+00:00"))
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone.utc).replace(tzinfo=None)
    return stamp.isoformat()


def _radius(r):
    """A circle radius as pgsphere accepts it, so that both databases refuse the same."""
    if not 0.0 <= r <= 90.0:
        raise ValueError("radius must be not greater than 90 degrees or less than 0")
    return r


def _circle(ra, dec, r):
    return sphere.text((ra, dec, _radius(r)))


def _point_in_circle(ra, dec, cra, cdec, r):
    return _bool(sphere.angle(sphere.unit(ra, dec), sphere.unit(cra, cdec))
                 - math.radians(_radius(r)) <= sphere.EPSILON)


def _polygon(*values):
    return sphere.text(values)


def _polygon_points(*points):
    vs = []
    for p in points:
        vs += [float(v) for v in p.split()]
    return sphere.text(vs)


def _cap_bbox(ra, dec, radius, k):
    return sphere.cap_bbox(ra, dec, radius)[int(k)]


def _coord(text, k):
    ra, dec = sphere.lonlat(_shape(text).v)
    return ra if k == 1 else dec


def _centroid(text):
    return sphere.text(sphere.lonlat(sphere.centroid(_shape(text))))


FUNCTIONS = {
    # geometry
    "adql_point": (2, lambda ra, dec: sphere.text((ra, dec))),
    "adql_circle": (3, _circle),
    "adql_circle_p": (2, lambda p, r: p + " " + sphere.text((_radius(r),))),
    "adql_polygon": (-1, _polygon),
    "adql_polygon_p": (-1, _polygon_points),
    "adql_contains": (2, lambda a, b: _bool(sphere.contains(_shape(a), _shape(b)))),
    "adql_intersects": (2, lambda a, b: _bool(sphere.intersects(_shape(a), _shape(b)))),
    "adql_point_in_circle": (5, _point_in_circle),
    "adql_distance": (4, sphere.distance),
    "adql_distance_p": (2, lambda a, b: math.degrees(sphere.angle(_shape(a).v, _shape(b).v))),
    "adql_area": (1, lambda g: sphere.area(_shape(g))),
    "adql_coord1": (1, lambda p: _coord(p, 1)),
    "adql_coord2": (1, lambda p: _coord(p, 2)),
    "adql_centroid": (1, _centroid),
    "adql_cap_bbox": (4, _cap_bbox),
    # math (ADQL 2.1 §2.3), PostgreSQL semantics
    "adql_abs": (1, abs),
    "adql_ceiling": (1, lambda x: float(math.ceil(x))),
    "adql_floor": (1, lambda x: float(math.floor(x))),
    "adql_degrees": (1, math.degrees),
    "adql_radians": (1, math.radians),
    "adql_exp": (1, math.exp),
    "adql_log": (1, math.log),
    "adql_log10": (1, math.log10),
    "adql_sqrt": (1, math.sqrt),
    "adql_mod": (2, lambda x, y: math.fmod(x, y)),
    "adql_power": (2, lambda x, y: math.pow(x, y)),
    "adql_round": (-1, _round),
    "adql_truncate": (-1, _truncate),
    "adql_acos": (1, math.acos),
    "adql_asin": (1, math.asin),
    "adql_atan": (1, math.atan),
    "adql_atan2": (2, math.atan2),
    "adql_cos": (1, math.cos),
    "adql_sin": (1, math.sin),
    "adql_tan": (1, math.tan),
    "adql_cot": (1, lambda x: 1 / math.tan(x)),
    # strings and types
    "adql_like": (3, _like),
    "adql_cast_int": (1, _cast_int),
    "adql_cast_real": (1, _cast_real),
    "adql_cast_double": (1, lambda x: float(x)),
    "adql_cast_char": (3, lambda x, n, pad: _cast_char(x, n, pad)),
    "adql_cast_timestamp": (1, _cast_timestamp),
}


def register(dbapi_connection) -> None:
    """Add the ``adql_*`` functions to a sqlite3 connection."""
    for name, (nargs, func) in FUNCTIONS.items():
        dbapi_connection.create_function(name, nargs, _nulls(name, func), deterministic=True)
    # RAND is not deterministic (and takes an optional, ignored seed)
    dbapi_connection.create_function("adql_rand", -1, lambda *seed: random.random())
