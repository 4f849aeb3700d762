"""Per-user workspaces: storage behind one interface, quotas, checksums, REST and VOSpace 2.1.

Python use (tool executors, the TAP "save" hooks)::

    from workspace import Workspace, WorkspaceError
    ws = Workspace.for_user(current_app, "alice")
    ws.store("out/lc.fits", "/tmp/lc.fits")        # quota-checked, checksum kept
    ws.local_path("data/rate.fits")                # an existing file, inside the workspace
"""
from .records import create_tables
from .store import Workspace, WorkspaceError

__all__ = ["Workspace", "WorkspaceError", "create_tables", "init_app"]


def init_app(app) -> None:
    """Serve the REST API under ``/workspace/``, VOSpace 2.1 under ``/vospace`` and the
    saving TAP endpoint under ``/users/{name}/tap``."""
    from . import http, tap_saving, vospace
    http.init_app(app)
    vospace.init_app(app)
    tap_saving.init_app(app)
