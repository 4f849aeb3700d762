"""The ADQL functions: arity, result kind, and the reserved words of the standard."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionSpec:
    min_args: int
    max_args: int
    result: str = "numeric"  # numeric, string, any, or a geometry kind
    aggregate: bool = False
    geometry: bool = False


def _f(n, m=None, result="numeric", **kw):
    return FunctionSpec(n, n if m is None else m, result, **kw)


FUNCTIONS: dict[str, FunctionSpec] = {
    # mathematical and trigonometrical (ADQL 2.1 §2.3)
    **{name: _f(1) for name in ("ABS", "CEILING", "DEGREES", "EXP", "FLOOR", "LOG", "LOG10",
                                "RADIANS", "SQRT", "ACOS", "ASIN", "ATAN", "COS", "COT",
                                "SIN", "TAN")},
    "MOD": _f(2), "POWER": _f(2), "ATAN2": _f(2), "PI": _f(0), "RAND": _f(0, 1),
    "ROUND": _f(1, 2), "TRUNCATE": _f(1, 2),
    # aggregates
    **{name: _f(1, result="any", aggregate=True) for name in ("AVG", "MAX", "MIN", "SUM",
                                                              "COUNT")},
    # strings (§4.5), conditionals (§4.9), units (§4.10)
    "LOWER": _f(1, result="string"), "UPPER": _f(1, result="string"),
    "COALESCE": _f(1, 1000, result="any"), "NULLIF": _f(2, result="any"),
    "IN_UNIT": _f(2),
    # geometry (§4.2); argument forms are checked by the parser
    "POINT": _f(2, 3, "point", geometry=True),
    "CIRCLE": _f(2, 4, "circle", geometry=True),
    "BOX": _f(3, 5, "polygon", geometry=True),
    "POLYGON": _f(3, 1000, "polygon", geometry=True),
    "REGION": _f(1, result="region", geometry=True),
    "CENTROID": _f(1, result="point", geometry=True),
    "CONTAINS": _f(2, geometry=True), "INTERSECTS": _f(2, geometry=True),
    "DISTANCE": _f(2, 4, geometry=True),
    "AREA": _f(1, geometry=True), "COORD1": _f(1, geometry=True),
    "COORD2": _f(1, geometry=True), "COORDSYS": _f(1, result="string", geometry=True),
}

GEOMETRY_KINDS = {name for name, spec in FUNCTIONS.items() if spec.geometry}

#: names with these prefixes are accepted as user-defined functions by the parser
#: (the translator then knows which ones this service implements)
UDF_PREFIXES = ("ivo_", "hera_")

CAST_TYPES = {"SMALLINT", "INTEGER", "BIGINT", "REAL", "DOUBLE", "CHAR", "VARCHAR",
              "TIMESTAMP", "POINT", "CIRCLE", "POLYGON"}

SQL_RESERVED_WORDS = set("""
ABSOLUTE ACTION ADD ALL ALLOCATE ALTER AND ANY ARE AS ASC ASSERTION AT AUTHORIZATION AVG
BEGIN BETWEEN BIT BIT_LENGTH BOTH BY CASCADE CASCADED CASE CAST CATALOG CHAR CHARACTER
CHAR_LENGTH CHARACTER_LENGTH CHECK CLOSE COALESCE COLLATE COLLATION COLUMN COMMIT CONNECT
CONNECTION CONSTRAINT CONSTRAINTS CONTINUE CONVERT CORRESPONDING COUNT CREATE CROSS CURRENT
CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATE DAY DEALLOCATE DECIMAL
DECLARE DEFAULT DEFERRABLE DEFERRED DELETE DESC DESCRIBE DESCRIPTOR DIAGNOSTICS DISCONNECT
DISTINCT DOMAIN DOUBLE DROP ELSE END END-EXEC ESCAPE EXCEPT EXCEPTION EXEC EXECUTE EXISTS
EXTERNAL EXTRACT FALSE FETCH FIRST FLOAT FOR FOREIGN FOUND FROM FULL GET GLOBAL GO GOTO
GRANT GROUP HAVING HOUR IDENTITY IMMEDIATE IN INDICATOR INITIALLY INNER INPUT INSENSITIVE
INSERT INT INTEGER INTERSECT INTERVAL INTO IS ISOLATION JOIN KEY LANGUAGE LAST LEADING LEFT
LEVEL LIKE LOCAL LOWER MATCH MAX MIN MINUTE MODULE MONTH NAMES NATIONAL NATURAL NCHAR NEXT
NO NOT NULL NULLIF NUMERIC OCTET_LENGTH OF ON ONLY OPEN OPTION OR ORDER OUTER OUTPUT
OVERLAPS PAD PARTIAL POSITION PRECISION PREPARE PRESERVE PRIMARY PRIOR PRIVILEGES PROCEDURE
PUBLIC READ REAL REFERENCES RELATIVE RESTRICT REVOKE RIGHT ROLLBACK ROWS SCHEMA SCROLL SECOND
SECTION SELECT SESSION SESSION_USER SET SIZE SMALLINT SOME SPACE SQL SQLCODE SQLERROR SQLSTATE
SUBSTRING SUM SYSTEM_USER TABLE TEMPORARY THEN TIME TIMESTAMP TIMEZONE_HOUR TIMEZONE_MINUTE TO
TRAILING TRANSACTION TRANSLATE TRANSLATION TRIM TRUE UNION UNIQUE UNKNOWN UPDATE UPPER USAGE
USER USING VALUE VALUES VARCHAR VARYING VIEW WHEN WHENEVER WHERE WITH WORK WRITE YEAR ZONE
""".split())

ADQL_RESERVED_WORDS = set("""
ABS ACOS AREA ASIN ATAN ATAN2 BIGINT BOX CEILING CENTROID CIRCLE CONTAINS COORD1 COORD2
COORDSYS COS COT DEGREES DISTANCE EXP FLOOR ILIKE INTERSECTS IN_UNIT LOG LOG10 MOD OFFSET PI
POINT POLYGON POWER RADIANS REGION RAND ROUND SIN SQRT TOP TAN TRUNCATE
""".split())

RESERVED_WORDS = SQL_RESERVED_WORDS | ADQL_RESERVED_WORDS
