"""UWS 1.1 from the client's side: the job and job-list documents read into plain
objects, and the verbs (create, wait, abort, delete) on a job URL."""
from __future__ import annotations

import time
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .errors import HeraError
from .transport import Transport

NS = {"uws": "http://www.ivoa.net/xml/UWS/v1.0", "xlink": "http://www.w3.org/1999/xlink"}
HREF = "{http://www.w3.org/1999/xlink}href"
NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
FINAL = frozenset({"COMPLETED", "ERROR", "ABORTED", "ARCHIVED"})
#: longest single blocking WAIT asked of the service (s); the client loops for longer waits
WAIT_STEP = 60


@dataclass
class Result:
    id: str
    href: str
    mime_type: str | None = None
    size: int | None = None


@dataclass
class JobInfo:
    """One ``uws:job`` document (or the ``uws:jobref`` of a list: fewer fields)."""

    id: str
    url: str
    phase: str
    run_id: str | None = None
    owner: str | None = None
    creation_time: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    execution_duration: int | None = None
    destruction: str | None = None
    parameters: dict = field(default_factory=dict)
    results: list = field(default_factory=list)
    error: str | None = None
    info: dict = field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.phase in FINAL

    def result(self, result_id: str) -> Result | None:
        return next((r for r in self.results if r.id == result_id), None)

    def run_seconds(self) -> float | None:
        """endTime - startTime, when both are known."""
        if not (self.start_time and self.end_time):
            return None
        return _epoch(self.end_time) - _epoch(self.start_time)


def _epoch(stamp: str) -> float:
    from datetime import datetime, timezone
    stamp = stamp.rstrip("Z")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in stamp else "%Y-%m-%dT%H:%M:%S"
    return datetime.strptime(stamp, fmt).replace(tzinfo=timezone.utc).timestamp()


def _text(el, tag: str) -> str | None:
    child = el.find(f"uws:{tag}", NS)
    if child is None or child.get(NIL) == "true":
        return None
    return (child.text or "").strip()


def parse_job(data: bytes, url: str) -> JobInfo:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise HeraError(f"{url}: not a UWS job document ({err})")
    if root.tag != f"{{{NS['uws']}}}job":
        raise HeraError(f"{url}: not a UWS job document (root {root.tag})")
    duration = _text(root, "executionDuration")
    job = JobInfo(
        id=_text(root, "jobId") or url.rstrip("/").rsplit("/", 1)[-1], url=url,
        phase=_text(root, "phase") or "UNKNOWN", run_id=_text(root, "runId"), owner=_text(root, "ownerId"),
        creation_time=_text(root, "creationTime"), start_time=_text(root, "startTime"),
        end_time=_text(root, "endTime"), execution_duration=int(duration) if duration else None,
        destruction=_text(root, "destruction"))
    for p in root.iterfind("uws:parameters/uws:parameter", NS):
        job.parameters[p.get("id")] = p.text or ""
    for r in root.iterfind("uws:results/uws:result", NS):
        size = r.get("size")
        job.results.append(Result(r.get("id"), r.get(HREF), r.get("mime-type"), int(size) if size else None))
    message = root.find("uws:errorSummary/uws:message", NS)
    if message is not None:
        job.error = (message.text or "").strip() or "the job failed without a message"
    for el in root.iterfind("uws:jobInfo/*", NS):
        job.info[el.tag.rsplit("}", 1)[-1]] = (el.text or "").strip()
    return job


def parse_jobs(data: bytes, list_url: str) -> list[JobInfo]:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise HeraError(f"{list_url}: not a UWS job list ({err})")
    jobs = []
    for ref in root.iterfind("uws:jobref", NS):
        href = ref.get(HREF) or list_url.rstrip("/") + "/" + ref.get("id")
        jobs.append(JobInfo(id=ref.get("id"), url=href, phase=_text(ref, "phase") or "UNKNOWN",
                            run_id=_text(ref, "runId"), owner=_text(ref, "ownerId"),
                            creation_time=_text(ref, "creationTime")))
    return jobs


class UWS:
    """The UWS verbs over a :class:`Transport`."""

    def __init__(self, transport: Transport):
        self.http = transport

    def create(self, list_path: str, params, run: bool = True, run_id: str | None = None,
               fetch: bool = True) -> JobInfo:
        """Create a job (and run it); with ``fetch=False`` the job document is not read
        (one request less: the phase is then "UNKNOWN" until the first wait)."""
        form = list(params.items()) if isinstance(params, dict) else list(params)
        if run:
            form.append(("PHASE", "RUN"))
        if run_id:
            form.append(("RUNID", run_id))
        if not fetch:
            response = self.http.request("POST", list_path, form=form, follow=False, ok=(303,))
            response.close()
            url = urllib.parse.urljoin(response.url, response.headers.get("Location", ""))
            return JobInfo(id=url.rstrip("/").rsplit("/", 1)[-1], url=url, phase="UNKNOWN")
        response = self.http.request("POST", list_path, form=form)
        return parse_job(response.read(), response.url)

    def job(self, url: str, wait: int | None = None, phase: str | None = None) -> JobInfo:
        params = {}
        if wait is not None:
            params["WAIT"] = wait
            if phase:
                params["PHASE"] = phase
        timeout = (wait or 0) + self.http.timeout
        response = self.http.request("GET", url, params=params, timeout=timeout)
        return parse_job(response.read(), url)

    def wait(self, job: JobInfo, timeout: float | None = None, on_phase=None) -> JobInfo:
        """Block until the job reaches a final phase (long-polling with WAIT), or until
        ``timeout`` seconds passed (then return it as it is)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = job.phase
        while not job.final:
            step = WAIT_STEP if deadline is None else int(min(WAIT_STEP, max(0, deadline - time.monotonic())))
            if deadline is not None and step <= 0:
                return job
            before = time.monotonic()
            job = self.job(job.url, wait=step, phase=job.phase if job.phase != "UNKNOWN" else None)
            if on_phase and job.phase != seen:
                seen = job.phase
                on_phase(job)
            if not job.final and job.phase in ("PENDING", "HELD") and time.monotonic() - before < 0.5:
                time.sleep(0.5)  # a service that does not block on PENDING: do not spin
        return job

    def abort(self, url: str) -> JobInfo:
        response = self.http.request("POST", url, form={"PHASE": "ABORT"})
        return parse_job(response.read(), url)

    def delete(self, url: str) -> None:
        self.http.request("POST", url, form={"ACTION": "DELETE"}, follow=False,
                          ok=(200, 204, 303)).close()

    def list(self, list_path: str, phases=(), last: int | None = None) -> list[JobInfo]:
        params = [("PHASE", p) for p in phases]
        if last is not None:
            params.append(("LAST", last))
        response = self.http.request("GET", list_path, params=params)
        return parse_jobs(response.read(), response.url)
