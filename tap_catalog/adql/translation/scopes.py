"""Name resolution: the FROM sources of each SELECT, their columns, aliases and joins.

Each SELECT gets a :class:`Scope` (its FROM sources, then the enclosing scopes for
correlated subqueries); column references are resolved there, so that unknown or
ambiguous names fail with :class:`ADQLSemanticError`, naming the closest existing name,
before the database sees the query. Identifiers in the SQL are the declared names of the
table set (or generated aliases), always double-quoted.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from typing import Optional

from ...tableset import Column, Table
from .. import ast
from ..errors import ADQLSemanticError
from .values import GEOMETRY_XTYPES, Value, quote


@dataclass
class OutputColumn:
    """A column a source (table, derived table, common table expression) gives."""

    name: str  # as ADQL sees it
    delimited: bool  # matched case-sensitively
    sql: str  # quoted SQL name
    column: Column
    geom: Optional[str] = None

    def matches(self, ident: ast.Identifier) -> bool:
        if ident.delimited or self.delimited:
            return ident.name == self.name if ident.delimited else ident.key == self.name.lower() \
                and self.name == self.name.lower()
        return ident.key == self.name.lower()


@dataclass
class Source:
    """One item of a FROM clause, with the names it answers to."""

    names: list[tuple[str, ...]]  # qualifier forms, lower case unless from a delimited alias
    delimited_alias: bool
    alias_sql: str
    columns: list[OutputColumn]
    display: str
    table: Optional[Table] = None
    table_sql: Optional[str] = None
    using: set = field(default_factory=set)  # column names merged by USING / NATURAL
    merged: dict = field(default_factory=dict)  # lower-case name → Value of the merged column
    _by_name: Optional[dict] = field(default=None, repr=False)  # lower-case name → columns

    def answers(self, qualifier: tuple[ast.Identifier, ...]) -> bool:
        for form in self.names:
            if len(form) != len(qualifier):
                continue
            if all((q.name == f if q.delimited or self.delimited_alias else q.key == f.lower())
                   for q, f in zip(qualifier, form)):
                return True
        return False

    def column(self, ident: ast.Identifier) -> Optional[OutputColumn]:
        if self._by_name is None:
            self._by_name = {}
            for c in self.columns:
                self._by_name.setdefault(c.name.lower(), []).append(c)
        found = [c for c in self._by_name.get(ident.name.lower(), ()) if c.matches(ident)]
        return found[0] if found else None


@dataclass
class Scope:
    """The sources of one SELECT, inside those of the enclosing ones."""

    sources: list[Source]
    parent: Optional["Scope"] = None
    aliases: dict = field(default_factory=dict)  # select-list alias key → Value (ORDER BY)

    def chain(self):
        """This scope, then the enclosing ones."""
        scope = self
        while scope is not None:
            yield scope
            scope = scope.parent


def suggest(name: str, candidates) -> str:
    """"; did you mean 'x'?" for the closest of ``candidates`` (qualified names are also
    compared by their last part), or nothing."""
    candidates = list(candidates)
    if "." not in name:
        by_last = {c.rsplit(".", 1)[-1]: c for c in candidates if "." in c}
        close = difflib.get_close_matches(name, list(by_last), n=1, cutoff=0.5)
        if close and close[0] not in candidates:
            return f"; did you mean '{by_last[close[0]]}'?"
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    if not close:
        close = difflib.get_close_matches(name.lower(), [c.lower() for c in candidates], n=1,
                                          cutoff=0.5)
        close = [c for c in candidates if close and c.lower() == close[0]][:1]
    return f"; did you mean '{close[0]}'?" if close else ""


class NameResolution:
    """The :class:`~.translator.Translator`'s FROM clauses and column references; uses its
    ``tableset``, ``ctes``, ``tables``, ``used_aliases``, ``dialect``, ``body``, ``where``
    and ``read_table`` (:class:`~.access.RowAccessReading`)."""

    def alias(self, base: str) -> str:
        """A fresh table alias (quoted) made from ``base``."""
        base = base.lower() or "t"
        name, n = base, 1
        while name in self.used_aliases:
            n += 1
            name = f"{base}_{n}"
        self.used_aliases.add(name)
        return quote(name)

    # ---- FROM ----
    def from_item(self, item, scope: Scope):
        if isinstance(item, ast.Table):
            return self.table(item)
        if isinstance(item, ast.DerivedTable):
            sql, outs = self.body(item.query, scope.parent, top_level=False)
            alias_sql = self.alias(item.alias.key)
            names = [(item.alias.name,)]
            source = Source(names, item.alias.delimited, alias_sql, outs, str(item.alias))
            return f"({sql}) AS {alias_sql}", [source]
        return self.join(item, scope)

    def table(self, item: ast.Table):
        parts = item.name.parts
        if len(parts) == 1 and parts[0].key in self.ctes:
            outs = self.ctes[parts[0].key]
            alias = item.alias or parts[0]
            alias_sql = self.alias(alias.key) if item.alias else quote(parts[0].key)
            source = Source([(alias.name,)], alias.delimited, alias_sql, outs, parts[0].name)
            sql = quote(parts[0].key) + (f" AS {alias_sql}" if item.alias else "")
            if not item.alias:
                self.used_aliases.add(parts[0].key)
            return sql, [source]
        table = self.lookup_table(item.name)
        if table.name not in self.tables:
            self.tables.append(table.name)
        sql_name = getattr(table, "sql_name", None) or table.name
        table_sql = ".".join(quote(p) for p in sql_name.split("."))
        alias_sql = self.alias(item.alias.key if item.alias else table.table_name)
        table_sql = self.read_table(table, table_sql, alias_sql)
        columns = [OutputColumn(c.name, False, quote(c.name), c,
                                c.xtype if c.xtype in GEOMETRY_XTYPES else None)
                   for c in table.columns]
        if item.alias is not None:
            names = [(item.alias.name,)]
            delimited = item.alias.delimited
        else:
            names = [(table.table_name,), (table.schema_name, table.table_name)]
            delimited = False
        source = Source(names, delimited, alias_sql, columns, table.name, table, table_sql)
        return f"{table_sql} AS {alias_sql}", [source]

    def lookup_table(self, name: ast.QualifiedName) -> Table:
        parts = name.parts
        if len(parts) == 3:
            parts = parts[1:]  # the catalog is this service
        if len(parts) == 2:
            schema, table = parts
            found = [t for t in self.tableset if schema.matches(t.schema_name)
                     and table.matches(t.table_name)]
        else:
            found = [t for t in self.tableset if parts[0].matches(t.table_name)]
            if len(found) > 1:
                raise ADQLSemanticError(
                    f"table name {name} is ambiguous: "
                    + ", ".join(sorted(t.name for t in found)) + "; qualify it with its schema")
        if not found:
            wanted = ".".join(p.name for p in parts)
            raise ADQLSemanticError(f"table '{wanted}' not found"
                                    + suggest(wanted, self.tableset.table_names()))
        return found[0]

    def join(self, join: ast.Join, scope: Scope):
        left_sql, left = self.from_item(join.left, scope)
        right_sql, right = self.from_item(join.right, scope)
        inner = Scope(left + right, scope.parent)
        keyword = {"INNER": "JOIN", "LEFT": "LEFT OUTER JOIN", "RIGHT": "RIGHT OUTER JOIN",
                   "FULL": "FULL OUTER JOIN", "CROSS": "CROSS JOIN"}[join.kind]
        if join.natural or join.using is not None:
            if join.natural:
                left_names = {c.name.lower() for s in left for c in s.columns}
                common = [c.name for s in right for c in s.columns
                          if c.name.lower() in left_names]
                if not common:
                    raise ADQLSemanticError("NATURAL JOIN: the tables have no column in common")
            else:
                common = []
                for ident in join.using:
                    for side, what in ((left, "left"), (right, "right")):
                        if not any(s.column(ident) for s in side):
                            raise ADQLSemanticError(
                                f"USING ({ident}): no such column in the {what} operand")
                    common.append(next(c.name for s in left for c in s.columns
                                       if c.matches(ident)))
            conds = []
            for name in common:
                ident = ast.Identifier(name, False)
                lc = self.resolve_in(left, ident, f"JOIN USING {name}")
                rc = self.resolve_in(right, ident, f"JOIN USING {name}")
                conds.append(f"{lc.sql} = {rc.sql}")
                # the one column USING makes of the two: from the side that always has a row
                merged = {"RIGHT": rc.sql, "FULL": f"COALESCE({lc.sql}, {rc.sql})"}.get(
                    join.kind, lc.sql)
                for s in left + right:
                    s.merged[name.lower()] = replace(lc, sql=merged)
            for s in left + right:
                s.using |= {n.lower() for n in common}
            on = " AND ".join(conds)
            return f"{left_sql} {keyword} {right_sql} ON {on}", left + right
        if join.on is not None:
            on = self.where(join.on, inner)
            return f"{left_sql} {keyword} {right_sql} ON {on}", left + right
        if join.kind in ("INNER", "CROSS"):
            return f"{left_sql} CROSS JOIN {right_sql}", left + right
        return f"{left_sql} {keyword} {right_sql} ON 1 = 1", left + right

    def resolve_in(self, sources, ident, what) -> Value:
        found = [(s, s.column(ident)) for s in sources if s.column(ident)]
        if len(found) > 1 and all(ident.key in s.merged for s, _ in found):
            return found[0][0].merged[ident.key]  # merged by an inner USING / NATURAL
        if len(found) != 1:
            raise ADQLSemanticError(f"{what}: column {ident} is ambiguous or missing")
        return self.column_val(*found[0])

    # ---- names ----
    def star(self, item: ast.AllColumns, scope: Scope):
        """The (source, column) pairs of ``*`` or ``t.*``; a column merged by USING or
        NATURAL once."""
        if item.qualifier is None:
            sources = scope.sources
        else:
            sources = [s for s in scope.sources if s.answers(item.qualifier.parts)]
            if not sources:
                raise ADQLSemanticError(
                    f"{item.qualifier}.*: no table {item.qualifier} in FROM"
                    + suggest(str(item.qualifier), [s.display for s in scope.sources]))
        merged = set()
        for source in sources:
            for column in source.columns:
                if item.qualifier is None and column.name.lower() in source.using:
                    if column.name.lower() in merged:
                        continue
                    merged.add(column.name.lower())
                yield source, column

    def column_ref(self, ref: ast.ColumnRef, scope: Scope) -> Value:
        parts = ref.name.parts
        ident, qualifier = parts[-1], parts[:-1]
        for s in scope.chain():
            if qualifier:
                sources = [src for src in s.sources if src.answers(qualifier)]
                if sources:
                    column = sources[0].column(ident)
                    if column is None:
                        names = [c.name for c in sources[0].columns]
                        raise ADQLSemanticError(
                            f"column '{ident.name}' not found in {sources[0].display}"
                            + suggest(ident.name, names))
                    return self.column_val(sources[0], column)
            else:
                found = [(src, src.column(ident)) for src in s.sources if src.column(ident)]
                if len(found) > 1 and not all(ident.key in src.using for src, _ in found):
                    raise ADQLSemanticError(
                        f"column '{ident.name}' is ambiguous: it is in "
                        + ", ".join(src.display for src, _ in found) + "; qualify it")
                if len(found) > 1:
                    return found[0][0].merged[ident.key]
                if found:
                    src, column = found[0]
                    return self.column_val(src, column)
        if qualifier:
            everything = [src.display for sc in scope.chain() for src in sc.sources]
            raise ADQLSemanticError(
                f"no table '{'.'.join(p.name for p in qualifier)}' in FROM for column "
                f"{ref.name}" + suggest(qualifier[-1].name, everything))
        sources = [src for sc in scope.chain() for src in sc.sources]
        names = [c.name for src in sources for c in src.columns]
        where = ", ".join(src.display for src in sources) or "FROM"
        raise ADQLSemanticError(f"column '{ident.name}' not found in {where}"
                                + suggest(ident.name, names))

    def column_val(self, source: Source, column: OutputColumn) -> Value:
        sql = self.dialect.read_column(f"{source.alias_sql}.{column.sql}",
                                       column.column.datatype)
        return Value(sql, column.column, column.geom)
