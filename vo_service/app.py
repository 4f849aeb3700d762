"""The Flask application factory: ``create_app(config)`` builds the whole service."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response
from redis import Redis
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

import tap_catalog.http
import tools_registry.http
import workspace
from accounts import auth, users
from fetching import FetchPolicy
from tap_catalog import database as catalog_database, tap_schema
from tap_catalog.database import make_engine
from tap_catalog.adql.limits import ParseLimits
from tap_catalog.query import Limits as TapLimits
from tap_catalog.tableset import TableSet
from uws import JobManager, Limits, UWSError
from uws.store import JobStore
from uws.waiting import PhaseWatch

from . import config as configuration, web
from .multipart_boundary import QuotedBoundary
from .proxies import TrustedProxies


@dataclass
class Hera:
    """The service's shared handles, at ``app.extensions["hera"]``."""

    engine: Engine
    redis: Redis | None
    jobs: JobManager
    #: the declared catalogue tables (TAP_SCHEMA, VOSI tables, ADQL names)
    tableset: TableSet | None = None
    tap_limits: TapLimits = TapLimits()


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(configuration.load(overrides))
    app.config["MAX_CONTENT_LENGTH"] = app.config["HERA_MAX_CONTENT_LENGTH"]
    data_dir = app.config["HERA_DATA_DIR"]
    data_dir.mkdir(parents=True, exist_ok=True)

    engine = make_engine(app.config["HERA_DATABASE_URL"])
    store = JobStore(engine)
    redis_url = app.config["HERA_REDIS_URL"]
    redis = Redis.from_url(redis_url) if redis_url else None
    limits = Limits(
        execution_duration_default=int(app.config["HERA_EXECUTION_DURATION_DEFAULT"]),
        execution_duration_max=int(app.config["HERA_EXECUTION_DURATION_MAX"]),
        destruction_default=int(app.config["HERA_DESTRUCTION_DEFAULT"]),
        destruction_max=int(app.config["HERA_DESTRUCTION_MAX"]),
        wait_max=int(app.config["HERA_WAIT_MAX"]),
        heartbeat_timeout=int(app.config["HERA_HEARTBEAT_TIMEOUT"]),
    )
    jobs = JobManager(store, redis, data_dir, limits, app.config["HERA_QUEUE"])
    tap_limits = TapLimits(
        maxrec_default=int(app.config["HERA_TAP_MAXREC_DEFAULT"]),
        maxrec_hard=int(app.config["HERA_TAP_MAXREC_MAX"]),
        sync_timeout=float(app.config["HERA_TAP_SYNC_TIMEOUT"]),
        upload_hard=int(app.config["HERA_TAP_UPLOAD_MAX"]),
        upload_fetch=FetchPolicy.from_config(app.config),
        adql=ParseLimits(max_length=int(app.config["HERA_ADQL_MAX_LENGTH"]),
                         max_depth=int(app.config["HERA_ADQL_MAX_DEPTH"])),
    )
    app.extensions["hera"] = Hera(engine, redis, jobs, TableSet.load(), tap_limits)
    app.extensions["uws"] = jobs
    app.extensions["uws_watch"] = PhaseWatch(redis)

    app.wsgi_app = QuotedBoundary(app.wsgi_app)  # astroquery's unquoted boundaries
    app.wsgi_app = TrustedProxies(app.wsgi_app, app.config["HERA_TRUSTED_PROXIES"],
                                  app.config["HERA_PROXY_HOPS"])
    auth.init_sessions(app)
    app.before_request(auth.load_user)
    workspace.init_app(app)
    tap_catalog.http.init_app(app)
    tools_registry.http.init_app(app)
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
