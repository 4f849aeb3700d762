"""Scripts run on the service (``hera runsc --remote``): the ``runsc`` job list.

A ``runsc`` job holds a whole script (``script``: its text; ``args``: its arguments,
split like a shell line). Its steps run as dependent jobs (:mod:`uws.runner`): each line
is an ordinary job of its tool's job list, with its own URL, spawned once the previous
step has COMPLETED (later lines read the temporaries of earlier ones), so that no worker
waits for another. ``%1`` … ``%9`` are temporaries kept in the runsc job's directory
(``temporaries/tmpN.fits``), never in the workspace; the step jobs read and write them
there (:mod:`tools_registry.temporaries`). The result ``log`` lists each step with its job
URL. A failed step ends the script in ERROR with that step's message; running the same
script again re-runs from the failed step, the completed steps reusing their products
(the tools' reuse by fingerprint).
"""
from __future__ import annotations

import functools
import re
import shlex

from uws import JobList, UWSError

from . import jobs
from .registry import ToolNotFound

JOBLIST = "runsc"
EXECUTOR = "tools_registry.runsc:run"
_ARG_RE = re.compile(r"\$(\d+|\{\d+\})")
_KEY_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\-]*)=(.*)$", re.S)


def joblist(services) -> JobList:
    return JobList(JOBLIST, EXECUTOR, functools.partial(check, services), title="Hera scripts run on the service")


def steps(services, parameters: dict) -> list[tuple[int, str, dict]]:
    """(line number, tool name, parameters by name) of every tool line of the script."""
    try:
        arguments = shlex.split(parameters.get("args", ""))
    except ValueError as err:
        raise UWSError(400, f"args: {err}") from None
    found = []
    for number, raw in enumerate(parameters.get("script", "").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue

        def argument(m, number=number):
            index = int(m.group(1).strip("{}"))
            if not 1 <= index <= len(arguments):
                raise UWSError(400, f"script line {number}: ${index} is used but the script got "
                                    f"{len(arguments)} argument(s)")
            return arguments[index - 1]

        try:
            words = [_ARG_RE.sub(argument, w) for w in shlex.split(line)]
            tool = services.tools.get(words[0])
        except ValueError as err:
            raise UWSError(400, f"script line {number}: {err}") from None
        except ToolNotFound as err:
            raise UWSError(400, f"script line {number}: {err.message}") from None
        by_lower = {p.name.lower(): p.name for p in tool.parameters}
        named, positional = {}, []
        for word in words[1:]:
            m = _KEY_RE.match(word)
            if m and m.group(1).lower() in by_lower:
                named[by_lower[m.group(1).lower()]] = m.group(2)
            else:
                positional.append(word)
        free = [p.name for p in tool.parameters if p.name not in named]
        if len(positional) > len(free):
            raise UWSError(400, f"script line {number}: {tool.name} takes no more than {len(free)} "
                                f"positional argument(s) here")
        named.update(zip(free, positional))
        found.append((number, tool.name, named))
    return found


def check(services, parameters: dict, owner: str | None) -> dict:
    """The job list's ``check_parameters``: a script of known tools, ``$N`` given."""
    unknown = set(parameters) - {"script", "args"}
    if unknown:
        raise UWSError(400, f"runsc takes the parameters script and args, not {', '.join(sorted(unknown))}")
    if not steps(services, parameters):
        raise UWSError(400, "script: the script has no tool line")
    return parameters


def run(job) -> None:
    """The executor: the first step."""
    (job.directory / "temporaries").mkdir(parents=True, exist_ok=True)
    _start(job, 0)


def next_step(job, children) -> None:
    """The continuation after each step: the next one, or the script's end."""
    done = int((job.directory / "step").read_text())
    _start(job, done + 1)


def _start(job, index: int) -> None:
    services = job.services
    lines = steps(services, job.parameters)
    log = job.directory / "log.txt"
    if index == len(lines):
        job.add_result("log", log.read_bytes(), "text/plain")
        return
    number, tool, parameters = lines[index]
    name = jobs.joblist_name(tool)
    step_list = JobList(name, jobs.EXECUTOR, functools.partial(jobs.check, services, name))
    child = job.spawn(step_list, parameters)
    base = (services.config.get("HERA_BASE_URL") or "").rstrip("/")
    with open(log, "a") as f:
        f.write(f"step {index + 1} (line {number}, {tool}): {base}/tools/{tool}/{child}\n")
    (job.directory / "step").write_text(str(index))
    job.add_result("log", log.read_bytes(), "text/plain")
    job.wait_for([child], then="tools_registry.runsc:next_step")
