"""fsort: sort a table's rows on one or more columns, as HEASoft's fsort/ftsort.

Unlike HEASoft's fsort, which sorts in place, the sorted table is written to
``outfile`` (which may name the input file to replace it). ``method`` (heap, insert,
shell) is accepted for compatibility; every method gives the same result here, a stable
sort (rows with equal keys keep their order), which HEASoft's heap sort does not promise.
"""
from __future__ import annotations

import numpy as np

from tools_registry.ftools.tables import open_table, primary_of, write

METHODS = ("heap", "insert", "shell")


def fsort(infile, columns, outfile, method="heap", ascend=True, unique=False, copyall=True):
    """Write ``infile``'s table sorted on ``columns``; see docs/ftools.md.

    columns: names separated by commas or spaces; a leading ``-`` sorts that column in
    descending order (ftsort's convention), ``+`` ascending. ascend=False reverses the
    default direction. unique: keep only the first row of each set of equal keys."""
    if str(method).lower() not in METHODS:
        raise ValueError(f"method: {method!r} — use heap, insert or shell")
    names = [c for c in str(columns).replace(",", " ").split() if c]
    if not names:
        raise ValueError("columns: name at least one column to sort on")
    with open_table(infile) as selection:
        hdu = selection.hdu
        data = hdu.data
        lookup = {n.upper(): n for n in hdu.columns.names}
        keys = []
        for spec in names:
            descending = not ascend
            if spec[0] in "+-":
                descending, spec = spec[0] == "-", spec[1:]
            if spec.upper() not in lookup:
                raise ValueError(f"columns: no column {spec!r} (columns: {', '.join(hdu.columns.names)})")
            values = np.asarray(data.field(lookup[spec.upper()]))
            if values.ndim > 1:
                raise ValueError(f"columns: {spec!r} is a vector column and cannot be a sort key")
            keys.append(_rank(values, descending))
        order = np.lexsort(keys[::-1]) if keys else np.arange(len(data))
        if unique and len(order):
            sorted_keys = np.stack([k[order] for k in keys])
            first = np.ones(len(order), dtype=bool)
            first[1:] = np.any(sorted_keys[:, 1:] != sorted_keys[:, :-1], axis=0)
            order = order[first]
        result = type(hdu)(data=data[order], header=hdu.header)
        hdus = ([result if i == selection.index else h.copy() for i, h in enumerate(selection.hdulist)]
                if copyall else [primary_of(selection.hdulist), result])
        write(outfile, hdus)
        return {"rows": len(order)}


def _rank(values: np.ndarray, descending: bool) -> np.ndarray:
    """Dense integer ranks of ``values`` (so that text and numbers sort alike), negated
    for a descending key; NaN sorts last either way."""
    if values.dtype.kind == "S":
        values = np.char.rstrip(values)
    _, ranks = np.unique(values, return_inverse=True)
    ranks = ranks.astype(np.int64).ravel()
    if values.dtype.kind == "f":
        nan = np.isnan(values)
        ranks[nan] = ranks.max(initial=0) + 1
        if descending:
            ranks[~nan] = -ranks[~nan]
        return ranks
    return -ranks if descending else ranks
