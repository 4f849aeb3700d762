"""Dispatch to RQ: queueing a job for a worker, and stopping its work.

The job manager is given a dispatch (by the composition root) and calls only its two
methods, ``enqueue`` and ``stop``; the work horse's side is :mod:`uws.runner`. The RQ
job carries only the UWS job id, and runs ``uws.runner.execute`` (named, not imported).
"""
from __future__ import annotations

from rq import Queue
from rq.job import Dependency
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job as RQJob

from .job import Job

#: the RQ function that runs a UWS job in a work horse
EXECUTE = "uws.runner.execute"
#: the RQ function that continues a job once the children it waits for have ended
RESUME = "uws.runner.resume"


class RQDispatch:
    """Jobs to the RQ queue ``queue_name`` of ``redis``."""

    def __init__(self, redis, queue_name: str):
        self.redis = redis
        self.queue_name = queue_name

    def enqueue(self, job: Job) -> None:
        queue = Queue(self.queue_name, connection=self.redis)
        timeout = job.execution_duration if job.execution_duration > 0 else -1
        queue.enqueue(EXECUTE, job.id, job_id=job.id, job_timeout=timeout,
                      result_ttl=600, failure_ttl=86400)

    def enqueue_continuation(self, job: Job, children: list[str], step: int) -> None:
        """Queue the continuation ``step`` of ``job`` to run once every RQ job of
        ``children`` has ended (RQ's ``depends_on``): no worker waits for them. A child
        that RQ saw fail (its horse killed) releases it too (``allow_failure``); the
        continuation then finds the child's UWS phase and ends the parent accordingly.
        Without ``children`` it is queued at once (the sweeper's, once they all ended)."""
        queue = Queue(self.queue_name, connection=self.redis)
        timeout = job.execution_duration if job.execution_duration > 0 else -1
        queue.enqueue(RESUME, job.id, step, job_id=continuation_id(job.id, step), job_timeout=timeout,
                      depends_on=Dependency(jobs=children, allow_failure=True) if children else None,
                      result_ttl=600, failure_ttl=86400)

    def stop(self, job: Job) -> None:
        """Stop the job's RQ work: take it off the queue, or kill its work horse."""
        try:
            rq_job = RQJob.fetch(job.id, connection=self.redis)
        except NoSuchJobError:
            return
        try:
            if rq_job.worker_name:
                send_stop_job_command(self.redis, job.id)
            else:
                rq_job.cancel()
        except InvalidJobOperation:
            pass  # it ended meanwhile


def continuation_id(job_id: str, step: int) -> str:
    """The RQ job id of ``job_id``'s continuation number ``step``."""
    return f"{job_id}-then-{step}"
