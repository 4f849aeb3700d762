"""A tool's description for programs: the DataLink service descriptor (VOTable) and JSON.

The VOTable is a DataLink 1.1 service descriptor — ``RESOURCE type="meta"
utype="adhoc:service"`` with the job list's ``accessURL``, the UWS ``standardID`` and a
``GROUP name="inputParams"`` holding one PARAM per tool parameter (datatype, unit, UCD,
default as ``value``, ``VALUES`` with MIN, MAX and OPTIONs), in the tool's positional
order — so that a VO client can build a form and submit a job. A second GROUP,
``outputs``, lists the files a job produces (name, content type). The JSON carries the
same declaration in the shape the Hera client and web pages read.
"""
from __future__ import annotations

from lxml import etree

from .declaration import Parameter, Tool

NS = "http://www.ivoa.net/xml/VOTable/v1.3"
MEDIA_TYPE = "application/x-votable+xml"
UWS_STANDARD_ID = "ivo://ivoa.net/std/UWS"
_DATATYPES = {"integer": "long", "real": "double", "boolean": "boolean"}


def parameter_json(p: Parameter) -> dict:
    return {"name": p.name, "type": p.type, "direction": p.direction, "unit": p.unit, "ucd": p.ucd,
            "default": p.default, "min": p.min, "max": p.max, "required": p.required,
            "options": list(p.options), "multiple": p.multiple, "description": p.description}


def to_json(tool: Tool, url: str) -> dict:
    return {"name": tool.name, "version": tool.version, "summary": tool.summary,
            "description": tool.description, "url": url,
            "parameters": [parameter_json(p) for p in tool.parameters],
            "outputs": [{"name": o.name, "content_type": o.content_type, "description": o.description}
                        for o in tool.outputs]}


def _el(parent, tag, text=None, **attrs):
    node = etree.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items() if v is not None})
    if text:
        node.text = text
    return node


def _value_text(p: Parameter) -> str:
    if p.default is None:
        return ""
    if isinstance(p.default, bool):
        return "true" if p.default else "false"
    return ",".join(p.default) if isinstance(p.default, list) else str(p.default)


def _describe(p: Parameter) -> str:
    notes = []
    if p.required:
        notes.append("required")
    if p.type == "table":
        notes.append("workspace path of a table, or an ADQL query (SELECT ...) on the catalogue")
    elif p.is_file:
        notes.append("workspace path of an " + ("input" if p.direction == "in" else "output") + " file"
                     + (", comma-separated list or @listfile" if p.multiple else ""))
    return p.description + (f" ({'; '.join(notes)})" if notes else "")


def _param(group, p: Parameter):
    datatype = _DATATYPES.get(p.type, "char")
    node = _el(group, "PARAM", name=p.name, datatype=datatype, arraysize="*" if datatype == "char" else None,
               unit=p.unit, ucd=p.ucd, value=_value_text(p))
    _el(node, "DESCRIPTION", _describe(p))
    if p.min is not None or p.max is not None or p.options:
        values = _el(node, "VALUES")
        if p.min is not None:
            _el(values, "MIN", value=p.min, inclusive="yes")
        if p.max is not None:
            _el(values, "MAX", value=p.max, inclusive="yes")
        for option in p.options:
            _el(values, "OPTION", value=option)


def to_votable(tool: Tool, url: str) -> bytes:
    root = etree.Element(f"{{{NS}}}VOTABLE", nsmap={None: NS}, version="1.4")
    resource = _el(root, "RESOURCE", type="meta", utype="adhoc:service", name=tool.name)
    _el(resource, "DESCRIPTION", tool.summary + ("\n\n" + tool.description if tool.description else ""))
    _el(resource, "INFO", name="version", value=tool.version)
    _el(resource, "PARAM", name="accessURL", datatype="char", arraysize="*", value=url)
    _el(resource, "PARAM", name="standardID", datatype="char", arraysize="*", value=UWS_STANDARD_ID)
    inputs = _el(resource, "GROUP", name="inputParams")
    for p in tool.parameters:
        _param(inputs, p)
    outputs = _el(resource, "GROUP", name="outputs")
    _el(outputs, "DESCRIPTION", "files a job produces; each is a UWS result of that name, "
                                "and a result 'provenance' (application/json) records the run")
    for o in tool.outputs:
        node = _el(outputs, "PARAM", name=o.name, datatype="char", arraysize="*", value=o.content_type,
                   ucd="meta.code.mime")
        _el(node, "DESCRIPTION", o.description)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
