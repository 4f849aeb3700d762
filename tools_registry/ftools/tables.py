"""Opening FITS tables through an extended file name, and writing the tools' outputs.

``open_table("rate.fits[RATE][RATE > 100][col TIME; RATE]")`` opens the file with
astropy.io.fits, selects the HDU (the first table extension when none is named), and
applies the row and column filters in the order written, giving a new in-memory table
HDU whose header keeps the input's keywords. ``write(path, hdus)`` writes an HDU list.
"""
from __future__ import annotations

import fnmatch
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from astropy.io import fits

from tools_registry import compressed
from tools_registry.filename import FileName, output_path, parse
from tools_registry.ftools import expression, sections

TABLE_TYPES = (fits.BinTableHDU, fits.TableHDU)


@dataclass
class Selection:
    """A table chosen by an extended file name: the file, which HDU, and that HDU filtered."""

    hdulist: fits.HDUList
    index: int
    hdu: fits.BinTableHDU | fits.TableHDU
    name: FileName

    @property
    def filtered(self) -> bool:
        return bool(self.name.filters)

    @property
    def whole_file(self) -> bool:
        """Whether the name is a bare file name (no HDU, no filter, no section)."""
        return self.name.hdu is None and not self.name.filters and self.name.section is None


def open_fits(name: str, what: str = "infile") -> fits.HDUList:
    path = name if isinstance(name, str) else str(name)
    try:
        return compressed.open_fits(path)
    except FileNotFoundError:
        raise ValueError(f"{what}: no file {path!r}") from None
    except compressed.TooLarge as error:
        raise ValueError(f"{what}: {error}") from None
    except (OSError, ValueError) as error:
        raise ValueError(f"{what}: cannot read {path!r} as FITS ({error})") from None


def hdu_index(hdulist: fits.HDUList, spec, what: str = "infile", table: bool = True) -> int:
    """The index of the HDU that ``spec`` names (None: the first table extension)."""
    if spec is None:
        if not table:
            return 0
        for i, hdu in enumerate(hdulist):
            if isinstance(hdu, TABLE_TYPES):
                return i
        raise ValueError(f"{what}: the file has no table extension")
    if isinstance(spec, int):
        if spec >= len(hdulist):
            raise ValueError(f"{what}: no HDU {spec}; the file has {len(hdulist)} (0 to {len(hdulist) - 1})")
        index = spec
    else:
        matches = [i for i, h in enumerate(hdulist) if _is_named(h, spec)]
        if not matches:
            names = ", ".join(f"{h.name} (version {h.ver})" for h in hdulist[1:]) or "none"
            detail = "".join([f" version {spec.version}" if spec.version is not None else "",
                              f" of type {spec.kind}" if spec.kind else ""])
            raise ValueError(f"{what}: no extension {spec.name!r}{detail} (extensions: {names})")
        index = matches[0]
    if table and not isinstance(hdulist[index], TABLE_TYPES):
        raise ValueError(f"{what}: HDU {index} is not a table")
    return index


def _is_named(hdu, spec) -> bool:
    """Whether ``hdu`` is the one an HduName names: EXTNAME or HDUNAME (any case), the
    version (EXTVER or HDUVER, 1 when absent) when one is given, and the kind."""
    header = hdu.header
    names = {str(header.get(key, "")).strip().upper() for key in ("EXTNAME", "HDUNAME")}
    if spec.name.upper() not in names - {""}:
        return False
    if spec.version is not None and spec.version not in (header.get("EXTVER", 1), header.get("HDUVER", 1)):
        return False
    kinds = {"image": (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU), "ascii": fits.TableHDU,
             "binary": fits.BinTableHDU}
    return spec.kind is None or isinstance(hdu, kinds[spec.kind])


@contextmanager
def open_table(name: str, what: str = "infile"):
    """Yield the :class:`Selection` that ``name`` (an extended file name) picks."""
    parsed = _parse(name, what)
    if parsed.section is not None:
        raise ValueError(f"{what}: the image section {parsed.section_text} selects pixels of an image; "
                         f"this tool reads a table")
    with open_fits(parsed.path, what) as hdulist:
        index = hdu_index(hdulist, parsed.hdu, what)
        hdu = hdulist[index]
        for f in parsed.filters:
            hdu = filter_rows(hdu, f.text, what) if f.kind == "rows" else filter_columns(hdu, f.text, what)
        yield Selection(hdulist, index, hdu, parsed)


@contextmanager
def open_hdu(name: str, what: str = "infile"):
    """Yield the :class:`Selection` of the HDU, image or table, that ``name`` picks (the
    primary one when none is named), cut to its image section when one is given; filters
    are refused: they apply to tables."""
    parsed = _parse(name, what)
    if parsed.filters:
        raise ValueError(f"{what}: {name!r}: filters apply to tables; name a table extension")
    with open_fits(parsed.path, what) as hdulist:
        index = hdu_index(hdulist, parsed.hdu, what, table=False)
        hdu = hdulist[index]
        if parsed.section is not None:
            hdu = sections.cut(hdu, parsed.section, primary=index == 0, what=what)
        yield Selection(hdulist, index, hdu, parsed)


def _parse(name: str, what: str) -> FileName:
    try:
        return parse(name)
    except ValueError as error:
        raise ValueError(f"{what}: {error}") from None


def filter_rows(hdu, text: str, what: str = "infile"):
    try:
        mask = expression.compile(text).rows(hdu.data, hdu.header)
    except expression.ExpressionError as error:
        raise ValueError(f"{what}: row filter [{text}]: {error}") from None
    return type(hdu)(data=hdu.data[mask], header=hdu.header)


def _split_items(spec: str) -> list[str]:
    if ";" in spec or "=" in spec:
        items = spec.split(";")
    else:
        items = spec.split(",")
    return [item.strip() for item in items if item.strip()]


def match_columns(hdu, pattern: str, what: str) -> list[str]:
    names = hdu.columns.names
    found = [n for n in names if fnmatch.fnmatchcase(n.upper(), pattern.upper())]
    if not found:
        raise ValueError(f"{what}: no column {pattern!r} (columns: {', '.join(names)})")
    return found


def filter_columns(hdu, spec: str, what: str = "infile"):
    """Apply a CFITSIO column filter: ``a; b`` keeps, ``-a`` drops, ``c = expr`` computes.
    When no column is named to keep, every column not dropped is kept."""
    keep, drop, computed = [], set(), []
    for item in _split_items(spec):
        if "=" in item and not item.startswith(("-", "!")):
            new, text = item.split("=", 1)
            computed.append((new.strip(), text.strip()))
        elif item.startswith(("-", "!")):
            drop.update(n.upper() for n in match_columns(hdu, item[1:].strip(), what))
        else:
            keep.extend(n for n in match_columns(hdu, item, what) if n not in keep)
    names = keep if keep else list(hdu.columns.names)
    columns = [hdu.columns[n] for n in names if n.upper() not in drop]
    for new, text in computed:
        array = evaluate_column(hdu, text, what)
        column = make_column(new, array)
        existing = [i for i, c in enumerate(columns) if c.name.upper() == new.upper()]
        if existing:
            columns[existing[0]] = column
        else:
            columns.append(column)
    if not columns:
        raise ValueError(f"{what}: the column filter [col {spec}] leaves no column")
    return table_from_columns(hdu, columns)


def evaluate_column(hdu, text: str, what: str) -> np.ndarray:
    try:
        value = expression.compile(text).evaluate(hdu.data, hdu.header)
    except expression.ExpressionError as error:
        raise ValueError(f"{what}: {error}") from None
    value = np.asarray(value)
    n = len(hdu.data)
    if value.ndim == 0:
        value = np.full(n, value)
    return value


_FORMATS = {"b": "L", "u1": "B", "i1": "I", "i2": "I", "i4": "J", "i8": "K", "u2": "J", "u4": "K",
            "u8": "K", "f4": "E", "f8": "D", "c8": "C", "c16": "M"}


def make_column(name: str, array: np.ndarray, unit: str | None = None) -> fits.Column:
    """A binary-table column holding ``array`` (one value, or a vector, per row)."""
    array = np.asarray(array)
    if array.dtype.kind in "US":
        width = max(1, int(np.char.str_len(array.astype("U")).max(initial=1)))
        return fits.Column(name=name, format=f"{width}A", array=array.astype("U"), unit=unit)
    key = "b" if array.dtype == bool else f"{array.dtype.kind}{array.dtype.itemsize}"
    code = _FORMATS.get(key)
    if code is None:
        raise ValueError(f"values of type {array.dtype} cannot be a FITS column")
    repeat = int(np.prod(array.shape[1:])) if array.ndim > 1 else 1
    return fits.Column(name=name, format=f"{repeat if repeat != 1 else ''}{code}", array=array, unit=unit)


def table_from_columns(hdu, columns):
    """A new binary table with ``columns`` and the non-column keywords of ``hdu``'s header
    (an ASCII table's columns become binary-table columns)."""
    header = hdu.header.copy()
    if isinstance(hdu, fits.TableHDU):
        columns = [make_column(c.name, c.array, c.unit) for c in columns]
        header["XTENSION"] = "BINTABLE"
    return fits.BinTableHDU.from_columns(fits.ColDefs(columns), header=header)


def write(path: str, hdus) -> None:
    """Write ``hdus`` (a primary HDU first) to ``path``, replacing it (outputs are fresh)."""
    fits.HDUList(list(hdus)).writeto(output_path(path), overwrite=True, output_verify="silentfix")


def primary_of(hdulist: fits.HDUList) -> fits.PrimaryHDU:
    return fits.PrimaryHDU(data=hdulist[0].data, header=hdulist[0].header)


def parse_rows(text: str | None, n: int, what: str = "rows") -> np.ndarray:
    """A boolean mask of rows from an ftools row list such as ``"1-10,15,20-"``
    (1-based, inclusive; ``-`` or empty: all rows)."""
    mask = np.zeros(n, dtype=bool)
    text = (text or "-").strip()
    if text in ("-", ""):
        mask[:] = True
        return mask
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                first, last = part.split("-", 1)
                first = int(first) if first.strip() else 1
                last = int(last) if last.strip() else n
            else:
                first = last = int(part)
        except ValueError:
            raise ValueError(f"{what}: {part!r} is not a row or range of rows such as 1-10") from None
        if first < 1 or last < first:
            raise ValueError(f"{what}: bad row range {part!r} (rows are numbered from 1)")
        mask[first - 1:min(last, n)] = True
    return mask
