"""Tool job lists: their names, and the checking of a job's parameters against the tool's
declaration and the owner's workspace.

Each tool version is a UWS job list named ``tools/{name}@{version}``; ``tools/{name}``
runs whatever version is the latest when the job starts. ``check`` is the job lists'
``check_parameters``, called when a job is created or changed and again on RUN (and by
the executor, :mod:`tools_registry.executor`, before it starts the tool).

Both are given the service's handles (``services``: its ``tools`` registry, its
``workspaces`` and its ``tap_limits``), by the HTTP layer and by the job context.
"""
from __future__ import annotations

from uws import UWSError
from workspace import Workspaces, WorkspaceError

from . import archive, catalogue
from .declaration import ParameterError, Tool
from .filename import output_path, parse, split_suffix
from .registry import Registry, ToolNotFound
from .temporaries import is_temporary

EXECUTOR = "tools_registry.executor:run"
PREFIX = "tools/"


def joblist_name(name: str, version: str | None = None) -> str:
    return PREFIX + (f"{name}@{version}" if version else name)


def tool_of(registry: Registry, joblist: str) -> Tool:
    """The tool a job list runs (``tools/name``: the latest version, now)."""
    return registry.get(joblist[len(PREFIX):])


def workspace_of(workspaces: Workspaces, owner: str | None, parameter_name: str):
    """The owner's workspace, or a 400 naming the parameter that needs one."""
    try:
        return workspaces.for_user(owner)
    except WorkspaceError as err:
        raise UWSError(400, f"{parameter_name}: files are read from and written to a workspace, "
                            f"which needs a signed-in user ({err.message})") from None


def _input_paths(tool: Tool, params: dict) -> list[tuple[str, str]]:
    """(parameter name, value) of every input file named in ``params``."""
    found = []
    for p in tool.file_parameters("in"):
        if p.name in params:
            for value in p.convert(params[p.name]) if p.multiple else [p.convert(params[p.name])]:
                found.append((p.name, value))
    return found


def expand(ws, parameter, names: list[str]) -> list[str]:
    """A ``multiple`` file parameter's names, with an ftools-style list file
    (``@inputs.txt``: a workspace text file, one name per line, ``#`` comments) read."""
    if not (parameter.multiple and len(names) == 1 and names[0].startswith("@")):
        return names
    path = names[0][1:].strip()
    try:
        with ws.open(path) as f:
            text = f.read(1 << 20).decode("utf-8", errors="replace")
    except WorkspaceError as err:
        raise UWSError(400, f"{parameter.name}: the list file {path!r} is not in your workspace ({err.message})") from None
    listed = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not listed:
        raise UWSError(400, f"{parameter.name}: the list file {path!r} names no file")
    return listed


def check(services, joblist: str, params: dict, owner: str | None) -> dict:
    """The job lists' ``check_parameters``: types, ranges, required and unknown
    parameters, input files present in the owner's workspace, output paths valid."""
    try:
        tool = tool_of(services.tools, joblist)
        checked = tool.check(params)
    except ToolNotFound as err:
        raise UWSError(404, err.message) from None
    except ParameterError as err:
        raise UWSError(400, str(err)) from None
    files = []
    for name, value in _input_paths(tool, checked):
        if is_temporary(value):
            continue  # a script's temporary, found by the executor in the script's job
        if tool.parameter(name).type == "table" and catalogue.is_query(value):
            try:
                catalogue.check(value, services.tap_limits.adql)
            except ValueError as err:
                raise UWSError(400, f"{name}: {err}") from None
        else:
            files.append((name, value))
    outputs = [p for p in tool.file_parameters("out") if p.name in checked and not is_temporary(checked[p.name])]
    if not files and not outputs:
        return checked
    ws = workspace_of(services.workspaces, owner, (files[0][0] if files else outputs[0].name))
    listed = []
    for name, value in files:
        listed += [(name, v) for v in expand(ws, tool.parameter(name), [value])]
    for name, value in listed:
        path, suffix = split_suffix(value)
        try:
            if suffix:
                parse(value)
            if archive.is_archive_name(path):
                archive.resolve(services, path, owner)
            else:
                ws.local_path(path)
        except ValueError as err:
            raise UWSError(400, f"{name}: {err}") from None
        except WorkspaceError as err:
            raise UWSError(400, f"{name}: {path!r} is not a file in your workspace ({err.message})") from None
    targets = {}
    for p in outputs:
        try:
            target = output_path(checked[p.name])
            if archive.is_archive_name(target):
                raise ValueError(f"{target!r}: the archive is read-only; outputs go to your workspace")
            key = ws.key(target)
        except (ValueError, WorkspaceError) as err:
            raise UWSError(400, f"{p.name}: {getattr(err, 'message', err)}") from None
        if key in targets:
            raise UWSError(400, f"{p.name}: {target!r} is also {targets[key]}; give each output its own path")
        if ws.is_folder(key):
            raise UWSError(400, f"{p.name}: {target!r} is a folder in your workspace")
        targets[key] = p.name
    return checked
