"""The part of CFITSIO's extended file name syntax that the science-window tools honour.

Tool inputs may arrive as ``/path/file.fits[EVENTS]`` or ``/path/file.fits[1]``
(an HDU by name, ``name,version`` or number) and outputs as ``!/path/out.fits``
(CFITSIO's "overwrite" prefix). Row filters, column selections and binning
specifications are not interpreted here: they are refused with a clear error
rather than silently ignored.
"""

import re

_TRAILING_BRACKETS = re.compile(r"^(?P<path>.*?)(?P<specs>(\[[^\[\]]*\])*)$")
_HDU_SPEC = re.compile(r"^\s*(?P<name>[A-Za-z_][\w\-]*|\d+)\s*(,\s*(?P<ver>\d+)\s*)?$")


def split_input(name):
    """Split an input file name into (path, hdu), hdu being None, an int or (name, version)."""
    match = _TRAILING_BRACKETS.match(name.strip())
    path, specs = match.group("path"), re.findall(r"\[([^\[\]]*)\]", match.group("specs"))
    if not path:
        raise ValueError(f"no file name in {name!r}")
    if not specs:
        return path, None
    if len(specs) > 1:
        raise ValueError(
            f"{name!r}: only an HDU selection such as [EVENTS] or [1] is supported, "
            f"not the filter {'[' + specs[1] + ']'}"
        )
    hdu = _HDU_SPEC.match(specs[0])
    if hdu is None:
        raise ValueError(f"{name!r}: [{specs[0]}] is not an HDU name or number")
    if hdu.group("name").isdigit():
        return path, int(hdu.group("name"))
    return path, (hdu.group("name"), int(hdu.group("ver") or 1))


def output_path(name):
    """The path to write for an output file name (CFITSIO's leading '!' dropped)."""
    path = name.strip().lstrip("!")
    if not path:
        raise ValueError(f"no output file name in {name!r}")
    return path
