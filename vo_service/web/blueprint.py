"""The web blueprint and what every page shares: who is signed in, the CSRF token,
links to the service's interfaces, and a reader of the service's own JSON documents."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from flask import Blueprint, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.test import Client

from accounts import auth

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ui/static")

#: the navigation bar: (endpoint, label, the endpoints of the pages it stands for)
NAVIGATION = (("web.select", "Select data", {"web.select"}),
              ("web.workspace", "Workspace", {"web.workspace", "web.preview"}),
              ("web.tools", "Tools", {"web.tools", "web.tool"}),
              ("web.jobs", "Jobs", {"web.jobs", "web.job"}))


def service_url(path: str = "") -> str:
    """Absolute URL of a path of the service (what TOPCAT or a SAMP hub must be given)."""
    base = current_app.config.get("HERA_BASE_URL") or request.host_url
    return base.rstrip("/") + path


def service_json(path: str):
    """A public JSON document of the service (``/tools?format=json``, a tool's descriptor)
    read through the application itself, without a network round trip; None when the
    service does not answer it with 200 (for instance while a part is not installed)."""
    app = current_app._get_current_object()
    # asked at the page's own address (the test client's default is http://localhost/):
    # the documents carry absolute URLs of the service
    base_url = request.url_root
    # a fresh application context: the inner request must not share (and reset) the
    # page's g, where the signed-in user is
    with app.app_context():
        response = Client(app).get(path, base_url=base_url, headers={"Accept": "application/json"})
    try:
        if response.status_code != 200:
            return None
        return json.loads(response.get_data())
    except ValueError:
        return None
    finally:
        response.close()


@bp.app_template_filter("when")
def when(value) -> str:
    """A timestamp as the pages show it: UTC, to the second."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(timezone.utc) if value.tzinfo else value
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


@bp.app_template_filter("bytes")
def human_bytes(size) -> str:
    if size is None:
        return ""
    size = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000


@bp.app_context_processor
def page_context():
    return {
        "user": auth.current_user(),
        "session_ended": g.get("session_ended", False),
        "csrf_token": auth.csrf_token,
        "navigation": NAVIGATION,
        "tap_url": service_url("/tap"),
    }


#: the pages load nothing from elsewhere, run no inline script and cannot be framed; the
#: one other origin they talk to is a SAMP Web Profile hub on the user's own computer
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data: blob:; connect-src 'self' http://localhost:21012; "
                           "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")


@bp.after_request
def page_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@bp.errorhandler(HTTPException)
def page_error(err: HTTPException):
    """Errors of the pages are pages too (the service's interfaces answer in plain text)."""

    # the exception's own headers stay (Retry-After of a 429, Allow of a 405)
    headers = [(k, v) for k, v in err.get_headers() if k.lower() != "content-type"]
    return render_template("error.html", error=err), err.code, headers
