"""The UWS 1.1 job: its phases, the record the store keeps, and the job list it belongs to."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Phase(str, enum.Enum):
    PENDING = "PENDING"
    QUEUED = "QUEUED"
    EXECUTING = "EXECUTING"
    COMPLETED = "COMPLETED"
    ERROR = "ERROR"
    ABORTED = "ABORTED"
    UNKNOWN = "UNKNOWN"
    HELD = "HELD"
    SUSPENDED = "SUSPENDED"
    ARCHIVED = "ARCHIVED"


#: phases a job cannot leave by itself (UWS 1.1 §2.1.3); WAIT returns at once in them
FINAL = frozenset({Phase.COMPLETED, Phase.ERROR, Phase.ABORTED, Phase.ARCHIVED})
#: phases in which a job can be aborted
ABORTABLE = frozenset({Phase.PENDING, Phase.QUEUED, Phase.EXECUTING, Phase.HELD, Phase.SUSPENDED})
#: phases from which PHASE=RUN starts the job
RUNNABLE = frozenset({Phase.PENDING, Phase.HELD})


class UWSError(Exception):
    """A request the UWS binding refuses: ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Result:
    id: str
    path: str  # relative to the job's directory
    content_type: str = "application/octet-stream"
    size: int | None = None


@dataclass(frozen=True)
class ErrorSummary:
    message: str
    type: str = "fatal"  # or "transient"
    has_detail: bool = False


@dataclass
class Job:
    id: str
    joblist: str
    owner: str | None
    phase: Phase
    creation_time: datetime
    execution_duration: int  # seconds, 0 = unlimited
    destruction: datetime | None
    parameters: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    quote: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    results: list[Result] = field(default_factory=list)
    error: ErrorSummary | None = None
    #: dotted path of the function that runs the job (from its job list, never from a request)
    executor: str = ""
    #: free-form information shown in uws:jobInfo (tool version, reuse, worker host, ...)
    info: dict[str, str] = field(default_factory=dict)


@dataclass
class JobList:
    """A list of jobs that run one kind of work, mountable as a UWS REST resource.

    ``executor`` is the dotted path ``"module:function"`` of ``run(job: JobContext)``,
    imported in the RQ work horse. ``check_parameters(parameters, owner)`` returns the
    normalized parameters or raises ``UWSError(400, …)``; it is called when a job is
    created or changed and again when it is started.
    """

    name: str
    executor: str
    check_parameters: object = None
    title: str = ""
    #: parameter names that are case-insensitive and normalized to lower case (TAP's)
    case_insensitive: bool = False
    #: ``error_document(message) -> (bytes, media type)`` for the error resource; default
    #: text/plain (TAP serves a VOTable error document there)
    error_document: object = None

    def checked(self, parameters: dict[str, str], owner: str | None) -> dict[str, str]:
        if self.check_parameters is None:
            return dict(parameters)
        return self.check_parameters(dict(parameters), owner)
