"""The declared tables of the TAP service: schemas, tables and columns as data.

One declaration (the TOML files in ``tap_catalog/tables/``) feeds the database DDL,
TAP_SCHEMA, the VOSI tables document and the VOTable FIELDs of query results.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

TABLES_DIR = Path(__file__).with_name("tables")

#: VOTable datatypes a column may declare.
DATATYPES = {"boolean", "short", "int", "long", "float", "double", "char", "unicodeChar"}


@dataclass(frozen=True)
class Column:
    name: str
    datatype: str
    arraysize: str | None = None
    xtype: str | None = None
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    description: str = ""
    principal: bool = False
    indexed: bool = False
    std: bool = False
    nullable: bool = True

    def __post_init__(self):
        if self.datatype not in DATATYPES:
            raise ValueError(f"column {self.name}: unknown datatype {self.datatype!r}")


@dataclass(frozen=True)
class ForeignKey:
    target_table: str
    from_columns: tuple[str, ...]
    target_columns: tuple[str, ...]
    description: str = ""


@dataclass
class Table:
    name: str  # qualified: "integral.scw"
    columns: list[Column]
    description: str = ""
    type: str = "table"  # "table" or "view"
    utype: str | None = None
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    #: columns (ra, dec) in degrees that carry a spatial index, or None
    sky: tuple[str, str] | None = None
    #: the view's definition, for type == "view" (written in the common SQL subset)
    definition: dict[str, str] | None = None
    #: the qualified SQL name to read it by, when it differs from ``name`` (a TAP_UPLOAD
    #: table is a PostgreSQL temporary table: ``pg_temp.<name>``)
    sql_name: str | None = None

    @property
    def schema_name(self) -> str:
        return self.name.split(".", 1)[0] if "." in self.name else ""

    @property
    def table_name(self) -> str:
        return self.name.split(".", 1)[-1]

    def column(self, name: str) -> Column | None:
        key = name.lower()
        return next((c for c in self.columns if c.name.lower() == key), None)


@dataclass
class Schema:
    name: str
    description: str = ""
    utype: str | None = None


class TableSet:
    """Schemas and tables, looked up case-insensitively by qualified name."""

    def __init__(self, schemas: list[Schema], tables: list[Table]):
        self.schemas = list(schemas)
        self._tables = {t.name.lower(): t for t in tables}

    def __iter__(self):
        return iter(self._tables.values())

    def __len__(self):
        return len(self._tables)

    def get(self, name: str) -> Table | None:
        return self._tables.get(name.lower())

    def table_names(self) -> list[str]:
        return [t.name for t in self._tables.values()]

    def with_tables(self, tables: list[Table]) -> "TableSet":
        """A copy that also holds ``tables`` (for example TAP_UPLOAD tables)."""
        extra = {t.schema_name for t in tables} - {s.name for s in self.schemas}
        return TableSet(self.schemas + [Schema(n) for n in sorted(extra)], list(self) + tables)

    @classmethod
    def load(cls, directory: Path = TABLES_DIR) -> "TableSet":
        """Read every ``*.toml`` declaration in ``directory``."""
        schemas, tables = [], []
        for path in sorted(directory.glob("*.toml")):
            with path.open("rb") as f:
                doc = tomllib.load(f)
            schema = doc["schema"]
            schemas.append(Schema(schema["name"], schema.get("description", ""), schema.get("utype")))
            for t in doc.get("table", []):
                tables.append(_table_from_toml(schema["name"], t))
        return cls(schemas, tables)


def _table_from_toml(schema: str, t: dict) -> Table:
    columns = [Column(**c) for c in t["column"]]
    fks = [
        ForeignKey(fk["target_table"], tuple(fk["from_columns"]), tuple(fk["target_columns"]),
                   fk.get("description", ""))
        for fk in t.get("foreign_key", [])
    ]
    return Table(
        name=f"{schema}.{t['name']}",
        columns=columns,
        description=t.get("description", ""),
        type=t.get("type", "table"),
        utype=t.get("utype"),
        primary_key=tuple(t.get("primary_key", ())),
        foreign_keys=fks,
        sky=tuple(t["sky"]) if "sky" in t else None,
        definition=t.get("definition"),
    )
