"""fcalc: a new (or replaced) column computed from an expression, as HEASoft's fcalc."""
from __future__ import annotations

import numpy as np

from tools_registry.ftools.tables import (evaluate_column, make_column, open_table, primary_of,
                                          table_from_columns, write)

#: fcalc's tform letters -> numpy types of the new column
DATATYPES = {"L": bool, "B": np.uint8, "I": np.int16, "J": np.int32, "K": np.int64,
             "E": np.float32, "D": np.float64}


def fcalc(infile, outfile, clname, expr, tform=None, copyall=True, histkw=True):
    """Write ``infile``'s table with column ``clname`` = ``expr``; see docs/ftools.md."""
    if not clname.strip() or any(c in clname for c in "[];=,"):
        raise ValueError(f"clname: {clname!r} is not a column name")
    with open_table(infile) as selection:
        hdu = selection.hdu
        value = evaluate_column(hdu, expr, "expr")
        if tform:
            value = value.astype(DATATYPES[tform.upper()])
        elif value.dtype.kind == "f":
            value = value.astype(np.float64)  # numpy keeps E / E in single precision; fcalc writes D
        elif value.dtype.kind in "iu":
            value = value.astype(np.int64)  # and integers as K
        column = make_column(clname, value)
        columns = [column if c.name.upper() == clname.upper() else c for c in hdu.columns]
        if not any(c.name.upper() == clname.upper() for c in hdu.columns):
            columns.append(column)
        table = table_from_columns(hdu, columns)
        if histkw:
            table.header.add_history(f"fcalc: {clname} = {expr}")
        hdus = ([table if i == selection.index else h.copy() for i, h in enumerate(selection.hdulist)]
                if copyall else [primary_of(selection.hdulist), table])
        write(outfile, hdus)
        return {"rows": len(table.data), "format": column.format}
