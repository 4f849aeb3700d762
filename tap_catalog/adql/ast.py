"""The ADQL abstract syntax tree: small frozen dataclasses named after the grammar.

A query is a :class:`Query` (optional common table expressions and a body); a body is
a :class:`Select` or a :class:`SetOperation`; FROM items are :class:`Table`,
:class:`DerivedTable` and :class:`Join`; everything else is an expression.  Function
calls of every kind (math, aggregates, geometry, string, user-defined) are one node,
:class:`FunctionCall`, whose ``name`` is upper-case for standard functions and as
written for user-defined ones.  ``pos`` fields carry (line, column) for messages and
take no part in equality.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

Pos = Optional[tuple[int, int]]


def _pos():
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Identifier:
    """A regular identifier (case-insensitive) or a delimited one (case-sensitive)."""

    name: str
    delimited: bool = False
    pos: Pos = _pos()

    @property
    def key(self) -> str:
        """What two identifiers must share to name the same thing."""
        return self.name if self.delimited else self.name.lower()

    def matches(self, declared: str) -> bool:
        """Whether this identifier names a declared (case-insensitively stored) name."""
        return declared == self.name if self.delimited else declared.lower() == self.key

    def __str__(self) -> str:
        return '"' + self.name.replace('"', '""') + '"' if self.delimited else self.name


@dataclass(frozen=True)
class QualifiedName:
    parts: tuple[Identifier, ...]
    pos: Pos = _pos()

    @property
    def last(self) -> Identifier:
        return self.parts[-1]

    def __str__(self) -> str:
        return ".".join(str(p) for p in self.parts)


# ---- expressions -------------------------------------------------------------------

@dataclass(frozen=True)
class Number:
    text: str
    value: Union[int, float]
    pos: Pos = _pos()


@dataclass(frozen=True)
class String:
    value: str
    pos: Pos = _pos()


@dataclass(frozen=True)
class Null:
    pos: Pos = _pos()


@dataclass(frozen=True)
class ColumnRef:
    name: QualifiedName
    pos: Pos = _pos()


@dataclass(frozen=True)
class Star:
    """The ``*`` of ``COUNT(*)``."""


@dataclass(frozen=True)
class FunctionCall:
    name: str
    args: tuple["Expr", ...]
    quantifier: Optional[str] = None  # DISTINCT / ALL inside an aggregate
    user_defined: bool = False
    pos: Pos = _pos()


@dataclass(frozen=True)
class CastType:
    name: str  # SMALLINT INTEGER BIGINT REAL DOUBLE CHAR VARCHAR TIMESTAMP POINT CIRCLE POLYGON
    length: Optional[int] = None


@dataclass(frozen=True)
class Cast:
    operand: "Expr"
    type: CastType
    pos: Pos = _pos()


@dataclass(frozen=True)
class Case:
    operand: Optional["Expr"]  # None for a searched CASE
    whens: tuple[tuple["Expr", "Expr"], ...]
    else_: Optional["Expr"]
    pos: Pos = _pos()


@dataclass(frozen=True)
class UnaryOp:
    op: str  # "-", "+", "~"
    operand: "Expr"
    pos: Pos = _pos()


@dataclass(frozen=True)
class BinaryOp:
    op: str  # + - * / || & | ^
    left: "Expr"
    right: "Expr"
    pos: Pos = _pos()


@dataclass(frozen=True)
class ScalarSubquery:
    query: "QueryBody"
    pos: Pos = _pos()


# ---- search conditions ---------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    op: str  # = != < > <= >=  ("<>" is normalized to "!=")
    left: "Expr"
    right: "Expr"
    pos: Pos = _pos()


@dataclass(frozen=True)
class Between:
    operand: "Expr"
    low: "Expr"
    high: "Expr"
    negated: bool = False
    pos: Pos = _pos()


@dataclass(frozen=True)
class InList:
    operand: "Expr"
    values: tuple["Expr", ...]
    negated: bool = False
    pos: Pos = _pos()


@dataclass(frozen=True)
class InSubquery:
    operand: "Expr"
    query: "QueryBody"
    negated: bool = False
    pos: Pos = _pos()


@dataclass(frozen=True)
class Like:
    operand: "Expr"
    pattern: "Expr"
    negated: bool = False
    case_insensitive: bool = False  # ILIKE
    pos: Pos = _pos()


@dataclass(frozen=True)
class IsNull:
    operand: "Expr"
    negated: bool = False
    pos: Pos = _pos()


@dataclass(frozen=True)
class Exists:
    query: "QueryBody"
    pos: Pos = _pos()


@dataclass(frozen=True)
class And:
    left: "Expr"
    right: "Expr"
    pos: Pos = _pos()


@dataclass(frozen=True)
class Or:
    left: "Expr"
    right: "Expr"
    pos: Pos = _pos()


@dataclass(frozen=True)
class Not:
    operand: "Expr"
    pos: Pos = _pos()


Condition = Union[Comparison, Between, InList, InSubquery, Like, IsNull, Exists, And, Or, Not]
Expr = Union[Number, String, Null, ColumnRef, FunctionCall, Cast, Case, UnaryOp, BinaryOp,
             ScalarSubquery, Condition]
CONDITIONS = (Comparison, Between, InList, InSubquery, Like, IsNull, Exists, And, Or, Not)


# ---- FROM ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Table:
    name: QualifiedName
    alias: Optional[Identifier] = None
    pos: Pos = _pos()


@dataclass(frozen=True)
class DerivedTable:
    query: "QueryBody"
    alias: Identifier
    pos: Pos = _pos()


@dataclass(frozen=True)
class Join:
    kind: str  # INNER LEFT RIGHT FULL CROSS
    left: "FromItem"
    right: "FromItem"
    natural: bool = False
    on: Optional[Expr] = None
    using: Optional[tuple[Identifier, ...]] = None
    pos: Pos = _pos()


FromItem = Union[Table, DerivedTable, Join]


# ---- queries ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AllColumns:
    """``*`` or ``qualifier.*`` in a select list."""

    qualifier: Optional[QualifiedName] = None
    pos: Pos = _pos()


@dataclass(frozen=True)
class SelectColumn:
    expr: Expr
    alias: Optional[Identifier] = None
    pos: Pos = _pos()


@dataclass(frozen=True)
class OrderItem:
    expr: Expr
    descending: bool = False


@dataclass(frozen=True)
class Select:
    items: tuple[Union[AllColumns, SelectColumn], ...]
    from_: tuple[FromItem, ...]
    where: Optional[Expr] = None
    group_by: tuple[Expr, ...] = ()
    having: Optional[Expr] = None
    distinct: bool = False
    top: Optional[int] = None
    order_by: tuple[OrderItem, ...] = ()
    offset: Optional[int] = None
    pos: Pos = _pos()


@dataclass(frozen=True)
class SetOperation:
    op: str  # UNION EXCEPT INTERSECT
    left: "QueryBody"
    right: "QueryBody"
    all: bool = False
    order_by: tuple[OrderItem, ...] = ()
    offset: Optional[int] = None
    pos: Pos = _pos()


QueryBody = Union[Select, SetOperation]


@dataclass(frozen=True)
class CommonTableExpression:
    name: Identifier
    query: QueryBody
    columns: Optional[tuple[Identifier, ...]] = None


@dataclass(frozen=True)
class Query:
    body: QueryBody
    ctes: tuple[CommonTableExpression, ...] = ()
