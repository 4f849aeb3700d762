"""Multipart boundaries that clients send unquoted although they must be quoted.

A multipart boundary may hold characters that are not HTTP token characters ("=", "/",
":", "?", "(", ")", ",", "+", "'", a space: RFC 2046 §5.1.1), and then it must be quoted
in the Content-Type header (RFC 2045 §5.1). Python's email package, and with it
astroquery's ``TapPlus.launch_job(..., upload_resource=...)``, sends
``boundary====1700000000===`` unquoted; werkzeug's header parser skips that parameter,
finds no boundary, and the request looks empty ("LANG is missing"). This middleware
quotes such a boundary once, before anything reads the header: everything after
``boundary=`` up to the next ``;`` (a character no boundary holds) is the boundary, as
those clients mean it. Well-formed headers pass unchanged.
"""
from __future__ import annotations

import re

#: an unquoted boundary parameter and its value, up to the next ';' or the end
_UNQUOTED = re.compile(r'(;\s*boundary\s*=\s*)([^";\s][^;]*?)\s*(?=;|$)', re.IGNORECASE)
#: what werkzeug reads as an unquoted parameter value (an RFC 9110 token)
_TOKEN = re.compile(r"[\w!#$%&'*+\-.^`|~]+", re.ASCII)


def quote_boundary(content_type: str) -> str:
    """``content_type`` with its boundary quoted where it is not a token."""
    match = _UNQUOTED.search(content_type)
    if match is None or _TOKEN.fullmatch(match.group(2)) or "\\" in match.group(2):
        return content_type
    return content_type[:match.start()] + f'; boundary="{match.group(2)}"' + content_type[match.end():]


class QuotedBoundary:
    """WSGI middleware: multipart requests reach the application with a boundary that
    its parser reads."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        content_type = environ.get("CONTENT_TYPE", "")
        if content_type[:10].lower() == "multipart/":
            environ["CONTENT_TYPE"] = quote_boundary(content_type)
        return self.app(environ, start_response)
