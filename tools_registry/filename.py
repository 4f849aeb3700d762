"""CFITSIO's extended file name syntax, as far as Hera's tools honour it.

A file name is a path followed by bracketed specifications, read left to right
(CFITSIO User's Guide, chapter 10):

- ``file.fits[1]``, ``file.fits+1``: an HDU by number (0 is the primary array).
- ``file.fits[ISGR-SRC.-LCR]``, ``file.fits[ISGR-MOSA-IMA, 2]``,
  ``file.fits[SPECRESP MATRIX]``, ``file.fits[EVENTS, 1, b]``: an HDU by name (its
  EXTNAME or HDUNAME, any case), optionally its version (EXTVER; without one the first
  HDU of that name is taken, whatever its version) and type (``i``/``image``,
  ``a``/``ascii``/``t``/``table``, ``b``/``bintable``); ``[P]`` or ``[PRIMARY]`` is the
  primary array. Only the first bracket can select an HDU, as in CFITSIO.
- ``file.fits[101:200,101:200]``, ``file.fits[1][1:479:2,*]``, ``[-*,*]``: an image
  section, one ``start:end[:step]``, ``*`` or ``-*`` (``*:step``, ``-*:step``) per axis,
  first axis first, pixels counted from 1; start > end flips that axis. It follows the
  HDU selection (or stands first, for the primary array), and nothing follows it.
- ``[col TIME; RATE]``, ``[col -ERROR]``, ``[col TIME; SNR = RATE/ERROR]``: a column
  filter (keep, drop, or compute columns); ``*`` and ``?`` match names.
- ``[RATE > 100 && TIME < 5e3]``: a row filter, an expression of
  :mod:`tools_registry.ftools.expression`.
- a leading ``!`` on an output name: overwrite it (CFITSIO's clobber prefix).

Filters apply in the order written. Binning (``[bin ...]``), pixel filters and
compression specifications are refused with a clear error. Brackets inside a filter (a
vector element such as ``PHA[3]``, or a quoted string) are matched, not split on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

# An HDU name as the OSA and OGIP write them: letters, digits, _ - . and inner blanks
# (ISGR-SRC.-LCR, JMX1-PHA1-SPE, SPECRESP MATRIX), then an optional version and type.
_HDU_SPEC = re.compile(r"^\s*(?P<name>[A-Za-z_][\w\-. ]*?|\d+)\s*"
                       r"(,\s*(?P<ver>\d+)\s*)?(,\s*(?P<kind>[A-Za-z]+)\s*)?$")
# A name made of words and dots could be a Fortran-style expression: RATE .gt. 100.
_FORTRAN_OPERATOR = re.compile(r"\.(eq|ne|lt|gt|le|ge|and|or|not)\.", re.IGNORECASE)
#: CFITSIO's HDU types in an HDU specification -> the kind of HDU
HDU_KINDS = {"i": "image", "image": "image", "a": "ascii", "ascii": "ascii", "t": "ascii",
             "table": "ascii", "b": "binary", "bintable": "binary"}
_AXIS = re.compile(r"^\s*(?:(?P<flip>-)?\*|(?P<start>\d+)\s*:\s*(?P<end>\d+))\s*(?::\s*(?P<step>\d+)\s*)?$")
_PLUS_EXTENSION = re.compile(r"^(?P<path>.+?)\+(?P<number>\d+)$")
_COLUMN_FILTER = re.compile(r"^\s*col\s+(?P<spec>.*)$", re.IGNORECASE | re.DOTALL)
_UNSUPPORTED = re.compile(r"^\s*(bin[a-z]?|pix[a-z]?|compress)(\s|$)", re.IGNORECASE)
# Anything that starts like an axis range: checked in full by _section.
_LOOKS_LIKE_SECTION = re.compile(r"^\s*(-?\*|-?\d+\s*:)")


@dataclass(frozen=True)
class Filter:
    kind: str  # "rows" or "columns"
    text: str


class HduName(NamedTuple):
    """An HDU named in a file name: EXTNAME (or HDUNAME), and when given its version
    and its kind ("image", "ascii", "binary")."""

    name: str
    version: int | None = None
    kind: str | None = None


class AxisRange(NamedTuple):
    """One axis of an image section: first and last pixel (1-based, inclusive; None for
    the whole axis), the step, and whether the axis is flipped."""

    start: int | None
    end: int | None
    step: int = 1
    flip: bool = False

    def __str__(self) -> str:
        text = ("-*" if self.flip else "*") if self.start is None else f"{self.start}:{self.end}"
        return text + (f":{self.step}" if self.step != 1 else "")


@dataclass(frozen=True)
class FileName:
    """A parsed extended file name."""

    path: str
    hdu: int | HduName | None = None
    filters: tuple[Filter, ...] = field(default=())
    overwrite: bool = False
    section: tuple[AxisRange, ...] | None = None

    @property
    def section_text(self) -> str:
        return "[" + ",".join(map(str, self.section or ())) + "]"

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
    """The HDU that a bracket names, or None when it is not an HDU specification."""
    match = _HDU_SPEC.match(spec)
    if match is None or _FORTRAN_OPERATOR.search(spec):
        return None
    name, version, kind = match.group("name").strip(), match.group("ver"), match.group("kind")
    if name.isdigit():
        return None if version or kind else int(name)
    if kind is not None and kind.lower() not in HDU_KINDS:
        return None
    if name.upper() in ("P", "PRIMARY") and version is None and kind is None:
        return 0
    return HduName(name, int(version) if version is not None else None,
                   HDU_KINDS[kind.lower()] if kind else None)


def _section(spec: str, name: str) -> tuple[AxisRange, ...]:
    axes = []
    for text in spec.split(","):
        match = _AXIS.match(text)
        if match is None:
            raise ValueError(f"{name!r}: [{spec}] is not an image section: each axis is start:end, "
                             f"start:end:step, * or -* (pixels from 1)")
        step = int(match.group("step") or 1)
        if step < 1:
            raise ValueError(f"{name!r}: [{spec}]: a step is a positive number of pixels")
        if match.group("start") is None:
            axes.append(AxisRange(None, None, step, bool(match.group("flip"))))
            continue
        start, end = int(match.group("start")), int(match.group("end"))
        if start < 1 or end < 1:
            raise ValueError(f"{name!r}: [{spec}]: pixels are counted from 1")
        axes.append(AxisRange(start, end, step, start > end))
    return tuple(axes)


def parse(name: str) -> FileName:
    """Parse an input file name; raise ValueError with a message naming the problem."""
    path, suffix = split_suffix(name)
    if not path:
        raise ValueError(f"no file name in {name!r}")
    if suffix.startswith("+"):
        return FileName(path, int(suffix[1:]))
    specs = _brackets(suffix, name)
    hdu, filters, section = None, [], None
    for i, spec in enumerate(specs):
        if not spec.strip():
            raise ValueError(f"{name!r}: empty []")
        if section is not None:
            raise ValueError(f"{name!r}: nothing may follow the image section {FileName('', section=section).section_text}")
        column = _COLUMN_FILTER.match(spec)
        if i == 0 and not column and not _UNSUPPORTED.match(spec) and _hdu(spec) is not None:
            hdu = _hdu(spec)
            continue
        if _UNSUPPORTED.match(spec):
            raise ValueError(f"{name!r}: [{spec}] (binning, pixel filters, compression) is not supported")
        if _LOOKS_LIKE_SECTION.match(spec):
            if filters:
                raise ValueError(f"{name!r}: an image section comes right after the HDU, before any filter")
            section = _section(spec, name)
        elif column:
            filters.append(Filter("columns", column.group("spec")))
        else:
            filters.append(Filter("rows", spec))
    return FileName(path, hdu, tuple(filters), section=section)


def split_input(name: str):
    """Split an input file name into (path, hdu), hdu being None, an int or an HduName;
    for readers that honour an HDU selection and nothing else."""
    parsed = parse(name)
    if parsed.section is not None:
        raise ValueError(f"{name!r}: an image section {parsed.section_text} selects pixels of an image; "
                         f"this tool reads a table")
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
