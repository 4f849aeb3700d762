"""The Flask application factory: ``create_app(config)`` builds the whole service."""
from __future__ import annotations

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

import tap_catalog.http
import tools_registry.http
import workspace
from accounts import auth, users
from tap_catalog import database as catalog_database, tap_schema
from uws import UWSError
from uws.waiting import PhaseWatch

from . import config as configuration, services, web
from .multipart_boundary import QuotedBoundary
from .proxies import TrustedProxies


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(configuration.load(overrides))
    app.config["MAX_CONTENT_LENGTH"] = app.config["HERA_MAX_CONTENT_LENGTH"]
    app.config["HERA_DATA_DIR"].mkdir(parents=True, exist_ok=True)

    hera = services.build(app.config)
    app.extensions["hera"] = hera
    app.extensions["uws"] = hera.jobs
    app.extensions["uws_watch"] = PhaseWatch(hera.redis)

    app.wsgi_app = QuotedBoundary(app.wsgi_app)  # astroquery's unquoted boundaries
    app.wsgi_app = TrustedProxies(app.wsgi_app, app.config["HERA_TRUSTED_PROXIES"],
                                  app.config["HERA_PROXY_HOPS"])
    auth.init_sessions(app)
    app.before_request(auth.load_user)
    workspace.init_app(app, hera.workspaces, hera.result_sinks)
    tap_catalog.http.init_app(app)
    tools_registry.http.init_app(app, hera)
    web.init_app(app)
    _error_handlers(app)
    return app


def init_database(app: Flask) -> None:
    """Create the service's tables, idempotently. Run once before the processes that
    share the database start (``hera init``; ``hera serve`` does it itself): concurrent
    DDL from many processes at start-up would race."""
    engine = app.extensions["hera"].engine
    users.metadata.create_all(engine)
    workspace.create_tables(engine)
    app.extensions["hera"].jobs.store.create_tables()
    catalog_database.create_catalog(engine, app.extensions["hera"].tableset)
    tap_schema.fill(engine, app.extensions["hera"].tableset)


def _error_handlers(app: Flask):
    @app.errorhandler(UWSError)
    def uws_error(err: UWSError):
        return Response(err.message + "\n", status=err.status, mimetype="text/plain")

    @app.errorhandler(auth.AuthError)
    def auth_error(err: auth.AuthError):
        return Response(str(err) + "\n", status=401, mimetype="text/plain", headers=auth.challenge_headers())

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        headers = [(k, v) for k, v in err.get_headers() if k.lower() != "content-type"]
        return Response(f"{err.code} {err.name}: {err.description}\n", status=err.code,
                        mimetype="text/plain", headers=headers)
