"""Workspace paths: what a user may name, checked once, before any storage is touched.

A workspace path is relative and POSIX-like (``data/rate.fits``, ``results/``). Refused,
with HTTP 400: absolute paths, ``.`` and ``..`` parts, empty parts (``a//b``), NUL and
other control characters, backslashes, parts that start with ``.hera`` (the service's
own bookkeeping), and parts or paths too long for a file system.

A new name (a file or folder created, or the target of a move) is further refused when
it holds invisible format characters, :func:`check_new_name`: a right-to-left override
(U+202E) makes ``report\u202eslif.exe`` show as ``reportexe.fils``, so a listing would
show another name than the file's. Existing paths are still read, moved and deleted by
their real names, so that a file made before this rule can be renamed or removed.
"""
from __future__ import annotations

import unicodedata

MAX_PART = 255
MAX_PATH = 1024


#: Unicode categories refused in new names: controls (Cc, C1 included), format characters
#: (Cf: bidirectional embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069,
#: marks U+200E/U+200F, zero-width characters, soft hyphen), lone surrogates (Cs), and
#: line and paragraph separators (Zl, Zp)
_INVISIBLE = {"Cc", "Cf", "Cs", "Zl", "Zp"}


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


def check_new_name(key: str) -> None:
    """Refuse a path to be created that could display as another (PathError)."""
    for c in key:
        if unicodedata.category(c) in _INVISIBLE:
            name = unicodedata.name(c, "a control character")
            raise PathError(f"refused: the name contains U+{ord(c):04X} ({name}), an invisible character "
                            "that can make a listing show another name than the file's")
