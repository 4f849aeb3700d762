"""The sweeper: keeps job records true when no request is looking.

- a job whose destruction time has passed is deleted with its results;
- an EXECUTING job whose work horse stopped sending heartbeats (killed worker,
  lost host, OOM) ends in ERROR, with a message saying so (not while Redis is younger
  than the heartbeat timeout: after a restart of Redis the living horses need that long
  to beat into it again);
- a QUEUED job that Redis no longer holds (Redis restarted; it keeps nothing on
  disk here) is queued again; one whose RQ job failed outside our code ends in ERROR;
- an EXECUTING job that waits for its children (``waiting_for`` in its jobInfo) has no
  horse and no heartbeat: it ends in ERROR when a child failed, was aborted or is gone
  (its continuation may never run: a child RQ lost), and its continuation is queued
  again if Redis forgot it or RQ left it deferred after all children COMPLETED.

Every worker process runs a sweeper thread; a Redis lock, one per queue (services
that share a Redis each sweep their own database), lets one of them sweep per interval.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob, JobStatus

from .job import ErrorSummary, Phase
from .manager import JobManager
from .dispatch import continuation_id
from .runner import end_for_child, failed_child, heartbeat_key
from .store import utcnow

log = logging.getLogger(__name__)
LOCK_PREFIX = "hera:uws:sweeper:"


def sweep(manager: JobManager) -> dict[str, int]:
    """One pass; returns how many jobs were destroyed, declared dead and re-queued."""
    now = utcnow()
    counts = {"destroyed": 0, "dead": 0, "requeued": 0, "orphaned": 0}
    for job_id in manager.store.ids_to_destroy(now):
        job = manager.store.get(job_id)
        if job is not None:
            manager.delete(job)
            counts["destroyed"] += 1

    grace = timedelta(seconds=manager.limits.heartbeat_timeout)
    # a Redis younger than the heartbeat timeout was restarted, and the living horses have
    # not all beaten into it yet: no verdict on them until then
    redis_fresh = manager.redis.info("server")["uptime_in_seconds"] < manager.limits.heartbeat_timeout
    running = [] if redis_fresh else manager.store.ids_in_phase([Phase.EXECUTING], started_before=now - grace)
    for job_id in running:
        if manager.redis.exists(heartbeat_key(job_id)):
            continue
        job = manager.store.get(job_id)
        if job is None:
            continue
        if "waiting_for" in job.info:
            counts["orphaned"] += _sweep_waiting(manager, job)
            continue
        ran = (now - job.start_time).total_seconds()
        if job.execution_duration and ran > job.execution_duration:
            message = (f"the job ran longer than its executionduration of {job.execution_duration} s "
                       "and its worker was stopped")
        else:
            message = ("the worker executing this job stopped before the job finished "
                       "(worker killed, host lost or out of memory); the job can be run again")
        if manager.store.update(job_id, only_in=[Phase.EXECUTING], phase=Phase.ERROR, end_time=now,
                                error=ErrorSummary(message, type="transient")):
            manager.notify(job_id)
            counts["dead"] += 1

    for job_id in manager.store.ids_in_phase([Phase.QUEUED], created_before=now - timedelta(seconds=2)):
        try:
            status = RQJob.fetch(job_id, connection=manager.redis).get_status()
        except NoSuchJobError:
            job = manager.store.get(job_id)
            if job is not None and job.phase == Phase.QUEUED:
                manager.enqueue(job)
                counts["requeued"] += 1
            continue
        if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
            if manager.store.update(job_id, only_in=[Phase.QUEUED], phase=Phase.ERROR, end_time=now,
                                    error=ErrorSummary(f"the job queue reported the job {status.value} "
                                                       "before it started", type="transient")):
                manager.notify(job_id)
                counts["dead"] += 1
    return counts


def _sweep_waiting(manager: JobManager, job) -> int:
    """A job waiting for its children: ended if one failed; its continuation queued
    again if all COMPLETED and Redis no longer holds it. Returns 1 if it was ended."""
    error = failed_child(manager, job)
    if error is not None:
        return int(end_for_child(manager, job, error))
    children = job.info["waiting_for"].split(",")
    if all(getattr(manager.store.get(c), "phase", None) == Phase.COMPLETED for c in children):
        step = int(job.info.get("step", "1"))
        try:
            # RQ may leave a dependent DEFERRED when its dependency ends while it is
            # being released ("changed while enqueueing; skipping for now")
            stuck = RQJob.fetch(continuation_id(job.id, step), connection=manager.redis).get_status() \
                == JobStatus.DEFERRED
        except NoSuchJobError:
            stuck = True
        if stuck:  # the children have ended: it may run now
            manager.dispatch.enqueue_continuation(job, [], step)
    return 0


class Sweeper(threading.Thread):
    def __init__(self, manager: JobManager, interval: float):
        super().__init__(daemon=True, name="uws-sweeper")
        self.manager, self.interval = manager, interval
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(self.interval):
            try:
                lock = LOCK_PREFIX + self.manager.queue_name
                if self.manager.redis.set(lock, "1", nx=True, px=int(self.interval * 900)):
                    counts = sweep(self.manager)
                    if any(counts.values()):
                        log.info("sweeper: %s", counts)
            except (RedisConnectionError, RedisTimeoutError) as err:
                log.warning("sweeper: Redis does not answer (%s); trying again in %s s", err, self.interval)
            except Exception:
                log.exception("sweeper pass failed; trying again in %s s", self.interval)
