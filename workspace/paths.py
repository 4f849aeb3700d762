"""Workspace paths: what a user may name, checked once, before any storage is touched.

A workspace path is relative and POSIX-like (``data/rate.fits``, ``results/``). Refused,
with HTTP 400: absolute paths, ``.`` and ``..`` parts, empty parts (``a//b``), NUL and
other control characters, backslashes, parts that start with ``.hera`` (the service's
own bookkeeping), and parts or paths too long for a file system.
"""
from __future__ import annotations

MAX_PART = 255
MAX_PATH = 1024


class PathError(ValueError):
    """A path that a workspace refuses (HTTP 400)."""


def normalize(path: str) -> str:
    """The storage key of ``path`` (no leading or trailing ``/``; ``""`` is the root)."""
    if not isinstance(path, str):
        raise PathError("a workspace path is a string")
    if any(ord(c) < 0x20 or c == "\x7f" for c in path):
        raise PathError("refused: the path contains a NUL or control character")
    if "\\" in path:
        raise PathError("refused: backslashes are not allowed in workspace paths")
    if path.startswith("/"):
        raise PathError(f"refused: {path!r} is absolute; workspace paths are relative to the workspace")
    key = path[:-1] if path.endswith("/") else path
    if len(key.encode()) > MAX_PATH:
        raise PathError(f"refused: the path is longer than {MAX_PATH} bytes")
    if key == "":
        return ""
    for part in key.split("/"):
        if part == "":
            raise PathError(f"refused: {path!r} has an empty part")
        if part in (".", ".."):
            raise PathError(f"refused: {path!r} has a '{part}' part; paths may not leave their folder")
        if part.startswith(".hera"):
            raise PathError("refused: names starting with '.hera' are reserved")
        if len(part.encode()) > MAX_PART:
            raise PathError(f"refused: a path part is longer than {MAX_PART} bytes")
    return key


def name_of(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def parent_of(key: str) -> str:
    return key.rsplit("/", 1)[0] if "/" in key else ""
