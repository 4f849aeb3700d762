"""The translator: an ADQL syntax tree → SQL for one dialect, names checked.

The SQL text is generated from the tree only: identifiers are the declared names of the
table set (or generated aliases), always double-quoted; literals are re-emitted from
their parsed values. No part of the user's text is copied into the SQL.

:class:`Translator` walks the tree: queries, set operations, SELECT lists, conditions,
expressions and functions here; FROM clauses and names in :mod:`.scopes`, geometry and
cone prefilters in :mod:`.geometry`, reads of tables with proprietary rows in
:mod:`.access`. Whatever one database writes differently from another is asked of the
translation's dialect (:class:`tap_catalog.dialects.base.Dialect`), which the caller
passes in; where the databases behave differently (collation, NULL order, rounding,
division by zero, booleans, set operator precedence) the dialects spell out one
behaviour, so that all return the same rows (docs/adql.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Optional

from ...tableset import Column, TableSet
from .. import ast
from ..errors import ADQLSemanticError
from ..parser import parse
from .access import RowAccessReading
from .geometry import GeometryTranslation, conjuncts
from .scopes import NameResolution, OutputColumn, Scope, suggest
from .values import GEOMETRY_XTYPES, INTEGER_TYPES, Value, computed_column, quote

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


def translate(tree, tableset: TableSet, dialect, *, maxrec: Optional[int] = None,
              user_groups: Optional[frozenset] = None, now: Optional[datetime] = None
              ) -> Translation:
    """Translate a parsed query (or ADQL text) into the SQL of ``dialect``, a
    :class:`tap_catalog.dialects.base.Dialect` (one of :data:`tap_catalog.dialects.DIALECTS`).

    ``maxrec``, when given, limits the number of rows (with TOP, the smaller wins).
    ``user_groups`` are the groups of the user who asks (None: anonymous): every read of
    a table with proprietary rows (:data:`tap_catalog.row_access.ROW_ACCESS`) keeps only
    the rows that are public, past their release date at ``now`` (default: the current
    UTC time), or entitled to one of these groups.
    """
    if isinstance(tree, str):
        tree = parse(tree)
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is not None:
        now = now.astimezone(timezone.utc).replace(tzinfo=None)
    translator = Translator(tableset, dialect, frozenset(user_groups or ()), now)
    return translator.query(tree, maxrec)


class Translator(NameResolution, GeometryTranslation, RowAccessReading):
    """The state of one translation: the aliases in use, the common table expressions,
    the declared tables read."""

    def __init__(self, tableset: TableSet, dialect, user_groups: frozenset,
                 now: datetime):
        self.tableset = tableset
        self.dialect = dialect
        self.user_groups = user_groups
        self.now = now
        self.tables: list[str] = []
        self.used_aliases: set[str] = set()
        self.ctes: dict[str, list[OutputColumn]] = {}
        self.unguarded: dict[str, set[str]] = {}

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
                outs = [replace(o, name=c.name, delimited=c.delimited, sql=quote(c.key),
                                column=replace(o.column, name=c.name))
                        for o, c in zip(outs, cte.columns)]
                sql = f"SELECT * FROM ({sql}) AS {self.alias('w')}"
                names = ", ".join(o.sql for o in outs)
                parts.append(f"{quote(cte.name.key)}({names}) AS ({sql})")
            else:
                parts.append(f"{quote(cte.name.key)} AS ({sql})")
            self.ctes[cte.name.key] = outs
            self.used_aliases.add(cte.name.key)
        sql, outs = self.body(query.body, None, top_level=True, maxrec=maxrec)
        if parts:
            sql = "WITH " + ", ".join(parts) + " " + sql
        columns = [replace(o.column, name=o.name) for o in outs]
        return Translation(sql, columns, list(self.tables), self.access_setup())

    def body(self, body, parent, top_level, maxrec=None):
        if isinstance(body, ast.Select):
            return self.select(body, parent, top_level, maxrec)
        return self.set_operation(body, parent, top_level, maxrec)

    def limit(self, top, maxrec, offset) -> str:
        limits = [n for n in (top, maxrec) if n is not None]
        return self.dialect.limit(min(limits) if limits else None, offset)

    def set_operation(self, op: ast.SetOperation, parent, top_level, maxrec):
        left_sql, outs = self.operand(op.left, parent, top_level)
        right_sql, right_outs = self.operand(op.right, parent, top_level)
        if len(outs) != len(right_outs):
            raise ADQLSemanticError(f"the operands of {op.op} have {len(outs)} and "
                                    f"{len(right_outs)} columns")
        sql = self.dialect.set_operation(op.op, op.all, left_sql, right_sql,
                                         [o.sql for o in outs], [o.sql for o in right_outs],
                                         self.alias)
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
        sql += self.limit(None, maxrec, op.offset)
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

    # ---- SELECT ----
    def select(self, sel: ast.Select, parent, top_level, maxrec=None):
        scope = Scope([], parent)
        from_sql = []
        for item in sel.from_:
            sql, sources = self.from_item(item, scope)
            from_sql.append(sql)
            scope.sources.extend(sources)

        outs: list[OutputColumn] = []
        select_sql: list[str] = []
        taken: set[str] = set()

        def add(name, delimited, val: Value):
            out_name, n = name, 1
            while out_name.lower() in taken:  # SELECT a.x, b.x: the second is x_2
                n += 1
                out_name = f"{name}_{n}"
            taken.add(out_name.lower())
            sql_name = quote(out_name if delimited else out_name.lower())
            expr_sql = self.dialect.output(val, self.alias) if top_level else val.sql
            select_sql.append(f"{expr_sql} AS {sql_name}")
            outs.append(OutputColumn(out_name, delimited, sql_name,
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
                scope.aliases[item.alias.key] = Value(outs[-1].sql, val.column, val.geom)
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
        sql += self.limit(sel.top, maxrec, sel.offset)
        return sql, outs

    def order_reference(self, expr, outs) -> Optional[OutputColumn]:
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
        """One ORDER BY term: strings in code-point order, PostgreSQL's NULL placement."""
        return self.dialect.order_term(sql, column.datatype, descending, collate)

    def group_term(self, expr, scope) -> str:
        if isinstance(expr, ast.ColumnRef) and len(expr.name.parts) == 1:
            try:
                return self.expr(expr, scope).sql
            except ADQLSemanticError:
                if expr.name.last.key in scope.aliases:
                    return scope.aliases[expr.name.last.key].sql
                raise
        return self.expr(expr, scope).sql

    def default_name(self, expr, val: Value) -> str:
        if isinstance(expr, ast.ColumnRef):
            return val.column.name
        if isinstance(expr, ast.FunctionCall):
            return expr.name.lower()
        if isinstance(expr, ast.Cast):
            return self.default_name(expr.operand, val) if isinstance(
                expr.operand, ast.ColumnRef) else "cast"
        return "expr"

    # ---- conditions ----
    def where(self, cond, scope) -> str:
        """A WHERE or ON condition, with a spatial-index prefilter for each cone in it
        (:meth:`~.geometry.GeometryTranslation.cone`)."""
        sql = self.condition(cond, scope)
        extra = []
        for term in conjuncts(cond):
            cone = self.cone(term, scope)
            if cone is not None:
                extra.append(cone)
        return " AND ".join(extra + [sql])

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
            literal = node.pattern.value if isinstance(node.pattern, ast.String) else None
            return self.dialect.like(v, p, literal, node.case_insensitive, node.negated)
        if isinstance(node, ast.IsNull):
            v = self.expr(node.operand, scope).sql
            return f"({v} IS {'NOT ' if node.negated else ''}NULL)"
        if isinstance(node, ast.Exists):
            sql, _ = self.body(node.query, scope, top_level=False)
            return f"(EXISTS ({sql}))"
        raise ADQLSemanticError("a condition is needed here")

    # ---- expressions ----
    def expr(self, node, scope) -> Value:
        if isinstance(node, ast.CONDITIONS):
            raise ADQLSemanticError("a condition cannot be used as a value")
        if isinstance(node, ast.Number):
            return self.number(node.value)
        if isinstance(node, ast.String):
            return Value(self.string(node.value), computed_column("char", arraysize="*"))
        if isinstance(node, ast.Null):
            return Value("NULL", computed_column("char", arraysize="*"))
        if isinstance(node, ast.ColumnRef):
            return self.column_ref(node, scope)
        if isinstance(node, ast.UnaryOp):
            v = self.expr(node.operand, scope)
            self.not_geometry(v, node.op)
            if node.op == "~":
                return Value(f"(~{v.sql})", computed_column("long"))
            return Value(f"({node.op}{v.sql})", replace(v.column, name="expr", ucd=None))
        if isinstance(node, ast.BinaryOp):
            return self.binary(node, scope)
        if isinstance(node, ast.ScalarSubquery):
            sql, outs = self.body(node.query, scope, top_level=False)
            if len(outs) != 1:
                raise ADQLSemanticError(f"a subquery used as a value returns {len(outs)} "
                                        "columns, not 1")
            return Value(f"({sql})", outs[0].column, outs[0].geom)
        if isinstance(node, ast.Cast):
            return self.cast(node, scope)
        if isinstance(node, ast.Case):
            return self.case(node, scope)
        if isinstance(node, ast.FunctionCall):
            return self.function(node, scope)
        raise ADQLSemanticError(f"unsupported expression {type(node).__name__}")

    def number(self, value) -> Value:
        if isinstance(value, int):
            return Value(str(value), computed_column("int" if -2**31 <= value < 2**31 else "long"))
        if not math.isfinite(value):
            raise ADQLSemanticError("numeric literal out of range")
        return Value(self.dialect.double(repr(float(value))), computed_column("double"))

    def string(self, value: str) -> str:
        if "\x00" in value:
            raise ADQLSemanticError("string literals cannot contain NUL characters")
        return self.dialect.string(value)

    def not_geometry(self, v: Value, what: str):
        if v.geom:
            raise ADQLSemanticError(f"a {v.geom} cannot be an operand of {what}")

    def numeric(self, node, scope) -> str:
        v = self.expr(node, scope)
        self.not_geometry(v, "a numeric argument")
        return v.sql

    def binary(self, node: ast.BinaryOp, scope) -> Value:
        left, right = self.expr(node.left, scope), self.expr(node.right, scope)
        self.not_geometry(left, node.op)
        self.not_geometry(right, node.op)
        if node.op == "||":
            return Value(f"({self.dialect.as_text(left)} || {self.dialect.as_text(right)})",
                         computed_column("char", arraysize="*"))
        if node.op in ("&", "|", "^"):
            if node.op == "^":
                sql = self.dialect.xor(left.sql, right.sql)
            else:
                sql = f"({left.sql} {node.op} {right.sql})"
            return Value(sql, computed_column("long"))
        ints = left.column.datatype in INTEGER_TYPES and right.column.datatype in INTEGER_TYPES
        unit = left.column.unit if node.op in "+-" and left.column.unit == right.column.unit \
            else None
        if node.op == "/":
            sql = self.dialect.divide(left.sql, right.sql)
        else:
            sql = f"({left.sql} {node.op} {right.sql})"
        return Value(sql, computed_column("long" if ints else "double", unit=unit))

    def cast(self, node: ast.Cast, scope) -> Value:
        v = self.expr(node.operand, scope)
        t = node.type
        if t.name in GEOMETRY_XTYPES | {"POINT", "CIRCLE", "POLYGON"}:
            raise ADQLSemanticError(f"CAST to {t.name} is not supported by this service")
        self.not_geometry(v, "CAST")
        if t.name in ("SMALLINT", "INTEGER", "BIGINT"):
            datatype = {"SMALLINT": "short", "INTEGER": "int", "BIGINT": "long"}[t.name]
            return Value(self.dialect.cast_integer(v.sql, t.name), computed_column(datatype))
        if t.name == "REAL":
            return Value(self.dialect.cast_real(v.sql), computed_column("float"))
        if t.name == "DOUBLE":
            return Value(self.dialect.cast_double(v.sql), computed_column("double"))
        if t.name in ("CHAR", "VARCHAR"):
            size = str(t.length) if t.length is not None else "*"
            return Value(self.dialect.cast_char(v, t.name, t.length),
                         computed_column("char", arraysize=size))
        if t.name == "TIMESTAMP":
            return Value(self.dialect.cast_timestamp(v.sql),
                         computed_column("char", arraysize="*", xtype="timestamp"))
        raise ADQLSemanticError(f"CAST to {t.name} is not supported")

    def case(self, node: ast.Case, scope) -> Value:
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
        return Value("(" + " ".join(parts) + ")", self.common_type(results))

    def common_type(self, vals: list[Value]) -> Column:
        typed = [v for v in vals if v.sql != "NULL"]
        if not typed:
            return computed_column("char", arraysize="*")
        kinds = {v.column.datatype for v in typed}
        if len(kinds) == 1:
            return replace(typed[0].column, name="expr")
        if kinds <= INTEGER_TYPES:
            return computed_column("long")
        if kinds <= INTEGER_TYPES | {"float", "double"}:
            return computed_column("double")
        return computed_column("char", arraysize="*")

    # ---- functions ----
    def function(self, node: ast.FunctionCall, scope) -> Value:
        name = node.name
        if node.user_defined:
            return self.udf(node, scope)
        if name in ("COUNT", "AVG", "SUM", "MIN", "MAX"):
            return self.aggregate(node, scope)
        if name in ("POINT", "CIRCLE", "POLYGON", "BOX", "CENTROID", "REGION"):
            return self.geometry(node, scope)
        if name in ("CONTAINS", "INTERSECTS"):
            predicate = self.spatial(node, scope)
            return Value(f"(CASE WHEN {predicate} THEN 1 ELSE 0 END)", computed_column("int"))
        if name == "DISTANCE":
            return self.distance(node, scope)
        if name in ("COORD1", "COORD2"):
            p = self.geometry(node.args[0], scope)
            if p.geom != "point":
                raise ADQLSemanticError(f"{name} needs a point")
            return Value(self.dialect.coord(1 if name == "COORD1" else 2, p.sql),
                         computed_column("double", unit="deg"))
        if name == "AREA":
            g = self.geometry(node.args[0], scope)
            sql = self.number(0.0).sql if g.geom == "point" else self.dialect.area(g.sql)
            return Value(sql, computed_column("double", unit="deg**2"))
        if name == "COORDSYS":
            self.geometry(node.args[0], scope)
            return Value("'ICRS'", computed_column("char", arraysize="*"))
        if name in ("LOWER", "UPPER"):
            v = self.expr(node.args[0], scope)
            self.not_geometry(v, name)
            return Value(f"{name.lower()}({self.dialect.as_text(v)})",
                         computed_column("char", arraysize="*"))
        if name in ("COALESCE", "NULLIF"):
            vals = [self.expr(a, scope) for a in node.args]
            for v in vals:
                self.not_geometry(v, name)
            return Value(f"{name}(" + ", ".join(v.sql for v in vals) + ")",
                         self.common_type(vals))
        if name == "IN_UNIT":
            return self.in_unit(node, scope)
        return self.math(node, scope)

    def math(self, node: ast.FunctionCall, scope) -> Value:
        name = node.name
        args = [self.numeric(a, scope) for a in node.args]
        if name == "PI":
            return self.number(math.pi)
        if name == "RAND":
            return Value(self.dialect.random(), computed_column("double"))
        return Value(self.dialect.math(name, args), computed_column("double"))

    def aggregate(self, node: ast.FunctionCall, scope) -> Value:
        name = node.name
        quantifier = f"{node.quantifier} " if node.quantifier else ""
        if isinstance(node.args[0], ast.Star):
            return Value("COUNT(*)", computed_column("long"))
        v = self.expr(node.args[0], scope)
        self.not_geometry(v, name)
        if name == "COUNT":
            return Value(f"COUNT({quantifier}{v.sql})", computed_column("long"))
        if name == "AVG":
            return Value(f"AVG({quantifier}{self.dialect.avg_argument(v.sql)})",
                         computed_column("double", unit=v.column.unit))
        if name == "SUM":
            ints = v.column.datatype in INTEGER_TYPES
            return Value(f"SUM({quantifier}{v.sql})",
                         computed_column("long" if ints else "double", unit=v.column.unit))
        return Value(f"{name}({quantifier}{v.sql})",
                     replace(v.column, name="expr", ucd=None, principal=False, indexed=False))

    def udf(self, node: ast.FunctionCall, scope) -> Value:
        key = node.name.lower()
        if key not in UDFS:
            raise ADQLSemanticError(f"function {node.name} is not provided by this service"
                                    + suggest(key, list(UDFS)))
        nargs, datatype = UDFS[key]
        if len(node.args) != nargs:
            raise ADQLSemanticError(f"{key} takes {nargs} arguments")
        a = [self.expr(x, scope) for x in node.args]
        if key == "ivo_interval_overlaps":
            sql = (f"(CASE WHEN {a[0].sql} <= {a[3].sql} AND {a[2].sql} <= {a[1].sql} "
                   f"THEN 1 ELSE 0 END)")
        else:  # ivo_nocasematch(value, pattern): ILIKE for ADQL 2.0 clients
            sql = f"(CASE WHEN {self.dialect.nocase_match(a[0], a[1])} THEN 1 ELSE 0 END)"
        return Value(sql, computed_column(datatype))

    def in_unit(self, node, scope) -> Value:
        from astropy import units  # astropy is slow to import; most queries never need it
        v = self.expr(node.args[0], scope)
        target = node.args[1].value
        if not v.column.unit:
            raise ADQLSemanticError("IN_UNIT: the value has no unit to convert from")
        try:
            factor = units.Unit(v.column.unit).to(units.Unit(target))
        except (ValueError, units.UnitConversionError) as e:
            raise ADQLSemanticError(f"IN_UNIT: cannot convert {v.column.unit} to {target}: "
                                    f"{e}") from None
        return Value(f"({v.sql} * {self.number(float(factor)).sql})",
                     computed_column("double", unit=target))
