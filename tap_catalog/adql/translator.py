"""ADQL syntax tree → SQL for SQLite or PostgreSQL (with pgsphere), names checked.

The SQL text is generated from the tree only: identifiers are the declared names of
the table set (or generated aliases), always double-quoted; literals are re-emitted
from their parsed values. No part of the user's text is copied into the SQL.

Each SELECT gets a scope (its FROM sources, then the enclosing scopes for correlated
subqueries); column references are resolved there, so unknown or ambiguous names fail
with :class:`ADQLSemanticError` before the database sees the query. Geometry is
pgsphere on PostgreSQL and DALI text handled by :mod:`.sqlite_functions` on SQLite.

Two things are added to what the user wrote, both inside the generated SQL: every read
of a table with proprietary rows (:data:`ROW_ACCESS`) becomes a derived table of the rows
the user may see, and every cone gets the prefilter its table's spatial index serves
(see :meth:`_Translator.where`). Where the two databases differ (collation, NULL order,
rounding, division by zero, booleans, set operator precedence) the SQL spells out one
behaviour, so that both return the same rows (docs/adql.md).
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Optional

from ..row_access import (ROW_ACCESS, RowAccess, barrier_view_name, guarded_column,
                          settings_sql, sqlite_visible_sql)
from ..tableset import Column, Table, TableSet
from . import ast, sphere
from .errors import ADQLSemanticError
from .parser import parse

DIALECTS = ("sqlite", "postgresql")
INTEGER_TYPES = {"short", "int", "long"}
GEOMETRY_XTYPES = {"point", "circle", "polygon"}

#: user-defined functions this service implements: name → (nargs, result datatype)
UDFS = {"ivo_interval_overlaps": (4, "int"), "ivo_nocasematch": (2, "int")}


@dataclass
class Translation:
    """The SQL for one ADQL query and what its result holds."""

    sql: str
    columns: list[Column]
    #: declared tables the query reads (qualified names as declared), for access rules
    tables: list[str] = field(default_factory=list)
    #: statements to run before :attr:`sql` in the same transaction (PostgreSQL: the
    #: asking user's groups and the time, for the barrier views of proprietary tables)
    setup: list[str] = field(default_factory=list)


def translate(tree, tableset: TableSet, dialect: str, *, maxrec: Optional[int] = None,
              user_groups: Optional[frozenset] = None, now: Optional[datetime] = None
              ) -> Translation:
    """Translate a parsed query (or ADQL text) for ``dialect`` ("sqlite" or "postgresql").

    ``maxrec``, when given, limits the number of rows (with TOP, the smaller wins).
    ``user_groups`` are the groups of the user who asks (None: anonymous): every read of
    a table with proprietary rows (:data:`ROW_ACCESS`) keeps only the rows that are
    public, past their release date at ``now`` (default: the current UTC time), or
    entitled to one of these groups.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; use one of {DIALECTS}")
    if isinstance(tree, str):
        tree = parse(tree)
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is not None:
        now = now.astimezone(timezone.utc).replace(tzinfo=None)
    return _Translator(tableset, dialect, frozenset(user_groups or ()), now).query(tree, maxrec)


# ---- values and scopes -------------------------------------------------------------------

@dataclass
class _Val:
    """A compiled expression: SQL text, result column metadata, geometry kind."""

    sql: str
    column: Column
    geom: Optional[str] = None  # point / circle / polygon (internal representation)
    parts: Optional[list] = None  # a constructed geometry's DALI numbers (SQL, degrees)


@dataclass
class _OutColumn:
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
class _Source:
    names: list[tuple[str, ...]]  # qualifier forms, lower case unless from a delimited alias
    delimited_alias: bool
    alias_sql: str
    columns: list[_OutColumn]
    display: str
    table: Optional[Table] = None
    table_sql: Optional[str] = None
    using: set = field(default_factory=set)  # column names merged by USING / NATURAL
    merged: dict = field(default_factory=dict)  # lower-case name → _Val of the merged column
    _by_name: Optional[dict] = field(default=None, repr=False)  # lower-case name → columns

    def answers(self, qualifier: tuple[ast.Identifier, ...]) -> bool:
        for form in self.names:
            if len(form) != len(qualifier):
                continue
            if all((q.name == f if q.delimited or self.delimited_alias else q.key == f.lower())
                   for q, f in zip(qualifier, form)):
                return True
        return False

    def column(self, ident: ast.Identifier) -> Optional[_OutColumn]:
        if self._by_name is None:
            self._by_name = {}
            for c in self.columns:
                self._by_name.setdefault(c.name.lower(), []).append(c)
        found = [c for c in self._by_name.get(ident.name.lower(), ()) if c.matches(ident)]
        return found[0] if found else None


@dataclass
class _Scope:
    sources: list[_Source]
    parent: Optional["_Scope"] = None
    aliases: dict = field(default_factory=dict)  # select-list alias key → _Val (ORDER BY)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: prefix of the unguarded indexed columns of a table with proprietary rows (SQLite)
_RAW = "hera_raw_"


def _indexed(table: Table, access: RowAccess) -> list[str]:
    """The columns of ``table`` that an index serves and that read as stored (not the
    status, which reads public once released)."""
    return [c.name for c in table.columns if c.name.lower() != access.status.lower() and (
        c.indexed or (table.primary_key and c.name.lower() == table.primary_key[0].lower()))]


def _col(datatype: str, name: str = "expr", **kw) -> Column:
    return Column(name=name, datatype=datatype, **kw)


_GEOM_COLUMNS = {
    "point": dict(datatype="double", arraysize="2", xtype="point", unit="deg"),
    "circle": dict(datatype="double", arraysize="3", xtype="circle", unit="deg"),
    "polygon": dict(datatype="double", arraysize="*", xtype="polygon", unit="deg"),
}


def _geom_column(kind: str) -> Column:
    return Column(name="expr", **_GEOM_COLUMNS[kind])


def _suggest(name: str, candidates) -> str:
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


class _Translator:
    def __init__(self, tableset: TableSet, dialect: str, user_groups: frozenset, now: datetime):
        self.tableset = tableset
        self.user_groups = user_groups
        self.now = now
        self.pg = dialect == "postgresql"
        self.dialect = dialect
        self.tables: list[str] = []
        self.used_aliases: set[str] = set()
        self.ctes: dict[str, list[_OutColumn]] = {}
        #: SQLite: alias → the indexed columns its derived table also gives unguarded
        self.raw_columns: dict[str, set[str]] = {}

    # ---- queries ----
    def query(self, query: ast.Query, maxrec) -> Translation:
        parts = []
        for cte in query.ctes:
            sql, outs = self.body(cte.query, None, top_level=False)
            if cte.columns:
                if len(cte.columns) != len(outs):
                    raise ADQLSemanticError(
                        f"WITH {cte.name}: {len(cte.columns)} column names for "
                        f"{len(outs)} columns")
                outs = [replace(o, name=c.name, delimited=c.delimited, sql=_q(c.key),
                                column=replace(o.column, name=c.name))
                        for o, c in zip(outs, cte.columns)]
                sql = f"SELECT * FROM ({sql}) AS {self.alias('w')}"
                names = ", ".join(o.sql for o in outs)
                parts.append(f"{_q(cte.name.key)}({names}) AS ({sql})")
            else:
                parts.append(f"{_q(cte.name.key)} AS ({sql})")
            self.ctes[cte.name.key] = outs
            self.used_aliases.add(cte.name.key)
        sql, outs = self.body(query.body, None, top_level=True, maxrec=maxrec)
        if parts:
            sql = "WITH " + ", ".join(parts) + " " + sql
        columns = [replace(o.column, name=o.name) for o in outs]
        setup = []
        if self.pg and any(t.lower() in ROW_ACCESS for t in self.tables):
            setup.append(settings_sql(self.user_groups, self.now))
        return Translation(sql, columns, list(self.tables), setup)

    def alias(self, base: str) -> str:
        base = base.lower() or "t"
        name, n = base, 1
        while name in self.used_aliases:
            n += 1
            name = f"{base}_{n}"
        self.used_aliases.add(name)
        return _q(name)

    def body(self, body, parent, top_level, maxrec=None):
        if isinstance(body, ast.Select):
            return self.select(body, parent, top_level, maxrec)
        return self.set_operation(body, parent, top_level, maxrec)

    def _limit(self, top, maxrec, offset) -> str:
        limits = [n for n in (top, maxrec) if n is not None]
        limit = min(limits) if limits else None
        sql = ""
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        elif offset is not None and not self.pg:
            sql += " LIMIT -1"
        if offset is not None:
            sql += f" OFFSET {int(offset)}"
        return sql

    def set_operation(self, op: ast.SetOperation, parent, top_level, maxrec):
        left_sql, outs = self.operand(op.left, parent, top_level)
        right_sql, right_outs = self.operand(op.right, parent, top_level)
        if len(outs) != len(right_outs):
            raise ADQLSemanticError(f"the operands of {op.op} have {len(outs)} and "
                                    f"{len(right_outs)} columns")
        if op.all and op.op != "UNION" and not self.pg:
            sql = self._all_emulation(op.op, left_sql, right_sql, outs, right_outs)
        else:
            sql = f"{left_sql} {op.op}{' ALL' if op.all else ''} {right_sql}"
        if op.order_by:
            items = []
            for item in op.order_by:
                ref = self.order_reference(item.expr, outs)
                if ref is None:
                    raise ADQLSemanticError("ORDER BY after a set operator must name a result "
                                            "column or give its position")
                items.append(self.order_term(ref.sql, ref.column, item.descending,
                                             collate=False))
            sql += " ORDER BY " + ", ".join(items)
        sql += self._limit(None, maxrec, op.offset)
        return sql, outs

    def operand(self, body, parent, top_level):
        """An operand of a set operation; a nested set operation is wrapped (SQLite reads
        compound SELECTs left to right, PostgreSQL binds INTERSECT tighter), and so is a
        SELECT with its own ORDER BY, TOP or OFFSET."""
        sql, outs = self.body(body, parent, top_level)
        wrap = isinstance(body, ast.SetOperation) or (
            body.order_by or body.offset is not None or body.top is not None)
        if wrap:
            sql = f"SELECT * FROM ({sql}) AS {self.alias('s')}"
        return sql, outs

    def _all_emulation(self, op, left_sql, right_sql, outs, right_outs):
        """INTERSECT ALL / EXCEPT ALL for SQLite: number duplicates, then compare."""
        numbered = "SELECT {cols}, row_number() OVER (PARTITION BY {cols}) AS \"_n\" FROM ({q})"
        cols = ", ".join(o.sql for o in outs)
        inner = (numbered.format(cols=cols, q=left_sql) + f" {op} "
                 + numbered.format(cols=", ".join(o.sql for o in right_outs), q=right_sql))
        return f"SELECT {cols} FROM ({inner}) AS {self.alias('a')}"

    # ---- SELECT ----
    def select(self, sel: ast.Select, parent, top_level, maxrec=None):
        scope = _Scope([], parent)
        from_sql = []
        for item in sel.from_:
            sql, sources = self.from_item(item, scope)
            from_sql.append(sql)
            scope.sources.extend(sources)

        outs: list[_OutColumn] = []
        select_sql: list[str] = []
        taken: set[str] = set()

        def add(name, delimited, val: _Val):
            out_name, n = name, 1
            while out_name.lower() in taken:  # SELECT a.x, b.x: the second is x_2
                n += 1
                out_name = f"{name}_{n}"
            taken.add(out_name.lower())
            sql_name = _q(out_name if delimited else out_name.lower())
            expr_sql = self.output(val) if top_level else val.sql
            select_sql.append(f"{expr_sql} AS {sql_name}")
            outs.append(_OutColumn(out_name, delimited, sql_name,
                                   replace(val.column, name=out_name), val.geom))

        for item in sel.items:
            if isinstance(item, ast.AllColumns):
                for source, column in self.star(item, scope):
                    merged = item.qualifier is None and source.merged.get(column.name.lower())
                    add(column.name, column.delimited,
                        merged or self.column_val(source, column))
                continue
            val = self.expr(item.expr, scope)
            if item.alias is not None:
                add(item.alias.name, item.alias.delimited, val)
                scope.aliases[item.alias.key] = _Val(outs[-1].sql, val.column, val.geom)
            else:
                add(self.default_name(item.expr, val), False, val)

        sql = "SELECT " + ("DISTINCT " if sel.distinct else "") + ", ".join(select_sql)
        sql += " FROM " + ", ".join(from_sql)
        if sel.where is not None:
            sql += " WHERE " + self.where(sel.where, scope)
        if sel.group_by:
            sql += " GROUP BY " + ", ".join(self.group_term(g, scope) for g in sel.group_by)
        if sel.having is not None:
            sql += " HAVING " + self.condition(sel.having, scope)
        if sel.order_by:
            terms = []
            for item in sel.order_by:
                ref = self.order_reference(item.expr, outs)
                if ref is None:
                    val = self.expr(item.expr, scope)
                    if val.geom:
                        raise ADQLSemanticError("cannot ORDER BY a geometry")
                    terms.append(self.order_term(val.sql, val.column, item.descending,
                                                 collate=not sel.distinct))
                else:
                    terms.append(self.order_term(ref.sql, ref.column, item.descending,
                                                 collate=False))
            sql += " ORDER BY " + ", ".join(terms)
        sql += self._limit(sel.top, maxrec, sel.offset)
        return sql, outs

    def order_reference(self, expr, outs) -> Optional[_OutColumn]:
        """ORDER BY 2 or ORDER BY an output name."""
        if isinstance(expr, ast.Number):
            if not isinstance(expr.value, int) or not 1 <= expr.value <= len(outs):
                raise ADQLSemanticError(f"ORDER BY {expr.text}: there are {len(outs)} columns")
            return outs[expr.value - 1]
        if isinstance(expr, ast.ColumnRef) and len(expr.name.parts) == 1:
            ident = expr.name.last
            found = [o for o in outs if o.matches(ident)]
            if len(found) == 1:
                return found[0]
        return None

    def order_term(self, sql, column: Column, descending: bool, collate: bool) -> str:
        """One ORDER BY term: strings in code-point order as on SQLite. The declared
        columns have the C collation on PostgreSQL (see :mod:`tap_catalog.database`), and
        expressions over them inherit it; an explicit COLLATE is added only to expressions
        that are not output columns (a COLLATE on an output name would turn it into an
        expression over the input columns, ambiguous in a self-join)."""
        if self.pg and collate and column.datatype in ("char", "unicodeChar"):
            sql += ' COLLATE "C"'
        # PostgreSQL's NULL placement, spelled out for SQLite
        return sql + (" DESC NULLS FIRST" if descending else " ASC NULLS LAST")

    def group_term(self, expr, scope) -> str:
        if isinstance(expr, ast.ColumnRef) and len(expr.name.parts) == 1:
            try:
                return self.expr(expr, scope).sql
            except ADQLSemanticError:
                if expr.name.last.key in scope.aliases:
                    return scope.aliases[expr.name.last.key].sql
                raise
        return self.expr(expr, scope).sql

    def default_name(self, expr, val: _Val) -> str:
        if isinstance(expr, ast.ColumnRef):
            return val.column.name
        if isinstance(expr, ast.FunctionCall):
            return expr.name.lower()
        if isinstance(expr, ast.Cast):
            return self.default_name(expr.operand, val) if isinstance(
                expr.operand, ast.ColumnRef) else "cast"
        return "expr"

    def star(self, item: ast.AllColumns, scope: _Scope):
        if item.qualifier is None:
            sources = scope.sources
        else:
            sources = [s for s in scope.sources if s.answers(item.qualifier.parts)]
            if not sources:
                raise ADQLSemanticError(
                    f"{item.qualifier}.*: no table {item.qualifier} in FROM"
                    + _suggest(str(item.qualifier), [s.display for s in scope.sources]))
        merged = set()
        for source in sources:
            for column in source.columns:
                if item.qualifier is None and column.name.lower() in source.using:
                    if column.name.lower() in merged:
                        continue
                    merged.add(column.name.lower())
                yield source, column

    # ---- FROM ----
    def from_item(self, item, scope: _Scope):
        if isinstance(item, ast.Table):
            return self.table(item)
        if isinstance(item, ast.DerivedTable):
            sql, outs = self.body(item.query, scope.parent, top_level=False)
            alias_sql = self.alias(item.alias.key)
            names = [(item.alias.name,)]
            source = _Source(names, item.alias.delimited, alias_sql, outs, str(item.alias))
            return f"({sql}) AS {alias_sql}", [source]
        return self.join(item, scope)

    def table(self, item: ast.Table):
        parts = item.name.parts
        if len(parts) == 1 and parts[0].key in self.ctes:
            outs = self.ctes[parts[0].key]
            alias = item.alias or parts[0]
            alias_sql = self.alias(alias.key) if item.alias else _q(parts[0].key)
            source = _Source([(alias.name,)], alias.delimited, alias_sql, outs, parts[0].name)
            sql = _q(parts[0].key) + (f" AS {alias_sql}" if item.alias else "")
            if not item.alias:
                self.used_aliases.add(parts[0].key)
            return sql, [source]
        table = self.lookup_table(item.name)
        if table.name not in self.tables:
            self.tables.append(table.name)
        sql_name = getattr(table, "sql_name", None) or table.name
        table_sql = ".".join(_q(p) for p in sql_name.split("."))
        alias_sql = self.alias(item.alias.key if item.alias else table.table_name)
        access = ROW_ACCESS.get(table.name.lower())
        if access is not None:
            table_sql = self.visible_rows(table, table_sql, access)
            if not self.pg:
                self.raw_columns[alias_sql] = set(_indexed(table, access))
        columns = [_OutColumn(c.name, False, _q(c.name), c,
                              c.xtype if c.xtype in GEOMETRY_XTYPES else None)
                   for c in table.columns]
        if item.alias is not None:
            names = [(item.alias.name,)]
            delimited = item.alias.delimited
        else:
            names = [(table.table_name,), (table.schema_name, table.table_name)]
            delimited = False
        source = _Source(names, delimited, alias_sql, columns, table.name, table, table_sql)
        return f"{table_sql} AS {alias_sql}", [source]

    def visible_rows(self, table: Table, table_sql: str, access: RowAccess) -> str:
        """The rows of ``table`` the user may see (see :mod:`tap_catalog.row_access`).

        PostgreSQL: the table's security-barrier view, which reads the groups and the
        time from the settings of :attr:`Translation.setup`. SQLite: a derived table whose
        every column is NULL on a hidden row, so that the user's expressions, wherever
        SQLite's flattening puts them, see nothing of it; the rowid comes along (as
        ``hera_rowid``) for the sky index prefilter, and the indexed columns unguarded (as
        ``hera_raw_<name>``) for comparisons with constants (:meth:`index_operand`).
        """
        if self.pg:
            return ".".join(_q(p) for p in barrier_view_name(table.name.lower()).split("."))
        visible = sqlite_visible_sql(access, self.user_groups, self.now)
        columns = [guarded_column(c.name, access, visible, self.now) for c in table.columns]
        columns += [f"{_q(c)} AS {_q(_RAW + c)}" for c in _indexed(table, access)]
        if table.sky:
            columns.append('rowid AS "hera_rowid"')
        return f"(SELECT {', '.join(columns)} FROM {table_sql} WHERE {visible})"

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
                                    + _suggest(wanted, self.tableset.table_names()))
        return found[0]

    def join(self, join: ast.Join, scope: _Scope):
        left_sql, left = self.from_item(join.left, scope)
        right_sql, right = self.from_item(join.right, scope)
        inner = _Scope(left + right, scope.parent)
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

    def resolve_in(self, sources, ident, what) -> _Val:
        found = [(s, s.column(ident)) for s in sources if s.column(ident)]
        if len(found) > 1 and all(ident.key in s.merged for s, _ in found):
            return found[0][0].merged[ident.key]  # merged by an inner USING / NATURAL
        if len(found) != 1:
            raise ADQLSemanticError(f"{what}: column {ident} is ambiguous or missing")
        return self.column_val(*found[0])

    # ---- names ----
    def column_ref(self, ref: ast.ColumnRef, scope: _Scope) -> _Val:
        parts = ref.name.parts
        ident, qualifier = parts[-1], parts[:-1]
        s = scope
        while s is not None:
            if qualifier:
                sources = [src for src in s.sources if src.answers(qualifier)]
                if sources:
                    column = sources[0].column(ident)
                    if column is None:
                        names = [c.name for c in sources[0].columns]
                        raise ADQLSemanticError(
                            f"column '{ident.name}' not found in {sources[0].display}"
                            + _suggest(ident.name, names))
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
            s = s.parent
        if qualifier:
            everything = [src.display for sc in _chain(scope) for src in sc.sources]
            raise ADQLSemanticError(
                f"no table '{'.'.join(p.name for p in qualifier)}' in FROM for column "
                f"{ref.name}" + _suggest(qualifier[-1].name, everything))
        sources = [src for sc in _chain(scope) for src in sc.sources]
        names = [c.name for src in sources for c in src.columns]
        where = ", ".join(src.display for src in sources) or "FROM"
        raise ADQLSemanticError(f"column '{ident.name}' not found in {where}"
                                + _suggest(ident.name, names))

    def column_val(self, source: _Source, column: _OutColumn) -> _Val:
        sql = f"{source.alias_sql}.{column.sql}"
        if self.pg and column.column.datatype == "boolean":
            sql = f"CAST({sql} AS INTEGER)"  # ADQL has no booleans: 1 and 0, as on SQLite
        return _Val(sql, column.column, column.geom)

    # ---- conditions ----
    def where(self, cond, scope) -> str:
        """A WHERE or ON condition, with a spatial-index prefilter for each cone in it.

        A cone is ``CONTAINS(POINT(ra, dec), CIRCLE(...)) = 1`` or ``DISTANCE(POINT(ra,
        dec), POINT(a, b)) < r`` on the sky columns of a table in FROM. The prefilter
        (implied by the exact condition, so adding it changes no result) is, on SQLite, a
        rowid lookup in the table's R*Tree; on PostgreSQL, the pgsphere ``@`` operator that
        its GiST index serves (CONTAINS is already written that way)."""
        sql = self.condition(cond, scope)
        extra = []
        for term in _conjuncts(cond):
            cone = self.cone(term, scope)
            if cone is not None:
                extra.append(cone)
        return " AND ".join(extra + [sql])

    def cone(self, term, scope) -> Optional[str]:
        match = _cone_pattern(term)
        if match is None:
            return None
        (ra_ref, dec_ref), center, radius, is_distance = match
        if self.pg and not is_distance:
            return None
        for source in scope.sources:
            if source.table is None or source.table.sky is None:
                continue
            try:
                ra, dec = self.expr(ra_ref, scope).sql, self.expr(dec_ref, scope).sql
            except ADQLSemanticError:
                return None
            sky_ra, sky_dec = (_q(c) for c in source.table.sky)
            if ra != f"{source.alias_sql}.{sky_ra}" or dec != f"{source.alias_sql}.{sky_dec}":
                continue
            cra, cdec = (self.numeric(c, scope) for c in center)
            r = self.numeric(radius, scope)
            if is_distance and not 0 <= (_constant(radius) or -1) <= 90:
                return None  # a circle of that radius does not exist: no prefilter
            if self.pg:
                return (f"(spoint(radians({ra}), radians({dec})) @ "
                        f"scircle(spoint(radians({cra}), radians({cdec})), radians({r})))")
            constants = [_constant(x) for x in (*center, radius)]
            if None in constants:
                bounds = [f"adql_cap_bbox({cra}, {cdec}, {r}, {k})" for k in range(6)]
            else:  # computed once here, not for each R*Tree node
                bounds = [repr(b) for b in sphere.cap_bbox(*constants)]
            names = ("xmin", "xmax", "ymin", "ymax", "zmin", "zmax")
            tests = []
            for axis in range(3):
                low, high = bounds[2 * axis], bounds[2 * axis + 1]
                tests.append(f"{names[2 * axis + 1]} >= {low}")
                tests.append(f"{names[2 * axis]} <= {high}")
            schema, table = source.table.schema_name, source.table.table_name
            rtree = (f"{_q(schema)}." if schema else "") + _q(table + "_sky")
            rowid = "hera_rowid" if source.table.name.lower() in ROW_ACCESS else "rowid"
            return (f"{source.alias_sql}.{rowid} IN (SELECT id FROM {rtree} WHERE "
                    + " AND ".join(tests) + ")")
        return None

    def condition(self, node, scope) -> str:
        if isinstance(node, ast.And):
            return f"({self.condition(node.left, scope)} AND {self.condition(node.right, scope)})"
        if isinstance(node, ast.Or):
            return f"({self.condition(node.left, scope)} OR {self.condition(node.right, scope)})"
        if isinstance(node, ast.Not):
            return f"(NOT {self.condition(node.operand, scope)})"
        if isinstance(node, ast.Comparison):
            predicate = self.geometry_predicate(node, scope)
            if predicate is not None:
                return predicate
            left = self.index_operand(node.left, [node.right], scope)
            right = self.index_operand(node.right, [node.left], scope)
            if left.geom or right.geom:
                return self.geometry_equality(node.op, left, right)
            op = "<>" if node.op == "!=" else node.op
            return f"({left.sql} {op} {right.sql})"
        if isinstance(node, ast.Between):
            v = self.index_operand(node.operand, [node.low, node.high], scope).sql
            lo, hi = (self.expr(x, scope).sql for x in (node.low, node.high))
            return f"({v} {'NOT ' if node.negated else ''}BETWEEN {lo} AND {hi})"
        if isinstance(node, ast.InList):
            v = self.index_operand(node.operand, node.values, scope).sql
            values = ", ".join(self.expr(x, scope).sql for x in node.values)
            return f"({v} {'NOT ' if node.negated else ''}IN ({values}))"
        if isinstance(node, ast.InSubquery):
            v = self.expr(node.operand, scope).sql
            sql, outs = self.body(node.query, scope, top_level=False)
            if len(outs) != 1:
                raise ADQLSemanticError(f"the subquery of IN returns {len(outs)} columns, not 1")
            return f"({v} {'NOT ' if node.negated else ''}IN ({sql}))"
        if isinstance(node, ast.Like):
            v, p = self.expr(node.operand, scope), self.expr(node.pattern, scope)
            neg = "NOT " if node.negated else ""
            if self.pg:
                op = "ILIKE" if node.case_insensitive else "LIKE"
                return f"({self.as_text(v)} {neg}{op} {self.as_text(p)} ESCAPE '')"
            if isinstance(node.pattern, ast.String):
                # SQLite's own operators run in C (and GLOB prefixes can use an index):
                # LIKE folds ASCII case, as PostgreSQL's ILIKE under the C collation;
                # GLOB is case-sensitive, its wildcards written for ADQL's
                if node.case_insensitive:
                    return f"({v.sql} {neg}LIKE {p.sql})"
                return f"({v.sql} {neg}GLOB {self.string(_glob(node.pattern.value))})"
            ci = 1 if node.case_insensitive else 0
            return f"({neg}adql_like({v.sql}, {p.sql}, {ci}))"
        if isinstance(node, ast.IsNull):
            v = self.expr(node.operand, scope).sql
            return f"({v} IS {'NOT ' if node.negated else ''}NULL)"
        if isinstance(node, ast.Exists):
            sql, _ = self.body(node.query, scope, top_level=False)
            return f"(EXISTS ({sql}))"
        raise ADQLSemanticError("a condition is needed here")

    def index_operand(self, node, others, scope) -> _Val:
        """``node`` compiled as an operand of a comparison with ``others``. On SQLite, an
        indexed column of a table with proprietary rows compared with constants reads the
        unguarded column, so that its index serves: such a comparison cannot fail nor
        take longer on a hidden row (as on PostgreSQL, where the comparison operators are
        LEAKPROOF), and the hidden rows are still dropped by the table's condition."""
        val = self.expr(node, scope)
        if self.pg or not isinstance(node, ast.ColumnRef) or not all(
                isinstance(o, (ast.Number, ast.String)) for o in others):
            return val
        raw = val.sql.rsplit(".", 1)
        if len(raw) == 2 and raw[1].strip('"') in self.raw_columns.get(raw[0], ()):
            return replace(val, sql=f"{raw[0]}.{_q(_RAW + raw[1].strip(chr(34)))}")
        return val

    def geometry_predicate(self, node: ast.Comparison, scope) -> Optional[str]:
        """CONTAINS(a, b) = 1 and its variants as a plain predicate (index-friendly)."""
        func, number = node.left, node.right
        if isinstance(number, ast.FunctionCall):
            func, number = number, func
        if not (isinstance(func, ast.FunctionCall) and func.name in ("CONTAINS", "INTERSECTS")
                and isinstance(number, ast.Number) and node.op in ("=", "!=")
                and number.value in (0, 1)):
            return None
        truth = (number.value == 1) == (node.op == "=")
        predicate = self.spatial(func, scope)
        return predicate if truth else f"(NOT {predicate})"

    def spatial(self, func: ast.FunctionCall, scope) -> str:
        """CONTAINS / INTERSECTS as an SQL boolean."""
        a, b = (self.geometry(x, scope) for x in func.args)
        if not self.pg:
            if func.name == "INTERSECTS" and b.geom == "point":
                a, b = b, a
            if a.geom == "point" and b.geom == "circle" and a.parts and b.parts:
                # a cone: no DALI text to build and parse for each row
                circle = [_constant_sql(x) for x in b.parts]
                if None not in circle:
                    return self.sqlite_cone(a.parts, *circle)
                return f"(adql_point_in_circle({', '.join(a.parts + b.parts)}) = 1)"
            name = "adql_contains" if func.name == "CONTAINS" else "adql_intersects"
            return f"({name}({a.sql}, {b.sql}) = 1)"
        if func.name == "CONTAINS" or "point" in (a.geom, b.geom):
            if func.name == "INTERSECTS" and b.geom == "point":
                a, b = b, a
            if a.geom == "point" and b.geom == "point":
                return f"({a.sql} = {b.sql})"
            return f"({a.sql} @ {b.sql})"
        return f"({a.sql} && {b.sql})"

    def sqlite_cone(self, point: list[str], ra: float, dec: float, radius: float) -> str:
        """Point within a constant circle, in SQLite's own arithmetic: the haversine of
        the separation against that of the radius plus pgsphere's tolerance (accurate for
        tiny circles; radii stop at 90 deg)."""
        if not 0 <= radius <= 90:
            raise ADQLSemanticError(f"a CIRCLE radius must be between 0 and 90 degrees, "
                                    f"not {radius:g}")
        half = math.pi / 360  # degrees to radians, halved
        limit = math.sin((math.radians(radius) + sphere.EPSILON) / 2) ** 2
        p_ra, p_dec = point
        return (f"(power(sin(({p_dec} - {dec!r}) * {half!r}), 2) + cos(radians({p_dec})) * "
                f"{math.cos(math.radians(dec))!r} * power(sin(({p_ra} - {ra!r}) * {half!r}), 2) "
                f"<= {limit!r})")

    def geometry_equality(self, op, left: _Val, right: _Val) -> str:
        if not (left.geom and right.geom):
            raise ADQLSemanticError("a geometry can only be compared with another geometry")
        if self.pg:
            return f"({left.sql} {'=' if op == '=' else '<>'} {right.sql})"
        both = f"(adql_contains({left.sql}, {right.sql}) = 1 AND " \
               f"adql_contains({right.sql}, {left.sql}) = 1)"
        return both if op == "=" else f"(NOT {both})"

    # ---- expressions ----
    def expr(self, node, scope) -> _Val:
        if isinstance(node, ast.CONDITIONS):
            raise ADQLSemanticError("a condition cannot be used as a value")
        if isinstance(node, ast.Number):
            return self.number(node.value)
        if isinstance(node, ast.String):
            return _Val(self.string(node.value), _col("char", arraysize="*"))
        if isinstance(node, ast.Null):
            return _Val("NULL", _col("char", arraysize="*"))
        if isinstance(node, ast.ColumnRef):
            return self.column_ref(node, scope)
        if isinstance(node, ast.UnaryOp):
            v = self.expr(node.operand, scope)
            self.not_geometry(v, node.op)
            if node.op == "~":
                return _Val(f"(~{v.sql})", _col("long"))
            return _Val(f"({node.op}{v.sql})", replace(v.column, name="expr", ucd=None))
        if isinstance(node, ast.BinaryOp):
            return self.binary(node, scope)
        if isinstance(node, ast.ScalarSubquery):
            sql, outs = self.body(node.query, scope, top_level=False)
            if len(outs) != 1:
                raise ADQLSemanticError(f"a subquery used as a value returns {len(outs)} "
                                        "columns, not 1")
            return _Val(f"({sql})", outs[0].column, outs[0].geom)
        if isinstance(node, ast.Cast):
            return self.cast(node, scope)
        if isinstance(node, ast.Case):
            return self.case(node, scope)
        if isinstance(node, ast.FunctionCall):
            return self.function(node, scope)
        raise ADQLSemanticError(f"unsupported expression {type(node).__name__}")

    def number(self, value) -> _Val:
        if isinstance(value, int):
            return _Val(str(value), _col("int" if -2**31 <= value < 2**31 else "long"))
        if not math.isfinite(value):
            raise ADQLSemanticError("numeric literal out of range")
        text = repr(float(value))
        return _Val(f"CAST({text} AS DOUBLE PRECISION)" if self.pg else text, _col("double"))

    def string(self, value: str) -> str:
        if "\x00" in value:
            raise ADQLSemanticError("string literals cannot contain NUL characters")
        quoted = "'" + value.replace("'", "''") + "'"
        if self.pg and "\\" in value:
            # an E'' literal reads the same whatever standard_conforming_strings says
            return "E" + quoted.replace("\\", "\\\\")
        return quoted

    def as_text(self, v: _Val) -> str:
        if self.pg and v.column.datatype not in ("char", "unicodeChar"):
            return f"CAST({v.sql} AS TEXT)"
        return v.sql

    def not_geometry(self, v: _Val, what: str):
        if v.geom:
            raise ADQLSemanticError(f"a {v.geom} cannot be an operand of {what}")

    def numeric(self, node, scope) -> str:
        v = self.expr(node, scope)
        self.not_geometry(v, "a numeric argument")
        return v.sql

    def binary(self, node: ast.BinaryOp, scope) -> _Val:
        left, right = self.expr(node.left, scope), self.expr(node.right, scope)
        self.not_geometry(left, node.op)
        self.not_geometry(right, node.op)
        if node.op == "||":
            return _Val(f"({self.as_text(left)} || {self.as_text(right)})",
                        _col("char", arraysize="*"))
        if node.op in ("&", "|", "^"):
            if node.op == "^":
                sql = (f"({left.sql} # {right.sql})" if self.pg else
                       f"(({left.sql} | {right.sql}) - ({left.sql} & {right.sql}))")
            else:
                sql = f"({left.sql} {node.op} {right.sql})"
            return _Val(sql, _col("long"))
        ints = left.column.datatype in INTEGER_TYPES and right.column.datatype in INTEGER_TYPES
        unit = left.column.unit if node.op in "+-" and left.column.unit == right.column.unit \
            else None
        if node.op == "/" and self.pg:  # division by zero is NULL, as on SQLite
            return _Val(f"({left.sql} / NULLIF({right.sql}, 0))",
                        _col("long" if ints else "double", unit=unit))
        return _Val(f"({left.sql} {node.op} {right.sql})",
                    _col("long" if ints else "double", unit=unit))

    def cast(self, node: ast.Cast, scope) -> _Val:
        v = self.expr(node.operand, scope)
        t = node.type
        if t.name in GEOMETRY_XTYPES | {"POINT", "CIRCLE", "POLYGON"}:
            raise ADQLSemanticError(f"CAST to {t.name} is not supported by this service")
        self.not_geometry(v, "CAST")
        if t.name in ("SMALLINT", "INTEGER", "BIGINT"):
            datatype = {"SMALLINT": "short", "INTEGER": "int", "BIGINT": "long"}[t.name]
            sql = f"CAST({v.sql} AS {t.name})" if self.pg else f"adql_cast_int({v.sql})"
            return _Val(sql, _col(datatype))
        if t.name == "REAL":
            # the float4 value as a double, exactly, as SQLite's adql_cast_real gives it
            sql = f"CAST(CAST({v.sql} AS REAL) AS DOUBLE PRECISION)" if self.pg else \
                f"adql_cast_real({v.sql})"
            return _Val(sql, _col("float"))
        if t.name == "DOUBLE":
            sql = f"CAST({v.sql} AS DOUBLE PRECISION)" if self.pg else \
                f"adql_cast_double({v.sql})"
            return _Val(sql, _col("double"))
        if t.name in ("CHAR", "VARCHAR"):
            size = str(t.length) if t.length is not None else "*"
            if self.pg:
                pg_type = ("VARCHAR" if t.length is None or t.name == "VARCHAR" else "CHAR") + (
                    f"({t.length})" if t.length is not None else "")
                source = f"CAST({v.sql} AS TEXT)" if v.column.datatype == "double" else v.sql
                sql = f"CAST({source} AS {pg_type})"
            else:
                pad = 1 if t.name == "CHAR" and t.length is not None else 0
                length = t.length if t.length is not None else -1
                sql = f"adql_cast_char({v.sql}, {length}, {pad})"
            return _Val(sql, _col("char", arraysize=size))
        if t.name == "TIMESTAMP":
            sql = f"CAST({v.sql} AS TIMESTAMP)" if self.pg else f"adql_cast_timestamp({v.sql})"
            return _Val(sql, _col("char", arraysize="*", xtype="timestamp"))
        raise ADQLSemanticError(f"CAST to {t.name} is not supported")

    def case(self, node: ast.Case, scope) -> _Val:
        parts = ["CASE"]
        if node.operand is not None:
            parts.append(self.expr(node.operand, scope).sql)
        results = []
        for when, then in node.whens:
            cond = (self.expr(when, scope).sql if node.operand is not None
                    else self.condition(when, scope))
            result = self.expr(then, scope)
            results.append(result)
            parts.append(f"WHEN {cond} THEN {result.sql}")
        if node.else_ is not None:
            result = self.expr(node.else_, scope)
            results.append(result)
            parts.append(f"ELSE {result.sql}")
        parts.append("END")
        return _Val("(" + " ".join(parts) + ")", self.common_type(results))

    def common_type(self, vals: list[_Val]) -> Column:
        typed = [v for v in vals if v.sql != "NULL"]
        if not typed:
            return _col("char", arraysize="*")
        kinds = {v.column.datatype for v in typed}
        if len(kinds) == 1:
            return replace(typed[0].column, name="expr")
        if kinds <= INTEGER_TYPES:
            return _col("long")
        if kinds <= INTEGER_TYPES | {"float", "double"}:
            return _col("double")
        return _col("char", arraysize="*")

    # ---- functions ----
    def function(self, node: ast.FunctionCall, scope) -> _Val:
        name = node.name
        if node.user_defined:
            return self.udf(node, scope)
        if name in ("COUNT", "AVG", "SUM", "MIN", "MAX"):
            return self.aggregate(node, scope)
        if name in ("POINT", "CIRCLE", "POLYGON", "BOX", "CENTROID", "REGION"):
            return self.geometry(node, scope)
        if name in ("CONTAINS", "INTERSECTS"):
            predicate = self.spatial(node, scope)
            return _Val(f"(CASE WHEN {predicate} THEN 1 ELSE 0 END)", _col("int"))
        if name == "DISTANCE":
            return self.distance(node, scope)
        if name in ("COORD1", "COORD2"):
            p = self.geometry(node.args[0], scope)
            if p.geom != "point":
                raise ADQLSemanticError(f"{name} needs a point")
            if self.pg:
                sql = f"degrees({'long' if name == 'COORD1' else 'lat'}({p.sql}))"
            else:
                sql = f"adql_{name.lower()}({p.sql})"
            return _Val(sql, _col("double", unit="deg"))
        if name == "AREA":
            g = self.geometry(node.args[0], scope)
            if g.geom == "point":
                return _Val("CAST(0.0 AS DOUBLE PRECISION)" if self.pg else "0.0",
                            _col("double", unit="deg**2"))
            sql = f"(area({g.sql}) * {repr((180 / math.pi) ** 2)})" if self.pg else \
                f"adql_area({g.sql})"
            return _Val(sql, _col("double", unit="deg**2"))
        if name == "COORDSYS":
            self.geometry(node.args[0], scope)
            return _Val("'ICRS'", _col("char", arraysize="*"))
        if name in ("LOWER", "UPPER"):
            v = self.expr(node.args[0], scope)
            self.not_geometry(v, name)
            return _Val(f"{name.lower()}({self.as_text(v)})", _col("char", arraysize="*"))
        if name in ("COALESCE", "NULLIF"):
            vals = [self.expr(a, scope) for a in node.args]
            for v in vals:
                self.not_geometry(v, name)
            return _Val(f"{name}(" + ", ".join(v.sql for v in vals) + ")",
                        self.common_type(vals))
        if name == "IN_UNIT":
            return self.in_unit(node, scope)
        return self.math(node, scope)

    def math(self, node: ast.FunctionCall, scope) -> _Val:
        name = node.name
        args = [self.numeric(a, scope) for a in node.args]
        if name == "PI":
            return self.number(math.pi)
        if name == "RAND":
            return _Val("random()" if self.pg else "adql_rand()", _col("double"))
        if not self.pg:
            return _Val(f"adql_{name.lower()}({', '.join(args)})", _col("double"))
        d = [f"CAST({a} AS DOUBLE PRECISION)" for a in args]
        if name in ("ROUND", "TRUNCATE"):
            fn = "round" if name == "ROUND" else "trunc"
            places = f"CAST({args[1]} AS INTEGER)" if len(args) == 2 else "0"
            sql = f"CAST({fn}(CAST({args[0]} AS NUMERIC), {places}) AS DOUBLE PRECISION)"
        elif name == "MOD":
            sql = (f"CAST(mod(CAST({args[0]} AS NUMERIC), CAST({args[1]} AS NUMERIC)) "
                   f"AS DOUBLE PRECISION)")
        else:
            fn = {"LOG": "ln", "LOG10": "log", "CEILING": "ceiling"}.get(name, name.lower())
            sql = f"{fn}({', '.join(d)})"
        return _Val(sql, _col("double"))

    def aggregate(self, node: ast.FunctionCall, scope) -> _Val:
        name = node.name
        quantifier = f"{node.quantifier} " if node.quantifier else ""
        if isinstance(node.args[0], ast.Star):
            return _Val("COUNT(*)", _col("long"))
        v = self.expr(node.args[0], scope)
        self.not_geometry(v, name)
        if name == "COUNT":
            return _Val(f"COUNT({quantifier}{v.sql})", _col("long"))
        if name == "AVG":
            arg = f"CAST({v.sql} AS DOUBLE PRECISION)" if self.pg else v.sql
            return _Val(f"AVG({quantifier}{arg})", _col("double", unit=v.column.unit))
        if name == "SUM":
            ints = v.column.datatype in INTEGER_TYPES
            return _Val(f"SUM({quantifier}{v.sql})",
                        _col("long" if ints else "double", unit=v.column.unit))
        return _Val(f"{name}({quantifier}{v.sql})",
                    replace(v.column, name="expr", ucd=None, principal=False, indexed=False))

    def udf(self, node: ast.FunctionCall, scope) -> _Val:
        key = node.name.lower()
        if key not in UDFS:
            raise ADQLSemanticError(f"function {node.name} is not provided by this service"
                                    + _suggest(key, list(UDFS)))
        nargs, datatype = UDFS[key]
        if len(node.args) != nargs:
            raise ADQLSemanticError(f"{key} takes {nargs} arguments")
        a = [self.expr(x, scope) for x in node.args]
        if key == "ivo_interval_overlaps":
            sql = (f"(CASE WHEN {a[0].sql} <= {a[3].sql} AND {a[2].sql} <= {a[1].sql} "
                   f"THEN 1 ELSE 0 END)")
        else:  # ivo_nocasematch(value, pattern): ILIKE for ADQL 2.0 clients
            if self.pg:
                match = f"{self.as_text(a[0])} ILIKE {self.as_text(a[1])} ESCAPE ''"
            else:
                match = f"adql_like({a[0].sql}, {a[1].sql}, 1) = 1"
            sql = f"(CASE WHEN {match} THEN 1 ELSE 0 END)"
        return _Val(sql, _col(datatype))

    def in_unit(self, node, scope) -> _Val:
        from astropy import units
        v = self.expr(node.args[0], scope)
        target = node.args[1].value
        if not v.column.unit:
            raise ADQLSemanticError("IN_UNIT: the value has no unit to convert from")
        try:
            factor = units.Unit(v.column.unit).to(units.Unit(target))
        except (ValueError, units.UnitConversionError) as e:
            raise ADQLSemanticError(f"IN_UNIT: cannot convert {v.column.unit} to {target}: "
                                    f"{e}") from None
        return _Val(f"({v.sql} * {self.number(float(factor)).sql})",
                    _col("double", unit=target))

    # ---- geometry ----
    def geometry(self, node, scope) -> _Val:
        """Any geometry-valued expression, in the dialect's internal representation
        (pgsphere on PostgreSQL, DALI text on SQLite). A geometry built by a constructor
        also keeps its DALI numbers (``parts``), which both dialects output as given."""
        if isinstance(node, ast.FunctionCall) and not node.user_defined:
            name, args = node.name, _strip_coordsys(node.args)  # the frame is ICRS (§4.2.1)
            if name == "POINT":
                return self.shape("point", [self.numeric(a, scope) for a in args])
            if name == "CIRCLE":
                if len(args) == 3:
                    parts = [self.numeric(a, scope) for a in args]
                else:
                    center = self.geometry(args[0], scope)
                    if center.geom != "point":
                        raise ADQLSemanticError("the centre of a CIRCLE must be a point")
                    if center.parts is None:
                        r = self.numeric(args[1], scope)
                        sql = f"scircle({center.sql}, radians({r}))" if self.pg else \
                            f"adql_circle_p({center.sql}, {r})"
                        return _Val(sql, _geom_column("circle"), "circle")
                    parts = center.parts + [self.numeric(args[1], scope)]
                return self.shape("circle", parts)
            if name == "BOX":
                return self.shape("polygon", self.box_vertices(args))
            if name == "POLYGON":
                vals = [self.expr(a, scope) for a in args]
                if all(v.geom == "point" for v in vals):
                    if any(v.parts is None for v in vals):
                        if self.pg:
                            return self.pg_polygon([v.sql for v in vals], None)
                        return _Val("adql_polygon_p(" + ", ".join(v.sql for v in vals) + ")",
                                    _geom_column("polygon"), "polygon")
                    return self.shape("polygon", [x for v in vals for x in v.parts])
                for v in vals:
                    self.not_geometry(v, "POLYGON")
                return self.shape("polygon", [v.sql for v in vals])
            if name == "CENTROID":
                return self.centroid(self.geometry(args[0], scope))
            if name == "REGION":
                raise ADQLSemanticError("REGION is not supported by this service; use POINT, "
                                        "CIRCLE or POLYGON")
        v = self.expr(node, scope)
        if not v.geom:
            raise ADQLSemanticError("a geometry (POINT, CIRCLE, POLYGON or a geometry column) "
                                    "is needed here")
        return v

    def shape(self, kind: str, parts: list[str]) -> _Val:
        """A point, circle or polygon from its DALI numbers (SQL expressions, degrees)."""
        if kind == "point":
            ra, dec = parts
            sql = f"spoint(radians({ra}), radians({dec}))" if self.pg else \
                f"adql_point({ra}, {dec})"
            return _Val(sql, _geom_column("point"), "point", parts)
        if kind == "circle":
            ra, dec, r = parts
            radius = _constant_sql(r)
            if radius is not None and not 0 <= radius <= 90:
                raise ADQLSemanticError(f"a CIRCLE radius must be between 0 and 90 degrees, "
                                        f"not {radius:g}")
            sql = f"scircle(spoint(radians({ra}), radians({dec})), radians({r}))" if self.pg \
                else f"adql_circle({ra}, {dec}, {r})"
            return _Val(sql, _geom_column("circle"), "circle", parts)
        if not self.pg:
            return _Val("adql_polygon(" + ", ".join(parts) + ")", _geom_column("polygon"),
                        "polygon", parts)
        points = [f"spoint(radians({parts[i]}), radians({parts[i + 1]}))"
                  for i in range(0, len(parts), 2)]
        return self.pg_polygon(points, parts)

    def pg_polygon(self, points: list[str], parts) -> _Val:
        rows = ", ".join(f"({i}, {p})" for i, p in enumerate(points))
        alias = self.alias("v")
        sql = (f"(SELECT spoly({alias}.p ORDER BY {alias}.i) FROM (VALUES {rows}) "
               f"AS {alias}(i, p))")
        return _Val(sql, _geom_column("polygon"), "polygon", parts)

    def box_vertices(self, args) -> list[str]:
        """The vertices of BOX(ra, dec, width, height) (or BOX(POINT(ra, dec), w, h)),
        computed here: ADQL 2.1 deprecates BOX, and this service takes constants only."""
        if len(args) == 3 and _is_constructor(args[0], "POINT"):
            args = _strip_coordsys(args[0].args) + list(args[1:])
        constants = [_constant(a) for a in args]
        if len(constants) != 4 or any(c is None for c in constants):
            raise ADQLSemanticError("BOX takes constant numbers here (centre, width, height); "
                                    "BOX is deprecated in ADQL 2.1: use POLYGON for anything else")
        return [self.number(v).sql for v in sphere.box_vertices(*constants)]

    def centroid(self, g: _Val) -> _Val:
        """CENTROID: a circle's centre; a polygon's, the direction of the sum of its
        vertices' unit vectors (the same definition on both dialects)."""
        if g.geom == "point":
            return g
        if g.geom == "circle":
            if g.parts is not None:
                return self.shape("point", g.parts[:2])
            sql = f"center({g.sql})" if self.pg else f"adql_centroid({g.sql})"
            return _Val(sql, _geom_column("point"), "point")
        if not self.pg:
            return _Val(f"adql_centroid({g.sql})", _geom_column("point"), "point")
        if g.parts is None:
            raise ADQLSemanticError("CENTROID of a polygon column is not supported on this "
                                    "database; give the polygon's vertices")
        vertices = [(g.parts[i], g.parts[i + 1]) for i in range(0, len(g.parts), 2)]
        x = " + ".join(f"cos(radians({d})) * cos(radians({a}))" for a, d in vertices)
        y = " + ".join(f"cos(radians({d})) * sin(radians({a}))" for a, d in vertices)
        z = " + ".join(f"sin(radians({d}))" for _, d in vertices)
        sql = f"spoint(atan2({y}, {x}), atan2({z}, sqrt(power({x}, 2) + power({y}, 2))))"
        return _Val(sql, _geom_column("point"), "point")

    def distance(self, node: ast.FunctionCall, scope) -> _Val:
        args = node.args
        if len(args) == 4:
            ra1, dec1, ra2, dec2 = (self.numeric(a, scope) for a in args)
            if self.pg:
                sql = (f"degrees(spoint(radians({ra1}), radians({dec1})) <-> "
                       f"spoint(radians({ra2}), radians({dec2})))")
            else:
                sql = f"adql_distance({ra1}, {dec1}, {ra2}, {dec2})"
            return _Val(sql, _col("double", unit="deg"))
        a, b = (self.geometry(x, scope) for x in args)
        if a.geom != "point" or b.geom != "point":
            raise ADQLSemanticError("DISTANCE needs two points")
        if self.pg:
            sql = f"degrees({a.sql} <-> {b.sql})"
        elif a.parts and b.parts:
            sql = f"adql_distance({', '.join(a.parts + b.parts)})"
        else:
            sql = f"adql_distance_p({a.sql}, {b.sql})"
        return _Val(sql, _col("double", unit="deg"))

    def output(self, val: _Val) -> str:
        """A top-level result column: geometry as DALI degrees (array on PostgreSQL)."""
        if not val.geom or not self.pg:
            return val.sql
        if val.parts is not None:
            nulls = " OR ".join(f"{p} IS NULL" for p in val.parts)
            return f"(CASE WHEN {nulls} THEN NULL ELSE ARRAY[{', '.join(val.parts)}] END)"
        g = val.sql
        if val.geom == "point":
            return f"ARRAY[degrees(long({g})), degrees(lat({g}))]"
        if val.geom == "circle":
            return (f"ARRAY[degrees(long(center({g}))), degrees(lat(center({g}))), "
                    f"degrees(radius({g}))]")
        alias = self.alias("r")
        return (f"(SELECT array_agg(degrees(CAST({alias}.m[1] AS DOUBLE PRECISION)) "
                f"ORDER BY {alias}.n) FROM regexp_matches(CAST({g} AS TEXT), "
                f"'[-+0-9.eE]+', 'g') WITH ORDINALITY AS {alias}(m, n))")


# ---- helpers ---------------------------------------------------------------------------

def _chain(scope):
    while scope is not None:
        yield scope
        scope = scope.parent


def _conjuncts(cond):
    if isinstance(cond, ast.And):
        yield from _conjuncts(cond.left)
        yield from _conjuncts(cond.right)
    else:
        yield cond


def _is_constructor(node, name) -> bool:
    return isinstance(node, ast.FunctionCall) and node.name == name and not node.user_defined


def _strip_coordsys(args):
    """A geometry constructor's arguments without the optional coordinate system: a
    leading string, or the NULL of a three-argument POINT (as the parser reads them)."""
    args = list(args)
    if args and (isinstance(args[0], ast.String)
                 or isinstance(args[0], ast.Null) and len(args) == 3):
        args = args[1:]
    return args


def _constant(node) -> Optional[float]:
    """The value of a constant numeric expression, or None."""
    if isinstance(node, ast.Number):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and node.op in "+-":
        v = _constant(node.operand)
        return None if v is None else (v if node.op == "+" else -v)
    if isinstance(node, ast.BinaryOp) and node.op in "+-*/":
        a, b = _constant(node.left), _constant(node.right)
        if a is None or b is None or (node.op == "/" and b == 0):
            return None
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None}[node.op]
    return None


def _glob(pattern: str) -> str:
    """An ADQL LIKE pattern (``%``, ``_``, no escape character) as a SQLite GLOB pattern."""
    special = {"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}
    return "".join(special.get(ch, ch) for ch in pattern)


def _constant_sql(sql: str) -> Optional[float]:
    """The value of a numeric literal as the translator writes it, or None."""
    text = sql
    if text.startswith("CAST(") and text.endswith(" AS DOUBLE PRECISION)"):
        text = text[5:-len(" AS DOUBLE PRECISION)")]
    try:
        return float(text)
    except ValueError:
        return None


def _bounding_cap(region) -> Optional[tuple[float, float, float]]:
    """(ra, dec, radius) of a circle holding a constant POLYGON or BOX, or None.

    The circle is centred on the mean of the vertices' unit vectors and reaches the
    farthest vertex; when that is less than 90 deg the circle is convex, so it holds the
    great-circle edges and the (smaller) region they bound."""
    if _is_constructor(region, "BOX"):
        values = [_constant(a) for a in _strip_coordsys(region.args)]
        if len(values) != 4 or None in values:
            return None
        values = sphere.box_vertices(*values)
    elif _is_constructor(region, "POLYGON"):
        values = []
        for a in _strip_coordsys(region.args):
            if _is_constructor(a, "POINT"):
                values += [_constant(x) for x in _strip_coordsys(a.args)]
            else:
                values.append(_constant(a))
        if None in values or len(values) % 2:
            return None
    else:
        return None
    vertices = [sphere.unit(values[i], values[i + 1]) for i in range(0, len(values), 2)]
    center = sphere.centroid(sphere.Polygon(tuple(vertices)))
    radius = max(sphere.angle(center, v) for v in vertices)
    if radius >= math.radians(89.0):
        return None
    ra, dec = sphere.lonlat(center)
    return ra, dec, math.degrees(radius) + 1e-7


def _cone_pattern(term):
    """((ra_ref, dec_ref), (center_ra, center_dec), radius) for an indexable cone term."""
    if not isinstance(term, ast.Comparison):
        return None
    left, op, right = term.left, term.op, term.right
    flipped = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}
    # CONTAINS(POINT(ra, dec), CIRCLE(a, b, r)) = 1, either side
    for func, number in ((left, right), (right, left)):
        if (_is_constructor(func, "CONTAINS") and isinstance(number, ast.Number)
                and number.value == 1 and op == "="):
            point, region = func.args
            if not (_is_constructor(point, "POINT")
                    and all(isinstance(x, ast.ColumnRef) for x in _strip_coordsys(point.args))):
                continue
            p = _strip_coordsys(point.args)
            if _is_constructor(region, "CIRCLE"):
                c = _strip_coordsys(region.args)
                if len(c) == 2 and _is_constructor(c[0], "POINT"):
                    c = _strip_coordsys(c[0].args) + [c[1]]
                if len(c) == 3:
                    return (p[0], p[1]), (c[0], c[1]), c[2], False
            cap = _bounding_cap(region)
            if cap is not None:
                ra, dec, radius = (ast.Number(repr(v), v) for v in cap)
                return (p[0], p[1]), (ra, dec), radius, False
    # DISTANCE(POINT(ra, dec), POINT(a, b)) < r  (or r > DISTANCE(...)), either order
    if _is_constructor(right, "DISTANCE"):
        left, right, op = right, left, flipped[op]
    if _is_constructor(left, "DISTANCE") and op in ("<", "<="):
        args = left.args
        if len(args) == 2 and all(_is_constructor(a, "POINT") for a in args):
            pairs = [_strip_coordsys(a.args) for a in args]
        elif len(args) == 4:
            pairs = [list(args[:2]), list(args[2:])]
        else:
            return None
        for mine, other in (pairs, pairs[::-1]):
            if all(isinstance(x, ast.ColumnRef) for x in mine) and not any(
                    isinstance(x, ast.ColumnRef) for x in other):
                return (mine[0], mine[1]), (other[0], other[1]), right, True
    return None
