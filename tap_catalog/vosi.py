"""The VOSI 1.1 documents of the TAP service: capabilities (with the TAPRegExt 1.0 TAP
capability), availability, and the tables (``/tables`` and ``/tables/{name}``).

Each document is built with lxml from data: the declared tables, the registered output
formats, the service's limits and the ADQL features below.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from accounts.auth import SECURITY_METHODS

from . import formats
from .tableset import Table, TableSet
from .tap_schema import adql_name

VOSI_CAP = "http://www.ivoa.net/xml/VOSICapabilities/v1.0"
VOSI_AVAIL = "http://www.ivoa.net/xml/VOSIAvailability/v1.0"
VOSI_TABLES = "http://www.ivoa.net/xml/VOSITables/v1.0"
VR = "http://www.ivoa.net/xml/VOResource/v1.0"
VS = "http://www.ivoa.net/xml/VODataService/v1.1"
TR = "http://www.ivoa.net/xml/TAPRegExt/v1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
#: ESA's TAP+ namespace: astroquery's TapPlus.load_tables reads ``esatapplus:flags`` of
#: every column and fails without it (astropy/astroquery#1597, closed as won't fix); the
#: attribute is written only for that client, as VODataService 1.1 validators refuse it
ESATAPPLUS = "http://esa.int/xml/EsaTapPlus"
_XSI_TYPE = f"{{{XSI}}}type"
TAPREGEXT = "ivo://ivoa.net/std/TAPRegExt"


@dataclass(frozen=True)
class Feature:
    form: str
    description: str


#: the optional ADQL features this service implements, by TAPRegExt feature type
LANGUAGE_FEATURES: dict[str, tuple[Feature, ...]] = {
    f"{TAPREGEXT}#features-udf": (
        Feature("ivo_interval_overlaps(l1 DOUBLE, h1 DOUBLE, l2 DOUBLE, h2 DOUBLE) -> INTEGER",
                "1 if the intervals [l1, h1] and [l2, h2] overlap, else 0 (for time ranges: "
                "ivo_interval_overlaps(start_time, end_time, t1, t2) = 1)."),
        Feature("ivo_nocasematch(value VARCHAR(*), pattern VARCHAR(*)) -> INTEGER",
                "1 if value matches the LIKE pattern ignoring case, else 0."),
    ),
    f"{TAPREGEXT}#features-adqlgeo": tuple(
        Feature(name, f"ADQL 2.1 geometry function {name}; exact spherical geometry")
        for name in ("POINT", "CIRCLE", "BOX", "POLYGON", "CENTROID", "CONTAINS", "INTERSECTS",
                     "DISTANCE", "AREA", "COORD1", "COORD2")),
    "ivo://ivoa.net/std/TAPRegExt#features-adql-string": (
        Feature("LOWER", "lower case"), Feature("UPPER", "upper case"),
        Feature("ILIKE", "case-insensitive LIKE")),
    "ivo://ivoa.net/std/TAPRegExt#features-adql-sets": (
        Feature("UNION", "set union"), Feature("EXCEPT", "set difference"),
        Feature("INTERSECT", "set intersection")),
    "ivo://ivoa.net/std/TAPRegExt#features-adql-common-table": (
        Feature("WITH", "common table expressions"),),
    "ivo://ivoa.net/std/TAPRegExt#features-adql-type": (
        Feature("CAST", "type conversion"),),
    "ivo://ivoa.net/std/TAPRegExt#features-adql-offset": (
        Feature("OFFSET", "skip the first rows of the result"),),
}

#: TAPRegExt identifiers of the standard output formats, by renderer name
OUTPUT_FORMAT_IDS = {
    "votable/td": f"{TAPREGEXT}#output-votable-td",
    "votable/b": f"{TAPREGEXT}#output-votable-binary",
    "votable/b2": f"{TAPREGEXT}#output-votable-binary2",
}
UPLOAD_METHODS = ("inline", "http", "https")
DATA_MODELS = (("ivo://ivoa.net/std/ObsCore#core-1.1", "ObsCore-1.1"),
               ("ivo://ivoa.net/std/obsloctap#table-1.0", "ObsLocTAP-1.0"))


#: the securityMethod standardIDs that IVOA SSO 2.0 defines
SSO_2_0_METHODS = frozenset({
    "ivo://ivoa.net/sso#BasicAA", "ivo://ivoa.net/sso#tls-with-password",
    "ivo://ivoa.net/sso#tls-with-certificate", "ivo://ivoa.net/sso#cookie",
    "ivo://ivoa.net/sso#OAuth", "ivo://ivoa.net/sso#saml2.0", "ivo://ivoa.net/sso#OpenID"})


def advertised_security_methods() -> list[str]:
    """The service's security methods that SSO 2.0 defines. Bearer tokens
    (``ivo://ivoa.net/sso#token``, an SSO 2.1 draft) are accepted but not advertised:
    validators of the current standard (taplint) reject the identifier, and clients
    that know tokens send them without being told."""
    return [m for m in SECURITY_METHODS if m in SSO_2_0_METHODS]


def _el(parent, tag: str, text=None, **attrs) -> etree._Element:
    node = etree.SubElement(parent, tag, {k: str(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        node.text = str(text)
    return node


def _tostring(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# -- capabilities ------------------------------------------------------------------------------
def _interface(parent, url: str, use: str = "full", xsi_type: str = "vs:ParamHTTP",
               security: str | None = None, **attrs):
    node = _el(parent, "interface", **attrs)
    node.set(_XSI_TYPE, xsi_type)
    _el(node, "accessURL", url, use=use)
    if security is not None:
        _el(node, "securityMethod", standardID=security)
    return node


def capabilities(base: str, limits: dict) -> bytes:
    """The VOSI capabilities of the TAP service at ``base`` (``…/tap``).

    ``limits``: retention_default/hard, execution_default/hard (s), maxrec_default/hard
    (rows), upload_hard (bytes)."""
    root = etree.Element(f"{{{VOSI_CAP}}}capabilities",
                         nsmap={"vosi": VOSI_CAP, "vr": VR, "vs": VS, "tr": TR, "xsi": XSI})
    tap = _el(root, "capability", standardID="ivo://ivoa.net/std/TAP")
    tap.set(_XSI_TYPE, "tr:TableAccess")
    # the standard interface is anonymous; the same URL with credentials reaches private
    # data: one more interface per security method (VOResource 1.1: one method each)
    _interface(tap, base, use="base", role="std", version="1.1")
    for method in advertised_security_methods():
        _interface(tap, base, use="base", version="1.1", security=method)
    for ivo_id, name in DATA_MODELS:
        _el(tap, "dataModel", name, **{"ivo-id": ivo_id})
    language = _el(tap, "language")
    _el(language, "name", "ADQL")
    _el(language, "version", "2.0", **{"ivo-id": "ivo://ivoa.net/std/ADQL#v2.0"})
    _el(language, "version", "2.1", **{"ivo-id": "ivo://ivoa.net/std/ADQL#v2.1"})
    _el(language, "description", "The Astronomical Data Query Language, version 2.1 "
                                 "(queries of ADQL 2.0 are ADQL 2.1 queries)")
    for feature_type, features in LANGUAGE_FEATURES.items():
        group = _el(language, "languageFeatures", type=feature_type)
        for feature in features:
            node = _el(group, "feature")
            _el(node, "form", feature.form)
            _el(node, "description", feature.description)
    for renderer in formats.renderers():
        node = _el(tap, "outputFormat", **{"ivo-id": OUTPUT_FORMAT_IDS.get(renderer.name)})
        _el(node, "mime", renderer.media_type)
        for alias in (renderer.name, *renderer.aliases):
            if "/" not in alias or alias == renderer.name:
                _el(node, "alias", alias)
    for method in UPLOAD_METHODS:
        _el(tap, "uploadMethod", **{"ivo-id": f"{TAPREGEXT}#upload-{method}"})
    for tag, default, hard in (("retentionPeriod", "retention_default", "retention_hard"),
                               ("executionDuration", "execution_default", "execution_hard")):
        node = _el(tap, tag)
        _el(node, "default", limits[default])
        _el(node, "hard", limits[hard])
    node = _el(tap, "outputLimit")
    _el(node, "default", limits["maxrec_default"], unit="row")
    _el(node, "hard", limits["maxrec_hard"], unit="row")
    _el(_el(tap, "uploadLimit"), "hard", limits["upload_hard"], unit="byte")

    for standard, path in (("ivo://ivoa.net/std/VOSI#capabilities", "capabilities"),
                           ("ivo://ivoa.net/std/VOSI#availability", "availability"),
                           ("ivo://ivoa.net/std/VOSI#tables-1.1", "tables")):
        _interface(_el(root, "capability", standardID=standard), f"{base}/{path}",
                   version="1.1" if path == "tables" else None)
    examples = _el(root, "capability", standardID="ivo://ivoa.net/std/DALI#examples")
    _interface(examples, f"{base}/examples", xsi_type="vr:WebBrowser")
    return _tostring(root)


# -- availability ------------------------------------------------------------------------------
def availability(up_since: datetime, note: str, available: bool = True) -> bytes:
    root = etree.Element(f"{{{VOSI_AVAIL}}}availability", nsmap={"vosi": VOSI_AVAIL})
    _el(root, f"{{{VOSI_AVAIL}}}available", "true" if available else "false")
    _el(root, f"{{{VOSI_AVAIL}}}upSince", up_since.strftime("%Y-%m-%dT%H:%M:%SZ"))
    _el(root, f"{{{VOSI_AVAIL}}}note", note)
    return _tostring(root)


# -- tables ------------------------------------------------------------------------------------
def _fill_table(node, table: Table, tableset: TableSet, detail: str = "max", esa_flags: bool = False):
    """Write ``table``'s description into the (empty) table element ``node``."""
    node.set("type", table.type)
    _el(node, "name", table.name)
    if table.description:
        _el(node, "description", table.description)
    if table.utype:
        _el(node, "utype", table.utype)
    if detail == "min":
        return node
    pk = {c.lower() for c in table.primary_key}
    for column in table.columns:
        c = _el(node, "column", std="true" if column.std else None)
        if esa_flags:
            c.set(f"{{{ESATAPPLUS}}}flags", "0")
        _el(c, "name", adql_name(column.name))
        if column.description:
            _el(c, "description", column.description)
        for attr in ("unit", "ucd", "utype"):
            value = getattr(column, attr)
            if value:
                _el(c, attr, value)
        datatype = _el(c, "dataType", column.datatype, arraysize=column.arraysize,
                       extendedType=column.xtype)
        datatype.set(_XSI_TYPE, "vs:VOTableType")
        if column.indexed or (table.sky and column.name in table.sky):
            _el(c, "flag", "indexed")
        if column.name.lower() in pk:
            _el(c, "flag", "primary")
        if column.nullable and column.name.lower() not in pk:
            _el(c, "flag", "nullable")
    for fk in table.foreign_keys:
        target = tableset.get(fk.target_table)
        f = _el(node, "foreignKey")
        _el(f, "targetTable", target.name if target else fk.target_table)
        for from_column, target_column in zip(fk.from_columns, fk.target_columns):
            pair = _el(f, "fkColumn")
            _el(pair, "fromColumn", from_column)
            _el(pair, "targetColumn", target_column)
        if fk.description:
            _el(f, "description", fk.description)
    return node


def _nsmap(esa_flags: bool) -> dict:
    nsmap = {"vosi": VOSI_TABLES, "vs": VS, "xsi": XSI}
    if esa_flags:
        nsmap["esatapplus"] = ESATAPPLUS
    return nsmap


def tableset_document(tableset: TableSet, detail: str = "max", esa_flags: bool = False) -> bytes:
    """``/tables``: every schema and table; ``detail="min"`` leaves out the columns;
    ``esa_flags`` adds the ``esatapplus:flags`` attributes astroquery's TapPlus needs."""
    root = etree.Element(f"{{{VOSI_TABLES}}}tableset",
                         nsmap=_nsmap(esa_flags))
    for schema in tableset.schemas:
        node = _el(root, "schema")
        _el(node, "name", schema.name)
        if schema.description:
            _el(node, "description", schema.description)
        if schema.utype:
            _el(node, "utype", schema.utype)
        for table in tableset:
            if table.schema_name == schema.name:
                _fill_table(_el(node, "table"), table, tableset, detail, esa_flags)
    return _tostring(root)


def table_document(table: Table, tableset: TableSet, esa_flags: bool = False) -> bytes:
    """``/tables/{name}``: one table with its columns and foreign keys."""
    root = etree.Element(f"{{{VOSI_TABLES}}}table", nsmap=_nsmap(esa_flags))
    _fill_table(root, table, tableset, esa_flags=esa_flags)
    return _tostring(root)
