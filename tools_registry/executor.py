"""The executor of every tool job list, run in an RQ work horse: inputs resolved in the
owner's workspace, identical jobs reused, the tool called, outputs delivered, provenance
recorded.

A job keeps the user's parameter strings; the tool version it ran, its reuse key and,
when it reused another job's products, that job's id go into ``jobInfo``.

Reuse: the key is a SHA-256 over the tool name and version, every parameter value with
defaults filled in, and the SHA-256 of every input file. A COMPLETED job of the same
owner with the same key gives its products to the new job (copied into its results and
into the workspace at the new job's output paths) instead of a new computation, unless
the job has ``fresh=true``.

RQ forks a work horse per job, so what the parent worker has imported is free for every
job: the worker imports this module before work starts, and this module imports the
built-in tools' modules (astropy.io.fits, matplotlib) for that reason.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
import platform
import shutil
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
from rq.timeouts import JobTimeoutException

import tools_registry.ftools.fcalc  # noqa: F401 - preloaded once per worker, see above
import tools_registry.ftools.fmerge  # noqa: F401
import tools_registry.ftools.fselect  # noqa: F401
import tools_registry.ftools.fsort  # noqa: F401
import tools_registry.ftools.fstatistic  # noqa: F401
import tools_registry.ftools.ftcopy  # noqa: F401
import tools_registry.ftools.ftlist  # noqa: F401
import tools_registry.scw.coverage  # noqa: F401
import tools_registry.scw.lcurve  # noqa: F401

from . import archive, catalogue, command, compressed
from .declaration import Tool
from .filename import output_path, split_suffix
from . import temporaries
from .jobs import check, expand, tool_of, workspace_of
from .temporaries import is_temporary

_EXTENSIONS = {"text/plain": ".txt", "application/fits": ".fits", "image/png": ".png",
               "application/json": ".json", "application/x-votable+xml": ".xml", "text/csv": ".csv"}
_TABLE_TYPES = {".xml": "application/x-votable+xml", ".vot": "application/x-votable+xml",
                ".votable": "application/x-votable+xml", ".fits": "application/fits",
                ".fit": "application/fits", ".fts": "application/fits", ".csv": "text/csv"}


@dataclass(frozen=True)
class Input:
    """One input file of a job: its workspace path and what the tool is given."""

    path: str        # workspace path ("" for a catalogue query)
    suffix: str      # CFITSIO extended syntax after the path, e.g. "[1][col RATE]"
    local: Path
    sha256: str
    size: int
    query: str | None = None  # the ADQL query whose result the input is

    @property
    def argument(self) -> str:
        return str(self.local) + self.suffix

    @property
    def name(self) -> str:
        return self.query if self.query is not None else self.path + self.suffix

    def record(self) -> dict:
        if self.query is not None:
            return {"query": self.query, "sha256": self.sha256, "size": self.size}
        return {"path": self.path, "name": self.name, "sha256": self.sha256, "size": self.size}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _plain(value):
    """``value`` made JSON-ready (numpy scalars, NaN as null)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _inputs(tool: Tool, values: dict, ws, job) -> dict[str, list[Input]]:
    inputs = {}
    for p in tool.file_parameters("in"):
        if p.name not in values:
            continue
        items = []
        names = expand(ws, p, values[p.name]) if p.multiple and ws is not None else \
            (values[p.name] if p.multiple else [values[p.name]])
        for i, value in enumerate(names):
            if is_temporary(value):
                local, suffix = temporaries.local(job, value)
                items.append(Input(value[:len(value) - len(suffix)], suffix, local, _sha256(local), local.stat().st_size))
                continue
            if p.type == "table" and catalogue.is_query(value):
                local = job.workdir / "inputs" / f"{p.name}-{i}.xml"
                local.parent.mkdir(parents=True, exist_ok=True)
                catalogue.run(value, job.owner, local, job.services)
                items.append(Input("", "", local, _sha256(local), local.stat().st_size, value))
                continue
            path, suffix = split_suffix(value)
            if archive.is_archive_name(path):  # read in place: never copied, never counted
                local = archive.resolve(job.services, path, job.owner)
                items.append(Input(path, suffix, local, _sha256(local), local.stat().st_size))
                continue
            local = ws.local_path(path)
            items.append(Input(path, suffix, Path(local), ws.checksum(path), Path(local).stat().st_size))
        inputs[p.name] = items
    return inputs


def reuse_key(tool: Tool, values: dict, inputs: dict[str, list[Input]]) -> str:
    document = {
        "tool": tool.name, "version": tool.version,
        "parameters": _plain({k: v for k, v in sorted(values.items())}),
        "inputs": {name: [[i.name, i.sha256] for i in items] for name, items in sorted(inputs.items())},
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _content_type(declared: str, path: str) -> str:
    """The declared type, or the table format the output name's extension says."""
    return _TABLE_TYPES.get(Path(path).suffix.lower(), declared) if declared in _TABLE_TYPES.values() else declared


def _callable(path: str):
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def run(job) -> None:
    """Executor of every tool job list (``job`` is a ``uws.JobContext``, whose services
    hold the tool registry, the job manager, the workspaces and the limits)."""
    services = job.services
    manager = services.jobs
    tool = tool_of(services.tools, job.joblist)
    params = check(services, job.joblist, job.parameters, job.owner)
    values = tool.values(params)
    needs_workspace = any(p.name in values and not is_temporary(values[p.name])
                          for p in tool.file_parameters("out")) or any(
        not (p.type == "table" and catalogue.is_query(v)) and not is_temporary(v)
        and not archive.is_archive_name(v)
        for p in tool.file_parameters("in") if p.name in values
        for v in (values[p.name] if p.multiple else [values[p.name]]))
    ws = workspace_of(services.workspaces, job.owner, "files") if needs_workspace else None
    inputs = _inputs(tool, values, ws, job)
    key = reuse_key(tool, values, inputs)
    job.info.update({"tool": tool.name, "tool_version": tool.version, "reuse_key": key})
    provenance = {
        "job": job.id, "tool": tool.name, "version": tool.version,
        "url": _tool_url(services.config, tool), "implementation": _implementation(tool),
        "parameters": dict(job.parameters), "effective_parameters": _plain(values),
        "inputs": {name: (items[0].record() if not tool.parameter(name).multiple else [i.record() for i in items])
                   for name, items in inputs.items()},
    }
    if not tool.fresh(params):
        previous = manager.store.latest_completed(job.owner, "reuse_key", key, excluding=job.id)
        if previous is not None:
            return _reuse(job, manager, tool, values, ws, previous, provenance)

    out_dir = job.workdir / "out"
    locals_, arguments = {}, {}
    for output in tool.outputs:
        target = values.get(output.name)
        if target and is_temporary(target):
            name = temporaries.local(job, target)[0].name
        else:
            name = Path(output_path(target)).name if target else output.name + _EXTENSIONS.get(output.content_type, "")
        local = out_dir / output.name / name
        local.parent.mkdir(parents=True, exist_ok=True)
        locals_[output.name] = local
    for p in tool.parameters:
        if p.name in locals_:
            arguments[p.name] = str(locals_[p.name])
        elif p.name in inputs:
            items = [i.argument for i in inputs[p.name]]
            arguments[p.name] = items if p.multiple else items[0]
        elif p.name in values:
            arguments[p.name] = values[p.name]

    provenance["start"] = _now()
    try:
        if tool.implementation.python:
            with compressed.limited_to(services.fits_decompressed_max):
                returned = _callable(tool.implementation.python)(**arguments)
            provenance["values"] = _plain(returned) if isinstance(returned, dict) else None
        else:
            stdout = next((locals_[o.name] for o in tool.outputs if o.stdout), None)
            command.run(tool.implementation, arguments, job.workdir, stdout, archive.placeholders(services.config))
    except JobTimeoutException:
        raise
    except Exception as err:
        shown = {str(i.local): i.path or "the query result" for items in inputs.values() for i in items}
        shown.update({str(local): output_path(values[name]) if values.get(name) else name
                      for name, local in locals_.items()})
        shown[str(job.workdir)] = "{workdir}"
        raise RuntimeError(_scrub(str(err) or type(err).__name__, shown)) from None
    provenance["end"] = _now()
    provenance.update(host=socket.gethostname(), pid=os.getpid(), python=platform.python_version(),
                      hera=_hera_version(), reused_from=None)

    provenance["outputs"] = {}
    for output in tool.outputs:
        local = locals_[output.name]
        if local.is_symlink() or not local.is_file():  # a link could expose any file of the host
            raise RuntimeError(f"{tool.name} did not write its output {output.name} as a plain file")
        provenance["outputs"][output.name] = _deliver(job, ws, output, values.get(output.name), local)
    job.add_result("provenance", json.dumps(provenance, indent=2).encode(), "application/json")


def _scrub(message: str, shown: dict[str, str]) -> str:
    """``message`` with the service's local paths replaced by the names the user gave."""
    for local in sorted(shown, key=len, reverse=True):
        message = message.replace(local, shown[local])
    return message


def _deliver(job, ws, output, target, local: Path) -> dict:
    """Keep ``local`` as the job's result ``output.name`` and, when the job names a
    workspace path for it, store it there too."""
    entry = {"sha256": _sha256(local), "size": local.stat().st_size,
             "content_type": _content_type(output.content_type, target or local.name)}
    if target and is_temporary(target):
        shutil.copyfile(local, temporaries.local(job, target)[0])
        entry["path"] = target
    elif target:
        ws.store(output_path(target), local, move=False)
        entry["path"] = output_path(target)
    job.add_result(output.name, local, entry["content_type"])
    return entry


def _reuse(job, manager, tool: Tool, values, ws, previous, provenance) -> None:
    old = json.loads(manager.result_path(previous, "provenance").read_bytes())
    outputs = {}
    for output in tool.outputs:
        source = manager.result_path(previous, output.name)
        outputs[output.name] = _deliver(job, ws, output, values.get(output.name), source)
    provenance.update({k: old.get(k) for k in ("start", "end", "host", "pid", "python", "hera", "values")})
    provenance.update(outputs=outputs, reused_from=previous.id, reused_at=_now())
    job.info["reused_from"] = previous.id
    job.add_result("provenance", json.dumps(provenance, indent=2).encode(), "application/json")


def _tool_url(config, tool: Tool) -> str:
    base = (config.get("HERA_BASE_URL") or "").rstrip("/")
    return f"{base}/tools/{tool.name}@{tool.version}"


def _implementation(tool: Tool) -> dict:
    if tool.implementation.python:
        return {"python": tool.implementation.python}
    return {"command": list(tool.implementation.command)}


def _hera_version() -> str:
    try:
        return version("hera")
    except PackageNotFoundError:
        return "unknown"

