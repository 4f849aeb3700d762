"""ftlist: list the HDUs, keywords, columns and rows of a FITS file, as HEASoft's ftlist.

``option`` holds the ftool's letters: H (a summary of the HDUs), K (header keywords),
C (column descriptions), I (image pixels), T (table rows; R is accepted for "rows").
Without an HDU or filter in ``infile``, K, C, I and T apply to every HDU; with one,
to the HDU selected and filtered.
"""
from __future__ import annotations

import numpy as np
from astropy.io import fits

from tools_registry.filename import parse
from tools_registry.ftools.tables import (TABLE_TYPES, match_columns, open_fits, open_hdu, open_table,
                                          parse_rows)

LETTERS = set("HKCITR")


def ftlist(infile, option, outfile, columns="*", rows="-", rownum=True, colheader=True,
           separator=" "):
    """Write the listing that ``option`` asks for into ``outfile``; see docs/ftools.md."""
    letters = set(str(option).upper())
    unknown = letters - LETTERS
    if not letters or unknown:
        raise ValueError(f"option: {''.join(sorted(unknown)) or 'nothing'} — use the letters H, K, C, I, T")
    if "R" in letters:
        letters = (letters - {"R"}) | {"T"}
    lines, listed = [], 0
    name = parse(infile)
    whole = name.hdu is None and not name.filters and name.section is None
    if whole:
        with open_fits(name.path) as hdulist:
            if "H" in letters:
                lines += _summary(hdulist)
            for i, hdu in enumerate(hdulist):
                lines_of, n = _hdu_listing(i, hdu, letters - {"H"}, columns, rows, rownum, colheader, separator)
                lines += lines_of
                listed += n
    else:
        with open_table(infile) if name.filters else open_hdu(infile) as selection:
            if "H" in letters:
                lines += _summary(selection.hdulist)
            lines_of, listed = _hdu_listing(selection.index, selection.hdu, letters - {"H"}, columns,
                                            rows, rownum, colheader, separator)
            lines += lines_of
    with open(outfile, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + ("\n" if lines else ""))
    return {"rows_listed": listed}


def _kind(hdu) -> tuple[str, str]:
    if isinstance(hdu, fits.BinTableHDU):
        return "BinTable", f"{len(hdu.columns)} cols x {hdu.header.get('NAXIS2', 0)} rows"
    if isinstance(hdu, fits.TableHDU):
        return "Table", f"{len(hdu.columns)} cols x {hdu.header.get('NAXIS2', 0)} rows"
    naxes = [hdu.header.get(f"NAXIS{i}", 0) for i in range(1, hdu.header.get("NAXIS", 0) + 1)]
    if not naxes:
        return ("Null Array" if isinstance(hdu, fits.PrimaryHDU) else "Image"), ""
    bitpix = {8: "uint8", 16: "int16", 32: "int32", 64: "int64", -32: "real32", -64: "real64"}
    return "Image", f"{bitpix.get(hdu.header['BITPIX'], hdu.header['BITPIX'])}[{' x '.join(map(str, naxes))}]"


def _summary(hdulist) -> list[str]:
    lines = ["        Name               Type       Dimensions", "        ----               ----       ----------"]
    for i, hdu in enumerate(hdulist):
        kind, dims = _kind(hdu)
        label = "Primary Array" if i == 0 else hdu.name
        lines.append(f"HDU {i + 1:<3} {label:<18} {kind:<10} {dims}".rstrip())
    return lines + [""]


def _hdu_listing(index, hdu, letters, columns, rows, rownum, colheader, separator):
    lines, listed = [], 0
    if "K" in letters:
        lines.append(f"HDU {index + 1}:")
        lines += [str(card) for card in hdu.header.cards] + ["END", ""]
    if "C" in letters and isinstance(hdu, TABLE_TYPES):
        lines += _columns(hdu)
    if "T" in letters and isinstance(hdu, TABLE_TYPES):
        table_lines, listed = _rows(hdu, columns, rows, rownum, colheader, separator)
        lines += table_lines
    if "I" in letters and not isinstance(hdu, TABLE_TYPES) and hdu.data is not None:
        lines += _pixels(hdu)
    return lines, listed


def _columns(hdu) -> list[str]:
    lines = ["    Col  Name             Format[Units](Range)      Comment"]
    for i, c in enumerate(hdu.columns, 1):
        unit = f" [{c.unit}]" if c.unit else ""
        lines.append(f"{i:>7} {c.name:<16} {c.format}{unit}".rstrip())
    return lines + [""]


def _selected_columns(hdu, columns) -> list[str]:
    if columns in (None, "", "*", "-"):
        return list(hdu.columns.names)
    names = []
    for pattern in str(columns).replace(";", ",").split(","):
        if pattern.strip():
            names += [n for n in match_columns(hdu, pattern.strip(), "columns") if n not in names]
    return names


def format_value(value, fmt: str) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode(errors="replace").rstrip()
    if isinstance(value, str):
        return value.rstrip()
    if isinstance(value, (bool, np.bool_)):
        return "T" if value else "F"
    if isinstance(value, np.ndarray):
        return " ".join(format_value(v, fmt) for v in value.ravel())
    if isinstance(value, (float, np.floating)):
        digits = 7 if fmt.endswith("E") or np.asarray(value).dtype == np.float32 else 15
        return f"{value:.{digits}g}"
    return str(value)


def _rows(hdu, columns, rows, rownum, colheader, separator):
    names = _selected_columns(hdu, columns)
    data = hdu.data
    n = 0 if data is None else len(data)
    mask = parse_rows(rows, n)
    formats = {c.name: c.format for c in hdu.columns}
    numbers = np.flatnonzero(mask) + 1
    cells = [[format_value(data.field(name)[i - 1], formats[name]) for name in names] for i in numbers]
    header = list(names)
    if rownum:
        header = [""] + header
        cells = [[str(i)] + row for i, row in zip(numbers, cells)]
    widths = [max([len(h)] + [len(r[k]) for r in cells]) for k, h in enumerate(header)]
    lines = []
    if colheader:
        lines.append(separator.join(h.rjust(w) for h, w in zip(header, widths)).rstrip())
    lines += [separator.join(v.rjust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return lines + [""], len(cells)


def _pixels(hdu) -> list[str]:
    data = np.atleast_2d(hdu.data)
    if data.ndim > 2:
        data = data.reshape(-1, data.shape[-1])
    return [" ".join(format_value(v, "") for v in row) for row in data] + [""]
