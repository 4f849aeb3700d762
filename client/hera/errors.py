"""The client's exceptions: every failure the user sees is one ``HeraError`` line."""
from __future__ import annotations


class HeraError(Exception):
    """A request, a job or a local step failed; ``str()`` is a one-line message.

    ``status`` is the HTTP status when the service answered, else None.
    """

    def __init__(self, message: str, status: int | None = None):
        super().__init__(" ".join(str(message).split()))
        self.status = status


class JobFailed(HeraError):
    """A remote job ended in ERROR or ABORTED; ``job`` is its :class:`hera.uws.JobInfo`."""

    def __init__(self, message: str, job):
        super().__init__(message)
        self.job = job
