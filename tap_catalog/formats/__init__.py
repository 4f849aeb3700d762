"""Output formats of the TAP service: streaming renderers chosen by RESPONSEFORMAT.

``lookup(fmt)`` maps every TAP 1.1 / DALI RESPONSEFORMAT spelling to a renderer and
``render(renderer, columns, rows, maxrec=…)`` turns DBAPI rows into byte chunks while
they are read. VOTable (BINARY2 by default, BINARY, TABLEDATA), CSV, TSV, FITS and JSON
are built in; other packages add renderers through the ``hera.formats`` entry points.
``error_document`` is the DALI error VOTable and ``read_upload`` the safe reader of
TAP_UPLOAD VOTables.
"""
from .fits import FITSRenderer
from .jsontable import JSONRenderer
from .registry import (UnsupportedFormat, accepted_formats, lookup, register, render,
                       renderers)
from .renderer import Renderer
from .text import CSVRenderer, TSVRenderer
from .upload import UploadError, read_upload
from .votable import VOTableRenderer, error_document

_VOTABLE = "application/x-votable+xml"

BINARY2 = register(VOTableRenderer(
    "BINARY2", "votable/b2", f"{_VOTABLE};serialization=BINARY2",
    ("votable", _VOTABLE, "text/xml", "text/xml;serialization=binary2")))
BINARY = register(VOTableRenderer(
    "BINARY", "votable/b", f"{_VOTABLE};serialization=BINARY",
    ("text/xml;serialization=binary",)))
TABLEDATA = register(VOTableRenderer(
    "TABLEDATA", "votable/td", f"{_VOTABLE};serialization=TABLEDATA",
    ("text/xml;serialization=tabledata",)))
CSV = register(CSVRenderer())
TSV = register(TSVRenderer())
FITS = register(FITSRenderer())
JSON = register(JSONRenderer())

__all__ = [
    "Renderer", "UnsupportedFormat", "UploadError", "accepted_formats", "error_document",
    "lookup", "read_upload", "register", "render", "renderers",
    "BINARY2", "BINARY", "TABLEDATA", "CSV", "TSV", "FITS", "JSON",
]
