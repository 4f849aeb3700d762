"""The gunicorn worker class of ``hera serve``: gevent, plus a prompt answer to every
client blocked in a UWS ``WAIT`` when the worker is asked to stop.

gunicorn stops a worker gracefully with SIGTERM (on its own shutdown, and for the old
workers when SIGHUP reloads it), then waits up to ``graceful_timeout`` for the requests
in progress before cutting them. A ``WAIT`` may block for minutes, so without this the
shutdown would hang for the whole graceful timeout and then drop those clients with
connection errors; instead they are answered at once with their job's current state,
which UWS allows (a WAIT may end early), and their clients simply ask again.

Run the service with ``gunicorn -k vo_service.gunicorn_worker.HeraGeventWorker wsgi:app``
when not using ``hera serve``.
"""
from __future__ import annotations

import gevent
from gunicorn.workers.ggevent import GeventWorker


class HeraGeventWorker(GeventWorker):
    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)
        # imported here, not with this module: gunicorn's master process imports the worker
        # class, and must import nothing of the application (see vo_service.web_server)
        from uws.waiting import release_all
        # out of the signal handler: waking the waiters switches greenlets
        gevent.spawn(release_all)
