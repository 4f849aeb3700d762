"""Clients blocked in a UWS WAIT are answered at once, with their job as it is, when the web
server stops or restarts: first the mechanism (``uws.waiting.release_all``), then a real
``hera serve`` (gunicorn with gevent workers) sent SIGHUP and SIGTERM."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import psutil
import pytest
import requests
from lxml import etree

from conftest import REPO, free_port, wait_for

NS = {"uws": "http://www.ivoa.net/xml/UWS/v1.0"}
WAITERS = 10


def phase_of(body: bytes) -> str:
    return etree.fromstring(body).findtext("uws:phase", namespaces=NS)


def test_release_all_answers_every_waiter_with_the_job_as_it_is(app):
    from uws.waiting import release_all

    client = app.test_client()
    job_url = client.post("/test-jobs", data={"echo": "x"}).headers["Location"]
    answers = []

    def wait():
        response = app.test_client().get(job_url, query_string={"WAIT": "600"})
        answers.append((response.status_code, phase_of(response.data)))

    threads = [threading.Thread(target=wait, daemon=True) for _ in range(WAITERS)]
    for t in threads:
        t.start()
    watch = app.extensions["uws_watch"]
    job_id = job_url.rsplit("/", 1)[-1]
    wait_for(lambda: len(watch._waiters.get(job_id, ())) == WAITERS, timeout=30)
    release_all()
    for t in threads:
        t.join(timeout=30)
    assert answers == [(200, "PENDING")] * WAITERS
    # a WAIT that arrives while the server stops is answered at once too
    response = client.get(job_url, query_string={"WAIT": "600"})
    assert response.status_code == 200 and phase_of(response.data) == "PENDING"


# -- a real hera serve ------------------------------------------------------------------------

@pytest.fixture
def served(tmp_path, redis_url):
    """``hera serve`` (gunicorn, one gevent worker, no job workers) on a free port."""
    port = free_port()
    env = {**os.environ, "HERA_DATA_DIR": str(tmp_path / "data"), "HERA_REDIS_URL": redis_url,
           "HERA_QUEUE": f"hera-test-{uuid.uuid4().hex[:8]}", "HERA_TAP_DEMO_ROWS": "0",
           "HERA_WAIT_MAX": "600"}
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "vo_service.cli", "serve", "--port", str(port),
                             "--workers", "0"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def answers():
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        try:
            return requests.get(url + "/tap/availability", timeout=10).status_code == 200
        except requests.RequestException:  # not listening yet, or its worker still starting
            return False

    wait_for(answers, timeout=60, interval=0.2)
    yield proc, url
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    log.close()


def block_in_wait(job_url: str) -> tuple[list, list]:
    answers, threads = [], []

    def wait():
        try:
            response = requests.get(job_url, params={"WAIT": "600"}, timeout=120)
            answers.append((response.status_code, phase_of(response.content)))
        except requests.RequestException as err:
            answers.append(("failed", repr(err)))

    for _ in range(WAITERS):
        threads.append(threading.Thread(target=wait, daemon=True))
        threads[-1].start()
    return answers, threads


def pending_job(url: str) -> str:
    response = requests.post(url + "/tap/async", data={"LANG": "ADQL", "QUERY": "SELECT TOP 1 * FROM tap_schema.tables"},
                             allow_redirects=False)
    assert response.status_code == 303
    return response.headers["Location"]


def web_server_of(proc) -> psutil.Process:
    return next(p for p in psutil.Process(proc.pid).children()
                if "vo_service.web_server" in " ".join(p.cmdline()))


def blocked(url: str, n: int):
    """The waiters have reached the server: its open connections (without ours) say so."""
    port = int(url.rsplit(":", 1)[1])
    return sum(1 for c in psutil.net_connections("tcp")
               if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED) >= n


def test_a_reload_answers_the_waiting_clients_and_the_service_stays_up(served):
    proc, url = served
    job_url = pending_job(url)
    answers, threads = block_in_wait(job_url)
    wait_for(lambda: blocked(url, WAITERS), timeout=30)
    time.sleep(2)  # connected is not yet read: give the worker time to take up the requests
    web_server_of(proc).send_signal(signal.SIGHUP)  # gunicorn: new workers, old ones stopped gracefully
    for t in threads:
        t.join(timeout=120)
    assert answers == [(200, "PENDING")] * WAITERS
    assert phase_of(requests.get(job_url, timeout=30).content) == "PENDING"  # served by the new worker


def test_stopping_hera_serve_answers_the_waiting_clients_first(served):
    proc, url = served
    job_url = pending_job(url)
    answers, threads = block_in_wait(job_url)
    wait_for(lambda: blocked(url, WAITERS), timeout=30)
    time.sleep(2)  # connected is not yet read: give the worker time to take up the requests
    proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(timeout=120)
    assert answers == [(200, "PENDING")] * WAITERS
    assert proc.wait(timeout=60) == 0
