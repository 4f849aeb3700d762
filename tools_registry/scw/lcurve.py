"""lcurve: an OGIP light curve from a FITS event list, or a binned light curve rebinned.

Event lists: each bin's exposure is its overlap with the GTIs (so a bin half in a gap
has FRACEXP 0.5), events outside the GTIs are not counted, RATE = counts / exposure
and ERROR = sqrt(counts) / exposure. Binned light curves (OSA ISGRI and JEM-X
``*-SRC.-LCR``, SPI-ACS rates, any OGIP rate file): their rows are rebinned by
:mod:`tools_registry.scw.binned`, rates weighted by exposure and errors added in
quadrature. Anything else is refused. Times are the file's own (``TIME`` + ``TIMEZERO``,
in its unit, since MJDREF in TIMESYS), with MJD (UTC) beside them
(:mod:`tools_registry.scw.timing`). Bins without exposure are dropped. The light curve
is written as an OGIP/93-003 RATE extension followed by the GTIs used, and plotted
with error bars.
"""

import math

import numpy as np
from astropy import units as u
from astropy.io import fits
from matplotlib.figure import Figure

from tools_registry import compressed
from tools_registry.filename import output_path, split_input
from tools_registry.ftools.tables import hdu_index
from tools_registry.scw import binned, timing

MAX_BINS = 10_000_000
CHUNK_ROWS = 1_000_000
PLOTTED_GAPS = 500

# Keywords describing the observation and its time system, copied from the event list.
_COPIED_KEYWORDS = (
    "TELESCOP", "INSTRUME", "DETNAM", "FILTER", "OBJECT", "RA_OBJ", "DEC_OBJ", "EQUINOX",
    "RADECSYS", "RADESYS", "DATE-OBS", "DATE-END", "TIMESYS", "MJDREF", "MJDREFI", "MJDREFF",
    "TIMEREF", "TASSIGN", "CLOCKCOR", "TIERRELA", "TIERABSO", "OBS_ID", "REVOL", "SWID",
    "E_MIN", "E_MAX", "EUNIT", "CHANTYPE", "CHANMIN", "CHANMAX", "NAME", "SOURCEID",
    "BACKAPP", "DEADAPP", "VIGNAPP",
)
#: HDUCLAS1 of tables that hold neither events nor a light curve
_NOT_TIME_SERIES = {"SPECTRUM", "RESPONSE", "GTI", "IMAGE", "EBOUNDS"}


def lcurve(infile, outfile, plotfile, binsize, timecol="TIME", column=None, tstart=None,
           tstop=None, gtiext="GTI", energy_column=None, emin=None, emax=None):
    """Light curve of a FITS event list, or a binned light curve rebinned; see docs/scw_tools.md.

    infile: event list or light curve, optionally with an HDU selection
    (``file.fits[EVENTS]``, ``isgri_lc.fits[ISGR-SRC.-LCR]``).
    outfile, plotfile: paths of the FITS light curve and of the PNG to write.
    binsize: bin width in seconds (> 0).
    timecol: time column. column: for events, a per-event weight column summed instead
    of counting events; for a light curve, the column to rebin (default RATE, else
    COUNTS). tstart, tstop: optional range in the file's unit and time system
    (TIMEZERO included). gtiext: GTI extension name, or "" for none (then an event
    list's TSTART/TSTOP, or tstart/tstop, bound the good time; a light curve's rows
    are its good time, as they are when it has no GTI extension).
    energy_column, emin, emax: optional selection emin <= value <= emax (events only).
    Returns kind, n_bins, total_counts, mean_rate (counts/s), exposure (s), the range
    used, and that range in UTC.
    """
    binsize = _positive_seconds(binsize)
    if tstart is not None and tstop is not None and float(tstart) >= float(tstop):
        raise ValueError(f"tstart ({tstart}) must be before tstop ({tstop})")
    if emin is not None and emax is not None and float(emin) > float(emax):
        raise ValueError(f"emin ({emin}) must not exceed emax ({emax})")
    out_path, plot_path = output_path(outfile), output_path(plotfile)
    path, hdu_spec = split_input(infile)

    try:
        hdulist = compressed.open_fits(path)
    except compressed.TooLarge as error:
        raise ValueError(f"infile: {error}") from None
    except (OSError, ValueError) as error:
        raise ValueError(f"infile: cannot open {path!r} as FITS ({error})") from error
    with hdulist:
        table = _input_table(hdulist, hdu_spec, timecol)
        names = _column_names(table)
        time_name = _time_column(table, names, timecol)
        system = timing.of(table, time_name)
        if binned.is_light_curve(table):
            if energy_column or emin is not None or emax is not None:
                raise ValueError("emin/emax/energy_column select events; a binned light curve has its energy "
                                 f"band already ({_band(table.header)})")
            curve = _rebin_light_curve(hdulist, table, time_name, system, column, binsize, tstart, tstop, gtiext)
        else:
            curve = _bin_events(hdulist, table, names, time_name, system, column, binsize, tstart, tstop,
                                gtiext, energy_column, emin, emax)
        header = table.header

    _write_light_curve(out_path, header, system, time_name, curve, energy_column, emin, emax)
    _plot(plot_path, header, curve["times"], curve["rate"], curve["error"], curve["width"], curve["gti"],
          system.unit)
    gti = curve["gti"]
    return {
        "kind": curve["kind"],
        "n_bins": len(curve["times"]),
        "total_counts": curve["total_counts"],
        "mean_rate": curve["total_counts"] / curve["exposure"],
        "exposure": curve["exposure"],
        "binsize": binsize,
        "tstart": float(gti[0, 0]),
        "tstop": float(gti[-1, 1]),
        "time_system": system.timesys,
        "utc_start": system.utc_iso(gti[0, 0]),
        "utc_stop": system.utc_iso(gti[-1, 1]),
        **curve.get("rows", {}),
    }


def _bin_events(hdulist, events, names, time_name, system, column, binsize, tstart, tstop, gtiext,
                energy_column, emin, emax):
    weight_name = _column(names, column, "column") if column else None
    energy_name = _energy_column(names, energy_column, emin, emax)
    gti, gti_header = _good_time_intervals(hdulist, events, time_name, gtiext, system, tstart, tstop)

    origin = float(tstart) if tstart is not None else gti[0, 0]
    end = float(tstop) if tstop is not None else gti[-1, 1]
    width = binsize / system.unit_seconds
    n_bins = _number_of_bins(end - origin, width)
    edges = np.arange(n_bins + 1) * width
    relative_gti = gti - origin
    exposure = _overlap_with_gti(edges, relative_gti)
    counts, squares = _count_events(events.data, time_name, weight_name, energy_name, emin, emax,
                                    origin - system.timezero, edges, relative_gti)

    keep = exposure > 0
    exposure_s = exposure[keep] * system.unit_seconds
    counts, squares = counts[keep], squares[keep]
    weighted = weight_name is not None
    history = [f"{time_name} of the events binned by {width} {system.unit}, GTIs honoured"]
    if weighted:
        history.append("COUNTS is a sum of per-event weights; ERROR = sqrt(sum w^2)/exposure")
    total = float(np.sum(counts))
    return {
        "kind": "event list", "gti": gti, "gti_header": gti_header, "width": width,
        "times": origin + (edges[:-1][keep] + width / 2),
        "counts": counts, "integer_counts": not weighted,
        "rate": counts / exposure_s, "error": np.sqrt(squares) / exposure_s,
        "fracexp": exposure[keep] / width, "exposure": float(np.sum(exposure_s)),
        "total_counts": total if weighted else int(round(total)),
        "history": history, "energy_name": energy_name, "classes": ("TOTAL", "gross counts, no background subtracted"),
    }


def _rebin_light_curve(hdulist, table, time_name, system, column, binsize, tstart, tstop, gtiext):
    gti_hdu = _gti_of_light_curve(hdulist, gtiext)
    gti = _read_gti(gti_hdu, table, system) if gti_hdu is not None else None

    def wanted(centre):
        keep = np.ones(len(centre), dtype=bool)
        if tstart is not None:
            keep &= centre >= float(tstart)
        if tstop is not None:
            keep &= centre < float(tstop)
        if gti is not None:
            interval = np.searchsorted(gti[:, 0], centre, side="right") - 1
            keep &= (interval >= 0) & (centre < gti[np.clip(interval, 0, None), 1])
        return keep

    rows = binned.read(table, time_name, system, column, wanted)
    if len(rows.start) == 0:
        raise ValueError("no good time: the light curve has no row with exposure"
                         + (" between tstart and tstop" if tstart is not None or tstop is not None else "")
                         + (" inside its GTIs" if gti is not None else ""))
    width = binsize / system.unit_seconds
    widest = float(np.max(rows.width))
    if width < widest * (1 - 1e-6):
        raise ValueError(f"binsize: {binsize:g} s is narrower than the light curve's bins "
                         f"({widest * system.unit_seconds:.6g} s); a binned light curve can only be rebinned "
                         f"into bins at least as wide")
    origin = float(tstart) if tstart is not None else float(np.min(rows.start))
    end = float(tstop) if tstop is not None else float(np.max(rows.start + rows.width))
    n_bins = _number_of_bins(end - origin, width)
    exposure, counts, squares, _ = binned.rebin(rows, origin, width, n_bins)
    keep = exposure > 0
    exposure, counts, squares = exposure[keep], counts[keep], squares[keep]
    covered = binned.covered_intervals(rows)
    if gti is not None:
        covered = _intersect(gti, covered)
    background = bool(table.header.get("BACKAPP", False))
    history = [f"rebinned {rows.value_name} of a binned light curve into {width} {system.unit} bins: "
               f"rates weighted by exposure, errors added in quadrature"]
    if rows.skipped:
        history.append(f"{rows.skipped} rows skipped: no finite value or error, or no exposure (FRACEXP or width <= 0)")
    if rows.poisson:
        history.append(f"{rows.value_name} has no error column: ERROR = sqrt(counts)/exposure (Poisson)")
    return {
        "kind": "light curve", "gti": covered, "gti_header": gti_hdu.header if gti_hdu is not None else None,
        "width": width, "times": origin + (np.flatnonzero(keep) + 0.5) * width,
        "counts": counts, "integer_counts": False,
        "rate": counts / exposure, "error": np.sqrt(squares) / exposure,
        "fracexp": exposure / binsize, "exposure": float(np.sum(exposure)),
        "total_counts": float(np.sum(counts)), "history": history, "energy_name": None,
        "classes": ("NET", "background subtracted") if background else ("TOTAL", "as in the input light curve"),
        "rows": {"rows_used": len(rows.start), "rows_skipped": rows.skipped},
    }


def _gti_of_light_curve(hdulist, gtiext):
    """The GTI extension a light curve names, if any: the default ``GTI`` may be absent
    (the rows are then the good time), a name given otherwise must exist."""
    if not gtiext:
        return None
    try:
        return hdulist[gtiext]
    except KeyError:
        if str(gtiext).upper() == "GTI":
            return None
        raise ValueError(f"gtiext: no extension {gtiext!r} (it has {_hdu_names(hdulist)})") from None


def _intersect(a, b):
    """Intersection of two sorted, merged interval lists (N x 2), in one sweep."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i, 0], b[j, 0]), min(a[i, 1], b[j, 1])
        if hi > lo:
            out.append([lo, hi])
        if a[i, 1] < b[j, 1]:
            i += 1
        else:
            j += 1
    return np.array(out, dtype=float).reshape(-1, 2)


def _band(header):
    low, high = header.get("E_MIN"), header.get("E_MAX")
    return f"{low}-{high} {header.get('EUNIT', 'keV')}".strip() if low is not None and high is not None \
        else "see its header"


def _positive_seconds(binsize):
    try:
        value = float(binsize)
    except (TypeError, ValueError) as error:
        raise ValueError(f"binsize must be a number of seconds, not {binsize!r}") from error
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"binsize must be a positive number of seconds, not {binsize!r}")
    return value


def _input_table(hdulist, hdu_spec, timecol):
    """The table named in the file name, else EVENTS, else the first table with the time
    column; a file with none is neither an event list nor a light curve."""
    if hdu_spec is not None:
        return hdulist[hdu_index(hdulist, hdu_spec, "infile")]
    tables = [hdu for hdu in hdulist if isinstance(hdu, (fits.BinTableHDU, fits.TableHDU))]
    for hdu in tables:
        if hdu.name.upper() == "EVENTS":
            return hdu
    for hdu in tables:
        if timecol.lower() in (name.lower() for name in hdu.columns.names):
            return hdu
    raise ValueError(f"infile: neither an event list nor a light curve: no table has a {timecol} column "
                     f"(it has {_hdu_names(hdulist)})")


def _time_column(table, names, timecol):
    kind = str(table.header.get("HDUCLAS1", "")).strip().upper()
    if kind in _NOT_TIME_SERIES:
        raise ValueError(f"infile: HDU {table.name!r} is neither an event list nor a light curve "
                         f"but a {kind.lower()} table (HDUCLAS1)")
    if str(timecol).lower() not in names:
        raise ValueError(f"timecol: no column {timecol!r} in HDU {table.name!r} (it has "
                         f"{', '.join(table.columns.names)}); without a time column it is neither an event "
                         f"list nor a light curve")
    return names[str(timecol).lower()]


def _hdu_names(hdulist):
    return ", ".join(f"[{index}] {hdu.name or 'PRIMARY'}" for index, hdu in enumerate(hdulist))


def _column_names(hdu):
    return {name.lower(): name for name in hdu.columns.names}


def _column(names, wanted, parameter):
    name = names.get(str(wanted).lower())
    if name is None:
        raise ValueError(f"{parameter}: no column {wanted!r} in the event list (it has {', '.join(names.values())})")
    return name


def _energy_column(names, energy_column, emin, emax):
    if energy_column:
        return _column(names, energy_column, "energy_column")
    if emin is None and emax is None:
        return None
    for default in ("pi", "pha"):
        if default in names:
            return names[default]
    raise ValueError("emin/emax need energy_column: the event list has no PI or PHA column")


def _read_gti(hdu, events, system):
    """START/STOP of a GTI extension in the events' unit and time system (TIMEZERO and
    unit of each HDU applied), as an N x 2 array."""
    names = _column_names(hdu)
    if "start" not in names or "stop" not in names:
        raise ValueError(f"gtiext: extension {hdu.name!r} needs START and STOP columns")
    index = [name.lower() for name in hdu.columns.names].index("start")
    gti_unit = hdu.columns[index].unit or hdu.header.get("TIMEUNIT") or events.header.get("TIMEUNIT", "s")
    try:
        factor = u.Unit(gti_unit.strip()).to(u.s) / system.unit_seconds
    except (ValueError, u.UnitConversionError) as error:
        raise ValueError(f"gtiext: unit {gti_unit!r} is not a time unit") from error
    keyword_unit = hdu.header.get("TIMEUNIT") or gti_unit
    shift = float(hdu.header.get("TIMEZERO", 0.0)) * u.Unit(keyword_unit.strip()).to(u.s) / system.unit_seconds
    starts = np.asarray(hdu.data[names["start"]], dtype=float) * factor + shift
    stops = np.asarray(hdu.data[names["stop"]], dtype=float) * factor + shift
    gti = np.column_stack([starts, stops]).reshape(-1, 2)
    gti = gti[np.isfinite(gti).all(axis=1)]
    if np.any(gti[:, 1] < gti[:, 0]):
        raise ValueError("GTI: an interval has STOP before START")
    return _merge(gti)


def _merge(intervals):
    order = np.argsort(intervals[:, 0], kind="stable")
    merged = []
    for start, stop in intervals[order]:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return np.array(merged, dtype=float).reshape(-1, 2)


def _good_time_intervals(hdulist, events, time_name, gtiext, system, tstart, tstop):
    """The merged, sorted good time intervals (N x 2, the events' unit and system, TIMEZERO
    included) clipped to tstart/tstop, and the GTI extension's header (None without)."""
    gti_header = None
    if gtiext:
        try:
            hdu = hdulist[gtiext]
        except KeyError as error:
            raise ValueError(
                f"gtiext: no extension {gtiext!r} (it has {_hdu_names(hdulist)}); "
                "pass gtiext='' to use the events' TSTART/TSTOP") from error
        gti, gti_header = _read_gti(hdu, events, system), hdu.header
    else:
        first, last = _observation_range(events, time_name, system, tstart, tstop)
        gti = np.array([[first, last]])
    if tstart is not None:
        gti[:, 0] = np.maximum(gti[:, 0], float(tstart))
    if tstop is not None:
        gti[:, 1] = np.minimum(gti[:, 1], float(tstop))
    gti = gti[gti[:, 1] > gti[:, 0]]
    if len(gti) == 0:
        raise ValueError("GTI: no good time (the GTI list is empty, or has no time between tstart and tstop)")
    return gti, gti_header


def _observation_range(events, time_name, system, tstart, tstop):
    """tstart/tstop, else the events' TSTART/TSTOP. OGIP adds TIMEZERO to them; some files
    (SPI-ACS) write them with TIMEZERO already added, so the reading that holds more of
    the events is taken."""
    header = events.header
    given = [tstart, tstop]
    if tstart is None or tstop is None:
        if header.get("TSTART") is None or header.get("TSTOP") is None:
            raise ValueError("without a GTI extension the event list needs TSTART/TSTOP keywords, "
                             "or give tstart and tstop")
        written = np.array([float(header["TSTART"]), float(header["TSTOP"])]) * system.keyword_factor
        readings = [written + system.timezero, written]
        times = np.asarray(events.data.field(time_name), dtype=float) + system.timezero \
            if events.data is not None else np.zeros(0)
        held = [np.count_nonzero((times >= lo) & (times < hi)) for lo, hi in readings]
        chosen = readings[int(np.argmax(held))]
        given = [float(tstart) if tstart is not None else chosen[0],
                 float(tstop) if tstop is not None else chosen[1]]
    return float(given[0]), float(given[1])


def _number_of_bins(span, width):
    exact = span / width
    n_bins = int(round(exact)) if abs(exact - round(exact)) < 1e-9 * max(1.0, exact) else math.ceil(exact)
    n_bins = max(n_bins, 1)
    if n_bins > MAX_BINS:
        raise ValueError(f"binsize gives {n_bins} bins, more than {MAX_BINS}: choose a larger binsize")
    return n_bins


def _overlap_with_gti(edges, gti):
    """Overlap of each bin [edges[i], edges[i+1]) with the (merged, sorted) GTIs."""
    lengths = gti[:, 1] - gti[:, 0]
    before = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    # Good time accumulated up to t is piecewise linear: rising inside GTIs, flat in gaps.
    knots_t = gti.ravel()
    knots_good = np.column_stack([before, before + lengths]).ravel()
    accumulated = np.interp(edges, knots_t, knots_good)
    return np.diff(accumulated)


def _count_events(data, time_name, weight_name, energy_name, emin, emax, origin, edges, gti):
    """Counts (or summed weights) and summed squared weights per bin, events in GTIs only."""
    n_bins = len(edges) - 1
    counts = np.zeros(n_bins)
    squares = np.zeros(n_bins)
    times = data.field(time_name) if data is not None else np.zeros(0)
    for first in range(0, len(times), CHUNK_ROWS):
        rows = slice(first, first + CHUNK_ROWS)
        t = np.asarray(times[rows], dtype=float) - origin
        selected = np.isfinite(t)
        if energy_name is not None:
            energy = np.asarray(data.field(energy_name)[rows], dtype=float)
            if emin is not None:
                selected &= energy >= float(emin)
            if emax is not None:
                selected &= energy <= float(emax)
        interval = np.searchsorted(gti[:, 0], t, side="right") - 1
        selected &= (interval >= 0) & (t < gti[np.clip(interval, 0, None), 1])
        bin_index = np.searchsorted(edges, t, side="right") - 1
        selected &= (bin_index >= 0) & (bin_index < n_bins)
        if weight_name is None:
            weights = np.ones(np.count_nonzero(selected))
        else:
            weights = np.asarray(data.field(weight_name)[rows], dtype=float)[selected]
        counts += np.bincount(bin_index[selected], weights=weights, minlength=n_bins)
        squares += np.bincount(bin_index[selected], weights=weights**2, minlength=n_bins)
    return counts, squares


def _write_light_curve(path, header, system, time_name, curve, energy_column, emin, emax):
    primary = fits.PrimaryHDU()
    for key in _COPIED_KEYWORDS:
        if key in header:
            primary.header[key] = header[key]

    times, width, gti = curve["times"], curve["width"], curve["gti"]
    integer = curve["integer_counts"]
    columns = [
        fits.Column("TIME", "D", unit=system.unit, array=times),
        fits.Column("COUNTS", "J" if integer else "D", unit="count",
                    array=np.rint(curve["counts"]) if integer else curve["counts"]),
        fits.Column("RATE", "D", unit="count/s", array=curve["rate"]),
        fits.Column("ERROR", "D", unit="count/s", array=curve["error"]),
        fits.Column("FRACEXP", "D", array=curve["fracexp"]),
        fits.Column("TIMEDEL", "D", unit=system.unit, array=np.full(len(times), width)),
    ]
    utc = system.utc_mjd(times)
    if utc is not None:
        columns.append(fits.Column("MJD_UTC", "D", unit="d", array=utc))
    rate_hdu = fits.BinTableHDU.from_columns(columns, name="RATE")
    card = rate_hdu.header
    for key in _COPIED_KEYWORDS:
        if key in header:
            card[key] = (header[key], header.comments[key])
    if utc is not None:
        card.comments["TTYPE7"] = f"bin centre, MJD (UTC) from {system.timesys}"
    card.comments["TTYPE1"] = f"bin centre, {system.unit} since MJDREF in {system.timesys}"
    classification, meaning = curve["classes"]
    card["HDUCLASS"] = ("OGIP", "format conforms to OGIP standard")
    card["HDUCLAS1"] = ("LIGHTCURVE", "light curve")
    card["HDUCLAS2"] = (classification, meaning)
    card["HDUCLAS3"] = ("RATE", "values are rates")
    card["HDUVERS"] = ("1.1.0", "version of the format")
    card["TIMESYS"] = (system.timesys, "time scale of TIME, TSTART, TSTOP")
    card["TIMEUNIT"] = (system.unit, "unit of TIME, TSTART, TSTOP, TIMEDEL, TIMEZERO")
    card["TIMEZERO"] = (0.0, "the input's TIMEZERO is included in TIME")
    card["TSTART"] = (float(gti[0, 0]), "start of the first good time interval used")
    card["TSTOP"] = (float(gti[-1, 1]), "end of the last good time interval used")
    card["TIMEDEL"] = (width, "bin width")
    card["TIMEPIXR"] = (0.5, "TIME is the centre of the bin")
    card["EXPOSURE"] = (curve["exposure"], "[s] sum of bin exposures")
    card["ONTIME"] = (curve["exposure"], "[s] good time binned")
    card["TELAPSE"] = (float(gti[-1, 1] - gti[0, 0]) * system.unit_seconds, "[s] TSTOP - TSTART")
    if curve["kind"] == "event list":
        card["BACKAPP"] = (False, "no background subtracted")
        card["DEADAPP"] = (False, "no dead-time correction applied")
        card["VIGNAPP"] = (False, "no vignetting correction applied")
    start_utc, stop_utc = system.utc_iso(gti[0, 0]), system.utc_iso(gti[-1, 1])
    if start_utc is not None:
        card["DATE-OBS"] = (start_utc, "TSTART in UTC")
        card["DATE-END"] = (stop_utc, "TSTOP in UTC")
    for line in curve["history"]:
        card["HISTORY"] = f"Hera lcurve: {line}"
    energy_name = curve["energy_name"]
    if energy_name is not None:
        card["HISTORY"] = f"selected {emin if emin is not None else '-inf'} <= {energy_name} <= {emax if emax is not None else 'inf'}"
        if energy_name.upper() in ("PI", "PHA"):
            if emin is not None:
                card["CHANMIN"] = (float(emin), f"lowest {energy_name.upper()} selected")
            if emax is not None:
                card["CHANMAX"] = (float(emax), f"highest {energy_name.upper()} selected")

    gti_columns = [
        fits.Column("START", "D", unit=system.unit, array=gti[:, 0]),
        fits.Column("STOP", "D", unit=system.unit, array=gti[:, 1]),
    ]
    gti_hdu = fits.BinTableHDU.from_columns(gti_columns, name="GTI")
    gti_header = curve["gti_header"]
    if gti_header is not None:
        for key in _COPIED_KEYWORDS + ("HDUCLASS", "HDUCLAS1", "HDUCLAS2"):
            if key in gti_header:
                gti_hdu.header[key] = gti_header[key]
    gti_hdu.header.setdefault("HDUCLASS", "OGIP")
    gti_hdu.header.setdefault("HDUCLAS1", "GTI")
    gti_hdu.header["TIMESYS"] = system.timesys
    gti_hdu.header["TIMEUNIT"] = system.unit
    gti_hdu.header["TIMEZERO"] = 0.0
    for key in ("MJDREF", "MJDREFI", "MJDREFF"):
        if key in header:
            gti_hdu.header[key] = header[key]
    try:
        fits.HDUList([primary, rate_hdu, gti_hdu]).writeto(path, overwrite=True)
    except OSError as error:
        raise ValueError(f"outfile: cannot write {path!r} ({error})") from error


def _plot(path, header, times, rate, error, width, gti, time_unit):
    origin = gti[0, 0]
    figure = Figure(figsize=(9, 4.5), layout="constrained")
    axes = figure.add_subplot()
    axes.errorbar(times - origin, rate, yerr=error, xerr=width / 2, fmt="o", markersize=3, linewidth=1)
    for stop, start in list(zip(gti[:-1, 1], gti[1:, 0]))[:PLOTTED_GAPS]:
        axes.axvspan(stop - origin, start - origin, color="0.85", zorder=0)
    title = " ".join(str(header.get(key, "")) for key in ("TELESCOP", "INSTRUME", "OBJECT")).strip()
    axes.set_title(title or "light curve")
    axes.set_xlabel(f"time since {origin:.12g} ({time_unit}); grey: outside GTIs")
    axes.set_ylabel("rate (count/s)")
    axes.grid(alpha=0.3)
    try:
        figure.savefig(path, format="png", dpi=100)
    except OSError as error:
        raise ValueError(f"plotfile: cannot write {path!r} ({error})") from error
