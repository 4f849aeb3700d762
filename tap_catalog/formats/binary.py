"""Rows packed as the VOTable BINARY and BINARY2 serializations (VOTable 1.4 §5.4–5.5).

A :class:`RowPacker` is compiled once per result: each column gets a codec (struct code,
conversion, null filler) and consecutive fixed-size columns share one precompiled
``struct.Struct``, so the usual row costs one ``pack`` call per run of fixed columns
plus a length prefix and a copy per variable-length column; a NULL costs a filler
value and a bit of the BINARY2 mask. Rows holding a value the fast path cannot pack
as is (a ``Decimal`` in an int column, a str in a double column, …) take the careful
path, which converts value by value and names the column when a value does not fit.
"""
from __future__ import annotations

import math
import struct
import sys
from array import array
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from ..tableset import Column
from .values import number_array, shape_of, timestamp_text

#: struct code, array typecode, byte size and BINARY null value of each numeric datatype
NUMERIC = {
    "short": ("h", "h", 2, -(2**15)),
    "int": ("i", "i", 4, -(2**31)),
    "long": ("q", "q", 8, -(2**63)),
    "float": ("f", "f", 4, math.nan),
    "double": ("d", "d", 8, math.nan),
}
_COUNT = struct.Struct(">i").pack
_BOOL = {True: b"T", False: b"F"}
_SWAP = sys.byteorder == "little"
_PACK_ERRORS = (struct.error, TypeError, ValueError, AttributeError, KeyError, OverflowError)


_FLOAT32_MAX = 3.4028234663852886e38


def _float32(value) -> float:
    """A double beyond the float range is written as ±Inf rather than refused."""
    value = float(value)
    if value - value == 0 and abs(value) > _FLOAT32_MAX:
        return math.copysign(math.inf, value)
    return value


@dataclass(frozen=True)
class Codec:
    """How one column is laid out in a binary row."""

    code: str | None  # struct code of a fixed-size column, None for a variable-length one
    itemsize: int  # bytes per element of a variable-length column
    fast: Callable | None  # conversion on the fast path (None: pack the value as is)
    careful: Callable  # conversion that accepts every reasonable Python value
    null_masked: object  # what fills a NULL's place in BINARY2 (its bit says NULL)
    null_inline: object  # what stands for NULL in BINARY
    null_literal: str | None = None  # the <VALUES null="…"> of a BINARY integer column


def text_encoder(encoding: str):
    """A function writing a text value (str, bytes, datetime, …) as ``encoding`` bytes."""
    def convert(value) -> bytes:
        if isinstance(value, str):
            return value.encode(encoding)
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace").encode(encoding)
        return timestamp_text(value).encode(encoding)
    return convert


def _array_bytes(typecode: str, count: int | None, name: str):
    """Pack a sequence (or a DALI geometry string) as big-endian elements."""
    cast = float if typecode in "fd" else int

    def convert(value) -> bytes:
        values = array(typecode, [cast(x) for x in number_array(value)])
        if count is not None and len(values) != count:
            raise ValueError(f"column {name}: {len(values)} elements, arraysize says {count}")
        if _SWAP:
            values.byteswap()
        return values.tobytes()
    return convert


def codec_for(column: Column) -> Codec:
    shape = shape_of(column)
    dt = column.datatype
    if dt in ("char", "unicodeChar"):
        width = 1 if dt == "char" else 2
        encoding = "utf-8" if dt == "char" else "utf-16-be"
        convert = text_encoder(encoding)
        # a plain str column packs with str.encode; timestamps arrive as datetime objects
        fast = str.encode if dt == "char" and column.xtype != "timestamp" else convert
        code = None if shape.variable else f"{shape.count * width}s"
        return Codec(code, width, fast, convert, b"", b"")
    if dt == "boolean":
        if shape.scalar:
            return Codec("1s", 1, _BOOL.__getitem__, lambda v: b"T" if v else b"F", b"?", b"?")

        def flags(value) -> bytes:
            return bytes(b"T"[0] if x else b"F"[0] for x in value)
        code = None if shape.variable else f"{shape.count}s"
        null = b"" if shape.variable else b"?" * shape.count
        return Codec(code, 1, flags, flags, null, null)
    code, typecode, size, null = NUMERIC[dt]
    literal = None if dt in ("float", "double") else str(null)
    if shape.scalar:
        cast = int if literal is not None else _float32 if dt == "float" else float
        return Codec(code, size, None, cast, 0, null, literal)
    convert = _array_bytes(typecode, None if shape.variable else shape.count, column.name)
    if shape.variable:
        return Codec(None, size, convert, convert, b"", b"", literal)
    inline = struct.pack(f">{shape.count}{code}", *([null] * shape.count))
    return Codec(f"{shape.count * size}s", size, convert, convert, b"", inline, literal)


class RowPacker:
    """Packs rows of ``columns``; with ``null_mask`` (BINARY2) each row starts with the
    NULL flags, else (BINARY) NULLs are written as the in-band values of the codecs."""

    def __init__(self, columns: list[Column], *, null_mask: bool):
        self.columns = list(columns)
        self.codecs = [codec_for(c) for c in self.columns]
        self.null_mask = null_mask
        n = len(self.codecs)
        self._mask_bytes = (n + 7) // 8 if null_mask else 0
        self._bits = [1 << (8 * self._mask_bytes - 1 - i) for i in range(n)] if null_mask else []
        self._nulls = [c.null_masked if null_mask else c.null_inline for c in self.codecs]
        self._fast = tuple((i, c.fast) for i, c in enumerate(self.codecs) if c.fast is not None)
        # steps: (pack of a run of fixed columns or None, run start, run stop,
        #         index of the variable-length column after the run or -1, its itemsize)
        steps, start = [], 0
        for i, c in enumerate(self.codecs + [None]):
            if c is not None and c.code is not None:
                continue
            codes = "".join(x.code for x in self.codecs[start:i])
            pack = struct.Struct(">" + codes).pack if codes else None
            if c is not None or pack is not None:
                steps.append((pack, start, i, i if c is not None else -1, c.itemsize if c else 0))
            start = i + 1
        self._steps = tuple(steps)

    def chunks(self, rows: Iterable, size: int = 1 << 16, multiple: int = 1) -> Iterator[bytes]:
        """Packed rows in chunks of about ``size`` bytes, each a multiple of ``multiple``
        bytes long except the last (3 lets the caller base64-encode chunk by chunk)."""
        buf = bytearray()
        steps, fast, nulls = self._steps, self._fast, self._nulls
        bits = self._bits or [0] * len(nulls)
        mask_bytes, zeros = self._mask_bytes, bytes(self._mask_bytes)
        careful, count = self._pack_careful, _COUNT
        for row in rows:
            start = len(buf)
            try:
                vals = list(row)
                for i, convert in fast:
                    value = vals[i]
                    if value is not None:
                        vals[i] = convert(value)
                if None in vals:
                    mask = 0
                    for i, value in enumerate(vals):
                        if value is None:
                            vals[i] = nulls[i]
                            mask |= bits[i]
                    buf += mask.to_bytes(mask_bytes, "big")
                else:
                    buf += zeros
                for pack, a, b, var, itemsize in steps:
                    if pack is not None:
                        buf += pack(*vals[a:b])
                    if var >= 0:
                        value = vals[var]
                        buf += count(len(value) // itemsize)
                        buf += value
            except _PACK_ERRORS:
                del buf[start:]
                careful(buf, row)
            if len(buf) >= size:
                cut = len(buf) - len(buf) % multiple
                yield bytes(buf[:cut])
                del buf[:cut]
        if buf:
            yield bytes(buf)

    def _pack_careful(self, buf: bytearray, row) -> None:
        if len(row) != len(self.codecs):
            raise ValueError(f"row has {len(row)} values for {len(self.codecs)} columns")
        vals, mask = [], 0
        for i, (codec, value) in enumerate(zip(self.codecs, row)):
            if value is None:
                if self.null_mask:
                    mask |= self._bits[i]
                vals.append(self._nulls[i])
                continue
            try:
                vals.append(codec.careful(value))
            except _PACK_ERRORS as exc:
                column = self.columns[i]
                raise ValueError(f"column {column.name}: cannot write {value!r} as "
                                 f"{column.datatype}: {exc}") from None
        out = bytearray(mask.to_bytes(self._mask_bytes, "big")) if self.null_mask else bytearray()
        try:
            for pack, a, b, var, itemsize in self._steps:
                if pack is not None:
                    out += pack(*vals[a:b])
                if var >= 0:
                    out += _COUNT(len(vals[var]) // itemsize)
                    out += vals[var]
        except (struct.error, OverflowError) as exc:
            names = ", ".join(c.name for c in self.columns)
            raise ValueError(f"row {row!r} does not fit the columns ({names}): {exc}") from None
        buf += out
