"""Malformed requests to the job lists and multipart bodies get a 4xx with a message.

UWS 1.1 job-list filters out of range (LAST beyond what a database takes, negative or
not an integer; AFTER outside the years 1–9999 once in UTC; an unknown PHASE), NUL
characters in job parameters (PostgreSQL cannot store them), multipart file parts
whose name is empty or holds a NUL (a job's uploads become files named after them), on
TAP sync and async and on a tool's job list. And multipart bodies whose boundary is
sent unquoted, as astroquery sends it, are read. Every case runs on both databases.
"""
from __future__ import annotations

import uuid

import pytest
from lxml import etree

from schemas import assert_valid

NS = {"uws": "http://www.ivoa.net/xml/UWS/v1.0"}
VOTABLE_NS = "{http://www.ivoa.net/xml/VOTable/v1.3}"
VOTABLE = (b'<VOTABLE xmlns="http://www.ivoa.net/xml/VOTable/v1.3" version="1.3"><RESOURCE><TABLE>'
           b'<FIELD name="a" datatype="int"/><DATA><TABLEDATA><TR><TD>7</TD></TR></TABLEDATA></DATA>'
           b'</TABLE></RESOURCE></VOTABLE>')


@pytest.fixture
def config(config_on_both_databases):
    return config_on_both_databases


@pytest.fixture
def carol(app):
    """A signed-in user (anonymous jobs are listed to nobody), new in each test: the
    PostgreSQL database lasts the whole session."""
    from accounts import users
    return {"Authorization": "Bearer " + users.add_user(app.extensions["hera"].engine,
                                                        f"carol{uuid.uuid4().hex[:8]}")}


def listed(client, headers, **query) -> list[str]:
    r = client.get("/test-jobs", query_string=query, headers=headers)
    assert r.status_code == 200, r.data
    return [j.get("id") for j in assert_valid("UWS.xsd", r.data).findall("uws:jobref", NS)]


# -- UWS job-list filters ---------------------------------------------------------------------

@pytest.mark.parametrize("name, value", [
    ("LAST", "999999999999999999999999"), ("LAST", str(2**63)), ("LAST", "-1"), ("LAST", "1.5"),
    ("LAST", "many"), ("LAST", "\u0663"), ("LAST", "1_0"),
    ("AFTER", "garbage"), ("AFTER", "0001-01-01T00:00:00+14:00"), ("AFTER", "9999-12-31T23:59:59-14:00"),
    ("AFTER", "2026-01-01T00:00:00\x00"),
    ("PHASE", "bogus"), ("PHASE", "RUN\x00"),
])
def test_a_bad_job_list_filter_is_a_400_naming_it(client, carol, name, value):
    r = client.get("/test-jobs", query_string={name: value}, headers=carol)
    assert r.status_code == 400, r.data[:300]
    assert r.mimetype == "text/plain" and name in r.get_data(as_text=True)


def test_the_largest_last_lists_every_job(client, carol):
    jobs = []
    for n in range(3):
        r = client.post("/test-jobs", data={"echo": str(n)}, headers=carol)
        assert r.status_code == 303
        jobs.append(r.headers["Location"].rsplit("/", 1)[-1])
    assert sorted(listed(client, carol, LAST=str(2**63 - 1))) == sorted(jobs)
    assert len(listed(client, carol, LAST=" 2 ")) == 2


@pytest.mark.parametrize("destruction", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_destruction_outside_the_calendar_is_a_400(client, carol, destruction):
    r = client.post("/test-jobs", data={"echo": "x", "DESTRUCTION": destruction}, headers=carol)
    assert r.status_code == 400 and "DESTRUCTION" in r.get_data(as_text=True)
    assert listed(client, carol) == []


@pytest.mark.parametrize("data", [{"RUNID": "a\x00b"}, {"echo": "a\x00b"}, {"a\x00b": "1"}])
def test_a_nul_in_a_parameter_is_a_400(client, carol, data):
    r = client.post("/test-jobs", data=data, headers=carol)
    assert r.status_code == 400 and "NUL" in r.get_data(as_text=True), r.data[:300]
    assert listed(client, carol) == []
    job = client.post("/test-jobs", data={"echo": "kept"}, headers=carol).headers["Location"].rsplit("/", 1)[-1]
    r = client.post(f"/test-jobs/{job}", data=data, headers=carol)
    assert r.status_code == 400 and "NUL" in r.get_data(as_text=True)
    r = client.put(f"/test-jobs/{job}/parameters/echo", data=b"a\x00b", headers=carol)
    assert r.status_code == 400
    assert client.get(f"/test-jobs/{job}/parameters/echo", headers=carol).get_data(as_text=True) == "kept"


# -- multipart file parts ---------------------------------------------------------------------

def multipart(fields: dict, file_part: tuple[bytes, bytes | None], boundary: bytes = b"hera-test-boundary") -> bytes:
    """A multipart/form-data body written by hand: test clients refuse to send these names."""
    parts = [b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + k.encode() + b'"\r\n\r\n'
             + v.encode() + b"\r\n" for k, v in fields.items()]
    name, filename = file_part
    disposition = b'form-data; name="' + name + b'"' + (b'; filename="' + filename + b'"' if filename is not None else b"")
    parts.append(b"--" + boundary + b"\r\nContent-Disposition: " + disposition
                 + b"\r\nContent-Type: application/x-votable+xml\r\n\r\n" + VOTABLE + b"\r\n")
    return b"".join(parts) + b"--" + boundary + b"--\r\n"


def tap_fields(part: str) -> dict:
    return {"LANG": "ADQL", "QUERY": "SELECT a FROM TAP_UPLOAD.t", "UPLOAD": f"t,param:{part}",
            "RESPONSEFORMAT": "csv"}


BAD_PARTS = [  # (part name, client file name, words of the message)
    (b"", b"t.xml", "empty name"),
    (b"t\x00x", b"t.xml", "invalid name"),
    (b"t\x1bx", b"t.xml", "invalid name"),
    (b"t1", b"t\x00.xml", "NUL"),
]


@pytest.mark.parametrize("name, filename, words", BAD_PARTS)
def test_a_bad_file_part_on_tap_sync_is_a_400_votable(client, name, filename, words):
    body = multipart(tap_fields("t1"), (name, filename))
    r = client.post("/tap/sync", data=body, content_type="multipart/form-data; boundary=hera-test-boundary")
    assert r.status_code == 400 and r.content_type.startswith("application/x-votable+xml"), r.data[:300]
    assert_valid("VOTable.xsd", r.data)
    status = [i for i in etree.fromstring(r.data).iter(f"{VOTABLE_NS}INFO") if i.get("name") == "QUERY_STATUS"][-1]
    assert status.get("value") == "ERROR" and words in status.text


@pytest.mark.parametrize("name, filename, words", BAD_PARTS)
def test_a_bad_file_part_on_tap_async_is_a_400_and_no_job(client, app, carol, name, filename, words):
    body = multipart(tap_fields("t1"), (name, filename))
    r = client.post("/tap/async", data=body, headers=carol,
                    content_type="multipart/form-data; boundary=hera-test-boundary")
    assert r.status_code == 400 and words in r.get_data(as_text=True), r.data[:300]
    jobs = client.get("/tap/async", headers=carol)
    assert assert_valid("UWS.xsd", jobs.data).findall("uws:jobref", NS) == []
    assert not any((app.config["HERA_DATA_DIR"] / "jobs").glob("*/uploads"))


@pytest.mark.parametrize("name, filename, words", BAD_PARTS)
def test_a_bad_file_part_on_a_tools_job_list_is_a_400(client, carol, name, filename, words):
    body = multipart({"infile": "x.fits", "expr": "1", "outfile": "y.fits"}, (name, filename))
    r = client.post("/tools/fcalc", data=body, headers=carol,
                    content_type="multipart/form-data; boundary=hera-test-boundary")
    assert r.status_code == 400 and words in r.get_data(as_text=True), r.data[:300]


def test_an_empty_client_file_name_is_what_browsers_send_and_is_accepted(client):
    body = multipart(tap_fields("t1"), (b"t1", b""))
    r = client.post("/tap/sync", data=body, content_type="multipart/form-data; boundary=hera-test-boundary")
    assert r.status_code == 200 and r.data.split() == [b"a", b"7"]


# -- unquoted boundaries ----------------------------------------------------------------------

@pytest.mark.parametrize("content_type", [
    "multipart/form-data; boundary====1700000000===",            # astroquery, Python's email package
    "multipart/form-data; boundary====1700000000===; charset=utf-8",
    'multipart/form-data; boundary="===1700000000==="',          # the same, quoted as RFC 2045 wants
    "multipart/form-data; charset=utf-8; BOUNDARY= ===1700000000=== ",
])
def test_an_unquoted_boundary_is_read(client, content_type):
    body = multipart(tap_fields("t1"), (b"t1", b"t.xml"), boundary=b"===1700000000===")
    r = client.post("/tap/sync", data=body, content_type=content_type)
    assert r.status_code == 200, r.data[:300]
    assert r.data.split() == [b"a", b"7"]


def test_a_wrong_boundary_is_still_a_400(client):
    body = multipart(tap_fields("t1"), (b"t1", b"t.xml"), boundary=b"===1700000000===")
    r = client.post("/tap/sync", data=body, content_type="multipart/form-data; boundary====1700000001===")
    assert r.status_code == 400 and b"LANG is missing" in r.data
