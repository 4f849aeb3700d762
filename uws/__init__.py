"""The IVOA UWS 1.1 job engine: jobs in SQL, dispatched to RQ workers.

Holds the job model (``job``), its SQL store (``store``), the manager of every UWS
operation (``manager``), the dispatch to RQ (``dispatch``), the work horse's side
(``runner``: an executor is given a :class:`JobContext`), the worker loop, the sweeper,
and the REST binding (``binding``), written once and mounted for each job list.

Imports no other Hera package today (the layers below it, ``accounts``, ``fetching`` and
``integral``, are allowed), never tap_catalog, workspace, tools_registry or vo_service:
the services that executors use reach them through the job context, which the
composition root (vo_service) fills.
"""
from .dispatch import RQDispatch
from .job import FINAL, ErrorSummary, Job, JobList, Phase, Result, UWSError
from .manager import JobManager, Limits
from .runner import JobContext

__all__ = ["FINAL", "ErrorSummary", "Job", "JobContext", "JobList", "JobManager", "Limits",
           "Phase", "RQDispatch", "Result", "UWSError"]
