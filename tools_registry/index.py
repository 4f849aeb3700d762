"""The ``/tools`` index: every tool and its versions, as JSON and VOTable (the HTML page is
the template ``templates/tools_registry/index.html``)."""
from __future__ import annotations

from lxml import etree

from .descriptor import NS
from .registry import Registry


def to_json(registry: Registry, base: str) -> dict:
    return {"tools": [{"name": t.name, "version": t.version, "summary": t.summary,
                       "url": f"{base}/{t.name}", "descriptor": f"{base}/{t.name}/descriptor",
                       "versions": [v.version for v in registry.versions(t.name)]}
                      for t in registry]}


_FIELDS = [("name", "char", "meta.id", "tool name"),
           ("version", "char", "meta.version", "tool version"),
           ("latest", "boolean", None, "whether this is the version /tools/{name} runs"),
           ("summary", "char", "meta.note", "what the tool does"),
           ("url", "char", "meta.ref.url", "UWS job list of this version"),
           ("descriptor", "char", "meta.ref.url", "DataLink service descriptor of this version")]


def to_votable(registry: Registry, base: str) -> bytes:
    root = etree.Element(f"{{{NS}}}VOTABLE", nsmap={None: NS}, version="1.4")
    resource = etree.SubElement(root, f"{{{NS}}}RESOURCE", type="results")
    table = etree.SubElement(resource, f"{{{NS}}}TABLE", name="tools")
    etree.SubElement(table, f"{{{NS}}}DESCRIPTION").text = "Hera's analysis tools, one row per version"
    for name, datatype, ucd, description in _FIELDS:
        attrs = {"name": name, "datatype": datatype}
        if datatype == "char":
            attrs["arraysize"] = "*"
        if ucd:
            attrs["ucd"] = ucd
        field = etree.SubElement(table, f"{{{NS}}}FIELD", attrs)
        etree.SubElement(field, f"{{{NS}}}DESCRIPTION").text = description
    rows = etree.SubElement(etree.SubElement(table, f"{{{NS}}}DATA"), f"{{{NS}}}TABLEDATA")
    for name in registry.names():
        latest = registry.latest(name).version
        for tool in registry.versions(name):
            tr = etree.SubElement(rows, f"{{{NS}}}TR")
            pinned = f"{base}/{tool.name}@{tool.version}"
            for value in (tool.name, tool.version, "T" if tool.version == latest else "F", tool.summary,
                          pinned, pinned + "/descriptor"):
                etree.SubElement(tr, f"{{{NS}}}TD").text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
