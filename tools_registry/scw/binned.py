"""Binned light curves (OGIP/93-003 "binned data", OSA ``*-SRC.-LCR``, SPI-ACS rates):
reading their rows and rebinning them into wider bins.

A row is a bin: its time stamp (``TIME`` + ``TIMEZERO``) lies at ``TIMEPIXR`` (default
0.5, FITS's) of its width; the width is the row's ``TIMEDEL`` column, else twice OSA's
half-width ``XAX_E``, else the ``TIMEDEL`` keyword; its exposure is ``FRACEXP`` (default
1) times the width. The value is a rate (its unit is per second, or its name holds
RATE) or a number of counts, with its error column (``ERROR``; ``BERROR`` for
``BRATE``; ``BACKE`` for ``BACKV``; ``<NAME>_ERR``), or Poisson's when there is none.

Rebinning puts each row into the output bin that holds its centre and, per bin,
sums exposures, counts (a rate times its exposure) and squared errors of the counts:
``RATE = sum(r e) / sum(e)`` (rates weighted by exposure),
``ERROR = sqrt(sum((s e)^2)) / sum(e)`` (errors in quadrature).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy import units as u

#: value column -> its error column, beside the <NAME>_ERR rule
ERROR_COLUMNS = {"RATE": "ERROR", "COUNTS": "ERROR", "BRATE": "BERROR", "BACKV": "BACKE"}
#: value columns that make a table a binned light curve, in the order they are chosen
VALUE_COLUMNS = ("RATE", "COUNTS")


@dataclass
class Rows:
    """The usable rows of a binned light curve, times in the time column's unit."""

    start: np.ndarray
    width: np.ndarray
    exposure: np.ndarray  # s
    counts: np.ndarray  # value x exposure for rates, the value for counts
    count_errors: np.ndarray
    value_name: str
    is_rate: bool
    poisson: bool  # errors from sqrt(counts), the file having no error column
    skipped: int  # rows in the range asked for without a value, an error or exposure (width > 0)

    @property
    def centre(self) -> np.ndarray:
        return self.start + self.width / 2


def is_light_curve(hdu) -> bool:
    names = {n.upper() for n in hdu.columns.names}
    return str(hdu.header.get("HDUCLAS1", "")).strip().upper() == "LIGHTCURVE" or bool(names & set(VALUE_COLUMNS))


def _lookup(hdu):
    return {n.upper(): n for n in hdu.columns.names}


def _is_rate(name: str, unit: str | None) -> bool:
    text = (unit or "").replace(" ", "").lower()
    if text:
        return text.endswith(("/s", "s-1", "s**-1", "s^-1", "s**(-1)"))
    return "RATE" in name.upper()


def read(hdu, time_name: str, system, column: str | None, rows_wanted) -> Rows:
    """The rows of ``hdu`` that have a value, an error and exposure; ``rows_wanted`` is a
    function of the row centres (absolute times) giving the rows to keep."""
    lookup = _lookup(hdu)
    if column:
        value_name = lookup.get(str(column).upper())
        if value_name is None:
            raise ValueError(f"column: no column {column!r} in the light curve (it has {', '.join(hdu.columns.names)})")
    else:
        value_name = next(lookup[n] for n in VALUE_COLUMNS if n in lookup)
    data = hdu.data
    n = 0 if data is None else len(data)
    unit = hdu.columns[hdu.columns.names.index(value_name)].unit
    is_rate = _is_rate(value_name, unit)

    time = np.asarray(data.field(time_name), dtype=float) + system.timezero
    width = _widths(hdu, lookup, n, system)
    pixr = float(hdu.header.get("TIMEPIXR", 0.5))
    start = time - pixr * width
    fracexp = np.asarray(data.field(lookup["FRACEXP"]), dtype=float) if "FRACEXP" in lookup else np.ones(n)
    exposure = np.where(np.isfinite(fracexp), fracexp, 0.0) * width * system.unit_seconds

    value = np.asarray(data.field(value_name), dtype=float)
    error_name = ERROR_COLUMNS.get(value_name.upper())
    error_name = lookup.get(error_name) if error_name else None
    error_name = error_name or lookup.get(f"{value_name.upper()}_ERR")
    counts = value * exposure if is_rate else value
    if error_name is not None:
        error = np.asarray(data.field(error_name), dtype=float)
        count_errors = error * exposure if is_rate else error
    else:
        count_errors = np.sqrt(np.clip(counts, 0.0, None))

    wanted = rows_wanted(start + width / 2)
    usable = wanted & (np.isfinite(time) & np.isfinite(width) & np.isfinite(value) & np.isfinite(count_errors)
                       & (exposure > 0))
    return Rows(start[usable], width[usable], exposure[usable], counts[usable], count_errors[usable],
                value_name, is_rate, error_name is None, int(np.count_nonzero(wanted & ~usable)))


def _widths(hdu, lookup, n, system) -> np.ndarray:
    if "TIMEDEL" in lookup:
        column = hdu.columns[hdu.columns.names.index(lookup["TIMEDEL"])]
        factor = system.keyword_factor if not column.unit else _factor(column.unit, system)
        return np.asarray(hdu.data.field(lookup["TIMEDEL"]), dtype=float) * factor
    if "XAX_E" in lookup:  # OSA: the half-width of each bin, in the time column's unit
        return 2.0 * np.asarray(hdu.data.field(lookup["XAX_E"]), dtype=float)
    if "TIMEDEL" in hdu.header:
        return np.full(n, float(hdu.header["TIMEDEL"]) * system.keyword_factor)
    raise ValueError("infile: the light curve gives no bin width (no TIMEDEL column or keyword, no XAX_E column)")


def _factor(unit: str, system) -> float:
    try:
        return u.Unit(unit.strip()).to(u.s) / system.unit_seconds
    except (ValueError, u.UnitConversionError) as error:
        raise ValueError(f"infile: TIMEDEL's unit {unit!r} is not a time unit") from error


def rebin(rows: Rows, origin: float, width: float, n_bins: int):
    """Per output bin: exposure (s), counts, squared count errors and rows summed."""
    index = np.floor((rows.centre - origin) / width).astype(np.int64)
    inside = (index >= 0) & (index < n_bins)
    index = index[inside]
    exposure = np.bincount(index, rows.exposure[inside], n_bins)
    counts = np.bincount(index, rows.counts[inside], n_bins)
    squares = np.bincount(index, rows.count_errors[inside] ** 2, n_bins)
    summed = np.bincount(index, minlength=n_bins)
    return exposure, counts, squares, summed


def covered_intervals(rows: Rows) -> np.ndarray:
    """The time the rows cover, as merged [start, stop] intervals (N x 2)."""
    order = np.argsort(rows.start, kind="stable")
    starts, stops = rows.start[order], (rows.start + rows.width)[order]
    if len(starts) == 0:
        return np.zeros((0, 2))
    reach = np.maximum.accumulate(stops)  # the latest stop so far
    tolerance = 1e-6 * float(np.median(rows.width))
    first = np.concatenate([[True], starts[1:] > reach[:-1] + tolerance])
    last = np.concatenate([first[1:], [True]])
    return np.column_stack([starts[first], reach[last]])
