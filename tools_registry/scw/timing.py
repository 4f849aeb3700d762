"""The time system of a FITS time column, after OGIP/93-003 and FITS 4.0 section 9.

A time column counts ``TIMEUNIT`` (or the column's own unit) since ``MJDREF``
(``MJDREFI`` + ``MJDREFF``) in the scale ``TIMESYS``; ``TIMEZERO`` (in ``TIMEUNIT``) is
added to every value. INTEGRAL's OSA products count days (IJD) since MJD 51544.0 TT;
the SPI-ACS rates count seconds since the same epoch, relative to a ``TIMEZERO``.
:func:`of` reads these keywords; :meth:`TimeSystem.utc_mjd` converts times to MJD in
UTC with astropy.time (leap seconds included).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy import units as u
from astropy.time import Time

#: TIMESYS values -> astropy time scale and an offset in seconds to add (GPS = TAI - 19 s)
SCALES = {"TT": ("tt", 0.0), "TDT": ("tt", 0.0), "TAI": ("tai", 0.0), "IAT": ("tai", 0.0),
          "UTC": ("utc", 0.0), "TDB": ("tdb", 0.0), "TCB": ("tcb", 0.0), "TCG": ("tcg", 0.0),
          "GPS": ("tai", 19.0)}


@dataclass(frozen=True)
class TimeSystem:
    unit: str  # the time column's unit, as written
    unit_seconds: float
    timezero: float  # TIMEZERO in the column's unit
    keyword_factor: float  # TIMEUNIT (of TIMEZERO, TIMEDEL, TSTART, TSTOP) in the column's unit
    timesys: str
    mjdref: tuple[float, float] | None  # integer and fractional day, when the file gives one

    @property
    def convertible(self) -> bool:
        return self.mjdref is not None and self.timesys in SCALES

    def utc_mjd(self, times) -> np.ndarray | None:
        """MJD (UTC) of ``times`` (the column's unit, TIMEZERO included); None when the file
        gives no MJDREF or a TIMESYS astropy does not know."""
        if not self.convertible:
            return None
        scale, offset = SCALES[self.timesys]
        days = (np.asarray(times, dtype=float) * self.unit_seconds + offset) / 86400.0
        return Time(self.mjdref[0], self.mjdref[1] + days, format="mjd", scale=scale).utc.mjd

    def utc_iso(self, time) -> str | None:
        mjd = self.utc_mjd([time])
        return None if mjd is None else Time(mjd[0], format="mjd", scale="utc").isot


def of(hdu, time_name: str) -> TimeSystem:
    """The time system of column ``time_name`` of table ``hdu``; ValueError for a unit
    that is not a time."""
    header = hdu.header
    column = hdu.columns[[n.lower() for n in hdu.columns.names].index(time_name.lower())]
    unit = (column.unit or header.get("TIMEUNIT") or "s").strip()
    keyword_unit = (header.get("TIMEUNIT") or unit).strip()
    try:
        unit_seconds = u.Unit(unit).to(u.s)
        keyword_seconds = u.Unit(keyword_unit).to(u.s)
    except (ValueError, u.UnitConversionError) as error:
        raise ValueError(f"timecol: unit {unit!r} (or TIMEUNIT {keyword_unit!r}) is not a time unit") from error
    timezero = float(header.get("TIMEZERO", 0.0)) * keyword_seconds / unit_seconds
    if "MJDREFI" in header or "MJDREFF" in header:
        mjdref = (float(header.get("MJDREFI", 0)), float(header.get("MJDREFF", 0.0)))
    elif "MJDREF" in header:
        whole = float(header["MJDREF"])
        mjdref = (float(np.floor(whole)), whole - float(np.floor(whole)))
    else:
        mjdref = None
    timesys = str(header.get("TIMESYS", "UTC")).strip().upper()  # FITS's default scale
    return TimeSystem(unit, unit_seconds, timezero, keyword_seconds / unit_seconds, timesys, mjdref)
