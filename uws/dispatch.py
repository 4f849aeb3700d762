"""Dispatch to RQ: queueing a job for a worker, and stopping its work.

The job manager is given a dispatch (by the composition root) and calls only its two
methods, ``enqueue`` and ``stop``; the work horse's side is :mod:`uws.runner`. The RQ
job carries only the UWS job id, and runs ``uws.runner.execute`` (named, not imported).
"""
from __future__ import annotations

from rq import Queue
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job as RQJob

from .job import Job

#: the RQ function that runs a UWS job in a work horse
EXECUTE = "uws.runner.execute"


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
