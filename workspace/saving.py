"""Save to Hera: a finished UWS job's result copied into its owner's workspace, server-side.

The job is named by its id or by any URL of it (``…/tap/async/ID``,
``…/tap/async/ID/results/result``); the bytes go from the job's directory to the
workspace on the service's disks, never through the client. Another user's job is
answered exactly like a job that does not exist (404).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from uws import JobManager
from uws.job import Phase

from .store import Workspace, WorkspaceError


def parse_job_reference(reference: str) -> tuple[str, str | None]:
    """(job id, result id or None) from a job id or a job's (result) URL."""
    path = urlsplit(reference.strip()).path if "/" in reference else reference.strip()
    parts = [p for p in path.split("/") if p]
    if not parts:
        raise WorkspaceError(400, f"no job in {reference!r}")
    if "results" in parts:
        i = len(parts) - 1 - parts[::-1].index("results")
        if i == 0:
            raise WorkspaceError(400, f"no job in {reference!r}")
        return parts[i - 1], parts[i + 1] if i + 1 < len(parts) else None
    return parts[-1], None


def job_result(jobs: JobManager, owner: str, reference: str, result_id: str | None = None):
    """The local path and media type of the result of ``owner``'s finished job of ``jobs``."""
    job_id, from_url = parse_job_reference(reference)
    job = jobs.store.get(job_id)
    if job is None or job.owner != owner:
        raise WorkspaceError(404, f"no job {job_id!r}")
    if job.phase != Phase.COMPLETED:
        raise WorkspaceError(409, f"job {job_id} is {job.phase.value}, not COMPLETED: it has no result to save yet")
    wanted = result_id or from_url
    if wanted is None:
        ids = [r.id for r in job.results]
        wanted = "result" if "result" in ids else (ids[0] if len(ids) == 1 else None)
        if wanted is None:
            raise WorkspaceError(400, f"job {job_id} has results {', '.join(ids) or '(none)'}: name one with result=")
    result = next((r for r in job.results if r.id == wanted), None)
    if result is None:
        raise WorkspaceError(404, f"job {job_id} has no result {wanted!r}")
    return jobs.job_dir(job.id) / result.path, result.content_type


def save_job_result(ws: Workspace, jobs: JobManager, path: str, reference: str,
                    result_id: str | None = None) -> dict:
    """Copy the result of ``ws.owner``'s finished job of ``jobs`` into ``path`` of the workspace."""
    source, _ = job_result(jobs, ws.owner, reference, result_id)
    if not source.is_file():
        raise WorkspaceError(410, "the result file of this job is gone (destroyed?)")
    return ws.store(path, source, move=False)
