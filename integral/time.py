"""INTEGRAL's time scales, converted with astropy.time (leap seconds included).

The archives give times in three ways, and Hera keeps each one as they give it:

- **MJD, UTC**: HEASARC's ``start_date``/``end_date`` and Hera's ``start_time``/``end_time``
  (astropy's UTC MJD: on a day with a leap second, the day's fraction is of 86,401 s);
- **ISO-8601, UTC**: ISDC's ``start_date``/``end_date`` and Hera's ``start_date``/``end_date``;
- **IJD, TT**: INTEGRAL Julian Date, days since 2000-01-01T00:00:00 TT, i.e. MJD(TT) − 51544
  (``ijd_start``/``ijd_end`` of both archives). IJD = MJD(UTC) − 51544 + (TT − UTC)/86400,
  so IJD and MJD differ by 64.184 s in 2002 and 69.184 s from 2017 on, not by 51544 d;
- **OBT** (on-board time) is a counter of the spacecraft clock: kept as the archives give it,
  never converted (only ISDC's own tools can, with the clock-correlation files).

Every function takes a number or a sequence/array and returns the same shape; NaN (or None,
for ISO text) stays NaN/None, so a column with empty values converts in one call.
"""
from __future__ import annotations

from datetime import datetime, timezone

import erfa
import numpy as np
from astropy.time import Time

#: MJD (TT) of IJD 0, 2000-01-01T00:00:00 TT
IJD_EPOCH_MJD = 51544.0
#: TT − UTC (s) that ISDC's ISO dates use for every date (32 leap seconds, 1999-2005)
ISDC_TT_MINUS_UTC = 64.184
#: INTEGRAL was launched on 2002-10-17 (ESA); the day, UTC: the Announcement of Opportunity
#: cycles count years from it
LAUNCH_DAY = "2002-10-17"
#: INTEGRAL's science operations ended on 2025-02-28: the end of that day, UTC
END_OF_SCIENCE_OPERATIONS = "2025-03-01T00:00:00"


def _floats(values) -> tuple[np.ndarray, bool]:
    """(1-d float array, whether the input was a scalar)."""
    array = np.asarray(values, dtype=float)
    return np.atleast_1d(array), array.ndim == 0


def _shaped(result: np.ndarray, scalar: bool):
    return float(result[0]) if scalar else result


def _convert(values, make, read):
    """Apply ``read(make(finite values))`` to the finite values, NaN elsewhere."""
    array, scalar = _floats(values)
    out = np.full(array.shape, np.nan)
    finite = np.isfinite(array)
    if finite.any():
        out[finite] = read(make(array[finite]))
    return _shaped(out, scalar)


def _ijd_of(t: Time) -> np.ndarray:
    """IJD of times ``t`` (any scale), keeping astropy's two-double precision."""
    tt = t.tt
    return (tt.jd1 - 2400000.5 - IJD_EPOCH_MJD) + tt.jd2


def ijd_from_mjd(mjd_utc):
    """IJD (TT) of MJDs in UTC."""
    return _convert(mjd_utc, lambda v: Time(v, format="mjd", scale="utc"), _ijd_of)


def mjd_from_ijd(ijd):
    """MJD in UTC of IJDs (TT)."""
    return _convert(ijd, lambda v: Time(np.full(v.shape, IJD_EPOCH_MJD), v, format="mjd", scale="tt"),
                    lambda t: t.utc.mjd)


def mjd_from_iso(iso):
    """MJD in UTC of ISO-8601 UTC timestamps or dates: ``2003-03-01``, ``2003-03-01T12:00:00``,
    ``2003-03-01 12:00:00.5``, with an optional ``Z``; leap seconds (``23:59:60``) allowed.
    None or empty text gives NaN. Raises :class:`BadTime` naming the first text that is not a
    timestamp (``index`` is its position)."""
    scalar = isinstance(iso, (str, bytes)) or iso is None
    texts = [iso] if scalar else list(iso)
    cleaned, where = [], []
    for i, value in enumerate(texts):
        text = _clean_iso(value)
        if text is not None:
            cleaned.append(text)
            where.append(i)
    out = np.full(len(texts), np.nan)
    if cleaned:
        try:
            out[where] = Time(cleaned, format="isot", scale="utc").mjd
        except ValueError:
            # find the culprit: the whole column is parsed at once, one by one only on error
            for i, text in zip(where, cleaned):
                try:
                    out[i] = Time(text, format="isot", scale="utc").mjd
                except ValueError:
                    raise BadTime(i, texts[i]) from None
    return _shaped(out, scalar)


class BadTime(ValueError):
    """A text that is not an ISO-8601 timestamp; ``index`` is its position in the input."""

    def __init__(self, index: int, value):
        self.index, self.value = index, value
        super().__init__(f"{value!r} is not an ISO-8601 date or timestamp (UTC)")


def _clean_iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1]
    elif text.endswith("+00:00"):
        text = text[:-6]
    return text.replace(" ", "T", 1)


def mjd_from_isdc_iso(iso):
    """MJD in UTC of ISDC's ISO dates (its ``integral_rev3_scw`` table's ``start_date`` and
    ``end_date``). ISDC writes them from the IJD with TT − UTC frozen at 64.184 s, its value
    from 1999 to 2005: measured on the real tables, ISDC's ISO date equals IJD − 64.184 s cut
    to the second on every row, so after the leap seconds of 2005-2016 it is up to 5 s later
    than UTC. Read back the same way, they give the IJD and the true UTC."""
    tt = mjd_from_iso(iso)  # the text's calendar reading, then moved to where ISDC meant it
    return mjd_from_ijd(tt - IJD_EPOCH_MJD + ISDC_TT_MINUS_UTC / 86400.0)


def iso_from_mjd(mjd_utc, precision: int = 3):
    """ISO-8601 UTC timestamps (``YYYY-MM-DDThh:mm:ss.sss``, ``precision`` decimals of the
    second, rounded) of MJDs in UTC; None where the MJD is NaN. A time within a leap second
    reads ``23:59:60``."""
    array, scalar = _floats(mjd_utc)
    out = np.full(array.shape, None, dtype=object)
    finite = np.isfinite(array)
    if finite.any():
        t = Time(array[finite], format="mjd", scale="utc")
        # ERFA's calendar split, the one astropy's own isot uses, formatted here: 5x faster
        year, month, day, hmsf = erfa.d2dtf("UTC", precision, t.jd1, t.jd2)
        fraction = (lambda f: f".{f:0{precision}d}") if precision > 0 else (lambda f: "")
        out[finite] = [f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{fraction(f)}"
                       for y, mo, d, (h, mi, s, f) in zip(year.tolist(), month.tolist(), day.tolist(),
                                                          hmsf.tolist())]
    if scalar:
        return out[0]
    return out


def iso_from_ijd(ijd, precision: int = 3):
    """ISO-8601 UTC timestamps of IJDs (TT)."""
    return iso_from_mjd(mjd_from_ijd(ijd), precision)


def now_mjd() -> float:
    """The current time as MJD in UTC."""
    return float(Time.now().utc.mjd)


def mjd_from_datetime(moment: datetime) -> float:
    """MJD in UTC of a datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return float(Time(moment, scale="utc").mjd)


def mjd_from_any(values):
    """MJD in UTC of mixed values as files hold them: numbers (or numeric text) are MJDs in
    UTC, text that is not a number is ISO-8601 UTC, datetimes are taken as UTC; None, empty
    text and NaN give NaN. Raises :class:`BadTime` (with ``index``) on other text."""
    scalar = not isinstance(values, (list, tuple, np.ndarray))
    items = [values] if scalar else list(values)
    out = np.full(len(items), np.nan)
    texts, where = [], []
    for i, value in enumerate(items):
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, (int, float, np.integer, np.floating)):
            out[i] = float(value)
            continue
        if isinstance(value, datetime):
            texts.append(value)
            where.append(i)
            continue
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        try:
            out[i] = float(text)
        except ValueError:
            if text.strip():
                texts.append(text)
                where.append(i)
    if texts:
        try:
            out[where] = mjd_from_iso(texts)
        except BadTime as err:
            raise BadTime(where[err.index], err.value) from None
    return _shaped(out, scalar)


END_OF_SCIENCE_OPERATIONS_MJD = float(mjd_from_iso(END_OF_SCIENCE_OPERATIONS))
