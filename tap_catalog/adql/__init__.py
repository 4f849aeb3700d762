"""ADQL 2.1: the parser (text → syntax tree) and the translator (tree → SQL).

``parse(text)`` returns an :class:`ast.Query` or raises :class:`ADQLSyntaxError`;
``translate(tree, tableset, dialect, maxrec=..., user_groups=...)`` (``dialect`` one of
:data:`tap_catalog.dialects.DIALECTS`) returns a
:class:`Translation` (SQL, result columns, tables read) or raises
:class:`ADQLSemanticError`; proprietary rows are hidden by that SQL (see
:mod:`tap_catalog.row_access`).

- :mod:`.parser`, :mod:`.ast`, ``adql.lark``, :mod:`.functions`, :mod:`.limits` — the
  language: grammar, syntax tree, functions and reserved words, parse limits;
- :mod:`.translation` — the translator, which writes the SQL of the dialect it is given
  (one per database, in :mod:`tap_catalog.dialects`);
- :mod:`.sphere` — spherical geometry in Python (SQLite's geometry, index bounds).

Imports only :mod:`tap_catalog.tableset` and :mod:`tap_catalog.row_access` from the
rest of the service (and astropy for IN_UNIT).
"""
from . import ast
from .errors import ADQLError, ADQLSemanticError, ADQLSyntaxError
from .parser import parse
from .translation import Translation, translate

__all__ = ["ADQLError", "ADQLSemanticError", "ADQLSyntaxError", "Translation", "ast", "parse", "translate"]
