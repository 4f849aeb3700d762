"""The expression language of row filters and computed columns, after CFITSIO's.

``compile(text)`` parses with a lark LALR grammar into a small tree of tuples, checking
every name of a function against a fixed table; ``Expression.evaluate(table)`` walks
that tree with numpy over a table's columns. Nothing is ever handed to Python's
``eval``: user text can only name columns, keywords and the functions listed in
``FUNCTIONS``, so there is no path to attributes, imports or builtins. Text longer than
``MAX_LENGTH`` or nested deeper than ``MAX_DEPTH`` is refused before evaluation.

Syntax (docs/ftools.md has the full table):

- numbers (``12``, ``1.5e3``), strings (``"abc"`` or ``'abc'``), ``T``/``F`` (true,
  false), ``#pi``, ``#e``, ``#deg`` (pi/180), ``#row`` (1-based row number), ``#NAME``
  (the value of header keyword NAME);
- column names (case-insensitive; ``$odd name$`` for names with other characters),
  vector elements ``PHA[3]`` (1-based);
- ``+ - * / %`` and ``**`` or ``^`` (integer / integer truncates, as in CFITSIO);
- ``== != < > <= >=`` and ``.eq. .ne. .lt. .gt. .le. .ge.``;
- ``&& || !`` and ``.and. .or. .not.``; ``cond ? a : b``;
- functions: see ``FUNCTIONS``.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from lark import Lark, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

MAX_LENGTH = 4000
MAX_DEPTH = 64

GRAMMAR = r"""
?start: ternary
?ternary: or_expr
        | or_expr "?" ternary ":" ternary           -> conditional
?or_expr: and_expr
        | or_expr OR and_expr                       -> logical
?and_expr: comparison
         | and_expr AND comparison                  -> logical
?comparison: sum
           | sum COMPARE sum                        -> compare
?sum: product
    | sum ADD product                               -> arithmetic
?product: unary
        | product MUL unary                         -> arithmetic
?unary: power
      | ADD unary                                   -> signed
      | NOT unary                                   -> logical_not
?power: atom
      | atom POW unary                              -> arithmetic
?atom: NUMBER                                       -> number
     | STRING                                       -> string
     | NAME                                         -> name
     | QUOTED_NAME                                  -> quoted_name
     | SPECIAL                                      -> special
     | NAME "(" [ternary ("," ternary)*] ")"        -> call
     | (NAME | QUOTED_NAME) "[" ternary "]"         -> element
     | "(" ternary ")"

OR: "||" | /\.or\./i
AND: "&&" | /\.and\./i
NOT: /!(?!=)/ | /\.not\./i
COMPARE: "==" | "!=" | "<=" | ">=" | "<" | ">" | /\.(eq|ne|lt|gt|le|ge)\./i
ADD: "+" | "-"
MUL: "*" | "/" | "%"
POW: "**" | "^"
NUMBER: /(\d+\.?\d*|\.\d+)([eEdD][+-]?\d+)?/
STRING: /"[^"]*"/ | /'[^']*'/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
QUOTED_NAME: /\$[^$]+\$/
SPECIAL: /#[A-Za-z_][A-Za-z0-9_\-]*/

%import common.WS
%ignore WS
"""


class ExpressionError(ValueError):
    """An expression that cannot be parsed or evaluated; the message is for the user."""


def _angsep(ra1, dec1, ra2, dec2):
    """Angular separation in degrees of two positions in degrees (Vincenty's formula)."""
    ra1, dec1, ra2, dec2 = (np.radians(np.asarray(v, dtype=float)) for v in (ra1, dec1, ra2, dec2))
    dra = ra2 - ra1
    num = np.hypot(np.cos(dec2) * np.sin(dra),
                   np.cos(dec1) * np.sin(dec2) - np.sin(dec1) * np.cos(dec2) * np.cos(dra))
    den = np.sin(dec1) * np.sin(dec2) + np.cos(dec1) * np.cos(dec2) * np.cos(dra)
    return np.degrees(np.arctan2(num, den))


def _float(f):
    return lambda *args: f(*(np.asarray(a, dtype=float) for a in args))


#: name -> (number of arguments, function of numpy arrays); the only callables reachable
FUNCTIONS = {
    "abs": (1, np.abs), "sqrt": (1, _float(np.sqrt)), "exp": (1, _float(np.exp)),
    "log": (1, _float(np.log)), "log10": (1, _float(np.log10)),
    "sin": (1, _float(np.sin)), "cos": (1, _float(np.cos)), "tan": (1, _float(np.tan)),
    "arcsin": (1, _float(np.arcsin)), "arccos": (1, _float(np.arccos)), "arctan": (1, _float(np.arctan)),
    "asin": (1, _float(np.arcsin)), "acos": (1, _float(np.arccos)), "atan": (1, _float(np.arctan)),
    "arctan2": (2, _float(np.arctan2)), "atan2": (2, _float(np.arctan2)),
    "sinh": (1, _float(np.sinh)), "cosh": (1, _float(np.cosh)), "tanh": (1, _float(np.tanh)),
    "floor": (1, _float(np.floor)), "ceil": (1, _float(np.ceil)), "round": (1, _float(np.round)),
    "nint": (1, lambda x: np.rint(np.asarray(x, dtype=float)).astype(np.int64)),
    "min": (2, np.minimum), "max": (2, np.maximum),
    "isnull": (1, lambda x: np.isnan(np.asarray(x, dtype=float))),
    "defnull": (2, lambda x, d: np.where(np.isnan(np.asarray(x, dtype=float)), d, x)),
    "angsep": (4, _angsep),
}

_COMPARE = {"==": np.equal, "!=": np.not_equal, "<": np.less, ">": np.greater,
            "<=": np.less_equal, ">=": np.greater_equal,
            ".eq.": np.equal, ".ne.": np.not_equal, ".lt.": np.less, ".gt.": np.greater,
            ".le.": np.less_equal, ".ge.": np.greater_equal}
_CONSTANTS = {"#pi": np.pi, "#e": np.e, "#deg": np.pi / 180}


@v_args(inline=True)
class _Tree(Transformer):
    """Parse tree -> nested tuples ``(op, ...)``; function names are checked here."""

    def number(self, token):
        text = token.lower().replace("d", "e")
        if "." in text or "e" in text:
            return ("const", float(text))
        return ("const", int(text))

    def string(self, token):
        return ("const", token[1:-1])

    def name(self, token):
        return ("name", str(token))

    def quoted_name(self, token):
        return ("name", str(token)[1:-1])

    def special(self, token):
        text = str(token).lower()
        if text in _CONSTANTS:
            return ("const", _CONSTANTS[text])
        if text == "#row":
            return ("row",)
        return ("keyword", str(token)[1:])

    def element(self, token, index):
        name = str(token)[1:-1] if str(token).startswith("$") else str(token)
        return ("element", name, index)

    def call(self, token, *args):
        name = str(token).lower()
        args = tuple(a for a in args if a is not None)
        if name not in FUNCTIONS:
            raise ExpressionError(f"unknown function {str(token)!r}; functions are {', '.join(sorted(FUNCTIONS))}")
        arity = FUNCTIONS[name][0]
        if len(args) != arity:
            raise ExpressionError(f"{name}() takes {arity} argument{'s' * (arity != 1)}, not {len(args)}")
        return ("call", name, args)

    def arithmetic(self, left, op, right):
        return ("arith", "**" if op == "^" else str(op), left, right)

    def compare(self, left, op, right):
        return ("compare", str(op).lower(), left, right)

    def logical(self, left, op, right):
        return ("and" if str(op) in ("&&",) or str(op).lower() == ".and." else "or", left, right)

    def logical_not(self, _op, operand):
        return ("not", operand)

    def signed(self, sign, operand):
        return ("neg", operand) if sign == "-" else ("pos", operand)

    def conditional(self, condition, then, otherwise):
        return ("if", condition, then, otherwise)


@functools.cache
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=True)


def _nesting(text: str) -> int:
    depth = deepest = 0
    for c in text:
        if c in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif c in ")]":
            depth -= 1
    return deepest


@dataclass(frozen=True)
class Expression:
    text: str
    tree: tuple

    def names(self) -> set[str]:
        """The column names the expression reads."""
        found = set()

        def walk(node):
            if node[0] in ("name", "element"):
                found.add(node[1])
            for part in node[1:]:
                if isinstance(part, tuple) and part and isinstance(part[0], tuple):
                    for arg in part:
                        walk(arg)
                elif isinstance(part, tuple):
                    walk(part)
        walk(self.tree)
        return found

    def evaluate(self, data, header=None):
        """The value over ``data`` (a FITS_rec or any mapping of column name -> array with
        ``len``): an array with one value per row, or a scalar."""
        return _Evaluation(data, header, self.text).run(self.tree)

    def rows(self, data, header=None) -> np.ndarray:
        """A row filter's boolean mask over ``data``."""
        value = np.asarray(self.evaluate(data, header))
        if value.dtype != bool:
            raise ExpressionError(f"the row filter {self.text!r} is not a logical (true/false) expression")
        n = _row_count(data)
        if value.ndim == 0:
            return np.full(n, bool(value))
        if value.shape != (n,):
            raise ExpressionError(f"the row filter {self.text!r} gives {value.shape[1:]} values per row, not one")
        return value


def compile(text: str) -> Expression:  # noqa: A001 - the natural name for what it does
    """Parse ``text``; raise ExpressionError saying where it fails."""
    if not text or not text.strip():
        raise ExpressionError("empty expression")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    if _nesting(text) > MAX_DEPTH:
        raise ExpressionError(f"expression nested deeper than {MAX_DEPTH} levels")
    try:
        tree = _Tree().transform(_parser().parse(text))
    except (UnexpectedCharacters, UnexpectedToken, UnexpectedEOF) as err:
        column = getattr(err, "column", None)
        where = f" at column {column}" if isinstance(column, int) and column > 0 else " (incomplete)"
        raise ExpressionError(f"syntax error in {text!r}{where}") from None
    except LarkError as err:
        inner = err.__context__ if isinstance(err.__context__, ExpressionError) else None
        if inner is not None:
            raise inner from None
        raise ExpressionError(f"cannot parse {text!r}") from None
    return Expression(text, tree)


class _Evaluation:
    def __init__(self, data, header, text):
        self.data, self.header, self.text = data, header, text
        names = data.names if hasattr(data, "names") else list(data.keys())
        self.columns = {n.lower(): n for n in names}

    def column(self, name):
        key = self.columns.get(name.lower())
        if key is None:
            if name.upper() in ("T", "TRUE"):
                return np.True_
            if name.upper() in ("F", "FALSE"):
                return np.False_
            raise ExpressionError(f"no column {name!r} (columns: {', '.join(self.columns.values())})")
        value = self.data[key] if not hasattr(self.data, "field") else self.data.field(key)
        value = np.asarray(value)
        if value.dtype.kind == "S":
            value = np.char.rstrip(value.astype("U"))
        elif value.dtype.kind == "f" and value.dtype.itemsize < 8:
            value = value.astype(np.float64)  # CFITSIO evaluates reals in double precision
        return value

    def run(self, node):
        op = node[0]
        if op == "const":
            return node[1]
        if op == "name":
            return self.column(node[1])
        if op == "row":
            return np.arange(1, _row_count(self.data) + 1)
        if op == "keyword":
            if self.header is None or node[1].upper() not in self.header:
                raise ExpressionError(f"no header keyword {node[1]!r}")
            return self.header[node[1].upper()]
        if op == "element":
            vector = self.column(node[1])
            index = self.run(node[2])
            if vector.ndim < 2:
                raise ExpressionError(f"{node[1]!r} is not a vector column")
            if not isinstance(index, (int, np.integer)) or not 1 <= index <= vector.shape[1]:
                raise ExpressionError(f"{node[1]}[{index}]: the element must be a whole number 1 to {vector.shape[1]}")
            return vector[:, index - 1]
        if op == "call":
            return self.numeric(FUNCTIONS[node[1]][1], node[1], *[self.run(a) for a in node[2]])
        if op == "neg":
            return self.numeric(np.negative, "-", self.run(node[1]))
        if op == "pos":
            return self.numeric(np.positive, "+", self.run(node[1]))
        if op == "not":
            return np.logical_not(self.logical(self.run(node[1]), "!"))
        if op in ("and", "or"):
            left, right = self.logical(self.run(node[1]), op), self.logical(self.run(node[2]), op)
            return np.logical_and(left, right) if op == "and" else np.logical_or(left, right)
        if op == "compare":
            left, right = self.run(node[2]), self.run(node[3])
            if _is_text(left) != _is_text(right):
                raise ExpressionError(f"{node[1]} compares text with a number in {self.text!r}")
            return _COMPARE[node[1]](left, right)
        if op == "arith":
            return self.arithmetic(node[1], self.run(node[2]), self.run(node[3]))
        if op == "if":
            condition = self.logical(self.run(node[1]), "?")
            return np.where(condition, self.run(node[2]), self.run(node[3]))
        raise AssertionError(op)

    def numeric(self, f, what, *args):
        for a in args:
            if _is_text(a):
                raise ExpressionError(f"{what} needs numbers, not text, in {self.text!r}")
        with np.errstate(all="ignore"):
            return f(*args)

    def logical(self, value, what):
        array = np.asarray(value)
        if array.dtype != bool:
            raise ExpressionError(f"{what} needs logical (true/false) operands in {self.text!r}")
        return array

    def arithmetic(self, op, left, right):
        for a in (left, right):
            if _is_text(a):
                raise ExpressionError(f"{op} needs numbers, not text, in {self.text!r}")
        left, right = np.asarray(left), np.asarray(right)
        if left.dtype == bool or right.dtype == bool:
            raise ExpressionError(f"{op} needs numbers, not logical values, in {self.text!r}")
        integers = left.dtype.kind in "iu" and right.dtype.kind in "iu"
        with np.errstate(all="ignore"):
            if op == "+":
                return left + right
            if op == "-":
                return left - right
            if op == "*":
                return left * right
            if op == "**":
                power = np.power(left.astype(float), right.astype(float))
                if integers and np.all(np.isfinite(power)) and np.all(np.abs(power) < 2.0 ** 62) \
                        and np.all(right >= 0):
                    return power.astype(np.int64)  # an integer power stays an integer while it fits
                return power
            if op in ("/", "%"):
                if integers:
                    if np.any(right == 0):
                        raise ExpressionError(f"integer division by zero in {self.text!r}")
                    quotient = np.trunc(np.true_divide(left, right)).astype(np.int64)
                    return quotient if op == "/" else left - quotient * right
                return np.true_divide(left, right) if op == "/" else np.fmod(left, right)
        raise AssertionError(op)


def _row_count(data) -> int:
    if hasattr(data, "names") or not hasattr(data, "values"):
        return len(data)
    return len(next(iter(data.values()), ()))


def _is_text(value) -> bool:
    return isinstance(value, str) or np.asarray(value).dtype.kind in "US"
