"""TAP 1.1 over HTTP (``/tap``): parameters, formats, MAXREC, uploads, errors, the sync
time limit, VOSI documents, DALI examples, async jobs and private science windows.

Every test runs on both backends: the embedded SQLite and PostgreSQL (with pgsphere) in a
database of this session's own.
"""
from __future__ import annotations

import csv
import dataclasses
import functools
import http.server
import io
import json
import os
import time
from pathlib import Path

import pytest
from astropy.io import votable
from lxml import etree

from accounts import users
from fetching import FetchPolicy
from schemas import SCHEMAS, assert_valid
from tap_catalog import demo, ingest

from conftest import load_demo, serve_http, wait_for
import known_windows

ROWS, SEED = 400, 7
MAXREC_DEFAULT, MAXREC_MAX = 150, 250
VOTABLE_NS = "{http://www.ivoa.net/xml/VOTable/v1.3}"


@functools.cache
def anonymous_rows() -> int:
    """How many of the demo rows an anonymous user sees: the public ones."""
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return sum(1 for r in demo.generate(ROWS, SEED)
               if r["status"] == "public" or (r["public_date"] or "9999") <= now)


@pytest.fixture
def config(config_on_both_databases):
    return {**config_on_both_databases, "HERA_TAP_MAXREC_DEFAULT": MAXREC_DEFAULT, "HERA_TAP_MAXREC_MAX": MAXREC_MAX}


@pytest.fixture
def catalogue(app):
    """The app with ROWS demo science windows loaded."""
    load_demo(app, ROWS, SEED)
    return app


@pytest.fixture
def tap(catalogue):
    return catalogue.test_client()


def sync(client, headers=None, **params):
    return client.post("/tap/sync", data=params, headers=headers or {})


def parse_votable(data: bytes):
    assert_valid("VOTable.xsd", data)
    return votable.parse(io.BytesIO(data)).get_first_table().to_table()


def query_status(data: bytes) -> tuple[str, str]:
    """The (value, text) of the last QUERY_STATUS INFO of a VOTable."""
    root = etree.fromstring(data)
    infos = [i for i in root.iter(f"{VOTABLE_NS}INFO") if i.get("name") == "QUERY_STATUS"]
    return infos[-1].get("value"), (infos[-1].text or "")


def assert_error(response, status=400, contains=()):
    assert response.status_code == status, response.data[:500]
    assert response.content_type.startswith("application/x-votable+xml")
    assert_valid("VOTable.xsd", response.data)
    value, text = query_status(response.data)
    assert value == "ERROR"
    for part in contains:
        assert part in text, text
    return text


# -- parameters (TAP 1.1 §2, DALI 1.1 §3) -------------------------------------------------------

def test_parameter_names_are_case_insensitive(tap):
    r = tap.get("/tap/sync?request=doQuery&lAnG=adql&QuErY=SELECT+TOP+3+scw_id+FROM+integral.scw"
                "&ResponseFormat=csv")
    assert r.status_code == 200
    assert r.data.decode().splitlines()[0] == "scw_id"
    assert len(r.data.decode().splitlines()) == 4


@pytest.mark.parametrize("lang", ["ADQL", "ADQL-2.0", "ADQL-2.1", "adql"])
def test_every_adql_lang_is_accepted(tap, lang):
    r = sync(tap, LANG=lang, QUERY="SELECT COUNT(*) AS n FROM integral.scw")
    assert r.status_code == 200
    assert int(parse_votable(r.data)["n"][0]) == anonymous_rows()


def test_request_other_than_doquery_is_refused(tap):
    assert_error(sync(tap, REQUEST="getCapabilities", LANG="ADQL", QUERY="SELECT 1 AS x FROM integral.scw"),
                 contains=["REQUEST must be doQuery"])


@pytest.mark.parametrize("params, message", [
    ({"QUERY": "SELECT scw_id FROM integral.scw"}, "LANG is missing"),
    ({"LANG": "PQL", "QUERY": "SELECT scw_id FROM integral.scw"}, "unsupported LANG"),
    ({"LANG": "ADQL"}, "QUERY is missing"),
    ({"LANG": "ADQL", "QUERY": "SELECT scw_id FROM integral.scw", "MAXREC": "many"}, "MAXREC"),
    ({"LANG": "ADQL", "QUERY": "SELECT scw_id FROM integral.scw", "MAXREC": "-1"}, "MAXREC"),
    ({"LANG": "ADQL", "QUERY": "SELECT scw_id FROM integral.scw", "RESPONSEFORMAT": "pdf"},
     "unsupported RESPONSEFORMAT"),
])
def test_bad_parameters_get_an_error_document(tap, params, message):
    assert_error(sync(tap, **params), contains=[message])


def test_runid_is_echoed(tap):
    r = sync(tap, LANG="ADQL", QUERY="SELECT TOP 1 scw_id FROM integral.scw", RUNID="crab-run-7")
    infos = {i.get("name"): i.get("value") for i in etree.fromstring(r.data).iter(f"{VOTABLE_NS}INFO")}
    assert infos["RUNID"] == "crab-run-7"
    assert infos["QUERY_STATUS"] == "OK"


# -- formats ----------------------------------------------------------------------------------------

Q3 = "SELECT TOP 3 scw_id, ra, dec, good_isgri, start_date FROM integral.scw ORDER BY scw_id"


@pytest.mark.parametrize("fmt, media_type", [
    ("votable", "application/x-votable+xml;serialization=BINARY2"),
    ("application/x-votable+xml", "application/x-votable+xml;serialization=BINARY2"),
    ("votable/td", "application/x-votable+xml;serialization=TABLEDATA"),
    ("text/xml;serialization=binary", "application/x-votable+xml;serialization=BINARY"),
    ("votable/b2", "application/x-votable+xml;serialization=BINARY2"),
])
def test_votable_serializations(tap, fmt, media_type):
    r = sync(tap, LANG="ADQL", QUERY=Q3, RESPONSEFORMAT=fmt)
    assert r.status_code == 200
    assert r.content_type == media_type
    table = parse_votable(r.data)
    assert list(table["scw_id"]) == sorted(table["scw_id"])
    assert len(table) == 3
    assert table["ra"].unit == "deg"


def test_format_is_a_synonym_of_responseformat(tap):
    r = sync(tap, LANG="ADQL", QUERY=Q3, FORMAT="csv")
    assert r.content_type.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.data.decode())))
    assert rows[0] == ["scw_id", "ra", "dec", "good_isgri", "start_date"]
    assert len(rows) == 4


def test_tsv_json_and_fits(tap):
    tsv = sync(tap, LANG="ADQL", QUERY=Q3, RESPONSEFORMAT="tsv")
    assert tsv.content_type.startswith("text/tab-separated-values")
    assert tsv.data.decode().splitlines()[0].split("\t")[0] == "scw_id"
    doc = json.loads(sync(tap, LANG="ADQL", QUERY=Q3, RESPONSEFORMAT="application/json").data)
    assert len(json.dumps(doc)) > 0 and "scw_id" in json.dumps(doc)
    fits = sync(tap, LANG="ADQL", QUERY=Q3, RESPONSEFORMAT="fits")
    assert fits.content_type == "application/fits"
    from astropy.io import fits as pyfits
    with pyfits.open(io.BytesIO(fits.data)) as hdus:
        assert len(hdus[1].data) == 3
        assert hdus[1].data["scw_id"][0] == parse_votable(sync(tap, LANG="ADQL", QUERY=Q3).data)["scw_id"][0]


def test_results_stream(catalogue):
    client = catalogue.test_client()
    r = client.post("/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT * FROM integral.scw"},
                    buffered=False)
    assert r.is_streamed
    first = next(r.response)
    assert first.startswith(b"<?xml")
    assert b"</VOTABLE>" not in first
    r.close()


def test_memory_stays_flat_while_rows_stream(catalogue):
    """The peak memory of a result of 10,000 rows is that of one of 4,000 rows (on
    PostgreSQL: two batches of tap_catalog.dialects.postgresql.FETCH_ROWS rows)."""
    import tracemalloc
    hera = catalogue.extensions["hera"]
    load_demo(catalogue, 10_000, SEED)
    hera.tap_limits = dataclasses.replace(hera.tap_limits, maxrec_hard=10_000)
    client = catalogue.test_client()

    def peak_and_size(rows):
        tracemalloc.start()
        try:
            r = client.post("/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT * FROM integral.scw",
                                               "MAXREC": str(rows)}, buffered=False)
            size = sum(len(chunk) for chunk in r.response)
            r.close()
            return tracemalloc.get_traced_memory()[1], size
        finally:
            tracemalloc.stop()

    peak_and_size(1)  # parser and connection pool warm
    small, small_size = peak_and_size(4_000)
    large, large_size = peak_and_size(10_000)
    assert large_size > 2.4 * small_size
    assert large < 1.5 * small, (small, large)


# -- MAXREC (TAP 1.1 §2.7.4, DALI 1.1 §4.4) ----------------------------------------------------------

def test_maxrec_default_and_overflow(tap):
    r = sync(tap, LANG="ADQL", QUERY="SELECT scw_id FROM integral.scw")
    assert len(parse_votable(r.data)) == MAXREC_DEFAULT
    assert query_status(r.data)[0] == "OVERFLOW"


def test_maxrec_below_the_row_count_overflows(tap):
    r = sync(tap, LANG="ADQL", QUERY="SELECT scw_id FROM integral.scw", MAXREC="17")
    assert len(parse_votable(r.data)) == 17
    assert query_status(r.data)[0] == "OVERFLOW"


def test_maxrec_equal_to_the_row_count_does_not_overflow(tap):
    r = sync(tap, LANG="ADQL", QUERY="SELECT TOP 17 scw_id FROM integral.scw", MAXREC="17")
    assert len(parse_votable(r.data)) == 17
    assert query_status(r.data)[0] == "OK"


def test_maxrec_is_clamped_to_the_hard_limit(tap):
    r = sync(tap, LANG="ADQL", QUERY="SELECT scw_id FROM integral.scw", MAXREC=str(10 * ROWS))
    assert len(parse_votable(r.data)) == MAXREC_MAX
    assert query_status(r.data)[0] == "OVERFLOW"


def test_maxrec_zero_gives_the_metadata(tap):
    r = sync(tap, LANG="ADQL", QUERY="SELECT scw_id, ra FROM integral.scw", MAXREC="0")
    table = parse_votable(r.data)
    assert len(table) == 0 and table.colnames == ["scw_id", "ra"]


# -- uploads (TAP 1.1 §4) -----------------------------------------------------------------------------

def sources_votable(rows) -> bytes:
    """A VOTable of sources (name, ra, dec) as a client would upload it."""
    from astropy.table import Table
    out = io.BytesIO()
    Table(rows=rows, names=("name", "ra", "dec")).write(out, format="votable")
    return out.getvalue()


def pointings(tap, n=3):
    r = sync(tap, LANG="ADQL", QUERY=f"SELECT TOP {n} scw_id, ra, dec FROM integral.scw "
                                     "WHERE scw_type = 'pointing' ORDER BY scw_id")
    return parse_votable(r.data)


UPLOAD_JOIN = """SELECT s.name, c.scw_id FROM TAP_UPLOAD.src AS s JOIN integral.scw AS c
ON 1 = CONTAINS(POINT('ICRS', c.ra, c.dec), CIRCLE('ICRS', s.ra, s.dec, 0.01))
ORDER BY c.scw_id"""


def test_inline_upload_joined_with_science_windows(tap):
    found = pointings(tap)
    body = sources_votable([(f"src{i}", float(p["ra"]), float(p["dec"])) for i, p in enumerate(found)])
    r = tap.post("/tap/sync", data={"LANG": "ADQL", "QUERY": UPLOAD_JOIN, "UPLOAD": "src,param:table1",
                                    "table1": (io.BytesIO(body), "sources.xml")},
                 content_type="multipart/form-data")
    assert r.status_code == 200, r.data[:500]
    table = parse_votable(r.data)
    assert set(found["scw_id"]) <= set(table["scw_id"])
    assert set(table["name"]) == {"src0", "src1", "src2"}


def test_upload_table_is_gone_after_the_request(tap):
    body = sources_votable([("a", 1.0, 2.0)])
    r = tap.post("/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.src",
                                    "UPLOAD": "src,param:t", "t": (io.BytesIO(body), "t.xml")},
                 content_type="multipart/form-data")
    assert len(parse_votable(r.data)) == 1
    assert_error(sync(tap, LANG="ADQL", QUERY="SELECT * FROM TAP_UPLOAD.src"), contains=["not found"])


@pytest.fixture
def file_server(tmp_path):
    """A plain HTTP server on 127.0.0.1 serving tmp_path/www (an upload URL's host)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    with serve_http(handler) as base:
        yield root, base


def test_upload_by_url(catalogue, file_server):
    tap = catalogue.test_client()
    root, url = file_server
    found = pointings(tap, 2)
    (root / "src.xml").write_bytes(sources_votable([(f"u{i}", float(p["ra"]), float(p["dec"]))
                                                     for i, p in enumerate(found)]))
    params = dict(LANG="ADQL", QUERY=UPLOAD_JOIN, UPLOAD=f"src,{url}/src.xml")
    # the service does not fetch from its own network unless the operator allows it
    assert_error(sync(tap, **params), status=403, contains=["loopback", "HERA_FETCH_ALLOW"])
    catalogue.extensions["hera"].tap_limits = dataclasses.replace(
        catalogue.extensions["hera"].tap_limits, upload_fetch=FetchPolicy.from_config({"HERA_FETCH_ALLOW": "127.0.0.1"}))
    table = parse_votable(sync(tap, **params).data)
    assert set(found["scw_id"]) <= set(table["scw_id"])
    assert_error(sync(tap, LANG="ADQL", QUERY=UPLOAD_JOIN, UPLOAD=f"src,{url}/missing.xml"),
                 contains=["HTTP 404"])


def test_upload_larger_than_the_limit_is_refused(catalogue):
    tap = catalogue.test_client()
    hera = catalogue.extensions["hera"]
    body = sources_votable([(f"s{i}", float(i % 360), 0.0) for i in range(200)])
    hera.tap_limits = dataclasses.replace(hera.tap_limits, upload_hard=len(body) - 1)
    r = tap.post("/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.src",
                                    "UPLOAD": "src,param:t", "t": (io.BytesIO(body), "t.xml")},
                 content_type="multipart/form-data")
    assert_error(r, status=413, contains=["larger than the limit"])
    catalogue.config["MAX_CONTENT_LENGTH"] = 1000  # the whole request, before TAP reads it
    r = tap.post("/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.src",
                                    "UPLOAD": "src,param:t", "t": (io.BytesIO(body), "t.xml")},
                 content_type="multipart/form-data")
    assert_error(r, status=413, contains=["larger than the limit of 1000 bytes"])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0.0.0.0", "[::1]", "[::ffff:127.0.0.1]",
                                  "10.1.2.3", "169.254.169.254", "192.168.0.1"])
def test_upload_urls_into_the_service_network_are_refused(tap, host):
    r = sync(tap, LANG="ADQL", QUERY="SELECT * FROM TAP_UPLOAD.src", UPLOAD=f"src,http://{host}:9/t.xml")
    assert_error(r, status=403, contains=["HERA_FETCH_ALLOW"])


@pytest.mark.parametrize("upload, body, message", [
    ("src,param:t", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><VOTABLE/>', "DOCTYPE"),
    ("src,param:t", b"not xml at all", "not well-formed"),
    ("src,param:other", sources_votable([("a", 1.0, 2.0)]), "no such multipart file"),
    ("1src,param:t", sources_votable([("a", 1.0, 2.0)]), "regular identifier"),
    ("src,ftp://example.org/t.xml", sources_votable([("a", 1.0, 2.0)]), "http(s) URL"),
])
def test_bad_uploads_are_refused(tap, upload, body, message):
    r = tap.post("/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.src",
                                    "UPLOAD": upload, "t": (io.BytesIO(body), "t.xml")},
                 content_type="multipart/form-data")
    assert_error(r, contains=[message])


# -- errors --------------------------------------------------------------------------------------------

def test_syntax_error_names_line_and_column(tap):
    text = assert_error(sync(tap, LANG="ADQL", QUERY="SELECT scw_id\nFROM integral.scw WHERE"))
    assert "line 2" in text and "column" in text


def test_unknown_column_names_the_closest(tap):
    assert_error(sync(tap, LANG="ADQL", QUERY="SELECT good_isgr FROM integral.scw"),
                 contains=["good_isgr", "good_isgri"])


def test_unknown_table_names_the_closest(tap):
    assert_error(sync(tap, LANG="ADQL", QUERY="SELECT * FROM integral.scws"), contains=["integral.scw"])


def test_sync_time_limit(catalogue):
    tap = catalogue.test_client()
    hera = catalogue.extensions["hera"]
    hera.tap_limits = dataclasses.replace(hera.tap_limits, sync_timeout=0.5)
    started = time.monotonic()
    r = sync(tap, LANG="ADQL", QUERY="SELECT COUNT(*) AS n FROM integral.scw AS a, integral.scw AS b, "
                                     "integral.scw AS c WHERE a.ra + b.dec + c.good_isgri > -1000")
    assert_error(r, status=408, contains=["limit of 0.5 s", "/tap/async"])
    assert time.monotonic() - started < 10
    # the connection went back to the pool in good order: the next query runs
    assert sync(tap, LANG="ADQL", QUERY="SELECT TOP 1 scw_id FROM integral.scw").status_code == 200


def test_injection_is_impossible(tap):
    assert_error(sync(tap, LANG="ADQL", QUERY="SELECT scw_id FROM integral.scw; DROP TABLE integral.scw"))
    r = sync(tap, LANG="ADQL", QUERY="SELECT scw_id FROM integral.scw WHERE target_name = 'x''; DROP TABLE integral.scw; --'")
    assert r.status_code == 200
    assert len(parse_votable(sync(tap, LANG="ADQL", QUERY="SELECT COUNT(*) AS n FROM integral.scw").data)) == 1


# -- TAP_SCHEMA ------------------------------------------------------------------------------------------

def test_tap_schema_describes_every_scw_column(tap, catalogue):
    r = sync(tap, LANG="ADQL", QUERY="SELECT column_name, unit, ucd, description FROM TAP_SCHEMA.columns "
                                     "WHERE table_name = 'integral.scw'")
    table = parse_votable(r.data)
    declared = catalogue.extensions["hera"].tableset.get("integral.scw").columns
    assert sorted(table["column_name"]) == sorted(c.name for c in declared)
    assert all(str(d).strip() for d in table["description"])
    ucds = dict(zip(table["column_name"], table["ucd"]))
    assert ucds["ra"] == "pos.eq.ra;meta.main"
    units = dict(zip(table["column_name"], table["unit"]))
    assert units["good_isgri"] == "s"


def test_tap_schema_lists_the_standard_views(tap):
    table = parse_votable(sync(tap, LANG="ADQL", QUERY="SELECT table_name, table_type FROM TAP_SCHEMA.tables").data)
    kinds = dict(zip(table["table_name"], table["table_type"]))
    assert kinds["ivoa.obscore"] == "view" and kinds["ivoa.obsplan"] == "view"
    assert kinds["integral.scw"] == "table"


# -- VOSI -------------------------------------------------------------------------------------------------

def combined_schema(*names):
    """One XMLSchema importing the named XSDs (xsi:type across namespaces needs them all)."""
    imports = []
    for name in names:
        path = name if isinstance(name, Path) else SCHEMAS / name
        doc = etree.parse(str(path))
        imports.append(f'<xs:import namespace="{doc.getroot().get("targetNamespace")}" '
                       f'schemaLocation="{path.as_uri()}"/>')
    xsd = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:hera:test">'
           + "".join(imports) + "</xs:schema>")
    from schemas import _LocalSchemas
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalSchemas())
    return etree.XMLSchema(etree.fromstring(xsd.encode(), parser, base_url=SCHEMAS.as_uri() + "/"))


def validate(schema, data: bytes):
    root = etree.fromstring(data)
    assert schema.validate(root), schema.error_log
    return root


CAPABILITY_SCHEMAS = ("VOSICapabilities.xsd", "TAPRegExt.xsd", "VODataService.xsd", "VOResource.xsd")


def test_capabilities(tap):
    r = tap.get("/tap/capabilities")
    assert r.status_code == 200 and r.content_type.startswith("text/xml")
    root = validate(combined_schema(*CAPABILITY_SCHEMAS), r.data)
    ids = [c.get("standardID") for c in root.findall("capability")]
    assert ids[:1] == ["ivo://ivoa.net/std/TAP"]
    assert {"ivo://ivoa.net/std/VOSI#capabilities", "ivo://ivoa.net/std/VOSI#availability",
            "ivo://ivoa.net/std/VOSI#tables-1.1", "ivo://ivoa.net/std/DALI#examples"} <= set(ids)
    tap_cap = root.find("capability")
    security = [m.get("standardID") for m in tap_cap.iter("securityMethod")]
    # SSO 2.0 methods only (bearer tokens work without being advertised: SSO 2.1 draft)
    assert security == ["ivo://ivoa.net/sso#BasicAA"]
    std = [i for i in tap_cap.findall("interface") if i.get("role") == "std"]
    assert len(std) == 1 and std[0].find("securityMethod") is None  # anonymous
    assert int(tap_cap.find("outputLimit/default").text) == MAXREC_DEFAULT
    assert int(tap_cap.find("outputLimit/hard").text) == MAXREC_MAX
    mimes = {f.findtext("mime") for f in tap_cap.findall("outputFormat")}
    assert {"text/csv;header=present", "application/fits", "application/json",
            "application/x-votable+xml;serialization=BINARY2"} <= mimes
    assert [v.text for v in tap_cap.findall("language/version")] == ["2.0", "2.1"]
    uploads = {u.get("ivo-id") for u in tap_cap.findall("uploadMethod")}
    assert "ivo://ivoa.net/std/TAPRegExt#upload-inline" in uploads


def test_declared_output_formats_all_work(tap):
    root = etree.fromstring(tap.get("/tap/capabilities").data)
    for fmt in root.find("capability").findall("outputFormat"):
        mime = fmt.findtext("mime")
        r = sync(tap, LANG="ADQL", QUERY=Q3, RESPONSEFORMAT=mime)
        assert r.status_code == 200 and r.data, mime
        assert r.content_type == mime
        for alias in fmt.findall("alias"):
            r = sync(tap, LANG="ADQL", QUERY=Q3, RESPONSEFORMAT=alias.text)
            assert r.content_type == mime and r.data


def test_declared_udfs_run(tap):
    r = sync(tap, LANG="ADQL", QUERY="SELECT COUNT(*) AS n FROM integral.scw WHERE "
                                     "1 = ivo_interval_overlaps(start_time, end_time, 0, 100000) "
                                     "AND 1 = ivo_nocasematch(scw_type, 'POINT%')")
    assert int(parse_votable(r.data)["n"][0]) > 0


def test_availability(tap):
    r = tap.get("/tap/availability")
    root = assert_valid("VOSIAvailability.xsd", r.data)
    assert root.findtext("{http://www.ivoa.net/xml/VOSIAvailability/v1.0}available") == "true"


def test_tables_max_and_min(tap, catalogue):
    schema = combined_schema("VOSITables.xsd", "VODataService.xsd")
    full = validate(schema, tap.get("/tap/tables").data)
    names = [t.findtext("name") for t in full.iter("table")]
    assert set(catalogue.extensions["hera"].tableset.table_names()) == set(names)
    scw = next(t for t in full.iter("table") if t.findtext("name") == "integral.scw")
    ra = next(c for c in scw.findall("column") if c.findtext("name") == "ra")
    assert ra.findtext("unit") == "deg" and ra.findtext("ucd") == "pos.eq.ra;meta.main"
    assert "indexed" in [f.text for f in ra.findall("flag")]
    assert scw.find("foreignKey/targetTable").text == "integral.revolution"
    minimal = validate(schema, tap.get("/tap/tables?detail=min").data)
    assert [t.findtext("name") for t in minimal.iter("table")] == names
    assert not list(minimal.iter("column"))
    assert tap.get("/tap/tables?detail=some").status_code == 400


def test_one_table(tap):
    schema = combined_schema("VOSITables.xsd", "VODataService.xsd")
    root = validate(schema, tap.get("/tap/tables/integral.revolution").data)
    assert root.findtext("name") == "integral.revolution"
    assert "n_scw" in [c.findtext("name") for c in root.findall("column")]
    assert tap.get("/tap/tables/INTEGRAL.SCW").status_code == 200
    assert tap.get("/tap/tables/integral.nothing").status_code == 404


def test_tables_for_astroquery_tapplus_carry_esa_flags(tap):
    """astroquery's TapPlus needs esatapplus:flags on every column (astroquery#1597);
    other clients get plain VODataService."""
    plain = tap.get("/tap/tables", headers={"User-Agent": "python-pyvo/1.9"}).data
    assert b"esatapplus" not in plain
    r = tap.get("/tap/tables", headers={"User-Agent": "astroquery/0.4.11 Python/3.11.7 (Linux)"})
    schema = combined_schema("VOSITables.xsd", "VODataService.xsd", Path(__file__).with_name("esatapplus.xsd"))
    root = validate(schema, r.data)
    columns = list(root.iter("column"))
    assert columns and all(c.get("{http://esa.int/xml/EsaTapPlus}flags") == "0" for c in columns)
    minimal = validate(schema, tap.get("/tap/tables?only_tables=true").data)
    assert not list(minimal.iter("column"))


# -- DALI examples -------------------------------------------------------------------------------------

def examples(tap):
    r = tap.get("/tap/examples")
    assert r.content_type.startswith("application/xhtml+xml")
    root = etree.fromstring(r.data)
    found = []
    for node in root.iter("{http://www.w3.org/1999/xhtml}*"):
        if node.get("typeof") == "example":
            props = {p.get("property"): "".join(p.itertext()) for p in node.iter() if p.get("property")}
            found.append((node.get("id"), node.get("resource"), props))
    return root, found


def test_examples_document(tap):
    root, found = examples(tap)
    assert root.find("{http://www.w3.org/1999/xhtml}body").get("vocab") == "http://www.ivoa.net/rdf/examples#"
    assert len(found) >= 10
    for ident, resource, props in found:
        assert resource == f"#{ident}"
        assert props["name"].strip() and props["query"].strip()


def test_every_example_runs(catalogue):
    hera = catalogue.extensions["hera"]
    load_demo(catalogue, 5000, SEED)
    # the examples' targets (the Crab, the Galactic Centre, Cyg X-1), public and private: the
    # demo holds them only by chance
    known_windows.load(hera.engine, hera.tableset)
    tap = catalogue.test_client()
    _, found = examples(tap)
    empty = []
    for ident, _, props in found:
        r = sync(tap, LANG="ADQL", QUERY=props["query"], MAXREC="100")
        assert r.status_code == 200, (ident, r.data[:300])
        assert query_status(r.data)[0] in ("OK", "OVERFLOW"), ident
        if not len(parse_votable(r.data)):
            empty.append(ident)
    assert empty == ["public-release"]  # anonymous users see no private windows
    # ... and a member of a group sees its private observation there
    token = users.add_user(hera.engine, f"crab{os.urandom(4).hex()}", [known_windows.CRAB_GROUP])
    release = next(props["query"] for ident, _, props in found if ident == "public-release")
    table = visible(tap, {"Authorization": f"Bearer {token}"}, release)
    assert list(table["obs_id"]) == [known_windows.CRAB_PRIVATE[0]["obs_id"]]


# -- async (TAP 1.1 §2.2: a UWS job list) ---------------------------------------------------------------

def run_async(client, **params):
    r = client.post("/tap/async", data={**params, "PHASE": "RUN"})
    assert r.status_code == 303
    job = r.headers["Location"].split("/tap/async/", 1)[1]
    phase = wait_for(lambda: (p := client.get(f"/tap/async/{job}/phase").data.decode())
                     in ("COMPLETED", "ERROR", "ABORTED") and p, timeout=60)
    return job, phase


def test_async_query(tap, worker):
    job, phase = run_async(tap, LANG="ADQL", QUERY="SELECT scw_id, ra FROM integral.scw", MAXREC="40")
    assert phase == "COMPLETED"
    doc = assert_valid("UWS.xsd", tap.get(f"/tap/async/{job}").data)
    result = doc.find("{http://www.ivoa.net/xml/UWS/v1.0}results/{http://www.ivoa.net/xml/UWS/v1.0}result")
    assert result.get("id") == "result"
    data = tap.get(f"/tap/async/{job}/results/result").data
    assert len(parse_votable(data)) == 40 and query_status(data)[0] == "OVERFLOW"


def test_async_runid_is_echoed(tap, worker):
    r = tap.post("/tap/async", data={"LANG": "ADQL", "QUERY": "SELECT TOP 1 scw_id FROM integral.scw",
                                     "RUNID": "night-42", "PHASE": "RUN"})
    job = r.headers["Location"].split("/tap/async/", 1)[1]
    wait_for(lambda: tap.get(f"/tap/async/{job}/phase").data == b"COMPLETED", timeout=60)
    data = tap.get(f"/tap/async/{job}/results/result").data
    infos = {i.get("name"): i.get("value") for i in etree.fromstring(data).iter(f"{VOTABLE_NS}INFO")}
    assert infos["RUNID"] == "night-42"


def test_async_inline_upload(tap, worker):
    found = pointings(tap)
    body = sources_votable([(f"a{i}", float(p["ra"]), float(p["dec"])) for i, p in enumerate(found)])
    r = tap.post("/tap/async", data={"LANG": "ADQL", "QUERY": UPLOAD_JOIN, "UPLOAD": "src,param:srcs",
                                     "srcs": (io.BytesIO(body), "s.xml"), "PHASE": "RUN"},
                 content_type="multipart/form-data")
    job = r.headers["Location"].split("/tap/async/", 1)[1]
    wait_for(lambda: tap.get(f"/tap/async/{job}/phase").data in (b"COMPLETED", b"ERROR"), timeout=60)
    assert tap.get(f"/tap/async/{job}/phase").data == b"COMPLETED", tap.get(f"/tap/async/{job}/error").data
    table = parse_votable(tap.get(f"/tap/async/{job}/results/result").data)
    assert set(found["scw_id"]) <= set(table["scw_id"])


def test_async_error_is_a_votable_document(tap, worker):
    job, phase = run_async(tap, LANG="ADQL", QUERY="SELECT nothing FROM integral.scw")
    assert phase == "ERROR"
    r = tap.get(f"/tap/async/{job}/error")
    assert r.content_type.startswith("application/x-votable+xml")
    assert_valid("VOTable.xsd", r.data)
    value, text = query_status(r.data)
    assert value == "ERROR" and "nothing" in text


# -- private science windows ----------------------------------------------------------------------------

PRIVATE_CSV = """scw_id,scw_ver,scw_type,ra,dec,start_time,end_time,good_isgri,target_name,status,public_date,proprietary_group
000100010010,001,pointing,83.63,22.01,52564.500,52564.503,1800,Crab,public,,
000100020010,001,pointing,83.64,22.02,52564.504,52564.507,1800,Crab,private,2099-01-01T00:00:00,crab-team
000100030010,001,pointing,83.65,22.03,52564.508,52564.511,1800,Crab,private,2001-01-01T00:00:00,crab-team
000100040010,001,pointing,83.66,22.04,52564.512,52564.515,1800,Crab,private,2099-01-01T00:00:00,other-team
"""


@pytest.fixture
def private_catalogue(catalogue, tmp_path):
    path = tmp_path / "private.csv"
    path.write_text(PRIVATE_CSV)
    hera = catalogue.extensions["hera"]
    ingest.ingest(hera.engine, hera.tableset, [path], progress=False)
    suffix = os.urandom(4).hex()  # the PostgreSQL database is shared by the session's tests
    tokens = {name: users.add_user(hera.engine, f"{name}{suffix}", groups)
              for name, groups in (("member", ["crab-team"]), ("outsider", ["gc-team"]))}
    return catalogue, {name: {"Authorization": f"Bearer {t}"} for name, t in tokens.items()}


def visible(tap, headers, query):
    r = sync(tap, headers, LANG="ADQL", QUERY=query)
    assert r.status_code == 200, r.data[:300]
    return parse_votable(r.data)


MINE = "SELECT scw_id, status FROM integral.scw WHERE scw_id LIKE '0001%' ORDER BY scw_id"
COUNT = "SELECT COUNT(*) AS n FROM integral.scw WHERE revolution = 1"
JOIN = ("SELECT COUNT(*) AS n FROM integral.scw AS s JOIN integral.revolution AS r "
        "ON s.revolution = r.revolution WHERE r.revolution = 1")
OBSCORE = "SELECT COUNT(*) AS n FROM ivoa.obscore WHERE obs_id LIKE '0001%'"


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_private_windows_are_hidden(private_catalogue, who):
    app, headers = private_catalogue
    tap, h = app.test_client(), headers.get(who)
    table = visible(tap, h, MINE)
    assert list(table["scw_id"]) == ["000100010010", "000100030010"]
    assert list(table["status"]) == ["public", "public"]  # past its public date: public
    assert int(visible(tap, h, COUNT)["n"][0]) == 2
    assert int(visible(tap, h, JOIN)["n"][0]) == 2


def test_member_sees_the_group_windows(private_catalogue):
    app, headers = private_catalogue
    tap, h = app.test_client(), headers["member"]
    table = visible(tap, h, MINE)
    assert list(table["scw_id"]) == ["000100010010", "000100020010", "000100030010"]
    assert int(visible(tap, h, COUNT)["n"][0]) == 3
    assert int(visible(tap, h, JOIN)["n"][0]) == 3


def test_private_windows_hidden_in_async_jobs(private_catalogue, worker):
    app, headers = private_catalogue
    tap = app.test_client()
    for who, expected in (("anonymous", 2), ("member", 3)):
        r = tap.post("/tap/async", data={"LANG": "ADQL", "QUERY": COUNT, "PHASE": "RUN"},
                     headers=headers.get(who, {}))
        job = r.headers["Location"].split("/tap/async/", 1)[1]
        wait_for(lambda: tap.get(f"/tap/async/{job}/phase", headers=headers.get(who, {})).data
                 in (b"COMPLETED", b"ERROR"), timeout=60)
        data = tap.get(f"/tap/async/{job}/results/result", headers=headers.get(who, {})).data
        assert int(parse_votable(data)["n"][0]) == expected, who


def test_wrong_credentials_are_refused_not_downgraded(private_catalogue):
    app, _ = private_catalogue
    r = sync(app.test_client(), {"Authorization": "Bearer not-a-token"}, LANG="ADQL", QUERY=COUNT)
    assert r.status_code == 401
