"""The one checked fetcher: every URL the service fetches on a user's behalf (TAP UPLOAD
by URL, workspace import, VOSpace pullToVoSpace, and the importers to come) is read,
resolved, checked and connected to here, under one policy (docs/fetching.md).

A low-level package: it uses only ``requests``/urllib3 and the standard library, so that
any other package may import it.
"""
from .errors import FetchError, FetchRefused, FetchTooLarge
from .policy import FetchPolicy
from .session import Download, checked_session, download

__all__ = ["Download", "FetchError", "FetchPolicy", "FetchRefused", "FetchTooLarge",
           "checked_session", "download"]
