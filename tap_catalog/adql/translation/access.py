"""Proprietary rows in the translated SQL: every read of a table with proprietary rows
(:data:`tap_catalog.row_access.ROW_ACCESS`) becomes a read of the rows the asking user may
see, as the dialect builds it (:meth:`tap_catalog.dialects.base.Dialect.visible_rows`).

On SQLite that source also gives its indexed columns unguarded (named :data:`UNGUARDED` +
column): a comparison of such a column with constants reads the unguarded column, so that
its index serves (:meth:`RowAccessReading.index_operand`).
"""
from __future__ import annotations

from dataclasses import replace

from ...row_access import ROW_ACCESS, RowAccess
from ...tableset import Table
from .. import ast
from .values import Value, quote

#: prefix of the unguarded indexed columns of a table with proprietary rows
UNGUARDED = "hera_raw_"


def indexed_columns(table: Table, access: RowAccess) -> list[str]:
    """The columns of ``table`` that an index serves and that read as stored (not the
    status, which reads public once released)."""
    return [c.name for c in table.columns if c.name.lower() != access.status.lower() and (
        c.indexed or (table.primary_key and c.name.lower() == table.primary_key[0].lower()))]


class RowAccessReading:
    """The :class:`~.translator.Translator`'s reads of tables with proprietary rows; uses
    its ``dialect``, ``user_groups``, ``now``, ``tables``, ``unguarded`` (alias → the
    indexed columns its source also gives unguarded) and ``expr``."""

    def read_table(self, table: Table, table_sql: str, alias_sql: str) -> str:
        """What to read for ``table`` (``table_sql``) under the alias ``alias_sql``."""
        access = ROW_ACCESS.get(table.name.lower())
        if access is None:
            return table_sql
        table_sql, unguarded = self.dialect.visible_rows(table, table_sql, access,
                                                         self.user_groups, self.now)
        self.unguarded[alias_sql] = unguarded
        return table_sql

    def access_setup(self) -> list[str]:
        """The statements to run before the query: the dialect's, if it reads a table with
        proprietary rows."""
        if any(t.lower() in ROW_ACCESS for t in self.tables):
            return self.dialect.access_setup(self.user_groups, self.now)
        return []

    def index_operand(self, node, others, scope) -> Value:
        """``node`` compiled as an operand of a comparison with ``others``. An indexed
        column of a table with proprietary rows compared with constants reads the
        unguarded column where the source gives one, so that its index serves: such a
        comparison cannot fail nor take longer on a hidden row (as on PostgreSQL, where
        the comparison operators are LEAKPROOF), and the hidden rows are still dropped by
        the table's condition."""
        val = self.expr(node, scope)
        if not isinstance(node, ast.ColumnRef) or not all(
                isinstance(o, (ast.Number, ast.String)) for o in others):
            return val
        raw = val.sql.rsplit(".", 1)
        if len(raw) == 2 and raw[1].strip('"') in self.unguarded.get(raw[0], ()):
            return replace(val, sql=f"{raw[0]}.{quote(UNGUARDED + raw[1].strip(chr(34)))}")
        return val
