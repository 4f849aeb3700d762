"""CFITSIO's extended file name syntax, as far as Hera's tools honour it.

A file name is a path followed by bracketed specifications, read left to right:

- ``file.fits[1]``, ``file.fits[EVENTS]``, ``file.fits[EVENTS, 2]``, ``file.fits+1``:
  an HDU by number (0 is the primary), by EXTNAME, or EXTNAME and EXTVER. Only the first
  bracket can select an HDU, as in CFITSIO.
- ``[col TIME; RATE]``, ``[col -ERROR]``, ``[col TIME; SNR = RATE/ERROR]``: a column
  filter (keep, drop, or compute columns); ``*`` and ``?`` match names.
- ``[RATE > 100 && TIME < 5e3]``: a row filter, an expression of
  :mod:`tools_registry.ftools.expression`.
- a leading ``!`` on an output name: overwrite it (CFITSIO's clobber prefix).

Filters apply in the order written. Binning (``[bin ...]``) and image sections
(``[1:100,1:100]``) are refused with a clear error. Brackets inside a filter (a vector
element such as ``PHA[3]``, or a quoted string) are matched, not split on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_HDU_SPEC = re.compile(r"^\s*(?P<name>[A-Za-z_][\w\-]*|\d+)\s*(,\s*(?P<ver>\d+)\s*)?$")
_PLUS_EXTENSION = re.compile(r"^(?P<path>.+?)\+(?P<number>\d+)$")
_COLUMN_FILTER = re.compile(r"^\s*col\s+(?P<spec>.*)$", re.IGNORECASE | re.DOTALL)
_UNSUPPORTED = re.compile(r"^\s*(bin[a-z]?|pix[a-z]?|compress)(\s|$)", re.IGNORECASE)
_IMAGE_SECTION = re.compile(r"^\s*(\*|-?\d+\s*:\s*-?\d+)(\s*:\s*\d+)?\s*(,|$)")


@dataclass(frozen=True)
class Filter:
    kind: str  # "rows" or "columns"
    text: str


@dataclass(frozen=True)
class FileName:
    """A parsed extended file name."""

    path: str
    hdu: int | tuple[str, int] | None = None
    filters: tuple[Filter, ...] = field(default=())
    overwrite: bool = False

    @property
    def row_filters(self) -> list[str]:
        return [f.text for f in self.filters if f.kind == "rows"]


def split_suffix(name: str) -> tuple[str, str]:
    """``"data/rate.fits[1][col rate]"`` -> ``("data/rate.fits", "[1][col rate]")``.

    The path ends at the first ``[``, or before a trailing ``+N`` extension number.
    """
    text = name.strip()
    bracket = text.find("[")
    if bracket >= 0:
        return text[:bracket], text[bracket:]
    plus = _PLUS_EXTENSION.match(text)
    if plus:
        return plus.group("path"), text[len(plus.group("path")):]
    return text, ""


def _brackets(text: str, name: str) -> list[str]:
    """The contents of consecutive top-level bracket groups, matching nested brackets
    and skipping quoted strings."""
    groups, depth, start, quote = [], 0, None, None
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = None
            continue
        if c in "'\"" and depth:
            quote = c
        elif c == "[":
            if depth == 0:
                start = i + 1
            depth += 1
        elif c == "]":
            depth -= 1
            if depth < 0:
                raise ValueError(f"{name!r}: unbalanced ']'")
            if depth == 0:
                groups.append(text[start:i])
        elif depth == 0 and not c.isspace():
            raise ValueError(f"{name!r}: unexpected {text[i:]!r} after the file name's brackets")
    if depth or quote:
        raise ValueError(f"{name!r}: unclosed '[' or quote")
    return groups


def _hdu(spec: str):
    match = _HDU_SPEC.match(spec)
    if match is None:
        return None
    if match.group("name").isdigit():
        return int(match.group("name"))
    return match.group("name"), int(match.group("ver") or 1)


def parse(name: str) -> FileName:
    """Parse an input file name; raise ValueError with a message naming the problem."""
    path, suffix = split_suffix(name)
    if not path:
        raise ValueError(f"no file name in {name!r}")
    if suffix.startswith("+"):
        return FileName(path, int(suffix[1:]))
    specs = _brackets(suffix, name)
    hdu, filters = None, []
    for i, spec in enumerate(specs):
        if not spec.strip():
            raise ValueError(f"{name!r}: empty []")
        if i == 0 and _hdu(spec) is not None:
            hdu = _hdu(spec)
            continue
        if _UNSUPPORTED.match(spec) or _IMAGE_SECTION.match(spec):
            raise ValueError(f"{name!r}: [{spec}] (binning, image sections, compression) is not supported")
        column = _COLUMN_FILTER.match(spec)
        if column:
            filters.append(Filter("columns", column.group("spec")))
        else:
            filters.append(Filter("rows", spec))
    return FileName(path, hdu, tuple(filters))


def split_input(name: str):
    """Split an input file name into (path, hdu), hdu being None, an int or (name, version);
    for readers that honour an HDU selection and nothing else."""
    parsed = parse(name)
    if parsed.filters:
        first = parsed.filters[0]
        text = f"[col {first.text}]" if first.kind == "columns" else f"[{first.text}]"
        raise ValueError(f"{name!r}: only an HDU selection such as [EVENTS] or [1] is supported, "
                         f"not the filter {text}")
    return parsed.path, parsed.hdu


def output_path(name: str) -> str:
    """The path to write for an output file name (CFITSIO's leading '!' dropped)."""
    path = name.strip().lstrip("!")
    if not path:
        raise ValueError(f"no output file name in {name!r}")
    if "[" in path:
        raise ValueError(f"{name!r}: an output file name takes no [] specification")
    return path
