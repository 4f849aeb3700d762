"""One :class:`~.base.Dialect` per database the ADQL translator writes SQL for.

A database is added by a module here with its subclass of :class:`~.base.Dialect` and an
entry in :data:`DIALECTS`; the translator itself does not change.
"""
from .base import Dialect
from .postgresql import PostgreSQL
from .sqlite import SQLite

#: the dialects by SQLAlchemy's name of their database (``engine.dialect.name``)
DIALECTS: dict[str, Dialect] = {d.name: d for d in (SQLite(), PostgreSQL())}

__all__ = ["DIALECTS", "Dialect", "PostgreSQL", "SQLite"]
