"""A URL read once, and refused when it could be read two ways.

The classic trick is ``http://127.0.0.1:8080\\@archive.example.org/``: Python's
``urlsplit`` reads the host after the ``@`` (archive.example.org), while urllib3, which
``requests`` uses, ends the host at the backslash as browsers do and connects to
127.0.0.1. So a URL is refused when it holds a backslash, white space, a control
character or user information, when its host is a number that some parsers read as an
IPv4 address (``2130706433``, ``0177.0.0.1``, ``0x7f.1``), and whenever ``urlsplit`` and
urllib3 do not agree on its scheme, host and port.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3.util

from .errors import FetchRefused

SCHEMES = {"http": 80, "https": 443}
_FORBIDDEN_CHARACTER = re.compile(r"[\x00-\x20\x7f\\]")
#: a label that WHATWG URL parsing (and inet_aton) reads as a number: decimal, 0x hex, 0 octal
_NUMERIC_LABEL = re.compile(r"^(0[xX][0-9A-Fa-f]*|[0-9]+)$")


@dataclass(frozen=True)
class Target:
    """Where a URL leads: its scheme, host (lower case, without brackets) and port."""
    scheme: str
    host: str
    port: int


def parse(url: str) -> Target:
    """The scheme, host and port of ``url``; FetchRefused (400) when it is not a plain
    http(s) URL that every parser reads the same way."""
    if not isinstance(url, str) or not url:
        raise FetchRefused("no URL given", 400)
    refuse_ambiguous_characters(url)
    if not url.isascii():
        raise FetchRefused(f"refused URL {url!r}: write it in ASCII (percent-encoded path, "
                           "punycode host)", 400)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise FetchRefused(f"refused URL {url!r}: only http and https URLs are fetched", 400)
    if "@" in parts.netloc:
        raise FetchRefused(f"refused URL {url!r}: a user name or password in the URL is not "
                           "accepted", 400)
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchRefused(f"refused URL {url!r}: it names no host", 400)
    try:
        port = parts.port or SCHEMES[scheme]
        theirs = urllib3.util.parse_url(url)
    except ValueError as err:  # a port that is no number or out of range, a malformed host
        raise FetchRefused(f"refused URL {url!r}: {err}", 400) from None
    their_host = (theirs.host or "").lower().strip("[]")
    if ((theirs.scheme or "").lower(), their_host, theirs.port or SCHEMES[scheme]) != (scheme, host, port) \
            or theirs.auth:
        raise FetchRefused(f"refused URL {url!r}: it can be read as leading to more than one host", 400)
    _check_numeric_host(url, host)
    return Target(scheme, host, port)


def refuse_ambiguous_characters(url: str, what: str = "URL") -> None:
    """FetchRefused (400) when ``url`` holds a backslash, white space or a control
    character, which parsers drop, keep or treat as a slash, each in its own way."""
    bad = _FORBIDDEN_CHARACTER.search(url)
    if bad:
        holds = "a backslash" if bad.group() == "\\" else "white space or a control character"
        raise FetchRefused(f"refused {what} {url!r}: it holds {holds} (percent-encode it)", 400)


def _check_numeric_host(url: str, host: str) -> None:
    """A host whose last label is a number is an IPv4 address to browsers and to
    ``inet_aton``, in any of several spellings: only dotted decimal is accepted."""
    if ":" in host:  # an IPv6 literal, already parsed by both
        return
    if _NUMERIC_LABEL.match(host.rstrip(".").rsplit(".", 1)[-1]):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise FetchRefused(f"refused URL {url!r}: write an IPv4 address in dotted decimal "
                               "(as 192.0.2.1), not in decimal, octal or hexadecimal", 400) from None
