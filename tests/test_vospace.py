"""The workspace as a VOSpace 2.1 service: node documents, transfers (real RQ workers),
documents valid against the VOSpace 2.1 XSD, faults, isolation and safe XML parsing."""
from __future__ import annotations

import functools
import hashlib
import http.server
import os
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from lxml import etree

from accounts import users
from conftest import serve_http, session_of
from schemas import assert_valid

VOS = "http://www.ivoa.net/xml/VOSpace/v2.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
UWS = "http://www.ivoa.net/xml/UWS/v1.0"
NS = {"vos": VOS, "uws": UWS}
XSD = Path(__file__).resolve().parents[1] / "workspace" / "schemas" / "VOSpace-2.1.xsd"
MiB = 1 << 20


@functools.cache
def vospace_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD), etree.XMLParser(no_network=True)))


def valid(document: bytes) -> etree._Element:
    """Validate a VOSpace document against the vendored XSD. The schema has no global
    ``node`` element, so a node document is checked where the schema declares one:
    inside ``vos:searchDetails/vos:nodes`` (its ``xsi:type`` then selects the node type)."""
    root = etree.fromstring(document)
    assert root.nsmap.get(root.prefix) == VOS and root.get("version", "2.1") == "2.1"
    checked = root
    if root.tag == f"{{{VOS}}}node":
        checked = etree.Element(f"{{{VOS}}}searchDetails", nsmap={"vos": VOS, "xsi": XSI})
        nodes = etree.SubElement(checked, f"{{{VOS}}}nodes")
        copy = etree.fromstring(document)
        del copy.attrib["version"]  # the version attribute belongs to the document's root
        nodes.append(copy)
    schema = vospace_schema()
    if not schema.validate(checked):
        raise AssertionError(f"VOSpace 2.1 validation failed: {schema.error_log}\n{document.decode()}")
    return root


@pytest.fixture
def config(config):
    # 10.255.255.1: an archive host listed for imports whose private address is not allowed
    config.update({"HERA_WORKSPACE_IMPORT_HOSTS": "127.0.0.1 10.255.255.1", "HERA_FETCH_ALLOW": "127.0.0.1"})
    return config


@pytest.fixture
def accounts(app):
    engine = app.extensions["hera"].engine
    return {"alice": users.add_user(engine, "alice", quota_bytes=8 * MiB, quota_files=50),
            "bob": users.add_user(engine, "bob")}


@pytest.fixture
def alice(live_server, accounts):
    return session_of("alice", accounts["alice"], live_server)


@pytest.fixture
def bob(live_server, accounts):
    return session_of("bob", accounts["bob"], live_server)


def node_doc(uri: str, kind: str) -> bytes:
    return (f'<vos:node xmlns:vos="{VOS}" xmlns:xsi="{XSI}" xsi:type="vos:{kind}" uri="{uri}" version="2.1">'
            f"<vos:properties/></vos:node>").encode()


def transfer_doc(target: str, direction: str, protocol: str | None = None, endpoint: str | None = None,
                 params=(), keep_bytes=None) -> bytes:
    proto = ""
    if protocol:
        proto = f'<vos:protocol uri="{protocol}">' + (f"<vos:endpoint>{endpoint}</vos:endpoint>" if endpoint else "") + "</vos:protocol>"
    keep = f"<vos:keepBytes>{'true' if keep_bytes else 'false'}</vos:keepBytes>" if keep_bytes is not None else ""
    par = "".join(f'<vos:param uri="{u}">{v}</vos:param>' for u, v in params)
    return (f'<vos:transfer xmlns:vos="{VOS}" version="2.1"><vos:target>{target}</vos:target>'
            f"<vos:direction>{direction}</vos:direction>{proto}{keep}{par}</vos:transfer>").encode()


HTTPPUT = "ivo://ivoa.net/vospace/core#httpput"
HTTPGET = "ivo://ivoa.net/vospace/core#httpget"


def uri(path: str = "") -> str:
    return "vos://127.0.0.1!vospace/alice" + (f"/{path}" if path else "")


def props(el) -> dict:
    return {p.get("uri"): p.text for p in el.findall("vos:properties/vos:property", NS)}


# -- nodes ----------------------------------------------------------------------------------------
def test_the_users_root_container_lists_files_and_folders_with_checksums_and_quota(alice):
    body = b"SIMPLE" * 100
    alice.put(alice.root + "/workspace/data/rate.fits", data=body)
    alice.put(alice.root + "/workspace/notes.txt", data=b"n")
    r = alice.get(alice.root + "/vospace/nodes/alice")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/xml")
    root = valid(r.content)
    assert root.get(f"{{{XSI}}}type") == "vos:ContainerNode" and root.get("uri") == uri()
    p = props(root)
    assert p["ivo://ivoa.net/vospace/core#quota"] == str(8 * MiB)
    assert p["ivo://ivoa.net/vospace/core#length"] == str(len(body) + 1)
    children = root.findall("vos:nodes/vos:node", NS)
    assert [(c.get("uri"), c.get(f"{{{XSI}}}type")) for c in children] == [
        (uri("data"), "vos:ContainerNode"), (uri("notes.txt"), "vos:DataNode")]
    data = valid(alice.get(alice.root + "/vospace/nodes/alice/data/rate.fits").content)
    assert data.get(f"{{{XSI}}}type") == "vos:DataNode"
    assert props(data)["urn:hera:sha256"] == hashlib.sha256(body).hexdigest()
    assert props(data)["ivo://ivoa.net/vospace/core#length"] == str(len(body))


def test_the_service_root_shows_only_the_users_own_container(alice):
    root = valid(alice.get(alice.root + "/vospace/nodes").content)
    assert root.get("uri") == "vos://127.0.0.1!vospace"
    assert [c.get("uri") for c in root.findall("vos:nodes/vos:node", NS)] == [uri()]


def test_detail_and_paging_of_a_container(alice):
    for name in "abc":
        alice.put(alice.root + f"/workspace/f/{name}.txt", data=name.encode())
    minimal = valid(alice.get(alice.root + "/vospace/nodes/alice/f", params={"detail": "min"}).content)
    assert minimal.find("vos:properties", NS) is None
    first = valid(alice.get(alice.root + "/vospace/nodes/alice/f", params={"limit": 2}).content)
    uris = [c.get("uri") for c in first.findall("vos:nodes/vos:node", NS)]
    assert uris == [uri("f/a.txt"), uri("f/b.txt")]
    rest = valid(alice.get(alice.root + "/vospace/nodes/alice/f", params={"limit": 2, "uri": uris[-1]}).content)
    assert [c.get("uri") for c in rest.findall("vos:nodes/vos:node", NS)] == [uri("f/c.txt")]
    assert alice.get(alice.root + "/vospace/nodes/alice/f", params={"detail": "all"}).status_code == 400


def test_create_and_delete_nodes(alice):
    r = alice.put(alice.root + "/vospace/nodes/alice/results", data=node_doc(uri("results"), "ContainerNode"),
                  headers={"Content-Type": "text/xml"})
    assert r.status_code == 201
    assert valid(r.content).get(f"{{{XSI}}}type") == "vos:ContainerNode"
    r = alice.put(alice.root + "/vospace/nodes/alice/results/empty.vot", data=node_doc(uri("results/empty.vot"), "DataNode"))
    assert r.status_code == 201
    assert alice.get(alice.root + "/workspace/results/empty.vot").content == b""
    again = alice.put(alice.root + "/vospace/nodes/alice/results", data=node_doc(uri("results"), "ContainerNode"))
    assert again.status_code == 409 and again.text.startswith("DuplicateNode")
    orphan = alice.put(alice.root + "/vospace/nodes/alice/none/x", data=node_doc(uri("none/x"), "DataNode"))
    assert orphan.status_code == 404 and orphan.text.startswith("ContainerNotFound")
    wrong = alice.put(alice.root + "/vospace/nodes/alice/y", data=node_doc(uri("z"), "DataNode"))
    assert wrong.status_code == 400 and wrong.text.startswith("InvalidURI")
    link = alice.put(alice.root + "/vospace/nodes/alice/l", data=node_doc(uri("l"), "LinkNode"))
    assert link.status_code == 400 and link.text.startswith("TypeNotSupported")
    assert alice.delete(alice.root + "/vospace/nodes/alice/results").status_code == 204
    gone = alice.get(alice.root + "/vospace/nodes/alice/results")
    assert gone.status_code == 404 and gone.text.startswith("NodeNotFound")
    assert gone.headers["Content-Type"].startswith("text/plain")


def test_nodes_whose_names_can_show_as_another_are_refused(alice):
    for name, kind, code in [("invoice\u202efdp.exe", "DataNode", "U+202E"),
                             ("results\u2066", "ContainerNode", "U+2066"),
                             ("zero\u200bwidth.vot", "DataNode", "U+200B")]:
        r = alice.put(alice.root + "/vospace/nodes/alice/" + quote(name), data=node_doc(uri(quote(name)), kind))
        assert r.status_code == 400 and r.text.startswith("InvalidArgument") and code in r.text, r.text
    assert alice.get(alice.root + "/workspace/?format=json").json()["entries"] == []


def test_properties_are_read_only(alice):
    alice.put(alice.root + "/workspace/a.txt", data=b"a")
    doc = (f'<vos:node xmlns:vos="{VOS}" uri="{uri("a.txt")}"><vos:properties>'
           f'<vos:property uri="ivo://ivoa.net/vospace/core#title">x</vos:property></vos:properties></vos:node>').encode()
    r = alice.post(alice.root + "/vospace/nodes/alice/a.txt", data=doc)
    assert r.status_code == 403 and r.text.startswith("PermissionDenied")


def test_service_lists_are_valid(alice):
    for name in ("protocols", "views", "properties"):
        r = alice.get(alice.root + f"/vospace/{name}")
        assert r.status_code == 200
        root = valid(r.content)
        assert root.tag == f"{{{VOS}}}{name}" and len(root)
    protocols = valid(alice.get(alice.root + "/vospace/protocols").content)
    assert {p.get("uri") for p in protocols} == {HTTPGET, HTTPPUT}


def test_other_users_nodes_do_not_exist_and_anonymous_is_challenged(alice, bob, live_server):
    alice.put(alice.root + "/workspace/private.txt", data=b"secret")
    for method, extra in (("get", {}), ("delete", {}), ("put", {"data": node_doc(uri("x"), "DataNode")})):
        r = getattr(bob, method)(live_server + "/vospace/nodes/alice/private.txt", **extra)
        assert r.status_code == 404 and r.text.startswith("NodeNotFound"), method
    r = bob.post(live_server + "/vospace/synctrans",
                 data=transfer_doc(uri("private.txt"), "pullFromVoSpace", HTTPGET))
    assert r.status_code == 404
    anonymous = requests.get(live_server + "/vospace/nodes/alice")
    assert anonymous.status_code == 401 and "Basic" in anonymous.headers["WWW-Authenticate"]
    assert alice.get(alice.root + "/workspace/private.txt").content == b"secret"


# -- synchronous transfers -------------------------------------------------------------------------
def test_synctrans_push_then_pull(alice):
    payload = os.urandom(200_000)
    r = alice.post(alice.root + "/vospace/synctrans",
                   data=transfer_doc(uri("up/file.bin"), "pushToVoSpace", HTTPPUT,
                                     params=[("ivo://ivoa.net/vospace/core#length", len(payload))]),
                   headers={"Content-Type": "text/xml"})
    assert r.status_code == 200, r.text
    details = valid(r.content)
    endpoint = details.findtext("vos:protocol/vos:endpoint", namespaces=NS)
    assert endpoint == alice.root + "/workspace/up/file.bin"
    methods = {m.get("uri") for m in details.findall("vos:protocol/vos:securityMethod", NS)}
    assert "ivo://ivoa.net/sso#BasicAA" in methods
    assert alice.put(endpoint, data=payload).status_code == 201
    r = alice.post(alice.root + "/vospace/synctrans", data=transfer_doc(uri("up/file.bin"), "pullFromVoSpace", HTTPGET))
    pull = valid(r.content).findtext("vos:protocol/vos:endpoint", namespaces=NS)
    assert alice.get(pull).content == payload
    # the parameter form with REQUEST=redirect goes straight to the data
    r = alice.get(alice.root + "/vospace/synctrans", params={
        "TARGET": uri("up/file.bin"), "DIRECTION": "pullFromVoSpace", "PROTOCOL": HTTPGET, "REQUEST": "redirect"},
        allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == pull
    missing = alice.post(alice.root + "/vospace/synctrans", data=transfer_doc(uri("nothing"), "pullFromVoSpace", HTTPGET))
    assert missing.status_code == 404 and missing.text.startswith("NodeNotFound")
    unknown = alice.post(alice.root + "/vospace/synctrans",
                         data=transfer_doc(uri("up/file.bin"), "pullFromVoSpace", "ivo://ivoa.net/vospace/core#ftpget"))
    assert unknown.status_code == 400 and unknown.text.startswith("ProtocolNotSupported")


def test_push_negotiation_refuses_what_cannot_fit_and_warns_near_the_quota(alice):
    too_big = alice.post(alice.root + "/vospace/synctrans",
                         data=transfer_doc(uri("big.bin"), "pushToVoSpace", HTTPPUT,
                                           params=[("ivo://ivoa.net/vospace/core#length", 9 * MiB)]))
    assert too_big.status_code == 507 and too_big.text.startswith("QuotaExceeded")
    near = alice.post(alice.root + "/vospace/synctrans",
                      data=transfer_doc(uri("big.bin"), "pushToVoSpace", HTTPPUT,
                                        params=[("ivo://ivoa.net/vospace/core#length", 7 * MiB + MiB // 2)]))
    details = valid(near.content)
    warning = [p.text for p in details.findall("vos:param", NS) if p.get("uri") == "urn:hera:quota-warning"]
    assert warning and "94% full" in warning[0]


def test_a_large_push_resumes_after_a_broken_connection(alice):
    payload = os.urandom(2 * MiB + 7)
    total = len(payload)
    r = alice.post(alice.root + "/vospace/synctrans", data=transfer_doc(uri("cube.fits"), "pushToVoSpace", HTTPPUT))
    endpoint = valid(r.content).findtext("vos:protocol/vos:endpoint", namespaces=NS)
    half = total // 2
    assert alice.put(endpoint, data=payload[:half], headers={"Content-Range": f"bytes 0-{half - 1}/{total}"}).status_code == 202
    offset = int(alice.put(endpoint, headers={"Content-Range": f"bytes */{total}"}).headers["Upload-Offset"])
    assert offset == half
    done = alice.put(endpoint, data=payload[offset:], headers={"Content-Range": f"bytes {offset}-{total - 1}/{total}"})
    assert done.status_code == 201 and done.json()["sha256"] == hashlib.sha256(payload).hexdigest()
    part = alice.get(endpoint, headers={"Range": f"bytes={MiB}-"})
    assert part.status_code == 206 and part.content == payload[MiB:]


# -- asynchronous transfers (real RQ workers) -----------------------------------------------------
def run_transfer(session, document: bytes) -> etree._Element:
    r = session.post(session.root + "/vospace/transfers", data=document,
                     headers={"Content-Type": "text/xml"}, allow_redirects=False)
    assert r.status_code == 303, r.text
    job_url = r.headers["Location"]
    assert session.post(job_url + "/phase", data={"PHASE": "RUN"}).status_code in (200, 303)
    deadline = time.monotonic() + 60
    while True:
        job = assert_valid("UWS.xsd", session.get(job_url, params={"WAIT": 5}).content)
        phase = job.findtext("uws:phase", namespaces=NS)
        if phase in ("COMPLETED", "ERROR", "ABORTED") or time.monotonic() > deadline:
            break
    job.attrib["url"] = job_url
    return job


def details_of(session, job) -> etree._Element:
    assert job.findtext("uws:phase", namespaces=NS) == "COMPLETED", etree.tostring(job).decode()
    href = job.find("uws:results/uws:result[@id='transferDetails']", NS).get("{http://www.w3.org/1999/xlink}href")
    return valid(session.get(href).content)


@pytest.fixture
def remote():
    """A remote data service on 127.0.0.1 (allowed by this module's configuration)."""
    payload = os.urandom(500_000)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith("/redirect"):
                self.send_response(302)
                self.send_header("Location", "/votable")
                self.end_headers()
                return
            if self.path == "/to-private":  # a hop to an address the service may not reach
                self.send_response(302)
                self.send_header("Location", "http://10.255.255.1/votable")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-votable+xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    with serve_http(Handler) as base:
        yield base, payload


def test_async_pull_to_vospace_imports_a_url(alice, worker, remote):
    base, payload = remote
    job = run_transfer(alice, transfer_doc(uri("imported/q.vot"), "pullToVoSpace", HTTPGET, f"{base}/redirect"))
    details = details_of(alice, job)
    params = {p.get("uri"): p.text for p in details.findall("vos:param", NS)}
    assert params["urn:hera:sha256"] == hashlib.sha256(payload).hexdigest()
    assert alice.get(alice.root + "/workspace/imported/q.vot").content == payload


def test_async_pull_to_vospace_from_a_host_not_allowed_ends_in_error(alice, worker):
    job = run_transfer(alice, transfer_doc(uri("x.vot"), "pullToVoSpace", HTTPGET, "http://localhost:9/x"))
    assert job.findtext("uws:phase", namespaces=NS) == "ERROR"
    error = alice.get(job.get("url") + "/error").text
    assert "PermissionDenied" in error and "HERA_WORKSPACE_IMPORT_HOSTS" in error
    assert alice.get(alice.root + "/workspace/x.vot").status_code == 404


def test_async_pull_to_vospace_refused_by_the_fetch_policy_ends_in_error(alice, worker, remote):
    """A redirect from the listed 127.0.0.1 to a non-listed private address, and the
    backslash trick, end the transfer job in ERROR with the refusal as its message."""
    base, _ = remote
    for endpoint, fault, words in [(f"{base}/to-private", "PermissionDenied", ["10.255.255.1", "HERA_FETCH_ALLOW"]),
                                   (f"{base}\\@example.org/x", "InvalidArgument", ["backslash"])]:
        job = run_transfer(alice, transfer_doc(uri("x.vot"), "pullToVoSpace", HTTPGET, endpoint))
        assert job.findtext("uws:phase", namespaces=NS) == "ERROR"
        error = alice.get(job.get("url") + "/error").text
        assert error.startswith(fault) and all(w in error for w in words), error
    assert alice.get(alice.root + "/workspace/x.vot").status_code == 404


def test_async_push_and_pull_negotiate_endpoints(alice, worker):
    details = details_of(alice, run_transfer(alice, transfer_doc(uri("pushed.bin"), "pushToVoSpace", HTTPPUT)))
    endpoint = details.findtext("vos:protocol/vos:endpoint", namespaces=NS)
    assert alice.put(endpoint, data=b"pushed").status_code == 201
    details = details_of(alice, run_transfer(alice, transfer_doc(uri("pushed.bin"), "pullFromVoSpace", HTTPGET)))
    assert alice.get(details.findtext("vos:protocol/vos:endpoint", namespaces=NS)).content == b"pushed"


def test_async_move_and_copy_between_nodes(alice, worker):
    alice.put(alice.root + "/workspace/a.txt", data=b"a")
    alice.post(alice.root + "/workspace/dir", data={"action": "mkdir"})
    details_of(alice, run_transfer(alice, transfer_doc(uri("a.txt"), uri("dir"))))
    assert alice.get(alice.root + "/workspace/a.txt").status_code == 404
    assert alice.get(alice.root + "/workspace/dir/a.txt").content == b"a"
    details_of(alice, run_transfer(alice, transfer_doc(uri("dir/a.txt"), uri("b.txt"), keep_bytes=True)))
    assert alice.get(alice.root + "/workspace/dir/a.txt").content == b"a"
    assert alice.get(alice.root + "/workspace/b.txt").content == b"a"


def test_transfer_jobs_of_another_user_do_not_exist(alice, bob, worker):
    job = run_transfer(alice, transfer_doc(uri("p.bin"), "pushToVoSpace", HTTPPUT))
    assert bob.get(job.get("url")).status_code == 404


# -- safe XML ------------------------------------------------------------------------------------
def test_documents_cannot_expand_entities_or_read_local_files(alice, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    external = (f'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file://{secret}">]>'
                f'<vos:transfer xmlns:vos="{VOS}"><vos:target>{uri("leak")}&x;</vos:target>'
                f"<vos:direction>pushToVoSpace</vos:direction></vos:transfer>").encode()
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
            + f']><vos:node xmlns:vos="{VOS}" uri="{uri("bomb")}">&lol9;</vos:node>').encode()
    for where, document in (("/vospace/synctrans", external), ("/vospace/transfers", external),
                            ("/vospace/nodes/alice/bomb", bomb)):
        method = alice.put if "nodes" in where else alice.post
        r = method(alice.root + where, data=document, headers={"Content-Type": "text/xml"}, allow_redirects=False)
        assert r.status_code == 400 and r.text.startswith("InvalidArgument"), (where, r.text)
        assert "TOP SECRET" not in r.text
    listing = alice.get(alice.root + "/workspace/?format=json").json()
    assert listing["entries"] == []
    jobs = alice.get(alice.root + "/vospace/transfers")
    assert etree.fromstring(jobs.content).findall("uws:jobref", NS) == []
