"""The tools under ``/tools``: the index, one UWS job list per tool and per version
(mounts of ``uws.binding``), and each one's DataLink service descriptor.

- ``/tools`` — the index: HTML, ``?format=json`` or ``?format=votable`` (or by Accept);
- ``/tools/{name}`` — UWS job list running the latest version;
- ``/tools/{name}@{version}`` — UWS job list pinned to that version;
- ``/tools/{name}/descriptor``, ``/tools/{name}@{version}/descriptor`` — the DataLink
  service descriptor (VOTable), or JSON with ``?format=json``;
- ``/runsc`` — UWS job list of scripts run on the service (:mod:`tools_registry.runsc`).
"""
from __future__ import annotations

import functools
import re

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request

from uws import JobList, UWSError
from uws.binding import mount

from . import descriptor, index, jobs, runsc


def _base() -> str:
    base = current_app.config.get("HERA_BASE_URL") or request.host_url.rstrip("/")
    return base.rstrip("/") + "/tools"


_BY_MEDIA_TYPE = {"application/json": "json", "application/x-votable+xml": "votable",
                  "text/xml": "votable", "application/xml": "votable", "text/html": "html"}


def _format(default: str) -> str:
    """``?format=`` (html, json, votable), else the Accept header's first choice."""
    wanted = (request.args.get("format") or request.args.get("FORMAT") or "").strip().lower()
    if not wanted:
        return _BY_MEDIA_TYPE.get(request.accept_mimetypes.best, default)
    kind = _BY_MEDIA_TYPE.get(wanted, wanted)
    if kind == "xml":
        kind = "votable"
    if kind not in ("html", "json", "votable"):
        raise UWSError(400, f"format must be html, json or votable, not {wanted!r}")
    return kind


def _index():
    registry = current_app.extensions["tools"]
    kind = _format("html")
    if kind == "json":
        return jsonify(index.to_json(registry, _base()))
    if kind == "votable":
        return Response(index.to_votable(registry, _base()), content_type=descriptor.MEDIA_TYPE)
    return render_template("tools_registry/index.html", registry=registry, base=_base())


def _descriptor(name: str, version: str | None):
    tool = current_app.extensions["tools"].get(name, version)
    url = f"{_base()}/{name}" + (f"@{version}" if version else "")
    if _format("votable") == "json":
        return jsonify(descriptor.to_json(tool, url))
    return Response(descriptor.to_votable(tool, url), content_type=descriptor.MEDIA_TYPE)


def _endpoint(text: str, number: int) -> str:
    """A Flask endpoint name for a tool reference (unique: ``a-b`` and ``a_b`` differ)."""
    return re.sub(r"\W", "_", text) + f"_{number}"


def init_app(app: Flask, services) -> None:
    """Serve the tools of ``services.tools`` (the service's handles, whose workspaces and
    TAP limits check the jobs' parameters)."""
    registry = services.tools
    app.extensions["tools"] = registry
    bp = Blueprint("tools", __name__, template_folder="templates")
    bp.add_url_rule("", "index", _index)
    refs = [(name, version) for name in registry.names()
            for version in [None] + [t.version for t in registry.versions(name)]]
    for number, (tool_name, version) in enumerate(refs):
        ref = tool_name + (f"@{version}" if version else "")
        joblist = JobList(jobs.joblist_name(tool_name, version), jobs.EXECUTOR,
                          title=registry.get(tool_name, version).summary, case_insensitive=True)
        joblist.check_parameters = functools.partial(jobs.check, services, joblist.name)
        bp.add_url_rule(f"/{ref}/descriptor", "descriptor_" + _endpoint(ref, number),
                        functools.partial(_descriptor, tool_name, version))
        mount(app, joblist, f"/tools/{ref}", name="tool_" + _endpoint(ref, number))
    app.register_blueprint(bp, url_prefix="/tools")
    mount(app, runsc.joblist(services), "/runsc", name="runsc")
