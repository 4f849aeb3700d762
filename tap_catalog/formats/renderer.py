"""What a renderer is: a named output format that turns result rows into byte chunks."""
from __future__ import annotations

from typing import Iterable, Iterator, Sequence

from ..tableset import Column

#: about how many bytes each yielded chunk holds
CHUNK_SIZE = 1 << 16

_END = object()


class Renderer:
    """An output format. Subclasses set the class attributes and implement :meth:`write`.

    ``name`` is the short RESPONSEFORMAT value (``votable/b2``), ``media_type`` the
    Content-Type to send, ``aliases`` every other RESPONSEFORMAT spelling that selects it
    (lower case, no spaces), ``extension`` the file name extension of a stored result.
    """

    name: str = ""
    media_type: str = ""
    aliases: tuple[str, ...] = ()
    extension: str = ""

    def write(self, columns: Sequence[Column], rows: Iterable[tuple], *, maxrec: int | None,
              infos: Iterable[tuple] = (), params: Iterable[tuple[Column, object]] = (),
              table_name: str = "result", description: str | None = None) -> Iterator[bytes]:
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__} {self.name} {self.media_type}>"


def overflowed(rows: Iterator, maxrec: int | None) -> bool:
    """After ``maxrec`` rows were taken from ``rows``: does it hold one more?"""
    return maxrec is not None and next(rows, _END) is not _END
