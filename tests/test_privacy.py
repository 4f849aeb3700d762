"""Private science windows stay private whatever the query: no expression of a user's
query is evaluated on a row the user may not see, so neither an error nor its message
tells anything of such a row, on SQLite and on PostgreSQL (tap_catalog/row_access.py).

Each error-raising expression (a CAST, SQRT, LOG, a division by zero, a text read as a
timestamp) is run against a hidden window and against a window that does not exist: the
answers must be the same. The owner's group sees the window, and then the same query is
the user's error: a VOTable error document with status 400 that names the failure, or,
when the failing row comes after rows already sent, the trailing QUERY_STATUS ERROR.
"""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text

from accounts import users
from tap_catalog import adql, demo, ingest, row_access
from tap_catalog.dialects import DIALECTS

from conftest import load_demo, wait_for
from schemas import assert_valid

VOTABLE_NS = "{http://www.ivoa.net/xml/VOTable/v1.3}"
HIDDEN, ABSENT, VISIBLE = "000200020010", "000200990010", "000200010010"

# ingested after the demo rows: physically last, so a scan meets them after thousands of rows
PRIVATE_CSV = """scw_id,scw_ver,scw_type,ra,dec,start_time,end_time,good_isgri,target_name,pi_name,status,public_date,proprietary_group
000200010010,001,pointing,266.40,-28.94,52567.500,52567.503,1800,GC public,12345,public,,
000200020010,001,pointing,266.41,-28.95,52567.504,52567.507,1800,GC secret,Secretini,private,2099-01-01T00:00:00,gc-team
"""

#: conditions that raise on the hidden window (pi_name 'Secretini', good_isgri 1800) and on
#: none of the others
RAISING = {
    "cast": "CAST(pi_name AS INTEGER) > 0",
    "sqrt": "SQRT(good_isgri - 1e6) > 0",
    "log": "LOG(good_isgri - 1800) > 0",
    # x / 0 is NULL on both databases (docs/adql.md); MOD by zero is an error on both
    "division": "MOD(good_isgri, good_isgri - 1800) > 0",
    "timestamp": "CAST(pi_name AS TIMESTAMP) > '2000-01-01'",
}
DEMO_ROWS = 6000  # about 4,500 public: more than two fetches of the PostgreSQL cursor


@pytest.fixture
def config(config_on_both_databases):
    return config_on_both_databases


@pytest.fixture
def service(app, tmp_path):
    """(app, headers of a member of the hidden window's group)."""
    hera = app.extensions["hera"]
    if hera.engine.dialect.name == "postgresql":
        # a new heap (the database is the session's): rows lie, and are scanned, in the
        # order they are written, so the private windows come after the demo rows
        with hera.engine.begin() as conn:
            conn.execute(text("TRUNCATE integral.scw"))
    rows = [r for r in demo.generate(DEMO_ROWS, 11) if r["status"] == "public"]
    demo.load(hera.engine, hera.tableset, rows, replace=True)
    path = tmp_path / "private.csv"
    path.write_text(PRIVATE_CSV)
    ingest.ingest(hera.engine, hera.tableset, [path], progress=False)
    token = users.add_user(hera.engine, f"member{os.urandom(4).hex()}", ["gc-team"])
    return app, {"Authorization": f"Bearer {token}"}


def sync(app, query, headers=None):
    return app.test_client().post("/tap/sync", data={"LANG": "ADQL", "QUERY": query,
                                                        "RESPONSEFORMAT": "votable/td"},
                                  headers=headers or {})


def status_of(body: bytes) -> tuple[str, str]:
    assert_valid("VOTable.xsd", body)
    infos = [i for i in ET.fromstring(body).iter(f"{VOTABLE_NS}INFO") if i.get("name") == "QUERY_STATUS"]
    return infos[-1].get("value"), (infos[-1].text or "")


def count(app, query, headers=None) -> int:
    r = sync(app, query, headers)
    assert r.status_code == 200, r.data[:500]
    value, message = status_of(r.data)
    assert value == "OK", message
    return int(ET.fromstring(r.data).find(f".//{VOTABLE_NS}TD").text)


@pytest.mark.parametrize("kind", sorted(RAISING))
def test_a_hidden_window_answers_as_an_absent_one(service, kind):
    app, member = service
    condition = RAISING[kind]
    hidden = f"SELECT COUNT(*) FROM integral.scw WHERE scw_id = '{HIDDEN}' AND {condition}"
    absent = f"SELECT COUNT(*) FROM integral.scw WHERE scw_id = '{ABSENT}' AND {condition}"
    assert count(app, hidden) == count(app, absent) == 0
    # only the hidden window has a public date this late: the condition meets no other row
    late = f"SELECT COUNT(*) FROM integral.scw WHERE public_date > '2027-02-01' AND {condition}"
    assert count(app, late) == 0
    # to its group the window is visible, and the same query is the user's error
    r = sync(app, hidden, member)
    assert r.status_code == 400, r.data[:500]
    value, message = status_of(r.data)
    assert value == "ERROR" and "cannot be evaluated" in message, message


def test_the_error_names_the_failure_and_a_visible_value(service):
    app, member = service
    r = sync(app, f"SELECT COUNT(*) FROM integral.scw WHERE scw_id = '{HIDDEN}' "
                  "AND CAST(pi_name AS INTEGER) > 0", member)
    assert r.status_code == 400
    assert "Secretini" in status_of(r.data)[1]  # the member's own window: its value may be named
    r = sync(app, "SELECT SQRT(-1) AS x FROM integral.scw WHERE scw_id = '000200010010'")
    assert r.status_code == 400
    message = status_of(r.data)[1]
    assert "square root" in message.lower() or "SQRT(-1" in message, message


PATHS = {
    "join": "SELECT COUNT(*) FROM integral.scw AS s JOIN integral.revolution AS r "
            "ON s.revolution = r.revolution WHERE {c}",
    "subquery": "SELECT COUNT(*) FROM integral.revolution WHERE revolution IN "
                "(SELECT revolution FROM integral.scw WHERE {c})",
    "derived": "SELECT COUNT(*) FROM (SELECT * FROM integral.scw) AS t WHERE {c}",
    "cte": "WITH t AS (SELECT * FROM integral.scw) SELECT COUNT(*) FROM t WHERE {c}",
    "union": "SELECT COUNT(*) FROM (SELECT scw_id FROM integral.scw WHERE {c} UNION "
             "SELECT scw_id FROM integral.scw WHERE scw_id = '{v}') AS u",
    "obscore": "SELECT COUNT(*) FROM ivoa.obscore WHERE obs_id = '{h}' AND "
               "CAST(target_name AS INTEGER) > 0",
    "obsplan": "SELECT COUNT(*) FROM ivoa.obsplan WHERE obs_id = '{h}' AND "
               "CAST(target_name AS INTEGER) > 0",
}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_no_path_evaluates_an_expression_on_a_hidden_window(service, path):
    app, _ = service
    query = PATHS[path].format(c=f"scw_id = '{HIDDEN}' AND CAST(pi_name AS INTEGER) > 0",
                               h=HIDDEN, v=VISIBLE)
    assert count(app, query) == (1 if path == "union" else 0)


def test_an_uploaded_table_joined_with_a_hidden_window(service):
    app, _ = service
    table = (b'<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
             b'<RESOURCE><TABLE><FIELD name="id" datatype="char" arraysize="*"/><DATA><TABLEDATA>'
             + f"<TR><TD>{HIDDEN}</TD></TR><TR><TD>{ABSENT}</TD></TR>".encode()
             + b"</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>")
    r = app.test_client().post("/tap/sync", data={
        "LANG": "ADQL", "RESPONSEFORMAT": "votable/td", "UPLOAD": "mine,param:t", "t": (__import__("io").BytesIO(table), "t.vot"),
        "QUERY": "SELECT COUNT(*) FROM TAP_UPLOAD.mine AS m JOIN integral.scw AS s "
                 f"ON s.scw_id = m.id WHERE s.scw_id = '{HIDDEN}' AND CAST(s.pi_name AS INTEGER) > 0"})
    assert r.status_code == 200, r.data[:400]
    assert status_of(r.data)[0] == "OK"
    assert ET.fromstring(r.data).find(f".//{VOTABLE_NS}TD").text == "0"


def test_an_error_after_thousands_of_rows_ends_the_votable_with_its_status(service):
    """The failing row (the member's window) comes after the demo rows: by then the
    status line and rows are sent, so the VOTable ends with QUERY_STATUS ERROR after
    them (DALI 1.1), and pyvo reports an error, not a short table. The anonymous user,
    who cannot see that row, gets every row and OK."""
    import pyvo

    app, member = service
    query = ("SELECT scw_id FROM integral.scw "
             "WHERE SQRT(CASE WHEN pi_name = 'Secretini' THEN -1 ELSE 1 END) > 0")
    r = sync(app, query)
    assert r.status_code == 200 and status_of(r.data)[0] == "OK"
    table = ET.fromstring(r.data).findall(f".//{VOTABLE_NS}TR")
    assert len(table) > 4000  # every visible window (the public demo rows)
    r = sync(app, query, member)
    assert r.status_code == 200, r.data[:300]
    value, message = status_of(r.data)
    assert value == "ERROR" and "cannot be evaluated" in message, message
    assert len(ET.fromstring(r.data).findall(f".//{VOTABLE_NS}TR")) > 1000
    with pytest.raises(pyvo.DALQueryError, match="cannot be evaluated"):
        pyvo.dal.DALResults(__import__("astropy.io.votable", fromlist=["parse"]).parse(
            __import__("io").BytesIO(r.data)), url="http://hera/tap/sync")


def test_an_async_job_that_fails_after_its_first_rows_ends_in_error(service, worker):
    app, member = service
    client = app.test_client()
    query = ("SELECT scw_id FROM integral.scw "
             "WHERE SQRT(CASE WHEN pi_name = 'Secretini' THEN -1 ELSE 1 END) > 0")
    r = client.post("/tap/async", data={"LANG": "ADQL", "QUERY": query, "PHASE": "RUN",
                                         "RESPONSEFORMAT": "votable/td"}, headers=member)
    job = r.headers["Location"].split("/tap/async/", 1)[1]
    phase = wait_for(lambda: (p := client.get(f"/tap/async/{job}/phase", headers=member).data)
                     in (b"COMPLETED", b"ERROR") and p, timeout=60)
    assert phase == b"ERROR"
    summary = client.get(f"/tap/async/{job}/error", headers=member).data.decode()
    assert "cannot be evaluated" in summary, summary


# -- PostgreSQL: the barrier keeps the sky index ----------------------------------------------------

@pytest.fixture
def pg_service(request, tmp_path, redis_url):
    url = request.getfixturevalue("postgres_database_url")
    from vo_service import create_app
    from vo_service.app import init_database
    app = create_app({"HERA_DATA_DIR": str(tmp_path / "data"), "HERA_DATABASE_URL": url,
                      "HERA_REDIS_URL": redis_url, "HERA_QUEUE": "privacy-plan"})
    init_database(app)
    yield app
    app.extensions["hera"].engine.dispose()


@pytest.mark.parametrize("groups", [None, frozenset({"gc-team"})], ids=["anonymous", "member"])
def test_the_cone_under_the_access_rule_uses_the_sky_index(pg_service, groups):
    hera = pg_service.extensions["hera"]
    load_demo(pg_service, 2000, 3)
    tr = adql.translate("SELECT scw_id FROM integral.scw WHERE "
                        "1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 83.63, 22.01, 5))",
                        hera.tableset, DIALECTS["postgresql"], user_groups=groups)
    with hera.engine.connect() as conn:
        assert row_access.missing_leakproof(conn) == []
        for statement in tr.setup:
            conn.execute(text(statement))
        conn.execute(text("ANALYZE integral.scw"))
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + tr.sql)))
    assert "scw_sky_idx" in plan and "Seq Scan" not in plan, plan


@pytest.mark.parametrize("signature", sorted(row_access.LEAKPROOF))
def test_the_leakproof_functions_never_raise(pg_service, signature):
    """What :data:`row_access.LEAKPROOF` claims of each function, tried on the inputs
    that make other functions fail."""
    name = signature.split("(")[0]
    odd = ["'NaN'::float8", "'Infinity'::float8", "'-Infinity'::float8", "1e308::float8",
           "-1e308::float8", "NULL::float8", "0::float8"]
    calls = {
        "radians": [f"radians({x})" for x in odd],
        "spoint": [f"spoint({x}, {y})" for x in odd for y in odd],
        "spoint_contained_by_circle": [f"spoint_contained_by_circle(spoint({x}, {y}), "
                                       "scircle(spoint(0, 0), 0.1))" for x in odd for y in odd],
        "spoly_contains_point_com": [f"spoly_contains_point_com(spoint({x}, {y}), "
                                     "spoly '{(0,0),(0.1,0),(0.1,0.1)}')" for x in odd for y in odd],
    }[name]
    with pg_service.extensions["hera"].engine.connect() as conn:
        for call in calls:
            conn.execute(text(f"SELECT {call}")).scalar()  # raises if the claim is wrong


# -- SQLite: the guard keeps the indexes -------------------------------------------------------------

@pytest.mark.parametrize("condition, index", [
    ("scw_id = '000200020010'", "sqlite_autoindex_scw_1"),
    ("start_time BETWEEN 61000 AND 61001", "scw_start_time_idx"),
    ("revolution IN (2450, 2451)", "scw_revolution_idx"),
])
def test_sqlite_comparisons_with_constants_still_use_the_indexes(tmp_path, condition, index):
    from tap_catalog import database
    from tap_catalog.tableset import TableSet

    tableset = TableSet.load()
    engine = database.make_engine(f"sqlite:///{tmp_path}/h.sqlite")
    database.create_catalog(engine, tableset)
    sql = adql.translate(f"SELECT scw_id, pi_name FROM integral.scw WHERE {condition}",
                         tableset, DIALECTS["sqlite"]).sql
    with engine.connect() as conn:
        plan = " | ".join(r[3] for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
    engine.dispose()
    assert f"USING INDEX {index}" in plan or "PRIMARY KEY" in plan, plan


def test_without_leakproof_the_cone_scans_and_hera_doctor_says_what_to_run(pg_service):
    """The mechanism, shown the other way round: with radians() not LEAKPROOF the planner
    may not push the cone below the barrier, and ``hera doctor`` prints the command an
    administrator runs (and exits 1)."""
    import subprocess
    import sys

    from tap_catalog.database import access_rule_problems

    hera = pg_service.extensions["hera"]
    load_demo(pg_service, 2000, 3)
    tr = adql.translate("SELECT scw_id FROM integral.scw WHERE "
                        "1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 83.63, 22.01, 5))",
                        hera.tableset, DIALECTS["postgresql"])
    with hera.engine.begin() as conn:
        conn.execute(text("ALTER FUNCTION radians(double precision) NOT LEAKPROOF"))
    try:
        with hera.engine.connect() as conn:
            for statement in tr.setup:
                conn.execute(text(statement))
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + tr.sql)))
        assert "Seq Scan" in plan, plan
        [problem] = access_rule_problems(hera.engine)
        assert "ALTER FUNCTION radians(double precision) LEAKPROOF;" in problem
        env = {**os.environ, "HERA_DATABASE_URL": pg_service.config["HERA_DATABASE_URL"],
               "HERA_DATA_DIR": pg_service.config["HERA_DATA_DIR"], "HERA_REDIS_URL": pg_service.config["HERA_REDIS_URL"]}
        done = subprocess.run([sys.executable, "-m", "vo_service.cli", "doctor"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "ALTER FUNCTION radians(double precision) LEAKPROOF;" in done.stderr
    finally:
        with hera.engine.begin() as conn:
            conn.execute(text("ALTER FUNCTION radians(double precision) LEAKPROOF"))
    assert access_rule_problems(hera.engine) == []
