"""Results as a FITS file: an empty primary HDU and one binary table (BINTABLE).

A FITS header must state the number of rows (NAXIS2) and the width of every column
before the first row, so this renderer is the one that does not stream from the first
row: it reads the rows (up to MAXREC) into a temporary file, noting the longest string
and array of each variable-length column, and then streams the FITS file out of that
temporary file in chunks. Memory stays flat; disk holds one copy of the result.

Column mapping: short/int/long → I/J/K with TNULLn for NULL; float/double → E/D with
NaN for NULL; boolean → L (NULL is the zero byte); char and unicodeChar → ``wA`` of the
longest value (UTF-8); fixed arrays (point, circle) → ``nD``; variable arrays
(polygon) → ``PD(max)`` with the elements in the heap.
"""
from __future__ import annotations

import marshal
import struct
import tempfile
from itertools import islice
from typing import Iterator

from .binary import NUMERIC, codec_for, text_encoder
from .renderer import CHUNK_SIZE, Renderer
from .values import shape_of

_BLOCK = 2880
_BATCH = 2048
_utf8 = text_encoder("utf-8")
_TFORM = {"short": "I", "int": "J", "long": "K", "float": "E", "double": "D", "boolean": "L"}


class _FitsColumn:
    def __init__(self, column):
        self.column = column
        self.codec = codec_for(column)
        self.shape = shape_of(column)
        self.text = column.datatype in ("char", "unicodeChar")
        self.longest = 0
        if self.text:
            self.null = b""
        elif column.datatype == "boolean":
            self.null = b"\0" * max(self.shape.count, 1) if not self.shape.variable else b""
        else:
            self.null = self.codec.null_inline

    def convert(self, value):
        if value is None:
            return self.null
        if self.text:
            return _utf8(value)
        return self.codec.careful(value)

    @property
    def heap(self) -> bool:
        return self.shape.variable and not self.text

    def tform(self) -> tuple[str, str]:
        """(TFORM, struct code in the row)."""
        dt = self.column.datatype
        if self.text:
            declared = 0 if self.shape.variable else self.shape.count
            width = max(self.longest, declared, 1)
            return f"{width}A", f"{width}s"
        letter = _TFORM[dt]
        if self.heap:
            return f"P{letter}({self.longest})", "2i"
        if self.shape.scalar:
            return letter, "1s" if dt == "boolean" else NUMERIC[dt][0]
        size = 1 if dt == "boolean" else NUMERIC[dt][2]
        return f"{self.shape.count}{letter}", f"{self.shape.count * size}s"


class FITSRenderer(Renderer):
    name = "fits"
    media_type = "application/fits"
    aliases = ()
    extension = "fits"

    def write(self, columns, rows, *, maxrec, infos=(), params=(), table_name="result",
              description=None) -> Iterator[bytes]:
        cols = [_FitsColumn(c) for c in columns]
        it = iter(rows)
        limited = it if maxrec is None else islice(it, maxrec)
        with tempfile.TemporaryFile(prefix="hera-fits-") as spool:
            nrows = heap_size = 0
            while batch := list(islice(limited, _BATCH)):
                converted = [[c.convert(v) for c, v in zip(cols, row)] for row in batch]
                for i, c in enumerate(cols):
                    if c.text or c.heap:
                        longest = max(len(row[i]) for row in converted)
                        if c.heap:
                            itemsize = c.codec.itemsize
                            longest //= itemsize
                            heap_size += sum(len(row[i]) for row in converted)
                        c.longest = max(c.longest, longest)
                marshal.dump(converted, spool)
                nrows += len(converted)
            forms = [c.tform() for c in cols]
            row_struct = struct.Struct(">" + "".join(code for _, code in forms))
            header = self._header(cols, forms, row_struct.size, nrows, heap_size, table_name)
            yield _primary_header() + header

            heap_columns = [i for i, c in enumerate(cols) if c.heap]
            spool.seek(0)
            out, offset = bytearray(), 0
            for _ in range(_batches(nrows)):
                for row in marshal.load(spool):
                    values = []
                    for c, v in zip(cols, row):
                        if c.heap:
                            n = len(v) // c.codec.itemsize
                            values += (n, offset)
                            offset += len(v)
                        else:
                            values.append(v)
                    out += row_struct.pack(*values)
                    if len(out) >= CHUNK_SIZE:
                        yield bytes(out)
                        out.clear()
            if heap_columns:
                spool.seek(0)
                for _ in range(_batches(nrows)):
                    for row in marshal.load(spool):
                        for i in heap_columns:
                            out += row[i]
                        if len(out) >= CHUNK_SIZE:
                            yield bytes(out)
                            out.clear()
            total = row_struct.size * nrows + heap_size
            out += bytes(-total % _BLOCK)
            yield bytes(out)

    @staticmethod
    def _header(cols, forms, width, nrows, heap_size, table_name) -> bytes:
        from astropy.io import fits  # the header cards are formatted by astropy

        header = fits.Header([
            ("XTENSION", "BINTABLE", "binary table extension"),
            ("BITPIX", 8), ("NAXIS", 2), ("NAXIS1", width, "bytes per row"),
            ("NAXIS2", nrows, "rows"), ("PCOUNT", heap_size, "heap bytes"), ("GCOUNT", 1),
            ("TFIELDS", len(cols)),
        ])
        for n, (c, (tform, _)) in enumerate(zip(cols, forms), start=1):
            header[f"TTYPE{n}"] = c.column.name
            header[f"TFORM{n}"] = tform
            if c.column.unit:
                header[f"TUNIT{n}"] = c.column.unit
            if c.codec.null_literal is not None and not c.heap and c.shape.scalar:
                header[f"TNULL{n}"] = int(c.codec.null_literal)
        header["EXTNAME"] = table_name
        return header.tostring(padding=True).encode("ascii")


def _primary_header() -> bytes:
    from astropy.io import fits  # heavy: loaded by the first FITS result, not by every TAP process

    return fits.PrimaryHDU().header.tostring(padding=True).encode("ascii")


def _batches(nrows: int) -> int:
    return (nrows + _BATCH - 1) // _BATCH
