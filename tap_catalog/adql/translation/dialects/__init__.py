"""One :class:`~.base.Dialect` per database the ADQL translator writes SQL for.

A database is added by a module here with its subclass of :class:`~.base.Dialect` and an
entry in :data:`DIALECTS`; the translator itself does not change. ``sqlite_functions``
holds the Python functions that SQLite's SQL calls (registered on every SQLite connection
by :mod:`tap_catalog.database`).

Imports :mod:`..values` and :mod:`..access` of the translator, :mod:`tap_catalog.adql`'s
errors and sphere, :mod:`tap_catalog.tableset` and :mod:`tap_catalog.row_access`. In the
translator only :mod:`..translator` uses the dialects, through :data:`DIALECTS`.
"""
from .base import Dialect
from .postgresql import PostgreSQL
from .sqlite import SQLite

#: the dialects by SQLAlchemy's name of their database (``engine.dialect.name``)
DIALECTS: dict[str, Dialect] = {d.name: d for d in (SQLite(), PostgreSQL())}

__all__ = ["DIALECTS", "Dialect", "PostgreSQL", "SQLite"]
