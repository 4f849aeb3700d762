"""How the Python values of a DBAPI row become the values of a result column.

A cursor hands out ``int``, ``float``, ``str``, ``None``, ``bool``, ``datetime``/``date``
(and, from PostgreSQL, ``Decimal``); DALI geometry columns (xtype point, circle,
polygon) arrive as a sequence of floats or as a string of space-separated numbers.
This module holds the conversions every renderer shares, and the reading of a
column's ``arraysize``.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from ..tableset import Column

FLOAT_TYPES = {"float", "double"}


@dataclass(frozen=True)
class Shape:
    """The arraysize of a column: ``count`` elements, or any number up to it if ``variable``."""

    count: int  # elements of a fixed array; for a variable array the declared maximum or 0
    variable: bool

    @property
    def scalar(self) -> bool:
        return not self.variable and self.count == 1


def shape_of(column: Column) -> Shape:
    """Read ``arraysize`` ("12", "*", "12*", "2x3", "2x*"); no arraysize is one element."""
    size = (column.arraysize or "").strip()
    if not size:
        return Shape(1, False)
    count = 1
    variable = False
    for dim in size.split("x"):
        if dim.endswith("*"):
            variable = True
            dim = dim[:-1]
        if dim:
            count *= int(dim)
    return Shape(count if not variable or size != "*" else 0, variable)


def timestamp_text(value) -> str:
    """DALI timestamp: ISO-8601 without a zone, in UTC when the value carries one."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    return str(value)


def geometry_numbers(value) -> tuple[float, ...]:
    """A DALI geometry as floats: from a sequence, or from "10.5 -3.2 0.1"."""
    if isinstance(value, str):
        return tuple(float(x) for x in value.replace(",", " ").split())
    return tuple(float(x) for x in value)


def number_array(value) -> tuple:
    """Any array column value (geometry or plain) as a tuple of numbers."""
    if isinstance(value, (str, bytes)):
        return geometry_numbers(value.decode() if isinstance(value, bytes) else value)
    return tuple(value)


def text_value(column: Column):
    """A function turning a non-null value into the text, number or list a text format shows.

    Returns None when the value can be passed on unchanged (numbers, plain strings).
    """
    shape = shape_of(column)
    if column.datatype in ("char", "unicodeChar"):
        return _as_text
    if column.datatype == "boolean" and shape.scalar:
        return bool
    if not shape.scalar:
        return geometry_numbers if column.datatype in FLOAT_TYPES else number_array
    return None


def _as_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (_dt.date, _dt.time)):
        return timestamp_text(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
