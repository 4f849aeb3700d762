"""ADQL 2.1 → SQL: every feature runs on SQLite and on PostgreSQL/pgsphere with the same result.

One small deterministic catalogue (demo science windows plus hand-made rows at the sky's
awkward places: RA 0/360, the pole, no attitude, hostile strings, proprietary rows) is
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
from tap_catalog.tableset import TableSet

from conftest import POSTGRES_URL

TABLESET = TableSet.load()
CRAB = (83.633, 22.014)
FUTURE, PAST = "2099-01-01T00:00:00", "2003-01-01T00:00:00"


# ---- the catalogue -------------------------------------------------------------------------

def _catalogue() -> list[dict]:
    rows = list(demo.generate(1500, seed=11))
    template = dict(rows[0])

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
    ]
    return rows


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
    tr = translate(parse(adql), TABLESET, engine.dialect.name, **kw)
    with engine.connect() as conn:
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
    ("concat-number", "SELECT TOP 3 'rev ' || revolution FROM integral.scw ORDER BY scw_id", True),
    # CAST
    ("cast", "SELECT TOP 5 CAST(ra AS INTEGER), CAST(good_isgri AS BIGINT), CAST(revolution AS VARCHAR), "
             "CAST(revolution AS DOUBLE), CAST(ra AS REAL), CAST(revolution AS SMALLINT) "
             "FROM integral.scw WHERE ra IS NOT NULL ORDER BY scw_id", True),
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
                   "good_isgri / 3600 FROM integral.scw ORDER BY scw_id", True),
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
            "= 1 AND ivo_nocasematch(scw_type, 'POINTING') = 1", False),
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
