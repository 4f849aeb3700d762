"""The IVOA UWS 1.1 job engine: jobs in SQL, dispatched to RQ workers.

The REST binding (``uws.binding``) is written once and mounted for each job list.
"""
from .job import FINAL, ErrorSummary, Job, JobList, Phase, Result, UWSError
from .manager import JobManager, Limits
from .runner import JobContext

__all__ = ["FINAL", "ErrorSummary", "Job", "JobContext", "JobList", "JobManager", "Limits",
           "Phase", "Result", "UWSError"]
