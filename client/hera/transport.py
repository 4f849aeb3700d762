"""HTTP with the standard library: authentication, redirects kept on the service's
origin, streamed bodies, and retries with exponential backoff on network failures and
5xx answers, and after the ``Retry-After`` of a 429.

Errors become one-line :class:`HeraError` messages taken from what the service says
(a JSON ``{"error": ...}``, a DALI error VOTable, or the first line of plain text).
"""
from __future__ import annotations

import email.utils
import http.client
import json
import logging
import os
import random
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from typing import Callable, Iterable, Union

from . import __version__
from .errors import HeraError

log = logging.getLogger("hera")

#: a body: bytes, or a function returning a fresh binary file (so that a retry can resend it)
Body = Union[bytes, Callable[[], object], None]
CHUNK = 1 << 16


class BrokenBody(HeraError):
    """The connection broke while an answer's body was being read."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # redirects are followed by Transport, which keeps credentials on-origin


class Response:
    """An answer whose body is read on demand (``read()``, ``iter_content()``, ``close()``)."""

    def __init__(self, raw, url: str):
        self.raw = raw
        self.status: int = raw.status
        self.headers = raw.headers
        self.url = url

    def read(self) -> bytes:
        try:
            data = self.raw.read()
            expected = self.headers.get("Content-Length")
            if expected and expected.isdigit() and len(data) < int(expected) and not self.headers.get("Content-Encoding"):
                raise BrokenBody(f"the connection broke while reading {self.url}: {int(expected) - len(data)} bytes missing")
            return data
        except (http.client.HTTPException, OSError) as err:
            raise BrokenBody(f"the connection broke while reading {self.url}: {err!r}")
        finally:
            self.raw.close()

    def text(self) -> str:
        return self.read().decode("utf-8", "replace")

    def json(self):
        return json.loads(self.read())

    def iter_content(self, size: int = CHUNK) -> Iterable[bytes]:
        try:
            while True:
                try:
                    chunk = self.raw.read(size)
                except (http.client.HTTPException, OSError) as err:
                    raise BrokenBody(f"the connection broke while reading {self.url}: {err!r}")
                if not chunk:
                    left = getattr(self.raw, "length", None)  # http.client ends a short body silently
                    if left:
                        raise BrokenBody(f"the connection broke while reading {self.url}: {left} bytes missing")
                    return
                yield chunk
        finally:
            self.raw.close()

    def close(self):
        self.raw.close()


def error_message(body: bytes, content_type: str) -> str:
    """The service's own words for an error answer, on one line."""
    text = body[:65536].decode("utf-8", "replace")
    if "json" in content_type:
        try:
            data = json.loads(text)
            if isinstance(data, dict) and data.get("error"):
                return str(data["error"])
        except ValueError:
            pass
    if "xml" in content_type or text.lstrip().startswith("<?xml"):
        m = re.search(r'<INFO[^>]*name="QUERY_STATUS"[^>]*>(.*?)</INFO>', text, re.S)
        if m:
            return re.sub(r"\s+", " ", _unescape(m.group(1))).strip()
        m = re.search(r"<(?:\w+:)?message>(.*?)</(?:\w+:)?message>", text, re.S)
        if m:
            return _unescape(m.group(1)).strip()
    if "html" in content_type:
        text = re.sub(r"<[^>]+>", " ", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else ""


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds, or an HTTP date); None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _unescape(s: str) -> str:
    import html
    return html.unescape(s)


class Transport:
    """Requests to one service. Thread-safe: each call opens its own connection."""

    #: 5xx answers worth sending again; not those that say the request can never succeed
    #: (501 not implemented, 505 version, 507 quota or disk full, 508, 510, 511)
    RETRY_STATUS = frozenset(range(500, 600)) - {501, 505, 507, 508, 510, 511}
    #: a 429 (too many failed sign-ins from this address) is retried after its Retry-After
    #: when that is at most this long (s); a longer block is reported at once, not slept through
    MAX_RETRY_AFTER = 120.0

    def __init__(self, url: str, token: str | None = None, *, retries: int | None = None,
                 backoff: float = 0.5, timeout: float = 120.0):
        if not url:
            raise HeraError("no service URL: run 'hera login URL' or set HERA_URL")
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise HeraError(f"not a service URL: {url!r} (expected http://host[:port][/path])")
        self.base = url.rstrip("/")
        self.origin = f"{parsed.scheme}://{parsed.netloc}"
        self.token = token
        self.retries = int(os.environ.get("HERA_RETRIES", 4)) if retries is None else retries
        self.backoff = backoff
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect)

    def url(self, path: str) -> str:
        """An absolute URL: ``path`` relative to the service root, or already absolute."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base + "/" + path.lstrip("/")

    def _same_origin(self, url: str) -> bool:
        p = urllib.parse.urlsplit(url)
        return f"{p.scheme}://{p.netloc}" == self.origin

    def request(self, method: str, path: str, *, params: dict | None = None, form=None,
                body: Body = None, headers: dict | None = None, ok: Iterable[int] = (200, 201, 204),
                timeout: float | None = None, follow: bool = True) -> Response:
        """Send a request and return the answer when its status is in ``ok``.

        ``form`` (dict or list of pairs) is sent url-encoded; ``body`` as it is. A 303
        (or 301/302/307/308) on the service's origin is followed (303 as a GET).
        """
        url = self.url(path)
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params, doseq=True)
        hdrs = {"User-Agent": f"hera-client/{__version__}", **(headers or {})}
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        for _ in range(10):
            raw = self._send(method, url, body, hdrs, timeout)
            if follow and raw.status in (301, 302, 303, 307, 308):
                location = urllib.parse.urljoin(url, raw.headers.get("Location", ""))
                raw.close()
                if not self._same_origin(location):
                    raise HeraError(f"the service redirected off its origin to {location} (not followed, to keep "
                                    f"your token there); use the service's public URL (its HERA_BASE_URL) as HERA_URL")
                url = location
                if raw.status == 303 or (raw.status in (301, 302) and method == "POST"):
                    method, body = "GET", None
                    hdrs.pop("Content-Type", None)
                continue
            response = Response(raw, url)
            if response.status in ok:
                warning = response.headers.get("Warning", "")
                if warning.startswith("299"):  # e.g. the workspace quota is nearly used up
                    log.warning("the service warns: %s", warning.split(" ", 2)[-1].strip('"'))
                return response
            try:
                body = response.raw.read(65536)
            except (http.client.HTTPException, OSError):
                body = b""
            finally:
                response.close()
            message = error_message(body, response.headers.get("Content-Type", ""))
            raise HeraError(f"{method} {self._short(url)}: {response.status} {message}".rstrip(),
                            status=response.status)
        raise HeraError(f"too many redirects from {path}")

    def _short(self, url: str) -> str:
        return url[len(self.base):] or "/" if url.startswith(self.base) else url

    def _send(self, method, url, body, headers, timeout):
        """One exchange, retried with backoff on network errors and retryable 5xx, and after
        the asked delay on a 429 (refused before the service did anything: safe to resend)."""
        attempt = 0
        while True:
            data = body() if callable(body) else body
            req = urllib.request.Request(url, data=data, method=method, headers=dict(headers))
            if self.token and self._same_origin(url):
                req.add_header("Authorization", f"Bearer {self.token}")
            delay = None
            try:
                try:
                    return self._opener.open(req, timeout=timeout or self.timeout)
                except urllib.error.HTTPError as err:
                    if err.code == 429:  # slowed down: wait as long as the service asks, if reasonable
                        delay = retry_after(err.headers.get("Retry-After"))
                        if delay is None or delay > self.MAX_RETRY_AFTER or attempt >= self.retries:
                            return err
                    elif err.code not in self.RETRY_STATUS or attempt >= self.retries:
                        return err  # an HTTPError is a response too (status, headers, read)
                    reason = f"{err.code} {err.reason}"
                    err.close()
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError,
                    socket.timeout, TimeoutError) as err:
                reason = getattr(err, "reason", None) or err
                if isinstance(reason, (socket.timeout, TimeoutError)) and method == "POST":
                    # the service got the request and is still at it (a long sync query):
                    # sending it again would only start the same work once more
                    raise HeraError(f"{self._short(url)}: no answer within {timeout or self.timeout:.0f} s "
                                    f"(for long queries use --async)")
                if attempt >= self.retries:
                    raise HeraError(f"cannot reach {self.origin}: {reason}")
            finally:
                if hasattr(data, "close"):
                    data.close()
            if delay is None:
                delay = min(self.backoff * 2 ** attempt, 30.0) * (0.75 + random.random() / 2)
            attempt += 1
            log.warning("%s %s: %s; retry %d/%d in %.1f s", method, self._short(url), reason,
                        attempt, self.retries, delay)
            time.sleep(delay)

    # -- conveniences -----------------------------------------------------------------
    def get_json(self, path: str, params: dict | None = None):
        response = self.request("GET", path, params=params, headers={"Accept": "application/json"})
        try:
            return response.json()
        except ValueError:
            raise HeraError(f"GET {path}: the service did not answer JSON")

    def download(self, path: str, dest, params: dict | None = None) -> int:
        """Stream a GET into ``dest`` (a path, written atomically, or a binary file);
        returns the number of bytes. When the connection breaks mid-way and the service
        takes byte ranges (``Accept-Ranges: bytes``, as the workspace does), the rest is
        asked for with ``Range`` and ``If-Range`` (the same file version), with backoff."""
        if hasattr(dest, "write"):
            return self._fetch(path, dest, params)
        dest = os.fspath(dest)
        tmp = f"{dest}.hera-part"
        try:
            with open(tmp, "wb") as f:
                n = self._fetch(path, f, params)
            os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return n

    def _fetch(self, path: str, f, params) -> int:
        response = self.request("GET", path, params=params)
        ranges = response.headers.get("Accept-Ranges") == "bytes" and response.headers.get("ETag")
        n, attempt = 0, 0
        while True:
            try:
                for chunk in response.iter_content():
                    f.write(chunk)
                    n += len(chunk)
                return n
            except BrokenBody as err:
                if not ranges or attempt >= self.retries:
                    raise
                attempt += 1
                delay = min(self.backoff * 2 ** attempt, 30.0)
                log.warning("%s; resuming at byte %d in %.1f s (%d/%d)", err, n, delay, attempt, self.retries)
                time.sleep(delay)
                response = self.request("GET", path, params=params, ok=(200, 206),
                                        headers={"Range": f"bytes={n}-", "If-Range": ranges})
                if response.status == 200:  # the file changed meanwhile: the whole new version came
                    if not (hasattr(f, "seekable") and f.seekable()):
                        response.close()
                        raise HeraError(f"{self._short(response.url)} changed while it was being downloaded")
                    f.seek(0)
                    f.truncate()
                    n = 0
