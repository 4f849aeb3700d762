"""The job manager: every UWS operation on a job, as plain Python.

The REST binding, the RQ work horse and the sweeper all go through this one object, so
that the rules (who may see a job, which phase changes are allowed, the limits on
durations) are written once.
"""
from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .job import ABORTABLE, FINAL, RUNNABLE, Job, JobList, Phase, UWSError
from .store import JobStore, utcnow

#: Redis channel on which every phase change is announced (payload: the job id)
PHASE_CHANNEL = "hera:uws:phase"


def new_job_id() -> str:
    """128 random bits (32 hex digits): an anonymous job's URL is its only key, so it must
    be as hard to guess as a token (W3C capability URLs ask for 120 bits at least)."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Limits:
    execution_duration_default: int = 3600
    execution_duration_max: int = 86400
    destruction_default: int = 7 * 86400
    destruction_max: int = 30 * 86400
    wait_max: int = 600
    heartbeat_timeout: int = 10


class JobManager:
    """``dispatch`` queues and stops jobs (:class:`uws.dispatch.RQDispatch`); without
    one (no Redis configured) jobs can be created but not run."""

    def __init__(self, store: JobStore, redis, data_dir: Path, limits: Limits = Limits(),
                 queue_name: str = "hera", dispatch=None):
        self.store = store
        self.redis = redis
        self.dispatch = dispatch
        self.data_dir = Path(data_dir)
        self.limits = limits
        self.queue_name = queue_name
        self.joblists: dict[str, JobList] = {}

    # -- job lists ------------------------------------------------------------------
    def register(self, joblist: JobList) -> None:
        self.joblists[joblist.name] = joblist

    def job_dir(self, job_id: str) -> Path:
        return self.data_dir / "jobs" / job_id

    # -- reading -----------------------------------------------------------------------
    def get(self, joblist: str, job_id: str, owner: str | None) -> Job:
        """The job, if it is in ``joblist`` and belongs to ``owner``; else 404 (another
        user's job is indistinguishable from a job that does not exist). An anonymous job
        is reached by whoever holds its URL: its id is the secret."""
        job = self.store.get(job_id)
        if job is None or job.joblist != joblist or job.owner != owner:
            raise UWSError(404, f"no job {job_id!r} in this job list")
        return job

    def list(self, joblist: str, owner: str | None, phases=None, after=None, last=None) -> list[Job]:
        """The jobs of ``owner`` in ``joblist`` (see :meth:`JobStore.list`). Anonymous clients
        are all the same client to the service, so listing "their" jobs would show each
        one everybody else's: their list is empty, and each anonymous job is known only to
        whoever holds its URL."""
        if owner is None:
            return []
        return self.store.list(joblist, owner, phases, after, last)

    # -- creation and changes (PENDING) ----------------------------------------------------
    def create(self, joblist: JobList, owner: str | None, parameters: dict[str, str],
               run_id: str | None = None, execution_duration: str | None = None,
               destruction: str | None = None, *, run: bool = False, prepare=None) -> Job:
        """A new job, PENDING, or QUEUED at once with ``run`` (``PHASE=RUN`` in the
        creating POST: one write, and the parameters checked once for both).

        ``prepare(job)`` runs before the record is stored (the binding saves uploaded
        files with it): if it raises, nothing of the job is left behind."""
        now = utcnow()
        job = Job(
            id=new_job_id(), joblist=joblist.name, owner=owner,
            phase=Phase.QUEUED if run else Phase.PENDING, creation_time=now,
            execution_duration=self.clamp_duration(execution_duration),
            destruction=self.clamp_destruction(destruction, now),
            parameters=joblist.checked(parameters, owner), run_id=run_id, executor=joblist.executor,
        )
        try:
            if prepare is not None:
                prepare(job)
            self.store.add(job)
        except BaseException:
            shutil.rmtree(self.job_dir(job.id), ignore_errors=True)
            raise
        if run:
            try:
                self.enqueue(job)
            except Exception as exc:
                self.store.delete(job.id)  # refused at RUN: no half-made job is left behind
                shutil.rmtree(self.job_dir(job.id), ignore_errors=True)
                if isinstance(exc, UWSError):
                    raise
                raise UWSError(503, "the job backend (Redis) does not answer; try again later") from exc
        return job

    def clamp_duration(self, requested: str | int | None) -> int:
        limit = self.limits.execution_duration_max
        if requested is None or requested == "":
            return min(self.limits.execution_duration_default, limit) if limit else self.limits.execution_duration_default
        try:
            seconds = int(str(requested).strip())
        except ValueError:
            raise UWSError(400, f"EXECUTIONDURATION must be a whole number of seconds, not {requested!r}")
        if seconds < 0:
            raise UWSError(400, f"EXECUTIONDURATION must not be negative (got {seconds})")
        if limit and (seconds == 0 or seconds > limit):
            return limit  # 0 asks for no limit: the most this service grants
        return seconds

    def clamp_destruction(self, requested: str | datetime | None, now: datetime) -> datetime:
        latest = now + timedelta(seconds=self.limits.destruction_max)
        if requested is None or requested == "":
            return now + timedelta(seconds=min(self.limits.destruction_default, self.limits.destruction_max))
        when = requested if isinstance(requested, datetime) else parse_datetime(requested, "DESTRUCTION")
        return min(when, latest)

    def set_parameters(self, job: Job, parameters: dict[str, str]) -> Job:
        if job.phase != Phase.PENDING:
            raise UWSError(400, f"parameters can only be changed while the job is PENDING; it is {job.phase.value}")
        merged = self.joblists[job.joblist].checked({**job.parameters, **parameters}, job.owner)
        if not self.store.update(job.id, only_in=[Phase.PENDING], parameters=merged):
            raise UWSError(400, "the job left PENDING while its parameters were being changed")
        return self.store.get(job.id)

    def set_execution_duration(self, job: Job, value: str) -> None:
        seconds = self.clamp_duration(value)
        if job.phase != Phase.PENDING or not self.store.update(
                job.id, only_in=[Phase.PENDING], execution_duration=seconds):
            raise UWSError(400, f"executionduration can only be changed while the job is PENDING; it is {job.phase.value}")

    def set_destruction(self, job: Job, value: str) -> None:
        self.store.update(job.id, destruction=self.clamp_destruction(value, utcnow()))

    # -- phase changes -----------------------------------------------------------------------
    def run(self, job: Job) -> None:
        if job.phase in (Phase.QUEUED, Phase.EXECUTING):
            return  # RUN on a running job changes nothing (idempotent)
        if job.phase not in RUNNABLE:
            raise UWSError(400, f"a job in phase {job.phase.value} cannot be run")
        joblist = self.joblists[job.joblist]
        parameters = joblist.checked(job.parameters, job.owner)
        if not self.store.update(job.id, only_in=RUNNABLE, phase=Phase.QUEUED, parameters=parameters):
            raise UWSError(400, "the job changed phase while it was being started")
        self.enqueue(job)
        self.notify(job.id)

    def enqueue(self, job: Job) -> None:
        if self.dispatch is None:
            raise UWSError(503, "no job backend: set HERA_REDIS_URL, or start the service with `hera serve`")
        self.dispatch.enqueue(job)

    def abort(self, job: Job) -> None:
        if job.phase in FINAL:
            return  # nothing left to stop
        if job.phase not in ABORTABLE:
            raise UWSError(400, f"a job in phase {job.phase.value} cannot be aborted")
        if not self.store.update(job.id, only_in=ABORTABLE, phase=Phase.ABORTED, end_time=utcnow()):
            return  # it finished meanwhile
        if self.dispatch is not None:
            self.dispatch.stop(job)
        self.notify(job.id)
        for child_id in filter(None, job.info.get("waiting_for", "").split(",")):
            child = self.store.get(child_id)  # a parent's abort ends the children it waits for
            if child is not None:
                self.abort(child)

    def delete(self, job: Job) -> None:
        if job.phase in ABORTABLE:
            self.abort(job)
        self.store.delete(job.id)
        shutil.rmtree(self.job_dir(job.id), ignore_errors=True)
        self.notify(job.id)

    def notify(self, job_id: str) -> None:
        """Tell waiting clients, in every web process, that ``job_id`` changed."""
        try:
            self.redis.publish(PHASE_CHANNEL, job_id)
        except Exception:  # a waiter falls back to its timeout; the change itself is stored
            pass

    def result_path(self, job: Job, result_id: str) -> Path:
        for r in job.results:
            if r.id == result_id:
                return self.job_dir(job.id) / r.path
        raise UWSError(404, f"job {job.id} has no result {result_id!r}")


def parse_datetime(value: str, name: str) -> datetime:
    """An ISO 8601 timestamp (UTC if no zone is given), or a 400 naming the parameter."""
    text = str(value).strip()
    try:
        if not (text.isascii() and text.isprintable()):  # fromisoformat stops at a NUL
            raise ValueError(text)
        when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        # in UTC now: 0001-01-01T00:00+14:00 is before year 1 there, and fails here, not later
        return when.astimezone(timezone.utc) if when.tzinfo else when.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError):
        raise UWSError(400, f"{name} must be an ISO 8601 timestamp between the years 1 and 9999 "
                            f"(UTC) such as 2026-12-31T12:00:00Z, not {value!r}") from None
