"""Table parameters given as an ADQL query on the service's own catalogue.

A ``table`` parameter takes a workspace path or, when its value starts with ``SELECT``,
an ADQL query (``scw_table=SELECT * FROM integral.scw WHERE revolution = 1500``). The
query is parsed when the job is created (a syntax error is a 400 naming the parameter)
and run when the job starts, with the job owner's rights (private science windows of
the owner's groups only), through the TAP service's own code; its VOTable result is
the tool's input file. A result larger than the TAP default MAXREC is refused rather
than silently cut.
"""
from __future__ import annotations

import re
from pathlib import Path

from accounts import users
from tap_catalog import adql, query
from tap_catalog.adql.limits import ParseLimits

_QUERY = re.compile(r"^\s*select\s", re.IGNORECASE)


def is_query(value: str) -> bool:
    return bool(_QUERY.match(value))


def check(text: str, limits: ParseLimits) -> None:
    """Raise ValueError if ``text`` is not valid ADQL, or is longer or more deeply nested
    than ``limits`` (the service's ADQL limits) allow."""
    try:
        adql.parse(text, limits=limits)
    except adql.ADQLError as err:
        raise ValueError(f"ADQL: {err}") from None


def _groups(engine, owner: str | None) -> frozenset[str] | None:
    if owner is None:
        return None
    user = users.get_user(engine, owner)
    return frozenset(user.groups) if user is not None else frozenset()


def run(text: str, owner: str | None, path: Path, services) -> None:
    """Write the VOTable result of the ADQL ``text`` to ``path``, queried in the
    catalogue of ``services`` (its engine, tables and TAP limits)."""
    limits = services.tap_limits
    try:
        request = query.parse_parameters({"QUERY": text, "LANG": "ADQL", "RESPONSEFORMAT": "votable",
                                          "MAXREC": str(limits.maxrec_default)}, limits)
        chunks = query.execute(services.engine, services.tableset, request,
                               user_groups=_groups(services.engine, owner))
        with open(path, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
    except query.TapError as err:
        raise ValueError(f"the catalogue query failed: {err.message}") from None
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - 4096))
        if b'value="OVERFLOW"' in f.read():
            raise ValueError(f"the catalogue query gives more than {limits.maxrec_default} rows; "
                             "narrow it (WHERE, TOP) or save its result in the workspace with TAP")
