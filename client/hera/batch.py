"""``hera batch``: many independent tool runs with bounded concurrency.

The batch file holds one run per line (``TOOL ARG ...`` as in a script, without ``%N``
temporaries), or is a CSV file (``.csv``) whose header names the parameters, with a
``tool`` column or the tool given by ``--tool``. Every finished run is appended to a
state file (JSON lines, by default ``FILE.hera-state``); running the batch again
skips the runs recorded there as COMPLETED.
"""
from __future__ import annotations

import csv
import hashlib
import json
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from .errors import HeraError, JobFailed
from .script import parse_script, temporaries


@dataclass
class Task:
    number: int          # line of the batch file (CSV: row, header is line 1)
    tool: str
    args: list = field(default_factory=list)
    params: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        text = json.dumps([self.tool, self.args, sorted(self.params.items())])
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def read_tasks(path, tool: str | None = None) -> list[Task]:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise HeraError(f"cannot read {path}: {err.strerror}")
    if path.suffix.lower() == ".csv":
        return _csv_tasks(text, tool, path)
    tasks = []
    for line in parse_script(text):
        if temporaries([line]):
            raise HeraError(f"{path}:{line.number}: %N temporaries belong in scripts (hera runsc), not batches")
        tasks.append(Task(line.number, tool or line.tool, line.args if not tool else [line.tool] + line.args))
    return tasks


def _csv_tasks(text: str, tool: str | None, path: Path) -> list[Task]:
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise HeraError(f"{path}: an empty CSV file")
    tasks = []
    for number, row in enumerate(reader, 2):
        params = {k.strip(): v.strip() for k, v in row.items() if k and v is not None and v.strip() != ""}
        name = params.pop("tool", None) or tool
        if not name:
            raise HeraError(f"{path}:{number}: no tool (a 'tool' column or --tool NAME)")
        tasks.append(Task(number, name, [], params))
    return tasks


class State:
    """The state file: one JSON record per finished run; the last record of a key wins."""

    def __init__(self, path):
        self.path = Path(path)
        self.lock = threading.Lock()

    def load(self) -> dict:
        records = {}
        try:
            with open(self.path) as f:
                for line in f:
                    try:
                        record = json.loads(line)
                        records[record["key"]] = record
                    except (ValueError, KeyError):
                        continue  # a line cut by a crash
        except FileNotFoundError:
            pass
        return records

    def add(self, record: dict):
        with self.lock, open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")


class Progress:
    """A one-line progress bar on stderr (only when it is a terminal, unless forced)."""

    def __init__(self, total: int, stream=None, enabled: bool | None = None, width: int = 30):
        self.total, self.width = total, width
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.done = self.ok = self.failed = 0
        self.start = time.monotonic()
        self._last = 0.0

    def update(self, ok: bool):
        self.done += 1
        self.ok += ok
        self.failed += not ok
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or self.done == self.total):
            self._last = now
            self.draw()

    def draw(self):
        fill = int(self.width * self.done / self.total) if self.total else self.width
        rate = self.done / max(time.monotonic() - self.start, 1e-9)
        self.stream.write(f"\r[{'#' * fill}{'.' * (self.width - fill)}] {self.done}/{self.total} "
                          f"ok {self.ok} failed {self.failed} {rate:.1f}/s ")
        self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False


@dataclass
class Summary:
    total: int
    skipped: int = 0
    completed: int = 0
    failed: list = field(default_factory=list)   # (task, message)
    interrupted: bool = False
    abandoned: int = 0      # runs left in flight by a second Ctrl-C
    wall: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted


def run_batch(client, tasks: list[Task], *, state: State, concurrency: int = 4,
              keep_remote: bool = False, progress: Progress | None = None) -> Summary:
    """Run the tasks not COMPLETED in ``state``, ``concurrency`` at a time."""
    done = {k for k, r in state.load().items() if r.get("phase") == "COMPLETED"}
    todo = [t for t in tasks if t.key not in done]
    summary = Summary(total=len(tasks), skipped=len(tasks) - len(todo))
    progress = progress or Progress(len(todo))
    start = time.monotonic()

    def one(task: Task):
        record = {"key": task.key, "line": task.number, "tool": task.tool}
        try:
            run = client.run(task.tool, *task.args, keep_remote=keep_remote, **task.params)
            record.update(job=run.url, phase="COMPLETED", seconds=run.job.run_seconds())
        except JobFailed as err:
            record.update(job=err.job.url, phase=err.job.phase, error=str(err), seconds=err.job.run_seconds())
        except HeraError as err:
            record.update(phase="FAILED", error=str(err))
        state.add(record)
        return task, record

    def collect(future):
        task, record = future.result()
        if record["phase"] == "COMPLETED":
            summary.completed += 1
        else:
            summary.failed.append((task, record.get("error", record["phase"])))
        progress.update(record["phase"] == "COMPLETED")

    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    pending = {pool.submit(one, t) for t in todo}
    try:
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                collect(future)
    except KeyboardInterrupt:
        # stop submitting; the runs in flight finish and are recorded, unless a second
        # Ctrl-C leaves them to the service (the next run of the batch runs them again)
        summary.interrupted = True
        running = {f for f in pending if not f.cancel()}
        progress.close()
        print(f"interrupted: waiting for the {len(running)} run(s) in flight "
              "(Ctrl-C again to leave them running on the service)", file=sys.stderr)
        try:
            while running:
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    collect(future)
        except KeyboardInterrupt:
            summary.abandoned = len(running)
    finally:
        pool.shutdown(wait=not summary.abandoned, cancel_futures=True)
        progress.close()
        summary.wall = time.monotonic() - start
    return summary
