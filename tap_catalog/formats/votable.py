"""VOTable 1.4 results: the TABLEDATA, BINARY and BINARY2 renderers and the error document.

The document around the rows is modelled once with lxml (:func:`skeleton`) and
serialized with a marker where the rows go; the renderers send the part before the
marker, then the rows as they come from the cursor, then the rest — with or without
the ``QUERY_STATUS`` = ``OVERFLOW`` INFO that DALI 1.1 puts after the TABLE when the
query had more rows than MAXREC.
"""
from __future__ import annotations

import binascii
import datetime as dt
import math
import re
from itertools import islice
from typing import Iterable, Iterator, Sequence

from lxml import etree

from ..tableset import Column
from .binary import RowPacker, codec_for
from .renderer import CHUNK_SIZE, Renderer, overflowed
from .values import number_array, shape_of, timestamp_text

NS = "http://www.ivoa.net/xml/VOTable/v1.3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
VERSION = "1.4"
_MARK = "@@HERA-ROWS@@"
_NCNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")


def _el(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    attrs = {k: _xml_safe(str(v)) for k, v in attrs.items() if v is not None}
    node = etree.SubElement(parent, f"{{{NS}}}{tag}", attrs)
    if text:
        node.text = _xml_safe(text)
    return node


def _root() -> etree._Element:
    root = etree.Element(f"{{{NS}}}VOTABLE", nsmap={None: NS, "xsi": XSI})
    root.set("version", VERSION)
    root.set(f"{{{XSI}}}schemaLocation", f"{NS} {NS}")
    return root


def _field_ids(columns: Sequence[Column]) -> list[str]:
    """XML IDs for the FIELDs: the column name when it is an NCName, else a cleaned form."""
    ids, seen = [], set()
    for c in columns:
        base = c.name if _NCNAME.match(c.name) else re.sub(r"[^A-Za-z0-9_.-]", "_", c.name)
        if not _NCNAME.match(base):
            base = "_" + base
        ident, n = base, 1
        while ident.lower() in seen:
            n += 1
            ident = f"{base}_{n}"
        seen.add(ident.lower())
        ids.append(ident)
    return ids


def _arraysize(column: Column) -> str | None:
    if column.datatype == "char" and not column.arraysize:
        return None
    return column.arraysize


def _field(parent, tag: str, column: Column, ident: str | None, null_literal: str | None = None,
           value: str | None = None):
    node = _el(parent, tag, name=column.name, ID=ident, datatype=column.datatype,
               arraysize=_arraysize(column), unit=column.unit or None, ucd=column.ucd or None,
               utype=column.utype or None, xtype=column.xtype or None, value=value)
    if column.description:
        _el(node, "DESCRIPTION", column.description)
    if null_literal is not None:
        _el(node, "VALUES", null=null_literal)
    return node


def skeleton(columns: Sequence[Column], serialization: str, *,
             status: tuple[str, str] | None = None, infos: Iterable[tuple] = (), params: Iterable[tuple[Column, object]] = (),
             table_name: str = "result", description: str | None = None) -> tuple[bytes, bytes]:
    """The document as (bytes before the rows, bytes after them).

    ``status`` is the (QUERY_STATUS value, text) of an INFO after the TABLE, for an
    OVERFLOW or an ERROR that happened while the rows were written.
    """
    root = _root()
    resource = _el(root, "RESOURCE", type="results")
    if description:
        _el(resource, "DESCRIPTION", description)
    _el(resource, "INFO", "Query successful", name="QUERY_STATUS", value="OK")
    for info in infos:
        name, value, text = (tuple(info) + ("",))[:3]
        _el(resource, "INFO", text or None, name=name, value="" if value is None else value)
    for column, value in params:
        _field(resource, "PARAM", column, None, value=_param_text(column, value))
    table = _el(resource, "TABLE", name=table_name)
    for column, ident in zip(columns, _field_ids(columns)):
        literal = None
        if serialization == "BINARY" and column.nullable:
            literal = codec_for(column).null_literal
        _field(table, "FIELD", column, ident, literal)
    data = _el(_el(table, "DATA"), serialization)
    if serialization == "TABLEDATA":
        data.text = _MARK
    else:
        _el(data, "STREAM", _MARK, encoding="base64")
    if status is not None:
        _el(resource, "INFO", status[1], name="QUERY_STATUS", value=status[0])
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    head, _, tail = text.rpartition(_MARK.encode())  # metadata text all comes before it
    return head, tail


def _param_text(column: Column, value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(_td_number(v) if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, float):
        return _td_number(value)
    if isinstance(value, (dt.date, dt.time)):
        return timestamp_text(value)
    return str(value)  # lxml escapes it in the attribute


def error_document(message: str, *, query_status: str = "ERROR") -> bytes:
    """The DALI/TAP error VOTable: a results RESOURCE whose QUERY_STATUS INFO says why."""
    root = _root()
    resource = _el(root, "RESOURCE", type="results")
    _el(resource, "INFO", message, name="QUERY_STATUS", value=query_status)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- the writers -------------------------------------------------------------------

class VOTableRenderer(Renderer):
    """A VOTable in one of the three serializations of the rows."""

    extension = "vot"

    def __init__(self, serialization: str, name: str, media_type: str, aliases: tuple[str, ...]):
        self.serialization = serialization
        self.name = name
        self.media_type = media_type
        self.aliases = aliases

    def write(self, columns, rows, *, maxrec, infos=(), params=(), table_name="result",
              description=None) -> Iterator[bytes]:
        meta = dict(infos=list(infos), params=list(params), table_name=table_name,
                    description=description)
        head, tail = skeleton(columns, self.serialization, **meta)
        it = iter(rows)
        limited = it if maxrec is None else islice(it, maxrec)
        try:
            if self.serialization == "TABLEDATA":
                yield head
                yield from _tabledata_chunks(columns, limited)
            else:
                packer = RowPacker(columns, null_mask=self.serialization == "BINARY2")
                yield head + b"\n"
                for chunk in packer.chunks(limited, CHUNK_SIZE * 3 // 4, multiple=3):
                    yield binascii.b2a_base64(chunk)
            more = overflowed(it, maxrec)
        except Exception as exc:
            # The client already has the head: end the document with the reason after
            # the TABLE (DALI 1.1 §4.4.1) and let the caller learn of the failure too.
            yield skeleton(columns, self.serialization, status=("ERROR", str(exc)), **meta)[1]
            raise
        if more:
            yield skeleton(columns, self.serialization,
                           status=("OVERFLOW", "More rows than MAXREC"), **meta)[1]
        else:
            yield tail


_TD_SPECIAL = {math.inf: "+Inf", -math.inf: "-Inf"}
_XML_ESCAPE = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(text: str) -> str:
    """XML 1.0 cannot carry control characters; they become U+FFFD."""
    return _XML_INVALID.sub("\ufffd", text)


def _td_text(value) -> str:
    if not isinstance(value, str):
        value = timestamp_text(value) if not isinstance(value, bytes) else value.decode("utf-8", "replace")
    if _XML_ESCAPE.search(value) is None:
        return value
    return _xml_safe(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _td_number(value) -> str:
    if type(value) is not float:
        if isinstance(value, int):
            return str(value)
        value = float(value)  # Decimal from PostgreSQL, numeric strings
    if value - value != 0:  # NaN or ±Inf
        return "NaN" if value != value else _TD_SPECIAL[value]
    return repr(value)


def _td_array(value) -> str:
    return " ".join(_td_number(x) for x in number_array(value))


def _td_bool(value) -> str:
    return "T" if value else "F"


def _td_formatter(column: Column):
    if column.datatype in ("char", "unicodeChar"):
        return _td_text
    if not shape_of(column).scalar:
        if column.datatype == "boolean":
            return lambda v: " ".join("T" if x else "F" for x in v)
        return _td_array
    if column.datatype == "boolean":
        return _td_bool
    if column.datatype in ("float", "double"):
        return _td_number
    return _td_int


def _td_int(value) -> str:
    return str(int(value))


def _tabledata_chunks(columns: Sequence[Column], rows: Iterable) -> Iterator[bytes]:
    formatters = [_td_formatter(c) for c in columns]
    n = len(formatters)
    pending, size = [], 0
    for row in rows:
        if len(row) != n:
            raise ValueError(f"row has {len(row)} values for {n} columns")
        if None in row:
            cells = [("" if v is None else f(v)) for f, v in zip(formatters, row)]
        else:
            cells = [f(v) for f, v in zip(formatters, row)]
        line = "<TR><TD>" + "</TD><TD>".join(cells) + "</TD></TR>\n"
        pending.append(line)
        size += len(line)
        if size >= CHUNK_SIZE:
            yield "".join(pending).encode("utf-8")
            pending, size = [], 0
    if pending:
        yield "".join(pending).encode("utf-8")
