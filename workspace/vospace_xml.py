"""VOSpace 2.1 XML documents: nodes, transfers, protocols, views, properties (lxml).

Namespace ``http://www.ivoa.net/xml/VOSpace/v2.0`` with ``version="2.1"``, as VOSpace
2.1 prescribes; valid against ``schemas/VOSpace-2.1.xsd`` (tests validate every document
this module writes). The XSD declares no global ``node`` element, so a node document's
root ``vos:node`` is typed by ``xsi:type`` (``vos:ContainerNode``, ``vos:DataNode``); the
tests validate it inside ``vos:searchDetails/vos:nodes``, where the schema declares it.

Documents sent by clients are parsed by :func:`parse` with a parser that loads no DTD,
expands no entity and reaches no network: a document with a DOCTYPE is refused outright,
so neither entity bombs nor external entities (local files) can work.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

VOS = "http://www.ivoa.net/xml/VOSpace/v2.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
VERSION = "2.1"
NSMAP = {"vos": VOS, "xsi": XSI}

CORE = "ivo://ivoa.net/vospace/core"
HTTPGET = f"{CORE}#httpget"
HTTPPUT = f"{CORE}#httpput"
HTTPSGET = f"{CORE}#httpsget"
HTTPSPUT = f"{CORE}#httpsput"
DEFAULT_VIEW = f"{CORE}#defaultview"
ANY_VIEW = f"{CORE}#anyview"
PROP_LENGTH = f"{CORE}#length"
PROP_DATE = f"{CORE}#date"
PROP_TYPE = f"{CORE}#type"
PROP_QUOTA = f"{CORE}#quota"
PROP_AVAILABLE = f"{CORE}#availableSpace"
PROP_SHA256 = "urn:hera:sha256"
PROP_QUOTA_WARNING = "urn:hera:quota-warning"

DIRECTIONS = ("pushToVoSpace", "pullFromVoSpace", "pullToVoSpace", "pushFromVoSpace")

#: largest XML document a client may send (bytes)
MAX_DOCUMENT = 256 * 1024


class VOSpaceError(Exception):
    """A VOSpace fault: ``fault`` is its name in the standard (NodeNotFound, …)."""

    def __init__(self, status: int, fault: str, message: str):
        super().__init__(f"{fault}: {message}")
        self.status, self.fault, self.message = status, fault, message


def _q(name: str) -> str:
    return f"{{{VOS}}}{name}"


def _tostring(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# -- nodes ------------------------------------------------------------------------------------
@dataclass
class Node:
    uri: str
    type: str  # "vos:ContainerNode" | "vos:DataNode"
    properties: list[tuple[str, str, bool]] = field(default_factory=list)  # (uri, value, readOnly)
    children: list["Node"] | None = None  # containers only


def _node_element(node: Node, tag: str, parent=None, detail: str = "max"):
    el = etree.SubElement(parent, tag) if parent is not None else etree.Element(tag, nsmap=NSMAP)
    el.set(f"{{{XSI}}}type", node.type)
    el.set("uri", node.uri)
    if parent is None:
        el.set("version", VERSION)
    if detail != "min":
        props = etree.SubElement(el, _q("properties"))
        for uri, value, read_only in node.properties:
            p = etree.SubElement(props, _q("property"), uri=uri)
            if read_only:
                p.set("readOnly", "true")
            p.text = value
    if detail == "max":
        accepts = etree.SubElement(el, _q("accepts"))
        etree.SubElement(accepts, _q("view"), uri=ANY_VIEW)
        provides = etree.SubElement(el, _q("provides"))
        etree.SubElement(provides, _q("view"), uri=DEFAULT_VIEW)
        etree.SubElement(el, _q("capabilities"))
    if node.type == "vos:ContainerNode":
        nodes = etree.SubElement(el, _q("nodes"))
        for child in node.children or []:
            _node_element(child, _q("node"), nodes, detail="min" if detail == "min" else "properties")
    return el


def node_document(node: Node, detail: str = "max") -> bytes:
    """``<vos:node>`` for ``node``; ``detail`` is VOSpace's min, max or properties."""
    return _tostring(_node_element(node, _q("node"), detail=detail))


# -- transfers --------------------------------------------------------------------------------
@dataclass
class Protocol:
    uri: str
    endpoint: str | None = None
    security_methods: tuple[str, ...] = ()


@dataclass
class Transfer:
    target: str
    direction: str
    protocols: list[Protocol] = field(default_factory=list)
    keep_bytes: bool | None = None
    params: list[tuple[str, str]] = field(default_factory=list)
    view: str | None = None


def transfer_document(transfer: Transfer) -> bytes:
    root = etree.Element(_q("transfer"), nsmap={"vos": VOS}, version=VERSION)
    etree.SubElement(root, _q("target")).text = transfer.target
    etree.SubElement(root, _q("direction")).text = transfer.direction
    if transfer.view:
        etree.SubElement(root, _q("view"), uri=transfer.view)
    for p in transfer.protocols:
        el = etree.SubElement(root, _q("protocol"), uri=p.uri)
        if p.endpoint:
            etree.SubElement(el, _q("endpoint")).text = p.endpoint
        for method in p.security_methods:
            etree.SubElement(el, _q("securityMethod"), uri=method)
    if transfer.keep_bytes is not None:
        etree.SubElement(root, _q("keepBytes")).text = "true" if transfer.keep_bytes else "false"
    for uri, value in transfer.params:
        etree.SubElement(root, _q("param"), uri=uri).text = value
    return _tostring(root)


def parse(data: bytes):
    """The root of a document sent by a client, parsed safely (see the module docstring)."""
    if len(data) > MAX_DOCUMENT:
        raise VOSpaceError(413, "InvalidArgument", f"the document is larger than {MAX_DOCUMENT} bytes")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise VOSpaceError(400, "InvalidArgument", "documents with a DOCTYPE or entity declarations are refused")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as err:
        raise VOSpaceError(400, "InvalidArgument", f"the document is not well-formed XML: {err}")
    if root.getroottree().docinfo.doctype:
        raise VOSpaceError(400, "InvalidArgument", "documents with a DOCTYPE are refused")
    return root


def _text(el) -> str:
    return (el.text or "").strip() if el is not None else ""


def parse_transfer(data: bytes) -> Transfer:
    root = parse(data)
    if root.tag != _q("transfer"):
        raise VOSpaceError(400, "InvalidArgument", f"expected a vos:transfer document in namespace {VOS}")
    target = _text(root.find(_q("target")))
    direction = _text(root.find(_q("direction")))
    if not target or not direction:
        raise VOSpaceError(400, "InvalidArgument", "a transfer needs a target and a direction")
    protocols = [Protocol(p.get("uri", ""), _text(p.find(_q("endpoint"))) or None)
                 for p in root.findall(_q("protocol"))]
    keep = root.find(_q("keepBytes"))
    view = root.find(_q("view"))
    return Transfer(target, direction, protocols,
                    keep_bytes=None if keep is None else _text(keep).lower() in ("true", "1"),
                    params=[(p.get("uri", ""), _text(p)) for p in root.findall(_q("param"))],
                    view=view.get("uri") if view is not None else None)


def parse_node(data: bytes) -> tuple[str, str]:
    """(uri, xsi:type without prefix) of a node document sent to create a node."""
    root = parse(data)
    if root.tag != _q("node"):
        raise VOSpaceError(400, "InvalidArgument", f"expected a vos:node document in namespace {VOS}")
    uri = root.get("uri")
    if not uri:
        raise VOSpaceError(400, "InvalidArgument", "the node has no uri")
    xsi_type = root.get(f"{{{XSI}}}type", "vos:DataNode")
    prefix, _, local = xsi_type.rpartition(":")
    if prefix and root.nsmap.get(prefix) != VOS:
        raise VOSpaceError(400, "InvalidArgument", f"unknown node type {xsi_type!r}")
    return uri, local


# -- service-level lists ------------------------------------------------------------------------
def protocols_document(uris) -> bytes:
    root = etree.Element(_q("protocols"), nsmap={"vos": VOS}, version=VERSION)
    for uri in uris:
        etree.SubElement(root, _q("protocol"), uri=uri)
    return _tostring(root)


def views_document(uris) -> bytes:
    root = etree.Element(_q("views"), nsmap={"vos": VOS}, version=VERSION)
    for uri in uris:
        etree.SubElement(root, _q("view"), uri=uri)
    return _tostring(root)


def properties_document(uris) -> bytes:
    root = etree.Element(_q("properties"), nsmap={"vos": VOS}, version=VERSION)
    for uri in uris:
        etree.SubElement(root, _q("property"), uri=uri, readOnly="true")
    return _tostring(root)
