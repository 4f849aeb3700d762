"""Where a page may send the browser next: only to a path of this service.

A sign-in link carries the page to return to (``?next=``). Checked as typed, a target
could pass as a path and still leave the site once a browser reads it: browsers drop
tabs and newlines anywhere in a URL and read ``\\`` as ``/``, so ``/<TAB>/evil.example``
and ``/\\evil.example`` both go to ``//evil.example``, another host. The target is
therefore first normalised the way a browser's URL parser does (WHATWG URL standard),
then checked, and the normalised form is what the service sends back.
"""
from __future__ import annotations

from urllib.parse import urlsplit

#: removed anywhere in a URL by browsers before parsing
_DROPPED = str.maketrans("", "", "\t\n\r")
#: stripped from both ends of a URL by browsers (C0 controls and space)
_ENDS = "".join(map(chr, range(0x21)))


def local_path(target: str | None) -> str | None:
    """``target`` as a browser would read it, when it names a path of this service
    (``/ui/jobs?phase=ERROR``); None for anything else: empty, absolute
    (``http://x``, ``http:x``), scheme-relative (``//x``, ``/\\x``), or holding control
    characters."""
    if not target:
        return None
    path = target.strip(_ENDS).translate(_DROPPED).replace("\\", "/")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in path):
        return None
    if not path.startswith("/") or path.startswith("//"):
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return None
    return path
