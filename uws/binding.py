"""The UWS 1.1 REST binding, written once and mounted for every job list.

``mount(app, joblist, url_prefix)`` registers the job list with the application's job
manager and serves it under ``url_prefix``: TAP's ``/tap/async`` and every tool's
``/tools/{name}`` are mounts of this one blueprint factory. The job's owner is the
name of ``flask.g.user`` as the application's authentication sets it, or None.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, g, redirect, request, send_file, url_for

from . import xml
from .job import FINAL, Job, JobList, Phase, UWSError
from .manager import JobManager, parse_datetime

XML_TYPE = "application/xml; charset=utf-8"
#: UWS's own parameters, recognised in any letter case (UWS 1.1 §2.2.3)
CONTROL = {"phase", "runid", "executionduration", "destruction", "action", "wait"}
#: the largest LAST: the largest LIMIT both databases take (a signed 64-bit integer)
LAST_MAX = 2**63 - 1


def manager() -> JobManager:
    return current_app.extensions["uws"]


def _owner() -> str | None:
    user = g.get("user")
    return user.name if user is not None else None


def _text(value) -> Response:
    return Response("" if value is None else str(value), mimetype="text/plain")


def _absolute(endpoint: str, **values) -> str:
    base = current_app.config.get("HERA_BASE_URL")
    path = url_for(endpoint, **values)
    if base:
        return base.rstrip("/") + path
    return request.host_url.rstrip("/") + path


def _no_nul(name: str, value: str) -> None:
    """Refuse a NUL character in a parameter: no parameter needs one, and PostgreSQL
    cannot store it."""
    if "\0" in name or "\0" in value:
        raise UWSError(400, f"parameter {name!r} holds a NUL character")


def upload_name_problem(field: str, filename: str | None) -> str | None:
    """What is wrong with the names of a multipart file part, or None.

    The part's name becomes the name of the job's file ``uploads/{field}`` (and is what
    ``UPLOAD=t,param:{field}`` refers to), so it must be a plain file name. The client's
    own file name is not used, but a NUL in it is refused like everywhere else; an empty
    one is what a browser sends for a file input left empty, and is accepted."""
    if not field:
        return "a multipart file part has an empty name; name it (name=\"...\") as UPLOAD or the parameter refers to it"
    if "/" in field or field.startswith(".") or not field.isprintable():
        return (f"invalid name {field!r} of a multipart file part: it becomes a file name, so it must be "
                "printable, without '/', and not start with '.'")
    if filename and "\0" in filename:
        return f"the file name of the multipart part {field!r} holds a NUL character"
    return None


def _split(values, joblist: JobList) -> tuple[dict, dict]:
    """Separate UWS control parameters (any case) from the job's own parameters."""
    control, params = {}, {}
    for name in values:
        value = values.getlist(name)[-1]
        _no_nul(name, value)
        if name.lower() in CONTROL:
            control[name.lower()] = value
        else:
            params[name.lower() if joblist.case_insensitive else name] = value
    return control, params


def make_blueprint(joblist: JobList, name: str | None = None) -> Blueprint:
    bp = Blueprint(name or "uws_" + joblist.name.replace("/", "_").replace(".", "_"), __name__)
    ep = bp.name

    def job_url(job: Job) -> str:
        return _absolute(f"{ep}.job", job_id=job.id)

    def result_url(job: Job, result) -> str:
        return _absolute(f"{ep}.result", job_id=job.id, result_id=result.id)

    def xml_response(body: bytes, status: int = 200) -> Response:
        return Response(body, status=status, content_type=XML_TYPE)

    def see_job(job_id: str) -> Response:
        return redirect(_absolute(f"{ep}.job", job_id=job_id), code=303)

    def load(job_id: str) -> Job:
        return manager().get(joblist.name, job_id, _owner())

    def save_uploads(job: Job):
        if not request.files:
            return
        directory = manager().job_dir(job.id) / "uploads"
        directory.mkdir(parents=True, exist_ok=True)
        for field, storage in request.files.items():
            storage.save(directory / field)  # names checked by create()

    def apply_phase(job: Job, phase: str):
        phase = phase.strip().upper()
        if phase == "RUN":
            manager().run(job)
        elif phase == "ABORT":
            manager().abort(job)
        else:
            raise UWSError(400, f"PHASE must be RUN or ABORT, not {phase!r}")

    @bp.get("")
    def job_list():
        phases = []
        for p in request.args.getlist("PHASE") + request.args.getlist("phase"):
            try:
                phases.append(Phase(p.strip().upper()))
            except ValueError:
                raise UWSError(400, f"unknown PHASE {p!r}; phases are {', '.join(x.value for x in Phase)}")
        after = request.args.get("AFTER") or request.args.get("after")
        after = parse_datetime(after, "AFTER") if after else None
        last = request.args.get("LAST") or request.args.get("last")
        if last is not None:
            if not (last.strip().isascii() and last.strip().isdigit()) or int(last) > LAST_MAX:
                raise UWSError(400, f"LAST must be an integer from 0 to {LAST_MAX}, not {last!r}")
            last = int(last)
        jobs = manager().list(joblist.name, _owner(), phases, after, last)
        return xml_response(xml.jobs_document(jobs, job_url))

    @bp.post("")
    def create():
        for field, storage in request.files.items(multi=True):
            problem = upload_name_problem(field, storage.filename)
            if problem:
                raise UWSError(400, problem)
        control, params = _split(request.form, joblist)
        control.update(_split(request.args, joblist)[0])
        phase = control.get("phase")
        if phase is not None and phase.strip().upper() != "RUN":
            raise UWSError(400, f"a new job can only be given PHASE=RUN, not {phase!r}")
        job = manager().create(joblist, _owner(), params, run_id=control.get("runid"),
                               execution_duration=control.get("executionduration"),
                               destruction=control.get("destruction"),
                               run=phase is not None, prepare=save_uploads)
        return see_job(job.id)

    @bp.get("/<job_id>")
    def job(job_id):
        current = load(job_id)
        wait = request.args.get("WAIT") or request.args.get("wait")
        if wait is not None:
            current = _wait(current, wait, request.args.get("PHASE") or request.args.get("phase"))
        return xml_response(xml.job_document(current, result_url))

    def _wait(current: Job, wait: str, expected: str | None) -> Job:
        try:
            seconds = int(wait)
        except ValueError:
            raise UWSError(400, f"WAIT must be an integer number of seconds, not {wait!r}")
        limit = manager().limits.wait_max
        seconds = limit if seconds < 0 else min(seconds, limit)
        if expected is not None:
            try:
                expected_phase = Phase(expected.strip().upper())
            except ValueError:
                raise UWSError(400, f"unknown PHASE {expected!r}")
        else:
            expected_phase = current.phase
        if current.phase in FINAL or current.phase != expected_phase or seconds == 0:
            return current
        box = [current]

        def still_waiting():
            box[0] = manager().store.get(current.id) or box[0]
            return box[0].phase == expected_phase

        current_app.extensions["uws_watch"].wait(current.id, still_waiting, seconds)
        return box[0]

    @bp.post("/<job_id>")
    def job_post(job_id):
        current = load(job_id)
        control, params = _split(request.form, joblist)
        if control.get("action", "").upper() == "DELETE":
            manager().delete(current)
            return redirect(_absolute(f"{ep}.job_list"), code=303)
        if "action" in control:
            raise UWSError(400, f"ACTION must be DELETE, not {control['action']!r}")
        if params:
            current = manager().set_parameters(current, params)
        if "executionduration" in control:
            manager().set_execution_duration(current, control["executionduration"])
        if "destruction" in control:
            manager().set_destruction(current, control["destruction"])
        if "runid" in control:
            manager().store.update(current.id, run_id=control["runid"])
        if "phase" in control:
            apply_phase(manager().store.get(current.id), control["phase"])
        return see_job(job_id)

    @bp.delete("/<job_id>")
    def job_delete(job_id):
        manager().delete(load(job_id))
        return redirect(_absolute(f"{ep}.job_list"), code=303)

    @bp.route("/<job_id>/phase", methods=["GET", "POST"])
    def phase(job_id):
        current = load(job_id)
        if request.method == "GET":
            return _text(current.phase.value)
        control, _ = _split(request.form, joblist)
        if "phase" not in control:
            raise UWSError(400, "POST to phase needs PHASE=RUN or PHASE=ABORT")
        apply_phase(current, control["phase"])
        return see_job(job_id)

    @bp.route("/<job_id>/executionduration", methods=["GET", "POST"])
    def executionduration(job_id):
        current = load(job_id)
        if request.method == "GET":
            return _text(current.execution_duration)
        control, _ = _split(request.form, joblist)
        if "executionduration" not in control:
            raise UWSError(400, "POST to executionduration needs EXECUTIONDURATION=seconds")
        manager().set_execution_duration(current, control["executionduration"])
        return see_job(job_id)

    @bp.route("/<job_id>/destruction", methods=["GET", "POST"])
    def destruction(job_id):
        current = load(job_id)
        if request.method == "GET":
            return _text(xml.isoformat(current.destruction) if current.destruction else "")
        control, _ = _split(request.form, joblist)
        if "destruction" not in control:
            raise UWSError(400, "POST to destruction needs DESTRUCTION=ISO 8601 timestamp")
        manager().set_destruction(current, control["destruction"])
        return see_job(job_id)

    @bp.get("/<job_id>/error")
    def error(job_id):
        current = load(job_id)
        if current.error is None:
            raise UWSError(404, f"job {job_id} has no error (phase {current.phase.value})")
        if joblist.error_document is not None:
            body, media_type = joblist.error_document(current.error.message)
            return Response(body, content_type=media_type)
        return _text(current.error.message)

    @bp.get("/<job_id>/quote")
    def quote(job_id):
        current = load(job_id)
        return _text(xml.isoformat(current.quote) if current.quote else "")

    @bp.get("/<job_id>/owner")
    def owner(job_id):
        return _text(load(job_id).owner or "")

    @bp.route("/<job_id>/parameters", methods=["GET", "POST"])
    def parameters(job_id):
        current = load(job_id)
        if request.method == "GET":
            return xml_response(xml.parameters_document(current))
        _, params = _split(request.form, joblist)
        manager().set_parameters(current, params)
        return see_job(job_id)

    @bp.route("/<job_id>/parameters/<name>", methods=["GET", "PUT"])
    def parameter(job_id, name):
        current = load(job_id)
        key = name.lower() if joblist.case_insensitive else name
        if request.method == "PUT":
            value = request.get_data(as_text=True)
            _no_nul(name, value)
            manager().set_parameters(current, {key: value})
            return see_job(job_id)
        if key not in current.parameters:
            raise UWSError(404, f"job {job_id} has no parameter {name!r}")
        return _text(current.parameters[key])

    @bp.get("/<job_id>/results")
    def results(job_id):
        return xml_response(xml.results_document(load(job_id), result_url))

    @bp.get("/<job_id>/results/<result_id>")
    def result(job_id, result_id):
        current = load(job_id)
        path = manager().result_path(current, result_id)
        content_type = next(r.content_type for r in current.results if r.id == result_id)
        return send_file(path, mimetype=content_type, conditional=True, etag=True,
                         download_name=path.name)

    return bp


def mount(app, joblist: JobList, url_prefix: str, name: str | None = None) -> Blueprint:
    """Serve ``joblist`` under ``url_prefix`` and let workers run its jobs."""
    app.extensions["uws"].register(joblist)
    bp = make_blueprint(joblist, name)
    app.register_blueprint(bp, url_prefix=url_prefix)
    return bp
