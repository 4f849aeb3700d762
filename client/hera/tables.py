"""astropy Tables in and out, used only when astropy is installed.

A Table given where a tool expects a file or a table is written to a temporary file
(FITS for ``file`` parameters, which FITS tools read; VOTable for ``table`` parameters
and TAP uploads) and uploaded; query results come back as Tables.
"""
from __future__ import annotations

import io
import os
import tempfile

from .errors import HeraError


def is_table(value) -> bool:
    return any(cls.__module__.startswith("astropy.table") and cls.__name__ == "Table"
               for cls in type(value).__mro__)


def _astropy():
    import importlib.util
    if importlib.util.find_spec("astropy") is None:
        raise HeraError("this needs astropy (pip install astropy), which is not installed")


def write_temporary(table, fmt: str, name: str = "table") -> str:
    """Write ``table`` as ``fmt`` ("fits" or "votable") to a new temporary file; the
    caller removes it."""
    _astropy()
    suffix = ".fits" if fmt == "fits" else ".vot"
    fd, path = tempfile.mkstemp(prefix=f"hera-{name}-", suffix=suffix)
    os.close(fd)
    table.write(path, format="fits" if fmt == "fits" else "votable", overwrite=True)
    return path


def votable_bytes(table) -> bytes:
    _astropy()
    buf = io.BytesIO()
    table.write(buf, format="votable")
    return buf.getvalue()


def read(source, fmt: str | None = None):
    """An astropy Table from a path or bytes (VOTable unless ``fmt`` says otherwise)."""
    _astropy()
    from astropy.table import Table
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    fmt = {"votable": "votable", "fits": "fits", "csv": "ascii.csv", "tsv": "ascii.tab", None: None}.get(fmt, fmt)
    return Table.read(source, format=fmt) if fmt else Table.read(source)


def available() -> bool:
    import importlib.util
    return importlib.util.find_spec("astropy") is not None
