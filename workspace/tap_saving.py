"""Save to Hera from TAP: ``DEST=`` on ``/tap/sync`` and ``/tap/async``, and the per-user
saving TAP endpoint ``/users/{name}/tap``.

- ``DEST=path`` (a workspace path; ``workspace/`` or ``/workspace/`` in front is
  accepted) on a sync query writes the result into the signed-in user's workspace and
  answers ``303 See Other`` to the stored file, so a client that follows redirects
  (pyvo, astroquery, a browser) still gets its table. On an async query the finished job's
  result is also written to ``DEST`` by the job itself.
- ``/users/{name}/tap`` is the same TAP service — ``tap_catalog.http``'s blueprint,
  registered a second time — whose every sync and async result is also kept in the
  user's workspace, in ``tap/`` (``tap/{UTC time}-{sync|job id}.{extension}``); sync
  results stream to the client while they are written. Only ``name`` reaches it (others
  get 404); anonymous requests are challenged (401), so TOPCAT asks for the password.

Both are a result sink of TAP (:class:`WorkspaceSink`, registered by :func:`init_app`):
TAP hands it every sync result and every async job, which runs TAP's own executor; the
sink refuses a bad ``DEST`` before an async query runs, and copies the finished result.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from urllib.parse import quote

from flask import Response, current_app, g, jsonify, request

from accounts import auth
from tap_catalog import http as tap_http
from tap_catalog.formats import Renderer
from tap_catalog.query import TapError
from tap_catalog.sinks import ResultSinks
from uws import JobList
from uws.binding import mount

from .store import Workspace, WorkspaceError, Workspaces

log = logging.getLogger(__name__)

#: the folder of the saving endpoint's results
SAVED_FOLDER = "tap"
SAVING_PREFIX = "/users/<user>/tap"
_SAVING_BLUEPRINTS = ("tap_saving", "tap_saving_async")
#: the saving endpoint's async job list, whose every result is kept
SAVING_JOBLIST = "tap-saving"


def dest_path(value: str) -> str:
    """The workspace path that a DEST value names (``workspace/`` in front is optional)."""
    value = value.strip()
    for prefix in ("/workspace/", "workspace/"):
        if value.startswith(prefix):
            value = value[len(prefix):]
            break
    if not value or value.endswith("/"):
        raise WorkspaceError(400, f"DEST must name a file in the workspace, not {value!r}")
    return Workspace.key(value)


def _dest_value(values) -> str | None:
    for name, value in values.items():
        if name.lower() == "dest" and value.strip():
            return value
    return None


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def _workspace_url(key: str) -> str:
    base = (current_app.config.get("HERA_BASE_URL") or request.host_url).rstrip("/")
    return f"{base}/workspace/{quote(key)}"


class WorkspaceSink:
    """TAP's results into the users' ``workspaces``: at ``DEST=``, and every result of
    the saving endpoint."""

    def __init__(self, workspaces: Workspaces):
        self.workspaces = workspaces

    # -- sync ---------------------------------------------------------------------------------
    def sync_result(self, response: Response, renderer: Renderer, user) -> Response:
        """The answer to a sync query whose streaming ``response`` is ready: unchanged, or,
        with ``DEST=``, written to the workspace and a 303 to it, or, on the saving
        endpoint, streamed to the client and kept in the workspace at the same time."""
        dest = _dest_value(request.values)
        saving = g.get("saving_user")
        if dest is None and saving is None:
            return response
        if user is None:
            raise TapError("DEST= writes into your workspace: sign in (HTTP Basic or a Bearer token)", 401)
        if dest is not None and request.method == "GET":
            # a GET must change nothing: a link on another page could otherwise write here
            raise TapError("DEST= writes into your workspace, so it needs POST, not GET", 405)
        ws = self.workspaces.for_user(user.name)
        if dest is not None:
            try:
                key = dest_path(dest)
                entry = ws.write(key, response.response)
            except WorkspaceError as err:
                raise TapError(f"the result could not be saved to {dest}: {err.message}", err.status)
            answer = jsonify(entry)
            answer.status_code = 303
            answer.headers["Location"] = _workspace_url(key)
            return answer
        key = f"{SAVED_FOLDER}/{_stamp()}-sync.{renderer.extension}"
        try:
            quota = ws.quota()
            if quota["bytes_used"] >= quota["bytes_max"]:
                raise WorkspaceError(507, f"the workspace is full ({quota['bytes_used']} of {quota['bytes_max']} bytes)")
            writer = ws.writer(key)
        except WorkspaceError as err:
            log.warning("saving endpoint of %s: result not kept: %s", user.name, err.message)
            response.headers["Warning"] = f'299 hera "this result is not kept in your workspace: {err.message}"'
            return response
        response.response = _tee(response.response, writer, user.name)
        response.headers["Content-Location"] = _workspace_url(key)
        return response

    # -- async --------------------------------------------------------------------------------
    def check_job(self, job) -> None:
        """A ``DEST=`` on ``/tap/async`` is refused before the query runs (the saving
        endpoint keeps its result in any case, and says why not after the query)."""
        dest = _dest_value(job.parameters)
        if dest is None or job.joblist == SAVING_JOBLIST:
            return
        if job.owner is None:
            raise RuntimeError("DEST= writes into your workspace: sign in (HTTP Basic or a Bearer token)")
        try:
            dest_path(dest)
        except WorkspaceError as err:
            raise RuntimeError(err.message) from None

    def job_result(self, job, renderer: Renderer) -> None:
        """The finished job's result copied to ``DEST``, or, on the saving endpoint, into
        ``tap/`` when no ``DEST`` is given."""
        dest = _dest_value(job.parameters)
        if job.joblist == SAVING_JOBLIST:
            key = dest_path(dest) if dest else f"{SAVED_FOLDER}/{_stamp()}-{job.id}.{renderer.extension}"
        elif dest is not None:
            key = dest_path(dest)
        else:
            return
        if job.owner is None:
            raise RuntimeError("DEST= writes into a workspace: sign in to use it")
        ws = self.workspaces.for_user(job.owner)
        result = next(r for r in job.results if r.id == "result")
        try:
            ws.store(key, job.directory / result.path, move=False)
        except WorkspaceError as err:
            raise RuntimeError(f"the result could not be saved to {key}: {err.message}") from None


def _tee(chunks, writer, owner: str):
    """Yield ``chunks`` to the client while writing them to ``writer``; a failure to keep
    them (a full quota) does not break the client's result."""
    keeping = True
    try:
        for chunk in chunks:
            if keeping:
                try:
                    writer.write(chunk)
                except WorkspaceError as err:
                    log.warning("saving endpoint of %s: result not kept: %s", owner, err.message)
                    writer.abort()
                    keeping = False
            yield chunk
        if keeping:
            try:
                writer.finish()
            except WorkspaceError as err:  # the client has its result already
                log.warning("saving endpoint of %s: result not kept: %s", owner, err.message)
    finally:
        if not writer.done:
            writer.abort()  # the client went away, or the query failed: keep nothing
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


# -- the saving endpoint ------------------------------------------------------------------------
def _pop_user(endpoint, values):
    if endpoint and endpoint.split(".", 1)[0] in _SAVING_BLUEPRINTS and values is not None:
        g.saving_user = values.pop("user", None)
        g.tap_path = f"/users/{g.saving_user}/tap"


def _add_user(endpoint, values):
    if endpoint and endpoint.split(".", 1)[0] in _SAVING_BLUEPRINTS and "user" not in values:
        values["user"] = g.get("saving_user")


def _only_its_user():
    name = g.get("saving_user")
    if name is None:
        return None
    user = auth.current_user()
    if user is None:
        raise auth.AuthError(f"this is {name}'s saving TAP endpoint: sign in as {name}")
    if user.name != name:
        return Response("no such resource\n", status=404, mimetype="text/plain")
    return None


def init_app(app, workspaces: Workspaces, result_sinks: ResultSinks) -> None:
    """Keep TAP's results in ``workspaces`` (a sink in TAP's ``result_sinks``), and serve the saving endpoint: TAP's
    blueprint again, under ``/users/{name}/tap``, with an async job list of its own."""
    result_sinks.register("workspace", WorkspaceSink(workspaces))
    app.url_value_preprocessor(_pop_user)
    app.url_defaults(_add_user)
    app.before_request(_only_its_user)
    app.register_blueprint(tap_http.bp, url_prefix=SAVING_PREFIX, name="tap_saving")
    mount(app, JobList(SAVING_JOBLIST, tap_http.EXECUTOR,
                       title="TAP asynchronous queries kept in the workspace", case_insensitive=True,
                       error_document=tap_http.error_document),
          SAVING_PREFIX + "/async", name="tap_saving_async")
