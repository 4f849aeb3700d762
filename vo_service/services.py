"""The services: every shared handle of the running service, built once per process.

``build(config)`` makes them from the configuration; the application factory keeps them
at ``app.extensions["hera"]`` for request handlers, and ``hera worker`` gives the same
object to every job's executor in its job context (``job.services``), so that the web
process and the workers are wired by one construction and executors need no Flask
application.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from redis import Redis
from sqlalchemy.engine import Engine

from fetching import FetchPolicy
from tap_catalog.adql.limits import ParseLimits
from tap_catalog.database import make_engine
from tap_catalog.query import Limits as TapLimits
from tap_catalog.sinks import ResultSinks
from tap_catalog.tableset import TableSet
from tools_registry.registry import Registry
from uws import JobManager, Limits, RQDispatch
from uws.store import JobStore
from workspace import Workspaces


@dataclass
class Services:
    """The service's shared handles (``app.extensions["hera"]``, ``job.services``)."""

    #: the ``HERA_`` configuration they were built from (the base URL, fetch policies)
    config: dict
    engine: Engine
    redis: Redis | None
    jobs: JobManager
    #: the declared catalogue tables (TAP_SCHEMA, VOSI tables, ADQL names)
    tableset: TableSet
    tap_limits: TapLimits
    #: where TAP's results go besides the client (registered at start-up: the workspace)
    result_sinks: ResultSinks
    workspaces: Workspaces
    #: the tools served (built-ins, HERA_TOOLS_PATH, ``hera.tools`` entry points)
    tools: Registry
    #: a compressed input file that decompresses to more than this is refused (bytes)
    fits_decompressed_max: int


def build(config: dict) -> Services:
    """The services of the configuration ``config`` (``HERA_`` keys, as
    :func:`vo_service.config.load` returns them)."""
    data_dir = Path(config["HERA_DATA_DIR"])
    engine = make_engine(config["HERA_DATABASE_URL"])
    redis_url = config["HERA_REDIS_URL"]
    redis = Redis.from_url(redis_url) if redis_url else None
    limits = Limits(
        execution_duration_default=int(config["HERA_EXECUTION_DURATION_DEFAULT"]),
        execution_duration_max=int(config["HERA_EXECUTION_DURATION_MAX"]),
        destruction_default=int(config["HERA_DESTRUCTION_DEFAULT"]),
        destruction_max=int(config["HERA_DESTRUCTION_MAX"]),
        wait_max=int(config["HERA_WAIT_MAX"]),
        heartbeat_timeout=int(config["HERA_HEARTBEAT_TIMEOUT"]),
    )
    dispatch = RQDispatch(redis, config["HERA_QUEUE"]) if redis is not None else None
    jobs = JobManager(JobStore(engine), redis, data_dir, limits, config["HERA_QUEUE"], dispatch)
    tap_limits = TapLimits(
        maxrec_default=int(config["HERA_TAP_MAXREC_DEFAULT"]),
        maxrec_hard=int(config["HERA_TAP_MAXREC_MAX"]),
        sync_timeout=float(config["HERA_TAP_SYNC_TIMEOUT"]),
        upload_hard=int(config["HERA_TAP_UPLOAD_MAX"]),
        upload_fetch=FetchPolicy.from_config(config),
        adql=ParseLimits(max_length=int(config["HERA_ADQL_MAX_LENGTH"]),
                         max_depth=int(config["HERA_ADQL_MAX_DEPTH"])),
    )
    workspaces = Workspaces(engine, data_dir / "workspaces", int(config["HERA_WORKSPACE_QUOTA_BYTES"]),
                            int(config["HERA_WORKSPACE_QUOTA_FILES"]), float(config["HERA_WORKSPACE_QUOTA_WARNING"]),
                            int(config["HERA_WORKSPACE_PARTIAL_LIFETIME"]))
    return Services(config=config, engine=engine, redis=redis, jobs=jobs, tableset=TableSet.load(),
                    tap_limits=tap_limits, result_sinks=ResultSinks(), workspaces=workspaces,
                    tools=Registry.load(paths=config.get("HERA_TOOLS_PATH") or ()),
                    fits_decompressed_max=int(config["HERA_FITS_DECOMPRESSED_MAX"]))
