"""Tools benchmark: 200 fstatistic jobs submitted at once to 2 workers, against the same
200 calls made directly in one process.

    python bench/bench_tools.py [--jobs 200] [--workers 2] [--clients 8] [--rows 1000]

Serves the application over real HTTP (werkzeug, threaded) on a temporary data directory
against the Redis at HERA_REDIS_URL (default redis://127.0.0.1:6379/0), starts real
``hera worker`` processes, puts one FITS table of ``--rows`` rows into a user's
workspace, then:

1. direct: ``fstatistic(local_path, "RATE", out)`` called ``--jobs`` times in this process;
2. service: ``--jobs`` jobs (distinct output paths, so no reuse) POSTed with PHASE=RUN by
   ``--clients`` threads at once; wall time from the first POST until every job is final;
3. reuse: the same ``--jobs`` jobs again, now each reusing its twin's products;
4. trivial UWS jobs (``bench/uws_trivial.py``, no tool at all) submitted the same way: the
   job engine's own share of the overhead.

Prints a table with wall time, jobs/s and the ratio to the direct calls.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests
from astropy.io import fits
from sqlalchemy import func, select
from werkzeug.serving import make_server

from machine import describe

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_table(path: Path, rows: int) -> None:
    rng = np.random.default_rng(1)
    fits.BinTableHDU.from_columns([
        fits.Column("TIME", "D", unit="s", array=np.arange(rows, dtype=float)),
        fits.Column("RATE", "E", unit="count/s", array=rng.normal(100, 10, rows)),
    ], name="RATE").writeto(path, overwrite=True)


def wait_final(store, ids: list[str], timeout: float) -> float:
    from uws.store import jobs_table as t
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.engine.connect() as conn:
            done = conn.execute(select(func.count()).where(
                t.c.id.in_(ids), t.c.phase.in_(["COMPLETED", "ERROR", "ABORTED"]))).scalar()
        if done == len(ids):
            return time.perf_counter()
        time.sleep(0.05)
    raise RuntimeError(f"only {done} of {len(ids)} jobs finished within {timeout} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args()

    from accounts import users
    from tools_registry.ftools.fstatistic import fstatistic
    from uws import JobList
    from uws.binding import mount
    from vo_service import create_app
    from vo_service.app import init_database

    data = Path(tempfile.mkdtemp(prefix="hera-bench-tools-"))
    config = {"HERA_DATA_DIR": str(data), "HERA_QUEUE": f"bench-tools-{uuid.uuid4().hex[:8]}",
              "HERA_REDIS_URL": os.environ.get("HERA_REDIS_URL", "redis://127.0.0.1:6379/0"),
              "HERA_SWEEP_INTERVAL": 5}
    app = create_app(config)
    init_database(app)
    mount(app, JobList("bench-trivial", "uws_trivial:run"), "/bench-trivial")
    token = users.add_user(app.extensions["hera"].engine, "bench")
    table = data / "rate.fits"
    make_table(table, args.rows)
    ws = app.extensions["workspaces"].for_user("bench")
    ws.store("rate.fits", table, move=False)

    # 1. direct calls, in this process
    out = data / "direct.txt"
    started = time.perf_counter()
    for _ in range(args.jobs):
        fstatistic(str(table), "RATE", str(out))
    direct = time.perf_counter() - started

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["HERA_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    env = {**os.environ, **{k: str(v) for k, v in config.items()}, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "bench")])}
    workers = [subprocess.Popen([sys.executable, "-m", "vo_service.cli", "worker"], env=env, cwd=REPO,
                                start_new_session=True, stderr=subprocess.DEVNULL)
               for _ in range(args.workers)]
    try:
        from rq import Worker
        redis = app.extensions["hera"].redis
        deadline = time.monotonic() + 60
        while len([w for w in Worker.all(connection=redis) if config["HERA_QUEUE"] in w.queue_names()]) < args.workers:
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not start")
            time.sleep(0.2)
        local = threading.local()

        def submit(label, i):
            if not hasattr(local, "session"):
                local.session = requests.Session()
                local.session.headers["Authorization"] = "Bearer " + token
            if label == "trivial":
                r = local.session.post(base + "/bench-trivial", data={"PHASE": "RUN"}, allow_redirects=False)
            else:
                r = local.session.post(base + "/tools/fstatistic", allow_redirects=False, data={
                    "PHASE": "RUN", "infile": "rate.fits", "colname": "RATE", "outfile": f"stats/{i}.txt"})
            assert r.status_code == 303, r.text
            return r.headers["Location"].rsplit("/", 1)[-1]

        rows = []
        store = app.extensions["hera"].jobs.store
        for label in ("service", "reuse", "trivial"):
            started = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                ids = list(pool.map(lambda i: submit(label, i), range(args.jobs)))
            submitted = time.perf_counter() - started
            wall = wait_final(store, ids, timeout=1200) - started
            jobs = [store.get(i) for i in ids]
            bad = [j for j in jobs if j.phase.value != "COMPLETED"]
            if bad:
                raise RuntimeError(f"{len(bad)} jobs did not complete: {bad[0].error}")
            reused = sum("reused_from" in j.info for j in jobs)
            rows.append((label, wall, submitted, reused))
    finally:
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            w.wait(timeout=30)
        server.shutdown()

    print(f"machine: {describe()}")
    print(f"{args.jobs} fstatistic calls on a {args.rows}-row table; {args.workers} workers, {args.clients} clients")
    print(f"{'run':<28} {'wall (s)':>9} {'jobs/s':>8} {'x direct':>9} {'submit (s)':>11} {'reused':>7}")
    print(f"{'direct, one process':<28} {direct:9.2f} {args.jobs / direct:8.1f} {1.0:9.1f} {'-':>11} {'-':>7}")
    for label, wall, submitted, reused in rows:
        name = {"service": "service, fresh jobs", "reuse": "service, identical jobs",
                "trivial": "UWS only, trivial jobs"}[label]
        print(f"{name:<28} {wall:9.2f} {args.jobs / wall:8.1f} {wall / direct:9.1f} {submitted:11.2f} {reused:7d}")


if __name__ == "__main__":
    main()
