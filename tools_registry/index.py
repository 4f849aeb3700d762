"""The ``/tools`` index: every tool and its versions, as HTML, JSON and VOTable."""
from __future__ import annotations

from html import escape

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


def to_html(registry: Registry, base: str) -> str:
    rows = []
    for tool in registry:
        versions = ", ".join(f'<a href="{escape(base)}/{escape(t.name)}@{escape(t.version)}">{escape(t.version)}</a>'
                             for t in registry.versions(tool.name))
        params = " ".join(f"<code>{escape(p.name)}</code>" for p in tool.parameters)
        rows.append(f"<tr><td><a href=\"{escape(base)}/{escape(tool.name)}\">{escape(tool.name)}</a></td>"
                    f"<td>{versions}</td><td>{escape(tool.summary)}</td><td>{params}</td>"
                    f"<td><a href=\"{escape(base)}/{escape(tool.name)}/descriptor\">VOTable</a> "
                    f"<a href=\"{escape(base)}/{escape(tool.name)}/descriptor?format=json\">JSON</a></td></tr>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Hera tools</title></head><body>
<h1>Hera analysis tools</h1>
<p>Each tool is a UWS 1.1 job list: <code>POST</code> its parameters to <code>{escape(base)}/NAME</code>
(the latest version) or <code>{escape(base)}/NAME@VERSION</code>. This list is also available as
<a href="{escape(base)}?format=json">JSON</a> and <a href="{escape(base)}?format=votable">VOTable</a>.</p>
<table>
<thead><tr><th>tool</th><th>versions</th><th>summary</th><th>parameters (in order)</th><th>descriptor</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""
