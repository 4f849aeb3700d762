"""Import by URL: the service fetches a remote URL straight into a workspace, streamed.

Guarded against being turned against the service's own network (SSRF):

- only ``http`` and ``https`` URLs of hosts the operator allows
  (``HERA_WORKSPACE_IMPORT_HOSTS``: exact names, or ``.example.org`` for a domain);
- the host name is resolved once, and every address it resolves to must be public:
  loopback, private, link-local, multicast, reserved and unspecified addresses are
  refused unless ``HERA_WORKSPACE_IMPORT_ALLOW_PRIVATE`` is set; the connection then goes
  to the address that was checked (no second lookup a DNS rebinding could change);
- redirects are followed by hand (at most 5), each one checked the same way;
- the body is streamed to the workspace with a size cap (``HERA_WORKSPACE_IMPORT_MAX_BYTES``,
  and the user's quota): an announced ``Content-Length`` beyond it is refused before a
  byte is read, and a stream that grows beyond it is cut off.

The bytes are stored as they arrive and never parsed, so a hostile VOTable or XML
document cannot expand entities or read local files here.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urljoin, urlsplit

from .store import CHUNK, Workspace, WorkspaceError

MAX_REDIRECTS = 5
TIMEOUT = 30


def _host_list(allowed) -> list[str]:
    """The configured hosts: a list, or a string of names separated by commas or spaces
    (or a JSON list, as an environment variable may carry it)."""
    if isinstance(allowed, str):
        text = allowed.strip()
        if text.startswith("["):
            import json
            return [str(h) for h in json.loads(text)]
        return [h for h in text.replace(",", " ").split() if h]
    return [str(h) for h in allowed or ()]


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def host_allowed(host: str, allowed) -> bool:
    host = host.lower().rstrip(".")
    for entry in _host_list(allowed):
        entry = str(entry).lower().rstrip(".")
        if entry.startswith(".") and (host.endswith(entry) or host == entry[1:]):
            return True
        if host == entry:
            return True
    return False


def checked_address(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to for ``host``; refuse (403) non-public ones unless allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise WorkspaceError(502, f"cannot resolve {host}: {err.strerror}")
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not allow_private and (address.is_loopback or address.is_private or address.is_link_local
                                  or address.is_multicast or address.is_reserved or address.is_unspecified):
            raise WorkspaceError(403, f"refused: {host} resolves to the non-public address {address}")
        addresses.append(str(address))
    if not addresses:
        raise WorkspaceError(502, f"{host} has no address")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, **kw):
        super().__init__(host, port, timeout=TIMEOUT, **kw)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, **kw):
        super().__init__(host, port, timeout=TIMEOUT, context=ssl.create_default_context(), **kw)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def open_url(url: str, config) -> http.client.HTTPResponse:
    """A response for ``url`` with status 200, after the checks above and the redirects."""
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WorkspaceError(400, f"only http and https URLs can be imported, not {url!r}")
        host = parts.hostname
        if not host_allowed(host, config.get("HERA_WORKSPACE_IMPORT_HOSTS")):
            raise WorkspaceError(403, f"refused: imports from {host} are not allowed by this service "
                                      "(its operator lists the allowed hosts in HERA_WORKSPACE_IMPORT_HOSTS)")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = checked_address(host, port, _flag(config.get("HERA_WORKSPACE_IMPORT_ALLOW_PRIVATE")))
        cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        conn = cls(host, port, address)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("GET", target, headers={"User-Agent": "Hera-workspace-import", "Accept": "*/*"})
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as err:
            conn.close()
            raise WorkspaceError(502, f"fetching {url} failed: {err}")
        if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
            url = urljoin(url, response.getheader("Location"))
            conn.close()
            continue
        if response.status != 200:
            conn.close()
            raise WorkspaceError(502, f"{url} answered HTTP {response.status} {response.reason}")
        return response
    raise WorkspaceError(502, f"more than {MAX_REDIRECTS} redirects from {url}")


def import_url(ws: Workspace, path: str, url: str, config) -> dict:
    """Fetch ``url`` into ``path`` of ``ws``; returns the file's entry."""
    ws.key(path)
    cap = int(config.get("HERA_WORKSPACE_IMPORT_MAX_BYTES") or 0) or None
    response = open_url(url, config)
    try:
        length = response.getheader("Content-Length")
        size = int(length) if length and length.isdigit() and not response.getheader("Content-Encoding") else None

        def body():
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (OSError, http.client.HTTPException) as err:
                    raise WorkspaceError(502, f"the transfer from {url} broke off: {err}")
                if not chunk:
                    return
                yield chunk

        try:
            return ws.write(path, body(), size=size, max_bytes=cap)
        except WorkspaceError as err:
            if err.status == 400:  # the remote side sent other than it announced
                raise WorkspaceError(502, f"{url}: {err.message}")
            raise
    finally:
        response.close()
