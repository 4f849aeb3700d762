"""TAP_SCHEMA (TAP 1.1 section 4), written from the declared tables.

``fill(engine, tableset)`` replaces the rows of ``tap_schema.schemas``, ``tables``,
``columns``, ``keys`` and ``key_columns`` with the description of every schema and table of
``tableset``, the TAP_SCHEMA tables themselves included, in one transaction: running it
again gives the same rows.
"""
from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from .adql.functions import RESERVED_WORDS
from .tableset import TableSet

SCHEMA = "tap_schema"
#: filled in this order, emptied in the reverse order (foreign keys)
TABLES = ("schemas", "tables", "columns", "keys", "key_columns")


def adql_name(name: str) -> str:
    """A column name as metadata writes it: delimited (``"size"``) when it is an ADQL
    reserved word or not a regular identifier, so that clients can paste it into a query
    (TAP 1.1 §4.3, TAP_SCHEMA.columns."size")."""

    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) and name.upper() not in RESERVED_WORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def key_id(table_name: str, index: int) -> str:
    """The TAP_SCHEMA key_id of the ``index``-th foreign key of ``table_name``."""
    return f"{table_name}#{index}"


def rows(tableset: TableSet) -> dict[str, list[dict]]:
    """The rows of each TAP_SCHEMA table describing ``tableset``."""
    out = {name: [] for name in TABLES}
    for i, schema in enumerate(tableset.schemas):
        out["schemas"].append({"schema_name": schema.name, "utype": schema.utype,
                               "description": schema.description or None, "schema_index": i})
    for t_index, table in enumerate(tableset):
        out["tables"].append({
            "schema_name": table.schema_name, "table_name": table.name, "table_type": table.type,
            "utype": table.utype, "description": table.description or None, "table_index": t_index})
        for c_index, c in enumerate(table.columns, start=1):
            out["columns"].append({
                "table_name": table.name, "column_name": adql_name(c.name), "datatype": c.datatype,
                "arraysize": c.arraysize, "xtype": c.xtype,
                "size": int(c.arraysize) if c.arraysize and c.arraysize.isdigit() else None,
                "description": c.description or None, "utype": c.utype, "unit": c.unit, "ucd": c.ucd,
                "indexed": int(c.indexed or (table.sky is not None and c.name in table.sky)),
                "principal": int(c.principal), "std": int(c.std), "column_index": c_index})
        for k_index, fk in enumerate(table.foreign_keys, start=1):
            kid = key_id(table.name, k_index)
            target = tableset.get(fk.target_table)
            out["keys"].append({"key_id": kid, "from_table": table.name,
                                "target_table": target.name if target else fk.target_table,
                                "utype": None, "description": fk.description or None})
            for from_col, target_col in zip(fk.from_columns, fk.target_columns):
                out["key_columns"].append({"key_id": kid, "from_column": from_col,
                                           "target_column": target_col})
    return out


def fill(engine: Engine | Connection, tableset: TableSet) -> None:
    """Replace TAP_SCHEMA's rows with the description of ``tableset``."""
    if isinstance(engine, Connection):
        _fill(engine, tableset)
    else:
        with engine.begin() as conn:
            _fill(conn, tableset)


def _fill(conn: Connection, tableset: TableSet) -> None:
    quote = conn.dialect.identifier_preparer.quote
    for name in reversed(TABLES):
        conn.execute(text(f"DELETE FROM {SCHEMA}.{name}"))
    for name, table_rows in rows(tableset).items():
        if not table_rows:
            continue
        columns = list(table_rows[0])
        conn.execute(text(
            f"INSERT INTO {SCHEMA}.{name} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)})"), table_rows)
