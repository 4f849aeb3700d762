"""The IVOA XML schemas of ``tests/ivoa-schemas/`` (a copy of the project's
``../shared/ivoa-schemas/``, kept here so that a clone alone runs the tests), loaded
offline for validation.

Their imports name remote URLs; a resolver maps each to the local file of the same
base name, so no test touches the network.  ``schema("VOTable.xsd")`` is cached.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

from lxml import etree

SCHEMAS = Path(__file__).resolve().parent / "ivoa-schemas"


class _LocalSchemas(etree.Resolver):
    def resolve(self, url, pubid, context):
        path = SCHEMAS / os.path.basename(url)
        return self.resolve_filename(str(path), context) if path.exists() else None


@functools.cache
def schema(name: str) -> etree.XMLSchema:
    """The XMLSchema in file ``name`` (for example "VOTable.xsd" or "UWS.xsd")."""
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalSchemas())
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name), parser))


def assert_valid(name: str, document: bytes | etree._Element) -> etree._Element:
    """Parse (if bytes) and validate ``document`` against schema ``name``; return the root."""
    root = etree.fromstring(document) if isinstance(document, bytes) else document
    checker = schema(name)
    if not checker.validate(root):
        raise AssertionError(f"{name} validation failed: {checker.error_log}")
    return root
