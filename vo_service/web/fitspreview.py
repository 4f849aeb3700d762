"""A FITS file at a glance: each HDU's header and, for tables, the first rows.

Read with astropy, memory-mapped and lazily, so that a large file costs only the
headers and the rows shown.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: the most rows of a table shown, and the most header cards
ROWS = 20
CARDS = 400


@dataclass
class HDUPreview:
    index: int
    name: str
    kind: str                      #: "primary", "image", "table" (binary or ASCII)
    summary: str                   #: e.g. "BinTable 3 columns × 1250 rows" or "Image 512 × 512 (float32)"
    cards: list[tuple[str, str, str]] = field(default_factory=list)  #: (keyword, value, comment)
    truncated_cards: bool = False
    columns: list[tuple[str, str, str]] = field(default_factory=list)  #: (name, format, unit)
    rows: list[list[str]] = field(default_factory=list)
    nrows: int = 0


def _cell(value) -> str:
    value = value.tolist() if hasattr(value, "tolist") else value
    text = f"{value:.10g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def is_fits(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(9) == b"SIMPLE  ="


def preview(path: Path, rows: int = ROWS) -> list[HDUPreview]:
    """The HDUs of the FITS file at ``path``; raises ValueError if it is not FITS."""
    from astropy.io import fits

    if not is_fits(path):
        raise ValueError(f"{path.name} is not a FITS file (it does not begin with SIMPLE =)")
    out = []
    with fits.open(path, memmap=True, lazy_load_hdus=True) as hdus:
        for index, hdu in enumerate(hdus):
            header = hdu.header
            cards = [(c.keyword, str(c.value), c.comment) for c in header.cards[:CARDS]]
            item = HDUPreview(index, hdu.name or f"HDU {index}", "primary" if index == 0 else "image", "",
                              cards, len(header.cards) > CARDS)
            if isinstance(hdu, (fits.BinTableHDU, fits.TableHDU)):
                item.kind = "table"
                item.nrows = header.get("NAXIS2", 0)
                item.columns = [(c.name, str(c.format), c.unit or "") for c in hdu.columns]
                item.summary = f"table: {len(item.columns)} columns × {item.nrows} rows"
                data = hdu.data
                if data is not None:
                    item.rows = [[_cell(v) for v in row] for row in data[:rows]]
            else:
                naxis = [header.get(f"NAXIS{i}", 0) for i in range(1, header.get("NAXIS", 0) + 1)]
                bitpix = header.get("BITPIX")
                item.summary = ("image " + " × ".join(str(n) for n in naxis) + f" (BITPIX {bitpix})"
                                if naxis else "header only, no data")
            out.append(item)
    return out
