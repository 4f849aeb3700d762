"""Shared fixtures: a service on a temporary data directory, real Redis, real RQ workers,
its users (alice), demo catalogues, and HTTP servers standing for remote hosts.

Redis is the one at 127.0.0.1:6379 (``.ci/run`` starts it when it does not answer);
each test session uses its own queue name, so parallel runs do not take each other's
jobs. PostgreSQL tests use database ``test`` at 127.0.0.1:5432.
"""
from __future__ import annotations

import contextlib
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from redis import Redis
from werkzeug.serving import make_server

import known_windows
from tap_catalog import demo
from accounts import users

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
REDIS_URL = os.environ.get("HERA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get("HERA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def redis_url():
    try:
        Redis.from_url(REDIS_URL).ping()
    except Exception as exc:
        pytest.fail(f"Redis does not answer at {REDIS_URL}: {exc} (.ci/run starts it)")
    return REDIS_URL


@pytest.fixture
def config(tmp_path, redis_url):
    """Configuration of a fresh service: its own data directory, database and queue."""
    return {
        "HERA_DATA_DIR": str(tmp_path / "data"),
        "HERA_REDIS_URL": redis_url,
        "HERA_QUEUE": f"hera-test-{uuid.uuid4().hex[:8]}",
        "HERA_SWEEP_INTERVAL": 1,
        "HERA_HEARTBEAT_TIMEOUT": 3,
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def config_on_both_databases(request, config):
    """``config``, once on SQLite and once on PostgreSQL (the session's database): a test
    module runs on both with ``def config(config_on_both_databases)``."""
    if request.param == "postgresql":
        config = {**config, "HERA_DATABASE_URL": request.getfixturevalue("postgres_database_url")}
    return config


@pytest.fixture
def app(config):
    from uws import JobList
    from uws.binding import mount
    from vo_service import create_app
    from vo_service.app import init_database

    app = create_app(config)
    init_database(app)
    app.config["TESTING"] = True
    mount(app, JobList("test", "uws_test_executors:run", title="test jobs"), "/test-jobs")
    yield app
    app.extensions["hera"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


# -- users -------------------------------------------------------------------------------
@pytest.fixture
def alice(app):
    """Request headers of user alice (group integral), with her API token as a Bearer
    token. A module whose alice is something else (a token, a signed-in session) says so
    with a fixture of its own."""
    token = users.add_user(app.extensions["hera"].engine, "alice", ["integral"])
    return {"Authorization": "Bearer " + token}


def session_of(name: str, token: str, root: str):
    """A requests session signed in as ``name`` (HTTP Basic with the API token), with the
    service's URL as its ``root``."""
    s = requests.Session()
    s.auth = (name, token)
    s.root = root
    return s


# -- catalogues --------------------------------------------------------------------------
def load_demo(app, rows: int, seed: int) -> int:
    """Replace the app's catalogue by ``rows`` demo science windows made with ``seed``."""
    hera = app.extensions["hera"]
    return demo.load(hera.engine, hera.tableset, demo.generate(rows, seed), replace=True)


@pytest.fixture
def demo_catalogue(app):
    """5000 demo windows and the known Crab, Galactic Centre and Cyg X-1 ones
    (tests/known_windows.py) that the web tests select: the demo holds them only by chance."""
    hera = app.extensions["hera"]
    return (demo.load(hera.engine, hera.tableset, demo.generate(5000, seed=7))
            + known_windows.load(hera.engine, hera.tableset))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then closed again)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- remote hosts ------------------------------------------------------------------------
@contextlib.contextmanager
def serve_http(handler):
    """An HTTP server on 127.0.0.1 with ``handler`` (a remote archive, a sender's files, a
    flaky service), in a thread while the block runs; yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


class Workers:
    """Real ``hera worker`` processes, each in a session of its own."""

    def __init__(self, config: dict, log):
        self.log = log
        self.env = {**os.environ, **{k: str(v) for k, v in config.items()},
                    "PYTHONPATH": os.pathsep.join([str(TESTS), str(REPO)])}
        self.procs: list[subprocess.Popen] = []

    def start(self, n: int = 1, timeout: float = 120.0):
        """Start ``n`` workers and return once each has registered with Redis; a worker
        that exits first fails the test at once, with the workers' output."""
        from rq import Worker

        started = {}
        for _ in range(n):
            name = f"test-{uuid.uuid4().hex[:12]}"
            started[name] = subprocess.Popen(
                [sys.executable, "-m", "vo_service.cli", "worker", "--name", name], env=self.env, cwd=REPO,
                start_new_session=True, stdout=self.log, stderr=self.log)
            self.procs.append(started[name])
        redis = Redis.from_url(self.env["HERA_REDIS_URL"])
        deadline = time.monotonic() + timeout
        while started:
            for name, proc in list(started.items()):
                if proc.poll() is not None:
                    pytest.fail(f"worker {name} exited with status {proc.returncode} at start:\n{self.output()}")
            registered = {w.name for w in Worker.all(connection=redis)}
            started = {name: proc for name, proc in started.items() if name not in registered}
            if started and time.monotonic() > deadline:
                pytest.fail(f"workers {', '.join(started)} did not register within {timeout} s:\n{self.output()}")
            time.sleep(0.05)
        return self

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-5000:]

    def kill(self, proc: subprocess.Popen):
        """SIGKILL the worker and its work horses (RQ puts a horse in a process group of
        its own), as a crash of the host would."""
        import psutil
        for child in psutil.Process(proc.pid).children(recursive=True):
            child.kill()
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def workers(config, tmp_path):
    with open(tmp_path / "workers.log", "wb") as log:
        pool = Workers(config, log)
        yield pool
        pool.stop()
    text = (tmp_path / "workers.log").read_text(errors="replace")
    if "Traceback" in text:
        print("worker log:\n" + text[-5000:])


@pytest.fixture
def worker(workers):
    """One running worker."""
    return workers.start(1)


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on 127.0.0.1, for real clients (pyvo, STILTS, ...)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["HERA_BASE_URL"] = url
    yield url
    server.shutdown()


def wait_for(predicate, timeout=20.0, interval=0.05):
    """Poll ``predicate`` until it returns something true; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not reached within {timeout} s")


@pytest.fixture(scope="session")
def postgres_database_url():
    """A PostgreSQL database of this test session's own (``hera_test_<random>``, with
    pgsphere), dropped at the end: parallel runs never share tables."""
    import sqlalchemy

    name = f"hera_test_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL does not answer at {POSTGRES_URL}: {exc}")
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
