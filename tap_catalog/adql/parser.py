"""ADQL text to syntax tree: the lark LALR parser, the tree builder and the syntax checks.

``parse(text)`` runs the grammar of ``adql.lark`` and builds the :mod:`.ast` nodes.
What the standard's BNF states but a LALR(1) grammar cannot (search conditions versus
value expressions, function arity and argument kinds, reserved words used as names,
qualified-name lengths, unsigned integers after TOP and OFFSET) is checked while
building, and reported as :class:`ADQLSyntaxError` like any other syntax error.
"""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Iterable

import lark
from lark import Token, Transformer, v_args

from . import ast
from .errors import ADQLSyntaxError
from .limits import ParseLimits, check_depth, check_length, too_deep
from .functions import (FUNCTIONS, GEOMETRY_KINDS, RESERVED_WORDS, UDF_PREFIXES,
                        CAST_TYPES)

GRAMMAR = Path(__file__).with_name("adql.lark")

#: how a terminal is named in "expected ..." messages
_TERMINAL_TEXT = {
    "REGULAR_IDENTIFIER": "an identifier", "DELIMITED_IDENTIFIER": "a delimited identifier",
    "NUMBER": "a number", "HEX_NUMBER": "a hexadecimal number", "STRING": "a string",
    "LPAR": "'('", "RPAR": "')'", "COMMA": "','", "DOT": "'.'", "STAR": "'*'",
    "COMP_OP": "a comparison operator", "ADD_OP": "'+' or '-'", "MUL_OP": "'*' or '/'",
    "UNARY_OP": "a sign", "VBAR": "'|'", "CIRCUMFLEX": "'^'", "AMPERSAND": "'&'",
    "__ANON_0": "'||'", "$END": "the end of the query",
}


@functools.lru_cache(maxsize=1)
def _lark() -> lark.Lark:
    return lark.Lark(GRAMMAR.read_text(), parser="lalr", lexer="contextual",
                     maybe_placeholders=True, propagate_positions=False, cache=False)


def parse(text: str, *, udfs: Iterable[str] = (), limits: ParseLimits = ParseLimits()) -> ast.Query:
    """Parse ADQL ``text``; raise :class:`ADQLSyntaxError` if it is not ADQL 2.1, and
    :class:`ADQLLimitError` if it is longer or more deeply nested than ``limits`` allow.

    ``udfs`` names user-defined functions accepted besides the standard functions and
    those with a registered prefix (``ivo_``, ``hera_``).
    """
    check_length(text, limits)
    try:
        tree = _lark().parse(text)
    except lark.exceptions.UnexpectedEOF as e:
        line, column = _end_position(text)
        raise ADQLSyntaxError(f"unexpected end of query; expected {_expected(e.expected)}",
                              line, column) from None
    except lark.exceptions.UnexpectedToken as e:
        found = "the end of the query" if e.token.type == "$END" else repr(str(e.token))
        if e.token.type == "$END":
            line, column = _end_position(text)
        else:
            line, column = e.line, e.column
        raise ADQLSyntaxError(f"unexpected {found}; expected {_expected(e.expected)}",
                              line, column) from None
    except lark.exceptions.UnexpectedCharacters as e:
        char = text[e.pos_in_stream] if e.pos_in_stream < len(text) else ""
        what = {"'": "unterminated string", '"': "unterminated delimited identifier"}.get(
            char, f"unexpected character {char!r}")
        raise ADQLSyntaxError(f"{what}; expected {_expected(e.allowed)}", e.line, e.column) \
            from None
    check_depth(tree, limits)  # the builder and the checks below recurse
    builder = _Builder({u.lower() for u in udfs})
    try:
        query = builder.transform(tree)
        _Checker().query(query)
    except lark.exceptions.VisitError as e:
        if isinstance(e.orig_exc, ADQLSyntaxError):
            raise e.orig_exc from None
        if isinstance(e.orig_exc, RecursionError):
            raise too_deep(limits) from None
        raise
    except RecursionError:
        raise too_deep(limits) from None
    return query


def _end_position(text: str) -> tuple[int, int]:
    lines = text.rstrip().split("\n")
    return len(lines), len(lines[-1]) + 1


def _expected(names) -> str:
    words = sorted({_TERMINAL_TEXT.get(n, n if n.isupper() and n.isalpha() else f"'{n}'")
                    for n in names if not n.startswith("__") or n in _TERMINAL_TEXT})
    if not words:
        return "something else"
    return words[0] if len(words) == 1 else "one of " + ", ".join(words)


def _pos(token) -> ast.Pos:
    line = getattr(token, "line", None)
    return (line, token.column) if line is not None else None


def _tokens(items, *types):
    return [t for t in items if isinstance(t, Token) and t.type in types]


def _nodes(items):
    return [i for i in items if not isinstance(i, Token) and i is not None]


def _unsigned_integer(token: Token, what: str) -> int:
    if not token.isdigit():
        raise ADQLSyntaxError(f"{what} needs an unsigned integer, not {str(token)!r}",
                              token.line, token.column)
    return int(token)


@v_args(inline=False)
class _Builder(Transformer):
    """lark parse tree → :mod:`.ast` nodes."""

    def __init__(self, udfs: set[str]):
        super().__init__()
        self.udfs = udfs

    # -- names
    def identifier(self, items):
        (tok,) = items
        if tok.type == "DELIMITED_IDENTIFIER":
            return ast.Identifier(tok[1:-1].replace('""', '"'), True, _pos(tok))
        return ast.Identifier(str(tok), False, _pos(tok))

    def qualified_name(self, items):
        return ast.QualifiedName(tuple(items), items[0].pos)

    def column_list(self, items):
        return tuple(items)

    # -- queries
    def start(self, items):
        with_clause, body = items
        return ast.Query(body, tuple(with_clause or ()))

    def with_clause(self, items):
        return _nodes(items)

    def cte(self, items):
        name, columns, _as, query = items
        return ast.CommonTableExpression(_declared_name(name), query, columns)

    def query_expr(self, items):
        body, order_by, offset = items
        if order_by is None and offset is None:
            return body
        if body.order_by or body.offset is not None:
            raise ADQLSyntaxError("a query in parentheses already has ORDER BY or OFFSET",
                                  *(body.pos or (None, None)))
        return _replace(body, order_by=tuple(order_by or ()), offset=offset)

    def _set_op(self, op, items):
        left = items[0]
        right = items[-1]
        is_all = bool(_tokens(items, "ALL"))
        tok = _tokens(items, op)[0]
        return ast.SetOperation(op, left, right, is_all, pos=_pos(tok))

    def union(self, items):
        return self._set_op("UNION", items)

    def except_(self, items):
        return self._set_op("EXCEPT", items)

    def intersect(self, items):
        return self._set_op("INTERSECT", items)

    def select(self, items):
        select_tok, quantifier, top, select_list, from_, where, group_by, having = items
        return ast.Select(tuple(select_list), tuple(from_), where, tuple(group_by or ()),
                          having, quantifier == "DISTINCT", top, pos=_pos(select_tok))

    def quantifier(self, items):
        return items[0].type

    def top(self, items):
        return _unsigned_integer(items[1], "TOP")

    def offset(self, items):
        return _unsigned_integer(items[1], "OFFSET")

    def select_list(self, items):
        return items

    def all_columns(self, items):
        return ast.AllColumns(None)

    def qualified_all_columns(self, items):
        name = ast.QualifiedName(tuple(items), items[0].pos)
        if len(name.parts) > 3:
            raise _name_error(name, "a table name has at most three parts")
        return ast.AllColumns(name, name.pos)

    def derived_column(self, items):
        expr, alias = items[0], (items[-1] if len(items) > 1 else None)
        return ast.SelectColumn(expr, _declared_name(alias) if alias else None)

    def from_clause(self, items):
        return _nodes(items[1:])

    def where_clause(self, items):
        return items[1]

    def group_by(self, items):
        return _nodes(items[2:])

    def having(self, items):
        return items[1]

    def order_by(self, items):
        return _nodes(items[2:])

    def order_item(self, items):
        expr, direction = items
        return ast.OrderItem(expr, direction is not None and direction.type == "DESC")

    # -- FROM
    def table(self, items):
        name, alias = items[0], (items[-1] if len(items) > 1 else None)
        if len(name.parts) > 3:
            raise _name_error(name, "a table name has at most three parts "
                                    "(catalog.schema.table)")
        for part in name.parts:
            _declared_name(part)
        return ast.Table(name, _declared_name(alias) if alias else None, name.pos)

    def derived_table(self, items):
        query, _as, alias = items
        return ast.DerivedTable(query, _declared_name(alias), alias.pos)

    def subquery(self, items):
        return items[0]

    def join_type(self, items):
        return items[0].type

    def natural_join(self, items):
        left, _natural, kind, _join, right = items
        return ast.Join(kind or "INNER", left, right, natural=True)

    def cross_join(self, items):
        left, _cross, _join, right = items
        return ast.Join("CROSS", left, right)

    def on_join(self, items):
        left, kind, _join, right, _on, condition = items
        return ast.Join(kind or "INNER", left, right, on=condition)

    def plain_join(self, items):
        left, kind, join_tok, right = items
        if kind == "INNER" and not isinstance(right, ast.Join):
            raise ADQLSyntaxError("INNER JOIN needs ON or USING", join_tok.line,
                                  join_tok.column)
        return ast.Join(kind or "INNER", left, right)

    def using_join(self, items):
        left, kind, _join, right, _using, columns = items
        return ast.Join(kind or "INNER", left, right, using=tuple(columns))

    # -- conditions
    def or_(self, items):
        return ast.Or(items[0], items[2])

    def and_(self, items):
        return ast.And(items[0], items[2])

    def not_(self, items):
        return ast.Not(items[1])

    def comparison(self, items):
        left, op, right = items
        return ast.Comparison("!=" if op == "<>" else str(op), left, right, _pos(op))

    def between(self, items):
        operand, negation, _between, low, _and, high = items
        return ast.Between(operand, low, high, negation is not None)

    def in_subquery(self, items):
        operand, negation, _in, query = items
        return ast.InSubquery(operand, query, negation is not None)

    def in_list(self, items):
        operand, negation, _in, *values = items
        return ast.InList(operand, tuple(values), negation is not None)

    def like(self, items):
        operand, negation, op, pattern = items
        return ast.Like(operand, pattern, negation is not None, op.type == "ILIKE", _pos(op))

    def is_null(self, items):
        operand, _is, negation, _null = items
        return ast.IsNull(operand, negation is not None)

    def exists(self, items):
        return ast.Exists(items[1], _pos(items[0]))

    # -- value expressions
    def _binary(self, op, items):
        return ast.BinaryOp(op, items[0], items[-1])

    def bit_or(self, items):
        return self._binary("|", items)

    def bit_xor(self, items):
        return self._binary("^", items)

    def bit_and(self, items):
        return self._binary("&", items)

    def concat(self, items):
        return self._binary("||", items)

    def arith(self, items):
        left, op, right = items
        return ast.BinaryOp(str(op), left, right, _pos(op))

    def unary(self, items):
        op, operand = items
        if op == "-" and isinstance(operand, ast.Number) and not operand.text.startswith("-"):
            return ast.Number("-" + operand.text, -operand.value, _pos(op))
        return ast.UnaryOp(str(op), operand, _pos(op))

    def number(self, items):
        (tok,) = items
        text = str(tok)
        if any(c in text for c in ".eE"):
            return ast.Number(text, float(text), _pos(tok))
        return ast.Number(text, int(text), _pos(tok))

    def hex_number(self, items):
        (tok,) = items
        return ast.Number(str(tok), int(str(tok), 16), _pos(tok))

    def string(self, items):
        return ast.String("".join(t[1:-1].replace("''", "'") for t in items), _pos(items[0]))

    def null(self, items):
        return ast.Null(_pos(items[0]))

    def column_ref(self, items):
        (name,) = items
        if len(name.parts) > 4:
            raise _name_error(name, "a column reference has at most four parts "
                                    "(catalog.schema.table.column)")
        for part in name.parts:
            _declared_name(part)
        return ast.ColumnRef(name, name.pos)

    def scalar_subquery(self, items):
        return ast.ScalarSubquery(items[0])

    def function_call(self, items):
        name_tok, quantifier, *args = items
        args = tuple(a for a in args if a is not None)
        return self._function(name_tok, args, quantifier)

    def count_star(self, items):
        (name_tok,) = items
        if name_tok.upper() != "COUNT":
            raise ADQLSyntaxError(f"only COUNT takes '*' as its argument, not {name_tok}",
                                  name_tok.line, name_tok.column)
        return ast.FunctionCall("COUNT", (ast.Star(),), pos=_pos(name_tok))

    def _function(self, name_tok, args, quantifier):
        upper = name_tok.upper()
        spec = FUNCTIONS.get(upper)
        if spec is None:
            lower = str(name_tok).lower()
            if lower.startswith(UDF_PREFIXES) or lower in self.udfs:
                if quantifier:
                    raise ADQLSyntaxError(f"{quantifier} is only allowed in aggregates",
                                          name_tok.line, name_tok.column)
                return ast.FunctionCall(str(name_tok), args, user_defined=True,
                                        pos=_pos(name_tok))
            raise ADQLSyntaxError(
                f"unknown function {str(name_tok)}: neither an ADQL function nor a "
                f"user-defined function of this service", name_tok.line, name_tok.column)
        if not spec.min_args <= len(args) <= spec.max_args:
            counts = (str(spec.min_args) if spec.min_args == spec.max_args
                      else f"{spec.min_args} to {spec.max_args}")
            raise ADQLSyntaxError(f"{upper} takes {counts} arguments, not {len(args)}",
                                  name_tok.line, name_tok.column)
        if quantifier and not spec.aggregate:
            raise ADQLSyntaxError(f"{quantifier} is only allowed in aggregates",
                                  name_tok.line, name_tok.column)
        return ast.FunctionCall(upper, args, quantifier, pos=_pos(name_tok))

    def cast(self, items):
        cast_tok, operand, _as, cast_type = items
        return ast.Cast(operand, cast_type, _pos(cast_tok))

    def cast_type(self, items):
        words = [str(t).upper() for t in items if t is not None and t.type == "REGULAR_IDENTIFIER"]
        length = [t for t in items if t is not None and t.type == "NUMBER"]
        name = " ".join(words)
        first = items[0]
        if name == "DOUBLE PRECISION":
            name = "DOUBLE"
        if name not in CAST_TYPES:
            raise ADQLSyntaxError(f"cannot CAST to {' '.join(words)}; the types are "
                                  f"{', '.join(sorted(CAST_TYPES))}", first.line, first.column)
        size = None
        if length:
            if name not in ("CHAR", "VARCHAR"):
                raise ADQLSyntaxError(f"{name} takes no length", first.line, first.column)
            size = _unsigned_integer(length[0], "a CHAR or VARCHAR length")
        return ast.CastType(name, size)

    def case_expr(self, items):
        case_tok, operand, *whens, _else, else_, _end = items
        return ast.Case(operand, tuple(whens), else_, _pos(case_tok))

    def when_clause(self, items):
        return (items[1], items[3])


def _replace(node, **changes):
    return dataclasses.replace(node, **changes)


def _name_error(name: ast.QualifiedName, message: str) -> ADQLSyntaxError:
    line, column = name.pos or (None, None)
    return ADQLSyntaxError(f"{message}: {name}", line, column)


def _declared_name(ident: ast.Identifier) -> ast.Identifier:
    """Refuse a reserved word as a regular identifier."""
    if not ident.delimited and ident.name.upper() in RESERVED_WORDS:
        line, column = ident.pos or (None, None)
        raise ADQLSyntaxError(
            f"{ident.name.upper()} is a reserved word; write \"{ident.name}\" to use it "
            f"as a name", line, column)
    return ident


# ---- checks on the built tree ---------------------------------------------------------

#: expression kinds for the syntax checks
BOOL, NUM, STR, ANY = "boolean", "numeric", "string", "any"
POINT, CIRCLE, POLYGON, REGION = "point", "circle", "polygon", "region"
GEOMETRY = {POINT, CIRCLE, POLYGON, REGION}


class _Checker:
    """Check kinds: conditions where conditions belong, geometry where geometry belongs."""

    def query(self, query: ast.Query):
        for cte in query.ctes:
            self.body(cte.query)
        self.body(query.body)

    def body(self, body):
        if isinstance(body, ast.SetOperation):
            self.body(body.left)
            self.body(body.right)
            for item in body.order_by:
                self.value(item.expr)
            return
        for item in body.items:
            if isinstance(item, ast.SelectColumn):
                self.value(item.expr)
        for f in body.from_:
            self.from_item(f)
        if body.where is not None:
            self.condition(body.where, "WHERE")
        for g in body.group_by:
            self.value(g)
        if body.having is not None:
            self.condition(body.having, "HAVING")
        for item in body.order_by:
            self.value(item.expr)

    def from_item(self, item):
        if isinstance(item, ast.DerivedTable):
            self.body(item.query)
        elif isinstance(item, ast.Join):
            self.from_item(item.left)
            self.from_item(item.right)
            if item.on is not None:
                self.condition(item.on, "ON")

    def condition(self, node, where: str):
        if isinstance(node, (ast.And, ast.Or)):
            self.condition(node.left, where)
            self.condition(node.right, where)
        elif isinstance(node, ast.Not):
            self.condition(node.operand, where)
        elif isinstance(node, ast.Comparison):
            left, right = self.value(node.left), self.value(node.right)
            if (left in GEOMETRY or right in GEOMETRY) and node.op not in ("=", "!="):
                self.fail(node, "geometries can only be compared with = or !=")
        elif isinstance(node, ast.Between):
            for v in (node.operand, node.low, node.high):
                self.scalar(v, "BETWEEN")
        elif isinstance(node, ast.InList):
            self.scalar(node.operand, "IN")
            for v in node.values:
                self.scalar(v, "IN")
        elif isinstance(node, ast.InSubquery):
            self.scalar(node.operand, "IN")
            self.body(node.query)
        elif isinstance(node, ast.Like):
            self.scalar(node.operand, "LIKE")
            self.scalar(node.pattern, "LIKE")
        elif isinstance(node, ast.IsNull):
            self.value(node.operand)
        elif isinstance(node, ast.Exists):
            self.body(node.query)
        else:
            kind = self.value(node)
            self.fail(node, f"{where} needs a condition (a comparison, BETWEEN, IN, LIKE, "
                            f"IS NULL or EXISTS), not a {kind} value")

    def scalar(self, node, where: str) -> str:
        kind = self.value(node)
        if kind in GEOMETRY:
            self.fail(node, f"a {kind} cannot be an operand of {where}")
        return kind

    def value(self, node) -> str:
        """The kind of a value expression; fail on a condition used as a value."""
        if isinstance(node, ast.CONDITIONS):
            self.fail(node, "a condition cannot be used as a value; use CASE WHEN")
        if isinstance(node, ast.Number):
            return NUM
        if isinstance(node, ast.String):
            return STR
        if isinstance(node, (ast.Null, ast.ColumnRef, ast.ScalarSubquery)):
            if isinstance(node, ast.ScalarSubquery):
                self.body(node.query)
            return ANY
        if isinstance(node, ast.UnaryOp):
            self.scalar(node.operand, f"'{node.op}'")
            return NUM
        if isinstance(node, ast.BinaryOp):
            self.scalar(node.left, f"'{node.op}'")
            self.scalar(node.right, f"'{node.op}'")
            return STR if node.op == "||" else NUM
        if isinstance(node, ast.Cast):
            self.value(node.operand)
            return {"POINT": POINT, "CIRCLE": CIRCLE, "POLYGON": POLYGON}.get(
                node.type.name, STR if node.type.name in ("CHAR", "VARCHAR") else NUM)
        if isinstance(node, ast.Case):
            if node.operand is not None:
                self.value(node.operand)
                for when, then in node.whens:
                    self.value(when)
            else:
                for when, then in node.whens:
                    self.condition(when, "CASE WHEN")
            kinds = {self.value(then) for _, then in node.whens}
            if node.else_ is not None:
                kinds.add(self.value(node.else_))
            kinds.discard(ANY)
            return kinds.pop() if len(kinds) == 1 else ANY
        if isinstance(node, ast.FunctionCall):
            return self.function(node)
        raise AssertionError(node)

    def function(self, node: ast.FunctionCall) -> str:
        if node.user_defined:
            for a in node.args:
                self.value(a)
            return ANY
        if node.args and isinstance(node.args[0], ast.Star):
            return NUM
        kinds = [self.value(a) for a in node.args]
        spec = FUNCTIONS[node.name]
        if spec.geometry:
            return self.geometry(node, kinds)
        if node.name == "IN_UNIT" and not isinstance(node.args[1], ast.String):
            self.fail(node.args[1], "the unit of IN_UNIT must be a string literal")
        if node.name in ("COALESCE", "NULLIF", "MAX", "MIN"):
            for a, k in zip(node.args, kinds):
                if k in GEOMETRY and node.name in ("MAX", "MIN"):
                    self.fail(a, f"{node.name} of a {k} is not defined")
            known = {k for k in kinds if k != ANY}
            return known.pop() if len(known) == 1 else ANY
        for a, k in zip(node.args, kinds):
            if k in GEOMETRY:
                self.fail(a, f"{node.name} does not take a {k}")
        return spec.result

    def geometry(self, node: ast.FunctionCall, kinds: list[str]) -> str:
        name, args = node.name, node.args

        def numeric(i):
            if kinds[i] in GEOMETRY:
                self.fail(args[i], f"{name} needs a number here, not a {kinds[i]}")

        def point(i):
            if kinds[i] not in (POINT, ANY):
                self.fail(args[i], f"{name} needs a point here, not a {kinds[i]}")

        def shape(i):
            pass  # any value: the database decides (DaCHS accepts CENTROID(3), too)

        # an optional leading coordinate system is a string literal (or NULL)
        def coordsys():
            return bool(args) and kinds[0] == STR or (args and isinstance(args[0], ast.Null)
                                                      and name == "POINT" and len(args) == 3)

        if name == "POINT":
            if len(args) == 3:
                self.coordsys_arg(node, 0)
                rest = [1, 2]
            elif len(args) == 2:
                rest = [0, 1]
            else:
                self.fail(node, "POINT takes ([coordsys,] longitude, latitude)")
            for i in rest:
                numeric(i)
            return POINT
        if name in ("CIRCLE", "BOX"):
            sizes = 1 if name == "CIRCLE" else 2
            first = 1 if coordsys() else 0
            if first:
                self.coordsys_arg(node, 0)
            remaining = len(args) - first
            if remaining == 2 + sizes:
                numeric(first)
                numeric(first + 1)
                size_start = first + 2
            elif remaining == 1 + sizes:
                point(first)
                size_start = first + 1
            else:
                self.fail(node, f"{name} takes ([coordsys,] center, "
                                f"{'radius' if sizes == 1 else 'width, height'}) where the "
                                f"center is a point or two coordinates")
            for i in range(size_start, len(args)):
                numeric(i)
            return CIRCLE if name == "CIRCLE" else POLYGON
        if name == "POLYGON":
            first = 1 if coordsys() else 0
            if first:
                self.coordsys_arg(node, 0)
            rest = list(range(first, len(args)))
            if all(kinds[i] == POINT for i in rest) or (
                    len(rest) < 6 and all(kinds[i] in (POINT, ANY) for i in rest)):
                if len(rest) < 3:
                    self.fail(node, "a POLYGON needs at least three vertices")
                for i in rest:
                    point(i)
            else:
                if len(rest) % 2 or len(rest) < 6:
                    self.fail(node, "POLYGON takes ([coordsys,] v1, v2, v3, ...) with at "
                                    "least three vertices, each a point or two coordinates")
                for i in rest:
                    numeric(i)
            return POLYGON
        if name == "REGION":
            if not isinstance(args[0], ast.String):
                self.fail(args[0], "REGION takes a string literal")
            return REGION
        if name in ("CONTAINS", "INTERSECTS"):
            shape(0)
            shape(1)
            return NUM
        if name == "DISTANCE":
            if len(args) == 2:
                point(0)
                point(1)
            elif len(args) == 4:
                for i in range(4):
                    numeric(i)
            else:
                self.fail(node, "DISTANCE takes two points or four coordinates")
            return NUM
        if name in ("COORD1", "COORD2"):
            point(0)
            return NUM
        if name == "AREA":
            shape(0)
            return NUM
        if name == "CENTROID":
            shape(0)
            return POINT
        if name == "COORDSYS":
            shape(0)
            return STR
        raise AssertionError(name)

    def coordsys_arg(self, node, i):
        arg = node.args[i]
        if not isinstance(arg, (ast.String, ast.Null)):
            self.fail(arg, f"the coordinate system of {node.name} must be a string literal")

    @staticmethod
    def fail(node, message):
        line, column = getattr(node, "pos", None) or (None, None)
        raise ADQLSyntaxError(message, line, column)


assert set(GEOMETRY_KINDS) >= {"POINT", "CIRCLE", "POLYGON", "BOX", "CENTROID", "REGION"}
