"""The workspace: its Python core (quotas, checksums, paths) and its REST API over real HTTP."""
from __future__ import annotations

import hashlib
import os
import time

import pytest
import requests

from accounts import users
from workspace import WorkspaceError
from workspace.storage import LocalStorage, StorageError

MiB = 1 << 20


@pytest.fixture
def accounts(app):
    """alice (quota 8 MiB, 20 files) and bob (service defaults): name -> token."""
    engine = app.extensions["hera"].engine
    return {
        "alice": users.add_user(engine, "alice", ["integral"], quota_bytes=8 * MiB, quota_files=20),
        "bob": users.add_user(engine, "bob"),
    }


@pytest.fixture
def alice(live_server, accounts):
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {accounts['alice']}"
    s.base = live_server + "/workspace/"
    return s


def ws_of(app, name):
    with app.app_context():
        return app.extensions["workspaces"].for_user(name)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- Python core ------------------------------------------------------------------------------
def test_for_user_takes_the_quota_from_the_user_record_or_the_configuration(app, accounts):
    alice, bob = ws_of(app, "alice"), ws_of(app, "bob")
    assert (alice.quota_bytes, alice.quota_files) == (8 * MiB, 20)
    assert (bob.quota_bytes, bob.quota_files) == (app.config["HERA_WORKSPACE_QUOTA_BYTES"],
                                                  app.config["HERA_WORKSPACE_QUOTA_FILES"])
    assert alice.storage.root == app.config["HERA_DATA_DIR"] / "workspaces" / "alice"
    with pytest.raises(WorkspaceError) as err:
        app.extensions["workspaces"].for_user(None)
    assert err.value.status == 401


def test_store_moves_a_product_in_and_keeps_its_checksum(app, accounts, tmp_path):
    ws = ws_of(app, "alice")
    product = tmp_path / "lc.fits"
    product.write_bytes(b"SIMPLE  =                    T" + b" " * 50)
    digest = sha(product.read_bytes())
    entry = ws.store("out/lc.fits", product)
    assert not product.exists()  # moved, not copied
    assert entry == {"name": "lc.fits", "path": "out/lc.fits", "type": "file", "size": 80,
                     "modified": entry["modified"], "sha256": digest}
    assert entry["modified"].endswith("Z")
    assert ws.local_path("out/lc.fits").read_bytes().startswith(b"SIMPLE")
    assert ws.checksum("out/lc.fits") == digest
    assert ws.exists("out/lc.fits") and ws.exists("out") and not ws.exists("out/other")
    with ws.open("out/lc.fits") as f:
        assert len(f.read()) == 80
    assert ws.quota()["bytes_used"] == 80 and ws.quota()["files_used"] == 1


def test_store_copy_keeps_the_source(app, accounts, tmp_path):
    ws = ws_of(app, "alice")
    src = tmp_path / "a.txt"
    src.write_bytes(b"abc")
    ws.store("a.txt", src, move=False)
    assert src.read_bytes() == b"abc" and ws.local_path("a.txt").read_bytes() == b"abc"


def test_write_streams_an_iterable_and_checks_an_expected_checksum(app, accounts):
    ws = ws_of(app, "alice")
    entry = ws.write("d/x.bin", (bytes([i]) * 1000 for i in range(10)))
    assert entry["size"] == 10000
    with pytest.raises(WorkspaceError) as err:
        ws.write("d/y.bin", b"abc", sha256="0" * 64)
    assert err.value.status == 400 and "checksum mismatch" in err.value.message
    assert not ws.exists("d/y.bin")


def test_a_checksum_is_computed_again_when_the_file_changed_behind_the_services_back(app, accounts):
    ws = ws_of(app, "alice")
    ws.write("f.txt", b"first")
    path = ws.local_path("f.txt")
    path.write_bytes(b"second version")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert ws.checksum("f.txt") == sha(b"second version")
    assert ws.quota()["bytes_used"] == len(b"second version")


def test_local_path_refuses_escapes(app, accounts, tmp_path):
    ws = ws_of(app, "alice")
    ws.write("data/rate.fits", b"x")
    (tmp_path / "secret").write_text("secret")
    os.symlink(tmp_path, ws.storage.root / "link")
    os.symlink(tmp_path / "secret", ws.storage.root / "data" / "secret.fits")
    for bad in ["../secret", "/etc/passwd", "data/../../secret", "data/./rate.fits", "a\x00b",
                "data\\rate.fits", "link/secret", "data/secret.fits", ".hera-staging/x", "a//b"]:
        with pytest.raises(WorkspaceError) as err:
            ws.local_path(bad)
        assert err.value.status in (400, 404), bad
    with pytest.raises(WorkspaceError) as err:
        ws.local_path("data/missing.fits")
    assert err.value.status == 404
    with pytest.raises(WorkspaceError) as err:
        ws.local_path("data")
    assert err.value.status == 409


def test_local_storage_alone_never_follows_a_link_out_of_its_root(tmp_path):
    root = tmp_path / "root"
    storage = LocalStorage(root)
    root.mkdir()
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", root / "escape")
    with pytest.raises(StorageError) as err:
        storage.mkdir("escape/new")
    assert err.value.status == 400
    assert not (tmp_path / "outside" / "new").exists()
    with pytest.raises(StorageError):
        storage.stat("escape")
    assert list(storage.children("")) == []  # a link is not a workspace entry
    upload = storage.new_upload()
    upload.path.write_bytes(b"abc")
    with pytest.raises(StorageError):
        storage.finish_upload(upload, "escape/file")
    assert list((tmp_path / "outside").iterdir()) == []


def test_quota_in_bytes_refuses_before_writing_and_counts_a_replacement_net(app, accounts):
    ws = ws_of(app, "alice")
    ws.write("big.bin", b"\0" * (6 * MiB))
    with pytest.raises(WorkspaceError) as err:
        ws.write("more.bin", b"\0" * (3 * MiB), size=3 * MiB)
    assert err.value.status == 507 and "quota" in err.value.message
    assert not ws.exists("more.bin")
    # replacing the 6 MiB file by a 7 MiB one needs 1 MiB more: fits
    ws.write("big.bin", b"\1" * (7 * MiB), size=7 * MiB)
    assert ws.quota()["bytes_used"] == 7 * MiB
    # a stream of unknown length is cut off when it reaches the quota
    with pytest.raises(WorkspaceError) as err:
        ws.write("stream.bin", (b"\2" * MiB for _ in range(4)))
    assert err.value.status == 507
    assert not ws.exists("stream.bin")
    assert os.listdir(ws.storage.root / ".hera-staging") == []  # the partial bytes are gone
    assert ws.quota()["bytes_used"] == 7 * MiB


def test_quota_in_files(app, accounts):
    engine = app.extensions["hera"].engine
    users.add_user(engine, "carol", quota_files=2)
    ws = ws_of(app, "carol")
    ws.write("a", b"1")
    ws.write("b", b"2")
    ws.write("a", b"replaced")  # replacing takes no new file
    with pytest.raises(WorkspaceError) as err:
        ws.write("c", b"3")
    assert err.value.status == 507 and "2 files" in err.value.message
    ws.delete("b")
    ws.write("c", b"3")
    assert ws.quota()["files_used"] == 2


def test_a_warning_is_given_before_the_quota_is_reached(app, accounts):
    ws = ws_of(app, "alice")
    ws.write("a.bin", b"\0" * (7 * MiB))
    assert ws.quota()["warning"] is None  # 87.5 %
    ws.write("b.bin", b"\0" * (MiB // 2))
    warning = ws.quota()["warning"]
    assert warning and "94% full" in warning


def test_move_rename_mkdir_delete(app, accounts):
    ws = ws_of(app, "alice")
    ws.write("a/b/c.txt", b"c")
    assert ws.mkdir("dest")["type"] == "folder"
    with pytest.raises(WorkspaceError) as err:
        ws.mkdir("dest")
    assert err.value.status == 409
    assert ws.move("a/b/c.txt", "dest")["path"] == "dest/c.txt"  # into an existing folder
    assert ws.move("dest/c.txt", "dest/d.txt")["sha256"] == sha(b"c")  # a rename keeps the checksum
    ws.write("x.txt", b"x")
    with pytest.raises(WorkspaceError) as err:
        ws.move("x.txt", "dest/d.txt")
    assert err.value.status == 409
    with pytest.raises(WorkspaceError) as err:
        ws.move("a", "a/b/inside")
    assert err.value.status == 409
    ws.move("dest", "renamed")
    assert ws.checksum("renamed/d.txt") == sha(b"c")
    ws.delete("renamed")
    assert not ws.exists("renamed/d.txt")
    assert ws.quota()["files_used"] == 1
    with pytest.raises(WorkspaceError) as err:
        ws.delete("")
    assert err.value.status == 403


# -- REST API over HTTP -----------------------------------------------------------------------
def test_anonymous_requests_get_401_with_a_challenge(live_server, accounts):
    r = requests.get(live_server + "/workspace/")
    assert r.status_code == 401
    assert "error" in r.json() and "Basic" in r.headers["WWW-Authenticate"]
    r = requests.put(live_server + "/workspace/x", data=b"x", auth=("alice", "wrong"))
    assert r.status_code == 401


def test_put_get_and_checksums_over_http(alice, accounts, live_server):
    body = os.urandom(300_000)
    r = alice.put(alice.base + "data/run1/rate.fits", data=body)
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["sha256"] == sha(body) and entry["size"] == len(body) and entry["path"] == "data/run1/rate.fits"
    assert r.headers["ETag"] == f'"{sha(body)}"'
    assert r.headers["Location"].endswith("/workspace/data/run1/rate.fits")
    assert alice.put(alice.base + "data/run1/rate.fits", data=body).status_code == 200  # replaced

    r = alice.get(alice.base + "data/run1/rate.fits")
    assert r.status_code == 200 and r.content == body
    assert r.headers["Content-Type"] == "application/fits"
    assert r.headers["ETag"] == f'"{sha(body)}"' and r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["Repr-Digest"].startswith("sha-256=:")
    # Basic auth with the user name and token works the same (TOPCAT, STILTS, browsers)
    assert requests.get(alice.base + "data/run1/rate.fits", auth=("alice", accounts["alice"])).content == body


def test_range_requests_resume_a_download(alice):
    body = bytes(range(256)) * 40
    alice.put(alice.base + "r.bin", data=body)
    r = alice.get(alice.base + "r.bin", headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == body[100:200]
    assert r.headers["Content-Range"] == f"bytes 100-199/{len(body)}"
    r = alice.get(alice.base + "r.bin", headers={"Range": "bytes=10000-"})
    assert r.content == body[10000:]
    r = alice.get(alice.base + "r.bin", headers={"Range": "bytes=-24"})
    assert r.content == body[-24:]
    r = alice.get(alice.base + "r.bin", headers={"Range": "bytes=999999-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(body)}"
    etag = r.headers.get("ETag") or alice.head(alice.base + "r.bin").headers["ETag"]
    # If-Range with the current ETag resumes; with an old one the whole (new) file comes
    r = alice.get(alice.base + "r.bin", headers={"Range": "bytes=5-9", "If-Range": etag})
    assert r.status_code == 206 and r.content == body[5:10]
    r = alice.get(alice.base + "r.bin", headers={"Range": "bytes=5-9", "If-Range": '"old"'})
    assert r.status_code == 200 and r.content == body
    assert alice.get(alice.base + "r.bin", headers={"If-None-Match": etag}).status_code == 304
    head = alice.head(alice.base + "r.bin")
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(body)) and not head.content


def test_listing_as_json_and_html(alice):
    alice.put(alice.base + "data/a.txt", data=b"aaa")
    alice.put(alice.base + "data/sub/b.txt", data=b"bb")
    for r in (alice.get(alice.base + "data/?format=json"),
              alice.get(alice.base + "data", headers={"Accept": "application/json"})):
        listing = r.json()
        assert listing["path"] == "data/"
        assert [(e["name"], e["type"]) for e in listing["entries"]] == [("a.txt", "file"), ("sub", "folder")]
        assert listing["entries"][0]["sha256"] == sha(b"aaa")
        assert listing["quota"]["bytes_used"] == 5 and listing["quota"]["files_max"] == 20
        assert r.headers["Hera-Quota"].startswith("bytes_used=5; bytes_max=8388608")
    r = alice.get(alice.base + "data/", headers={"Accept": "text/html"})
    assert r.headers["Content-Type"].startswith("text/html")
    assert "a.txt" in r.text and sha(b"aaa") in r.text and 'href="sub/"' in r.text
    root = alice.get(alice.base + "?format=json").json()
    assert root["path"] == "" and [e["name"] for e in root["entries"]] == ["data"]
    assert alice.get(alice.base + "nothing/?format=json").status_code == 404


def test_mkdir_move_delete_over_http(alice):
    assert alice.post(alice.base + "results", data={"action": "mkdir"}).status_code == 201
    alice.put(alice.base + "q.vot", data=b"<VOTABLE/>")
    r = alice.post(alice.base + "q.vot", data={"action": "move", "to": "results/query.vot"})
    assert r.status_code == 200 and r.json()["path"] == "results/query.vot"
    assert alice.get(alice.base + "q.vot").status_code == 404
    assert alice.get(alice.base + "results/query.vot").content == b"<VOTABLE/>"
    assert alice.post(alice.base + "results", data={"action": "explode"}).status_code == 400
    assert alice.delete(alice.base + "results/query.vot").status_code == 204
    assert alice.delete(alice.base + "results/query.vot").status_code == 404
    assert alice.delete(alice.base + "results").status_code == 204
    assert alice.get(alice.base + "?format=json").json()["entries"] == []


def test_an_upload_over_the_quota_is_refused_before_its_body_is_read(alice):
    # the Content-Length is checked up front: the 507 comes although the body never follows
    import socket
    from urllib.parse import urlsplit
    url = urlsplit(alice.base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall((f"PUT /workspace/huge.bin HTTP/1.1\r\nHost: {url.netloc}\r\n"
                      f"Authorization: {alice.headers['Authorization']}\r\n"
                      f"Content-Length: {100 * MiB}\r\n\r\n").encode() + b"\0" * 1000)
        answer = b""
        while b"}" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        answer = answer.decode()
    assert answer.startswith("HTTP/1.1 507"), answer
    assert "quota exceeded" in answer
    assert alice.get(alice.base + "huge.bin").status_code == 404


def test_a_chunked_upload_is_cut_off_at_the_quota(alice, app):
    def body():
        for _ in range(12):
            yield b"\0" * MiB
    r = alice.put(alice.base + "stream.bin", data=body())  # no length: chunked encoding
    assert r.status_code == 507
    assert alice.get(alice.base + "stream.bin").status_code == 404
    assert ws_of(app, "alice").quota()["bytes_used"] == 0
    r = alice.put(alice.base + "ok.bin", data=(b"\1" * MiB for _ in range(3)))
    assert r.status_code == 201 and r.json()["size"] == 3 * MiB


def test_near_the_quota_answers_carry_a_warning(alice):
    r = alice.put(alice.base + "a.bin", data=b"\0" * (7 * MiB + MiB // 2))
    assert r.status_code == 201
    assert r.headers["Warning"].startswith('299 hera "workspace 94% full')
    listing = alice.get(alice.base + "?format=json").json()
    assert "94% full" in listing["quota"]["warning"]


def test_resumable_upload_with_content_range(alice):
    body = os.urandom(3 * MiB + 123)
    total = len(body)
    url = alice.base + "big/cube.fits"
    first = alice.put(url, data=body[:MiB], headers={"Content-Range": f"bytes 0-{MiB - 1}/{total}"})
    assert first.status_code == 202 and first.headers["Upload-Offset"] == str(MiB)
    assert alice.get(url).status_code == 404  # not visible until complete
    # the connection breaks in the middle of the second piece: what arrived is kept
    import socket
    from urllib.parse import urlsplit
    u = urlsplit(url)
    with socket.create_connection((u.hostname, u.port), timeout=10) as sock:
        sock.sendall((f"PUT {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\n"
                      f"Authorization: {alice.headers['Authorization']}\r\n"
                      f"Content-Range: bytes {MiB}-{2 * MiB - 1}/{total}\r\n"
                      f"Content-Length: {MiB}\r\n\r\n").encode() + body[MiB:MiB + 300_000])
    # ask how far it came, as a client does after reconnecting
    deadline = time.monotonic() + 10
    while True:
        probe = alice.put(url, headers={"Content-Range": f"bytes */{total}"})
        offset = int(probe.headers["Upload-Offset"])
        if offset == MiB + 300_000 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert probe.status_code == 202 and offset == MiB + 300_000
    # a piece that does not start where the upload is gets 409 and the offset
    wrong = alice.put(url, data=body[2 * MiB:], headers={"Content-Range": f"bytes {2 * MiB}-{total - 1}/{total}"})
    assert wrong.status_code == 409 and wrong.headers["Upload-Offset"] == str(offset)
    last = alice.put(url, data=body[offset:], headers={"Content-Range": f"bytes {offset}-{total - 1}/{total}"})
    assert last.status_code == 201, last.text
    assert last.json()["sha256"] == sha(body)
    assert alice.get(url).content == body


def test_a_resumable_upload_holds_its_quota_across_requests(alice, app):
    total = 6 * MiB
    r = alice.put(alice.base + "part.bin", data=b"\0" * MiB, headers={"Content-Range": f"bytes 0-{MiB - 1}/{total}"})
    assert r.status_code == 202
    # 6 MiB are held for the unfinished upload: 3 more do not fit into 8
    r = alice.put(alice.base + "other.bin", data=b"\0" * (3 * MiB))
    assert r.status_code == 507


def test_put_without_a_length_or_with_a_bad_range_is_refused(alice):
    r = alice.put(alice.base + "x", data=b"abc", headers={"Content-Range": "bytes 5-1/10"})
    assert r.status_code == 400
    r = alice.put(alice.base + "x", data=b"abc", headers={"Content-Range": "pieces 1"})
    assert r.status_code == 400
    assert alice.get(alice.base + "x").status_code == 404


def test_html_listings_escape_names(alice):
    alice.put(alice.base + "%3Cscript%3Ealert(1)%3C%2Fscript%3E.txt".replace("%2F", "_"), data=b"x")
    page = alice.get(alice.base, headers={"Accept": "text/html"}).text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_a_full_disk_is_a_clear_507(app, accounts, tmp_path):
    """Bytes written to /dev/full fail as on a full disk (ENOSPC); the upload's file is a
    link to it, so discarding the upload removes the link, never the device."""
    from workspace import records
    from workspace.storage import Upload
    from workspace.store import Writer
    ws = ws_of(app, "alice")
    full = tmp_path / "full"
    os.symlink("/dev/full", full)
    reservation = records.Reservation(ws.engine, "alice", ws.quota_bytes, ws.quota_files)
    reservation.hold(0)
    with pytest.raises(WorkspaceError) as err:
        with Writer(ws, "full.bin", Upload(full, None), reservation, None, None) as writer:
            writer.write(b"\0" * MiB)
            writer.finish()
    assert err.value.status == 507 and "disk is full" in err.value.message
    assert not reservation.live and not os.path.lexists(full)
    assert os.path.exists("/dev/full")
    assert not ws.exists("full.bin") and ws.quota()["bytes_used"] == 0


# -- requests as an attacker writes them, on werkzeug and on gunicorn (as `hera serve` runs) ---
@pytest.fixture
def gunicorn_server(app, config, accounts, tmp_path):
    """The same service under gunicorn's gevent worker, as ``hera serve`` runs it: gunicorn
    marks every request body as terminated, and passes the path's ``//`` through."""
    import socket
    import subprocess
    import sys

    from conftest import REPO, free_port, wait_for

    port = free_port()
    env = {**os.environ, **{k: str(v) for k, v in config.items()}}
    with open(tmp_path / "gunicorn.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-k", "gevent", "-b", f"127.0.0.1:{port}",
                                 "wsgi:app"], cwd=REPO, env=env, stdout=log, stderr=log)
    try:
        def answers():
            assert proc.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                return requests.get(f"http://127.0.0.1:{port}/workspace/", timeout=2).status_code == 401
            except (requests.ConnectionError, requests.Timeout):  # still booting
                return False
        wait_for(answers, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def raw_request(base: str, method: str, target: str, token: str, headers: str = "", body: bytes = b""):
    """(status, JSON body) of a request sent byte for byte, as no client library would."""
    import json
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(base)
    head = (f"{method} {target} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {token}\r\n"
            f"{headers}Connection: close\r\n\r\n").encode()
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), (json.loads(body) if body.startswith(b"{") else body)


@pytest.fixture(params=["werkzeug", "gunicorn"])
def server(request, accounts):
    return request.getfixturevalue("live_server" if request.param == "werkzeug" else "gunicorn_server")


def test_a_put_with_neither_a_length_nor_a_chunked_body_is_411(server, accounts):
    status, answer = raw_request(server, "PUT", "/workspace/nolength.txt", accounts["alice"])
    assert status == 411 and "Content-Length" in answer["error"]
    status, _ = raw_request(server, "GET", "/workspace/nolength.txt", accounts["alice"])
    assert status == 404
    chunked = b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    status, entry = raw_request(server, "PUT", "/workspace/chunked.txt", accounts["alice"],
                                "Transfer-Encoding: chunked\r\n", chunked)
    assert status == 201 and entry["size"] == 5 and entry["sha256"] == sha(b"abcde")


@pytest.mark.parametrize("target", ["/workspace//x", "/workspace//", "/workspace/a//b", "/workspace/%2Fx",
                                    "/workspace/a%2Fb", "/workspace/a%2fb", "/workspace/%2F%2E%2E%2Fx",
                                    "/workspace/a%5Cb", "/workspace/a%00b", "/workspace///etc/passwd"])
def test_doubled_and_encoded_slashes_are_a_400_on_every_method(server, accounts, target):
    token = accounts["alice"]
    raw_request(server, "PUT", "/workspace/a/b", token, "Content-Length: 1\r\n", b"b")  # something to hit
    for method, headers, body in [("GET", "", b""), ("PUT", "Content-Length: 1\r\n", b"x"), ("DELETE", "", b""),
                                  ("POST", "Content-Type: application/x-www-form-urlencoded\r\n"
                                           "Content-Length: 12\r\n", b"action=mkdir")]:
        status, answer = raw_request(server, method, target, token, headers, body)
        assert status == 400, (method, target, status, answer)
        assert "refused" in answer["error"]
    status, listing = raw_request(server, "GET", "/workspace/?format=json", token)
    assert [e["name"] for e in listing["entries"]] == ["a"]
    assert raw_request(server, "GET", "/workspace/a/b", token)[1] == b"b"


#: characters that make a listing show another name than the file's: bidirectional
#: embeddings, overrides, isolates and marks, zero-width and other format characters,
#: C1 controls, line and paragraph separators
DECEIVING = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
             "\u200e", "\u200f", "\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u061c", "\u0085",
             "\u2028", "\u2029"]


@pytest.mark.parametrize("char", DECEIVING, ids=lambda c: f"U+{ord(c):04X}")
def test_names_that_can_show_as_another_are_refused_everywhere_a_name_is_made(app, accounts, tmp_path, char):
    ws = ws_of(app, "alice")
    ws.write("ok.txt", b"ok")
    product = tmp_path / "product.fits"
    product.write_bytes(b"p")
    deceiving = f"report{char}stxt.exe"
    for make in (lambda: ws.write(deceiving, b"x"), lambda: ws.write(f"dir{char}/a.txt", b"x"),
                 lambda: ws.mkdir(deceiving), lambda: ws.move("ok.txt", deceiving),
                 lambda: ws.store(deceiving, product, move=False),
                 lambda: ws.write_range(deceiving, b"xy", 0, 1, 2)):
        with pytest.raises(WorkspaceError) as err:
            make()
        assert err.value.status == 400 and f"U+{ord(char):04X}" in err.value.message
    assert [e["name"] for e in ws.list("")["entries"]] == ["ok.txt"]
    assert ws.quota()["files_used"] == 1


def test_deceiving_names_are_refused_over_http(alice):
    assert alice.put(alice.base + "invoice\u202efdp.exe", data=b"x").status_code == 400
    assert alice.post(alice.base + "folder\u2067", data={"action": "mkdir"}).status_code == 400
    alice.put(alice.base + "ok.txt", data=b"ok")
    r = alice.post(alice.base + "ok.txt", data={"action": "move", "to": "ok\u200f.txt"})
    assert r.status_code == 400 and "U+200F" in r.json()["error"]
    r = alice.put(alice.base + "big\u202d.bin", data=b"ab", headers={"Content-Range": "bytes 0-1/2"})
    assert r.status_code == 400
    assert [e["name"] for e in alice.get(alice.base + "?format=json").json()["entries"]] == ["ok.txt"]


def test_a_file_with_such_a_name_made_before_the_rule_can_still_be_renamed_and_deleted(app, accounts):
    ws = ws_of(app, "alice")
    ws.write("keep.txt", b"k")
    legacy = ws.local_path("keep.txt").parent / "old\u202etxt.exe"
    legacy.write_bytes(b"legacy")
    assert ws.open("old\u202etxt.exe").read() == b"legacy"
    assert ws.move("old\u202etxt.exe", "old.exe")["path"] == "old.exe"
    ws.local_path("keep.txt").with_name("again\u202e").write_bytes(b"again")
    ws.delete("again\u202e")
    assert sorted(e["name"] for e in ws.list("")["entries"]) == ["keep.txt", "old.exe"]
