"""The executor of TAP asynchronous jobs (``/tap/async``): the query's result becomes
the job's result ``result``, written to the job's directory while rows stream.

Inline uploads (``UPLOAD=name,param:part``) were saved by the UWS binding as the job's
files ``uploads/part``. The owner's groups are read when the job runs, so a user who
joined a group since sees that group's private science windows.
"""
from __future__ import annotations

from flask import current_app

from accounts import users

from . import query


def _groups(engine, owner: str | None) -> frozenset[str] | None:
    if owner is None:
        return None
    user = users.get_user(engine, owner)
    return frozenset(user.groups) if user is not None else frozenset()


def run(job) -> None:
    hera = current_app.extensions["hera"]
    limits = hera.tap_limits
    uploads_dir = job.directory / "uploads"

    def inline(part: str):
        path = uploads_dir / part
        if "/" in part or part.startswith(".") or not path.is_file():
            return None
        return path.open("rb")

    record = hera.jobs.store.get(job.id)
    parameters = dict(job.parameters)
    if record is not None and record.run_id is not None:
        parameters["runid"] = record.run_id  # a UWS control parameter, echoed as TAP's RUNID
    try:
        request = query.parse_parameters(parameters, limits)
        uploads = query.read_uploads(request, inline, limits)
        chunks = query.execute(hera.engine, hera.tableset, request, uploads=uploads,
                               user_groups=_groups(hera.engine, job.owner))
    except query.TapError as err:
        raise RuntimeError(err.message) from None
    path = job.workdir / f"result.{request.renderer.extension}"
    with open(path, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
    job.add_result("result", path, request.renderer.media_type)
