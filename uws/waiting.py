"""Blocking WAIT without a thread per waiter.

One listener per web process subscribes to the phase-change channel and wakes the
waiters of the job that changed. Waiters sleep on an Event: under gunicorn's gevent
workers these are greenlets, so 500 waiting clients cost 500 small greenlets, not 500
threads, and the rest of the service stays responsive.

When the web server stops or restarts gracefully, :func:`release_all` answers every
waiter at once with its job as it is now (a WAIT may always end early), instead of
holding the shutdown until the graceful timeout and then cutting the connections;
``vo_service.gunicorn_worker`` calls it when gunicorn asks a worker to stop.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import defaultdict

from .manager import PHASE_CHANNEL

log = logging.getLogger(__name__)


#: every watch of this process, for release_all
_watches: "weakref.WeakSet[PhaseWatch]" = weakref.WeakSet()


def release_all() -> None:
    """This process is shutting down: end every WAIT of every watch now, and any later
    one at once."""
    for watch in list(_watches):
        watch.close()


class PhaseWatch:
    def __init__(self, redis):
        self.redis = redis
        self._waiters: dict[str, set[threading.Event]] = defaultdict(set)
        self._lock = threading.Lock()
        self._listener_pid = None
        self.closing = False
        _watches.add(self)

    def close(self) -> None:
        """Wake every waiter for good: each answers with its job's current state."""
        self.closing = True
        self._wake_all()

    def _wake_all(self) -> None:
        with self._lock:
            events = [e for s in self._waiters.values() for e in s]
        for event in events:
            event.set()

    def _ensure_listener(self):
        # started lazily, and again in a forked process (gunicorn forks after import)
        if self._listener_pid != os.getpid():
            with self._lock:
                if self._listener_pid != os.getpid():
                    self._listener_pid = os.getpid()
                    threading.Thread(target=self._listen, daemon=True, name="uws-phase-listener").start()

    def _listen(self):
        while True:
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(PHASE_CHANNEL)
                for message in pubsub.listen():
                    job_id = message["data"]
                    job_id = job_id.decode() if isinstance(job_id, bytes) else job_id
                    with self._lock:
                        events = list(self._waiters.get(job_id, ()))
                    for event in events:
                        event.set()
            except Exception:
                log.warning("phase listener lost Redis; reconnecting", exc_info=True)
                self._wake_all()  # they re-check the store and wait again
                time.sleep(1)

    def wait(self, job_id: str, still_waiting, timeout: float) -> None:
        """Return when ``still_waiting()`` turns false or ``timeout`` seconds pass.

        ``still_waiting`` re-reads the job from the store; it is checked after the
        waiter is registered, so a change between the caller's read and the
        registration is not missed. After :meth:`close` it returns once ``still_waiting``
        has read the job again."""
        self._ensure_listener()
        event = threading.Event()
        with self._lock:
            self._waiters[job_id].add(event)
        deadline = time.monotonic() + timeout
        try:
            while still_waiting() and not self.closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not event.wait(remaining):
                    return
                event.clear()
        finally:
            with self._lock:
                self._waiters[job_id].discard(event)
                if not self._waiters[job_id]:
                    del self._waiters[job_id]
