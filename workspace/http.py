"""The workspace REST API under ``/workspace/``: a thin layer over :class:`Workspace`.

- ``GET /workspace/{path}``: a file, streamed, with ``ETag`` (its SHA-256), ``Range``
  (one range; ``If-Range``), ``If-None-Match``; a folder (trailing ``/`` or a folder
  path) is listed, as JSON when ``?format=json`` or ``Accept: application/json``, else HTML.
- ``PUT /workspace/{path}``: the body, streamed to disk; 201 new, 200 replaced. With
  ``Content-Range: bytes START-END/TOTAL`` it is one piece of a resumable upload (202
  until the last piece); ``Content-Range: bytes */TOTAL`` with an empty body asks how
  much has arrived (``Upload-Offset``).
- ``DELETE /workspace/{path}`` → 204. ``POST /workspace/{path}``: ``action=mkdir``,
  ``action=move&to=…``, ``action=save&job=…`` (a UWS job's result, server-side),
  ``action=import&url=…`` (a remote URL, server-side).

Every answer about a signed-in user's workspace carries ``Hera-Quota``; one near the
quota also carries ``Warning: 299 hera "…"``. Errors are ``{"error": "…"}``.
"""
from __future__ import annotations

import base64
import posixpath
import re
from email.utils import formatdate

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from werkzeug.routing import PathConverter

from accounts import auth

from . import importing, saving
from .store import CHUNK, Workspace, WorkspaceError

bp = Blueprint("workspace", __name__, template_folder="templates")


class AnyPath(PathConverter):
    """A path as the URL carries it, leading and doubled slashes included: werkzeug's
    ``path`` would refuse a leading ``/``, and its routing would answer ``//`` with a
    308 to a merged path, a different file than the one asked for. The workspace
    refuses such paths itself, with a 400 that says why."""
    regex = ".+?"
    part_isolating = False  # may span several parts (werkzeug guesses from "/" in regex)


def route(rule: str, **options):
    """``bp.route`` for a workspace path: ``{path}`` is an :class:`AnyPath`, slashes unmerged."""
    return bp.route(rule.replace("{path}", "<workspace_path:path>"), merge_slashes=False, **options)


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CONTENT_RANGE = re.compile(r"^bytes (?:(\d+)-(\d+)|\*)/(\d+)$")
#: refused in the raw request target: separators and NULs smuggled in percent-encoded
_ENCODED = re.compile(r"%(2f|5c|00)", re.IGNORECASE)


def error(status: int, message: str, **headers) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.errorhandler(WorkspaceError)
def workspace_error(err: WorkspaceError):
    return error(err.status, err.message)


@bp.errorhandler(auth.AuthError)
def auth_error(err: auth.AuthError):
    return error(401, str(err), **auth.challenge_headers())


def workspace() -> Workspace:
    user = auth.current_user()
    if user is None:
        raise auth.AuthError("the workspace needs signing in (HTTP Basic with your user name and token, or a Bearer token)")
    return current_app.extensions["workspaces"].for_user(user.name)


def checked_path(path: str) -> str:
    """``path`` as the URL carried it; percent-encoded separators or NULs are refused,
    so that ``a%2F..%2Fb`` cannot pass as one name."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    if _ENCODED.search(raw.split("?", 1)[0]):
        raise WorkspaceError(400, "refused: percent-encoded '/', '\\' or NUL in a workspace path")
    if path.startswith("/"):
        raise WorkspaceError(400, f"refused: /workspace/{path} has an empty part (a doubled '/')")
    return path


def quota_headers(ws: Workspace, response: Response, quota: dict | None = None) -> Response:
    q = quota or ws.quota()
    response.headers["Hera-Quota"] = (f"bytes_used={q['bytes_used']}; bytes_max={q['bytes_max']}; "
                                      f"files_used={q['files_used']}; files_max={q['files_max']}")
    warning = ws.quota_warning(q)
    if warning:
        response.headers["Warning"] = f'299 hera "{warning}"'
    return response


def wants_json() -> bool:
    """JSON for ``?format=json``, or when the client prefers JSON to HTML."""
    if request.args.get("format") == "json":
        return True
    accept = request.accept_mimetypes
    return accept["application/json"] > accept["text/html"]


def entry_response(ws: Workspace, entry: dict, status: int = 200) -> Response:
    response = jsonify(entry)
    response.status_code = status
    if entry.get("sha256"):
        response.headers["ETag"] = f'"{entry["sha256"]}"'
    return quota_headers(ws, response)


# -- reading --------------------------------------------------------------------------------
@route("/", defaults={"path": ""}, methods=["GET", "HEAD"])
@route("/{path}", methods=["GET", "HEAD"])
def get(path):
    ws = workspace()
    path = checked_path(path)
    st = ws.stat(path)
    if path == "" or path.endswith("/") or (st is not None and st.type == "folder"):
        listing = ws.list(path)
        if wants_json():
            response = jsonify(listing)
        else:
            response = Response(render_template("workspace/listing.html", listing=listing,
                                                user=ws.owner), mimetype="text/html")
        return quota_headers(ws, response, listing["quota"])
    if st is None:
        raise WorkspaceError(404, f"no such file or folder: {ws.key(path)}")
    return send(ws, path, st)


def _byte_range(size: int) -> tuple[int, int] | None:
    """The one range asked for, as (first, last); None for the whole file; 416 when
    unsatisfiable. Several ranges are answered with the whole file (allowed by RFC 9110)."""
    header = request.headers.get("Range")
    if not header:
        return None
    if_range = request.headers.get("If-Range")
    if if_range and if_range.strip('"') != request.environ["hera.etag"]:
        return None
    m = _RANGE.match(header.replace(" ", ""))
    if not m or m.group(1) == m.group(2) == "":
        return None
    if m.group(1) == "":
        n = int(m.group(2))
        if n == 0:
            raise _Unsatisfiable(size)
        return max(size - n, 0), size - 1
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else size - 1
    if first >= size or last < first:
        raise _Unsatisfiable(size)
    return first, min(last, size - 1)


class _Unsatisfiable(Exception):
    def __init__(self, size: int):
        self.size = size


@bp.errorhandler(_Unsatisfiable)
def unsatisfiable(err: _Unsatisfiable):
    return error(416, "the range asked for is not in the file", **{"Content-Range": f"bytes */{err.size}"})


def send(ws: Workspace, path: str, st) -> Response:
    size = st.size
    digest = ws.checksum(path)
    etag = f'"{digest}"'
    request.environ["hera.etag"] = digest
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Repr-Digest": "sha-256=:" + base64.b64encode(bytes.fromhex(digest)).decode() + ":",
        "Last-Modified": _http_date(st.mtime_ns),
    }
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return Response(status=304, headers=headers)
    span = _byte_range(size)
    first, last = span if span else (0, size - 1)
    status = 206 if span else 200
    if span:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(last - first + 1 if size else 0)
    mimetype = _media_type(path)
    if request.method == "HEAD":
        return Response(status=status, headers=headers, mimetype=mimetype)
    f = ws.open(path)
    f.seek(first)

    # chunks of CHUNK bytes; not wsgi.file_wrapper: under gunicorn's gevent workers its
    # "sendfile" is a loop of 8 KiB sends, slower than this (bench/bench_workspace.py)
    def body():
        with f:
            left = last - first + 1
            while left > 0:
                chunk = f.read(min(CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk

    return Response(body(), status=status, headers=headers, mimetype=mimetype, direct_passthrough=True)


def _http_date(mtime_ns: int) -> str:
    return formatdate(mtime_ns / 1e9, usegmt=True)


_MEDIA_TYPES = {".fits": "application/fits", ".fit": "application/fits", ".fts": "application/fits",
                ".vot": "application/x-votable+xml", ".votable": "application/x-votable+xml",
                ".xml": "application/xml", ".csv": "text/csv", ".tsv": "text/tab-separated-values",
                ".json": "application/json", ".txt": "text/plain", ".png": "image/png",
                ".jpg": "image/jpeg", ".pdf": "application/pdf", ".gz": "application/gzip"}


def _media_type(path: str) -> str:
    return _MEDIA_TYPES.get(posixpath.splitext(path.lower())[1], "application/octet-stream")


# -- writing --------------------------------------------------------------------------------
@route("/{path}", methods=["PUT"])
def put(path):
    ws = workspace()
    path = checked_path(path)
    # the quota, not the job-creation cap, limits uploads (None would mean "the app's cap")
    request.max_content_length = 1 << 62
    content_range = request.headers.get("Content-Range")
    if content_range:
        return put_range(ws, path, content_range)
    size = request.content_length
    # gunicorn marks every body as terminated, chunked or not: the header is what tells
    if size is None and "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        raise WorkspaceError(411, "a PUT needs a Content-Length (or chunked transfer encoding)")
    existed = ws.exists(path)
    entry = ws.write(path, request.stream if size is None else _Body(request.environ["wsgi.input"], size), size=size)
    response = entry_response(ws, entry, 200 if existed else 201)
    if not existed:
        response.headers["Location"] = request.base_url
    return response


class _Body:
    """The first ``size`` bytes of ``wsgi.input``, read without werkzeug's LimitedStream
    (one copy less per chunk: uploads about 15% faster under gunicorn). Never reads past
    ``size``, so a keep-alive connection's next request stays unread."""

    def __init__(self, stream, size: int):
        self.stream, self.left = stream, size

    def read(self, n: int) -> bytes:
        if self.left <= 0:
            return b""
        data = self.stream.read(min(n, self.left))
        self.left -= len(data)
        return data


def put_range(ws: Workspace, path: str, header: str) -> Response:
    m = _CONTENT_RANGE.match(header.strip())
    if not m:
        raise WorkspaceError(400, "Content-Range must read 'bytes START-END/TOTAL' or 'bytes */TOTAL'")
    total = int(m.group(3))
    if m.group(1) is None:  # a question: how far has the upload come?
        offset = ws.upload_offset(path, total)
        return _progress(ws, offset, total)
    start, end = int(m.group(1)), int(m.group(2))
    if end < start or end >= total:
        raise WorkspaceError(400, f"Content-Range {header!r} is not inside the {total} bytes announced")
    if request.content_length is not None and request.content_length != end - start + 1:
        raise WorkspaceError(400, "Content-Length and Content-Range disagree")
    try:
        offset, entry = ws.write_range(path, request.stream, start, end, total)
    except WorkspaceError as err:
        if err.status == 409:
            response = error(409, err.message)
            response.headers["Upload-Offset"] = str(ws.upload_offset(path, total))
            return response
        raise
    if entry is None:
        return _progress(ws, offset, total)
    response = entry_response(ws, entry, 201)
    response.headers["Upload-Offset"] = str(total)
    return response


def _progress(ws: Workspace, offset: int, total: int) -> Response:
    response = jsonify(offset=offset, size=total)
    response.status_code = 202
    response.headers["Upload-Offset"] = str(offset)
    if offset:
        response.headers["Range"] = f"bytes=0-{offset - 1}"
    return quota_headers(ws, response)


@route("/{path}", methods=["DELETE"])
def delete(path):
    ws = workspace()
    ws.delete(checked_path(path))
    return quota_headers(ws, Response(status=204))


@route("/", defaults={"path": ""}, methods=["POST"])
@route("/{path}", methods=["POST"])
def post(path):
    ws = workspace()
    path = checked_path(path)
    action = request.form.get("action", "")
    if action == "mkdir":
        return entry_response(ws, ws.mkdir(path), 201)
    if action == "move":
        to = request.form.get("to")
        if not to:
            raise WorkspaceError(400, "action=move needs to=NEWPATH")
        return entry_response(ws, ws.move(path, to), 200)
    if action == "save":
        job = request.form.get("job")
        if not job:
            raise WorkspaceError(400, "action=save needs job=JOB_URL_OR_ID")
        existed = ws.exists(path)
        entry = saving.save_job_result(ws, current_app.extensions["uws"], path, job, request.form.get("result"))
        return entry_response(ws, entry, 200 if existed else 201)
    if action == "import":
        url = request.form.get("url")
        if not url:
            raise WorkspaceError(400, "action=import needs url=URL")
        existed = ws.exists(path)
        entry = importing.import_url(ws, path, url, current_app.config)
        return entry_response(ws, entry, 200 if existed else 201)
    raise WorkspaceError(400, f"unknown action {action!r}: use mkdir, move, save or import")


def init_app(app) -> None:
    app.url_map.converters["workspace_path"] = AnyPath
    app.register_blueprint(bp, url_prefix="/workspace")
