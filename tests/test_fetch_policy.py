"""The one fetch policy (``fetching``, docs/fetching.md): URLs read once and refused when
ambiguous, every resolved address checked, the connection made to the checked address,
redirects checked hop by hop; and the errors each caller gives (TAP: a VOTable error;
workspace import: a JSON 4xx).

The "remote" servers are real HTTP servers on 127.0.0.1 (and 127.0.0.2), which the tests
list in the allow setting to reach them. There is no DNS server here, so the one fake is
the resolver of ``fetching.policy`` where a test needs a name to resolve to an address of
its choosing.
"""
from __future__ import annotations

import http.server
import ipaddress
import socket
import ssl
import subprocess
import threading

import pytest
import requests
from lxml import etree

from accounts import users
from fetching import FetchError, FetchPolicy, FetchRefused, FetchTooLarge, checked_session, download
from fetching import addresses, policy as fetch_policy, urls
from vo_service import config as configuration

LISTED = FetchPolicy.from_config({"HERA_FETCH_ALLOW": "127.0.0.1"})
NOTHING_LISTED = FetchPolicy.from_config({})


class Recorder(http.server.ThreadingHTTPServer):
    """A real HTTP server that records (path, Host header) of every request it gets and
    answers from ``routes``: path -> (status, headers, body)."""

    def __init__(self, host="127.0.0.1", routes=None, certificate=None):
        self.seen: list[tuple[str, str]] = []
        self.routes = routes or {}
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                recorder.seen.append((self.path, self.headers.get("Host")))
                status, headers, body = recorder.routes.get(self.path, (200, {}, b"hello"))
                if callable(body):
                    body = body(self)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__((host, 0), Handler)
        if certificate:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certificate)
            self.sni: list[str] = []
            context.sni_callback = lambda sock, name, ctx: self.sni.append(name)
            self.socket = context.wrap_socket(self.socket, server_side=True)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


@pytest.fixture
def servers():
    started = []

    def start(*args, **kwargs) -> Recorder:
        server = Recorder(*args, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.fixture
def resolver(monkeypatch):
    """Names of this test's choosing resolve to addresses of its choosing (there is no
    DNS server here); every other name resolves as usual."""
    names: dict[str, list[str]] = {}
    real = fetch_policy.resolve
    monkeypatch.setattr(fetch_policy, "resolve",
                        lambda host, port: list(names[host]) if host in names else real(host, port))
    return names


# -- URLs that parsers read differently ---------------------------------------------------------

@pytest.mark.parametrize("url, message", [
    ("http://127.0.0.1:18650\\@archive.example.org/", "backslash"),
    ("http://archive.example.org\\.127.0.0.1/", "backslash"),
    ("http://user:secret@archive.example.org/", "user name or password"),
    ("http://archive.example.org@127.0.0.1/", "user name or password"),
    ("http://2130706433/", "dotted decimal"),
    ("http://0177.0.0.1/", "dotted decimal"),
    ("http://0x7f.1/", "dotted decimal"),
    ("http://127.1/", "dotted decimal"),
    ("http://archive.example.org /x", "white space"),
    ("http://archive.example.org/\tx", "white space"),
    ("http://archive.example.org\x00.evil/", "control character"),
    ("file:///etc/passwd", "only http and https"),
    ("gopher://archive.example.org/", "only http and https"),
    ("http:///nohost", "no host"),
    ("http://archive.example.org:99999/", "refused URL"),
    ("http://ärchive.example.org/", "ASCII"),
])
def test_ambiguous_or_unfit_urls_are_refused_before_any_lookup(url, message, monkeypatch):
    monkeypatch.setattr(fetch_policy, "resolve", lambda *a: pytest.fail("a refused URL was resolved"))
    with pytest.raises(FetchRefused) as err:
        download(url, LISTED)
    assert err.value.status == 400 and message in err.value.message


def test_the_backslash_trick_reaches_no_server_even_when_its_address_is_listed(servers):
    server = servers()
    port = server.server_address[1]
    for url in (f"http://127.0.0.1:{port}\\@archive.example.org/", f"http://127.0.0.1:{port}\\x"):
        with pytest.raises(FetchRefused, match="backslash"):
            download(url, LISTED)
        with pytest.raises(FetchRefused, match="backslash"):
            checked_session(LISTED).get(url)
    with pytest.raises(FetchRefused, match="user name"):
        download(f"http://someone@127.0.0.1:{port}/", LISTED)
    assert server.seen == []


def test_parse_reads_scheme_host_and_port_once():
    assert urls.parse("HTTPS://Archive.Example.org/x?y=1") == urls.Target("https", "archive.example.org", 443)
    assert urls.parse("http://[::1]:8080/") == urls.Target("http", "::1", 8080)
    assert urls.parse("http://192.0.2.1/") == urls.Target("http", "192.0.2.1", 80)


# -- addresses -----------------------------------------------------------------------------------

@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.5.5", "private"), ("192.168.0.7", "private"), ("fc00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"), ("100.64.0.1", "not a globally routable"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),         # IPv4-mapped
    ("64:ff9b::7f00:1", "loopback"), ("64:ff9b::a9fe:a9fe", "link-local"),   # NAT64 (RFC 6052)
    ("64:ff9b::c0a8:1", "private"), ("64:ff9b:1::808:808", "local-use NAT64"),
    ("2002:7f00:1::1", "loopback"), ("2002:a00:1::1", "private"),            # 6to4
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("::7f00:1", "reserved"),                                                 # IPv4-compatible
])
def test_non_public_addresses_and_their_disguises_are_named(address, reason):
    assert reason in addresses.why_not_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "193.48.85.10", "2606:4700::1111",
                                     "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert addresses.why_not_public(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "::1", "fe80::1%2", "::ffff:127.0.0.1",
                                     "64:ff9b::7f00:1", "2002:7f00:1::1", "169.254.169.254"])
def test_every_resolved_address_is_checked(address, resolver):
    resolver["archive.example.org"] = ["193.48.85.10", address]  # one public, one not
    with pytest.raises(FetchRefused) as err:
        NOTHING_LISTED.addresses(urls.parse("http://archive.example.org/"))
    assert err.value.status == 403 and "HERA_FETCH_ALLOW" in err.value.message
    assert address.split("%")[0] in err.value.message or "reaches" in err.value.message


def test_the_allow_setting_takes_addresses_networks_and_names(resolver):
    allow = FetchPolicy.from_config({"HERA_FETCH_ALLOW": '["127.0.0.1", "10.0.0.0/8", "[fd00::1]", '
                                                         '"archive.internal", ".lab.example"]'})
    resolver.update({"archive.internal": ["192.168.1.1"], "tap.lab.example": ["172.16.0.9"],
                     "other.internal": ["192.168.1.1"], "mapped.example": ["::ffff:127.0.0.1"],
                     "ten.example": ["10.20.30.40"], "six.example": ["fd00::1"], "seven.example": ["fd00::2"]})
    for host in ("archive.internal", "tap.lab.example", "mapped.example", "ten.example", "six.example"):
        assert allow.addresses(urls.parse(f"http://{host}/"))
    for host in ("other.internal", "seven.example"):
        with pytest.raises(FetchRefused):
            allow.addresses(urls.parse(f"http://{host}/"))
    assert FetchPolicy.from_config({"HERA_FETCH_ALLOW": "127.0.0.1, 10.0.0.0/8"}).allowed_networks == (
        ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"))
    for typo in ("10.0.0.0/33", "fd00::1::2", "10.0.0.1/8x"):
        with pytest.raises(ValueError, match="HERA_FETCH_ALLOW"):
            FetchPolicy.from_config({"HERA_FETCH_ALLOW": typo})


def test_a_dns_name_that_resolves_to_loopback_is_refused(servers):
    server = servers()
    port = server.server_address[1]
    with pytest.raises(FetchRefused) as err:
        download(f"http://localhost:{port}/", NOTHING_LISTED)  # localhost: from /etc/hosts
    assert err.value.status == 403 and "localhost resolves to" in err.value.message
    assert "loopback" in err.value.message
    assert server.seen == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/", "http://[::ffff:127.0.0.1]:{port}/",
                                 "http://[64:ff9b::7f00:1]:{port}/", "http://[::1]:{port}/"])
def test_literal_loopback_addresses_are_refused_unless_listed(url, servers):
    server = servers()
    with pytest.raises(FetchRefused, match="loopback"):
        download(url.format(port=server.server_address[1]), NOTHING_LISTED)
    assert server.seen == []


# -- the connection goes to the checked address --------------------------------------------------

def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(servers, resolver, monkeypatch):
    server = servers("127.0.0.2")
    port = server.server_address[1]
    resolver["archive.example.org"] = ["127.0.0.2"]
    real_getaddrinfo = socket.getaddrinfo

    def no_second_lookup(host, *args, **kwargs):
        assert host != "archive.example.org", "the name was looked up again after the check"
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", no_second_lookup)
    allow = FetchPolicy.from_config({"HERA_FETCH_ALLOW": "127.0.0.2"})
    with download(f"http://archive.example.org:{port}/data", allow) as fetched:
        assert fetched.read() == b"hello"
    assert server.seen == [("/data", f"archive.example.org:{port}")]


def test_each_request_is_resolved_once_and_checked_anew(servers, monkeypatch):
    """DNS rebinding: a name that answers an allowed address, then a forbidden one, gets
    the first request sent to the allowed one and the next refused, never connected."""
    good = servers("127.0.0.2")
    port = good.server_address[1]
    answers = iter([["127.0.0.2"], ["127.0.0.3"]])
    asked = []
    monkeypatch.setattr(fetch_policy, "resolve", lambda host, port: asked.append(host) or next(answers))
    allow = FetchPolicy.from_config({"HERA_FETCH_ALLOW": "127.0.0.2"})
    with download(f"http://archive.example.org:{port}/", allow) as fetched:
        assert fetched.read() == b"hello"
    with pytest.raises(FetchRefused, match="127.0.0.3"):
        download(f"http://archive.example.org:{port}/", allow)
    assert asked == ["archive.example.org"] * 2
    assert good.seen == [("/", f"archive.example.org:{port}")]


def test_the_addresses_of_a_name_are_tried_in_turn(servers, resolver):
    server = servers("127.0.0.1")
    port = server.server_address[1]
    closed = socket.socket()
    closed.bind(("127.0.0.2", 0))  # a port nobody listens on: refused at once
    resolver["archive.example.org"] = ["127.0.0.2", "127.0.0.1"]
    allow = FetchPolicy.from_config({"HERA_FETCH_ALLOW": "127.0.0.0/8"})
    with download(f"http://archive.example.org:{port}/", allow) as fetched:
        assert fetched.read() == b"hello"
    closed.close()
    assert server.seen == [("/", f"archive.example.org:{port}")]


@pytest.fixture
def certificate(tmp_path):
    path = tmp_path / "archive.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=archive.example.org", "-addext", "subjectAltName=DNS:archive.example.org",
                    "-keyout", str(path), "-out", str(path)], check=True, capture_output=True)
    return path


def test_https_sends_the_name_as_sni_and_checks_the_certificate_for_it(servers, resolver, certificate):
    server = servers("127.0.0.1", certificate=str(certificate))
    port = server.server_address[1]
    resolver["archive.example.org"] = ["127.0.0.1"]
    resolver["impostor.example.org"] = ["127.0.0.1"]
    session = checked_session(LISTED)
    r = session.get(f"https://archive.example.org:{port}/tls", verify=str(certificate))
    assert r.status_code == 200 and r.content == b"hello"
    assert server.sni == ["archive.example.org"]
    assert server.seen == [("/tls", f"archive.example.org:{port}")]
    with pytest.raises(requests.exceptions.SSLError):  # the certificate names another host
        session.get(f"https://impostor.example.org:{port}/tls", verify=str(certificate))


# -- redirects -------------------------------------------------------------------------------------

def test_a_redirect_from_a_listed_server_to_a_private_address_is_refused(servers):
    target = servers("127.0.0.2")  # a real server there, which must not be reached
    port = target.server_address[1]
    origin = servers("127.0.0.1", routes={
        "/to-loopback": (302, {"Location": f"http://127.0.0.2:{port}/secret"}, b""),
        "/to-private": (301, {"Location": "http://10.255.255.1/secret"}, b""),
        "/to-metadata": (307, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        "/to-mapped": (303, {"Location": f"http://[::ffff:127.0.0.2]:{port}/secret"}, b""),
        "/to-decimal": (302, {"Location": f"http://2130706434:{port}/secret"}, b""),
        "/to-backslash": (302, {"Location": f"http://127.0.0.2:{port}\\@archive.example.org/"}, b""),
        "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
    })
    for path, status in [("/to-loopback", 403), ("/to-private", 403), ("/to-metadata", 403),
                         ("/to-mapped", 403), ("/to-decimal", 400), ("/to-backslash", 400), ("/to-file", 400)]:
        with pytest.raises(FetchRefused) as err:
            download(origin.url + path, LISTED)
        assert err.value.status == status, (path, err.value.message)
        # and the same through the session a library (pyvo) is given
        with pytest.raises(FetchRefused):
            checked_session(LISTED).get(origin.url + path)
    assert target.seen == []
    assert len(origin.seen) == 14


def test_redirects_to_allowed_addresses_are_followed_up_to_the_limit(servers):
    origin = servers("127.0.0.1")
    origin.routes.update({
        "/moved": (302, {"Location": "/here"}, b""),
        "/here": (200, {}, b"arrived"),
        "/loop": (302, {"Location": "/loop"}, b""),
    })
    with download(origin.url + "/moved", LISTED) as fetched:
        assert fetched.read() == b"arrived" and fetched.url == origin.url + "/here"
    origin.seen.clear()
    with pytest.raises(FetchError, match="more than 5 redirects"):
        download(origin.url + "/loop", LISTED)
    assert len(origin.seen) == 6  # the request and five redirects, no more


# -- limits and the environment -------------------------------------------------------------------

def test_size_limit_on_the_announced_and_the_streamed_length(servers):
    big = b"x" * 10_000
    origin = servers("127.0.0.1", routes={"/big": (200, {}, big)})
    with pytest.raises(FetchTooLarge) as err:
        download(origin.url + "/big", LISTED, max_bytes=9_999)
    assert err.value.status == 413 and "10000 bytes" in err.value.message
    with download(origin.url + "/big", LISTED, max_bytes=10_000) as fetched:
        assert fetched.read() == big


def test_a_proxy_from_the_environment_is_not_used(servers, monkeypatch):
    origin = servers("127.0.0.1")
    monkeypatch.setenv("HTTP_PROXY", "http://10.255.255.1:3128")
    monkeypatch.setenv("http_proxy", "http://10.255.255.1:3128")
    with download(origin.url + "/direct", LISTED) as fetched:
        assert fetched.read() == b"hello"
    assert origin.seen == [("/direct", origin.url[len("http://"):])]


def test_an_http_error_and_an_unknown_host_are_fetch_errors(servers):
    origin = servers("127.0.0.1", routes={"/gone": (404, {}, b"")})
    with pytest.raises(FetchError) as err:
        download(origin.url + "/gone", LISTED)
    assert err.value.status == 502 and "HTTP 404" in err.value.message
    with pytest.raises(FetchError, match="cannot resolve"):
        download("http://no-such-host.invalid/", LISTED)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # nobody listens
    with pytest.raises(FetchError) as err:
        download(f"http://127.0.0.1:{closed.getsockname()[1]}/", LISTED)
    closed.close()
    assert err.value.status == 502 and "cannot connect to 127.0.0.1: " in err.value.message


@pytest.mark.parametrize("retired", ["HERA_TAP_UPLOAD_ALLOW_PRIVATE", "HERA_WORKSPACE_IMPORT_ALLOW_PRIVATE"])
def test_the_retired_settings_are_refused_with_their_replacement_named(retired, tmp_path):
    with pytest.raises(ValueError, match="HERA_FETCH_ALLOW"):
        configuration.load({"HERA_DATA_DIR": str(tmp_path), retired: True})


# -- each caller's error document ------------------------------------------------------------------

VOT = {"v": "http://www.ivoa.net/xml/VOTable/v1.3"}


def tap_error(response) -> str:
    assert response.content_type.startswith("application/x-votable+xml")
    info = etree.fromstring(response.data).find(".//v:INFO[@name='QUERY_STATUS']", VOT)
    assert info.get("value") == "ERROR"
    return info.text


@pytest.fixture
def config(config):
    config.update({"HERA_FETCH_ALLOW": "127.0.0.1", "HERA_WORKSPACE_IMPORT_HOSTS": "127.0.0.1"})
    return config


def test_tap_upload_refusals_are_votable_errors(app, servers):
    target = servers("127.0.0.2")
    origin = servers("127.0.0.1", routes={
        "/hop": (302, {"Location": f"http://127.0.0.2:{target.server_address[1]}/t.xml"}, b"")})
    tap = app.test_client()
    port = origin.server_address[1]
    for url, status, words in [(f"http://127.0.0.1:{port}\\@archive.example.org/t.xml", 400, "backslash"),
                               (f"http://u:p@127.0.0.1:{port}/t.xml", 400, "user name"),
                               (f"http://2130706433:{port}/t.xml", 400, "dotted decimal"),
                               (f"{origin.url}/hop", 403, "127.0.0.2"),
                               (f"http://[::ffff:10.0.0.1]:{port}/t.xml", 403, "private")]:
        r = tap.post("/tap/sync", data={"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.t",
                                        "UPLOAD": f"t,{url}"})
        assert r.status_code == status, r.data[:300]
        assert words in tap_error(r)
    assert target.seen == [] and origin.seen == [("/hop", f"127.0.0.1:{port}")]


def test_workspace_import_refusals_are_json_errors(app, servers):
    token = users.add_user(app.extensions["hera"].engine, "alice")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    target = servers("127.0.0.2")
    origin = servers("127.0.0.1", routes={
        "/hop": (302, {"Location": f"http://127.0.0.2:{target.server_address[1]}/x"}, b""),
        "/ok": (200, {}, b"imported")})
    port = origin.server_address[1]
    for url, status, words in [(f"http://127.0.0.1:{port}\\@archive.example.org/x", 400, "backslash"),
                               (f"http://u@127.0.0.1:{port}/x", 400, "user name"),
                               (f"http://0177.0.0.1:{port}/x", 400, "dotted decimal"),
                               (f"{origin.url}/hop", 403, "HERA_WORKSPACE_IMPORT_HOSTS")]:
        r = client.post("/workspace/x", data={"action": "import", "url": url}, headers=auth)
        assert r.status_code == status and words in r.get_json()["error"], r.data
    r = client.post("/workspace/x", data={"action": "import", "url": f"{origin.url}/ok"}, headers=auth)
    assert r.status_code == 201 and client.get("/workspace/x", headers=auth).data == b"imported"
    assert target.seen == []


# -- the session a library is given --------------------------------------------------------------

def test_pyvo_runs_sync_and_async_queries_through_the_checked_session(live_server, worker):
    """pyvo given the checked session: the sync query, and the async job's creation,
    303 redirects, phase polling and result download all pass the check; without
    127.0.0.1 listed the very first request is refused."""
    import pyvo

    query = "SELECT table_name FROM tap_schema.tables WHERE table_name = 'tap_schema.tables'"
    service = pyvo.dal.TAPService(live_server + "/tap", session=checked_session(LISTED))
    assert list(service.run_sync(query).to_table()["table_name"]) == ["tap_schema.tables"]
    assert list(service.run_async(query).to_table()["table_name"]) == ["tap_schema.tables"]
    refused = pyvo.dal.TAPService(live_server + "/tap", session=checked_session(NOTHING_LISTED))
    with pytest.raises(pyvo.dal.DALAccessError) as err:  # pyvo's own error, as for any failed request
        refused.run_sync(query)
    assert "loopback" in str(err.value) and "HERA_FETCH_ALLOW" in str(err.value)
