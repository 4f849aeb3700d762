"""One database dialect per module: everything Hera does differently on one database.

Each module holds its database's subclass of :class:`~.base.Dialect`: how the ADQL
translator spells SQL there, how the catalogue's engine is made and its tables, views,
indexes and access rules are created and dropped, how a TAP query's session loads its
uploads, limits its time and reads its rows, and how ingest writes rows in bulk
(:mod:`.sqlite`, with :mod:`.sqlite_functions`, the functions SQLite's SQL calls;
:mod:`.postgresql`). A third database is a new module here and an entry in
:data:`DIALECTS`; nothing else branches on the name of a database: this module is the
one place that chooses a dialect by it.

Imports :mod:`tap_catalog.adql` (the translator's values, errors and spherical
geometry), :mod:`tap_catalog.tableset` and :mod:`tap_catalog.row_access`, never the
modules that use the dialects (database, query, ingest).
"""
from __future__ import annotations

from .base import Dialect
from .postgresql import PostgreSQL
from .sqlite import SQLite

#: the dialects by SQLAlchemy's name of their database (``engine.dialect.name``)
DIALECTS: dict[str, Dialect] = {d.name: d for d in (SQLite(), PostgreSQL())}


def dialect_of(bind) -> Dialect:
    """The dialect of the database of ``bind``, an SQLAlchemy engine or connection."""
    return DIALECTS[bind.dialect.name]


__all__ = ["DIALECTS", "Dialect", "PostgreSQL", "SQLite", "dialect_of"]
