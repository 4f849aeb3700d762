"""What the translator makes of an expression: its SQL, its result column, its geometry.

:class:`Value` is what every part of the translator and every dialect passes around; the
helpers here build the metadata of computed columns (TAP_SCHEMA-style :class:`Column`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ...tableset import Column

INTEGER_TYPES = {"short", "int", "long"}
GEOMETRY_XTYPES = {"point", "circle", "polygon"}


@dataclass
class Value:
    """A compiled expression: SQL text, result column metadata, geometry kind."""

    sql: str
    column: Column
    geom: Optional[str] = None  # point / circle / polygon (the dialect's representation)
    parts: Optional[list] = None  # a constructed geometry's DALI numbers (SQL, degrees)


def computed_column(datatype: str, name: str = "expr", **kw) -> Column:
    """The metadata of a computed result column."""
    return Column(name=name, datatype=datatype, **kw)


_GEOMETRY_COLUMNS = {
    "point": dict(datatype="double", arraysize="2", xtype="point", unit="deg"),
    "circle": dict(datatype="double", arraysize="3", xtype="circle", unit="deg"),
    "polygon": dict(datatype="double", arraysize="*", xtype="polygon", unit="deg"),
}


def geometry_column(kind: str) -> Column:
    """The metadata of a computed geometry: a DALI array of degrees."""
    return Column(name="expr", **_GEOMETRY_COLUMNS[kind])


def quote(name: str) -> str:
    """An identifier, double-quoted (the same on every dialect this service has)."""
    return '"' + name.replace('"', '""') + '"'


def literal_value(sql: str) -> Optional[float]:
    """The value of a numeric literal as the translator writes it, or None."""
    text = sql
    if text.startswith("CAST(") and text.endswith(" AS DOUBLE PRECISION)"):
        text = text[5:-len(" AS DOUBLE PRECISION)")]
    try:
        return float(text)
    except ValueError:
        return None
