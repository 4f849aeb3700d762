"""Command-line tools: a declared template made into an argument list and run without a shell.

A template is a list of arguments (``["ftcopy", "infile={infile}", "outfile={outfile}"]``).
``{name}`` is replaced by the parameter's value inside its one argument — user text
never reaches a shell, so quotes, ``;`` or ``$(...)`` in a value are just characters.
An argument naming a parameter that has no value (optional, no default) is left out;
``{name?TEXT}`` puts TEXT when the boolean ``name`` is true and leaves the argument out
otherwise (``"{reverse?-r}"``). Booleans are written as the declaration's ``booleans``
(default ``yes``/``no``, as ftools read them), lists comma-separated, ``{workdir}`` is
the job's scratch directory (the process's working directory too).
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from .declaration import Implementation

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)(\?([^{}]*))?\}")
STDERR_TAIL = 2000


def _text(value, booleans) -> str:
    if isinstance(value, bool):
        return booleans[0] if value else booleans[1]
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def argv(implementation: Implementation, values: dict, workdir: Path) -> list[str]:
    """The argument list for ``values`` (parameter name -> value as the tool sees it)."""
    values = {**values, "workdir": str(workdir)}
    args = []
    for template in implementation.command:
        missing = False

        def substitute(match):
            nonlocal missing
            name, conditional, text = match.group(1), match.group(2), match.group(3)
            value = values.get(name)
            if conditional:
                if value is True:
                    return text
                missing = True
                return ""
            if value is None:
                missing = True
                return ""
            return _text(value, implementation.booleans)

        argument = _PLACEHOLDER.sub(substitute, template)
        if not missing:
            args.append(argument)
    return args


def environment(implementation: Implementation, workdir: Path, roots: dict[str, str] | None = None) -> dict[str, str]:
    """The command's environment: the worker's, and the declared variables with
    ``{workdir}``, ``$VAR`` and the read-only data roots (``{calibration_roots}``, the
    calibration trees joined by ``:``; ``{archive_root}``) expanded."""
    env = dict(os.environ)
    for name, value in implementation.env:
        value = value.replace("{workdir}", str(workdir))
        for placeholder, root in (roots or {}).items():
            value = value.replace("{" + placeholder + "}", root)
        env[name] = os.path.expandvars(value)
    return env


def run(implementation: Implementation, values: dict, workdir: Path, stdout_path: Path | None,
        roots: dict[str, str] | None = None) -> list[str]:
    """Run the command in ``workdir``; raise RuntimeError with the end of its standard
    error if it fails. Returns the argument list run.

    The program stays in the work horse's process group, which RQ kills as a whole when
    the job is aborted; when the job runs out of time (an exception in the horse), the
    program is killed here."""
    args = argv(implementation, values, workdir)
    stderr_path = workdir / "stderr.txt"
    with open(stdout_path or os.devnull, "wb") as out, open(stderr_path, "wb") as err:
        try:
            process = subprocess.Popen(args, cwd=workdir, env=environment(implementation, workdir, roots),
                                       stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        except OSError as error:
            raise RuntimeError(f"cannot run {args[0]!r}: {error.strerror or error}") from None
        try:
            status = process.wait()
        except BaseException:  # the job timed out: do not leave the program running
            process.kill()
            process.wait()
            raise
    if status != 0:
        tail = stderr_path.read_bytes()[-STDERR_TAIL:].decode(errors="replace").strip()
        reason = f"killed by signal {-status}" if status < 0 else f"exited with status {status}"
        raise RuntimeError(f"{Path(args[0]).name} {reason}" + (f": {tail}" if tail else ""))
    return args
