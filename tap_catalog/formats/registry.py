"""The registry of output formats: which renderer a RESPONSEFORMAT value selects.

Built-in renderers are registered by the package; a third-party package adds one by
declaring an entry point in the group ``hera.formats`` that names a Renderer instance
(or a class, instantiated without arguments). They are loaded at the first lookup.
"""
from __future__ import annotations

from importlib.metadata import entry_points
from typing import Iterable, Iterator, Sequence

from ..tableset import Column
from .renderer import Renderer

ENTRY_POINT_GROUP = "hera.formats"


class UnsupportedFormat(ValueError):
    """RESPONSEFORMAT names no registered renderer; the message lists the accepted ones."""

    def __init__(self, fmt: str, accepted: Sequence[str]):
        self.format = fmt
        self.accepted = list(accepted)
        super().__init__(f"unsupported RESPONSEFORMAT {fmt!r}; accepted: {', '.join(accepted)}")


_renderers: list[Renderer] = []
_by_spelling: dict[str, Renderer] = {}
_plugins_loaded = False


def normalize(fmt: str) -> str:
    """Lower case, no whitespace, no quotes around MIME parameter values."""
    text = "".join(fmt.split()).lower()
    if ";" not in text:
        return text
    base, *params = text.split(";")
    return ";".join([base] + [p.replace('"', "").replace("'", "") for p in params if p])


def register(renderer: Renderer) -> Renderer:
    """Make ``renderer`` selectable by its name, its media type and its aliases."""
    spellings = [renderer.name, renderer.media_type, *renderer.aliases]
    for spelling in spellings:
        key = normalize(spelling)
        other = _by_spelling.get(key)
        if other is not None and other is not renderer:
            raise ValueError(f"format {spelling!r} of {renderer!r} is taken by {other!r}")
    for spelling in spellings:
        _by_spelling[normalize(spelling)] = renderer
    if renderer not in _renderers:
        _renderers.append(renderer)
    return renderer


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        register(obj() if isinstance(obj, type) else obj)


def renderers() -> list[Renderer]:
    """Every registered renderer, built-in first (for TAPRegExt outputFormat lists)."""
    _load_plugins()
    return list(_renderers)


def accepted_formats() -> list[str]:
    _load_plugins()
    return sorted(_by_spelling)


def lookup(fmt: str | None) -> Renderer:
    """The renderer for a RESPONSEFORMAT value; None or "" gives the default (BINARY2 VOTable)."""
    _load_plugins()
    renderer = _by_spelling.get(normalize(fmt or "votable"))
    if renderer is None:
        raise UnsupportedFormat(fmt or "", accepted_formats())
    return renderer


def render(renderer: Renderer | str, columns: Sequence[Column], rows: Iterable[tuple], *,
           maxrec: int | None, infos: Iterable[tuple] = (),
           params: Iterable[tuple[Column, object]] = (), table_name: str = "result",
           description: str | None = None) -> Iterator[bytes]:
    """The result as byte chunks, written while ``rows`` is read.

    At most ``maxrec`` rows are written (None: no limit); when ``rows`` holds more, the
    VOTable renderers add the DALI OVERFLOW status. ``infos`` are (name, value, text)
    INFOs and ``params`` (Column, value) PARAMs of the VOTable RESOURCE; ``table_name``
    and ``description`` name and describe the result table.
    """
    if isinstance(renderer, str):
        renderer = lookup(renderer)
    return renderer.write(list(columns), rows, maxrec=maxrec, infos=infos, params=params,
                          table_name=table_name, description=description)
