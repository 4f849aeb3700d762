"""UWS benchmark: job submission, end-to-end latency, and 500 concurrent WAITs.

    python bench/bench_uws.py [--jobs 2000] [--clients 16] [--latency-jobs 200] [--waiters 500]

Starts gunicorn (gevent) serving a trivial job list and real ``hera worker`` processes
against the Redis at HERA_REDIS_URL (default redis://127.0.0.1:6379/0), on a temporary
data directory, and prints a table. Baselines are measured in the same run: raw RQ
enqueues of the same payload from the same number of client threads.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from redis import Redis
from rq import Queue

from machine import describe, free_port, percentile

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


#: the credentials of the benchmark's user, set in main()
AUTH: dict[str, str] = {}


def signed_in() -> requests.Session:
    session = requests.Session()
    session.headers.update(AUTH)
    return session


class Service:
    def __init__(self, env, port, web_workers):
        self.env, self.port = env, port
        self.url = f"http://127.0.0.1:{port}"
        self.web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-k", "vo_service.gunicorn_worker.HeraGeventWorker", "-w", str(web_workers),
             "--worker-connections", "4000", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
             "uws_trivial_app:app"], env=env, cwd=HERE, start_new_session=True)
        self.workers = []
        for _ in range(120):
            try:
                requests.get(self.url + "/trivial", timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def start_workers(self, n):
        for _ in range(n):
            self.workers.append(subprocess.Popen([sys.executable, "-m", "vo_service.cli", "worker", "--preload", "uws_trivial"],
                                                 env=self.env, cwd=HERE, start_new_session=True,
                                                 stderr=subprocess.DEVNULL))
        time.sleep(3)

    def stop(self):
        for p in [self.web, *self.workers]:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in [self.web, *self.workers]:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def submit(url, n, clients):
    def one(_):
        r = session().post(url + "/trivial", data={"PHASE": "RUN"}, allow_redirects=False)
        assert r.status_code == 303, r.text
        return r.headers["Location"]

    local = threading.local()

    def session():
        if not hasattr(local, "s"):
            local.s = signed_in()
        return local.s

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        urls = list(pool.map(one, range(n)))
    return n / (time.perf_counter() - started), urls


def raw_rq(redis, queue_name, n, clients):
    queue = Queue(queue_name, connection=redis)

    def one(_):
        queue.enqueue("uws.runner.execute", uuid.uuid4().hex[:16], job_timeout=3600,
                      result_ttl=600, failure_ttl=86400)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(n)))
    rate = n / (time.perf_counter() - started)
    queue.empty()
    return rate


def drain(url, n, started):
    """Rate at which the ``n`` submitted jobs were executed, from the workers' start
    (``started``, perf_counter) until none is QUEUED or EXECUTING any more (jobs/s)."""
    while True:
        body = signed_in().get(url + "/trivial", params={"PHASE": ["QUEUED", "EXECUTING"]}).text
        if "<uws:jobref" not in body:
            return n / (time.perf_counter() - started)
        time.sleep(0.2)


def latency(url, n):
    s = signed_in()
    times = []
    for _ in range(n):
        started = time.perf_counter()
        job = s.post(url + "/trivial", data={"PHASE": "RUN"}, allow_redirects=False).headers["Location"]
        while True:
            body = s.get(job, params={"WAIT": "10"}).text
            if "COMPLETED" in body:
                break
        times.append((time.perf_counter() - started) * 1000)
    return times


def waiters(url, n, probes):
    s = signed_in()
    jobs = [s.post(url + "/trivial", allow_redirects=False).headers["Location"] for _ in range(n)]
    started = threading.Barrier(n + 1)
    done = []

    def wait(job):
        started.wait()
        r = signed_in().get(job, params={"WAIT": "60"}, timeout=120)
        done.append(r.status_code)

    threads = [threading.Thread(target=wait, args=(j,), daemon=True) for j in jobs]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(2)  # let every WAIT reach the server
    times = []
    for _ in range(probes):
        t0 = time.perf_counter()
        r = s.get(url + "/trivial", params={"LAST": "100"})
        assert r.status_code == 200
        times.append((time.perf_counter() - t0) * 1000)
    for job in jobs:  # release the waiters
        s.post(job, data={"ACTION": "DELETE"}, allow_redirects=False)
    for t in threads:
        t.join(timeout=30)
    return times, len(done)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--latency-jobs", type=int, default=200)
    ap.add_argument("--waiters", type=int, default=500)
    ap.add_argument("--web-workers", type=int, default=2)
    args = ap.parse_args()

    redis_url = os.environ.get("HERA_REDIS_URL", "redis://127.0.0.1:6379/0")
    data = tempfile.mkdtemp(prefix="hera-bench-")
    queue = f"hera-bench-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "HERA_DATA_DIR": data, "HERA_REDIS_URL": redis_url, "HERA_QUEUE": queue,
           "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO)])}
    redis = Redis.from_url(redis_url)
    subprocess.run([sys.executable, "-m", "vo_service.cli", "init"], env=env, check=True, cwd=HERE)
    # the jobs belong to a user: anonymous clients are shown no job list (docs/uws.md)
    added = subprocess.run([sys.executable, "-m", "vo_service.cli", "user", "add", "bench"], env=env,
                           check=True, cwd=HERE, capture_output=True, text=True)
    AUTH["Authorization"] = "Bearer " + added.stdout.strip().splitlines()[-1]
    service = Service(env, free_port(), args.web_workers)
    try:
        rq_rate = raw_rq(redis, queue + "-raw", args.jobs, args.clients)
        rate, _ = submit(service.url, args.jobs, args.clients)
        workers_started = time.perf_counter()
        service.start_workers(2)
        executed = drain(service.url, args.jobs, workers_started)
        lat = latency(service.url, args.latency_jobs)
        list_times, released = waiters(service.url, args.waiters, 200)
    finally:
        service.stop()

    print(f"\nUWS benchmark on {describe()}")
    print(f"{'measure':58} {'Hera':>12} {'baseline':>12} {'target':>14}")
    print(f"{f'submission, {args.jobs} jobs PHASE=RUN, {args.clients} clients (jobs/s)':58} "
          f"{rate:12.0f} {rq_rate:12.0f} {'>= 0.5 x raw':>14}")
    print(f"{'  ratio to raw RQ enqueue':58} {rate / rq_rate:12.2f}")
    print(f"{f'execution of the {args.jobs} queued jobs by 2 workers (jobs/s)':58} {executed:12.0f}")
    print(f"{f'end-to-end latency p50, {args.latency_jobs} jobs, 2 workers (ms)':58} "
          f"{statistics.median(lat):12.1f} {'':>12} {'<= 50':>14}")
    print(f"{'end-to-end latency p99 (ms)':58} {percentile(lat, 99):12.1f} {'':>12} {'<= 200':>14}")
    print(f"{f'job list GET p99 during {args.waiters} WAITs (ms)':58} "
          f"{percentile(list_times, 99):12.1f} {'':>12} {'<= 100':>14}")
    print(f"{'  job list GET p50 (ms)':58} {statistics.median(list_times):12.1f}")
    print(f"{'  waiters answered':58} {released:12d} {args.waiters:12d}")


if __name__ == "__main__":
    main()
