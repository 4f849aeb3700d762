"""Queries too long or too deeply nested get a clear error document, never a 500.

The four queries of issue 10 (500 nested sub-SELECTs, NOT 5,000 times, a sum of 20,000
terms, an OR chain of 5,000 terms) are sent to /tap/sync (400 and the DALI error VOTable),
to /tap/async (the job ends in ERROR with that document) and as a tool's ADQL table
parameter (400 naming the parameter). Queries of every kind of nesting right up to the
limit must still be translated for both databases without exhausting Python's stack.
"""
from __future__ import annotations

import uuid

import pytest
from lxml import etree

from schemas import assert_valid
from tap_catalog import adql
from tap_catalog.adql.errors import ADQLLimitError
from tap_catalog.adql.limits import ParseLimits
from tap_catalog.dialects import DIALECTS

from conftest import wait_for

VOTABLE_NS = "{http://www.ivoa.net/xml/VOTable/v1.3}"
DEPTH = ParseLimits().max_depth

TOO_DEEP = {
    "500 nested sub-SELECTs": "SELECT * FROM " + "(SELECT * FROM " * 500 + "integral.scw" + ") AS t" * 500,
    "NOT 5,000 times": "SELECT scw_id FROM integral.scw WHERE " + "NOT " * 5000 + "ra > 0",
    "a sum of 20,000 terms": "SELECT " + "+".join(["1"] * 20000) + " AS s FROM integral.scw",
    "an OR chain of 5,000": "SELECT scw_id FROM integral.scw WHERE " + " OR ".join(f"ra = {i}" for i in range(5000)),
}

#: each kind of nesting, as a query of ``n`` levels of it
NESTINGS = {
    "derived tables": lambda n: "SELECT * FROM " + "(SELECT * FROM " * n + "integral.scw" + ") AS t" * n,
    "IN sub-queries": lambda n: "SELECT scw_id FROM integral.scw WHERE scw_id IN "
                                + "(SELECT scw_id FROM integral.scw WHERE scw_id IN " * n
                                + "(SELECT scw_id FROM integral.scw)" + ")" * n,
    "EXISTS": lambda n: "SELECT scw_id FROM integral.scw WHERE "
                        + "EXISTS (SELECT scw_id FROM integral.scw WHERE " * n + "ra > 0" + ")" * n,
    "scalar sub-queries": lambda n: "SELECT " + "(SELECT " * n + "1" + " FROM integral.scw)" * n
                                    + " AS s FROM integral.scw",
    "NOT": lambda n: "SELECT scw_id FROM integral.scw WHERE " + "NOT " * n + "ra > 0",
    "sum": lambda n: "SELECT " + " + ".join(["ra"] * n) + " AS s FROM integral.scw",
    "OR": lambda n: "SELECT scw_id FROM integral.scw WHERE " + " OR ".join(f"revolution = {i}" for i in range(n)),
    "UNION": lambda n: " UNION ".join(["SELECT scw_id FROM integral.scw"] * n),
    "function calls": lambda n: "SELECT " + "ABS(" * n + "ra" + ")" * n + " AS s FROM integral.scw",
    "CASE": lambda n: "SELECT " + "CASE WHEN ra > 0 THEN " * n + "1" + " ELSE 0 END" * n + " AS s FROM integral.scw",
    "JOIN": lambda n: "SELECT a0.scw_id FROM integral.scw AS a0 " + " ".join(
        f"JOIN integral.scw AS a{i} ON a{i}.scw_id = a{i - 1}.scw_id" for i in range(1, n)),
}


@pytest.fixture
def config(config_on_both_databases):
    return config_on_both_databases


def error_text(data: bytes) -> str:
    """The message of a DALI error VOTable (validated against the schema)."""
    assert_valid("VOTable.xsd", data)
    infos = [i for i in etree.fromstring(data).iter(f"{VOTABLE_NS}INFO") if i.get("name") == "QUERY_STATUS"]
    assert infos[-1].get("value") == "ERROR"
    return infos[-1].text or ""


def assert_votable_error(response, *contains) -> str:
    assert response.status_code == 400, response.data[:300]
    assert response.content_type.startswith("application/x-votable+xml")
    text = error_text(response.data)
    for part in contains:
        assert part in text, text
    assert "recursion" not in text.lower()
    return text


@pytest.mark.parametrize("name", TOO_DEEP)
def test_too_deep_on_sync_is_a_400_votable(client, name):
    r = client.post("/tap/sync", data={"LANG": "ADQL", "QUERY": TOO_DEEP[name]})
    assert_votable_error(r, f"query nested too deeply (limit {DEPTH} levels")


def test_too_deep_on_async_ends_the_job_in_error(client, worker):
    jobs = {}
    for name, text in TOO_DEEP.items():
        r = client.post("/tap/async", data={"LANG": "ADQL", "QUERY": text, "PHASE": "RUN"})
        assert r.status_code == 303, r.data[:300]
        jobs[name] = r.headers["Location"].split("/tap/async/", 1)[1]
    for name, job in jobs.items():
        phase = wait_for(lambda: (p := client.get(f"/tap/async/{job}/phase").data.decode())
                         in ("COMPLETED", "ERROR", "ABORTED") and p, timeout=60)
        assert phase == "ERROR", name
        r = client.get(f"/tap/async/{job}/error")
        assert r.content_type.startswith("application/x-votable+xml")
        assert f"query nested too deeply (limit {DEPTH} levels" in error_text(r.data), name


@pytest.fixture
def alice(app):
    from accounts import users
    name = f"alice{uuid.uuid4().hex[:8]}"  # the PostgreSQL database lasts the whole session
    return {"Authorization": "Bearer " + users.add_user(app.extensions["hera"].engine, name, ["integral"])}


@pytest.mark.parametrize("name", TOO_DEEP)
def test_too_deep_as_a_tools_table_parameter_is_a_400(client, alice, name):
    r = client.post("/tools/scw_coverage", headers=alice, data={
        "scw_table": TOO_DEEP[name], "ra": "83.6", "dec": "22.0", "outfile": "c.fits", "plotfile": "c.png"})
    assert r.status_code == 400, r.data[:300]
    assert r.get_data(as_text=True).startswith(f"scw_table: ADQL: query nested too deeply (limit {DEPTH} levels")


def test_too_long_is_a_400_votable(client):
    ids = ", ".join(f"'{n:012d}'" for n in range(8000))  # 8,000 quoted ids: 128,000 characters
    r = client.post("/tap/sync", data={"LANG": "ADQL", "QUERY": f"SELECT * FROM integral.scw WHERE scw_id IN ({ids})"})
    assert_votable_error(r, "query too long", "(limit 100000)", "UPLOAD")


@pytest.fixture
def small_limits(config):
    return {**config, "HERA_ADQL_MAX_LENGTH": 200, "HERA_ADQL_MAX_DEPTH": 20}


def test_the_limits_are_settings(small_limits):
    from vo_service import create_app
    from vo_service.app import init_database
    app = create_app(small_limits)
    init_database(app)
    client = app.test_client()
    try:
        ok = client.post("/tap/sync", data={"LANG": "ADQL", "QUERY": NESTINGS["OR"](3)})
        assert ok.status_code == 200, ok.data[:300]
        assert_votable_error(client.post("/tap/sync", data={"LANG": "ADQL", "QUERY": NESTINGS["NOT"](15)}),
                             "(limit 20 levels")
        assert_votable_error(client.post("/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT * FROM integral.scw"
                                                            + " " * 200}), "(limit 200)")
    finally:
        app.extensions["hera"].engine.dispose()


def test_a_limit_set_beyond_the_stack_still_gives_a_400(config):
    """An operator may set the depth higher than Python's stack takes: the RecursionError
    that then happens is caught and reported as the same kind of error."""
    from vo_service import create_app
    from vo_service.app import init_database
    app = create_app({**config, "HERA_ADQL_MAX_DEPTH": 1_000_000})
    init_database(app)
    try:
        for name, text in TOO_DEEP.items():
            r = app.test_client().post("/tap/sync", data={"LANG": "ADQL", "QUERY": text})
            assert_votable_error(r, "nested too deeply for this service")
    finally:
        app.extensions["hera"].engine.dispose()


def deepest_allowed(kind) -> str:
    """The query of ``kind`` with the most levels of nesting that the default limit allows."""
    n = 1
    while True:
        try:
            adql.parse(NESTINGS[kind](n + 1))
        except ADQLLimitError:
            return NESTINGS[kind](n)
        n += 1


@pytest.mark.parametrize("kind", NESTINGS)
def test_every_nesting_up_to_the_limit_is_translated(app, kind):
    """The limit holds every stage inside Python's stack: the deepest query allowed is
    parsed and translated for both databases (here, below pytest's own frames)."""
    text = deepest_allowed(kind)
    tableset = app.extensions["hera"].tableset
    for dialect in ("sqlite", "postgresql"):
        assert adql.translate(adql.parse(text), tableset, DIALECTS[dialect], maxrec=10).sql


@pytest.mark.parametrize("kind, n, message", [
    ("derived tables", 15, "parser stack overflow"),
    ("UNION", 30, "parser stack overflow"),
    ("JOIN", 70, "at most 64 tables in a join"),
])
def test_what_sqlite_cannot_run_within_the_limits_is_a_400(app, kind, n, message):
    """SQLite's own limits are lower than the ADQL limits for some queries (its parser's
    stack, 64 tables in a join): its error is the user's, a 400 like any other, while
    PostgreSQL runs the same query."""
    r = app.test_client().post("/tap/sync", data={"LANG": "ADQL", "QUERY": NESTINGS[kind](n), "MAXREC": "1"})
    if app.extensions["hera"].engine.dialect.name == "sqlite":
        assert_votable_error(r, message)
    else:
        assert r.status_code == 200, r.data[:300]
