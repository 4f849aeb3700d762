"""The worker loop of ``hera worker``: an RQ worker that outlives a restart of its Redis.

RQ's worker rides out a Redis outage only while it waits for a job; one that is
monitoring a work horse, or running its periodic maintenance, when Redis goes away stops
with "found an unhandled exception, quitting". This loop then waits for the job in hand
to end (its horse runs on, and records its outcome in the SQL job store, which does not
need Redis), waits for Redis to answer again, with a growing delay and saying so in the
log, and starts a fresh RQ worker. The jobs that a restarted Redis forgot are queued
again by the sweeper (:mod:`uws.sweeper`), from the job store.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time

from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError
from rq import Queue, Worker

log = logging.getLogger(__name__)

#: the first and the longest wait between two tries to reach Redis (s)
FIRST_WAIT, LONGEST_WAIT = 0.5, 30.0


def work(redis, queue_name: str, name: str | None = None, burst: bool = False) -> None:
    """Execute jobs of ``queue_name`` until asked to stop (SIGTERM, SIGINT) or, with
    ``burst``, until the queue is empty."""
    stopping = threading.Event()
    pause = FIRST_WAIT  # before a restart when Redis answers: grows while restarts fail at once
    while True:
        worker = Worker([Queue(queue_name, connection=redis)], connection=redis, name=name)
        started = time.monotonic()
        try:
            worker.work(burst=burst, logging_level="WARNING")
        except (RedisConnectionError, RedisTimeoutError):
            pass  # raised by RQ's own clean-up, which needs the Redis that just went away
        if burst or _stop_was_asked(worker):
            return
        # RQ's handlers would now raise inside this loop; a stop request ends the waits below
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        _wait_for_horse(worker, stopping)
        pause = FIRST_WAIT if time.monotonic() - started > LONGEST_WAIT else min(pause * 2, LONGEST_WAIT)
        if not _wait_for_redis(redis, stopping, pause):
            return
        try:
            worker.register_death()  # when Redis only blinked, it still lists the old worker
        except Exception:
            pass


def _stop_was_asked(worker: Worker) -> bool:
    """Did SIGTERM or SIGINT end RQ's loop? RQ notes the time of any stop request; its
    ``_stop_requested`` flag is set only when the request came during a job (an idle
    worker stops at once with StopRequested)."""
    return bool(getattr(worker, "_stop_requested", False)
                or getattr(worker, "_shutdown_requested_date", None) is not None)


def _wait_for_horse(worker: Worker, stopping: threading.Event) -> None:
    """Let the job that the stopped worker was running end before taking another: the
    horse finishes on its own (its execution duration bounds it)."""
    pid = getattr(worker, "horse_pid", 0)
    if not pid:
        return
    log.warning("worker %s: waiting for the job in hand (work horse %d) to end", worker.name, pid)
    while not stopping.is_set():
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return  # already reaped
        if done:
            return
        stopping.wait(0.5)


def _wait_for_redis(redis, stopping: threading.Event, pause: float) -> bool:
    """Return True once Redis answers (after ``pause`` s if it answered at once: the
    worker then stopped for another reason), or False when asked to stop first."""
    delay = FIRST_WAIT
    while not stopping.is_set():
        try:
            redis.ping()
        except (RedisConnectionError, RedisTimeoutError) as err:
            log.warning("Redis does not answer (%s); waiting for Redis, next try in %.1f s", err, delay)
            if stopping.wait(delay):
                break
            delay = min(delay * 2, LONGEST_WAIT)
            continue
        if delay > FIRST_WAIT:
            log.warning("Redis answers again: back to work")
        else:  # Redis answers: RQ's worker stopped for another reason (RQ logs errors above)
            log.warning("the RQ worker stopped although Redis answers; starting a new one in %.1f s", pause)
            if stopping.wait(pause):
                break
        return True
    return False
