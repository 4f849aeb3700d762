"""ADQL 2.1: the parser (text → syntax tree) and the translator (tree → SQL).

``parse(text)`` returns an :class:`ast.Query` or raises :class:`ADQLSyntaxError`;
``translate(tree, tableset, dialect, maxrec=..., user_groups=...)`` returns a
:class:`Translation` (SQL, result columns, tables read) or raises
:class:`ADQLSemanticError`; proprietary rows are hidden by that SQL (see
:mod:`tap_catalog.row_access`).
"""
from . import ast
from .errors import ADQLError, ADQLSemanticError, ADQLSyntaxError
from .parser import parse
from .translation import Translation, translate

__all__ = ["ADQLError", "ADQLSemanticError", "ADQLSyntaxError", "Translation", "ast", "parse", "translate"]
