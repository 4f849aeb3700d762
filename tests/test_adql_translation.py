"""ADQL 2.1 → SQL: every feature runs on SQLite and on PostgreSQL/pgsphere with the same result.

One small deterministic catalogue (demo science windows, known observations of the Crab
and Cyg X-1 (tests/known_windows.py), hand-made rows at the sky's awkward places: RA 0/360,
the pole, no attitude, hostile strings, proprietary rows) is
loaded into a SQLite database and into a private PostgreSQL database of this test session;
each query of :data:`QUERIES` runs on both and the rows must agree (floats to 1e-9
relative). Cone searches are also checked against astropy's separations, the spatial
index against the query plans, names against the table set, and proprietary rows against
every way of reaching them.
"""
from __future__ import annotations

import datetime as dt
import math
import uuid

import pytest
from sqlalchemy import create_engine, text

from tap_catalog import database, demo
from tap_catalog.adql import ADQLSemanticError, ADQLSyntaxError, parse, translate
from tap_catalog.dialects import DIALECTS, dialect_of
from tap_catalog.tableset import TableSet

from conftest import POSTGRES_URL
import known_windows

TABLESET = TableSet.load()
CRAB = (83.633, 22.014)
FUTURE, PAST = "2099-01-01T00:00:00", "2003-01-01T00:00:00"


# ---- the catalogue -------------------------------------------------------------------------

def _catalogue() -> list[dict]:
    rows = list(demo.generate(1500, seed=11))
    # the hand-made windows are pointings (their ids say so), whatever the demo opens with
    template = dict(next(r for r in rows if r["scw_type"] == "pointing"))

    def row(n, **changes):
        r = dict(template)
        scw_id = f"9990{n:04d}0010"
        r.update(scw_id=scw_id, revolution=9990, pointing=n, subpointing=1, status="public",
                 public_date=PAST, proprietary_group=None, obs_id=f"0420042{n:04d}")
        r.update(changes)
        return r

    rows += [
        row(1, ra=359.95, dec=0.02, target_name="wrap east"),
        row(2, ra=0.03, dec=-0.01, target_name="wrap west"),
        row(3, ra=120.0, dec=89.95, target_name="north pole"),
        row(4, ra=None, dec=None, lii=None, bii=None, scw_type="engineering", target_name=None),
        row(5, ra=CRAB[0] + 0.5, dec=CRAB[1], target_name="O'Neil \"q\"; DROP TABLE integral.scw; --"),
        row(6, ra=CRAB[0], dec=CRAB[1] - 0.5, target_name="50%_off\\ crab"),
        # proprietary: before the public date, to the group proposal-secret only
        row(7, ra=CRAB[0] + 0.1, dec=CRAB[1] + 0.1, status="private", public_date=FUTURE,
            proprietary_group="proposal-secret", target_name="secret Crab"),
        row(8, ra=CRAB[0] - 0.2, dec=CRAB[1], status="private", public_date=FUTURE,
            proprietary_group="proposal-secret", target_name="secret Crab", scw_type="slew"),
        # proprietary without a group: nobody before its public date
        row(9, ra=CRAB[0], dec=CRAB[1] + 0.3, status="private", public_date=FUTURE,
            proprietary_group=None, target_name="orphan"),
        # private, but its public date has passed: public without anyone acting
        row(10, ra=CRAB[0] - 0.1, dec=CRAB[1] - 0.1, status="private", public_date=PAST,
            proprietary_group="proposal-old", target_name="released Crab"),
        # GLOB's special characters in a name
        row(11, scw_id="999100010010", revolution=9991, target_name="a*b?[c]Ü"),
    ]
    # named targets the demo holds only by chance: the Crab in an early revolution, Cyg X-1
    return rows + known_windows.CRAB_2004 + known_windows.CYG_X1_2008


CATALOGUE = _catalogue()
SECRET = {"999000070010", "999000080010"}
ORPHAN = "999000090010"
RELEASED = "999000100010"


def _load(engine):
    database.drop_catalog(engine, TABLESET)
    database.create_catalog(engine, TABLESET)
    demo.load(engine, TABLESET, iter(CATALOGUE))


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory):
    path = tmp_path_factory.mktemp("adql") / "hera.sqlite"
    engine = database.make_engine(f"sqlite:///{path}")
    _load(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_engine():
    """A PostgreSQL database of this test session only, dropped at the end."""
    name = f"hera_adql_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = database.make_engine(POSTGRES_URL.rsplit("/", 1)[0] + "/" + name)
    try:
        _load(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engines(sqlite_engine, pg_engine):
    return {"sqlite": sqlite_engine, "postgresql": pg_engine}


def run(engine, adql: str, **kw):
    """(Translation, rows) of ``adql`` on ``engine``; rows normalized for comparison."""
    tr = translate(parse(adql), TABLESET, dialect_of(engine), **kw)
    with engine.connect() as conn:
        for statement in tr.setup:
            conn.execute(text(statement))
        rows = conn.execute(text(tr.sql)).fetchall()
    return tr, [tuple(_value(v, c) for v, c in zip(r, tr.columns)) for r in rows]


def _value(v, column):
    if v is None:
        return None
    if column.xtype in ("point", "circle", "polygon"):
        return tuple(float(x) for x in (v.split() if isinstance(v, str) else v))
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if hasattr(v, "is_finite"):  # Decimal
        return float(v)
    return v


def _same(a, b) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None or isinstance(a, str) or isinstance(b, str):
            return False
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _key(row):
    return tuple((x is None, round(x, 6) if isinstance(x, float) else
                  tuple(round(y, 6) for y in x) if isinstance(x, tuple) else x) for x in row)


# ---- one query, two databases ---------------------------------------------------------------

#: (id, ADQL, ordered): every query must give the same rows on both databases and at
#: least one row (so that agreement means something)
QUERIES = [
    # select list, TOP, OFFSET, ORDER BY, DISTINCT
    ("top", "SELECT TOP 5 scw_id, ra, dec FROM integral.scw ORDER BY scw_id", True),
    ("offset", "SELECT scw_id FROM integral.scw ORDER BY scw_id OFFSET 1490", True),
    ("top-offset", "SELECT TOP 3 scw_id FROM integral.scw ORDER BY start_time DESC, scw_id OFFSET 2", True),
    ("distinct", "SELECT DISTINCT scw_type FROM integral.scw ORDER BY 1", True),
    ("order-nulls", "SELECT TOP 4 scw_id, ra FROM integral.scw ORDER BY ra DESC, scw_id", True),
    ("star", "SELECT TOP 2 * FROM integral.scw ORDER BY scw_id DESC", True),
    ("qualified-star", "SELECT TOP 2 r.*, s.scw_id FROM integral.scw AS s JOIN integral.revolution AS r "
                       "ON s.revolution = r.revolution ORDER BY s.scw_id", True),
    # geometry
    ("cone-contains", "SELECT scw_id FROM integral.scw WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), "
                      "CIRCLE('ICRS', 83.633, 22.014, 5)) ORDER BY scw_id", True),
    ("cone-distance", "SELECT scw_id, DISTANCE(POINT(ra, dec), POINT(83.633, 22.014)) AS d FROM integral.scw "
                      "WHERE DISTANCE(POINT(ra, dec), POINT(83.633, 22.014)) < 5 ORDER BY scw_id", True),
    ("cone-wrap", "SELECT scw_id FROM integral.scw WHERE CONTAINS(POINT(ra, dec), CIRCLE(0, 0, 0.2)) = 1 "
                  "ORDER BY scw_id", True),
    ("cone-pole", "SELECT scw_id FROM integral.scw WHERE CONTAINS(POINT(ra, dec), CIRCLE(300, 89.9, 0.2)) = 1",
     False),
    ("distance-4", "SELECT TOP 5 scw_id, DISTANCE(ra, dec, 0, 90) FROM integral.scw WHERE ra IS NOT NULL "
                   "ORDER BY scw_id", True),
    ("not-contains", "SELECT COUNT(*) FROM integral.scw WHERE CONTAINS(POINT(ra, dec), CIRCLE(83.6, 22, 30)) = 0",
     False),
    ("intersects-circles", "SELECT scw_id FROM integral.scw WHERE INTERSECTS(CIRCLE(ra, dec, 1), "
                           "CIRCLE(83.6, 22.0, 2)) = 1 ORDER BY scw_id", True),
    ("intersects-point", "SELECT scw_id FROM integral.scw WHERE INTERSECTS(POINT(ra, dec), "
                         "CIRCLE(83.6, 22.0, 3)) = 1 ORDER BY scw_id", True),
    ("box", "SELECT scw_id FROM integral.scw WHERE CONTAINS(POINT(ra, dec), BOX(83.6, 22.0, 10, 6)) = 1 "
            "ORDER BY scw_id", True),
    ("polygon", "SELECT scw_id FROM integral.scw WHERE CONTAINS(POINT(ra, dec), "
                "POLYGON(78, 15, 90, 15, 90, 30, 78, 30)) = 1 ORDER BY scw_id", True),
    ("polygon-points", "SELECT scw_id FROM integral.scw WHERE 1 = CONTAINS(POINT(ra, dec), "
                       "POLYGON(POINT(78, 15), POINT(92, 15), POINT(85, 32))) ORDER BY scw_id", True),
    ("polygon-wrap", "SELECT scw_id FROM integral.scw WHERE CONTAINS(POINT(ra, dec), "
                     "POLYGON(359.5, -1, 0.5, -1, 0.5, 1, 359.5, 1)) = 1 ORDER BY scw_id", True),
    ("circle-in-circle", "SELECT TOP 5 scw_id, CONTAINS(CIRCLE(ra, dec, 0.5), CIRCLE(83.6, 22, 10)) AS inside "
                         "FROM integral.scw WHERE ra BETWEEN 80 AND 90 ORDER BY scw_id", True),
    ("intersects-poly-circle", "SELECT scw_id FROM integral.scw WHERE INTERSECTS(CIRCLE(ra, dec, 2), "
                               "POLYGON(80, 20, 86, 20, 83, 25)) = 1 ORDER BY scw_id", True),
    ("shapes-in-shapes", "SELECT scw_id, CONTAINS(POLYGON(ra, dec, ra + 0.5, dec, ra, dec + 0.5), "
                         "CIRCLE(83.6, 22, 5)), INTERSECTS(POLYGON(ra, dec, ra + 2, dec, ra, dec + 2), "
                         "POLYGON(83, 21, 85, 21, 84, 24)), CONTAINS(CIRCLE(ra, dec, 0.2), "
                         "POLYGON(80, 18, 88, 18, 88, 26, 80, 26)), CONTAINS(POLYGON(83, 21, 84, 21, 83.5, 22), "
                         "POLYGON(ra - 3, dec - 3, ra + 3, dec - 3, ra + 3, dec + 3, ra - 3, dec + 3)), "
                         "INTERSECTS(CIRCLE(ra, dec, 1), POLYGON(83, 21, 85, 21, 84, 24)) "
                         "FROM integral.scw WHERE ra BETWEEN 78 AND 90 ORDER BY scw_id", True),
    ("area", "SELECT TOP 1 AREA(CIRCLE(0, 0, 1)) AS c, AREA(POLYGON(10, 10, 12, 10, 11, 12)) AS p, "
             "AREA(BOX(83, 22, 2, 4)) AS b, AREA(POINT(1, 2)) AS pt FROM integral.scw", True),
    ("coords", "SELECT TOP 5 scw_id, COORD1(POINT(ra, dec)), COORD2(POINT(ra, dec)) FROM integral.scw "
               "WHERE ra IS NOT NULL ORDER BY scw_id", True),
    ("centroid", "SELECT TOP 1 CENTROID(CIRCLE(10, 20, 3)) AS c, CENTROID(POLYGON(10, 10, 12, 10, 11, 12)) AS p, "
                 "COORD1(CENTROID(BOX(83, 22, 2, 4))) AS b1, COORD2(CENTROID(BOX(83, 22, 2, 4))) AS b2 "
                 "FROM integral.scw", True),
    ("geometry-output", "SELECT TOP 3 scw_id, POINT(ra, dec) AS p, CIRCLE(ra, dec, 0.5) AS c, "
                        "POLYGON(ra, dec, ra + 1, dec, ra, dec + 1) AS poly FROM integral.scw "
                        "WHERE ra BETWEEN 10 AND 350 ORDER BY scw_id", True),
    ("box-output", "SELECT TOP 1 BOX(83, 22, 2, 4) AS b FROM integral.scw", True),
    ("coordsys", "SELECT TOP 1 COORDSYS(POINT('ICRS', 1, 2)) FROM integral.scw", True),
    # set operators
    ("union", "SELECT target_name FROM integral.scw WHERE revolution < 300 UNION "
              "SELECT target_name FROM integral.scw WHERE target_name LIKE 'Cyg%' ORDER BY 1", True),
    ("union-all", "SELECT scw_type FROM integral.scw WHERE revolution = 9990 UNION ALL "
                  "SELECT scw_type FROM integral.scw WHERE revolution = 9990", False),
    ("intersect", "SELECT target_name FROM integral.scw WHERE revolution < 2000 INTERSECT "
                  "SELECT target_name FROM integral.scw WHERE revolution >= 2000", False),
    ("except", "SELECT scw_type FROM integral.scw EXCEPT SELECT scw_type FROM integral.scw "
               "WHERE scw_type = 'slew'", False),
    ("intersect-all", "SELECT scw_type FROM integral.scw WHERE revolution = 9990 INTERSECT ALL "
                      "SELECT scw_type FROM integral.scw WHERE scw_type = 'pointing'", False),
    ("except-all", "SELECT scw_type FROM integral.scw WHERE revolution = 9990 EXCEPT ALL "
                   "SELECT scw_type FROM integral.scw WHERE scw_id = '999000010010'", False),
    ("set-top-operand", "SELECT scw_id FROM (SELECT TOP 3 scw_id FROM integral.scw ORDER BY scw_id) AS a "
                        "UNION SELECT scw_id FROM (SELECT TOP 2 scw_id FROM integral.scw ORDER BY scw_id DESC) "
                        "AS b ORDER BY scw_id", True),
    ("set-precedence", "(SELECT scw_type FROM integral.scw UNION SELECT target_name FROM integral.scw "
                       "WHERE revolution = 9990) INTERSECT SELECT scw_type FROM integral.scw WHERE "
                       "revolution = 9990", False),
    ("set-precedence-2", "SELECT scw_type FROM integral.scw WHERE revolution = 9990 EXCEPT SELECT 'slew' "
                         "FROM integral.scw INTERSECT SELECT scw_type FROM integral.scw", False),
    ("intersect-all-names", "SELECT scw_type AS a FROM integral.scw WHERE revolution = 9990 INTERSECT ALL "
                            "SELECT scw_type AS b FROM integral.scw WHERE scw_id LIKE '9990%'", False),
    # common table expressions
    ("with", "WITH crab AS (SELECT scw_id, revolution FROM integral.scw WHERE "
             "DISTANCE(POINT(ra, dec), POINT(83.633, 22.014)) < 10) "
             "SELECT r.revolution, COUNT(*) AS n FROM crab JOIN integral.revolution AS r "
             "USING (revolution) GROUP BY r.revolution ORDER BY r.revolution", True),
    ("with-columns", "WITH t(id, kind) AS (SELECT scw_id, scw_type FROM integral.scw), "
                     "u AS (SELECT kind, COUNT(*) AS n FROM t GROUP BY kind) SELECT * FROM u ORDER BY kind", True),
    # strings
    ("string-functions", "SELECT TOP 5 LOWER(target_name), UPPER(scw_type), scw_id || '.' || scw_ver "
                         "FROM integral.scw WHERE target_name IS NOT NULL ORDER BY scw_id", True),
    ("like", "SELECT scw_id, target_name FROM integral.scw WHERE target_name LIKE 'Cyg X-_' ORDER BY scw_id",
     True),
    ("ilike", "SELECT DISTINCT target_name FROM integral.scw WHERE target_name ILIKE '%crab%' ORDER BY 1",
     True),
    ("not-like", "SELECT COUNT(*) FROM integral.scw WHERE target_name NOT LIKE '%a%'", False),
    ("like-literal-percent", "SELECT scw_id FROM integral.scw WHERE target_name LIKE '50%_off\\ crab'", False),
    ("like-glob-specials", "SELECT scw_id FROM integral.scw WHERE target_name LIKE '%[c]%' OR target_name "
                           "LIKE 'a*b?%' OR target_name LIKE 'a_b_[%' OR target_name LIKE 'O''N%' OR "
                           "target_name ILIKE 'o''neil%' OR target_name ILIKE '%ü'", False),
    ("like-column-pattern", "SELECT COUNT(*) FROM integral.scw WHERE target_name LIKE target_name || '%' "
                            "AND scw_type ILIKE UPPER(scw_type)", False),
    ("concat-number", "SELECT TOP 3 'rev ' || revolution FROM integral.scw ORDER BY scw_id", True),
    # CAST
    ("cast", "SELECT TOP 5 CAST(ra AS INTEGER), CAST(good_isgri AS BIGINT), CAST(revolution AS VARCHAR), "
             "CAST(revolution AS DOUBLE), CAST(ra AS REAL), CAST(revolution AS SMALLINT) "
             "FROM integral.scw WHERE ra IS NOT NULL ORDER BY scw_id", True),
    ("cast-round", "SELECT TOP 1 CAST(2.5 AS INTEGER), CAST(-3.5 AS INTEGER), CAST(2.7 AS BIGINT), "
                   "CAST(' 42 ' AS INTEGER), CAST(1.0 / 3 AS REAL) FROM integral.scw", True),
    ("cast-char", "SELECT TOP 3 CAST(scw_type AS CHAR(4)), CAST(revolution AS CHAR(6)), CAST('12' AS INTEGER) "
                  "FROM integral.scw ORDER BY scw_id", True),
    ("cast-timestamp", "SELECT TOP 3 CAST(start_date AS TIMESTAMP) FROM integral.scw ORDER BY scw_id", True),
    # conditional functions
    ("coalesce", "SELECT scw_id, COALESCE(ra, -1.0), COALESCE(target_name, 'none') FROM integral.scw "
                 "WHERE revolution = 9990 ORDER BY scw_id", True),
    ("nullif", "SELECT scw_id, NULLIF(scw_type, 'slew') FROM integral.scw WHERE revolution = 9990 "
               "ORDER BY scw_id", True),
    ("case", "SELECT TOP 20 scw_id, CASE WHEN good_isgri > 3000 THEN 'long' WHEN good_isgri > 0 THEN 'short' "
             "ELSE 'none' END AS kind, CASE scw_type WHEN 'slew' THEN 1 ELSE 0 END FROM integral.scw "
             "ORDER BY scw_id", True),
    # math
    ("math", "SELECT TOP 5 ABS(dec), CEILING(ra), FLOOR(ra), DEGREES(1), RADIANS(ra), EXP(dec / 100), "
             "LOG(ra + 1), LOG10(ra + 1), SQRT(ra), POWER(dec, 2), PI() FROM integral.scw "
             "WHERE ra > 0 ORDER BY scw_id", True),
    ("trig", "SELECT TOP 5 SIN(RADIANS(dec)), COS(RADIANS(dec)), TAN(RADIANS(dec)), COT(RADIANS(ra)), "
             "ASIN(dec / 90), ACOS(dec / 90), ATAN(dec), ATAN2(dec, ra) FROM integral.scw "
             "WHERE ra > 0 ORDER BY scw_id", True),
    ("round", "SELECT TOP 5 ROUND(ra), ROUND(ra, 2), ROUND(2.5), ROUND(-2.5), ROUND(1234.5, -2), "
              "TRUNCATE(ra, 1), TRUNCATE(-2.7), MOD(revolution, 7), MOD(-7, 3), MOD(7.5, 2) "
              "FROM integral.scw WHERE ra IS NOT NULL ORDER BY scw_id", True),
    ("arithmetic", "SELECT TOP 5 revolution / 2, revolution * 2 + 1, -revolution, revolution / 2.0, "
                   "good_isgri / 3600, revolution / 0, ra / 0.0 FROM integral.scw ORDER BY scw_id", True),
    ("bitwise-hex", "SELECT TOP 5 revolution & 7, revolution | 1, revolution ^ 3, ~revolution, 0xFF "
                    "FROM integral.scw ORDER BY scw_id", True),
    ("in-unit", "SELECT TOP 3 IN_UNIT(good_isgri, 'h'), IN_UNIT(ra, 'arcmin') FROM integral.scw "
                "WHERE ra IS NOT NULL ORDER BY scw_id", True),
    # aggregates
    ("group-by", "SELECT revolution, COUNT(*) AS n, SUM(good_isgri), AVG(good_isgri), MIN(start_time), "
                 "MAX(end_time) FROM integral.scw GROUP BY revolution ORDER BY revolution", True),
    ("having", "SELECT scw_type, COUNT(*) FROM integral.scw GROUP BY scw_type HAVING COUNT(*) > 5 "
               "ORDER BY scw_type", True),
    ("count-distinct", "SELECT COUNT(DISTINCT target_name), COUNT(target_name), COUNT(ra) FROM integral.scw",
     False),
    ("group-by-alias", "SELECT scw_type AS kind, COUNT(*) AS n FROM integral.scw GROUP BY kind ORDER BY n DESC",
     True),
    # subqueries
    ("in-subquery", "SELECT revolution, n_scw FROM integral.revolution WHERE revolution IN "
                    "(SELECT revolution FROM integral.scw WHERE target_name = 'Crab') ORDER BY revolution", True),
    ("exists", "SELECT r.revolution FROM integral.revolution AS r WHERE EXISTS (SELECT * FROM integral.scw "
               "AS s WHERE s.revolution = r.revolution AND s.good_jemx1 > 3000) ORDER BY 1", True),
    ("not-exists", "SELECT COUNT(*) FROM integral.revolution AS r WHERE NOT EXISTS (SELECT scw_id FROM "
                   "integral.scw AS s WHERE s.revolution = r.revolution AND s.scw_type = 'slew')", False),
    ("scalar-subquery", "SELECT TOP 3 scw_id, (SELECT MAX(good_isgri) FROM integral.scw) AS best "
                        "FROM integral.scw ORDER BY scw_id", True),
    ("correlated-scalar", "SELECT TOP 5 r.revolution, (SELECT COUNT(*) FROM integral.scw AS s WHERE "
                          "s.revolution = r.revolution) AS n FROM integral.revolution AS r ORDER BY 1", True),
    ("derived-table", "SELECT t.kind, t.n FROM (SELECT scw_type AS kind, COUNT(*) AS n FROM integral.scw "
                      "GROUP BY scw_type) AS t WHERE t.n > 1 ORDER BY t.kind", True),
    # joins
    ("inner-join", "SELECT TOP 5 s.scw_id, r.perigee_time FROM integral.scw AS s INNER JOIN "
                   "integral.revolution AS r ON s.revolution = r.revolution ORDER BY s.scw_id", True),
    ("join-using", "SELECT TOP 5 revolution, s.scw_id, r.n_scw FROM integral.scw AS s JOIN integral.revolution "
                   "AS r USING (revolution) ORDER BY s.scw_id", True),
    ("full-join-using", "SELECT revolution, a.n, b.m FROM (SELECT revolution, COUNT(*) AS n FROM integral.scw "
                        "WHERE revolution < 400 GROUP BY revolution) AS a FULL OUTER JOIN (SELECT revolution, "
                        "n_scw AS m FROM integral.revolution WHERE revolution > 300) AS b USING (revolution) "
                        "ORDER BY revolution", True),
    ("right-join-using-star", "SELECT * FROM (SELECT revolution, COUNT(*) AS n FROM integral.scw WHERE "
                              "scw_type = 'slew' AND revolution < 400 GROUP BY revolution) AS a RIGHT OUTER JOIN "
                              "integral.revolution AS r USING (revolution) WHERE r.revolution < 500 "
                              "ORDER BY revolution", True),
    ("chained-using", "SELECT TOP 5 revolution, a.scw_id, c.n_scw FROM integral.scw AS a JOIN integral.scw AS b "
                      "USING (scw_id, revolution) JOIN integral.revolution AS c USING (revolution) "
                      "ORDER BY a.scw_id", True),
    ("natural-join", "SELECT COUNT(*) FROM integral.scw NATURAL JOIN integral.revolution", False),
    ("left-join", "SELECT s.scw_id, t.scw_id FROM integral.scw AS s LEFT OUTER JOIN integral.scw AS t "
                  "ON t.scw_id = s.scw_id AND t.scw_type = 'slew' WHERE s.revolution = 9990 ORDER BY 1", True),
    ("right-join", "SELECT s.scw_id, r.revolution FROM integral.scw AS s RIGHT OUTER JOIN integral.revolution "
                   "AS r ON s.revolution = r.revolution AND s.scw_type = 'engineering' "
                   "WHERE r.revolution > 2000 ORDER BY 2, 1", True),
    ("full-join", "SELECT a.scw_id, b.scw_id FROM (SELECT scw_id FROM integral.scw WHERE revolution = 9990 "
                  "AND ra > 100) AS a FULL OUTER JOIN (SELECT scw_id FROM integral.scw WHERE revolution = 9990 "
                  "AND ra < 200) AS b ON a.scw_id = b.scw_id ORDER BY 1, 2", True),
    ("cross-join", "SELECT TOP 6 a.scw_id, b.scw_type FROM integral.scw AS a CROSS JOIN "
                   "(SELECT DISTINCT scw_type FROM integral.scw) AS b ORDER BY 1, 2", True),
    ("comma-join", "SELECT TOP 3 s.scw_id, r.n_scw FROM integral.scw s, integral.revolution r "
                   "WHERE s.revolution = r.revolution ORDER BY s.scw_id DESC", True),
    ("self-join-cone", "SELECT TOP 10 a.scw_id, b.scw_id, DISTANCE(POINT(a.ra, a.dec), POINT(b.ra, b.dec)) "
                       "FROM integral.scw AS a JOIN integral.scw AS b ON a.scw_id < b.scw_id AND "
                       "CONTAINS(POINT(b.ra, b.dec), CIRCLE(a.ra, a.dec, 0.01)) = 1 "
                       "WHERE a.revolution < 700 ORDER BY 1, 2", True),
    # delimited identifiers
    ("delimited", 'SELECT TOP 3 "ra", "s"."dec" AS "Dec Of ""X""", s."scw_id" FROM "integral"."scw" AS "s" '
                  'ORDER BY "s"."scw_id"', True),
    ("delimited-alias", 'SELECT "My Count" FROM (SELECT COUNT(*) AS "My Count" FROM integral.scw) AS "T T"', True),
    # predicates
    ("between-in", "SELECT scw_id FROM integral.scw WHERE revolution BETWEEN 9990 AND 9999 AND pointing "
                   "IN (1, 3, 5) AND NOT scw_type IN ('slew') ORDER BY scw_id", True),
    ("is-null", "SELECT scw_id FROM integral.scw WHERE ra IS NULL OR target_name IS NULL ORDER BY scw_id", True),
    ("boolean-column", "SELECT COUNT(*) FROM integral.scw WHERE data_in_archive = 1", False),
    ("udf", "SELECT COUNT(*) FROM integral.scw WHERE ivo_interval_overlaps(start_time, end_time, 55000, 56000) "
            "= 1 AND ivo_nocasematch(scw_type, 'POINT%') = 1", False),
    ("udf-values", "SELECT scw_id, ivo_nocasematch(target_name, '%CRAB'), ivo_interval_overlaps(1, 2, 2, 3) "
                   "FROM integral.scw WHERE revolution = 9990 ORDER BY scw_id", True),
    # the standard views and TAP_SCHEMA-described tables
    ("obscore-cone", "SELECT obs_id, s_ra, s_dec, data_rights FROM ivoa.obscore WHERE 1 = CONTAINS("
                     "POINT(s_ra, s_dec), CIRCLE(83.633, 22.014, 3)) ORDER BY obs_id", True),
    ("obsplan", "SELECT COUNT(*), MIN(t_min), MAX(obs_release_date) FROM ivoa.obsplan", False),
]


@pytest.mark.parametrize("adql,ordered", [q[1:] for q in QUERIES], ids=[q[0] for q in QUERIES])
def test_both_databases_give_the_same_rows(engines, adql, ordered):
    tr_sqlite, lite = run(engines["sqlite"], adql)
    tr_pg, pg = run(engines["postgresql"], adql)
    assert lite, "the query must return rows for the comparison to mean something"
    assert [c.name for c in tr_sqlite.columns] == [c.name for c in tr_pg.columns]
    assert [(c.datatype, c.xtype) for c in tr_sqlite.columns] == \
        [(c.datatype, c.xtype) for c in tr_pg.columns]
    if not ordered:
        lite, pg = sorted(lite, key=_key), sorted(pg, key=_key)
    assert len(lite) == len(pg)
    for a, b in zip(lite, pg):
        assert _same(a, b), f"SQLite {a} != PostgreSQL {b}"


# ---- cones are exact: astropy's separations ---------------------------------------------------

def _astropy_cone(ra0, dec0, radius):
    """scw_ids of the visible catalogue rows within ``radius`` deg, by astropy, and those
    too close to the edge (1e-9 deg) to call either way."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord
    rows = [r for r in CATALOGUE if r["ra"] is not None and not (
        r["status"] == "private" and r["public_date"] > PAST)]
    sep = SkyCoord([r["ra"] for r in rows] * u.deg, [r["dec"] for r in rows] * u.deg).separation(
        SkyCoord(ra0 * u.deg, dec0 * u.deg)).deg
    inside = {r["scw_id"] for r, s in zip(rows, sep) if s <= radius}
    edge = {r["scw_id"] for r, s in zip(rows, sep) if abs(s - radius) < 1e-9}
    return inside, edge


CONES = [(83.633, 22.014, 5.0), (0.0, 0.0, 0.1), (359.99, 0.01, 0.05), (200.0, 89.99, 0.5),
         (266.4, -29.0, 12.0), (10.0, -60.0, 30.0)]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@pytest.mark.parametrize("form", ["contains", "distance"])
def test_cone_search_agrees_with_astropy_separations(engines, dialect, form):
    for ra0, dec0, radius in CONES:
        condition = (f"1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra0}, {dec0}, {radius}))"
                     if form == "contains" else
                     f"DISTANCE(POINT(ra, dec), POINT({ra0}, {dec0})) <= {radius}")
        _, rows = run(engines[dialect], f"SELECT scw_id FROM integral.scw WHERE {condition}")
        found = {r[0] for r in rows}
        expected, edge = _astropy_cone(ra0, dec0, radius)
        assert found - edge == expected - edge, (ra0, dec0, radius)
    assert expected  # the last cone is large enough to hold science windows


def test_distance_agrees_with_astropy(engines):
    from astropy import units as u
    from astropy.coordinates import SkyCoord
    adql = ("SELECT scw_id, ra, dec, DISTANCE(POINT(ra, dec), POINT(83.633, 22.014)) FROM integral.scw "
            "WHERE ra IS NOT NULL ORDER BY scw_id")
    for engine in engines.values():
        _, rows = run(engine, adql)
        sep = SkyCoord([r[1] for r in rows] * u.deg, [r[2] for r in rows] * u.deg).separation(
            SkyCoord(83.633 * u.deg, 22.014 * u.deg)).deg
        assert max(abs(r[3] - s) for r, s in zip(rows, sep)) < 1e-10


# ---- the spatial index -----------------------------------------------------------------------

CONE_QUERIES = [
    "SELECT scw_id FROM integral.scw WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE(83.633, 22.014, 5))",
    "SELECT COUNT(*) FROM integral.scw WHERE DISTANCE(POINT(ra, dec), POINT(83.633, 22.014)) < 5",
    "SELECT s.scw_id, r.n_scw FROM integral.scw AS s JOIN integral.revolution AS r USING (revolution) "
    "WHERE CONTAINS(POINT(s.ra, s.dec), CIRCLE(83.633, 22.014, 5)) = 1 AND s.good_isgri > 1000",
    "SELECT obs_id FROM ivoa.obscore WHERE CONTAINS(POINT(s_ra, s_dec), CIRCLE(83.633, 22.014, 5)) = 1",
    "SELECT scw_id FROM integral.scw WHERE CONTAINS(POINT(ra, dec), CIRCLE(POINT(83.633, 22.014), 5)) = 1",
    "SELECT scw_id FROM integral.scw WHERE CONTAINS(POINT(ra, dec), POLYGON(78, 15, 90, 15, 90, 30)) = 1",
    "SELECT scw_id FROM integral.scw WHERE CONTAINS(POINT(ra, dec), BOX(83.6, 22.0, 10, 6)) = 1",
]


@pytest.mark.parametrize("adql", CONE_QUERIES)
@pytest.mark.parametrize("groups", [None, frozenset({"proposal-secret"})])
def test_sqlite_cone_search_reads_the_rtree_not_the_table(sqlite_engine, adql, groups):
    sql = translate(parse(adql), TABLESET, DIALECTS["sqlite"], user_groups=groups).sql
    with sqlite_engine.connect() as conn:
        plan = [r[3] for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql))]
    table = "obscore" if "obscore" in adql else "scw"
    assert any(f"SCAN {'ivoa' if table == 'obscore' else 'integral'}.{table}_sky VIRTUAL TABLE" in p
               for p in plan), plan
    assert any(p.startswith(f"SEARCH") and f".{table} USING INTEGER PRIMARY KEY (rowid=?)" in p
               for p in plan), plan
    assert not any(p.startswith("SCAN") and p.endswith(f".{table}") for p in plan), plan


@pytest.mark.parametrize("adql", CONE_QUERIES)
def test_postgresql_cone_search_uses_the_gist_index(pg_engine, adql):
    """The small test table would be read whole by choice, so sequential scans are
    switched off: the index must be able to answer (bench/bench_tap.py shows the plan the
    planner chooses on 300,000 rows)."""
    sql = translate(parse(adql), TABLESET, DIALECTS["postgresql"], user_groups=frozenset({"g"})).sql
    with pg_engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + sql)))
    assert "scw_sky_idx" in plan, plan
    assert "Seq Scan on scw" not in plan, plan


# ---- geometry in results: DALI xtypes ----------------------------------------------------------

def test_geometry_results_carry_dali_xtypes():
    tr = translate("SELECT POINT(ra, dec) AS p, CIRCLE(ra, dec, 1) AS c, POLYGON(1, 2, 3, 4, 5, 6) AS g, "
                   "BOX(10, 10, 1, 1) AS b, CENTROID(CIRCLE(1, 2, 3)) AS m, ra FROM integral.scw",
                   TABLESET, DIALECTS["sqlite"])
    shapes = [(c.name, c.datatype, c.arraysize, c.xtype, c.unit) for c in tr.columns]
    assert shapes == [("p", "double", "2", "point", "deg"), ("c", "double", "3", "circle", "deg"),
                      ("g", "double", "*", "polygon", "deg"), ("b", "double", "*", "polygon", "deg"),
                      ("m", "double", "2", "point", "deg"), ("ra", "double", None, None, "deg")]


def test_result_columns_keep_the_declared_metadata():
    tr = translate("SELECT s.ra AS x, good_isgri, revolution FROM integral.scw AS s", TABLESET, DIALECTS["postgresql"])
    x, good, rev = tr.columns
    assert (x.name, x.unit, x.ucd) == ("x", "deg", "pos.eq.ra;meta.main")
    assert (good.datatype, good.unit, good.ucd) == ("double", "s", "time.duration;obs.exposure")
    assert rev.datatype == "int" and rev.description.startswith("Revolution")


def test_maxrec_limits_the_rows_and_top_wins_when_smaller(sqlite_engine):
    assert len(run(sqlite_engine, "SELECT scw_id FROM integral.scw", maxrec=7)[1]) == 7
    assert len(run(sqlite_engine, "SELECT TOP 3 scw_id FROM integral.scw", maxrec=7)[1]) == 3
    assert len(run(sqlite_engine, "SELECT scw_id FROM integral.scw UNION ALL "
                                  "SELECT scw_id FROM integral.scw", maxrec=5)[1]) == 5


# ---- names are checked against the table set ----------------------------------------------------

@pytest.mark.parametrize("adql,message", [
    ("SELECT ra FROM integral.scww", "table 'integral.scww' not found; did you mean 'integral.scw'?"),
    ("SELECT ra FROM integral.revolutions", "did you mean 'integral.revolution'?"),
    ("SELECT ra FROM scwx", "did you mean"),
    ("SELECT raa FROM integral.scw", "column 'raa' not found in integral.scw; did you mean 'ra'?"),
    ("SELECT good_isgr FROM integral.scw", "did you mean 'good_isgri'?"),
    ("SELECT s.decl FROM integral.scw AS s", "column 'decl' not found in integral.scw; did you mean 'dec'?"),
    ("SELECT x.ra FROM integral.scw AS s", "no table 'x' in FROM"),
    ("SELECT start_time FROM integral.scw JOIN integral.revolution USING (revolution)",
     "column 'start_time' is ambiguous"),
    ('SELECT "RA" FROM integral.scw', "column 'RA' not found"),  # delimited: case matters
    ("SELECT total FROM (SELECT COUNT(*) AS totals FROM integral.scw) AS t", "did you mean 'totals'?"),
    ("SELECT * FROM integral.scw WHERE ivo_unknown(ra) = 1", "not provided by this service"),
    ("SELECT CAST(ra AS POINT) FROM integral.scw", "not supported"),
    ("SELECT scw_id FROM integral.scw UNION SELECT scw_id, ra FROM integral.scw", "have 1 and 2 columns"),
    ("SELECT ra FROM integral.scw WHERE ra IN (SELECT ra, dec FROM integral.scw)", "returns 2 columns"),
    ("SELECT CIRCLE(1, 2, 95) FROM integral.scw", "between 0 and 90 degrees"),
    ("SELECT BOX(ra, dec, 1, 1) FROM integral.scw", "BOX takes constant numbers"),
])
@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_bad_names_are_errors_that_name_the_closest_existing_one(adql, message, dialect):
    with pytest.raises(ADQLSemanticError) as err:
        translate(parse(adql), TABLESET, DIALECTS[dialect])
    assert message in str(err.value)


def test_delimited_identifiers_match_exactly_and_regular_ones_in_any_case(engines):
    for engine in engines.values():
        _, rows = run(engine, 'SELECT TOP 1 "scw_id", SCW_ID, Scw_Id FROM INTEGRAL.SCW ORDER BY "scw_id"')
        assert len(set(rows[0])) == 1


# ---- injection is impossible by construction ------------------------------------------------------

HOSTILE = "O'Neil \"q\"; DROP TABLE integral.scw; --"


@pytest.mark.parametrize("adql", [
    # strings: quotes, backslashes, comment markers and statement separators are data
    "SELECT scw_id FROM integral.scw WHERE target_name = 'O''Neil \"q\"; DROP TABLE integral.scw; --'",
    "SELECT scw_id FROM integral.scw WHERE target_name LIKE '%''; DELETE FROM integral.scw; --%'",
    "SELECT scw_id FROM integral.scw WHERE target_name = '50%_off\\ crab' OR target_name = '\\' ",
    "SELECT scw_id FROM integral.scw WHERE target_name = '$$; DROP TABLE integral.scw; $$'",
    "SELECT scw_id FROM integral.scw WHERE target_name = '\\''; DROP TABLE integral.scw; --'",
    "SELECT scw_id FROM integral.scw WHERE target_name = '*/ DROP TABLE integral.scw; /*'",
])
def test_hostile_strings_are_only_data(engines, adql):
    results = []
    for engine in engines.values():
        results.append(run(engine, adql)[1])
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM integral.scw")).scalar() == len(CATALOGUE)
    assert results[0] == results[1]
    assert len(results[0]) <= 1  # at most the one row that holds such a name


def test_a_hostile_string_finds_its_row_on_both_databases(engines):
    quoted = HOSTILE.replace("'", "''")
    for engine in engines.values():
        _, rows = run(engine, f"SELECT target_name FROM integral.scw WHERE target_name = '{quoted}'")
        assert rows == [(HOSTILE,)]
        _, rows = run(engine, "SELECT target_name FROM integral.scw WHERE target_name LIKE '50\\%%'")
        assert rows == []  # no escape character in ADQL: the backslash is a plain character
        _, rows = run(engine, "SELECT target_name FROM integral.scw WHERE target_name LIKE '50%\\ crab'")
        assert rows == [("50%_off\\ crab",)]


@pytest.mark.parametrize("adql", [
    'SELECT "ra""; DROP TABLE integral.scw; --" FROM integral.scw',
    'SELECT ra FROM integral."scw; DROP TABLE integral.scw"',
    'SELECT ra FROM "integral"."scw" AS "x"" ; DROP TABLE integral.scw; --" WHERE 1 = 1',
    'SELECT "x""y".ra FROM integral.scw AS "x""y" WHERE "x""y".dec > 0',
    'SELECT ra AS "a"" FROM integral.scw; --" FROM integral.scw',
    'WITH "w""; DROP TABLE integral.scw; --" AS (SELECT ra FROM integral.scw) '
    'SELECT * FROM "w""; DROP TABLE integral.scw; --"',
])
def test_hostile_identifiers_are_names_or_errors_never_sql(engines, adql):
    for engine in engines.values():
        try:
            tr = translate(parse(adql), TABLESET, dialect_of(engine))
        except (ADQLSemanticError, ADQLSyntaxError):
            continue
        assert "DROP TABLE integral.scw; --\" FROM" not in tr.sql
        with engine.connect() as conn:
            conn.execute(text(tr.sql)).fetchall()
            assert conn.execute(text("SELECT COUNT(*) FROM integral.scw")).scalar() == len(CATALOGUE)


def test_nul_characters_and_unparsed_text_never_reach_the_database():
    with pytest.raises(ADQLSemanticError):
        translate("SELECT ra FROM integral.scw WHERE target_name = 'a\x00b'", TABLESET, DIALECTS["postgresql"])
    with pytest.raises(ADQLSyntaxError):
        translate("SELECT ra FROM integral.scw; DROP TABLE integral.scw", TABLESET, DIALECTS["sqlite"])
    with pytest.raises(ADQLSyntaxError):
        translate("SELECT ra FROM integral.scw /* comment */", TABLESET, DIALECTS["sqlite"])
    # comments in ADQL are dropped by the parser: they are not copied into the SQL
    assert "--" not in translate("SELECT ra -- DROP\nFROM integral.scw", TABLESET, DIALECTS["sqlite"]).sql


# ---- proprietary science windows ------------------------------------------------------------------

MEMBER = frozenset({"proposal-secret", "other"})
STRANGER = frozenset({"proposal-other"})


def _ids(engine, adql, groups):
    return {r[0] for r in run(engine, adql, user_groups=groups)[1]}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@pytest.mark.parametrize("who,groups", [("anonymous", None), ("non-member", STRANGER),
                                        ("no groups", frozenset()), ("member", MEMBER)])
def test_private_windows_are_visible_to_members_of_their_group_only(engines, dialect, who, groups):
    engine = engines[dialect]
    member = who == "member"
    everything = _ids(engine, "SELECT scw_id FROM integral.scw", groups)
    if member:
        assert SECRET <= everything
    else:
        assert not SECRET & everything
    assert ORPHAN not in everything  # private without a group: nobody before its public date
    assert RELEASED in everything  # past its public date: everybody, nobody acted
    visible = len(CATALOGUE) - 1 - (0 if member else 2)  # the orphan, the two secret ones
    public_cone = len(_astropy_cone(83.633, 22.014, 0.45)[0])
    revolutions = run(engine, "SELECT COUNT(*) FROM integral.revolution")[1][0][0]
    # path: (ADQL, count seen by a member, count seen by anyone else); revolution 9990 holds
    # the ten hand-made windows, two of them secret and one the orphan
    paths = {
        "count": ("SELECT COUNT(*) FROM integral.scw", visible, visible),
        "count-where": ("SELECT COUNT(*) FROM integral.scw WHERE target_name = 'secret Crab'", 2, 0),
        "group column": ("SELECT COUNT(*) FROM integral.scw WHERE proprietary_group = 'proposal-secret'",
                         2, 0),
        "cone": ("SELECT COUNT(*) FROM integral.scw WHERE 1 = CONTAINS(POINT(ra, dec), "
                 "CIRCLE(83.633, 22.014, 0.45))", public_cone + 2, public_cone),
        "join": ("SELECT COUNT(*) FROM integral.revolution AS r JOIN integral.scw AS s "
                 "ON s.revolution = r.revolution WHERE r.revolution = 9990", 9, 7),
        "self-join": ("SELECT COUNT(*) FROM integral.scw AS a JOIN integral.scw AS b "
                      "USING (scw_id) WHERE a.revolution = 9990", 9, 7),
        "left-join": ("SELECT COUNT(s.scw_id) FROM integral.revolution AS r LEFT JOIN integral.scw AS s "
                      "ON s.revolution = r.revolution AND s.target_name = 'secret Crab'", 2, 0),
        "scalar subquery": ("SELECT COUNT(*) FROM integral.revolution WHERE 2 = (SELECT COUNT(*) FROM "
                            "integral.scw WHERE target_name = 'secret Crab')", revolutions, 0),
        "in-subquery": ("SELECT COUNT(*) FROM integral.revolution WHERE revolution IN (SELECT revolution "
                        "FROM integral.scw WHERE target_name = 'secret Crab')", 1, 0),
        "exists": ("SELECT COUNT(*) FROM integral.revolution AS r WHERE EXISTS (SELECT 1 FROM integral.scw "
                   "AS s WHERE s.revolution = r.revolution AND s.proprietary_group = 'proposal-secret')", 1, 0),
        "derived table": ("SELECT COUNT(*) FROM (SELECT scw_id FROM integral.scw WHERE status = 'private') "
                          "AS t", 2, 0),
        "cte": ("WITH t AS (SELECT * FROM integral.scw WHERE target_name LIKE 'secret%') "
                "SELECT COUNT(*) FROM t", 2, 0),
        "union": ("SELECT COUNT(*) FROM (SELECT scw_id FROM integral.revolution AS r JOIN integral.scw AS s "
                  "USING (revolution) WHERE revolution = 9990 UNION SELECT scw_id FROM integral.scw "
                  "WHERE target_name = 'secret Crab') AS u", 9, 7),
        "obscore": ("SELECT COUNT(*) FROM ivoa.obscore WHERE target_name = 'secret Crab'", 2, 0),
        "obsplan": ("SELECT COUNT(*) FROM ivoa.obsplan WHERE target_name = 'secret Crab'", 1, 0),  # 1 pointing
    }
    counts = {name: run(engine, adql, user_groups=groups)[1][0][0] for name, (adql, _, _) in paths.items()}
    assert counts == {name: (m if member else other) for name, (_, m, other) in paths.items()}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_a_window_past_its_public_date_reads_public(engines, dialect):
    _, rows = run(engines[dialect], f"SELECT status FROM integral.scw WHERE scw_id = '{RELEASED}'")
    assert rows == [("public",)]
    _, rows = run(engines[dialect], "SELECT data_rights FROM ivoa.obscore WHERE obs_id = "
                                    f"'{RELEASED}'")
    assert rows == [("public",)]
    _, rows = run(engines[dialect], f"SELECT status FROM integral.scw WHERE scw_id IN "
                                    f"('{min(SECRET)}', '{ORPHAN}')", user_groups=MEMBER)
    assert rows == [("private",)]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_private_windows_become_public_at_their_public_date_without_anyone_acting(engines, dialect):
    later = dt.datetime(2099, 1, 1, 0, 0, 1)
    before = dt.datetime(2098, 12, 31, 23, 59, 59)
    adql = "SELECT scw_id, status FROM integral.scw WHERE status = 'private' OR scw_id = '%s'" % ORPHAN
    assert run(engines[dialect], adql, now=before)[1] == []
    # the orphan is visible now, and no window reads 'private' any more
    assert run(engines[dialect], adql, now=later)[1] == [(ORPHAN, "public")]
    _, rows = run(engines[dialect], "SELECT scw_id, status FROM integral.scw WHERE target_name IN "
                                    "('secret Crab', 'orphan') ORDER BY scw_id", now=later)
    assert rows == [(i, "public") for i in sorted(SECRET | {ORPHAN})]


def test_every_read_of_a_proprietary_table_is_filtered_in_the_sql():
    adql = "SELECT COUNT(*) FROM integral.scw AS a, ivoa.obscore AS b, ivoa.obsplan AS c"
    pg = translate(adql, TABLESET, DIALECTS["postgresql"], user_groups=frozenset({"g'1"}))
    # PostgreSQL: only the barrier views are read; the groups are a setting of the transaction
    for table in ("integral.scw", "ivoa.obscore", "ivoa.obsplan"):
        schema, name = table.split(".")
        assert f'"{schema}"."{name}__visible" AS' in pg.sql
        assert f'"{schema}"."{name}" AS' not in pg.sql
    assert pg.setup and "'{\"g''1\"}'" in pg.setup[0]  # quoted like any string
    sqlite = translate(adql, TABLESET, DIALECTS["sqlite"], user_groups=frozenset({"g'1"})).sql
    # SQLite: once in each derived table's WHERE, once in each guard of its 36 + 37 + ... columns
    assert sqlite.count("FROM \"integral\".\"scw\" WHERE (\"status\" <> 'private'") == 1
    assert sqlite.count("\"data_rights\" <> 'proprietary'") > 2
    assert "IN ('g''1')" in sqlite


def test_using_merges_the_join_column_from_the_side_that_has_the_row(engines):
    """SQL: the USING column of a RIGHT join is the right one's, of a FULL join the one of
    either side (COALESCE), so it is never NULL for a row of either table."""
    for engine in engines.values():
        for kind in ("RIGHT OUTER", "FULL OUTER"):
            _, rows = run(engine, f"SELECT revolution, a.n FROM (SELECT revolution, 1 AS n FROM "
                                  f"integral.revolution WHERE revolution < 0) AS a {kind} JOIN "
                                  f"integral.revolution AS b USING (revolution)")
            assert rows and all(r[0] is not None and r[1] is None for r in rows)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_circles_are_closed_and_exact_from_arcseconds_to_degrees(engines, dialect):
    edge = "999000060010"  # exactly 0.5 deg south of the Crab
    cone = "SELECT scw_id FROM integral.scw WHERE revolution = 9990 AND CONTAINS(POINT(ra, dec), CIRCLE({}))= 1"
    assert edge in _ids(engines[dialect], cone.format(f"{CRAB[0]}, {CRAB[1]}, 0.5"), None)
    assert edge not in _ids(engines[dialect], cone.format(f"{CRAB[0]}, {CRAB[1]}, 0.4999999"), None)
    # a milliarcsecond circle around a window holds that window only, also at RA 359.95
    assert _ids(engines[dialect], cone.format("359.95, 0.02, 0.0000003"), None) == {"999000010010"}
    assert _ids(engines[dialect], cone.format("359.9500004, 0.02, 0.0000003"), None) == set()
