"""Tool command lines and ``hera runsc`` scripts, parsed without touching the network.

A line is ``TOOL ARG ...`` split like a POSIX shell (quotes group words). An argument
``name=value`` whose ``name`` is one of the tool's parameters sets it; any other
argument is positional and fills the next parameter not set by name, in the order the
tool's descriptor lists them (ftools style: ``ftlist rate.fits hck outfile=out.txt``).

In scripts, ``%1``, ``%2``, ... are temporary files kept on the service for later lines
(``ftcopy 'rate.fit[col rate]' %1`` then ``ftcopy '%1[rate > 100]' %2``), ``$1``, ``$2``, ...
are the script's own arguments, and lines whose first non-blank character is ``#``
as well as blank lines are skipped.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from .errors import HeraError

TEMP_RE = re.compile(r"^%(\d+)(.*)$", re.S)
ARG_RE = re.compile(r"\$(\d+|\{\d+\})")
KEY_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\-]*)=(.*)$", re.S)


@dataclass(frozen=True)
class WorkspacePath:
    """A value that names a file already in the workspace (never uploaded or downloaded).

    ``suffix`` carries CFITSIO extended file name syntax (``[1][col rate]``).
    """

    path: str
    suffix: str = ""

    def __str__(self) -> str:
        return self.path + self.suffix


@dataclass
class Line:
    number: int
    tool: str
    args: list  # the words after the tool name


def split(text: str, number: int = 1) -> list[str]:
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError as err:
        raise HeraError(f"line {number}: {err}")


def parse_script(text: str, script_args=()) -> list[Line]:
    """The tool lines of a script, ``$N`` replaced by the script's arguments."""
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue

        def argument(m, number=number):
            index = int(m.group(1).strip("{}"))
            if not 1 <= index <= len(script_args):
                raise HeraError(f"line {number}: ${index} is used but the script got {len(script_args)} argument(s)")
            return str(script_args[index - 1])

        words = [ARG_RE.sub(argument, word) for word in split(stripped, number)]
        lines.append(Line(number, words[0], words[1:]))
    return lines


def temporaries(lines: list[Line]) -> set[int]:
    """The ``%N`` numbers a script uses."""
    found = set()
    for line in lines:
        for word in line.args:
            key = KEY_RE.match(word)
            m = TEMP_RE.match(key.group(2) if key else word)
            if m:
                found.add(int(m.group(1)))
    return found


def temporary_value(value, folder: str, extension: str = ".fits"):
    """``%N[...]`` as a :class:`WorkspacePath` in ``folder``; other values unchanged."""
    if isinstance(value, str):
        m = TEMP_RE.match(value)
        if m:
            return WorkspacePath(f"{folder}/tmp{m.group(1)}{extension}", m.group(2))
    return value


def bind(descriptor: dict, args=(), params: dict | None = None) -> dict:
    """Parameter values by name, from words (``name=value`` or positional) and keywords.

    Names match the descriptor case-insensitively; the result keeps the descriptor's
    spelling and order. Unknown names and surplus positional words are errors.
    """
    declared = [p["name"] for p in descriptor.get("parameters", [])]
    by_lower = {name.lower(): name for name in declared}
    tool = descriptor.get("name", "the tool")
    named, positional = {}, []

    def set_named(key, value):
        name = by_lower.get(key.lower())
        if name is None:
            raise HeraError(f"{tool} has no parameter {key!r}; its parameters are {', '.join(declared) or 'none'}")
        if name in named:
            raise HeraError(f"{tool}: parameter {name!r} is given twice")
        named[name] = value

    for word in args:
        m = KEY_RE.match(word) if isinstance(word, str) else None
        if m and m.group(1).lower() in by_lower:
            set_named(m.group(1), m.group(2))
        else:
            positional.append(word)
    for key, value in (params or {}).items():
        set_named(key, value)
    free = [name for name in declared if name not in named]
    if len(positional) > len(free):
        extra = positional[len(free)]
        raise HeraError(f"{tool}: too many positional arguments (from {str(extra)!r}); "
                        f"its parameters in order are {' '.join(declared)}")
    named.update(zip(free, positional))
    return {name: named[name] for name in declared if name in named}


def line_arguments(descriptor: dict, words, folder: str) -> tuple[list, dict]:
    """A script line's words as (positional, named) with ``%N`` made workspace paths
    in ``folder``; named only for words whose name is one of the tool's parameters."""
    known = {p["name"].lower() for p in descriptor.get("parameters", [])}
    positional, named = [], {}
    for word in words:
        m = KEY_RE.match(word)
        if m and m.group(1).lower() in known:
            if m.group(1) in named:
                raise HeraError(f"{descriptor.get('name', 'the tool')}: parameter {m.group(1)!r} is given twice")
            named[m.group(1)] = temporary_value(m.group(2), folder)
        else:
            positional.append(temporary_value(word, folder))
    return positional, named
