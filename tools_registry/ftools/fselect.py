"""fselect: the rows of a table for which an expression is true, as HEASoft's fselect."""
from __future__ import annotations

from tools_registry.ftools.tables import filter_rows, open_table, primary_of, write


def fselect(infile, outfile, expr, copyall=True, histkw=True):
    """Write the rows of ``infile``'s table where ``expr`` holds; see docs/ftools.md."""
    with open_table(infile) as selection:
        before = len(selection.hdu.data)
        selected = filter_rows(selection.hdu, expr, "expr")
        if histkw:
            selected.header.add_history(f"fselect: kept rows where {expr}")
        hdus = ([selected if i == selection.index else h.copy() for i, h in enumerate(selection.hdulist)]
                if copyall else [primary_of(selection.hdulist), selected])
        write(outfile, hdus)
        return {"rows_in": before, "rows_out": len(selected.data)}
