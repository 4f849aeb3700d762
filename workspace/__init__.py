"""Per-user workspaces: storage behind one interface, quotas, checksums, REST and VOSpace 2.1.

Python use (tool executors, the TAP "save" hooks), with the ``Workspaces`` that the
composition root built from the configuration (``services.workspaces``)::

    ws = services.workspaces.for_user("alice")
    ws.store("out/lc.fits", "/tmp/lc.fits")        # quota-checked, checksum kept
    ws.local_path("data/rate.fits")                # an existing file, inside the workspace

May import tap_catalog (whose result sinks it fills), uws, accounts and below; never
tools_registry or vo_service.
"""
from .records import create_tables
from .store import Workspace, WorkspaceError, Workspaces

__all__ = ["Workspace", "WorkspaceError", "Workspaces", "create_tables", "init_app"]


def init_app(app, workspaces: Workspaces, result_sinks) -> None:
    """Serve ``workspaces`` (at ``app.extensions["workspaces"]`` for the request handlers):
    the REST API under ``/workspace/``, VOSpace 2.1 under ``/vospace`` and the saving TAP
    endpoint under ``/users/{name}/tap``; and keep TAP's results where asked (a sink in
    TAP's ``result_sinks``, a :class:`tap_catalog.sinks.ResultSinks`: ``DEST=``, the
    saving endpoint)."""
    # lazy: the HTTP layers (and TAP's) are not for `hera samp`, which imports workspace.samp
    from . import http, tap_saving, vospace
    app.extensions["workspaces"] = workspaces
    http.init_app(app)
    vospace.init_app(app)
    tap_saving.init_app(app, workspaces, result_sinks)
