"""The exceptions of the ADQL package: syntax (bad text), limits (too long or too deep)
and semantics (bad names)."""
from __future__ import annotations


class ADQLError(ValueError):
    """Base of the ADQL errors; the message is meant for the user."""


class ADQLSyntaxError(ADQLError):
    """The text is not ADQL 2.1. ``line`` and ``column`` are 1-based (None if unknown)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.message = message
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(where + message)


class ADQLLimitError(ADQLError):
    """The query is beyond a limit of this service: too long, or nested too deeply."""


class ADQLSemanticError(ADQLError):
    """The query is ADQL but names something that does not exist, or mixes types."""
