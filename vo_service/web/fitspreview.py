"""A FITS file at a glance: each HDU's header and, for tables, the first rows.

The file is a user's upload, so nothing its headers say is believed before it is
checked: the HDUs are walked here, block by block, and an HDU whose header announces
more data than the file holds (``NAXIS2 = 1000000000000`` in a file of a few kB) is
shown with its header and a note, its data never touched. The rows of complete tables
are read with astropy, memory-mapped, so that a large file costs only the rows shown.
A compressed file is read as a stream (its headers only), at most
``HERA_FITS_DECOMPRESSED_MAX`` bytes of it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from tools_registry import compressed

#: the most rows of a table shown, the most header cards, the most elements of a vector cell
ROWS = 20
CARDS = 400
ELEMENTS = 10
BLOCK = 2880
#: a header longer than this (36,000 cards) is taken for a damaged file
MAX_HEADER_BLOCKS = 1000


@dataclass
class HDUPreview:
    index: int
    name: str
    kind: str                      #: "primary", "image", "table" (binary or ASCII)
    summary: str                   #: e.g. "table: 3 columns × 1250 rows" or "image 512 × 512 (BITPIX -32)"
    cards: list[tuple[str, str, str]] = field(default_factory=list)  #: (keyword, value, comment)
    truncated_cards: bool = False
    columns: list[tuple[str, str, str]] = field(default_factory=list)  #: (name, format, unit)
    rows: list[list[str]] = field(default_factory=list)
    nrows: int = 0
    problem: str | None = None     #: why the data are not shown


def _number(value) -> str:
    if isinstance(value, np.floating) and value.dtype.itemsize < 8:
        return str(value)  # the shortest text that is this float32: 0.3904, not 0.3903999925
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.10g}"
    return str(value.item() if isinstance(value, np.generic) else value)


def _cell(value) -> str:
    if isinstance(value, np.ndarray):
        flat = value.ravel()
        text = "[" + ", ".join(_number(v) for v in flat[:ELEMENTS]) + (", …" if flat.size > ELEMENTS else "") + "]"
    else:
        text = _number(value)
    return text if len(text) <= 60 else text[:57] + "…"


def is_fits(start: bytes) -> bool:
    return start.startswith(b"SIMPLE  =")


def _header(f: BinaryIO, index: int):
    """The next header of ``f`` (None at the end of the file), read up to its END card."""
    from astropy.io import fits  # heavy: loaded by the first preview, not by every web process

    blocks = []
    while len(blocks) < MAX_HEADER_BLOCKS:
        block = f.read(BLOCK)
        if not block.strip(b"\0 "):  # the end, or padding after the last HDU
            if blocks:
                raise ValueError(f"HDU {index}: the header ends without an END card (truncated file)")
            return None
        if len(block) < BLOCK:
            raise ValueError(f"HDU {index}: the header is cut short (truncated file)")
        blocks.append(block)
        if any(block[i:i + 8] == b"END     " for i in range(0, BLOCK, 80)):
            try:
                return fits.Header.fromstring(b"".join(blocks).decode("ascii", "replace"))
            except Exception as err:  # astropy's parser raises several kinds
                raise ValueError(f"HDU {index}: the header cannot be read ({err})") from err
    raise ValueError(f"HDU {index}: no END card in the first {MAX_HEADER_BLOCKS * 36} header cards")


def _integer(header, keyword: str, default: int = 0) -> int:
    value = header.get(keyword, default)
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{keyword} = {value!r} is not a count")
    return int(value)


def data_size(header) -> int:
    """Bytes of data that ``header`` announces (FITS 4.0, section 4.4.1), padding excluded."""
    naxis = _integer(header, "NAXIS")
    if naxis == 0:
        return 0
    dims = [_integer(header, f"NAXIS{i}") for i in range(1, naxis + 1)]
    if header.get("GROUPS") is True and dims[0] == 0:  # random groups: NAXIS1 = 0 is not a dimension
        dims = dims[1:]
    bitpix = header.get("BITPIX")
    if bitpix not in (8, 16, 32, 64, -32, -64):
        raise ValueError(f"BITPIX = {bitpix!r} is not a FITS data type")
    return abs(bitpix) // 8 * _integer(header, "GCOUNT", 1) * (_integer(header, "PCOUNT") + math.prod(dims))


def _hdu(index: int, header) -> HDUPreview:
    xtension = str(header.get("XTENSION", "")).strip().upper()
    cards = [(c.keyword, str(c.value), c.comment) for c in header.cards[:CARDS]]
    item = HDUPreview(index, str(header.get("EXTNAME", "")).strip() or ("PRIMARY" if index == 0 else f"HDU {index}"),
                      "primary" if index == 0 else "image", "", cards, len(header.cards) > CARDS)
    if xtension in ("BINTABLE", "TABLE"):
        item.kind = "table"
        item.nrows = _integer(header, "NAXIS2")
        fields = min(_integer(header, "TFIELDS"), 999)
        item.columns = [(str(header.get(f"TTYPE{i}", f"col{i}")), str(header.get(f"TFORM{i}", "")),
                         str(header.get(f"TUNIT{i}", ""))) for i in range(1, fields + 1)]
        item.summary = f"table: {len(item.columns)} columns × {item.nrows} rows"
    else:
        naxis = [header.get(f"NAXIS{i}", 0) for i in range(1, _integer(header, "NAXIS") + 1)]
        item.summary = ("image " + " × ".join(str(n) for n in naxis) + f" (BITPIX {header.get('BITPIX')})"
                        if naxis else "header only, no data")
    return item


def _walk(f: BinaryIO, skip) -> tuple[list[HDUPreview], list[int]]:
    """Previews of the HDUs of ``f``, and the indexes of tables whose data are all in the
    file. ``skip(f, n)`` moves past ``n`` bytes and says whether they were all there."""
    out, complete_tables = [], []
    while (header := _header(f, len(out))) is not None:
        index = len(out)
        try:
            item = _hdu(index, header)
            size = data_size(header)
        except ValueError as err:
            out.append(HDUPreview(index, f"HDU {index}", "image", "damaged header",
                                  [(c.keyword, str(c.value), c.comment) for c in header.cards[:CARDS]],
                                  problem=f"This header cannot be read: {err}."))
            break
        out.append(item)
        padded = -(-size // BLOCK) * BLOCK
        if not skip(f, padded):
            item.problem = (f"The header announces {size} bytes of data, more than the file holds after it: "
                            "the file is truncated or its header is wrong. No data are shown.")
            break
        if item.kind == "table":
            complete_tables.append(index)
    return out, complete_tables


def _seek_past(f, n: int) -> bool:
    start = f.tell()
    end = f.seek(0, 2)
    f.seek(min(start + n, end))
    return start + n <= end


def _read_past(f, n: int) -> bool:
    while n > 0:
        data = f.read(min(n, compressed.CHUNK))
        if not data:
            return False
        n -= len(data)
    return True


def preview(path: Path, rows: int = ROWS, limit: int | None = None) -> list[HDUPreview]:
    """The HDUs of the FITS file at ``path``; raises ValueError if it is not FITS or
    cannot be read (a compressed one decompressing to more than ``limit`` bytes)."""
    try:
        kind = compressed.compression_of(path)
        if kind is not None:
            return _compressed_preview(path, kind, limit)
        with open(path, "rb") as f:
            if not is_fits(f.read(9)):
                raise ValueError(f"{path.name} is not a FITS file (it does not begin with SIMPLE =)")
            f.seek(0)
            hdus, tables = _walk(f, _seek_past)
        if tables:
            _first_rows(path, hdus, tables, rows)
        return hdus
    except (ValueError, OSError):
        raise
    except Exception as err:  # astropy's many kinds, on a damaged upload: the user's error, not the server's
        raise ValueError(f"{path.name} cannot be read as FITS: {err}") from err


def _compressed_preview(path: Path, kind: str, limit: int | None) -> list[HDUPreview]:
    limit = compressed.decompressed_max() if limit is None else limit
    with compressed.stream(path, kind) as raw:
        f = compressed.CountingReader(raw, path.name, kind, limit)
        if not is_fits(f.read(9)):
            raise ValueError(f"{path.name} is {kind}-compressed but holds no FITS file")
        raw.seek(0)
        f.count = 0
        hdus, _ = _walk(f, _read_past)
    for item in hdus:
        if item.kind == "table" and not item.problem:
            item.problem = f"The file is {kind}-compressed: headers only here; download it to see the rows."
    return hdus


def _first_rows(path: Path, hdus: list[HDUPreview], tables: list[int], rows: int) -> None:
    from astropy.io import fits  # heavy: see _header

    with fits.open(path, memmap=True, lazy_load_hdus=True) as hdulist:
        for index in tables:
            try:
                data = hdulist[index].data
                if data is not None:
                    hdus[index].rows = [[_cell(v) for v in row] for row in data[:rows]]
            except Exception as err:  # a damaged table is the user's data: a note, never a server error
                hdus[index].problem = f"The rows cannot be read: {err}"
