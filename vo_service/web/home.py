"""The home page, and signing in and out with an API token."""
from __future__ import annotations

import hmac

from flask import abort, flash, redirect, render_template, request, session, url_for

from accounts import auth
from accounts.signin_limit import TooManyFailures
from .blueprint import bp
from .local_redirect import local_path


@bp.get("/")
def home():
    return render_template("home.html")


def _safe_next(target: str | None) -> str:
    """Only a path of this service may follow the sign-in (no open redirect)."""
    return local_path(target) or url_for("web.home")


@bp.route("/ui/signin", methods=["GET", "POST"])
def signin():
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("signin.html", next_url=next_url, error=None)
    # the sign-in form is protected too: a forged form would sign the victim into
    # someone else's account, whose workspace would then receive the victim's data
    sent, expected = request.form.get(auth.CSRF_FIELD, ""), session.get("csrf", "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        abort(403, "the sign-in form has expired; reload the page and try again")
    try:
        user = auth.sign_in(request.form.get("token", ""))
    except TooManyFailures as err:
        return (render_template("signin.html", next_url=next_url, error=err.description), err.code,
                {"Retry-After": err.retry_after})
    if user is None:
        return render_template("signin.html", next_url=next_url,
                               error="This token is not valid. Tokens are printed once by "
                                     "'hera user add NAME' (or 'hera user token NAME')."), 401
    flash(f"Signed in as {user.name}.")
    return redirect(next_url, code=303)


@bp.post("/ui/signout")
def signout():
    # a state-changing request on the session: auth.load_user has checked its CSRF token
    auth.sign_out()
    flash("Signed out.")
    return redirect(url_for("web.home"), code=303)
