"""Import by URL: the service fetches a remote URL straight into a workspace, streamed.

The fetch goes through the service's one checked fetcher (:mod:`fetching`, policy in
docs/fetching.md): the URL is read once, every address of its host is checked, the
connection goes to the checked address, and each redirect is checked again. On top of
that policy, an import reaches only the archive hosts the operator lists
(``HERA_WORKSPACE_IMPORT_HOSTS``: exact names, or ``.example.org`` for a domain), on every
hop, and the body is capped by ``HERA_WORKSPACE_IMPORT_MAX_BYTES`` and the user's quota:
an announced ``Content-Length`` beyond the cap is refused before a byte is read, and a
stream that grows beyond it is cut off.

The bytes are stored as they arrive and never parsed, so a hostile VOTable or XML
document cannot expand entities or read local files here.
"""
from __future__ import annotations

from fetching import FetchError, FetchPolicy, download

from .store import CHUNK, Workspace, WorkspaceError


def import_policy(config) -> FetchPolicy:
    """The fetch policy of imports: the service's, kept to the listed archive hosts."""
    return FetchPolicy.from_config(config).restricted_to(config.get("HERA_WORKSPACE_IMPORT_HOSTS"),
                                                         "HERA_WORKSPACE_IMPORT_HOSTS")


def import_url(ws: Workspace, path: str, url: str, config) -> dict:
    """Fetch ``url`` into ``path`` of ``ws``; returns the file's entry."""
    ws.key(path)
    cap = int(config.get("HERA_WORKSPACE_IMPORT_MAX_BYTES") or 0) or None
    try:
        fetched = download(url, import_policy(config), headers={"User-Agent": "Hera-workspace-import"})
    except FetchError as err:
        raise WorkspaceError(err.status, err.message) from None
    with fetched:
        def body():
            try:
                yield from fetched.chunks(CHUNK)
            except FetchError as err:
                raise WorkspaceError(err.status, err.message) from None

        try:
            return ws.write(path, body(), size=fetched.length, max_bytes=cap)
        except WorkspaceError as err:
            if err.status == 400:  # the remote side sent other than it announced
                raise WorkspaceError(502, f"{url}: {err.message}")
            raise
