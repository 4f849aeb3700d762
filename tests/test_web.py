"""The web interface, through Flask's test client: pages, the selection form's ADQL,
sign-in with a token and the cookie session, CSRF protection, jobs, workspace and
FITS previews, tool forms from descriptors.

The pages' scripts are exercised in a real browser by tests/test_web_browser.py."""
from __future__ import annotations

import html
import json
import os
import re
import stat
from datetime import datetime, timezone
from urllib.parse import urlencode

import numpy as np
import pytest
import sqlalchemy
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table

from accounts import users
from tap_catalog import adql, demo
from tap_catalog.adql import translate
from tap_catalog.dialects import DIALECTS
from uws import ErrorSummary, Phase, Result
from vo_service import create_app
from vo_service.app import init_database
from vo_service.web import selection, targets
from vo_service.web.tools_page import form_fields

import known_windows

CRAB = SkyCoord(83.6331, 22.0145, unit="deg")


# ---- fixtures ------------------------------------------------------------------------------

@pytest.fixture
def engine(app):
    return app.extensions["hera"].engine


@pytest.fixture
def alice(engine):
    return users.add_user(engine, "alice", ["integral"])


@pytest.fixture
def bob(engine):
    return users.add_user(engine, "bob")


def csrf_of(html: bytes) -> str:
    return re.search(rb'name="csrf-token" content="([^"]+)"', html).group(1).decode()


def sign_in(client, token, next_url=None):
    page = client.get("/ui/signin")
    data = {"csrf_token": csrf_of(page.data), "token": token}
    if next_url:
        data["next"] = next_url
    return client.post("/ui/signin", data=data)


@pytest.fixture
def alice_client(app, alice):
    client = app.test_client()
    assert sign_in(client, alice).status_code == 303
    return client


def run_sync(client, adql_text, fmt="json", maxrec=10000):
    response = client.get("/tap/sync", query_string={"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": adql_text,
                                                     "RESPONSEFORMAT": fmt, "MAXREC": maxrec})
    assert response.status_code == 200, response.data[:500]
    return json.loads(response.data) if fmt == "json" else response.data


# ---- target names ------------------------------------------------------------------------------

def test_target_names_resolve_with_their_aliases_ignoring_case_and_spacing():
    assert targets.resolve("Crab").name == "Crab"
    assert targets.resolve("m1").name == "Crab"
    assert targets.resolve("Sgr A*").name == "Galactic Centre"
    assert targets.resolve("galactic center").name == "Galactic Centre"
    assert targets.resolve("cygx-1").name == "Cyg X-1"
    assert targets.resolve("GRS1915+105").name == "GRS 1915+105"
    assert targets.resolve("3c273").name == "3C 273"
    assert targets.resolve("Vela X-1").name == "Vela X-1"  # not the Vela pulsar
    assert targets.resolve("nowhere") is None


def test_every_built_in_target_agrees_with_the_demo_catalogue_positions():
    demo_positions = {name: (ra, dec) for name, ra, dec in demo.TARGETS}
    for t in targets.TARGETS:
        if t.name in demo_positions:
            ra, dec = demo_positions[t.name]
            assert SkyCoord(t.ra, t.dec, unit="deg").separation(SkyCoord(ra, dec, unit="deg")).arcsec < 1


# ---- the selection form's ADQL ------------------------------------------------------------------

def test_a_target_name_becomes_a_cone_with_the_distance_column(app):
    sel = selection.build({"target": "Crab", "radius": "8"})
    assert not sel.errors
    assert sel.position.name == "Crab" and sel.position.radius == 8
    assert "1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 83.6331, 22.0145, 8))" in sel.adql
    assert "AS dist" in sel.adql
    assert sel.adql.startswith("SELECT TOP 1000 scw_id, scw_ver, scw_type, status, ra, dec, start_time, end_time, "
                               "revolution, good_spi, good_isgri, good_picsit, good_jemx1, good_jemx2, good_omc")
    translate(adql.parse(sel.adql), app.extensions["hera"].tableset, DIALECTS["sqlite"])  # valid ADQL on our tables


@pytest.mark.parametrize("text, ra, dec", [
    ("83.6331 22.0145", 83.6331, 22.0145),
    ("83.6331, +22.0145", 83.6331, 22.0145),
    ("05 34 31.94 +22 00 52.2", 83.63308, 22.01450),
    ("05h34m31.94s +22d00m52.2s", 83.63308, 22.01450),
    ("17:45:40.04 -29:00:28.1", 266.41683, -29.00781),
])
def test_coordinates_are_read_in_degrees_or_sexagesimal(text, ra, dec):
    sel = selection.build({"target": text})
    assert not sel.errors
    assert sel.position.name is None
    assert sel.position.ra == pytest.approx(ra, abs=1e-4) and sel.position.dec == pytest.approx(dec, abs=1e-4)


def test_galactic_coordinates_are_turned_into_icrs():
    sel = selection.build({"target": "184.5575 -5.7843", "frame": "galactic", "radius": "3"})
    assert not sel.errors and sel.position.name is None
    assert SkyCoord(sel.position.ra, sel.position.dec, unit="deg").separation(CRAB).arcsec < 2
    assert f"CIRCLE('ICRS', {sel.position.ra:.6f}".rstrip("0") in sel.adql
    assert sel.summary[0] == "within 3° of l, b = 184.5575 -5.7843"
    assert selection.build({"target": "Crab", "frame": "galactic"}).position.ra == 83.6331  # names are names
    assert "two numbers" in selection.build({"target": "05 34 31.9 +22 00 52", "frame": "galactic"}).errors["target"]
    assert "frame" in selection.build({"target": "Crab", "frame": "ecliptic"}).errors


@pytest.mark.parametrize("form, field, words", [
    ({"target": "Atlantis"}, "target", "neither a known target name"),
    ({"target": "10 95"}, "target", "declination must be in [-90, 90]"),
    ({"target": "Crab", "radius": "-2"}, "radius", "radius must be a number of degrees"),
    ({"start": "yesterday"}, "start", "neither an ISO date"),
    ({"start": "1990-01-01"}, "start", "outside the INTEGRAL era"),
    ({"start": "2005-01-01", "end": "2004-01-01"}, "end", "before its start"),
    ({"scw_type": "engineering"}, "scw_type", "must be one of pointing, slew"),
    ({"min_isgri": "lots"}, "min_isgri", "IBIS/ISGRI must be a number of seconds"),
    ({"rev_min": "12.5"}, "rev_min", "whole number"),
    ({"rev_min": "300", "rev_max": "200"}, "rev_max", "before the first"),
    ({"target": "Crab", "maxrec": "0"}, "maxrec", "from 1 to"),
])
def test_bad_fields_get_a_message_each(form, field, words):
    sel = selection.build(form)
    assert field in sel.errors and words in sel.errors[field]


#: TT - UTC in 2003: 32 leap seconds + 32.184 s; IJD counts TT days, MJD (start_time) UTC days
TT_MINUS_UTC_2003 = 64.184 / 86400


@pytest.mark.parametrize("text, mjd", [
    ("2003-03-01", 52699.0), ("2003-03-01T12:00:00", 52699.5), ("52699.5", 52699.5),
    ("MJD 52699.5", 52699.5), ("IJD 1155.5", 52699.5 - TT_MINUS_UTC_2003),
    ("ijd 1155.5", 52699.5 - TT_MINUS_UTC_2003),
])
def test_times_are_iso_mjd_or_ijd(text, mjd):
    assert selection.parse_time(text) == pytest.approx(mjd, abs=1e-9)


def test_time_type_good_time_and_revolution_constraints_become_where_clauses(app):
    sel = selection.build({"start": "2004-01-01", "end": "53300.5", "scw_type": "pointing", "status": "public",
                           "min_isgri": "1500", "min_jemx1": "0", "rev_min": "150", "rev_max": "250", "maxrec": "77"})
    assert not sel.errors
    mjd_2004 = 53005.0  # 2004-01-01
    assert f"end_time >= {mjd_2004:.0f}" in sel.adql      # overlap with the range: ends after its start
    assert "start_time <= 53300.5" in sel.adql            # ... and starts before its end
    assert "scw_type = 'pointing'" in sel.adql and "status = 'public'" in sel.adql
    assert "good_isgri >= 1500" in sel.adql
    assert "good_jemx1" not in sel.adql.split("FROM")[1]  # 0 s is no constraint
    assert "revolution >= 150" in sel.adql and "revolution <= 250" in sel.adql
    assert sel.adql.startswith("SELECT TOP 77 ") and sel.maxrec == 77
    assert "CONTAINS" not in sel.adql and "dist" not in sel.adql
    translate(adql.parse(sel.adql), app.extensions["hera"].tableset, DIALECTS["sqlite"])


def test_the_selection_finds_exactly_the_science_windows_that_satisfy_it(client, demo_catalogue):
    everything = run_sync(client, "SELECT * FROM integral.scw")
    names = [m["name"] for m in everything["metadata"]]
    rows = [dict(zip(names, r)) for r in everything["data"]]
    form = {"target": "Crab", "radius": "10", "start": "2005-01-01", "end": "2015-12-31",
            "scw_type": "pointing", "min_isgri": "1000", "maxrec": "10000"}
    sel = selection.build(form)
    got = run_sync(client, sel.adql)
    got_ids = [r[0] for r in got["data"]]
    t0, t1 = 53371.0, 57387.0  # 2005-01-01, 2015-12-31
    placed = [r for r in rows if r["ra"] is not None]
    separation = SkyCoord([r["ra"] for r in placed], [r["dec"] for r in placed], unit="deg").separation(CRAB).deg
    expected = {r["scw_id"] for r, sep in zip(placed, separation)
                if sep <= 10 and r["end_time"] >= t0 and r["start_time"] <= t1
                and r["scw_type"] == "pointing" and (r["good_isgri"] or 0) >= 1000}
    assert len(expected) > 20, "the catalogue should hold Crab pointings"
    # the independent selection agrees with what the known windows are
    assert {r["scw_id"] for r in known_windows.CRAB_2010 if r["scw_type"] == "pointing"} <= expected
    left_out = known_windows.CRAB_2004 + known_windows.CRAB_2012_LITTLE_ISGRI + known_windows.CRAB_PRIVATE
    assert not {r["scw_id"] for r in left_out} & expected
    assert set(got_ids) == expected
    starts = [r[6] for r in got["data"]]
    assert starts == sorted(starts)
    dist = [r[-1] for r in got["data"]]
    assert max(dist) <= 10 and got["metadata"][-1]["name"] == "dist"


# ---- pages ----------------------------------------------------------------------------------------

PAGES = ["/", "/ui/select", "/ui/select?target=Crab", "/ui/workspace/", "/ui/tools", "/ui/jobs", "/ui/signin"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_works_anonymously_and_loads_nothing_from_elsewhere(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.data.decode()
    assert "Sign in" in html and "Anonymous" in html
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not re.match(r"^(https?:)?//", url), f"{path} loads {url} from elsewhere"
    for asset in re.findall(r'(?:src|href)="(/ui/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200


def test_pages_forbid_other_origins_inline_scripts_and_framing(client):
    for path in PAGES:
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self';" in policy
        assert "frame-ancestors 'none'" in policy and "connect-src 'self' http://localhost:21012" in policy
        assert "<script>" not in client.get(path).data.decode()  # no inline script to allow


def test_pages_that_need_signing_in_say_so(client):
    assert b'id="workspace-signin"' in client.get("/ui/workspace/").data
    assert b'id="jobs-signin"' in client.get("/ui/jobs").data
    page = client.get("/ui/select?target=Crab").data.decode()
    assert re.search(r'<button type="submit" class="primary small" id="save-button"\s+disabled', page)
    assert "sign in</a> to save into your workspace" in page


def test_the_select_page_keeps_the_form_and_offers_the_results_in_three_formats(client):
    page = client.get("/ui/select", query_string={"target": "Cyg X-1", "radius": "6", "scw_type": "pointing",
                                                  "min_isgri": "2000"}).data.decode()
    assert 'value="Cyg X-1"' in page and 'value="6"' in page and 'value="2000"' in page
    assert '<option value="pointing" selected>' in page
    results = re.search(r'<section class="card" id="results" data-adql="([^"]+)"', page)
    adql_text = results.group(1).replace("&#39;", "'").replace("&gt;", ">").replace("&lt;", "<")
    assert adql_text == selection.build({"target": "Cyg X-1", "radius": "6", "scw_type": "pointing",
                                         "min_isgri": "2000"}).adql
    assert 'data-ra="299.5903"' in page and 'data-radius="6.0"' in page
    for fmt in ("votable", "csv", "fits"):
        link = re.search(rf'id="download-\w+" href="([^"]*RESPONSEFORMAT={fmt}[^"]*)"', page)
        assert link and link.group(1).startswith("/tap/sync?REQUEST=doQuery&amp;LANG=ADQL&amp;QUERY=SELECT")
    assert 'id="samp-button" disabled' in page


def test_download_links_answer_in_their_formats(client, demo_catalogue):
    page = client.get("/ui/select?target=Crab&maxrec=50").data.decode()
    media = {"votable": "application/x-votable+xml", "csv": "text/csv", "fits": "application/fits"}
    for fmt, media_type in media.items():
        href = re.search(rf'href="([^"]*RESPONSEFORMAT={fmt}[^"]*)"', page).group(1).replace("&amp;", "&")
        with client.get(href) as response:
            assert response.status_code == 200 and response.mimetype == media_type
            assert len(response.get_data()) > 100
    csv = client.get(re.search(r'href="([^"]*RESPONSEFORMAT=csv[^"]*)"', page).group(1).replace("&amp;", "&")).data
    lines = csv.decode().strip().splitlines()
    assert lines[0].startswith("scw_id,scw_ver,scw_type,status,ra,dec,start_time") and 1 < len(lines) <= 51


def test_an_anonymous_search_for_private_data_says_to_sign_in(client, alice_client):
    assert 'id="private-signin"' in client.get("/ui/select?status=private").data.decode()
    assert 'id="private-signin"' not in alice_client.get("/ui/select?status=private").data.decode()


def test_a_bad_form_shows_the_messages_and_runs_no_query(client):
    page = client.get("/ui/select?target=Atlantis&start=soon").data.decode()
    assert 'id="error-target"' in page and 'id="error-start"' in page
    assert 'id="results"' not in page and "could not be read" in page


def test_the_expert_box_runs_the_given_adql(client):
    query = "SELECT revolution, COUNT(*) AS n FROM integral.scw GROUP BY revolution"
    page = client.get("/ui/select", query_string={"adql": query, "maxrec": "20"}).data.decode()
    assert f'data-adql="{query}"' in page and 'data-maxrec="20"' in page
    assert f">{query}</textarea>" in page


def test_signed_in_pages_see_the_proprietary_rows_of_their_groups(app, client, demo_catalogue, engine):
    # the known private Crab windows (the other known group's must stay hidden from carol);
    # 'private' only until the public date: the demo's own private windows may be past it
    group = known_windows.CRAB_GROUP
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    with engine.connect() as conn:
        count = conn.execute(sqlalchemy.text(
            "SELECT COUNT(*) FROM integral.scw WHERE status = 'private' AND public_date > :now "
            "AND proprietary_group = :group"), {"now": now, "group": group}).scalar()
    token = users.add_user(engine, "carol", [group])
    form = {"status": "private", "maxrec": "10000"}
    page = client.get("/ui/select", query_string=form).data.decode()
    href = re.search(r'href="([^"]*RESPONSEFORMAT=csv[^"]*)"', page).group(1).replace("&amp;", "&")
    anonymous = client.get(href).data.decode().strip().splitlines()
    assert anonymous[0].startswith("scw_id,") and len(anonymous) == 1  # header only
    sign_in(client, token)
    mine = client.get(href).data.decode().strip().splitlines()
    assert len(mine) == 1 + count and count > 0


# ---- sign-in, session, CSRF ----------------------------------------------------------------------

def test_signing_in_opens_a_session_that_holds_no_token(app, alice):
    client = app.test_client()
    response = sign_in(client, alice, next_url="/ui/jobs")
    assert response.status_code == 303 and response.headers["Location"].endswith("/ui/jobs")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("hera_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert alice not in cookie
    page = client.get("/ui/jobs").data.decode()
    assert 'Signed in as <strong id="user-name">alice</strong>' in page


def test_a_wrong_token_is_refused_with_a_message(client, alice):
    response = sign_in(client, alice + "x")
    assert response.status_code == 401 and b'id="signin-error"' in response.data
    assert b"Anonymous" in client.get("/").data


def test_the_sign_in_form_needs_its_csrf_token(client, alice):
    client.get("/ui/signin")
    response = client.post("/ui/signin", data={"token": alice})
    assert response.status_code == 403
    assert b"Anonymous" in client.get("/").data


def test_sign_in_goes_only_to_pages_of_this_service(client, alice):
    response = sign_in(client, alice, next_url="//evil.example/steal")
    assert response.headers["Location"] in ("/", "http://localhost/")


#: targets that a browser reads as another site (tabs and newlines dropped, ``\`` read
#: as ``/``), or that are no path at all: each falls back to the home page
FOREIGN_TARGETS = ["//evil.example", "///evil.example", "/\t/evil.example", "/\n/evil", "/\r\n/evil",
                   "\t//evil.example", " //evil.example", "/\\evil.example", "\\\\evil.example",
                   "\\/evil.example", "/\\/evil.example", "http://evil.example/", "HTTPS://evil.example",
                   "http:evil.example", "https:/evil.example", "javascript:alert(1)", "evil.example",
                   "/\x00/evil", "/\x1b/evil", "/\x85/evil", "\x0c//evil.example"]


def _sign_in_through_the_page(client, token, query_string):
    """GET the sign-in page as a crafted link would, then send its form as a browser does."""
    page = client.get("/ui/signin?" + query_string)
    assert page.status_code == 200
    carried = re.search(r'name="next" value="([^"]*)"', page.data.decode()).group(1)
    response = client.post("/ui/signin", data={"csrf_token": csrf_of(page.data), "token": token,
                                               "next": html.unescape(carried)})
    assert response.status_code == 303
    return response.headers["Location"]


@pytest.mark.parametrize("target", FOREIGN_TARGETS)
def test_sign_in_never_sends_the_browser_to_another_site(client, alice, target):
    # posted as is, and carried through the page from a link's query string
    location = sign_in(client, alice, next_url=target).headers["Location"]
    assert location in ("/", "http://localhost/"), (target, location)
    client.post("/ui/signout", headers={"X-CSRF-Token": csrf_of(client.get("/").data)})
    location = _sign_in_through_the_page(client, alice, urlencode({"next": target}))
    assert location in ("/", "http://localhost/"), (target, location)


@pytest.mark.parametrize("query_string", ["next=/%09/evil.example", "next=%2F%2Fevil.example",
                                          "next=/%0A/evil", "next=%5C%5Cevil.example",
                                          "next=/%5Cevil.example", "next=%2F%09%2Fevil.example"])
def test_percent_encoded_foreign_targets_fall_back_to_the_home_page(client, alice, query_string):
    assert _sign_in_through_the_page(client, alice, query_string) in ("/", "http://localhost/")


@pytest.mark.parametrize("target, location", [
    ("/ui/jobs", "/ui/jobs"), ("/ui/jobs?phase=ERROR&x=1", "/ui/jobs?phase=ERROR&x=1"),
    ("/ui/\tjobs", "/ui/jobs"), ("/ui/workspace/a\\b", "/ui/workspace/a/b"),
    ("/%2F%2Fevil.example", "/%2F%2Fevil.example"), ("/ui/select?target=M%201", "/ui/select?target=M%201")])
def test_sign_in_returns_to_a_page_of_this_service_as_a_browser_would_read_it(client, alice, target, location):
    assert sign_in(client, alice, next_url=target).headers["Location"] in (location, "http://localhost" + location)


def test_the_session_authenticates_the_service_interfaces_too(alice_client):
    response = alice_client.post("/test-jobs", data={"echo": "hi"},
                                 headers={"X-CSRF-Token": csrf_of(alice_client.get("/").data)})
    assert response.status_code == 303
    job_id = response.headers["Location"].rsplit("/", 1)[1]
    owner = alice_client.get(f"/test-jobs/{job_id}/owner")
    assert owner.data == b"alice"


def test_a_state_changing_request_on_the_session_needs_the_csrf_token(alice_client, engine):
    response = alice_client.post("/test-jobs", data={"echo": "forged"})
    assert response.status_code == 403 and b"CSRF" in response.data
    response = alice_client.post("/test-jobs", data={"echo": "forged"}, headers={"X-CSRF-Token": "guess"})
    assert response.status_code == 403
    assert alice_client.get("/test-jobs").data.count(b"<uws:jobref") == 0


def test_requests_started_by_another_site_reach_the_interfaces_anonymously(alice_client, demo_catalogue, app):
    job = _job(app, "alice")
    other_site = {"Sec-Fetch-Site": "cross-site"}
    assert alice_client.get(f"/test-jobs/{job.id}", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert alice_client.get(f"/test-jobs/{job.id}", headers=other_site).status_code == 404
    assert alice_client.get(f"/test-jobs/{job.id}", headers={"Sec-Fetch-Site": "same-site"}).status_code == 404
    # a link elsewhere cannot make /tap/sync write into the workspace with the session
    saved = alice_client.get("/tap/sync", headers=other_site, query_string={
        "REQUEST": "doQuery", "LANG": "ADQL", "QUERY": "SELECT TOP 1 scw_id FROM integral.scw", "DEST": "evil.xml"})
    assert saved.status_code == 401
    assert not app.extensions["workspaces"].for_user("alice").exists("evil.xml")
    # ... while the pages a link opens still know the user
    assert 'id="user-name">alice<' in alice_client.get("/ui/jobs", headers=other_site).data.decode()
    assert 'id="user-name">alice<' in alice_client.get("/", headers=other_site).data.decode()


def test_signing_out_needs_the_csrf_token_and_ends_the_session(alice_client):
    assert alice_client.post("/ui/signout").status_code == 403
    csrf = csrf_of(alice_client.get("/").data)
    response = alice_client.post("/ui/signout", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert b"Anonymous" in alice_client.get("/").data


def test_requests_with_credentials_ignore_the_session_and_need_no_csrf_token(app, alice, bob):
    client = app.test_client()
    sign_in(client, alice)
    response = client.post("/test-jobs", data={"echo": "x"}, headers={"Authorization": f"Bearer {bob}"})
    assert response.status_code == 303
    job_id = response.headers["Location"].rsplit("/", 1)[1]
    assert client.get(f"/test-jobs/{job_id}/owner", headers={"Authorization": f"Bearer {bob}"}).data == b"bob"


def test_renewing_the_token_ends_every_session(alice_client, engine):
    users.renew_token(engine, "alice")
    page = alice_client.get("/").data.decode()
    assert "Your session has ended" in page and "Anonymous" in page
    assert "Your session has ended" not in alice_client.get("/").data.decode()  # said once


def test_the_session_key_is_kept_in_the_data_directory_and_shared(config, alice):
    app1 = create_app(config)
    app2 = create_app(config)
    key_file = app1.config["HERA_DATA_DIR"] / "secret_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert app1.secret_key == app2.secret_key == key_file.read_text().strip()
    assert len(app1.secret_key) >= 48
    app3 = create_app({**config, "HERA_SECRET_KEY": "configured-key"})
    assert app3.secret_key == "configured-key"
    for a in (app1, app2, app3):
        a.extensions["hera"].engine.dispose()


def test_the_session_cookie_is_secure_behind_https(config, alice):
    app = create_app({**config, "HERA_BASE_URL": "https://hera.example.org"})
    client = app.test_client()
    response = sign_in(client, alice)
    assert response.status_code == 303 and "Secure" in response.headers["Set-Cookie"]
    app.extensions["hera"].engine.dispose()


def test_a_session_cookie_signed_with_another_key_is_not_accepted(app, alice, config):
    client = app.test_client()
    sign_in(client, alice)
    other = create_app({**config, "HERA_SECRET_KEY": "another-key"})
    other_client = other.test_client()
    other_client.set_cookie("hera_session", client.get_cookie("hera_session").value)
    assert b"Anonymous" in other_client.get("/").data
    other.extensions["hera"].engine.dispose()


# ---- jobs ------------------------------------------------------------------------------------------

def _job(app, owner, **params):
    manager = app.extensions["uws"]
    return manager.create(manager.joblists["test"], owner, params or {"echo": "x"})


def test_the_jobs_page_lists_only_the_users_own_jobs(app, alice_client, bob):
    mine = _job(app, "alice", echo="one")
    theirs = _job(app, "bob")
    app.extensions["uws"].store.update(mine.id, phase=Phase.COMPLETED)
    page = alice_client.get("/ui/jobs").data.decode()
    assert f'data-job="{mine.id}"' in page and theirs.id not in page
    assert '<span class="phase COMPLETED">COMPLETED</span>' in page
    assert mine.id not in alice_client.get("/ui/jobs?phase=ERROR").data.decode()
    assert mine.id in alice_client.get("/ui/jobs?phase=COMPLETED").data.decode()


def test_a_job_page_shows_parameters_results_and_error(app, alice_client):
    job = _job(app, "alice", echo="hello", sleep="0")
    directory = app.extensions["uws"].job_dir(job.id)
    directory.mkdir(parents=True)
    (directory / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (directory / "out.txt").write_text("hello")
    app.extensions["uws"].store.update(job.id, phase=Phase.ERROR, end_time=datetime.now(timezone.utc),
                                       results=[Result("plot", "plot.png", "image/png", 8),
                                                Result("out", "out.txt", "text/plain", 5)],
                                       error=ErrorSummary("the detector was switched off"))
    page = alice_client.get(f"/ui/jobs/{job.id}").data.decode()
    assert '<span class="phase ERROR" id="phase">ERROR</span>' in page
    assert "<th>echo</th>" in page and ">hello</td>" in page
    assert f'data-uws="/test-jobs/{job.id}"' in page and 'data-final="true"' in page
    assert f'<img src="/test-jobs/{job.id}/results/plot"' in page
    assert f'href="/test-jobs/{job.id}/results/out" data-result="out"' in page
    assert '<pre class="error-text" id="error-summary">the detector was switched off</pre>' in page
    assert alice_client.get(f"/test-jobs/{job.id}/results/plot").status_code == 200


def test_a_running_job_page_follows_the_job(app, alice_client):
    job = _job(app, "alice")
    page = alice_client.get(f"/ui/jobs/{job.id}").data.decode()
    assert 'data-phase="PENDING"' in page and 'data-final="false"' in page and "Following the job live" in page
    assert re.search(r'id="abort-button"\s*>', page)  # abort is offered while it runs


def test_a_tool_jobs_page_links_its_products_in_the_workspace_and_shows_provenance(app, alice_client):
    manager = app.extensions["uws"]
    job = _job(app, "alice")  # then made a finished scw_coverage job, without running the tool
    manager.store.update(job.id, joblist="tools/scw_coverage", parameters={
        "scw_table": "selections/crab.fits", "outfile": "out/cov.fits", "plotfile": "out/cov.png",
        "ra": "83.6331", "dec": "22.0145"})
    directory = manager.job_dir(job.id)
    directory.mkdir(parents=True)
    (directory / "provenance.json").write_text(json.dumps({"tool": "scw_coverage", "version": "1.0.0"}))
    manager.store.update(job.id, phase=Phase.COMPLETED, results=[Result("provenance", "provenance.json", "application/json", 40)])
    page = alice_client.get(f"/ui/jobs/{job.id}").data.decode()
    assert 'href="/ui/preview/out/cov.fits">out/cov.fits</a>' in page
    assert 'href="/ui/preview/out/cov.png">out/cov.png</a>' in page
    assert 'href="/ui/preview/selections/crab.fits"' not in page  # an input, not a product
    assert '&#34;tool&#34;: &#34;scw_coverage&#34;' in page
    listing = alice_client.get("/ui/jobs").data.decode()
    assert 'href="/ui/tools/scw_coverage">scw_coverage</a>' in listing
    assert "scw_table=selections/crab.fits  outfile=out/cov.fits" in listing


def test_a_tap_jobs_summary_is_its_query(app, alice_client):
    manager = app.extensions["uws"]
    job = _job(app, "alice")
    manager.store.update(job.id, joblist="tap", parameters={"REQUEST": "doQuery", "LANG": "ADQL",
                                                            "QUERY": "SELECT TOP 5 scw_id\nFROM integral.scw"})
    listing = alice_client.get("/ui/jobs").data.decode()
    assert ">SELECT TOP 5 scw_id FROM integral.scw</td>" in listing and ">TAP query</a>" in listing


def test_a_query_too_long_for_a_url_is_posted(alice_client):
    query = "SELECT scw_id FROM integral.scw WHERE scw_id IN (" + ", ".join(f"'{i:012d}'" for i in range(400)) + ")"
    csrf = csrf_of(alice_client.get("/ui/select").data)
    page = alice_client.post("/ui/select", data={"adql": query, "maxrec": "10", "csrf_token": csrf}).data.decode()
    assert 'data-maxrec="10"' in page and "&#39;000000000399&#39;)" in page


def test_another_users_job_page_is_not_found(app, alice_client, bob):
    theirs = _job(app, "bob")
    response = alice_client.get(f"/ui/jobs/{theirs.id}")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert b'id="error-message"' in response.data


# ---- workspace --------------------------------------------------------------------------------------

@pytest.fixture
def alice_files(app, alice, tmp_path):

    ws = app.extensions["workspaces"].for_user("alice")
    table = Table({"scw_id": ["003900050010", "003900060010"], "ra": [83.1, 84.0], "good_isgri": [1800.0, 2200.0]})
    table["ra"].unit = "deg"
    path = tmp_path / "scw.fits"
    table.write(path)
    fits.setval(path, "TELESCOP", value="INTEGRAL", ext=1)
    ws.write("selections/crab_scw.fits", path.read_bytes())
    ws.write("plots/coverage.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    ws.write("notes.txt", b"not a FITS file")
    return ws


def test_the_workspace_page_lists_folders_and_files_with_size_date_checksum(alice_client, alice_files):
    page = alice_client.get("/ui/workspace/").data.decode()
    assert 'href="/ui/workspace/selections/">selections/</a>' in page
    assert 'href="/ui/workspace/plots/">plots/</a>' in page
    checksum = alice_files.checksum("notes.txt")
    assert f'title="{checksum}">{checksum[:16]}…' in page
    assert 'href="/workspace/notes.txt"' in page and "15 B" in page
    assert 'id="quota-bar"' in page and "3 of 10000 files" in page
    sub = alice_client.get("/ui/workspace/selections/").data.decode()
    assert 'href="/ui/preview/selections/crab_scw.fits">Preview</a>' in sub
    assert alice_client.get("/ui/workspace/nothing/").status_code == 404
    file_page = alice_client.get("/ui/workspace/notes.txt")
    assert file_page.status_code == 302 and file_page.headers["Location"].endswith("/ui/preview/notes.txt")


def test_a_fits_preview_shows_headers_and_first_rows(alice_client, alice_files):
    page = alice_client.get("/ui/preview/selections/crab_scw.fits").data.decode()
    assert 'id="hdu-0"' in page and 'id="hdu-1"' in page
    assert "table: 3 columns × 2 rows" in page
    assert "TELESCOP= INTEGRAL" in page
    assert "<td>003900050010</td>" in page and "<td>2200</td>" in page and "<td>83.1</td>" in page
    assert '<span class="unit">deg</span>' in page


def _table_fits(path, values) -> bytes:
    """A FITS file with one binary table of ``values`` (name -> array)."""
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU(Table(values), name="RATE")]).writeto(path, overwrite=True)
    return path.read_bytes()


def _claiming_rows(data: bytes, nrows: int) -> bytes:
    """``data`` whose first table header claims ``nrows`` rows, the file unchanged otherwise."""
    at = data.index(b"NAXIS2  =", 2880)
    return data[:at] + b"NAXIS2  = %20d" % nrows + data[at + 30:]


@pytest.mark.parametrize("nrows", [1000, 10**9, 10**12, 10**18])
def test_a_table_whose_header_claims_more_rows_than_the_file_holds_is_a_note(alice_client, alice_files, tmp_path,
                                                                            nrows):
    data = _table_fits(tmp_path / "t.fits", {"RATE": np.arange(3.0)})
    alice_files.write("huge.fits", _claiming_rows(data, nrows))
    response = alice_client.get("/ui/preview/huge.fits")
    assert response.status_code == 200
    page = response.data.decode()
    assert f"table: 1 columns × {nrows} rows" in page  # the header is shown as it is
    assert "more than the file holds" in page and "<td>" not in page


@pytest.mark.parametrize("keyword, value", [(b"NAXIS2", b"-5"), (b"NAXIS2", b"'many'"), (b"BITPIX", b"7"),
                                            (b"TFIELDS", b"T")])
def test_a_table_whose_header_cannot_be_believed_is_a_note(alice_client, alice_files, tmp_path, keyword, value):
    data = _table_fits(tmp_path / "t.fits", {"RATE": np.arange(3.0)})
    at = data.index(keyword.ljust(8) + b"=", 2880)
    alice_files.write("bad.fits", data[:at] + keyword.ljust(8) + b"= " + value.rjust(20) + data[at + 30:])
    response = alice_client.get("/ui/preview/bad.fits")
    assert response.status_code == 200
    assert "This header cannot be read" in response.data.decode()


@pytest.mark.parametrize("content", [b"SIMPLE  =                    T" + b" " * 50,  # no END, cut short
                                     b"SIMPLE  =                    T" + b" " * 2850 + b"\0" * 100,
                                     b"SIMPLE  = " + b"X" * 5000])
def test_a_truncated_or_damaged_fits_file_is_a_message(alice_client, alice_files, content):
    alice_files.write("cut.fits", content)
    response = alice_client.get("/ui/preview/cut.fits")
    assert response.status_code == 200
    page = response.data.decode()
    assert 'id="preview-error"' in page or "hdu-problem" in page


def test_the_preview_prints_single_precision_values_without_noise_digits(alice_client, alice_files, tmp_path):
    values = {"F32": np.array([0.3904, 1e-7, 123456.7], dtype=np.float32),
              "F64": np.array([0.3904, 1e-7, 123456.7]),
              "VEC": np.array([[0.1, 0.2]] * 3, dtype=np.float32)}
    alice_files.write("single.fits", _table_fits(tmp_path / "s.fits", values))
    page = alice_client.get("/ui/preview/single.fits").data.decode()
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert cells[:3] == ["0.3904", "0.3904", "[0.1, 0.2]"]
    assert cells[3:6] == ["1e-07", "1e-07", "[0.1, 0.2]"]
    assert cells[6] == "123456.7" and "0.3903999925" not in page


def test_a_compressed_fits_preview_shows_headers_and_respects_the_decompression_limit(app, alice_client,
                                                                                    alice_files, tmp_path):
    import gzip

    alice_files.write("rate.fits.gz", gzip.compress(_table_fits(tmp_path / "r.fits", {"RATE": np.arange(3.0)})))
    page = alice_client.get("/ui/preview/rate.fits.gz").data.decode()
    assert 'id="hdu-1"' in page and "table: 1 columns × 3 rows" in page and "gzip-compressed" in page
    # a gzip bomb: a valid header, then far more zeros than the limit allows
    header = fits.PrimaryHDU(np.zeros((1024, 1024), dtype=np.uint8)).header.tostring().encode()
    alice_files.write("bomb.fits.gz", gzip.compress(header + bytes(1 << 20)))
    app.config["HERA_FITS_DECOMPRESSED_MAX"] = 100_000
    response = alice_client.get("/ui/preview/bomb.fits.gz")
    assert response.status_code == 200
    assert "decompresses to more than 100000 bytes" in response.data.decode()
    assert "HERA_FITS_DECOMPRESSED_MAX" in response.data.decode()


def test_a_png_preview_shows_the_image_and_other_files_say_why_not(alice_client, alice_files):
    assert 'id="preview-image"' in alice_client.get("/ui/preview/plots/coverage.png").data.decode()
    page = alice_client.get("/ui/preview/notes.txt").data.decode()
    assert 'id="preview-error"' in page and "not a FITS file" in page
    assert alice_client.get("/ui/preview/../etc/passwd").status_code in (400, 404)


# ---- tools ---------------------------------------------------------------------------------------

DESCRIPTOR = {
    "name": "demo", "version": "1.0", "summary": "s", "description": "d",
    "parameters": [
        {"name": "infile", "type": "table", "direction": "in", "required": True, "description": "input table"},
        {"name": "outfile", "type": "file", "direction": "out", "default": "out/cov.fits"},
        {"name": "radius", "type": "real", "unit": "deg", "min": 0, "max": 30, "default": 5.0},
        {"name": "nbins", "type": "integer", "min": 1, "default": 10},
        {"name": "clobber", "type": "boolean", "default": True},
        {"name": "mode", "type": "enum", "options": ["fast", "exact"], "default": "fast"},
        {"name": "label", "type": "string"},
    ],
    "outputs": [],
}


def test_a_tool_form_is_generated_from_its_descriptor():
    fields = {f.name: f for f in form_fields(DESCRIPTOR)}
    assert list(fields) == ["infile", "outfile", "radius", "nbins", "clobber", "mode", "label"]
    assert fields["infile"].widget == "file-in" and fields["infile"].required
    assert fields["outfile"].widget == "file-out" and fields["outfile"].default == "out/cov.fits"
    assert (fields["radius"].widget, fields["radius"].unit, fields["radius"].step) == ("number", "deg", "any")
    assert fields["radius"].range_text == "0 … 30" and fields["radius"].default == "5.0"
    assert fields["nbins"].step == "1" and fields["nbins"].range_text == "≥ 1"
    assert fields["clobber"].widget == "checkbox" and fields["clobber"].default == "true"
    assert fields["mode"].widget == "select" and fields["mode"].options == ("fast", "exact")
    assert fields["label"].widget == "text"


def test_the_tools_page_shows_job_list_urls_at_the_services_own_address(app, client):
    page = client.get("/ui/tools", base_url="https://hera.example.org:8443/").data.decode()
    assert "https://hera.example.org:8443/tools/fcalc" in page and "localhost" not in page
    app.config["HERA_BASE_URL"] = "https://public.example.org/hera"
    page = client.get("/ui/tools", base_url="http://10.0.0.7:8000/").data.decode()
    assert "https://public.example.org/hera/tools/fcalc" in page and "10.0.0.7" not in page


def test_the_tools_page_lists_the_registered_tools(app, client):
    page = client.get("/ui/tools").data.decode()
    assert 'href="/ui/tools/scw_coverage"' in page


def test_a_tool_page_has_the_form_of_its_descriptor(app, client):
    descriptor = json.loads(client.get("/tools/scw_coverage/descriptor?format=json").data)
    page = client.get("/ui/tools/scw_coverage?scw_table=selections/crab.fits").data.decode()
    assert 'data-joblist="/tools/scw_coverage"' in page
    for p in descriptor["parameters"]:
        assert f'name="{p["name"]}"' in page
    assert 'value="selections/crab.fits"' in page  # a preset from the selection page's link


def test_a_tool_page_keeps_the_signed_in_user(app, alice_client):
    page = alice_client.get("/ui/tools/scw_coverage").data.decode()
    assert 'Signed in as <strong id="user-name">alice</strong>' in page
    assert 'id="tool-signin"' not in page
    assert 'Signed in as <strong id="user-name">alice</strong>' in alice_client.get("/ui/tools").data.decode()


def test_an_unknown_tool_page_is_not_found(client):
    response = client.get("/ui/tools/no_such_tool")
    assert response.status_code == 404 and b"no tool" in response.data
