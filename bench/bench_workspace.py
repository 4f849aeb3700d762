"""Workspace benchmark: 1 GiB up and down through the REST API, and saving a TAP result.

    python bench/bench_workspace.py [--size-mib 1024] [--rows 100000] [--skip-tap]

Starts gunicorn (gevent, one worker, as ``hera serve`` runs it; ``--server werkzeug``: werkzeug's
threaded server instead) on a temporary data
directory and, for the TAP part, one ``hera worker`` on the Redis at HERA_REDIS_URL
(default redis://127.0.0.1:6379/0). Prints a table; the baselines are measured in the
same run on the same disk:

- a plain copy of the same file (``cp --reflink=never``, and a read/write loop as a
  program copies) against the streamed PUT and GET of it (the download is once written
  to a file on the same disk, as the copies are, and once read and discarded);
- the peak resident memory of the gunicorn worker while the file passes through it,
  against its memory before (streaming keeps it flat);
- saving a finished TAP job's result server-side (``action=save``) against downloading
  the result and uploading it again.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil
import requests

from machine import describe, free_port

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MiB = 1 << 20
CHUNK = 4 * MiB


class Sized:
    """A file that requests sends with its Content-Length, in large blocks."""

    def __init__(self, path: Path):
        self.f = open(path, "rb")
        self.length = path.stat().st_size

    def __len__(self):
        return self.length

    def read(self, n: int = -1) -> bytes:
        return self.f.read(CHUNK)


class PeakRSS(threading.Thread):
    """Samples the resident memory of ``pid`` and its children every 20 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.running = True

    def rss(self) -> int:
        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                total = max(total, p.memory_info().rss)  # the largest process: the worker
            except psutil.NoSuchProcess:
                pass
        return total

    def run(self):
        while self.running:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.02)

    def stop(self) -> int:
        self.running = False
        self.join()
        return self.peak


def wait_up(url: str, proc: subprocess.Popen, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            requests.get(url + "/tap/availability", timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skip-tap", action="store_true")
    parser.add_argument("--server", choices=["gunicorn", "werkzeug"], default="gunicorn",
                        help="gunicorn with gevent workers (as `hera serve`), or werkzeug's threaded server")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="hera-bench-ws-", dir=os.environ.get("HERA_BENCH_DIR")))
    data = tmp / "data"
    redis_url = os.environ.get("HERA_REDIS_URL", "redis://127.0.0.1:6379/0")
    env = {**os.environ, "HERA_DATA_DIR": str(data), "HERA_REDIS_URL": redis_url,
           "HERA_QUEUE": f"bench-ws-{uuid.uuid4().hex[:8]}", "HERA_WORKSPACE_QUOTA_BYTES": str(16 << 30),
           "HERA_TAP_MAXREC_DEFAULT": str(max(args.rows, 100_000)), "PYTHONPATH": str(REPO)}
    procs = []
    rows = []
    try:
        # the user and, for the TAP part, the catalogue
        out = subprocess.run([sys.executable, "-m", "vo_service.cli", "user", "add", "bench"], env=env, cwd=REPO,
                             capture_output=True, text=True, check=True)
        token = out.stdout.strip().splitlines()[-1]
        if not args.skip_tap:
            loader = (f"from vo_service import create_app; from vo_service.app import init_database; "
                      f"from tap_catalog import demo; app = create_app(); init_database(app); h = app.extensions['hera']; "
                      f"print(demo.load(h.engine, h.tableset, demo.generate({args.rows}, 1), replace=True))")
            subprocess.run([sys.executable, "-c", loader], env=env, cwd=REPO, check=True, capture_output=True)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        if args.server == "gunicorn":
            command = [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1", "--timeout", "600",
                       "-b", f"127.0.0.1:{port}", "wsgi:app"]
        else:
            command = [sys.executable, "-c", "from werkzeug.serving import run_simple; from wsgi import app; "
                       f"run_simple('127.0.0.1', {port}, app, threaded=True)"]
        server = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                                  stderr=open(tmp / "server.log", "wb"))
        procs.append(server)
        wait_up(url, server)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"

        # -- 1 GiB up and down, against cp on the same disk -------------------------------------
        size = args.size_mib * MiB
        src = tmp / "big.bin"
        block = os.urandom(MiB)
        with open(src, "wb") as f:
            for i in range(args.size_mib):
                f.write(block[i % 7:] + block[:i % 7])
        copy_s, _ = timed(lambda: subprocess.run(["cp", "--reflink=never", str(src), str(tmp / "copy.bin")], check=True))
        (tmp / "copy.bin").unlink()

        def user_space_copy():
            with open(src, "rb") as fin, open(tmp / "copy.bin", "wb") as fout:
                for chunk in iter(lambda: fin.read(CHUNK), b""):
                    fout.write(chunk)
        loop_s, _ = timed(user_space_copy)
        (tmp / "copy.bin").unlink()

        def sha256_of_file():
            h = hashlib.sha256()
            with open(src, "rb") as fin:
                for chunk in iter(lambda: fin.read(CHUNK), b""):
                    h.update(chunk)
        hash_s, _ = timed(sha256_of_file)

        watch = PeakRSS(server.pid)
        before = watch.rss()
        watch.start()
        up_s, r = timed(lambda: session.put(f"{url}/workspace/bench/big.bin", data=Sized(src)))
        assert r.status_code == 201, r.text
        up_peak = watch.stop()

        def download():
            with session.get(f"{url}/workspace/bench/big.bin", stream=True) as resp, open(tmp / "down.bin", "wb") as f:
                resp.raise_for_status()
                for chunk in resp.iter_content(CHUNK):
                    f.write(chunk)
        def download_discarded():
            with session.get(f"{url}/workspace/bench/big.bin", stream=True) as resp:
                resp.raise_for_status()
                return sum(len(chunk) for chunk in resp.iter_content(CHUNK))
        watch = PeakRSS(server.pid)
        watch.start()
        down_s, _ = timed(download)
        discard_s, received = timed(download_discarded)
        down_peak = watch.stop()
        assert (tmp / "down.bin").stat().st_size == size == received
        (tmp / "down.bin").unlink()
        src.unlink()
        mb = size / 1e6

        def vs(seconds):
            return f"{copy_s / seconds:.0%} of cp, {loop_s / seconds:.0%} of the loop"
        rows += [("plain copy, cp --reflink=never, same disk", f"{copy_s:.2f} s", f"{mb / copy_s:.0f} MB/s", "baseline"),
                 ("plain copy, read/write loop of 4 MiB blocks", f"{loop_s:.2f} s", f"{mb / loop_s:.0f} MB/s", "baseline"),
                 ("sha256 of the file (hashlib), for scale", f"{hash_s:.2f} s", f"{mb / hash_s:.0f} MB/s", ""),
                 ("PUT /workspace/… (streamed, sha256 on the way)", f"{up_s:.2f} s", f"{mb / up_s:.0f} MB/s", vs(up_s)),
                 ("GET /workspace/… written to a file", f"{down_s:.2f} s", f"{mb / down_s:.0f} MB/s", vs(down_s)),
                 ("GET /workspace/… read and discarded", f"{discard_s:.2f} s", f"{mb / discard_s:.0f} MB/s", vs(discard_s)),
                 ("server RSS before / peak PUT / peak GET", "", f"{before / MiB:.0f} / {up_peak / MiB:.0f} / "
                  f"{down_peak / MiB:.0f} MiB", f"{args.size_mib} MiB passed through")]

        # -- a TAP result: saved server-side, against down- and re-uploaded ---------------------------
        if not args.skip_tap:
            worker = subprocess.Popen([sys.executable, "-m", "vo_service.cli", "worker"], env=env, cwd=REPO,
                                      stdout=subprocess.DEVNULL, stderr=open(tmp / "worker.log", "wb"),
                                      start_new_session=True)
            procs.append(worker)
            t0 = time.perf_counter()
            r = session.post(f"{url}/tap/async", data={"LANG": "ADQL", "PHASE": "RUN", "MAXREC": args.rows,
                                                        "QUERY": f"SELECT TOP {args.rows} * FROM integral.scw"},
                             allow_redirects=False)
            job = r.headers["Location"]
            while session.get(job + "/phase").text.strip() not in ("COMPLETED", "ERROR", "ABORTED"):
                session.get(job, params={"WAIT": 10})
            job_s = time.perf_counter() - t0
            assert session.get(job + "/phase").text.strip() == "COMPLETED", session.get(job + "/error").text
            save_s, r = timed(lambda: session.post(f"{url}/workspace/bench/saved.vot",
                                                   data={"action": "save", "job": job}))
            assert r.status_code == 201, r.text
            result_mb = r.json()["size"] / 1e6

            def round_trip():
                body = session.get(job + "/results/result").content
                resp = session.put(f"{url}/workspace/bench/reuploaded.vot", data=body)
                assert resp.status_code == 201, resp.text
            trip_s, _ = timed(round_trip)
            rows += [(f"TAP async job, {args.rows} rows ({result_mb:.1f} MB VOTable)", f"{job_s:.2f} s", "", "for scale"),
                     ("download the result and upload it again", f"{trip_s:.3f} s", "", "baseline"),
                     ("save it server-side (action=save, one request)", f"{save_s:.3f} s", "",
                      f"{trip_s / save_s:.1f}x faster")]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"machine: {describe()}; server: {args.server}; other work may be running concurrently")
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
