"""scw_coverage: how well a list of science windows covers one or more sources.

For each science window, source and instrument it computes the off-axis angle
(great-circle distance from the spacecraft X axis), the coding fraction of the
instrument's field of view at the source (`integral.instruments`) in the
spacecraft frame that the archives' Z axis or `posangle` fixes (`integral.pointing`), the field
region (fully coded, partially coded, outside) and the effective good time
(good time × coding fraction). It writes that table (FITS or VOTable), a PNG of
the cumulative effective exposure against time, and returns the totals.
"""

import os

import numpy as np
from astropy import units as u
from astropy.table import Column, Table
from astropy.time import Time
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from integral import pointing
from integral.instruments import FIELDS, FULLY_CODED, PARTIALLY_CODED, region
from tools_registry import compressed
from tools_registry.filename import output_path, split_input

DEFAULT_INSTRUMENTS = "isgri,jemx1,jemx2,spi,omc"
PLOTTED_SOURCES = 12

_POINTING_RA = ("ra", "ra_x", "ra_scx", "raj2000")
_POINTING_DEC = ("dec", "dec_x", "dec_scx", "dej2000", "decj2000")
_Z_RA = ("ra_z", "raz", "z_ra", "ra_scz")
_Z_DEC = ("dec_z", "decz", "z_dec", "dec_scz")

_SOURCE_NAME = ("name", "source", "source_name", "src_name", "object", "target", "main_id", "id")
_SOURCE_RA = ("ra", "raj2000", "_raj2000", "ra_icrs", "ra_deg", "ra_j2000", "radeg")
_SOURCE_DEC = ("dec", "dej2000", "_dej2000", "decj2000", "de_icrs", "dec_icrs", "dec_deg", "dec_j2000", "dedeg")


def scw_coverage(scw_table, outfile, plotfile, ra=None, dec=None, sources=None,
                 instruments=DEFAULT_INSTRUMENTS):
    """Coverage of sources by science windows; see docs/scw_tools.md.

    scw_table: path of a VOTable, FITS or CSV table of science windows.
    outfile: path of the coverage table to write (.fits/.fit/.fts or .xml/.vot/.votable).
    plotfile: path of the PNG to write.
    ra, dec: one source position, ICRS degrees; or sources: path of a table of
    sources (name, ra, dec in degrees).
    instruments: comma-separated instrument names (isgri, jemx1, jemx2, spi, omc).
    Returns totals per instrument (seconds) and counts.
    """
    names = _instrument_list(instruments)
    out_path, out_format = _output_table_format(outfile)
    plot_path = output_path(plotfile)
    windows = _read_science_windows(scw_table, names)
    source_names, source_ra, source_dec = _read_sources(ra, dec, sources)

    spacecraft, oriented = pointing.spacecraft_frame(
        windows["ra"], windows["dec"], windows.get("z_ra"), windows.get("z_dec"), windows.get("posangle"))

    blocks = []
    for name, s_ra, s_dec in zip(source_names, source_ra, source_dec):
        source = pointing.source_angles(spacecraft, oriented, s_ra, s_dec)
        for instrument in names:
            fov = FIELDS[instrument]
            fraction, model = fov.coding_fraction(source)
            good = windows[fov.good_column]
            blocks.append({
                "scw_id": windows["scw_id"],
                "source": np.full(len(good), name),
                "instrument": np.full(len(good), instrument),
                "start_time": windows["start_time"],
                "end_time": windows["end_time"],
                "pointing_ra": windows["ra"],
                "pointing_dec": windows["dec"],
                "source_ra": np.full(len(good), s_ra),
                "source_dec": np.full(len(good), s_dec),
                "off_axis": source.off_axis,
                "angle_y": source.angle_y,
                "angle_z": source.angle_z,
                "fov_model": model,
                "fov_region": region(fraction),
                "coding_fraction": fraction,
                "good_time": good,
                "effective_time": good * fraction,
            })

    table = _coverage_table(blocks, windows["orientation_from"])
    _write_table(table, out_path, out_format)
    plotted = _plot_cumulative(table, source_names, names, plot_path)

    result = {
        "n_scw": len(windows["scw_id"]),
        "n_sources": len(source_names),
        "n_rows": len(table),
        "orientation": windows["orientation_from"],
        "n_oriented": int(np.sum(oriented)),
        "plotted_sources": plotted,
    }
    for instrument in names:
        rows = table["instrument"] == instrument
        result[f"good_time_{instrument}"] = float(np.sum(table["good_time"][rows]))
        result[f"effective_time_{instrument}"] = float(np.sum(table["effective_time"][rows]))
        result[f"n_fully_coded_{instrument}"] = int(np.sum(rows & (table["fov_region"] == FULLY_CODED)))
        result[f"n_partially_coded_{instrument}"] = int(np.sum(rows & (table["fov_region"] == PARTIALLY_CODED)))
    return result


def _instrument_list(instruments):
    if isinstance(instruments, str):
        names = [name.strip().lower() for name in instruments.split(",") if name.strip()]
    else:
        names = [str(name).strip().lower() for name in instruments]
    if not names:
        raise ValueError("instruments: name at least one of " + ", ".join(FIELDS))
    unknown = [name for name in names if name not in FIELDS]
    if unknown:
        raise ValueError(f"instruments: unknown {', '.join(unknown)}; known are {', '.join(FIELDS)}")
    return list(dict.fromkeys(names))


def _output_table_format(outfile):
    path = output_path(outfile)
    lower = path.lower()
    if lower.endswith((".fits", ".fit", ".fts", ".fits.gz")):
        return path, "fits"
    if lower.endswith((".xml", ".vot", ".votable")):
        return path, "votable"
    raise ValueError(f"outfile {outfile!r}: the extension must be .fits/.fit/.fts (FITS) or .xml/.vot/.votable (VOTable)")


def _read_table(name, what):
    path, hdu = split_input(name)
    if not os.path.isfile(path):
        raise ValueError(f"{what}: no file {path!r}")
    kwargs = {}
    if hdu is not None:
        kwargs["hdu"] = hdu if isinstance(hdu, int) else hdu[0]
    lower = path.lower()
    if lower.endswith((".csv", ".csv.gz")):
        kwargs["format"] = "ascii.csv"
    try:
        with compressed.plain_copy(path) as plain:
            return Table.read(plain, **kwargs)
    except compressed.TooLarge as error:
        raise ValueError(f"{what}: {error}") from None
    except Exception as error:  # astropy raises many kinds for unreadable files
        raise ValueError(f"{what}: cannot read {path!r} as a table ({error})") from error


def _find(table, aliases):
    """The column of `table` whose name matches one of `aliases`, case-insensitively."""
    by_lower = {name.lower(): name for name in table.colnames}
    for alias in aliases:
        if alias in by_lower:
            return by_lower[alias]
    return None


def _float_column(table, name, unit=None):
    column = table[name]
    if isinstance(column, Time):  # in UTC, the scale of the catalogue's MJDs (integral.time)
        return column.utc.mjd.astype(float)
    if column.dtype.kind not in "fiu":
        raise ValueError(f"column {name!r} is not numeric")
    values = column.filled(np.nan) if np.ma.is_masked(column) else np.asarray(column)
    values = np.asarray(values, dtype=float)
    if unit is not None and getattr(column, "unit", None) is not None:
        try:
            values = (values * column.unit).to_value(unit)
        except u.UnitConversionError as error:
            raise ValueError(f"column {name!r}: unit {column.unit} is not an angle") from error
    return values


def _read_science_windows(scw_table, instruments):
    table = _read_table(scw_table, "scw_table")
    if len(table) == 0:
        raise ValueError("scw_table: the table has no science windows")
    wanted = {
        "scw_id": ("scw_id", "scwid", "scw"),
        "ra": _POINTING_RA,
        "dec": _POINTING_DEC,
        "start_time": ("start_time", "tstart", "start_mjd"),
        "end_time": ("end_time", "tstop", "end_mjd"),
    }
    for instrument in instruments:
        wanted[FIELDS[instrument].good_column] = (FIELDS[instrument].good_column,)
    found = {key: _find(table, aliases) for key, aliases in wanted.items()}
    missing = [key for key, name in found.items() if name is None]
    if missing:
        raise ValueError(f"scw_table: missing column(s) {', '.join(missing)}; it has {', '.join(table.colnames)}")

    windows = {"scw_id": _scw_ids(table[found["scw_id"]])}
    windows["ra"] = _float_column(table, found["ra"], u.deg)
    windows["dec"] = _float_column(table, found["dec"], u.deg)
    windows["start_time"] = _float_column(table, found["start_time"])
    windows["end_time"] = _float_column(table, found["end_time"])
    for instrument in instruments:
        column = FIELDS[instrument].good_column
        good = _float_column(table, found[column], u.s)
        windows[column] = np.where(np.isfinite(good), good, 0.0)  # unknown good time counts as none

    _check_declinations(windows["dec"], found["dec"])

    z_ra, z_dec, posangle = _find(table, _Z_RA), _find(table, _Z_DEC), _find(table, pointing.POSANGLE_NAMES)
    given = []
    if z_ra and z_dec:
        windows["z_ra"] = _float_column(table, z_ra, u.deg)
        windows["z_dec"] = _float_column(table, z_dec, u.deg)
        _check_declinations(windows["z_dec"], z_dec)
        given.append(f"Z axis ({z_ra}, {z_dec})")
    if posangle:
        windows["posangle"] = _float_column(table, posangle, u.deg)
        given.append(f"{posangle} (Z at position angle -{posangle})")
    windows["orientation_from"] = ", else ".join(given) or "none (conservative circular fields)"
    return windows


def _check_declinations(values, name):
    outside = np.isfinite(values) & (np.abs(values) > 90)
    if np.any(outside):
        row = int(np.flatnonzero(outside)[0]) + 1
        raise ValueError(f"scw_table: column {name!r} must lie in [-90, 90] degrees (row {row} has {values[row - 1]})")


def _scw_ids(column):
    """Science window ids as 12-character strings (a CSV reader may have made them integers)."""
    values = np.asarray(column)
    if values.dtype.kind in "iu":
        return np.array([f"{value:012d}" for value in values])
    return _strings(values)


def _strings(column):
    values = np.asarray(column)
    if values.dtype.kind == "S":
        values = np.char.decode(values, "utf-8")
    return np.char.strip(values.astype(str))


def _read_sources(ra, dec, sources):
    if sources is not None and (ra is not None or dec is not None):
        raise ValueError("give either ra/dec or sources, not both")
    if sources is None:
        if ra is None or dec is None:
            raise ValueError("give a source: ra and dec in degrees, or sources (a table of sources)")
        ras, decs = np.array([float(ra)]), np.array([float(dec)])
        names = np.array([position_name(ras[0], decs[0])])
    else:
        table = _read_table(sources, "sources")
        if len(table) == 0:
            raise ValueError("sources: the table has no rows")
        ra_name, dec_name = _find(table, _SOURCE_RA), _find(table, _SOURCE_DEC)
        if ra_name is None or dec_name is None:
            raise ValueError(f"sources: needs ra and dec columns (degrees); it has {', '.join(table.colnames)}")
        ras = _float_column(table, ra_name, u.deg)
        decs = _float_column(table, dec_name, u.deg)
        name_column = _find(table, _SOURCE_NAME)
        if name_column is None:
            names = np.array([f"source_{index + 1}" for index in range(len(table))])
        else:
            names = _strings(table[name_column])
    if not (np.all(np.isfinite(ras)) and np.all(np.isfinite(decs))):
        raise ValueError("source position: ra and dec must be finite numbers (degrees)")
    if np.any(np.abs(decs) > 90):
        raise ValueError("source position: dec must lie in [-90, 90] degrees")
    return names, np.mod(ras, 360.0), decs


def position_name(ra: float, dec: float) -> str:
    """The name of a source given by its position alone, as the table and the plot show
    it (ASCII: FITS strings are)."""
    if not (np.isfinite(ra) and np.isfinite(dec)):
        return f"RA {ra} Dec {dec}"  # refused just after; the name only has to exist
    return f"RA {ra % 360.0:.4f} Dec {dec:+.4f}"


_COLUMNS = {
    # name: (unit, ucd, description)
    "scw_id": (None, "meta.id", "science window identifier"),
    "source": (None, "meta.id;src", "source name"),
    "instrument": (None, "instr", "instrument"),
    "start_time": (u.d, "time.start;obs.exposure", "science window start, MJD"),
    "end_time": (u.d, "time.end;obs.exposure", "science window end, MJD"),
    "pointing_ra": (u.deg, "pos.eq.ra;instr.pointing", "right ascension of the spacecraft X axis"),
    "pointing_dec": (u.deg, "pos.eq.dec;instr.pointing", "declination of the spacecraft X axis"),
    "source_ra": (u.deg, "pos.eq.ra;src", "right ascension of the source"),
    "source_dec": (u.deg, "pos.eq.dec;src", "declination of the source"),
    "off_axis": (u.deg, "pos.angDistance", "great-circle distance of the source from the X axis"),
    "angle_y": (u.deg, "pos.angDistance", "source angle along the spacecraft Y axis (NaN if the roll is unknown)"),
    "angle_z": (u.deg, "pos.angDistance", "source angle along the spacecraft Z axis (NaN if the roll is unknown)"),
    "fov_model": (None, "meta.code", "field geometry used: square, circle or inscribed_circle"),
    "fov_region": (None, "meta.code", "fully_coded, partially_coded or outside"),
    "coding_fraction": (u.dimensionless_unscaled, "arith.factor", "coding fraction of the field at the source, 0..1"),
    "good_time": (u.s, "time.duration;obs.exposure", "good time of the instrument in the science window"),
    "effective_time": (u.s, "time.duration;obs.exposure", "good time times coding fraction"),
}


def _coverage_table(blocks, orientation_from):
    table = Table(meta={"EXTNAME": "COVERAGE", "ORIENT": orientation_from[:68]})
    for name, (unit, ucd, description) in _COLUMNS.items():
        values = np.concatenate([block[name] for block in blocks])
        if values.dtype.kind in "UO":
            values = values.astype(str)
        table[name] = Column(values, unit=unit, description=description, meta={"ucd": ucd})
    return table


def _write_table(table, path, out_format):
    try:
        table.write(path, format=out_format, overwrite=True)
    except OSError as error:
        raise ValueError(f"outfile: cannot write {path!r} ({error})") from error


_LINESTYLES = ("-", "--", "-.", ":", (0, (6, 2, 1, 2, 1, 2)))


def _plot_cumulative(table, source_names, instruments, path):
    """Draw :func:`cumulative_figure` into the PNG ``path``; the number of panels."""
    figure = cumulative_figure(table, source_names, instruments)
    shown = [axes.get_title() for axes in figure.axes]
    try:
        figure.savefig(path, format="png", dpi=100,
                       metadata={"Title": "INTEGRAL coverage of " + ", ".join(shown)})
    except OSError as error:
        raise ValueError(f"plotfile: cannot write {path!r} ({error})") from error
    return len(shown)


def cumulative_figure(table, source_names, instruments) -> Figure:
    """One panel per source (the first PLOTTED_SOURCES), titled with its name, one line
    per instrument."""
    shown = list(source_names[:PLOTTED_SOURCES])
    columns = min(3, len(shown))
    rows = -(-len(shown) // columns)
    width = 5.5 * columns
    figure = Figure(figsize=(width, 3.6 * rows + 0.8))
    # Fixed margins and one legend: a layout engine and a legend per panel double the drawing time.
    # The right margin (0.45 in) holds the half of the last tick label that lies past the axis.
    figure.subplots_adjust(left=0.8 / width, right=1 - 0.45 / width, bottom=0.6 / (3.6 * rows + 0.8),
                           top=1 - 0.8 / (3.6 * rows + 0.8), hspace=0.45, wspace=0.35)
    for index, name in enumerate(shown):
        axes = figure.add_subplot(rows, columns, index + 1)
        for line, instrument in enumerate(instruments):
            rows_of = (table["source"] == name) & (table["instrument"] == instrument)
            start = np.asarray(table["start_time"][rows_of])
            end = np.asarray(table["end_time"][rows_of])
            effective = np.asarray(table["effective_time"][rows_of])
            order = np.argsort(start, kind="stable")
            times = np.concatenate([start[order][:1], end[order]])
            cumulative = np.concatenate([[0.0], np.cumsum(effective[order])]) / 1000.0
            # distinct dashes: instruments with equal exposure draw on top of each other
            axes.step(times, cumulative, where="post", label=FIELDS[instrument].label,
                      linestyle=_LINESTYLES[line % len(_LINESTYLES)], linewidth=1.6)
        axes.set_title(name)
        axes.set_xlabel("time (MJD)")
        axes.ticklabel_format(axis="x", useOffset=False, style="plain")
        axes.xaxis.set_major_locator(MaxNLocator(nbins=4))  # full MJDs are wide: few enough not to touch
        axes.set_ylabel("cumulative effective exposure (ks)")
        axes.grid(alpha=0.3)
    figure.legend(*axes.get_legend_handles_labels(), loc="upper left", ncols=len(instruments), fontsize="small")
    if len(source_names) > len(shown):
        figure.suptitle(f"first {len(shown)} of {len(source_names)} sources (all are in the table)", x=0.7)
    return figure
