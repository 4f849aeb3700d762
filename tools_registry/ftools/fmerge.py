"""fmerge: append the rows of several tables with the same columns, as HEASoft's fmerge.

The output's header is the first input's (its keywords, primary array and
``lastkey`` keywords taken from the last input); every input must have the columns
merged, with the same data types and repeat counts. ``columns`` ("-" for all) keeps
only the columns named, in the first table's order.
"""
from __future__ import annotations

import numpy as np
from astropy.io import fits

from tools_registry.declaration import split_list
from tools_registry.ftools.tables import (match_columns, open_table, primary_of, table_from_columns,
                                          write)


def fmerge(infiles, outfile, columns="-", lastkey=None, copyprime=True):
    """Merge the tables ``infiles`` (a list of extended file names) into ``outfile``."""
    names = list(infiles) if not isinstance(infiles, str) else [f for f in split_list(infiles) if f]
    if len(names) < 2:
        raise ValueError("infiles: give at least two tables to merge")
    tables, headers, primary = [], [], None
    for i, name in enumerate(names):
        with open_table(name, f"infiles ({name.rsplit('/', 1)[-1]})") as selection:
            hdu = selection.hdu
            if columns not in (None, "", "-", "*"):
                keep = []
                for pattern in str(columns).replace(";", ",").split(","):
                    if pattern.strip():
                        keep += [n for n in match_columns(hdu, pattern.strip(), "columns") if n not in keep]
                hdu = table_from_columns(hdu, [hdu.columns[n] for n in keep])
            if i == 0 and copyprime:
                primary = primary_of(selection.hdulist)
                primary.data = None if primary.data is None else np.array(primary.data)
            tables.append((hdu.columns, hdu.data.copy(), name))
            headers.append(hdu.header.copy())
    first_columns, _, first_name = tables[0]
    for cols, _, name in tables[1:]:
        theirs = {x.name.upper() for x in cols}
        for c in first_columns:
            if c.name.upper() not in theirs:
                raise ValueError(f"infiles: {name} has no column {c.name!r}, which {first_name} has")
    merged = []
    for c in first_columns:
        parts = []
        for cols, data, name in tables:
            other = next(x for x in cols if x.name.upper() == c.name.upper())
            values = np.asarray(data.field(other.name))
            if not _compatible(np.asarray(tables[0][1].field(c.name)), values):
                raise ValueError(f"infiles: column {c.name!r} is {other.format} in {name} "
                                 f"but {c.format} in {first_name}")
            parts.append(values)
        values = np.concatenate(parts)
        form = f"{max(1, values.dtype.itemsize // (4 if values.dtype.kind == 'U' else 1))}A" \
            if values.dtype.kind in "SU" else c.format
        merged.append(fits.Column(name=c.name, format=form, unit=c.unit, disp=c.disp, null=c.null, array=values))
    header = headers[0]
    for key in (lastkey or "").replace(",", " ").split():
        if key.upper() in headers[-1]:
            header[key.upper()] = headers[-1][key.upper()]
    table = fits.BinTableHDU.from_columns(fits.ColDefs(merged), header=header)
    table.header.add_history(f"fmerge: {len(names)} tables merged")
    write(outfile, [primary or fits.PrimaryHDU(), table])
    return {"rows": len(table.data), "files": len(names)}


def _compatible(a: np.ndarray, b: np.ndarray) -> bool:
    """Same type and shape per row; text columns of any widths are compatible."""
    if a.dtype.kind in "SU" and b.dtype.kind in "SU":
        return a.shape[1:] == b.shape[1:]
    same_type = (a.dtype.base.kind, a.dtype.base.itemsize) == (b.dtype.base.kind, b.dtype.base.itemsize)
    return same_type and a.shape[1:] == b.shape[1:]  # byte order may differ: read from a file or not
