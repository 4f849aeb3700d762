"""The workspace pages: a folder's files (size, date, checksum) with upload, rename and
delete, the quota, and previews of FITS headers and rows and of PNG products.

Listing and previews are rendered here from the workspace core; uploads, renames and
deletions are done by the page's script through the ``/workspace/`` REST interface."""
from __future__ import annotations

from flask import abort, current_app, redirect, render_template, url_for

from accounts import auth
from workspace import Workspace, WorkspaceError
from . import fitspreview
from .blueprint import bp

#: files larger than this are uploaded in pieces of this size, which survive a broken connection
UPLOAD_PIECE = 16 * 1024 * 1024
IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".svg")
FITS_TYPES = (".fits", ".fit", ".fts", ".fits.gz", ".evt", ".pha", ".rmf", ".arf", ".lc")


def preview_kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith(IMAGE_TYPES):
        return "image"
    if lower.endswith(FITS_TYPES):
        return "fits"
    return None


def _crumbs(path: str) -> list[tuple[str, str]]:
    """(label, folder path) of each folder from the root down to ``path``."""
    parts = [p for p in path.strip("/").split("/") if p]
    return [(p, "/".join(parts[:i + 1]) + "/") for i, p in enumerate(parts)]


def _workspace() -> Workspace | None:
    user = auth.current_user()
    return current_app.extensions["workspaces"].for_user(user.name) if user else None


@bp.get("/ui/workspace/", defaults={"path": ""})
@bp.get("/ui/workspace/<path:path>")
def workspace(path):
    ws = _workspace()
    if ws is None:
        return render_template("workspace.html", listing=None, path=path, crumbs=[])
    if path and not path.endswith("/") and ws.exists(path) and not ws.is_folder(path):
        return redirect(url_for("web.preview", path=path))  # a file: show it
    try:
        listing = ws.list(path)
    except WorkspaceError as err:
        abort(err.status, err.message)
    for entry in listing["entries"]:
        entry["preview"] = preview_kind(entry["name"]) if entry["type"] == "file" else None
    return render_template("workspace.html", listing=listing, path=listing["path"],
                           crumbs=_crumbs(listing["path"]), upload_piece=UPLOAD_PIECE)


@bp.get("/ui/preview/<path:path>")
def preview(path):
    ws = _workspace()
    if ws is None:
        return render_template("preview.html", path=path, hdus=None, kind=None, error=None,
                               crumbs=_crumbs(path.rpartition("/")[0]))
    try:
        entry = ws.entry(path)
        local = ws.local_path(path)
    except WorkspaceError as err:
        abort(err.status, err.message)
    kind, hdus, error = preview_kind(entry["name"]), None, None
    if kind != "image":
        try:
            hdus = fitspreview.preview(local, limit=int(current_app.config["HERA_FITS_DECOMPRESSED_MAX"]))
            kind = "fits"
        except (ValueError, OSError) as err:
            error = str(err)
    return render_template("preview.html", path=entry["path"], entry=entry, kind=kind, hdus=hdus,
                           error=error, crumbs=_crumbs(entry["path"].rpartition("/")[0]))
