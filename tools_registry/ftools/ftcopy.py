"""ftcopy: copy a FITS file or one filtered table of it, as HEASoft's ftcopy.

``ftcopy 'in.fits[EVENTS][PHA > 5][col TIME; PHA]' out.fits``: with ``copyall`` (the
default) the output holds every HDU of the input, the selected one replaced by its
filtered copy; without, only the primary array and the filtered table. A bare file name
copies the whole file. An image section (``in.fits[ISGR-MOSA-IMA,2][101:200,101:200]``)
is copied in the same way: in place of its image with copyall, else after the primary
array (or as the primary array, when it is cut from it).
"""
from __future__ import annotations

from tools_registry.filename import parse
from tools_registry.ftools.tables import open_fits, open_hdu, open_table, primary_of, write


def ftcopy(infile, outfile, copyall=True):
    """Copy ``infile`` (an extended file name) to ``outfile``; see docs/ftools.md."""
    name = parse(infile)
    if name.hdu is None and not name.filters and name.section is None:
        with open_fits(name.path) as hdulist:
            write(outfile, [h.copy() for h in hdulist])
            return {"hdus": len(hdulist)}
    if name.section is not None:
        with open_hdu(infile) as selection:
            cut = selection.hdu
            if copyall:
                hdus = [cut if i == selection.index else h.copy() for i, h in enumerate(selection.hdulist)]
            else:
                hdus = [cut] if selection.index == 0 else [primary_of(selection.hdulist), cut]
            write(outfile, hdus)
            return {"hdus": len(hdus), "shape": list(cut.data.shape[::-1])}
    with open_table(infile) as selection:
        if copyall:
            hdus = [selection.hdu if i == selection.index else h.copy() for i, h in enumerate(selection.hdulist)]
        else:
            hdus = [primary_of(selection.hdulist), selection.hdu]
        write(outfile, hdus)
        return {"rows": len(selection.hdu.data), "columns": len(selection.hdu.columns)}
