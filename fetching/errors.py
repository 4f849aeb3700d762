"""What a checked fetch raises. Each error carries the HTTP status that a service
passing it on to its client should use.

They are ``requests`` exceptions, so that a library given the checked session (pyvo)
reports a refused hop as it reports any failed request.
"""
from __future__ import annotations

import requests


class FetchError(requests.RequestException):
    """The remote side failed: no such host, no connection, an HTTP error, too many
    redirects (502: the service's gateway to it failed)."""
    status = 502

    def __init__(self, message: str, status: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


class FetchRefused(FetchError):
    """The fetch policy refuses the URL: 400 when the URL itself is malformed or
    ambiguous, 403 when it leads to an address or host the service may not reach."""
    status = 403


class FetchTooLarge(FetchError):
    """The body is (or announces to be) larger than the caller's limit."""
    status = 413
