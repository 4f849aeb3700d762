"""Execution in an RQ work horse: a job run by its executor, with its heartbeat.

The RQ job carries only the UWS job id (see :mod:`uws.dispatch`); the work horse reads
everything else, the executor included, from the job store. While a job executes, its
horse refreshes a heartbeat key in Redis, so that the sweeper can tell a running job
from one whose worker died.

A worker process is given, once before work starts, the job manager and the services
that executors may use (``install``); each job's executor then receives them explicitly
in its :class:`JobContext`. RQ forks a work horse per job, so the worker's state is
every horse's.

**Dependent jobs.** An executor never waits inside its horse for other jobs (two such
parents on two workers would wait for ever). It fans out instead: ``job.spawn`` makes
child UWS jobs (ordinary jobs of their own lists, each with its own URL) and
``job.wait_for(children, then="module:function")`` ends the horse's part; the children
are queued, and the continuation ``then(job, children)`` is queued on RQ to depend on
them (``depends_on``). Meanwhile the parent stays EXECUTING with ``waiting_for`` in its
jobInfo (and no heartbeat: the sweeper checks its children instead). A child that ends
in ERROR or ABORTED ends the parent in ERROR with the child's message; a continuation
may fan out again, and the parent is COMPLETED when one returns without waiting.
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

from .job import FINAL, ErrorSummary, Job, JobList, Phase, Result
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

    def __init__(self, job: Job, directory: Path, services: Any, manager: JobManager | None = None):
        self._manager = manager
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
        #: the results so far (a continuation starts from those its job already has)
        self.results: list[Result] = list(job.results)
        self.info: dict[str, str] = {}
        #: the id of the job that spawned this one, if any
        self.parent: str | None = job.info.get("parent")
        self._spawned: list[str] = []
        self._waiting: tuple[list[str], str] | None = None

    def spawn(self, joblist: JobList, parameters: dict[str, str]) -> str:
        """A child job of ``joblist`` with ``parameters``, owned by this job's owner
        (checked as any job's are); it is queued by :meth:`wait_for`. Returns its id."""
        child = self._manager.create(joblist, self.owner, parameters,
                                     execution_duration=str(self.execution_duration))
        self._manager.store.update(child.id, info={**child.info, "parent": self.id})
        self._spawned.append(child.id)
        return child.id

    def wait_for(self, children: list[str], then: str) -> None:
        """End this run of the executor without ending the job: ``children`` (spawned by
        this job) are queued, and ``then`` (``"module:function"``, called with a
        ``JobContext`` and the children's ``Job`` records) runs once they have all
        COMPLETED. The executor should return right after."""
        if not children:
            raise ValueError("wait_for needs at least one child job")
        self._waiting = (list(children), then)

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
    context = JobContext(job, manager.job_dir(job_id), services, manager)
    _run(manager, job, context, _executor(job.executor), heartbeat, step=0)


def _run(manager: JobManager, job: Job, context: JobContext, function, heartbeat, step: int,
         *arguments) -> None:
    """``function(context, *arguments)``, then the job's end, or its wait for children."""
    try:
        function(context, *arguments)
    except JobTimeoutException:
        _end(manager, context, Phase.ERROR, ErrorSummary(
            f"the job ran longer than its executionduration of {job.execution_duration} s and was stopped"))
    except Exception as exc:
        log.info("job %s failed", job.id, exc_info=True)
        _end(manager, context, Phase.ERROR, ErrorSummary(str(exc) or type(exc).__name__))
    else:
        if context._waiting is None:
            _end(manager, context, Phase.COMPLETED)
        else:
            _wait(manager, job, context, step + 1)
    finally:
        heartbeat.stop()
        manager.notify(job.id)


def _wait(manager: JobManager, job: Job, context: JobContext, step: int) -> None:
    """Record that the job waits for its children, then queue them and its continuation
    (in that order: the record says so before any child can end)."""
    children, then = context._waiting
    current = manager.store.get(job.id)
    if current is None or not manager.store.update(
            job.id, only_in=[Phase.EXECUTING], results=context.results,
            info={**current.info, **context.info, "waiting_for": ",".join(children),
                  "then": then, "step": str(step)}):
        for child_id in context._spawned:  # aborted meanwhile: so are its children
            child = manager.store.get(child_id)
            if child is not None:
                manager.abort(child)
        return
    for child_id in children:
        child = manager.store.get(child_id)
        if child is not None and manager.store.update(child_id, only_in=[Phase.PENDING], phase=Phase.QUEUED):
            manager.enqueue(child)
            manager.notify(child_id)
    manager.dispatch.enqueue_continuation(job, children, step)


def failed_child(manager: JobManager, job: Job) -> ErrorSummary | None:
    """Why ``job`` cannot go on: the error of a child it waits for that ended in ERROR,
    was aborted or is gone; None while they run or once all COMPLETED."""
    for child_id in job.info.get("waiting_for", "").split(","):
        child = manager.store.get(child_id)
        if child is None:
            return ErrorSummary(f"the job {child_id} that this job waited for was deleted")
        if child.phase == Phase.ERROR:
            return ErrorSummary(child.error.message if child.error else f"the job {child_id} failed",
                                child.error.type if child.error else "fatal")
        if child.phase in FINAL and child.phase != Phase.COMPLETED:
            return ErrorSummary(f"the job {child_id} that this job waited for was {child.phase.value}")
    return None


def end_for_child(manager: JobManager, job: Job, error: ErrorSummary) -> bool:
    """End the waiting ``job`` in ERROR with its child's ``error``."""
    info = {k: v for k, v in job.info.items() if k not in ("waiting_for", "then")}
    done = manager.store.update(job.id, only_in=[Phase.EXECUTING], phase=Phase.ERROR, end_time=utcnow(),
                                error=error, info=info)
    if done:
        shutil.rmtree(manager.job_dir(job.id) / "work", ignore_errors=True)
        manager.notify(job.id)
    return done


def resume(job_id: str, step: int) -> None:
    """The RQ entry point of a continuation: once the children that ``job_id`` waits
    for have ended, end it in ERROR if one failed, else call its continuation."""
    manager, services = _worker.manager, _worker.services
    manager.store.engine.dispose(close=False)  # never share the parent's connections after fork
    job = manager.store.get(job_id)
    if job is None or job.phase != Phase.EXECUTING or job.info.get("step") != str(step):
        return  # ended meanwhile (aborted, deleted), or this continuation already ran
    error = failed_child(manager, job)
    if error is not None:
        end_for_child(manager, job, error)
        return
    children = [manager.store.get(c) for c in job.info["waiting_for"].split(",")]
    if any(child.phase != Phase.COMPLETED for child in children):
        return  # a child RQ lost while it ran: the sweeper ends it, and then this job
    then = job.info["then"]
    heartbeat = _Heartbeat(manager.redis, job_id, manager.limits.heartbeat_timeout)
    heartbeat.beat()
    info = {k: v for k, v in job.info.items() if k not in ("waiting_for", "then")}
    if not manager.store.update(job_id, only_in=[Phase.EXECUTING], info=info):
        heartbeat.stop()
        return
    heartbeat.start()
    job.info = info
    context = JobContext(job, manager.job_dir(job_id), services, manager)
    _run(manager, job, context, _executor(then), heartbeat, step, children)


def _end(manager: JobManager, context: JobContext, phase: Phase, error: ErrorSummary | None = None):
    job = manager.store.get(context.id)
    if job is None:
        return
    shutil.rmtree(context.workdir, ignore_errors=True)
    manager.store.update(context.id, only_in=[Phase.EXECUTING], phase=phase, end_time=utcnow(),
                         results=context.results, error=error, info={**job.info, **context.info})
