"""Authentication: ``Authorization: Bearer TOKEN`` or HTTP Basic (user name, token).

HTTP Basic is what TOPCAT, STILTS and browsers send. Requests without credentials are
anonymous and reach public data; wrong credentials are refused, never downgraded to
anonymous, so that a typing error does not silently hide a user's private data. Repeated
wrong credentials from one address are slowed down (:mod:`accounts.signin_limit`).

The web pages sign in with a token once and then ride on a session: Flask's signed
session cookie (``HERA_SECRET_KEY``) holds the user's name and the SHA-256 digest of the
token, never the token itself, and is checked against the user record on every request,
so renewing the token ends every session. A session whose token was renewed ends quietly
(the pages say so). A state-changing request authenticated by the session must carry the
session's CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``); requests with
an ``Authorization`` header never use the session. And since a browser sends the cookie
with a request that another site starts (a link, a redirect), the session only reaches
the service's interfaces from its own pages: a request that the browser marks as coming
from another site (``Sec-Fetch-Site: cross-site`` or ``same-site``) uses the session for
the web pages only, so that no link elsewhere can make a request act for the user.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import time
from functools import wraps
from pathlib import Path

from flask import Flask, current_app, g, request, session
from sqlalchemy import select
from werkzeug.exceptions import Forbidden

from . import signin_limit, users

REALM = "Hera"

#: securityMethod standardIDs advertised in VOSI capabilities (anonymous is implied
#: by an interface without securityMethod, which every interface also offers)
SECURITY_METHODS = ("ivo://ivoa.net/sso#BasicAA", "ivo://ivoa.net/sso#token")


class AuthError(Exception):
    """Credentials were sent but are not valid (HTTP 401)."""

    status = 401


class CSRFError(Forbidden):
    """A state-changing request on a session cookie without the session's CSRF token."""


#: methods that change nothing, and so need no CSRF token
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: the web pages (vo_service.web), which a link from another site may open signed in
PAGE_PREFIX = "/ui/"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SECRET_KEY_FILE = "secret_key"


def _credentials():
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer" and value.strip():
        return None, value.strip()
    if scheme == "basic":
        try:
            name, sep, token = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthError("malformed HTTP Basic credentials")
        if not sep:
            raise AuthError("malformed HTTP Basic credentials")
        return name, token
    if header:
        raise AuthError(f"unsupported authorization scheme {scheme!r}: use Bearer or Basic")
    return None, None


def load_user():
    """Before each request: who is asking (``g.user``, None when anonymous), from the
    ``Authorization`` header or else from the session cookie."""
    g.user = None
    name, token = _credentials()
    if token is not None:
        signin_limit.check()
        user = users.authenticate(current_app.extensions["hera"].engine, token, name)
        if user is None:
            signin_limit.record_failure()
            raise AuthError("invalid credentials")
        g.user = user
    elif "token_sha256" in session:
        if _from_another_site() and not (request.path == "/" or request.path.startswith(PAGE_PREFIX)):
            return  # anonymous: see the module's docstring
        user = _session_user()
        if user is None:
            session.clear()
            g.session_ended = True
            return
        g.user = user
        if request.method not in SAFE_METHODS:
            check_csrf()


def _from_another_site() -> bool:
    """The browser says another site started this request (Fetch Metadata; a browser that
    sends no such header is taken at its word)."""
    return request.headers.get("Sec-Fetch-Site", "same-origin") in ("cross-site", "same-site")


def _session_user() -> users.User | None:
    """The user of the session, if the token it was opened with is still theirs."""
    engine = current_app.extensions["hera"].engine
    table = users.users_table
    with engine.connect() as conn:
        found = conn.execute(select(table.c.name).where(
            table.c.token_hash == session.get("token_sha256", ""),
            table.c.name == session.get("user", ""))).first()
    return users.get_user(engine, found.name) if found else None


def sign_in(token: str) -> users.User | None:
    """Open a session for the holder of ``token`` (a fresh session: new CSRF token).
    Raises :class:`~accounts.signin_limit.TooManyFailures` while this address is slowed
    down for failing too often."""
    signin_limit.check()
    user = users.authenticate(current_app.extensions["hera"].engine, token.strip())
    if user is None:
        signin_limit.record_failure()
        return None
    session.clear()
    session.permanent = True
    session["user"] = user.name
    session["token_sha256"] = hashlib.sha256(token.strip().encode()).hexdigest()
    csrf_token()
    return user


def sign_out() -> None:
    session.clear()


def csrf_token() -> str:
    """The session's CSRF token, made on first use (anonymous sessions have one too,
    so that the sign-in form itself is protected)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    """Refuse (403) a request that does not carry the session's CSRF token."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent = request.form.get(CSRF_FIELD)
    expected = session.get("csrf")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise CSRFError("this request changes something but lacks the CSRF token of your session; "
                        "reload the page and try again")


def init_sessions(app: Flask) -> None:
    """Sign the session cookie with ``HERA_SECRET_KEY``, or with a random key kept in the
    data directory (made once, shared by every process that shares the directory)."""
    key = app.config.get("HERA_SECRET_KEY") or _persisted_key(Path(app.config["HERA_DATA_DIR"]))
    app.secret_key = key
    base = app.config.get("HERA_BASE_URL") or ""
    app.config.update(SESSION_COOKIE_NAME="hera_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=base.startswith("https:"))


def _persisted_key(data_dir: Path) -> str:
    path = data_dir / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be writing it this very moment
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty: delete it or set HERA_SECRET_KEY")
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def current_user() -> users.User | None:
    return g.get("user")


def current_owner() -> str | None:
    user = current_user()
    return user.name if user else None


def challenge_headers() -> dict:
    return {"WWW-Authenticate": f'Basic realm="{REALM}", Bearer realm="{REALM}"'}


def login_required(view):
    """Refuse anonymous requests with 401 and a challenge."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            raise AuthError("this resource needs signing in (HTTP Basic with your user name and token, or a Bearer token)")
        return view(*args, **kwargs)

    return wrapper
