"""ftcopy: copy a FITS file or one filtered table of it, as HEASoft's ftcopy.

``ftcopy 'in.fits[EVENTS][PHA > 5][col TIME; PHA]' out.fits``: with ``copyall`` (the
default) the output holds every HDU of the input, the selected one replaced by its
filtered copy; without, only the primary array and the filtered table. A bare file name
copies the whole file.
"""
from __future__ import annotations

from tools_registry.filename import parse
from tools_registry.ftools.tables import open_fits, open_table, primary_of, write


def ftcopy(infile, outfile, copyall=True):
    """Copy ``infile`` (an extended file name) to ``outfile``; see docs/ftools.md."""
    name = parse(infile)
    if name.hdu is None and not name.filters:
        with open_fits(name.path) as hdulist:
            write(outfile, [h.copy() for h in hdulist])
            return {"hdus": len(hdulist)}
    with open_table(infile) as selection:
        if copyall:
            hdus = [selection.hdu if i == selection.index else h.copy() for i, h in enumerate(selection.hdulist)]
        else:
            hdus = [primary_of(selection.hdulist), selection.hdu]
        write(outfile, hdus)
        return {"rows": len(selection.hdu.data), "columns": len(selection.hdu.columns)}
