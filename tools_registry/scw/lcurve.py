"""lcurve: bin a FITS event list into an OGIP light curve that honours its good time intervals.

Each bin's exposure is its overlap with the GTIs (so a bin half in a gap has
FRACEXP 0.5), events outside the GTIs are not counted, RATE = counts / exposure
and ERROR = sqrt(counts) / exposure; bins without exposure are dropped. The
light curve is written as an OGIP/93-003 RATE extension followed by the GTIs
used, and plotted with error bars.
"""

import math

import numpy as np
from astropy import units as u
from astropy.io import fits
from matplotlib.figure import Figure

from tools_registry import compressed
from tools_registry.filename import output_path, split_input

MAX_BINS = 10_000_000
CHUNK_ROWS = 1_000_000
PLOTTED_GAPS = 500

# Keywords describing the observation and its time system, copied from the event list.
_COPIED_KEYWORDS = (
    "TELESCOP", "INSTRUME", "DETNAM", "FILTER", "OBJECT", "RA_OBJ", "DEC_OBJ", "EQUINOX",
    "RADECSYS", "RADESYS", "DATE-OBS", "DATE-END", "TIMESYS", "MJDREF", "MJDREFI", "MJDREFF",
    "TIMEREF", "TASSIGN", "CLOCKCOR", "TIERRELA", "TIERABSO", "OBS_ID", "REVOL", "SWID",
)


def lcurve(infile, outfile, plotfile, binsize, timecol="TIME", column=None, tstart=None,
           tstop=None, gtiext="GTI", energy_column=None, emin=None, emax=None):
    """Light curve of a FITS event list; see docs/scw_tools.md.

    infile: event list path, optionally with an HDU selection (``file.fits[EVENTS]``).
    outfile, plotfile: paths of the FITS light curve and of the PNG to write.
    binsize: bin width in seconds (> 0).
    timecol: event time column. column: optional per-event weight column summed
    instead of counting events. tstart, tstop: optional range in the units and
    system of the time column. gtiext: GTI extension name, or "" for none (then
    the events' TSTART/TSTOP, or tstart/tstop, bound the good time).
    energy_column, emin, emax: optional selection emin <= value <= emax.
    Returns n_bins, total_counts, mean_rate (counts/s), exposure (s).
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
        events = _events_hdu(hdulist, hdu_spec, timecol)
        header = events.header
        names = _column_names(events)
        time_name = _column(names, timecol, "timecol")
        weight_name = _column(names, column, "column") if column else None
        energy_name = _energy_column(names, energy_column, emin, emax)
        time_unit, unit_seconds = _time_unit(events, time_name)
        gti = _good_time_intervals(hdulist, gtiext, header, unit_seconds, tstart, tstop)

        origin = float(tstart) if tstart is not None else gti[0, 0]
        end = float(tstop) if tstop is not None else gti[-1, 1]
        width = binsize / unit_seconds
        n_bins = _number_of_bins(end - origin, width)
        edges = np.arange(n_bins + 1) * width
        relative_gti = gti - origin
        exposure = _overlap_with_gti(edges, relative_gti)

        counts, squares = _count_events(
            events.data, time_name, weight_name, energy_name, emin, emax,
            origin, edges, relative_gti)
        gti_header = hdulist[gtiext].header if gtiext else None

    keep = exposure > 0
    exposure_s = exposure[keep] * unit_seconds
    counts, squares = counts[keep], squares[keep]
    times = origin + (edges[:-1][keep] + width / 2)
    rate = counts / exposure_s
    error = np.sqrt(squares) / exposure_s
    fracexp = exposure[keep] / width

    total_counts = float(np.sum(counts))
    total_exposure = float(np.sum(exposure_s))
    weighted = weight_name is not None
    _write_light_curve(out_path, header, gti_header, gti, time_name, time_unit, unit_seconds, width,
                       times, counts, rate, error, fracexp, total_exposure, weighted,
                       energy_name, emin, emax)
    _plot(plot_path, header, times, rate, error, width, gti, time_unit)
    return {
        "n_bins": int(np.count_nonzero(keep)),
        "total_counts": total_counts if weighted else int(round(total_counts)),
        "mean_rate": total_counts / total_exposure,
        "exposure": total_exposure,
        "binsize": binsize,
        "tstart": float(gti[0, 0]),
        "tstop": float(gti[-1, 1]),
    }


def _positive_seconds(binsize):
    try:
        value = float(binsize)
    except (TypeError, ValueError) as error:
        raise ValueError(f"binsize must be a number of seconds, not {binsize!r}") from error
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"binsize must be a positive number of seconds, not {binsize!r}")
    return value


def _events_hdu(hdulist, hdu_spec, timecol):
    if hdu_spec is not None:
        try:
            hdu = hdulist[hdu_spec]
        except (KeyError, IndexError) as error:
            raise ValueError(f"infile: no HDU {hdu_spec!r} (it has {_hdu_names(hdulist)})") from error
        if not isinstance(hdu, (fits.BinTableHDU, fits.TableHDU)):
            raise ValueError(f"infile: HDU {hdu_spec!r} is not a table")
        return hdu
    tables = [hdu for hdu in hdulist if isinstance(hdu, (fits.BinTableHDU, fits.TableHDU))]
    for hdu in tables:
        if hdu.name.upper() == "EVENTS":
            return hdu
    for hdu in tables:
        if timecol.lower() in (name.lower() for name in hdu.columns.names):
            return hdu
    raise ValueError(f"infile: no EVENTS extension nor a table with a {timecol} column (it has {_hdu_names(hdulist)})")


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


def _time_unit(events, time_name):
    """The time column's unit as written in the file, and its length in seconds."""
    index = [name.lower() for name in events.columns.names].index(time_name.lower())
    unit = (events.columns[index].unit or events.header.get("TIMEUNIT") or "s").strip()
    try:
        return unit, u.Unit(unit).to(u.s)
    except (ValueError, u.UnitConversionError) as error:
        raise ValueError(f"timecol: unit {unit!r} is not a time unit") from error


def _good_time_intervals(hdulist, gtiext, header, unit_seconds, tstart, tstop):
    """The merged, sorted good time intervals (N×2, event time units) clipped to tstart/tstop."""
    if gtiext:
        try:
            hdu = hdulist[gtiext]
        except KeyError as error:
            raise ValueError(
                f"gtiext: no extension {gtiext!r} (it has {_hdu_names(hdulist)}); "
                "pass gtiext='' to use the events' TSTART/TSTOP") from error
        names = _column_names(hdu)
        if "start" not in names or "stop" not in names:
            raise ValueError(f"gtiext: extension {gtiext!r} needs START and STOP columns")
        index = [name.lower() for name in hdu.columns.names].index("start")
        gti_unit = hdu.columns[index].unit or hdu.header.get("TIMEUNIT") or header.get("TIMEUNIT", "s")
        # Express the GTIs in the events' time system: both may carry their own TIMEZERO and unit.
        factor = u.Unit(gti_unit.strip()).to(u.s) / unit_seconds
        shift = float(hdu.header.get("TIMEZERO", 0.0)) * factor - float(header.get("TIMEZERO", 0.0))
        starts = np.asarray(hdu.data[names["start"]], dtype=float) * factor + shift
        stops = np.asarray(hdu.data[names["stop"]], dtype=float) * factor + shift
    else:
        first = tstart if tstart is not None else header.get("TSTART")
        last = tstop if tstop is not None else header.get("TSTOP")
        if first is None or last is None:
            raise ValueError("without a GTI extension the event list needs TSTART/TSTOP keywords, or give tstart and tstop")
        starts, stops = np.array([float(first)]), np.array([float(last)])

    finite = np.isfinite(starts) & np.isfinite(stops)
    starts, stops = starts[finite], stops[finite]
    if np.any(stops < starts):
        raise ValueError("GTI: an interval has STOP before START")
    if tstart is not None:
        starts = np.maximum(starts, float(tstart))
    if tstop is not None:
        stops = np.minimum(stops, float(tstop))
    useful = stops > starts
    starts, stops = starts[useful], stops[useful]
    if len(starts) == 0:
        raise ValueError("GTI: no good time (the GTI list is empty, or has no time between tstart and tstop)")
    order = np.argsort(starts, kind="stable")
    merged = []
    for start, stop in zip(starts[order], stops[order]):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return np.array(merged, dtype=float)


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


def _write_light_curve(path, header, gti_header, gti, time_name, time_unit, unit_seconds, width, times,
                       counts, rate, error, fracexp, exposure, weighted, energy_name, emin, emax):
    primary = fits.PrimaryHDU()
    for key in _COPIED_KEYWORDS:
        if key in header:
            primary.header[key] = header[key]

    columns = [
        fits.Column("TIME", "D", unit=time_unit, array=times),
        fits.Column("COUNTS", "D" if weighted else "J", unit="count", array=counts if weighted else np.rint(counts)),
        fits.Column("RATE", "D", unit="count/s", array=rate),
        fits.Column("ERROR", "D", unit="count/s", array=error),
        fits.Column("FRACEXP", "D", array=fracexp),
        fits.Column("TIMEDEL", "D", unit=time_unit, array=np.full(len(times), width)),
    ]
    rate_hdu = fits.BinTableHDU.from_columns(columns, name="RATE")
    card = rate_hdu.header
    for key in _COPIED_KEYWORDS:
        if key in header:
            card[key] = (header[key], header.comments[key])
    card["HDUCLASS"] = ("OGIP", "format conforms to OGIP standard")
    card["HDUCLAS1"] = ("LIGHTCURVE", "light curve")
    card["HDUCLAS2"] = ("TOTAL", "gross counts, no background subtracted")
    card["HDUCLAS3"] = ("RATE", "values are rates")
    card["HDUVERS"] = ("1.1.0", "version of the format")
    card["TIMEUNIT"] = (time_unit, "unit of TIME, TSTART, TSTOP, TIMEDEL, TIMEZERO")
    card["TIMEZERO"] = (float(header.get("TIMEZERO", 0.0)), "TIME + TIMEZERO is the time in the TIMESYS")
    card["TSTART"] = (float(gti[0, 0]), "start of the first good time interval used")
    card["TSTOP"] = (float(gti[-1, 1]), "end of the last good time interval used")
    card["TIMEDEL"] = (width, "bin width")
    card["TIMEPIXR"] = (0.5, "TIME is the centre of the bin")
    card["EXPOSURE"] = (exposure, "[s] sum of bin exposures (overlap with GTIs)")
    card["ONTIME"] = (exposure, "[s] good time binned")
    card["TELAPSE"] = (float(gti[-1, 1] - gti[0, 0]) * unit_seconds, "[s] TSTOP - TSTART")
    card["BACKAPP"] = (False, "no background subtracted")
    card["DEADAPP"] = (False, "no dead-time correction applied")
    card["VIGNAPP"] = (False, "no vignetting correction applied")
    card["HISTORY"] = f"Hera lcurve: {time_name} binned by {width} {time_unit}, GTIs honoured"
    if weighted:
        card["HISTORY"] = "COUNTS is a sum of per-event weights; ERROR = sqrt(sum w^2)/exposure"
    if energy_name is not None:
        card["HISTORY"] = f"selected {emin if emin is not None else '-inf'} <= {energy_name} <= {emax if emax is not None else 'inf'}"
        if energy_name.upper() in ("PI", "PHA"):
            if emin is not None:
                card["CHANMIN"] = (float(emin), f"lowest {energy_name.upper()} selected")
            if emax is not None:
                card["CHANMAX"] = (float(emax), f"highest {energy_name.upper()} selected")

    gti_columns = [
        fits.Column("START", "D", unit=time_unit, array=gti[:, 0]),
        fits.Column("STOP", "D", unit=time_unit, array=gti[:, 1]),
    ]
    gti_hdu = fits.BinTableHDU.from_columns(gti_columns, name="GTI")
    if gti_header is not None:
        for key in _COPIED_KEYWORDS + ("HDUCLASS", "HDUCLAS1", "HDUCLAS2"):
            if key in gti_header:
                gti_hdu.header[key] = gti_header[key]
    gti_hdu.header.setdefault("HDUCLASS", "OGIP")
    gti_hdu.header.setdefault("HDUCLAS1", "GTI")
    gti_hdu.header["TIMEUNIT"] = time_unit
    gti_hdu.header["TIMEZERO"] = float(header.get("TIMEZERO", 0.0))
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
