"""The executor of TAP asynchronous jobs (``/tap/async``): the query's result becomes
the job's result ``result``, written to the job's directory while rows stream.

Inline uploads (``UPLOAD=name,param:part``) were saved by the UWS binding as the job's
files ``uploads/part``. The owner's groups are read when the job runs, so a user who
joined a group since sees that group's private science windows.

The catalogue (engine, tables, TAP limits) and the result sinks (:mod:`.sinks`: where
else a result goes, such as ``DEST=``) are the job context's ``services``.
"""
from __future__ import annotations

from accounts import users

from . import query


def _groups(engine, owner: str | None) -> frozenset[str] | None:
    if owner is None:
        return None
    user = users.get_user(engine, owner)
    return frozenset(user.groups) if user is not None else frozenset()


def run(job) -> None:
    """Executor of TAP's async job list (``job`` is a ``uws.JobContext``)."""
    services = job.services
    services.result_sinks.check_job(job)
    limits = services.tap_limits
    uploads_dir = job.directory / "uploads"

    def inline(part: str):
        path = uploads_dir / part
        if "/" in part or part.startswith(".") or not path.is_file():
            return None
        return path.open("rb")

    parameters = dict(job.parameters)
    if job.run_id is not None:
        parameters["runid"] = job.run_id  # a UWS control parameter, echoed as TAP's RUNID
    try:
        request = query.parse_parameters(parameters, limits)
        uploads = query.read_uploads(request, inline, limits)
        chunks = query.execute(services.engine, services.tableset, request, uploads=uploads,
                               user_groups=_groups(services.engine, job.owner))
    except query.TapError as err:
        raise RuntimeError(err.message) from None
    path = job.workdir / f"result.{request.renderer.extension}"
    with open(path, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
    job.add_result("result", path, request.renderer.media_type)
    services.result_sinks.job_result(job, request.renderer)
