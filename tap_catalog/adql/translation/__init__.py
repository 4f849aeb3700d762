"""The ADQL translator: a parsed query → SQL for one database, names checked.

- :mod:`.translator` — :func:`translate`, :class:`Translation` and the :class:`Translator`
  that walks the syntax tree (queries, SELECT, conditions, expressions, functions);
- :mod:`.scopes` — FROM clauses, joins and the resolution of table and column names;
- :mod:`.geometry` — geometry constructors, predicates and functions, and the prefilter
  each cone gets from its table's spatial index;
- :mod:`.access` — reads of tables with proprietary rows (:mod:`tap_catalog.row_access`);
- :mod:`.values` — the compiled expression (:class:`~.values.Value`) they all pass around.

The SQL that one database writes differently from another is asked of a dialect
(:class:`tap_catalog.dialects.base.Dialect`) that the caller passes to :func:`translate`:
the dialects use :mod:`.values` and :mod:`.access`, so the translator imports none of them.

Imports only the rest of :mod:`tap_catalog.adql`, :mod:`tap_catalog.tableset` and
:mod:`tap_catalog.row_access`.
"""
from .translator import Translation, translate

__all__ = ["Translation", "translate"]
