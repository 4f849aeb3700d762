"""How long and how deeply nested an ADQL query may be.

Every stage after the lark parser (the tree builder, the syntax checks, the translator)
walks the syntax tree recursively, at two to five Python frames per level of the lark
tree; past Python's recursion limit (1,000 frames) a deep query would end in a
RecursionError. So the text's length is checked before parsing, and the depth of the
lark tree, walked without recursion, before anything else reads it: a query beyond
either limit is refused with a message that says which limit, at any depth.

The default depth, 100 levels, is four times that of the deepest query of the IVOA
validation suite (24) and keeps the worst case (function calls nested in function
calls) under 600 frames, with room left for the web server's and the worker's own
stack. Its unit is a level of the parse tree: a sub-query adds about five (the
sub-query, its SELECT, its FROM or WHERE clause, ...), an operator or a function call
one; parentheses add none.
"""
from __future__ import annotations

from dataclasses import dataclass

import lark

from .errors import ADQLLimitError


@dataclass(frozen=True)
class ParseLimits:
    """The most characters and tree levels a query may have (HERA_ADQL_MAX_LENGTH,
    HERA_ADQL_MAX_DEPTH)."""

    max_length: int = 100_000
    max_depth: int = 100


def check_length(text: str, limits: ParseLimits) -> None:
    if len(text) > limits.max_length:
        raise ADQLLimitError(
            f"query too long: {len(text)} characters (limit {limits.max_length}); "
            "upload a long list of values as a table (UPLOAD) and join it instead")


def check_depth(tree: lark.Tree, limits: ParseLimits) -> None:
    """Refuse a parse tree deeper than the limit, found without recursion."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.max_depth:
            raise ADQLLimitError(
                f"query nested too deeply (limit {limits.max_depth} levels; sub-queries, "
                "operators and function calls each add levels): write a long chain of OR "
                "as IN (...), and nest fewer sub-queries and NOTs")
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, lark.Tree))


def too_deep(limits: ParseLimits) -> ADQLLimitError:
    """The error for a tree that passed :func:`check_depth` but still exhausted Python's
    stack (a limit set higher than the stack allows)."""
    return ADQLLimitError(f"query nested too deeply for this service (the configured limit, "
                          f"{limits.max_depth} levels, is more than its stack allows)")
