"""Benchmark of scripts run on the service: a 20-step ``hera runsc --remote`` script
against the same steps submitted one by one from the client (``hera runsc``, each line
a job the client creates and waits for), in the same run.

A service (werkzeug, threaded) and N ``hera worker`` processes run on a temporary data
directory with their own Redis queue; the client runs in a subprocess. The steps'
parameters differ between the two modes, so that neither reuses the other's products.

    python bench/bench_runsc.py [--steps 20] [--workers 1]
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_client import make_input, running_service

REPO = Path(__file__).resolve().parents[1]


def script(steps: int, offset: int) -> str:
    lines = ["ftcopy '$1[col rate]' %1"]
    lines += [f"fstatistic %1 RATE minval=-{offset + i}" for i in range(1, steps)]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--redis", default=os.environ.get("HERA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hera-bench-runsc-") as tmp:
        work = Path(tmp)
        times = {}
        with running_service(work, opts.redis, opts.workers) as (info, env):
            laptop = work / "laptop"
            laptop.mkdir()
            make_input(laptop / "rate.fit")
            client_env = {**env, "HERA_URL": info["url"], "HERA_TOKEN": info["token"],
                          "XDG_CONFIG_HOME": str(work / "xdg"), "PYTHONPATH": str(REPO / "client")}
            hera = [sys.executable, "-m", "hera"]
            subprocess.run(hera + ["ws", "put", "rate.fit", "data/rate.fit"], cwd=laptop, env=client_env, check=True,
                           capture_output=True)
            time.sleep(2)  # the workers' start-up is not the scripts' time
            (laptop / "remote.hera").write_text(script(opts.steps, 0))
            (laptop / "local.hera").write_text(script(opts.steps, 1000))
            for mode, argv in (("remote", ["runsc", "--remote", "remote.hera", "data/rate.fit"]),
                               ("local", ["runsc", "local.hera", "rate.fit"])):
                start = time.monotonic()
                done = subprocess.run(hera + argv, cwd=laptop, env=client_env, capture_output=True, text=True)
                times[mode] = time.monotonic() - start
                if done.returncode:
                    sys.exit(f"{mode} script failed:\n{done.stderr[-3000:]}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print()
    print(f"| {opts.steps}-step script, {opts.workers} worker(s) | wall time | per step |")
    print("|---|---|---|")
    print(f"| `hera runsc --remote` (one job; steps as dependent jobs) | {times['remote']:.1f} s | "
          f"{times['remote'] / opts.steps * 1000:.0f} ms |")
    print(f"| `hera runsc` (steps submitted one by one) — baseline | {times['local']:.1f} s | "
          f"{times['local'] / opts.steps * 1000:.0f} ms |")
    print(f"| ratio remote / baseline | {times['remote'] / times['local']:.2f} | |")


if __name__ == "__main__":
    main()
