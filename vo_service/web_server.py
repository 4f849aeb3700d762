"""The web server of ``hera serve``: gunicorn with gevent workers, in a process of its own.

``hera serve`` has imported the whole application (redis, requests, ...) before it
starts this process. Were gunicorn forked from there, each gevent worker would patch
``ssl`` after modules had taken direct references to its unpatched classes (gevent's
``MonkeyPatchWarning``; such a module would then block the worker on TLS). This process
imports only gunicorn, whose workers patch the standard library first and only then
import the application (``load``).

    python -m vo_service.web_server --bind 127.0.0.1:8000 --workers 1 --control-socket PATH
"""
from __future__ import annotations

import argparse

from gunicorn.app.base import BaseApplication


class WebServer(BaseApplication):
    def __init__(self, bind: str, workers: int, control_socket: str):
        self.settings = {
            "bind": bind,
            "workers": workers,
            # gevent, and every client blocked in a UWS WAIT is answered when a worker stops
            "worker_class": "vo_service.gunicorn_worker.HeraGeventWorker",
            "worker_connections": 2000,
            "timeout": 120,
            "accesslog": None,
            # gunicorn's default control socket is one per user ($XDG_RUNTIME_DIR or
            # ~/.gunicorn/gunicorn.ctl), shared by every gunicorn of the machine: each
            # service keeps its own in its data directory
            "control_socket": control_socket,
        }
        super().__init__()

    def load_config(self):
        for key, value in self.settings.items():
            self.cfg.set(key, value)

    def load(self):
        from vo_service.app import create_app  # in the worker, after gevent patched the standard library
        return create_app()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m vo_service.web_server", description=__doc__.split("\n")[0])
    parser.add_argument("--bind", required=True, help="HOST:PORT")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn (gevent) processes")
    parser.add_argument("--control-socket", required=True, help="path of gunicorn's control socket")
    args = parser.parse_args(argv)
    WebServer(args.bind, args.workers, args.control_socket).run()


if __name__ == "__main__":
    main()
