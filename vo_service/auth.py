"""Authentication: ``Authorization: Bearer TOKEN`` or HTTP Basic (user name, token).

HTTP Basic is what TOPCAT, STILTS and browsers send. Requests without credentials are
anonymous and reach public data; wrong credentials are refused, never downgraded to
anonymous, so that a typing error does not silently hide a user's private data.
"""
from __future__ import annotations

import base64
import binascii
from functools import wraps

from flask import current_app, g, request

from . import users

REALM = "Hera"

#: securityMethod standardIDs advertised in VOSI capabilities (anonymous is implied
#: by an interface without securityMethod, which every interface also offers)
SECURITY_METHODS = ("ivo://ivoa.net/sso#BasicAA", "ivo://ivoa.net/sso#token")


class AuthError(Exception):
    """Credentials were sent but are not valid (HTTP 401)."""

    status = 401


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
    """Before each request: who is asking (``g.user``, None when anonymous)."""
    g.user = None
    name, token = _credentials()
    if token is not None:
        user = users.authenticate(current_app.extensions["hera"].engine, token, name)
        if user is None:
            raise AuthError("invalid credentials")
        g.user = user


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
