"""Execution in an RQ work horse: a job run by its executor, with its heartbeat.

The RQ job carries only the UWS job id (see :mod:`uws.dispatch`); the work horse reads
everything else, the executor included, from the job store. While a job executes, its
horse refreshes a heartbeat key in Redis, so that the sweeper can tell a running job
from one whose worker died.

A worker process is given, once before work starts, the job manager and the services
that executors may use (``install``); each job's executor then receives them explicitly
in its :class:`JobContext`. RQ forks a work horse per job, so the worker's state is
every horse's.
"""
from __future__ import annotations

import importlib
import logging
import shutil
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rq.timeouts import JobTimeoutException

from .job import ErrorSummary, Job, Phase, Result
from .manager import JobManager
from .store import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Worker:
    manager: JobManager
    services: Any


#: the manager and services of this worker process, set by ``install`` before work starts
_worker: _Worker | None = None


def install(manager: JobManager, services: Any) -> None:
    """Make this process a worker of ``manager``'s jobs, whose executors are given
    ``services`` (whatever the composition root built for them)."""
    global _worker
    _worker = _Worker(manager, services)


def heartbeat_key(job_id: str) -> str:
    return f"hera:uws:alive:{job_id}"


class JobContext:
    """What an executor is given: its job (list, id, run id, owner, parameters), its
    directory, the services it may use, and where its result files go.

    ``services`` is the object that the composition root built once for the worker
    (the database engine, the catalogue's tables, the workspaces, the limits); the UWS
    package passes it on and never looks inside it."""

    def __init__(self, job: Job, directory: Path, services: Any):
        self.joblist = job.joblist
        self.id = job.id
        self.run_id = job.run_id
        self.owner = job.owner
        self.parameters = dict(job.parameters)
        self.execution_duration = job.execution_duration
        self.services = services
        self.directory = Path(directory)
        self.workdir = self.directory / "work"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.results: list[Result] = []
        self.info: dict[str, str] = {}

    def add_result(self, result_id: str, source, content_type: str = "application/octet-stream") -> Path:
        """Keep ``source`` (a path, or bytes) as the result ``result_id``."""
        if not result_id or "/" in result_id or result_id.startswith("."):
            raise ValueError(f"invalid result id {result_id!r}")
        target = self.directory / "results" / result_id
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, (bytes, bytearray)):
            target.write_bytes(source)
        elif Path(source).resolve().is_relative_to(self.workdir.resolve()):
            shutil.move(source, target)  # the work directory is discarded anyway
        elif Path(source).resolve() != target.resolve():
            shutil.copyfile(source, target)
        self.results = [r for r in self.results if r.id != result_id]
        self.results.append(Result(result_id, f"results/{result_id}", content_type, target.stat().st_size))
        return target


def _executor(path: str):
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class _Heartbeat(threading.Thread):
    def __init__(self, redis, job_id: str, ttl: int):
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.redis, self.key, self.ttl = redis, heartbeat_key(job_id), ttl
        self.stopped = threading.Event()

    def beat(self):
        self.redis.set(self.key, socket.gethostname(), ex=self.ttl)

    def run(self):
        while not self.stopped.wait(max(self.ttl / 4, 0.5)):
            try:
                self.beat()
            except Exception:  # Redis away for a moment: the next beat may pass
                log.warning("heartbeat for %s failed", self.key, exc_info=True)

    def stop(self):
        self.stopped.set()
        self.redis.delete(self.key)


def execute(job_id: str) -> None:
    """The RQ entry point: run one UWS job in this work horse.

    The job record names its executor (taken from its job list when it was created,
    never from the request), so a worker needs no registry of job lists of its own."""
    manager, services = _worker.manager, _worker.services
    manager.store.engine.dispose(close=False)  # never share the parent's connections after fork
    job = manager.store.get(job_id)
    if job is None or job.phase != Phase.QUEUED:
        return  # deleted or aborted while queued
    heartbeat = _Heartbeat(manager.redis, job_id, manager.limits.heartbeat_timeout)
    heartbeat.beat()
    if not manager.store.update(job_id, only_in=[Phase.QUEUED], phase=Phase.EXECUTING,
                                start_time=utcnow(), info={**job.info, "host": socket.gethostname()}):
        heartbeat.stop()
        return
    manager.notify(job_id)
    heartbeat.start()
    context = JobContext(job, manager.job_dir(job_id), services)
    try:
        _executor(job.executor)(context)
    except JobTimeoutException:
        _end(manager, context, Phase.ERROR, ErrorSummary(
            f"the job ran longer than its executionduration of {job.execution_duration} s and was stopped"))
    except Exception as exc:
        log.info("job %s failed", job_id, exc_info=True)
        _end(manager, context, Phase.ERROR, ErrorSummary(str(exc) or type(exc).__name__))
    else:
        _end(manager, context, Phase.COMPLETED)
    finally:
        heartbeat.stop()
        manager.notify(job_id)


def _end(manager: JobManager, context: JobContext, phase: Phase, error: ErrorSummary | None = None):
    job = manager.store.get(context.id)
    if job is None:
        return
    shutil.rmtree(context.workdir, ignore_errors=True)
    manager.store.update(context.id, only_in=[Phase.EXECUTING], phase=phase, end_time=utcnow(),
                         results=context.results, error=error, info={**job.info, **context.info})
