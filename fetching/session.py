"""The checked ``requests`` session: every request it sends, and every redirect it
follows, goes to an address the fetch policy allowed, and only there.

The check and the connection cannot drift apart: the adapter reads the URL of each
request (the first one and each redirect hop) with :func:`fetching.urls.parse`, resolves
its host once, checks every address, and hands the request to a connection pool whose
connections open their socket to those checked addresses, never resolving the name
again (so a DNS answer that changes between check and connection, "DNS rebinding",
changes nothing). The name stays in the ``Host`` header, in TLS's SNI and in the
certificate check, so virtual hosts and HTTPS work as usual.

Libraries that take a ``requests.Session`` (pyvo) use :func:`checked_session` as theirs.
"""
from __future__ import annotations

import socket
import threading
from collections import OrderedDict

import requests
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from . import urls
from .errors import FetchError, FetchRefused, FetchTooLarge
from .policy import FetchPolicy

CHUNK = 1 << 20
#: pools (one per host and checked address set) an adapter keeps open
_POOLS_KEPT = 10


class _PinnedConnectionMixin:
    """A urllib3 connection that opens its socket to the checked addresses (tried in
    order) instead of looking the host name up again."""

    def __init__(self, *args, checked_addresses: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.checked_addresses = checked_addresses

    def _new_conn(self) -> socket.socket:
        failure = None
        for address in self.checked_addresses:
            where = address if address == self.host else f"{self.host} ({address})"
            try:
                return urllib3_connection.create_connection(
                    (address, self.port), self.timeout, source_address=self.source_address,
                    socket_options=self.socket_options)
            except TimeoutError:
                failure = ConnectTimeoutError(self, f"connection to {where} timed out "
                                                    f"(connect timeout={self.timeout})")
            except OSError as err:
                failure = NewConnectionError(self, f"cannot connect to {where}: {err}")
        raise failure or NewConnectionError(self, f"{self.host} has no checked address")


class _PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class _PinnedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class CheckedAdapter(HTTPAdapter):
    """Sends each request to the addresses the policy checked for its URL."""

    def __init__(self, policy: FetchPolicy):
        super().__init__(max_retries=0)
        self.policy = policy
        self._pools: OrderedDict[tuple, HTTPConnectionPool] = OrderedDict()
        self._lock = threading.Lock()

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        if select_proxy(request.url, proxies):
            raise FetchRefused("refused: requests through a proxy are not made (the proxy, not "
                               "this service, would choose the address)", 400)
        target = urls.parse(request.url)
        found = tuple(self.policy.addresses(target))
        # a pool per TLS setting too: its connections were verified (or not) with it
        key = (target.scheme, target.host, target.port, found, repr(verify), repr(cert))
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                cls = _PinnedHTTPSConnectionPool if target.scheme == "https" else _PinnedHTTPConnectionPool
                pool = self._pools[key] = cls(target.host, target.port, maxsize=self._pool_maxsize,
                                              checked_addresses=found)
                while len(self._pools) > _POOLS_KEPT:
                    self._pools.popitem(last=False)[1].close()
            self._pools.move_to_end(key)
        return pool

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        timeout = self.policy.timeout if timeout is None else timeout
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)

    def close(self) -> None:
        super().close()
        with self._lock:
            while self._pools:
                self._pools.popitem()[1].close()


class CheckedSession(requests.Session):
    """A ``requests.Session`` whose every request and redirect hop obeys ``policy``."""

    def __init__(self, policy: FetchPolicy):
        super().__init__()
        self.policy = policy
        # no proxy, .netrc or CA bundle from the environment: the connection goes where the check says
        self.trust_env = False
        self.max_redirects = policy.max_redirects
        self.adapters.clear()
        self.mount("", CheckedAdapter(policy))  # every scheme, so that file:// is refused by the check

    def prepare_request(self, request):
        # the URL as the caller wrote it, before requests re-encodes a backslash into %5C
        # (the adapter checks the prepared URL of each hop again)
        urls.parse(request.url)
        return super().prepare_request(request)

    def get_redirect_target(self, resp):
        location = super().get_redirect_target(resp)
        if location is not None:
            urls.refuse_ambiguous_characters(location, f"redirect from {resp.url} to")
        return location


def checked_session(policy: FetchPolicy) -> requests.Session:
    """A session for a library to make its requests through (pyvo's ``session=``)."""
    return CheckedSession(policy)


class Download:
    """A streamed HTTP 200 response of a checked fetch; use it as a context manager."""

    def __init__(self, session: requests.Session, response: requests.Response, max_bytes: int | None):
        self._session, self._response, self.max_bytes = session, response, max_bytes
        self.url = response.url
        length = response.headers.get("Content-Length", "")
        #: the announced length of the body as it will be read (None when unknown or encoded)
        self.length = int(length) if length.isdigit() and not response.headers.get("Content-Encoding") else None

    def chunks(self, size: int = CHUNK):
        """The body, piece by piece; FetchTooLarge as soon as it passes ``max_bytes``."""
        read = 0
        try:
            for chunk in self._response.iter_content(size):
                read += len(chunk)
                if self.max_bytes is not None and read > self.max_bytes:
                    raise FetchTooLarge(f"{self.url} is larger than the limit of {self.max_bytes} bytes")
                yield chunk
        except requests.RequestException as err:
            if isinstance(err, FetchError):
                raise
            raise FetchError(f"the transfer from {self.url} broke off: {err}") from None

    def read(self) -> bytes:
        return b"".join(self.chunks())

    def close(self) -> None:
        self._response.close()
        self._session.close()

    def __enter__(self) -> "Download":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def download(url: str, policy: FetchPolicy, *, max_bytes: int | None = None,
             headers: dict | None = None) -> Download:
    """GET ``url`` under ``policy``, following checked redirects, as a streamed
    :class:`Download`; raises FetchRefused, FetchTooLarge (an announced length over
    ``max_bytes``) or FetchError (no answer, an HTTP status other than 200)."""
    session = checked_session(policy)
    try:
        try:
            response = session.get(url, stream=True, headers=headers)
        except requests.TooManyRedirects:
            raise FetchError(f"more than {policy.max_redirects} redirects from {url}") from None
        except requests.RequestException as err:
            if isinstance(err, FetchError):
                raise
            raise FetchError(f"fetching {url} failed: {_reason(err)}") from None
        if response.status_code != 200:
            response.close()
            raise FetchError(f"{response.url} answered HTTP {response.status_code} {response.reason}")
        fetched = Download(session, response, max_bytes)
        if max_bytes is not None and fetched.length is not None and fetched.length > max_bytes:
            fetched.close()
            raise FetchTooLarge(f"{url} announces {fetched.length} bytes, more than the limit of "
                                f"{max_bytes} bytes")
        return fetched
    except BaseException:
        session.close()
        raise


def _reason(err: requests.RequestException) -> str:
    """The innermost cause of a requests error, without urllib3's wrapping."""
    cause = err.args[0] if err.args else err
    reason = getattr(cause, "reason", None) or cause
    text = str(reason)
    conn = getattr(reason, "conn", None)  # urllib3 prefixes the connection object's repr
    return text.removeprefix(f"{conn}: ") if conn is not None else text
