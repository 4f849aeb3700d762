"""Delimited text results: CSV (RFC 4180, with a header line) and TSV.

NULL is the empty field. Geometry and other array values are their DALI form, numbers
separated by spaces; timestamps are ISO-8601; booleans are ``true``/``false``.
TSV (``text/tab-separated-values``) has no quoting, so tab, newline, carriage return
and backslash inside a value are written as ``\\t``, ``\\n``, ``\\r`` and ``\\\\``.
"""
from __future__ import annotations

import csv
import io
from itertools import islice
from typing import Iterator

from .renderer import CHUNK_SIZE, Renderer
from .values import text_value

_ROWS_PER_BATCH = 512


def _text_converters(columns, escape=None):
    """(index, function) for the columns whose values need turning into text."""
    out = []
    for i, column in enumerate(columns):
        convert = text_value(column)
        if convert is None:
            continue
        if convert is bool:
            out.append((i, _bool_text))
        elif column.datatype in ("char", "unicodeChar"):
            if escape is None:
                out.append((i, lambda v, f=convert: v if type(v) is str else f(v)))
            else:
                out.append((i, lambda v, f=convert, e=escape: e(f(v))))
        else:
            out.append((i, lambda v, f=convert: " ".join(map(_number_text, f(v)))))
    return out


def _bool_text(value) -> str:
    return "true" if value else "false"


def _number_text(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _converted(rows, converters):
    for row in rows:
        row = list(row)
        for i, convert in converters:
            value = row[i]
            if value is not None:
                row[i] = convert(value)
        yield row


class DelimitedRenderer(Renderer):
    """Rows as lines of text; MAXREC simply ends the output (no place to say OVERFLOW)."""

    delimiter = ","

    def write(self, columns, rows, *, maxrec, infos=(), params=(), table_name="result",
              description=None) -> Iterator[bytes]:
        it = iter(rows)
        limited = it if maxrec is None else islice(it, maxrec)
        escape = _tsv_escape if self.delimiter == "\t" else None
        converters = _text_converters(columns, escape)
        if converters:
            limited = _converted(limited, converters)
        buf = io.StringIO()
        out = self._writer(buf)
        out.writerow([c.name if escape is None else escape(c.name) for c in columns])
        yield buf.getvalue().encode("utf-8")
        buf.seek(0)
        buf.truncate()
        while True:
            batch = list(islice(limited, _ROWS_PER_BATCH))
            out.writerows(batch)
            if buf.tell() >= CHUNK_SIZE or not batch:
                text = buf.getvalue()
                if text:
                    yield text.encode("utf-8")
                buf.seek(0)
                buf.truncate()
            if not batch:
                break


class CSVRenderer(DelimitedRenderer):
    name = "csv"
    media_type = "text/csv;header=present"
    aliases = ("text/csv", "text/csv;header=present")
    extension = "csv"
    delimiter = ","

    def _writer(self, buf):
        return csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _tsv_escape(value: str) -> str:
    return value.translate(_TSV_ESCAPES)


class TSVRenderer(DelimitedRenderer):
    name = "tsv"
    media_type = "text/tab-separated-values"
    aliases = ("text/tab-separated-values",)
    extension = "tsv"
    delimiter = "\t"

    def _writer(self, buf):
        return csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE,
                          escapechar=None, quotechar=None)
