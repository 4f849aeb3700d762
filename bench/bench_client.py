"""Benchmark of the ``hera`` client: one ``hera batch`` of many light tool runs, and the
client's install size.

A service (werkzeug, threaded) and N ``hera worker`` processes run on a temporary data
directory with their own Redis queue; ``hera batch`` (the command, in a subprocess)
fans out the runs with bounded concurrency. The baseline, measured in the same run, is
the tasks' own run time (each job's endTime - startTime, from the batch's state file)
summed and divided by the number of workers: the wall time of a perfect scheduler with
no client, HTTP or queue overhead.

Install size: a venv made with ``--without-pip``, the client installed into it by the
outer pip (``pip --python VENV/bin/python install ./client``); every byte of the venv
counted (symbolic links not followed).

    python bench/bench_client.py [--runs 500] [--workers 2] [--concurrency 8]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SERVER = r"""
import json
from werkzeug.serving import make_server
from accounts import users
from vo_service import create_app
from vo_service.app import init_database

app = create_app()
init_database(app)
token = users.add_user(app.extensions["hera"].engine, "bench", [])
server = make_server("127.0.0.1", 0, app, threaded=True)
url = f"http://127.0.0.1:{server.server_port}"
app.config["HERA_BASE_URL"] = url
print(json.dumps({"url": url, "token": token}), flush=True)
server.serve_forever()
"""


@contextlib.contextmanager
def running_service(work: Path, redis_url: str, workers: int):
    """A service (werkzeug, in a subprocess) and ``workers`` RQ workers on ``work``, ended on
    leaving: yields ``(info, env)``, ``info`` with the service's ``url`` and alice's ``token``."""
    env = {**os.environ, "HERA_DATA_DIR": str(work / "data"), "HERA_REDIS_URL": redis_url,
           "HERA_QUEUE": f"hera-bench-{uuid.uuid4().hex[:8]}", "PYTHONPATH": str(REPO)}
    env.pop("HERA_URL", None)
    env.pop("HERA_TOKEN", None)
    procs = []
    try:
        server = subprocess.Popen([sys.executable, "-c", SERVER], env=env, cwd=REPO, stdout=subprocess.PIPE,
                                  stderr=open(work / "server.log", "wb"), start_new_session=True)
        procs.append(server)
        info = json.loads(server.stdout.readline())
        for _ in range(workers):
            procs.append(subprocess.Popen([sys.executable, "-m", "vo_service.cli", "worker"], env=env,
                                          cwd=REPO, stdout=subprocess.DEVNULL,
                                          stderr=open(work / "workers.log", "ab"), start_new_session=True))
        yield info, env
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(20)


def install_size(work: Path) -> int:
    venv = work / "client-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    source = shutil.copytree(REPO / "client", work / "client", ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__"))  # pip builds in the source tree: not in the checkout
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
                    str(source)], check=True, capture_output=True)
    return sum(p.lstat().st_size for p in venv.rglob("*") if p.is_file() and not p.is_symlink())


def make_input(path: Path):
    import numpy as np
    from astropy.io import fits
    rng = np.random.default_rng(3)
    fits.BinTableHDU.from_columns([fits.Column("TIME", "D", array=np.arange(100.0)),
                                   fits.Column("RATE", "E", array=rng.uniform(0, 200, 100))],
                                  name="RATE").writeto(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=8, help="hera batch -j")
    ap.add_argument("--redis", default=os.environ.get("HERA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    opts = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="hera-bench-client-") as tmp:
        work = Path(tmp)
        size = install_size(work)
        with running_service(work, opts.redis, opts.workers) as (info, env):
            laptop = work / "laptop"
            laptop.mkdir()
            make_input(laptop / "rate.fit")
            # distinct parameters, so that the service computes every run (no reuse)
            lines = [f"fstatistic rate.fit RATE minval=-{i}" for i in range(1, opts.runs + 1)]
            (laptop / "runs.txt").write_text("\n".join(lines) + "\n")
            client_env = {**env, "HERA_URL": info["url"], "HERA_TOKEN": info["token"],
                          "XDG_CONFIG_HOME": str(work / "xdg"), "PYTHONPATH": str(REPO / "client")}
            time.sleep(2)  # the workers' start-up is not the batch's time
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.monotonic()
            batch = subprocess.run([sys.executable, "-m", "hera", "batch", "runs.txt", "-j", str(opts.concurrency),
                                    "--no-progress"], cwd=laptop, env=client_env, capture_output=True, text=True)
            wall = time.monotonic() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            records = [json.loads(line) for line in (laptop / "runs.txt.hera-state").read_text().splitlines()]
    completed = [r for r in records if r["phase"] == "COMPLETED"]
    own = sum(r["seconds"] or 0.0 for r in completed)
    ideal = own / opts.workers
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(batch.stderr.strip().splitlines()[-1] if batch.stderr.strip() else "(no batch summary)")
    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| runs (completed / asked) | {len(completed)} / {opts.runs} |")
    print(f"| workers, hera batch -j | {opts.workers}, {opts.concurrency} |")
    print(f"| wall time of the batch | {wall:.1f} s |")
    print(f"| the tasks' own run time, summed | {own:.1f} s |")
    print(f"| ideal wall time (summed / workers) — baseline | {ideal:.1f} s |")
    print(f"| wall / ideal | {wall / ideal:.2f} |" if ideal else "| wall / ideal | - |")
    print(f"| runs per second | {len(completed) / wall:.1f} |")
    print(f"| mean own time per task | {own / max(len(completed), 1) * 1000:.0f} ms |")
    print(f"| CPU time of the hera batch process | {client_cpu:.1f} s |")
    print(f"| load average at the end (1 min) | {os.getloadavg()[0]:.1f} |")
    print(f"| client install (venv --without-pip + hera-client) | {size / 1e6:.2f} MB ({size} bytes) |")
    if batch.returncode != 0:
        sys.exit(f"hera batch failed: {batch.stderr[-2000:]}")


if __name__ == "__main__":
    main()
