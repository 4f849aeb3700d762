"""Attacks on workspace isolation, each expecting a clear refusal and nothing changed or
lost: other users' files and jobs, escaping paths (``..``, absolute, symbolic links,
encoded separators, NUL), uploads over the quota, concurrent uploads racing for the last
bytes, and hostile XML."""
from __future__ import annotations

import hashlib
import http.client
import os
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from accounts import users
from conftest import load_demo, serve_http, session_of

MiB = 1 << 20
SECRET = b"alice's unpublished light curve"


@pytest.fixture
def accounts(app):
    engine = app.extensions["hera"].engine
    return {"alice": users.add_user(engine, "alice", quota_bytes=8 * MiB, quota_files=100),
            "bob": users.add_user(engine, "bob")}


@pytest.fixture
def alice(live_server, accounts):
    s = session_of("alice", accounts["alice"], live_server)
    s.put(live_server + "/workspace/private/lc.fits", data=SECRET).raise_for_status()
    return s


@pytest.fixture
def bob(live_server, accounts):
    return session_of("bob", accounts["bob"], live_server)


@pytest.fixture
def outside(tmp_path):
    """A directory outside every workspace, with a file that must stay untouched."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "passwd").write_text("root:x:0:0")
    return d


def raw(session, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    """Send ``path`` exactly as written (no client-side normalisation of dots or escapes)."""
    url = urlsplit(session.root)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Authorization": requests.auth._basic_auth_str(*session.auth)}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    status, data = response.status, response.read()
    conn.close()
    return status, data


def unchanged(alice, app, outside=None):
    """Alice's file is intact, her workspace holds only it, and ``outside`` is untouched."""
    assert alice.get(alice.root + "/workspace/private/lc.fits").content == SECRET
    files = [e["path"] for e in alice.get(alice.root + "/workspace/private/?format=json").json()["entries"]]
    assert files == ["private/lc.fits"]
    if outside is not None:
        assert sorted(p.name for p in outside.iterdir()) == ["passwd"]
        assert (outside / "passwd").read_text() == "root:x:0:0"


# -- other users ----------------------------------------------------------------------------------
def test_another_users_files_cannot_be_reached(alice, bob, app):
    for path in ("/workspace/../alice/private/lc.fits", "/workspace/%2e%2e/alice/private/lc.fits",
                 "/workspace/..%2Falice%2Fprivate%2Flc.fits", "/workspace/private/lc.fits"):
        status, body = raw(bob, "GET", path)
        assert status in (400, 404), (path, status)
        assert SECRET not in body
    status, _ = raw(bob, "DELETE", "/workspace/%2e%2e/alice/private/lc.fits")
    assert status == 400
    status, _ = raw(bob, "PUT", "/workspace/..%2Falice%2Fprivate%2Flc.fits", b"overwritten")
    assert status == 400
    r = bob.post(bob.root + "/workspace/x", data={"action": "move", "to": "../alice/private/lc.fits"})
    assert r.status_code == 400
    assert bob.get(bob.root + "/vospace/nodes/alice/private/lc.fits").status_code == 404
    assert bob.get(bob.root + "/workspace/?format=json").json()["entries"] == []
    unchanged(alice, app)


def test_another_users_jobs_do_not_exist(alice, bob, app, worker):
    load_demo(app, 50, 3)
    r = alice.post(alice.root + "/tap/async", data={"LANG": "ADQL", "QUERY": "SELECT TOP 5 scw_id FROM integral.scw",
                                                    "PHASE": "RUN"}, allow_redirects=False)
    job = r.headers["Location"]
    deadline = time.monotonic() + 60
    while "COMPLETED" not in alice.get(job + "/phase").text and time.monotonic() < deadline:
        time.sleep(0.2)
    for url in (job, job + "/phase", job + "/results/result", job + "/parameters"):
        assert bob.get(url).status_code == 404, url
    assert bob.delete(job).status_code == 404
    assert bob.post(job + "/phase", data={"PHASE": "ABORT"}).status_code == 404
    assert bob.post(bob.root + "/workspace/stolen.vot", data={"action": "save", "job": job}).status_code == 404
    assert job.rsplit("/", 1)[1] not in bob.get(bob.root + "/tap/async").text
    assert alice.get(job + "/phase").text.strip() == "COMPLETED"
    assert alice.get(job + "/results/result").status_code == 200


# -- escaping paths -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    "/workspace/..", "/workspace/../../etc/passwd", "/workspace/private/../../bob/x",
    "/workspace/%2e%2e/%2e%2e/etc/passwd", "/workspace/%2E%2E%2Fetc%2Fpasswd", "/workspace/private%2Flc.fits",
    "/workspace/private%5Clc.fits", "/workspace/lc.fits%00.txt", "/workspace/a/./b", "/workspace/.hera-staging/x",
])
def test_escaping_paths_are_refused(alice, app, path, outside):
    for method, body in (("GET", None), ("PUT", b"x"), ("DELETE", None)):
        status, data = raw(alice, method, path, body)
        assert status in (400, 404), (method, path, status, data)
        assert b"root:x" not in data
    unchanged(alice, app, outside)


def test_absolute_paths_and_dest_outside_the_workspace_are_refused(alice, app, outside):
    load_demo(app, 20, 3)
    query = {"LANG": "ADQL", "QUERY": "SELECT TOP 1 scw_id FROM integral.scw"}
    for dest in (str(outside / "passwd"), "../bob/x.vot", "workspace/../../x.vot", "a\x00b"):
        r = alice.post(alice.root + "/tap/sync", data={**query, "DEST": dest}, allow_redirects=False)
        assert r.status_code == 400 and b"QUERY_STATUS" in r.content, dest
    r = alice.post(alice.root + "/workspace/private/lc.fits", data={"action": "move", "to": str(outside / "x")})
    assert r.status_code == 400 and "absolute" in r.json()["error"]
    unchanged(alice, app, outside)


def test_symbolic_links_in_a_workspace_lead_nowhere(alice, app, outside):
    root = app.config["HERA_DATA_DIR"] / "workspaces" / "alice"
    os.symlink(outside, root / "escape")
    os.symlink(outside / "passwd", root / "private" / "passwd")
    for method, path, body in (("GET", "/workspace/escape/passwd", None), ("GET", "/workspace/private/passwd", None),
                               ("PUT", "/workspace/escape/new.txt", b"x"), ("PUT", "/workspace/private/passwd", b"x"),
                               ("DELETE", "/workspace/escape", None), ("DELETE", "/workspace/private/passwd", None),
                               ("GET", "/vospace/nodes/alice/escape", None)):
        status, data = raw(alice, method, path, body)
        assert status == 400, (method, path, status)
        assert b"root:x" not in data
    r = alice.post(alice.root + "/workspace/private/lc.fits", data={"action": "move", "to": "escape/lc.fits"})
    assert r.status_code == 400
    names = [e["name"] for e in alice.get(alice.root + "/workspace/?format=json").json()["entries"]]
    assert names == ["private"]  # links are not listed
    unchanged(alice, app, outside)
    assert os.path.islink(root / "escape")  # and not followed by a delete


# -- quota ---------------------------------------------------------------------------------------------------
def test_an_upload_over_the_quota_is_refused_before_it_fills_the_disk(alice, app):
    staging = app.config["HERA_DATA_DIR"] / "workspaces" / "alice" / ".hera-staging"
    r = alice.put(alice.root + "/workspace/huge.bin", data=b"\0" * (9 * MiB))
    assert r.status_code == 507 and "quota exceeded" in r.json()["error"]
    assert not staging.exists() or os.listdir(staging) == []
    unchanged(alice, app)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_concurrent_uploads_cannot_together_exceed_the_quota(alice, app, chunked):
    """Eight uploads of 3 MiB start at once into a quota of 8 MiB (31 bytes in use): with
    a Content-Length the first two to hold their room fit and the others are refused at
    once; streams of unknown length hold room as they grow, so which of them are cut
    off depends on the race, but at most two finish and the quota holds."""
    results = []
    barrier = threading.Barrier(8)

    def upload(i):
        s = requests.Session()
        s.auth = alice.auth
        barrier.wait()
        data = (b"\1" * MiB for _ in range(3)) if chunked else b"\1" * (3 * MiB)
        r = s.put(alice.root + f"/workspace/race/{i}.bin", data=data)
        results.append(r.status_code)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    successes = results.count(201)
    assert len(results) == 8 and results.count(507) == 8 - successes, results
    assert (1 <= successes <= 2) if chunked else successes == 2, results
    listing = alice.get(alice.root + "/workspace/race/?format=json").json()
    assert len(listing["entries"]) == successes and all(e["size"] == 3 * MiB for e in listing["entries"])
    assert listing["quota"]["bytes_used"] == successes * 3 * MiB + len(SECRET) <= 8 * MiB
    staging = app.config["HERA_DATA_DIR"] / "workspaces" / "alice" / ".hera-staging"
    assert os.listdir(staging) == []
    unchanged(alice, app)


# -- hostile XML ---------------------------------------------------------------------------------------------------
XXE_VOTABLE = (b'<?xml version="1.0"?>\n<!DOCTYPE VOTABLE [<!ENTITY x SYSTEM "file:///etc/passwd">'
               b'<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
               b'<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>'
               b'<FIELD name="x" datatype="char" arraysize="*"/><DATA><TABLEDATA><TR><TD>&x;&b;</TD></TR>'
               b'</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>\n')


def test_an_uploaded_votable_is_stored_as_bytes_never_expanded(alice, app):
    r = alice.put(alice.root + "/workspace/hostile.vot", data=XXE_VOTABLE)
    assert r.status_code == 201
    assert r.json()["sha256"] == hashlib.sha256(XXE_VOTABLE).hexdigest()
    stored = alice.get(alice.root + "/workspace/hostile.vot").content
    assert stored == XXE_VOTABLE and b"root:" not in stored


def test_a_votable_imported_by_url_is_stored_as_bytes_never_expanded(alice, app):
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(XXE_VOTABLE)))
            self.end_headers()
            self.wfile.write(XXE_VOTABLE)

        def log_message(self, *args):
            pass

    app.config.update(HERA_WORKSPACE_IMPORT_HOSTS=["127.0.0.1"], HERA_FETCH_ALLOW=["127.0.0.1"])
    with serve_http(Handler) as base:
        r = alice.post(alice.root + "/workspace/imported.vot", data={"action": "import", "url": f"{base}/q"})
    assert r.status_code == 201
    assert alice.get(alice.root + "/workspace/imported.vot").content == XXE_VOTABLE


def test_xml_documents_with_entities_are_refused_by_vospace(alice, app):
    bomb = XXE_VOTABLE.replace(b"VOTABLE version", b"vos:transfer xmlns:vos='http://www.ivoa.net/xml/VOSpace/v2.0' v")
    r = alice.post(alice.root + "/vospace/synctrans", data=bomb, headers={"Content-Type": "text/xml"})
    assert r.status_code == 400 and r.text.startswith("InvalidArgument") and "root:" not in r.text
    unchanged(alice, app)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_writers_cannot_exceed_the_quota_on_either_database(backend, config, request):
    """The quota is decided in the database under a lock on the owner's row: eight threads
    writing 3 MiB each at once into 8 MiB, on SQLite and on PostgreSQL."""
    from vo_service import create_app
    from vo_service.app import init_database
    from workspace import WorkspaceError

    if backend == "postgresql":
        config = {**config, "HERA_DATABASE_URL": request.getfixturevalue("postgres_database_url")}
    app = create_app(config)
    init_database(app)
    name = f"racer{os.urandom(4).hex()}"  # the PostgreSQL database is shared by the session
    users.add_user(app.extensions["hera"].engine, name, quota_bytes=8 * MiB)
    barrier = threading.Barrier(8)
    outcomes = []

    def writer(i):
        with app.app_context():
            ws = app.extensions["workspaces"].for_user(name)
            barrier.wait()
            try:
                ws.write(f"f{i}.bin", b"\1" * (3 * MiB), size=3 * MiB)
                outcomes.append("stored")
            except WorkspaceError as err:
                outcomes.append(err.status)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert sorted(outcomes, key=str) == [507] * 6 + ["stored"] * 2, outcomes
        with app.app_context():
            quota = app.extensions["workspaces"].for_user(name).quota()
        assert quota["bytes_used"] == 6 * MiB and quota["files_used"] == 2
    finally:
        app.extensions["hera"].engine.dispose()
