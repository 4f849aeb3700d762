"""Fault drill: the Redis that dispatches jobs stops and starts again under queued and
running jobs. A real redis-server of the test's own, on a free port (the shared one at
6379 is left alone), real ``hera worker`` processes, jobs from ``uws_test_executors``."""
from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from redis import Redis

from conftest import free_port, wait_for

REDIS_SERVER = shutil.which("redis-server")


class PrivateRedis:
    """A redis-server on 127.0.0.1:port that keeps nothing on disk, so that a restart
    forgets every queued job, as a restart of the embedded Redis does."""

    def __init__(self, directory):
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self._answers(), timeout=10)
        return self

    def _answers(self):
        try:
            return Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
        except Exception:
            return False

    def stop(self):
        try:
            Redis.from_url(self.url).shutdown(nosave=True)
        except Exception:
            pass  # redis-py reports the connection that SHUTDOWN closes
        self.proc.wait(timeout=10)
        assert not self._answers()


@pytest.fixture
def private_redis(tmp_path):
    if REDIS_SERVER is None:
        pytest.fail("redis-server is not on PATH (.ci/run installs it)")
    server = PrivateRedis(tmp_path).start()
    yield server
    if server.proc.poll() is None:
        server.proc.kill()
        server.proc.wait()


@pytest.fixture
def config(config, private_redis):
    """The service of these tests uses the private Redis."""
    return {**config, "HERA_REDIS_URL": private_redis.url}


def create(client, **params):
    r = client.post("/test-jobs", data={**params, "PHASE": "RUN"})
    assert r.status_code == 303, r.get_data(as_text=True)
    return r.headers["Location"].rsplit("/", 1)[-1]


def test_workers_wait_for_a_restarted_redis_and_no_job_is_lost(app, client, workers, private_redis, tmp_path):
    store = app.extensions["uws"].store
    workers.start(2)
    # one running job ends while Redis is away, the other outlives the outage
    running = [create(client, sleep="3", echo="ends during"), create(client, sleep="12", echo="outlives")]
    wait_for(lambda: all(store.get(j).phase.value == "EXECUTING" for j in running), timeout=30)
    queued = [create(client, sleep="0.2", echo=f"short {i}") for i in range(6)]
    assert {store.get(j).phase.value for j in queued} == {"QUEUED"}

    private_redis.stop()
    time.sleep(4)  # the workers notice that Redis is gone
    assert all(p.poll() is None for p in workers.procs), "a worker exited while Redis was away"
    private_redis.start()

    def settled():
        phases = {j: store.get(j).phase.value for j in running + queued}
        return phases if not set(phases.values()) & {"QUEUED", "EXECUTING", "PENDING"} else None

    phases = wait_for(settled, timeout=90, interval=0.5)
    assert phases[running[0]] in ("COMPLETED", "ERROR")  # finished, or honestly reported cut off
    if phases[running[0]] == "ERROR":
        assert store.get(running[0]).error.message
    # its horse ran on and beat into the new Redis before the sweeper judged it
    assert phases[running[1]] == "COMPLETED", store.get(running[1]).error
    assert all(phases[j] == "COMPLETED" for j in queued), phases  # queued again by the sweeper
    assert {client.get(f"/test-jobs/{j}/results/out").get_data(as_text=True) for j in running + queued} == {
        "ends during", "outlives", *(f"short {i}" for i in range(6))} - (
        {"ends during"} if phases[running[0]] == "ERROR" else set())
    assert all(p.poll() is None for p in workers.procs), "a worker exited after Redis came back"
    # the same workers take new jobs
    fresh = create(client, echo="after the restart")
    wait_for(lambda: store.get(fresh).phase.value == "COMPLETED", timeout=30)
    log = (tmp_path / "workers.log").read_text(errors="replace")
    assert "waiting for Redis" in log
