"""Results as JSON, in a simple documented layout::

    {"metadata": [{"name": "ra", "datatype": "double", "arraysize": null, "xtype": null,
                   "unit": "deg", "ucd": "pos.eq.ra", "utype": null, "description": "…"}, …],
     "data": [[83.63, 22.01, "Crab", …], …]}

NULL, NaN and ±Infinity are ``null`` (JSON has no NaN); timestamps are ISO-8601
strings; geometry and other arrays are lists of numbers; booleans are true/false.
"""
from __future__ import annotations

import json
import math
from decimal import Decimal
from itertools import islice
from typing import Iterator

from .renderer import CHUNK_SIZE, Renderer
from .values import text_value, timestamp_text



def _other(value):
    """Values json cannot write by itself: Decimal from PostgreSQL, bytes, dates."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return timestamp_text(value)


_ENCODE = json.JSONEncoder(allow_nan=False, ensure_ascii=False, separators=(",", ":"),
                           default=_other).encode


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class JSONRenderer(Renderer):
    name = "json"
    media_type = "application/json"
    aliases = ()
    extension = "json"

    def write(self, columns, rows, *, maxrec, infos=(), params=(), table_name="result",
              description=None) -> Iterator[bytes]:
        metadata = [{"name": c.name, "datatype": c.datatype, "arraysize": c.arraysize,
                     "xtype": c.xtype, "unit": c.unit, "ucd": c.ucd, "utype": c.utype,
                     "description": c.description} for c in columns]
        yield ('{"metadata":' + json.dumps(metadata, ensure_ascii=False) + ',\n"data":[').encode()
        converters = []
        for i, column in enumerate(columns):
            convert = text_value(column)
            if convert is None:
                continue
            if convert is bool or column.datatype in ("char", "unicodeChar"):
                converters.append((i, convert))
            else:  # arrays: geometry and the like
                converters.append((i, lambda v, f=convert: list(f(v))))
        it = iter(rows)
        limited = it if maxrec is None else islice(it, maxrec)
        pending, size, sep = [], 0, "\n"
        for row in limited:
            if converters:
                row = list(row)
                for i, convert in converters:
                    if row[i] is not None:
                        row[i] = convert(row[i])
            try:
                line = _ENCODE(row if type(row) in (list, tuple) else list(row))
            except ValueError:  # NaN or Infinity somewhere
                line = _ENCODE([_finite(v) for v in row])
            pending.append(sep + line)
            sep = ",\n"
            size += len(line)
            if size >= CHUNK_SIZE:
                yield "".join(pending).encode("utf-8")
                pending, size = [], 0
        pending.append("\n]}\n")
        yield "".join(pending).encode("utf-8")
