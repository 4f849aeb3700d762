"""Proprietary rows: which tables have them, and the barrier that hides them.

A row a user may not see must be gone before any expression of the user's query is
evaluated on it: otherwise an expression that fails (``CAST(pi_name AS INTEGER)``,
``SQRT(x - 1e6)``) or that takes longer on some values tells, through an error message
or through time, what a hidden row holds.

- **PostgreSQL**: every table with proprietary rows has a companion ``security_barrier``
  view (:func:`barrier_view_name`) that keeps the visible rows; the ADQL translator reads
  that view, never the table. The planner evaluates the user's conditions above the
  barrier, except those made only of LEAKPROOF functions, which it may push into an index
  scan. pgsphere's cone functions are not LEAKPROOF as shipped, so :data:`LEAKPROOF`
  names the few that can never fail nor reveal a value, and :func:`ensure_leakproof`
  marks them (a superuser's right; :func:`missing_leakproof` tells what an administrator
  must still do). The asking user's groups and the time of the query reach the view as
  settings of the transaction (:func:`settings_sql`); unset, the view shows only what
  everyone may see.
- **SQLite** has no barrier and flattens derived tables, so the translator exposes each
  column of such a table through ``CASE WHEN <visible> THEN column END``
  (:func:`guarded_column`): whatever order SQLite evaluates conditions in, an expression
  on a hidden row sees only NULLs, which raise no error and cost the same time.

In both, a released row reads as public (``status`` public) in every query.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


@dataclass(frozen=True)
class RowAccess:
    """Which columns of a table say whether a row is proprietary, until when, and to whom.

    A row is visible when ``status`` is not ``private_value``, or its ``release`` (an
    ISO-8601 timestamp, UTC) has passed, or ``group`` is one of the asking user's groups.
    Once released, its ``status`` reads ``public_value`` in every query.
    """

    status: str
    private_value: str
    public_value: str
    release: str
    group: str


#: the tables with proprietary rows (the views over integral.scw carry the same columns)
ROW_ACCESS = {
    "integral.scw": RowAccess("status", "private", "public", "public_date", "proprietary_group"),
    "ivoa.obscore": RowAccess("data_rights", "proprietary", "public", "obs_release_date",
                              "proprietary_group"),
    "ivoa.obsplan": RowAccess("data_rights", "proprietary", "public", "obs_release_date",
                              "proprietary_group"),
}

#: The functions the PostgreSQL planner may evaluate on hidden rows (below the barrier),
#: so that a cone search under the access rule still uses the GiST index on
#: ``spoint(radians(ra), radians(dec))``. Each can neither raise an error nor return
#: anything but its result, whatever its arguments (checked with NaN, ±Infinity, 1e308 and
#: NULL in tests/test_privacy.py). Keep this list short: a function that can fail on some
#: input (``scircle(spoint, float8)`` refuses radii outside [0, 90°]) must never be here.
LEAKPROOF = {
    "radians(double precision)": "multiplication by a constant; NaN and Infinity pass through",
    "spoint(double precision, double precision)": "pgsphere: normalises any longitude and "
                                                  "latitude, NaN included, without an error",
    "spoint_contained_by_circle(spoint, scircle)": "pgsphere's '@' for a point in a circle: "
                                                   "a comparison of distances, false for NaN",
    "spoly_contains_point_com(spoint, spoly)": "pgsphere's '@' for a point in a polygon: "
                                               "side tests, false for NaN",
}

#: the proprietary period of a private window whose file gives no public date (days after
#: its end): INTEGRAL's one year; HERA_PROPRIETARY_DAYS overrides it for `hera catalog ingest`
PROPRIETARY_DAYS = 365

#: names of the transaction settings that carry the asking user's groups and the time
GROUPS_SETTING = "hera.user_groups"
NOW_SETTING = "hera.now"


def barrier_view_name(table_name: str) -> str:
    """The qualified name of the barrier view of ``table_name`` (``schema.table``); its
    name holds a double underscore, which no declared table of the service uses."""
    schema, table = table_name.split(".")
    return f"{schema}.{table}__visible"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def released_status_sql(access: RowAccess, released: str) -> str:
    """The ``status`` column as users see it: public once released."""
    status = _quote(access.status)
    return (f"CASE WHEN {status} = {_string(access.private_value)} AND {released} "
            f"THEN {_string(access.public_value)} ELSE {status} END")


# -- PostgreSQL -------------------------------------------------------------------------------
def _pg_released(access: RowAccess) -> str:
    now = (f"COALESCE(CAST(NULLIF(current_setting('{NOW_SETTING}', true), '') AS TIMESTAMP), "
           "CAST(now() AT TIME ZONE 'UTC' AS TIMESTAMP))")
    return f"CAST({_quote(access.release)} AS TIMESTAMP) <= {now}"


def barrier_view_sql(table_name: str, column_names: list[str], access: RowAccess) -> str:
    """``CREATE OR REPLACE VIEW`` of the barrier view of ``table_name`` (PostgreSQL)."""
    released = _pg_released(access)
    groups = f"CAST(NULLIF(current_setting('{GROUPS_SETTING}', true), '') AS TEXT[])"
    columns = [f"{released_status_sql(access, released)} AS {_quote(c)}"
               if c.lower() == access.status.lower() else _quote(c) for c in column_names]
    view = ".".join(_quote(p) for p in barrier_view_name(table_name).split("."))
    table = ".".join(_quote(p) for p in table_name.split("."))
    return (f"CREATE OR REPLACE VIEW {view} WITH (security_barrier) AS\n"
            f"SELECT {', '.join(columns)}\nFROM {table}\n"
            f"WHERE {_quote(access.status)} <> {_string(access.private_value)}"
            f" OR {released} OR {_quote(access.group)} = ANY({groups})")


def settings_sql(user_groups: frozenset[str], now: datetime) -> str:
    """The statement that gives the barrier views of this transaction the user's groups
    and the time (``set_config`` local to the transaction)."""
    array = "{" + ",".join('"' + g.replace("\\", "\\\\").replace('"', '\\"') + '"'
                           for g in sorted(user_groups)) + "}"
    return (f"SELECT set_config({_string(GROUPS_SETTING)}, {_string(array)}, true), "
            f"set_config({_string(NOW_SETTING)}, {_string(now.strftime('%Y-%m-%dT%H:%M:%S'))}, true)")


def ensure_leakproof(conn) -> list[str]:
    """Mark the functions of :data:`LEAKPROOF` LEAKPROOF (PostgreSQL, ``conn`` a SQLAlchemy
    connection); returns the ``ALTER FUNCTION`` statements that this role may not run."""

    refused = []
    for signature in missing_leakproof(conn):
        statement = f"ALTER FUNCTION {signature} LEAKPROOF"
        try:
            with conn.begin_nested():
                conn.execute(text(statement))
        except DBAPIError:
            refused.append(statement + ";")
    return refused


def missing_leakproof(conn) -> list[str]:
    """The functions of :data:`LEAKPROOF` not (yet) marked LEAKPROOF in this database."""

    missing = []
    for signature in LEAKPROOF:
        marked = conn.execute(text("SELECT proleakproof FROM pg_proc WHERE oid = "
                                   "to_regprocedure(:s)"), {"s": signature}).scalar()
        if not marked:
            missing.append(signature)
    return missing


# -- SQLite -----------------------------------------------------------------------------------
def sqlite_visible_sql(access: RowAccess, user_groups: frozenset[str], now: datetime) -> str:
    """The condition that a row is visible, with the groups and the time written in."""
    now_sql = _string(now.strftime("%Y-%m-%dT%H:%M:%S"))
    # ISO-8601 text compares in time order
    visible = [f"{_quote(access.status)} <> {_string(access.private_value)}",
               f"{_quote(access.release)} <= {now_sql}"]
    if user_groups:
        visible.append(f"{_quote(access.group)} IN ("
                       + ", ".join(_string(g) for g in sorted(user_groups)) + ")")
    return "(" + " OR ".join(visible) + ")"


def guarded_column(column: str, access: RowAccess, visible: str, now: datetime) -> str:
    """A column of the derived table of visible rows (SQLite): NULL on a hidden row, so
    that no expression evaluated before the filter sees a hidden value."""
    if column.lower() == access.status.lower():
        released = f"{_quote(access.release)} <= {_string(now.strftime('%Y-%m-%dT%H:%M:%S'))}"
        value = released_status_sql(access, released)
    else:
        value = _quote(column)
    return f"CASE WHEN {visible} THEN {value} END AS {_quote(column)}"
