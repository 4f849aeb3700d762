"""Save to Hera: a finished TAP job's result saved server-side, DEST= on TAP sync and async
(pyvo), the per-user saving TAP endpoint, and import by URL — all over real HTTP with
real RQ workers."""
from __future__ import annotations

import hashlib
import http.server
import io
import os
import time

import pytest
import pyvo
import requests
from astropy.io import votable
from lxml import etree

from accounts import users
from conftest import load_demo, serve_http, session_of
from schemas import assert_valid

ROWS, SEED = 300, 11
MiB = 1 << 20
UWS = {"uws": "http://www.ivoa.net/xml/UWS/v1.0"}


@pytest.fixture
def config(config):
    config.update({"HERA_WORKSPACE_IMPORT_HOSTS": "127.0.0.1 localhost",
                   "HERA_FETCH_ALLOW": "127.0.0.1",
                   "HERA_WORKSPACE_IMPORT_MAX_BYTES": 2 * MiB})
    return config


@pytest.fixture
def catalogue(app):
    load_demo(app, ROWS, SEED)
    return app


@pytest.fixture
def accounts(app):
    engine = app.extensions["hera"].engine
    return {"alice": users.add_user(engine, "alice", ["integral"], quota_bytes=20 * MiB),
            "bob": users.add_user(engine, "bob")}


@pytest.fixture
def alice(live_server, accounts, catalogue):
    return session_of("alice", accounts["alice"], live_server)


@pytest.fixture
def bob(live_server, accounts):
    return session_of("bob", accounts["bob"], live_server)


def listing(session, folder=""):
    return session.get(session.root + f"/workspace/{folder}?format=json").json()


def finished_job(session, tap="/tap", **params) -> str:
    r = session.post(session.root + tap + "/async", data={"LANG": "ADQL", "PHASE": "RUN", **params},
                     allow_redirects=False)
    assert r.status_code == 303, r.text
    url = r.headers["Location"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        doc = assert_valid("UWS.xsd", session.get(url, params={"WAIT": 5}).content)
        phase = doc.findtext("uws:phase", namespaces=UWS)
        if phase in ("COMPLETED", "ERROR", "ABORTED"):
            return url
    raise AssertionError(f"job {url} did not finish")


def rows_of(data: bytes) -> int:
    return len(votable.parse_single_table(io.BytesIO(data)).array)


# -- 1. a finished job's result, saved in one request --------------------------------------------
def test_a_finished_tap_job_is_saved_server_side(alice, worker):
    job = finished_job(alice, QUERY="SELECT TOP 40 scw_id, ra, dec FROM integral.scw ORDER BY scw_id")
    result = alice.get(job + "/results/result").content
    assert rows_of(result) == 40
    for reference, path in ((job, "saved/by-url.vot"), (job.rsplit("/", 1)[1], "saved/by-id.vot"),
                            (job + "/results/result", "saved/by-result-url.vot")):
        r = alice.post(alice.root + f"/workspace/{path}", data={"action": "save", "job": reference})
        assert r.status_code == 201, r.text
        assert r.json()["sha256"] == hashlib.sha256(result).hexdigest()
        assert alice.get(alice.root + f"/workspace/{path}").content == result
    again = alice.post(alice.root + "/workspace/saved/by-id.vot", data={"action": "save", "job": job})
    assert again.status_code == 200  # replaced


def test_another_users_job_cannot_be_saved_and_unfinished_jobs_have_nothing_to_save(alice, bob, worker):
    job = finished_job(alice, QUERY="SELECT TOP 3 scw_id FROM integral.scw")
    r = bob.post(bob.root + "/workspace/stolen.vot", data={"action": "save", "job": job})
    assert r.status_code == 404 and "no job" in r.json()["error"]
    assert listing(bob)["entries"] == []
    pending = alice.post(alice.root + "/tap/async", data={"LANG": "ADQL", "QUERY": "SELECT TOP 1 scw_id FROM integral.scw"},
                         allow_redirects=False).headers["Location"]
    r = alice.post(alice.root + "/workspace/p.vot", data={"action": "save", "job": pending})
    assert r.status_code == 409 and "PENDING" in r.json()["error"]
    assert alice.post(alice.root + "/workspace/p.vot", data={"action": "save", "job": "nonexistent"}).status_code == 404


# -- 2. DEST= on TAP sync and async (pyvo passes it as an extra keyword) ------------------------------
def test_dest_on_a_sync_query_saves_and_still_answers_with_the_table(alice):
    tap = pyvo.dal.TAPService(alice.root + "/tap", session=alice)
    result = tap.run_sync("SELECT TOP 25 scw_id, ra FROM integral.scw ORDER BY scw_id", DEST="workspace/sync/q.vot")
    assert len(result) == 25
    saved = alice.get(alice.root + "/workspace/sync/q.vot").content
    assert rows_of(saved) == 25
    r = alice.post(alice.root + "/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT TOP 2 scw_id FROM integral.scw",
                                                   "DEST": "sync/plain.csv", "RESPONSEFORMAT": "csv"},
                   allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("/workspace/sync/plain.csv")
    assert r.json()["path"] == "sync/plain.csv"
    assert alice.get(r.headers["Location"]).text.count("\n") == 3  # header and two rows


def test_dest_on_an_async_query_is_written_by_the_job(alice, worker):
    tap = pyvo.dal.TAPService(alice.root + "/tap", session=alice)
    job = tap.submit_job("SELECT TOP 30 scw_id, ra, dec FROM integral.scw ORDER BY scw_id", DEST="async/q.vot")
    job.run()
    job.wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=60)
    assert job.phase == "COMPLETED"
    assert alice.get(alice.root + "/workspace/async/q.vot").content == alice.get(job.result_uri).content
    bad = tap.submit_job("SELECT TOP 1 scw_id FROM integral.scw", DEST="../escape.vot")
    bad.run()
    bad.wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=60)
    assert bad.phase == "ERROR" and "'..'" in bad.job.errorsummary.message.content


def test_dest_on_a_get_is_refused_and_nothing_kept(alice):
    """A GET changes nothing, so no link elsewhere can write into the workspace."""
    r = alice.get(alice.root + "/tap/sync", params={"LANG": "ADQL", "QUERY": "SELECT TOP 1 scw_id FROM integral.scw",
                                                    "DEST": "linked.vot"}, allow_redirects=False)
    assert r.status_code == 405 and b"QUERY_STATUS" in r.content and b"POST" in r.content
    assert listing(alice)["entries"] == []


def test_dest_needs_a_signed_in_user(live_server, catalogue):
    r = requests.post(live_server + "/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT TOP 1 scw_id FROM integral.scw",
                                                       "DEST": "x.vot"})
    assert r.status_code == 401
    assert b"QUERY_STATUS" in r.content and b"sign in" in r.content


def test_dest_over_the_quota_is_refused_with_a_tap_error_and_nothing_kept(alice, app):
    users_table = users.users_table
    with app.extensions["hera"].engine.begin() as conn:
        conn.execute(users_table.update().where(users_table.c.name == "alice").values(quota_bytes=2000))
    r = alice.post(alice.root + "/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT * FROM integral.scw",
                                                   "DEST": "big.vot"}, allow_redirects=False)
    assert r.status_code == 507 and b"QUERY_STATUS" in r.content and b"quota" in r.content
    assert listing(alice)["entries"] == []


# -- 3. the per-user saving TAP endpoint ------------------------------------------------------------
def test_the_saving_endpoint_keeps_every_sync_and_async_result(alice, worker):
    url = alice.root + "/users/alice/tap"
    caps = etree.fromstring(alice.get(url + "/capabilities").content)
    access = {e.text for e in caps.iter("accessURL")}
    assert url in access and alice.root + "/tap" not in access  # TOPCAT finds sync and async from here
    tap = pyvo.dal.TAPService(url, session=alice)
    sync = tap.run_sync("SELECT TOP 12 scw_id FROM integral.scw ORDER BY scw_id")
    assert len(sync) == 12
    job = tap.submit_job("SELECT TOP 7 scw_id FROM integral.scw ORDER BY scw_id")
    job.run()
    job.wait(phases=["COMPLETED", "ERROR"], timeout=60)
    assert job.phase == "COMPLETED", job.phase
    saved = listing(alice, "tap/")["entries"]
    assert len(saved) == 2
    kept = sorted(rows_of(alice.get(alice.root + "/workspace/" + e["path"]).content) for e in saved)
    assert kept == [7, 12]
    assert any(e["name"].endswith(f"-{job.job_id}.vot") for e in saved)
    assert any(e["name"].endswith("-sync.vot") for e in saved)


def test_the_saving_endpoint_is_only_its_users(alice, bob, live_server):
    query = {"LANG": "ADQL", "QUERY": "SELECT TOP 1 scw_id FROM integral.scw"}
    assert bob.post(live_server + "/users/alice/tap/sync", data=query).status_code == 404
    assert bob.get(live_server + "/users/alice/tap/async").status_code == 404
    anonymous = requests.post(live_server + "/users/alice/tap/sync", data=query)
    assert anonymous.status_code == 401 and "Basic" in anonymous.headers["WWW-Authenticate"]
    assert listing(alice)["entries"] == []
    # bob's own saving endpoint keeps his results in his workspace only
    assert bob.post(live_server + "/users/bob/tap/sync", data=query).status_code == 200
    assert len(listing(bob, "tap/")["entries"]) == 1 and listing(alice)["entries"] == []


def test_a_query_error_on_the_saving_endpoint_keeps_nothing(alice):
    r = alice.post(alice.root + "/users/alice/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT nothing FROM nowhere"})
    assert r.status_code == 400 and b"QUERY_STATUS" in r.content
    assert listing(alice)["entries"] == []


def test_stilts_saves_through_the_saving_endpoint(alice, accounts):
    import shutil
    import subprocess
    stilts = shutil.which("stilts")
    if stilts is None:
        pytest.skip("stilts is not installed (.ci/run installs it)")
    out = subprocess.run(
        [stilts, "-Dstar.basicauth.user=alice", f"-Dstar.basicauth.password={accounts['alice']}",
         "tapquery", f"tapurl={alice.root}/users/alice/tap", "sync=true",
         "adql=SELECT TOP 5 scw_id FROM integral.scw", "ofmt=csv", "out=-"],
        capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.strip().splitlines()) == 6
    assert len(listing(alice, "tap/")["entries"]) == 1


# -- 4. import by URL --------------------------------------------------------------------------------
@pytest.fixture
def remote():
    """A remote service on 127.0.0.1: /small (with a length), /stream (no length, 3 MiB),
    /big (announces 3 MiB), /elsewhere (redirects to a host that is not allowed)."""
    small = os.urandom(100_000)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):
            if self.path == "/small":
                self.send_response(200)
                self.send_header("Content-Length", str(len(small)))
                self.end_headers()
                self.wfile.write(small)
            elif self.path == "/stream":
                self.send_response(200)
                self.end_headers()
                for _ in range(3):
                    self.wfile.write(b"\0" * MiB)
            elif self.path == "/big":
                self.send_response(200)
                self.send_header("Content-Length", str(3 * MiB))
                self.end_headers()
                try:
                    self.wfile.write(b"\0" * 1000)
                except OSError:
                    pass
            elif self.path == "/elsewhere":
                self.send_response(302)
                self.send_header("Location", "http://example.org/data")
                self.end_headers()
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, *args):
            pass

    with serve_http(Handler) as base:
        yield base, small


def test_import_by_url_streams_into_the_workspace(alice, remote):
    base, small = remote
    r = alice.post(alice.root + "/workspace/imports/small.bin", data={"action": "import", "url": base + "/small"})
    assert r.status_code == 201, r.text
    assert r.json()["sha256"] == hashlib.sha256(small).hexdigest()
    assert alice.get(alice.root + "/workspace/imports/small.bin").content == small


def test_import_by_url_is_size_capped(alice, remote, app):
    base, _ = remote
    announced = alice.post(alice.root + "/workspace/big.bin", data={"action": "import", "url": base + "/big"})
    assert announced.status_code == 413 and "2097152" in announced.json()["error"]
    streamed = alice.post(alice.root + "/workspace/stream.bin", data={"action": "import", "url": base + "/stream"})
    assert streamed.status_code == 413
    assert listing(alice)["entries"] == []
    assert os.listdir(app.config["HERA_DATA_DIR"] / "workspaces" / "alice" / ".hera-staging") == []


def test_import_refuses_hosts_not_allowed_and_private_addresses(alice, remote, app):
    base, _ = remote
    other = alice.post(alice.root + "/workspace/x", data={"action": "import", "url": "http://example.org/x"})
    assert other.status_code == 403 and "HERA_WORKSPACE_IMPORT_HOSTS" in other.json()["error"]
    hop = alice.post(alice.root + "/workspace/x", data={"action": "import", "url": base + "/elsewhere"})
    assert hop.status_code == 403 and "example.org" in hop.json()["error"]
    scheme = alice.post(alice.root + "/workspace/x", data={"action": "import", "url": "file:///etc/passwd"})
    assert scheme.status_code == 400
    app.config["HERA_FETCH_ALLOW"] = []
    for url in (base + "/small", base.replace("127.0.0.1", "localhost") + "/small"):
        r = alice.post(alice.root + "/workspace/x", data={"action": "import", "url": url})
        assert r.status_code == 403 and "a loopback address" in r.json()["error"], r.text
        assert "HERA_FETCH_ALLOW" in r.json()["error"]
    assert listing(alice)["entries"] == []


def test_on_the_saving_endpoint_a_full_workspace_still_answers_and_says_nothing_was_kept(alice, app):
    with app.extensions["hera"].engine.begin() as conn:
        conn.execute(users.users_table.update().where(users.users_table.c.name == "alice").values(quota_bytes=100))
    alice.put(alice.root + "/workspace/filler.bin", data=b"\0" * 100).raise_for_status()
    r = alice.post(alice.root + "/users/alice/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT TOP 4 scw_id FROM integral.scw"})
    assert r.status_code == 200 and rows_of(r.content) == 4
    assert "not kept" in r.headers["Warning"] and "full" in r.headers["Warning"]
    assert [e["name"] for e in listing(alice)["entries"]] == ["filler.bin"]
