"""fstatistic: count, sum, mean, standard deviation, minimum and maximum of a column,
as HEASoft's fstatistic."""
from __future__ import annotations

import math

import numpy as np

from tools_registry.ftools.tables import open_table, parse_rows


def fstatistic(infile, colname, outfile, rows="-", minval=None, maxval=None):
    """Statistics of column ``colname`` over ``rows``, counting values in
    [minval, maxval] that are not null (NaN); written to ``outfile`` and returned.
    ``sigma`` is the sample standard deviation (divisor N - 1), as fstatistic's."""
    with open_table(infile) as selection:
        hdu = selection.hdu
        lookup = {n.upper(): n for n in hdu.columns.names}
        if colname.upper() not in lookup:
            raise ValueError(f"colname: no column {colname!r} (columns: {', '.join(hdu.columns.names)})")
        values = np.asarray(hdu.data.field(lookup[colname.upper()]))
        if values.dtype.kind not in "iufb":
            raise ValueError(f"colname: {colname!r} is not a numeric column")
        values = values[parse_rows(rows, len(values))].astype(float).ravel()
    values = values[~np.isnan(values)]
    if minval is not None:
        values = values[values >= float(minval)]
    if maxval is not None:
        values = values[values <= float(maxval)]
    n = len(values)
    stats = {
        "numb": n,
        "sum": float(values.sum()),
        "mean": float(values.mean()) if n else math.nan,
        "sigma": float(values.std(ddof=1)) if n > 1 else math.nan,
        "min": float(values.min()) if n else math.nan,
        "max": float(values.max()) if n else math.nan,
    }
    with open(outfile, "w", encoding="utf-8") as out:
        out.write(f"The number of points used in calculation is: {stats['numb']}\n"
                  f"The sum of the selected column is:           {stats['sum']:.15g}\n"
                  f"The mean of the selected column is:          {stats['mean']:.15g}\n"
                  f"The standard deviation of the selected column is: {stats['sigma']:.15g}\n"
                  f"The minimum of selected column is:           {stats['min']:.15g}\n"
                  f"The maximum of selected column is:           {stats['max']:.15g}\n")
    return stats
