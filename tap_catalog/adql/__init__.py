"""ADQL 2.1: the parser (text → syntax tree) and the translator (tree → SQL).

``parse(text)`` returns an :class:`ast.Query` or raises :class:`ADQLSyntaxError`;
``translate(tree, tableset, dialect)`` returns a :class:`Translation` (SQL, result
columns, tables read) or raises :class:`ADQLSemanticError`.
"""
from . import ast
from .errors import ADQLError, ADQLSemanticError, ADQLSyntaxError
from .parser import parse

__all__ = ["ADQLError", "ADQLSemanticError", "ADQLSyntaxError", "Translation", "ast",
           "parse", "translate"]
