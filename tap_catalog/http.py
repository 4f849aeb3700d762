"""The TAP 1.1 service under ``/tap``: sync queries, the async job list (a mount of the
UWS binding), VOSI capabilities, availability and tables, and DALI examples.

Views only translate HTTP to calls of :mod:`.query`, :mod:`.vosi` and :mod:`.examples`
and back; a refused query is answered with the DALI error VOTable. Where a result goes
besides the client is up to the result sinks (:mod:`.sinks`) registered above TAP.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, Flask, Response, current_app, g, render_template, request, stream_with_context
from sqlalchemy import text
from werkzeug.exceptions import RequestEntityTooLarge

from accounts import auth
from uws import JobList
from uws.binding import mount, upload_name_problem

from . import formats, query, vosi
from .examples import examples_document

bp = Blueprint("tap", __name__, template_folder="templates")
#: the executor of TAP's async job lists (``/tap/async``, and those a higher layer mounts)
EXECUTOR = "tap_catalog.async_query:run"
XML_TYPE = "text/xml; charset=utf-8"
_VOTABLE = "application/x-votable+xml"


def _hera():
    return current_app.extensions["hera"]


def base_url() -> str:
    """The public URL of ``/tap`` (HERA_BASE_URL, else the request's host), or of the
    saving endpoint ``/users/{name}/tap`` that serves this blueprint too (``g.tap_path``)."""
    base = current_app.config.get("HERA_BASE_URL") or request.host_url
    return base.rstrip("/") + g.get("tap_path", "/tap")


def error_document(message: str) -> tuple[bytes, str]:
    """The DALI error VOTable, as (body, media type); also the async jobs' error resource."""
    return formats.error_document(message), _VOTABLE


def user_groups() -> frozenset[str] | None:
    """The groups of the requesting user (None when anonymous): the private science
    windows they may see."""
    user = auth.current_user()
    return None if user is None else frozenset(user.groups)


@bp.errorhandler(query.TapError)
def tap_error(err: query.TapError):
    body, media_type = error_document(err.message)
    return Response(body, status=err.status, content_type=media_type)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(err: RequestEntityTooLarge):
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    body, media_type = error_document(f"the request is larger than the limit of {limit} bytes")
    return Response(body, status=413, content_type=media_type)


@bp.get("")
def root():
    return render_template("tap_catalog/service.html", url=base_url())


def _inline_upload(name: str):
    storage = request.files.get(name)
    return storage.stream if storage is not None else None


def _check_upload_names():
    """The same rule for the names of multipart file parts as on /tap/async, where
    they become file names: a sync query is refused what an async one would be."""
    for field, storage in request.files.items(multi=True):
        problem = upload_name_problem(field, storage.filename)
        if problem:
            raise query.TapError(problem)


def _ended_cleanly(chunks):
    """The result's chunks; an error after the first rows has already been written into
    the document (QUERY_STATUS ERROR after the rows): the response then ends normally,
    so that the client reads that status instead of a broken connection."""
    try:
        yield from chunks
    except query.TapError as err:
        current_app.logger.info("a sync query failed after its first rows: %s", err.message)


@bp.route("/sync", methods=["GET", "POST"])
def sync():
    hera = _hera()
    limits = hera.tap_limits
    _check_upload_names()
    tap_request = query.parse_parameters(request.values.to_dict(), limits)
    uploads = query.read_uploads(tap_request, _inline_upload, limits)
    chunks = query.execute(hera.engine, hera.tableset, tap_request, uploads=uploads,
                           user_groups=user_groups(), timeout=limits.sync_timeout)
    response = Response(stream_with_context(_ended_cleanly(chunks)),
                        content_type=tap_request.renderer.media_type)
    # the sinks registered above TAP (DEST=, the saving endpoint) may keep the result
    return hera.result_sinks.sync_result(response, tap_request.renderer, auth.current_user())


@bp.get("/capabilities")
def capabilities():
    limits = _hera().tap_limits
    jobs = _hera().jobs.limits
    body = vosi.capabilities(base_url(), {
        "retention_default": jobs.destruction_default, "retention_hard": jobs.destruction_max,
        "execution_default": jobs.execution_duration_default,
        "execution_hard": jobs.execution_duration_max,
        "maxrec_default": limits.maxrec_default, "maxrec_hard": limits.maxrec_hard,
        "upload_hard": limits.upload_hard})
    return Response(body, content_type=XML_TYPE)


STARTED = datetime.now(timezone.utc)


@bp.get("/availability")
def availability():
    try:
        with _hera().engine.connect() as conn:
            conn.execute(text("SELECT COUNT(*) FROM tap_schema.tables")).scalar()
    except Exception as err:  # noqa: BLE001 - any database failure means "not available"
        body = vosi.availability(STARTED, f"the catalogue database does not answer: {err}", available=False)
    else:
        body = vosi.availability(STARTED, "the service is accepting queries")
    return Response(body, content_type=XML_TYPE)


def _for_tapplus() -> bool:
    """Is the client astroquery's TapPlus, which needs ESA's column flags? Its GETs go
    through http.client without a User-Agent (its POSTs say ``astroquery/…``)."""
    agent = request.headers.get("User-Agent")
    return agent is None or agent.startswith("astroquery/")


@bp.get("/tables")
def tables():
    detail = request.args.get("detail", "max")
    if request.args.get("only_tables", "").lower() == "true":  # ESA TAP+ spelling of detail=min
        detail = "min"
    if detail not in ("min", "max"):
        return Response(f"detail must be min or max, not {detail!r}\n", status=400, mimetype="text/plain")
    body = vosi.tableset_document(_hera().tableset, detail=detail, esa_flags=_for_tapplus())
    return Response(body, content_type=XML_TYPE)


@bp.get("/tables/<name>")
def table(name):
    found = _hera().tableset.get(name)
    if found is None:
        return Response(f"no table {name!r}; /tap/tables lists them\n", status=404, mimetype="text/plain")
    return Response(vosi.table_document(found, _hera().tableset, esa_flags=_for_tapplus()),
                    content_type=XML_TYPE)


@bp.get("/examples")
def examples():
    return Response(examples_document(base_url()), content_type="application/xhtml+xml; charset=utf-8")


def init_app(app: Flask) -> None:
    """Serve TAP under ``/tap`` and its async job list under ``/tap/async``."""
    app.register_blueprint(bp, url_prefix="/tap")
    mount(app, JobList("tap", EXECUTOR, title="TAP asynchronous queries",
                       case_insensitive=True, error_document=error_document), "/tap/async")
