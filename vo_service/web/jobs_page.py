"""The jobs pages: the user's jobs across every job list (TAP queries and tools), and a
page per job that follows it live by polling the UWS job with ``WAIT``."""
from __future__ import annotations

import json

from flask import abort, current_app, render_template, request, url_for
from werkzeug.routing import BuildError

from accounts import auth
from uws import FINAL, Phase
from .blueprint import bp, service_json

#: how many jobs the list shows at most
LIST_LIMIT = 500
#: a JSON result (the tools' provenance) up to this size is shown on the job's page
INLINE_JSON_BYTES = 64 * 1024


def uws_endpoint(joblist: str) -> str | None:
    """The blueprint that serves ``joblist`` (a mount of ``uws.binding``): the one named
    after the job list, as ``uws.binding.mount`` names it by default, or the one mounted
    at ``/{joblist}`` (the tools' ``tools/{name}`` lists); None when it is not mounted."""
    default = "uws_" + joblist.replace("/", "_").replace(".", "_")
    if default in current_app.blueprints:
        return default
    for rule in current_app.url_map.iter_rules():
        if rule.endpoint.endswith(".job") and rule.rule == f"/{joblist}/<job_id>":
            return rule.endpoint.rsplit(".", 1)[0]
    return None


def uws_job_url(joblist: str, job_id: str) -> str | None:
    endpoint = uws_endpoint(joblist)
    if endpoint is None:
        return None
    try:
        return url_for(f"{endpoint}.job", job_id=job_id)
    except BuildError:
        return None


def tool_name(joblist: str) -> str:
    """What the pages call a job list: the tool's name, or "TAP query"."""
    if joblist == "tap":
        return "TAP query"
    return joblist.removeprefix("tools/")


def parameter_summary(parameters: dict, width: int = 90) -> str:
    """A job's parameters on one line, for the list: a TAP job's query, else name=value."""
    query = next((v for k, v in parameters.items() if k.lower() == "query"), None)
    text = " ".join(query.split()) if query else "  ".join(f"{k}={v}" for k, v in parameters.items())
    return text if len(text) <= width else text[:width - 1] + "…"


def workspace_outputs(job) -> list[tuple[str, str]]:
    """(parameter, workspace path) of a tool job's output files, from the tool's descriptor."""
    if not job.joblist.startswith("tools/") or not job.owner:
        return []
    descriptor = service_json(f"/{job.joblist}/descriptor?format=json") or {}
    outs = [p["name"] for p in descriptor.get("parameters", [])
            if p.get("type") in ("file", "table") and p.get("direction") == "out"]
    return [(name, job.parameters[name].split("[")[0]) for name in outs if job.parameters.get(name)]


def _inline_json(job, result) -> str | None:
    if result.content_type != "application/json":
        return None
    path = current_app.extensions["uws"].job_dir(job.id) / result.path
    try:
        if path.stat().st_size > INLINE_JSON_BYTES:
            return None
        return json.dumps(json.loads(path.read_text()), indent=2, ensure_ascii=False)
    except (OSError, ValueError):
        return None


def _phase_filter() -> list[Phase]:
    phases = []
    for value in request.args.getlist("phase"):
        try:
            phases.append(Phase(value.upper()))
        except ValueError:
            abort(400, f"unknown phase {value!r}")
    return phases


@bp.get("/ui/jobs")
def jobs():
    user = auth.current_user()
    rows = []
    if user is not None:
        store = current_app.extensions["uws"].store
        found = store.list(None, user.name, _phase_filter() or None, None, LIST_LIMIT)
        rows = [{"job": j, "tool": tool_name(j.joblist), "summary": parameter_summary(j.parameters),
                 "tool_page": url_for("web.select") if j.joblist == "tap" else url_for("web.tool", name=tool_name(j.joblist))}
                for j in found]
    return render_template("jobs.html", rows=rows, phases=[p.value for p in Phase],
                           selected=request.args.getlist("phase"), limit=LIST_LIMIT,
                           active=any(r["job"].phase not in FINAL for r in rows))


@bp.get("/ui/jobs/<job_id>")
def job(job_id):
    found = current_app.extensions["uws"].store.get(job_id)
    if found is None or found.owner != auth.current_owner():
        abort(404, f"no job {job_id!r} of yours" + ("" if auth.current_user() else
                                                     " (sign in to see your own jobs)"))
    uws_url = uws_job_url(found.joblist, found.id)
    results = [{"result": r, "url": f"{uws_url}/results/{r.id}" if uws_url else None,
                "image": r.content_type.startswith("image/"), "json": _inline_json(found, r)}
               for r in found.results]
    return render_template("job.html", job=found, tool=tool_name(found.joblist), uws_url=uws_url,
                           results=results, final=found.phase in FINAL, outputs=workspace_outputs(found),
                           tool_page=url_for("web.tool", name=tool_name(found.joblist))
                           if found.joblist != "tap" else url_for("web.select"))
