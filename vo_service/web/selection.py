"""The data-selection form over ``integral.scw``, turned into ADQL.

``build(form)`` reads the form's fields (a mapping of strings, as a query string gives
them) and returns a :class:`Selection`: the ADQL query that the page sends to
``/tap/sync``, the resolved position, and one message per field that could not be read.
Pure functions; the page, its tests and its documentation share them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from integral import time as itime
from integral.instruments import BY_NAME as INSTRUMENT_BY_NAME
from tap_catalog.scw_columns import FIXED_COLUMNS

from . import targets

#: the instruments with a good-time column, (name, label) in the form's order
INSTRUMENTS = tuple((name, INSTRUMENT_BY_NAME[name].label)
                    for name in ("isgri", "picsit", "spi", "jemx1", "jemx2", "omc"))
#: the archives' window types ('other': neither a stable pointing nor a planned slew)
SCW_TYPES = ("pointing", "slew", "other")
#: coordinate systems of the position field: (value, label)
FRAMES = {"icrs": "equatorial (ICRS)", "galactic": "Galactic (l, b)"}
STATUSES = ("public", "private")
DEFAULT_RADIUS = 5.0      #: deg: about the half-width of the ISGRI partially coded field at 50 %
DEFAULT_MAXREC = 1000
#: the most rows the page fetches and draws (more: download them, or ask TAP directly)
MAXREC_LIMIT = 20_000
#: MJD bounds of plausible INTEGRAL times (launch 2002-10-17 to beyond the end of operations)
MJD_RANGE = (52000.0, 62000.0)

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@dataclass
class Position:
    ra: float
    dec: float
    radius: float
    name: str | None = None  #: the target's name when it was resolved from one


@dataclass
class Selection:
    adql: str
    position: Position | None = None
    maxrec: int = DEFAULT_MAXREC
    errors: dict[str, str] = field(default_factory=dict)
    #: human-readable summary of the constraints, for the page's heading
    summary: list[str] = field(default_factory=list)


def _number(text: str) -> float | None:
    text = text.strip()
    return float(text) if _NUMBER.match(text) else None


def parse_position(text: str, frame: str = "icrs") -> tuple[float, float, str | None]:
    """ICRS (RA, Dec) in degrees and the name, of a target name from the built-in table
    or of coordinates: decimal degrees ("83.633 22.014", "83.633, +22.014") or
    sexagesimal ("05 34 31.9 +22 00 52", "05h34m31.9s +22d00m52s") in ICRS, or Galactic
    longitude and latitude in degrees ("184.557 -5.784") with ``frame="galactic"``.
    Raises ValueError saying what was expected."""
    target = targets.resolve(text)
    if target is not None:
        return target.ra, target.dec, target.name
    parts = text.replace(",", " ").split()
    decimal = len(parts) == 2 and all(_number(p) is not None for p in parts)
    if frame == "galactic":
        if not decimal:
            raise ValueError(f"{text!r}: Galactic coordinates are two numbers of degrees, l and b ('184.557 -5.784')")
        lon, lat = float(parts[0]), float(parts[1])
        if not (0.0 <= lon < 360.0 and -90.0 <= lat <= 90.0):
            raise ValueError(f"Galactic longitude must be in [0, 360) and latitude in [-90, 90] deg, not {lon:g}, {lat:g}")
        from astropy.coordinates import SkyCoord  # a heavy import, for Galactic positions only

        icrs = SkyCoord(lon, lat, unit="deg", frame="galactic").icrs
        return float(icrs.ra.deg) % 360.0, float(icrs.dec.deg), None
    if decimal:
        ra, dec = float(parts[0]), float(parts[1])
    else:
        try:
            # a heavy import, for sexagesimal positions only
            from astropy import units as u
            from astropy.coordinates import SkyCoord

            coord = SkyCoord(text.replace(",", " "), unit=(u.hourangle, u.deg), frame="icrs")
        except Exception:
            known = ", ".join(t.name for t in targets.TARGETS[:8])
            raise ValueError(f"{text!r} is neither a known target name ({known}, ...) nor coordinates "
                             "(decimal degrees '83.633 22.014' or sexagesimal '05 34 31.9 +22 00 52')")
        ra, dec = float(coord.ra.deg), float(coord.dec.deg)
    if not (0.0 <= ra < 360.0):
        raise ValueError(f"right ascension must be in [0, 360) deg, not {ra:g}")
    if not (-90.0 <= dec <= 90.0):
        raise ValueError(f"declination must be in [-90, 90] deg, not {dec:g}")
    return ra, dec, None


def parse_time(text: str) -> float:
    """MJD (UTC, as start_time) of an ISO-8601 UTC date or timestamp, of a number read as an
    MJD, or of a number after "MJD" or "IJD" (INTEGRAL Julian Date, TT: MJD(TT) − 51544)."""
    prefix, _, rest = text.strip().partition(" ")
    scale = prefix.lower() if prefix.lower() in ("mjd", "ijd") else None
    number = _number(rest if scale else text)
    if scale and number is None:
        raise ValueError(f"{text!r}: a number must follow {prefix}")
    if number is not None:
        mjd = itime.mjd_from_ijd(number) if scale == "ijd" else number
    else:
        try:
            mjd = itime.mjd_from_iso(text)
        except ValueError:
            raise ValueError(f"{text!r} is neither an ISO date (2003-03-01, 2003-03-01T12:00:00) nor an MJD "
                             "(52699.5, MJD 52699.5) nor an IJD (IJD 1155.5)")
    if not (MJD_RANGE[0] <= mjd <= MJD_RANGE[1]):
        raise ValueError(f"{text!r} (MJD {mjd:.3f}) is outside the INTEGRAL era "
                         f"(MJD {MJD_RANGE[0]:.0f} to {MJD_RANGE[1]:.0f})")
    return mjd


def _fmt(value: float) -> str:
    """A float as ADQL text: no exponent, no trailing zeros."""
    return f"{value:.6f}".rstrip("0").rstrip(".") if not float(value).is_integer() else str(int(value))


def _date(mjd: float) -> str:
    """An MJD as the page says it: the date alone at midnight, else to the second."""
    iso = itime.iso_from_mjd(mjd, precision=0)
    return iso[:10] if iso.endswith("T00:00:00") else iso.replace("T", " ")


def build(form: Mapping[str, str]) -> Selection:
    """The ADQL query of the selection form's fields."""
    errors: dict[str, str] = {}
    where: list[str] = []
    summary: list[str] = []
    columns = list(FIXED_COLUMNS)
    position = None

    def get(name: str) -> str:
        return (form.get(name) or "").strip()

    target = get("target")
    radius_text = get("radius")
    radius = DEFAULT_RADIUS
    if radius_text:
        radius = _number(radius_text)
        if radius is None or not (0 < radius <= 180):
            errors["radius"] = f"the radius must be a number of degrees in (0, 180], not {radius_text!r}"
            radius = DEFAULT_RADIUS
    frame = get("frame") or "icrs"
    if frame not in FRAMES:
        errors["frame"] = f"the coordinate system must be one of {', '.join(FRAMES)}"
        frame = "icrs"
    if target:
        try:
            ra, dec, name = parse_position(target, frame)
        except ValueError as err:
            errors["target"] = str(err)
        else:
            position = Position(ra, dec, radius, name)
            centre = f"POINT('ICRS', {_fmt(ra)}, {_fmt(dec)})"
            columns.append(f"DISTANCE(POINT('ICRS', ra, dec), {centre}) AS dist")
            where.append(f"1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {_fmt(ra)}, {_fmt(dec)}, {_fmt(radius)}))")
            label = name or (f"l, b = {target}" if frame == "galactic" else f"RA {ra:.4f}°, Dec {dec:+.4f}°")
            summary.append(f"within {radius:g}° of {label}")

    times = {}
    for key in ("start", "end"):
        text = get(key)
        if text:
            try:
                times[key] = parse_time(text)
            except ValueError as err:
                errors[key] = str(err)
    if "start" in times and "end" in times and times["end"] < times["start"]:
        errors["end"] = "the end of the time range is before its start"
    else:
        if "start" in times:
            where.append(f"end_time >= {_fmt(round(times['start'], 6))}")
        if "end" in times:
            where.append(f"start_time <= {_fmt(round(times['end'], 6))}")
        if "start" in times and "end" in times:
            summary.append(f"from {_date(times['start'])} to {_date(times['end'])}")
        elif times:
            summary.append(f"after {_date(times['start'])}" if "start" in times else f"before {_date(times['end'])}")

    scw_type = get("scw_type")
    if scw_type:
        if scw_type not in SCW_TYPES:
            errors["scw_type"] = f"the science window type must be one of {', '.join(SCW_TYPES)}"
        else:
            where.append(f"scw_type = '{scw_type}'")
            summary.append(f"{scw_type}s only")
    status = get("status")
    if status:
        if status not in STATUSES:
            errors["status"] = f"the status must be one of {', '.join(STATUSES)}"
        else:
            where.append(f"status = '{status}'")
            summary.append(f"{status} data only")

    for instrument, label in INSTRUMENTS:
        text = get(f"min_{instrument}")
        if not text:
            continue
        value = _number(text)
        if value is None or value < 0:
            errors[f"min_{instrument}"] = f"the minimum good time of {label} must be a number of seconds ≥ 0"
        elif value > 0:
            where.append(f"good_{instrument} >= {_fmt(value)}")
            summary.append(f"{label} good time ≥ {value:g} s")

    revs = {}
    for key in ("rev_min", "rev_max"):
        text = get(key)
        if text:
            if not text.isdigit():
                errors[key] = f"a revolution is a whole number ≥ 0, not {text!r}"
            else:
                revs[key] = int(text)
    if "rev_min" in revs and "rev_max" in revs and revs["rev_max"] < revs["rev_min"]:
        errors["rev_max"] = "the last revolution is before the first"
    elif revs:
        if "rev_min" in revs:
            where.append(f"revolution >= {revs['rev_min']}")
        if "rev_max" in revs:
            where.append(f"revolution <= {revs['rev_max']}")
        summary.append("revolutions " + f"{revs.get('rev_min', '…')}–{revs.get('rev_max', '…')}")

    maxrec = DEFAULT_MAXREC
    text = get("maxrec")
    if text:
        if not text.isdigit() or not (1 <= int(text) <= MAXREC_LIMIT):
            errors["maxrec"] = f"the number of rows must be a whole number from 1 to {MAXREC_LIMIT}"
        else:
            maxrec = int(text)

    lines = [f"SELECT TOP {maxrec} " + ", ".join(columns), "FROM integral.scw"]
    for i, condition in enumerate(where):
        lines.append(("WHERE " if i == 0 else "  AND ") + condition)
    lines.append("ORDER BY start_time")
    return Selection("\n".join(lines), position, maxrec, errors, summary)


def is_empty(form: Mapping[str, str]) -> bool:
    """True when no selection field is filled in (the page then shows only the form)."""
    names = ["target", "start", "end", "scw_type", "status", "rev_min", "rev_max"]
    names += [f"min_{i}" for i, _ in INSTRUMENTS]
    return not any((form.get(n) or "").strip() for n in names)

