"""The safe reader of the VOTables a client sends with TAP_UPLOAD.

An upload is untrusted XML. Before astropy parses it, the reader refuses what could
hurt the service: a body larger than the limit, any DTD (internal entity expansion —
"billion laughs" — and external entities that read local files or the network both
need one), and STREAM elements with an ``href`` (astropy would open that URL or file).
The XML is first checked with lxml with entity resolution, DTD loading and network
access switched off; only then does astropy.io.votable decode the rows, whichever the
serialization. The fields become :class:`~tap_catalog.tableset.Column` declarations.
"""
from __future__ import annotations

import io
import re
import warnings
from typing import BinaryIO

import numpy as np
from lxml import etree

from ..tableset import Column

_READ_SIZE = 1 << 16
#: VOTable datatypes without a Column counterpart, and the one that holds their values
_WIDENED = {"unsignedByte": "short", "bit": "boolean"}
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class UploadError(ValueError):
    """The uploaded table is refused; the message says why, for the client."""


def _read_limited(fileobj: BinaryIO, max_bytes: int) -> bytes:
    parts, size = [], 0
    while True:
        part = fileobj.read(min(_READ_SIZE, max_bytes + 1 - size))
        if not part:
            return b"".join(parts)
        parts.append(part)
        size += len(part)
        if size > max_bytes:
            raise UploadError(f"upload is larger than the limit of {max_bytes} bytes")


def _as_utf8_probe(data: bytes) -> bytes:
    """The bytes to search for a DTD: UTF-16/32 bodies are decoded first."""
    for bom, codec in ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
                       (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data.decode(codec, "replace").encode("utf-8")
    if data[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        return data.decode("utf-16-le" if data[0] == 0x3C else "utf-16-be",
                           "replace").encode("utf-8")
    return data


def check_xml(data: bytes) -> etree._ElementTree:
    """Refuse DTDs and remote streams; return the document parsed without any resolving."""
    if _DTD.search(_as_utf8_probe(data)):
        raise UploadError("upload refused: DOCTYPE and ENTITY declarations are not allowed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, huge_tree=False)
    try:
        tree = etree.parse(io.BytesIO(data), parser)
    except etree.XMLSyntaxError as exc:
        raise UploadError(f"upload is not well-formed XML: {exc}") from None
    if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
        raise UploadError("upload refused: DOCTYPE and ENTITY declarations are not allowed")
    root = tree.getroot()
    if etree.QName(root).localname != "VOTABLE":
        raise UploadError(f"upload is not a VOTable (root element {etree.QName(root).localname})")
    for stream in root.iter("{*}STREAM"):
        if stream.get("href"):
            raise UploadError("upload refused: STREAM href (remote or local data) is not allowed")
    return tree


def _column(field) -> Column:
    datatype = _WIDENED.get(field.datatype, field.datatype)
    if datatype not in ("boolean", "short", "int", "long", "float", "double", "char",
                        "unicodeChar"):
        raise UploadError(f"upload column {field.name}: datatype {field.datatype} is not supported")
    unit = field.unit.to_string() if hasattr(field.unit, "to_string") else field.unit
    return Column(
        name=field.name or field.ID, datatype=datatype,
        arraysize=None if field.arraysize in (None, "1") else field.arraysize,
        xtype=field.xtype, unit=unit or None, ucd=field.ucd, utype=field.utype,
        description=(field.description or "").strip(),
    )


def _python(value):
    """numpy scalars and arrays from astropy as plain Python values (masked → None)."""
    if value is np.ma.masked or value is None:
        return None
    if isinstance(value, np.ndarray) and value.size == 0:
        return None  # an empty variable-length array stands for NULL (VOTable 1.4 §6)
    if isinstance(value, np.ma.MaskedArray):
        if np.all(np.ma.getmaskarray(value)):
            return None
        return tuple(value.filled(np.nan).tolist()) if value.dtype.kind == "f" \
            else tuple(value.tolist())
    if isinstance(value, np.ndarray):
        return tuple(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return tuple(value)
    return value


def read_upload(fileobj: BinaryIO, max_bytes: int) -> tuple[list[Column], list[tuple]]:
    """The first table of an uploaded VOTable as (columns, rows); raises UploadError."""
    # heavy: loaded by the first upload, not by every TAP process
    from astropy.io.votable import parse
    from astropy.io.votable.exceptions import VOWarning

    data = _read_limited(fileobj, max_bytes)
    check_xml(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VOWarning)
            votable = parse(io.BytesIO(data), verify="ignore")
            table = votable.get_first_table()
    except UploadError:
        raise
    except Exception as exc:  # astropy raises many kinds on malformed VOTables
        raise UploadError(f"upload is not a readable VOTable: {exc}") from None
    columns = [_column(f) for f in table.fields]
    array = table.array
    names = array.dtype.names or ()
    data_columns = []
    for name, column in zip(names, columns):
        values = array[name]
        if column.arraysize is None and values.dtype.kind != "O":
            data_columns.append(values.tolist())  # masked elements become None
        else:
            data_columns.append([_python(v) for v in values])
    rows = [tuple(_python(v) for v in row) for row in zip(*data_columns)] if data_columns else []
    return columns, rows
