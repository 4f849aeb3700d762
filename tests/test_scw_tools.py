"""The science-window tools: scw_coverage and lcurve, on files the tests make.

Expected values are computed here independently of the tools: off-axis angles
with astropy's SkyCoord.separation, coding fractions from the handbook field
sizes written out below, light curves with numpy histograms and explicit
interval overlaps.
"""

import math

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from matplotlib.image import imread

from tools_registry.scw.coverage import scw_coverage
from tools_registry.scw.lcurve import lcurve

INSTRUMENTS = ("isgri", "jemx1", "jemx2", "spi", "omc")
COS30 = math.cos(math.radians(30))

# The field model of docs/scw_tools.md, written out by hand (degrees).
ISGRI_FC_Y, ISGRI_FC_Z, ISGRI_ZR = 8.3 / 2, 8.0 / 2, 29.0 / 2
JEMX_FC, JEMX_ZR = 4.8 / 2, 13.2 / 2
SPI_FC, SPI_ZR = 16.0 / 2 * COS30, 31.0 / 2 * COS30
OMC_HALF = 5.0 / 2


def ramp(x, inner, outer):
    if x <= inner:
        return 1.0
    if x >= outer:
        return 0.0
    return (outer - x) / (outer - inner)


def is_missing(value):
    """NaN in the file; astropy reads FITS NaN back as masked."""
    return np.ma.is_masked(value) or np.isnan(value)


def assert_png(path, min_width=300, min_height=200):
    with open(path, "rb") as stream:
        assert stream.read(8) == b"\x89PNG\r\n\x1a\n"
    pixels = imread(path)
    assert pixels.shape[0] >= min_height and pixels.shape[1] >= min_width
    assert pixels[..., :3].std() > 0.01, "the image is blank"
    rgb = np.rint(pixels[..., :3] * 255).astype(np.int64)
    assert len(np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2])) > 10, "too few colours"


def scw_rows(pointings, good=3000.0, **extra):
    """A science-window table: one row per (ra, dec) pointing, 1 h apart from MJD 53000."""
    n = len(pointings)
    start = 53000.0 + np.arange(n) / 24.0
    columns = {
        "scw_id": [f"{39:04d}{index + 1:04d}0010" for index in range(n)],
        "ra": [p[0] for p in pointings],
        "dec": [p[1] for p in pointings],
        "start_time": start,
        "end_time": start + 0.04,
    }
    for instrument in INSTRUMENTS:
        columns[f"good_{instrument}"] = np.full(n, good) if np.isscalar(good) else good
    columns.update(extra)
    table = Table(columns)
    table["ra"].unit = table["dec"].unit = u.deg
    return table


def offset_source(ra, dec, position_angle, separation):
    point = SkyCoord(ra * u.deg, dec * u.deg).directional_offset_by(position_angle * u.deg, separation * u.deg)
    return point.ra.deg, point.dec.deg


def run_coverage(tmp_path, scws, sources=None, ra=None, dec=None, out="cov.fits", **kwargs):
    scws.write(tmp_path / "scw.fits", overwrite=True)
    source_path = None
    if sources is not None:
        sources.write(tmp_path / "sources.fits", overwrite=True)
        source_path = str(tmp_path / "sources.fits")
    result = scw_coverage(str(tmp_path / "scw.fits"), str(tmp_path / out), str(tmp_path / "cov.png"),
                          ra=ra, dec=dec, sources=source_path, **kwargs)
    return result, Table.read(tmp_path / out)


def row_of(table, source, instrument, scw_id=None):
    rows = table[(table["source"] == source) & (table["instrument"] == instrument)]
    if scw_id is not None:
        rows = rows[rows["scw_id"] == scw_id]
    assert len(rows) == 1
    return rows[0]


# --- scw_coverage --------------------------------------------------------------------------


def test_off_axis_angles_are_the_great_circle_distances_of_astropy(tmp_path):
    rng = np.random.default_rng(7)
    pointings = list(zip(rng.uniform(0, 360, 40), np.degrees(np.arcsin(rng.uniform(-1, 1, 40)))))
    pointings += [(10.0, 89.999), (200.0, -89.9), (83.63, 22.01), (263.63, -22.01)]  # poles, on axis, antipode
    result, table = run_coverage(tmp_path, scw_rows(pointings), ra=83.633, dec=22.0145, instruments="isgri")

    expected = SkyCoord([p[0] for p in pointings] * u.deg, [p[1] for p in pointings] * u.deg).separation(
        SkyCoord(83.633 * u.deg, 22.0145 * u.deg)).deg
    assert result["n_rows"] == len(pointings) == len(table)
    np.testing.assert_allclose(table["off_axis"], expected, rtol=0, atol=1e-9)
    assert table["off_axis"].unit == u.deg


def test_the_coverage_plot_is_titled_with_the_sources_name_or_position(tmp_path):
    from PIL import Image

    result, table = run_coverage(tmp_path, scw_rows([(83.6, 22.0), (84.0, 22.3)]), ra=83.633, dec=22.0145)
    assert set(table["source"]) == {"RA 83.6330 Dec +22.0145"}
    assert Image.open(tmp_path / "cov.png").text["Title"] == "INTEGRAL coverage of RA 83.6330 Dec +22.0145"
    sources = Table({"name": ["Crab", "Vela X-1"], "ra": [83.633, 135.5286], "dec": [22.0145, -40.5547]})
    run_coverage(tmp_path, scw_rows([(83.6, 22.0)]), sources=sources)
    assert Image.open(tmp_path / "cov.png").text["Title"] == "INTEGRAL coverage of Crab, Vela X-1"


@pytest.mark.parametrize("n_sources", [1, 3])
@pytest.mark.parametrize("days", [0.01, 0.3, 1.2, 400.0, 3000.0])
def test_the_coverage_plot_keeps_every_tick_label_inside_the_image_and_apart(n_sources, days):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from tools_registry.scw.coverage import cumulative_figure

    n, names = 30, ["Crab", "Vela X-1", "Cyg X-1"][:n_sources]
    start = np.tile(58849.0 + np.linspace(0, days, n), n_sources)
    table = Table({"source": np.repeat(names, n), "instrument": ["isgri"] * n * n_sources, "start_time": start,
                   "end_time": start + days / n / 2, "effective_time": np.full(n * n_sources, 1800.0)})
    figure = cumulative_figure(table, names, ["isgri"])
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    assert [axes.get_title() for axes in figure.axes] == names
    width, height = canvas.get_width_height()
    for axes in figure.axes:
        (x0, x1), (y0, y1) = sorted(axes.get_xlim()), sorted(axes.get_ylim())
        # the labels drawn: matplotlib also lists ticks just outside the view, never drawn
        xlabels = [t for t in axes.get_xticklabels() if t.get_text() and x0 <= t.get_position()[0] <= x1]
        ylabels = [t for t in axes.get_yticklabels() if t.get_text() and y0 <= t.get_position()[1] <= y1]
        assert len(xlabels) >= 3 and len(ylabels) >= 3
        for label in xlabels + ylabels:
            box = label.get_window_extent(renderer)
            assert box.x0 >= 0 and box.x1 <= width and box.y0 >= 0 and box.y1 <= height, label.get_text()
        xboxes = sorted((t.get_window_extent(renderer) for t in xlabels), key=lambda b: b.x0)
        assert all(left.x1 + 5 <= right.x0 for left, right in zip(xboxes, xboxes[1:])), "tick labels touch"


# Per instrument: (direction relative to the Y axis, separation, expected fraction with a
# known roll, expected fraction without).
PLACEMENTS = {
    "isgri": [
        (0, 3.0, 1.0, 1.0),
        (0, 4.1, 1.0, ramp(4.1, ISGRI_FC_Z, ISGRI_ZR)),  # inside 8.3° along Y ...
        (-90, 4.1, ramp(4.1, ISGRI_FC_Z, ISGRI_ZR), ramp(4.1, ISGRI_FC_Z, ISGRI_ZR)),  # ... not 8.0° along Z
        (180, 10.0, ramp(10.0, ISGRI_FC_Y, ISGRI_ZR), ramp(10.0, ISGRI_FC_Z, ISGRI_ZR)),
        (90, 14.0, ramp(14.0, ISGRI_FC_Z, ISGRI_ZR), ramp(14.0, ISGRI_FC_Z, ISGRI_ZR)),
        (0, 16.0, 0.0, 0.0),
    ],
    "jemx1": [(0, 2.0, 1.0, 1.0), (-90, 5.0, ramp(5.0, JEMX_FC, JEMX_ZR), ramp(5.0, JEMX_FC, JEMX_ZR)),
              (33, 7.0, 0.0, 0.0)],
    "jemx2": [(45, 2.3, 1.0, 1.0), (120, 6.0, ramp(6.0, JEMX_FC, JEMX_ZR), ramp(6.0, JEMX_FC, JEMX_ZR)),
              (0, 13.0, 0.0, 0.0)],
    "spi": [(0, 6.0, 1.0, 1.0), (-90, 10.0, ramp(10.0, SPI_FC, SPI_ZR), ramp(10.0, SPI_FC, SPI_ZR)),
            (200, 14.0, 0.0, 0.0)],
    "omc": [(0, 2.0, 1.0, 1.0), (-90, 2.4, 1.0, 1.0), (0, 3.0, 0.0, 0.0),
            # on the diagonal at 2° along both axes: inside the 5°×5° square, 2.83° off axis
            (45, math.degrees(math.atan(math.sqrt(2) * math.tan(math.radians(2.0)))), 1.0, 0.0)],
}
REGION = {1.0: "fully_coded", 0.0: "outside"}


def placed_sources(pointing, position_angle_y):
    names, ras, decs, expected = [], [], [], {}
    for instrument, placements in PLACEMENTS.items():
        for index, (direction, separation, with_roll, without_roll) in enumerate(placements):
            ra, dec = offset_source(*pointing, position_angle_y + direction, separation)
            name = f"{instrument}_{index}"
            names.append(name), ras.append(ra), decs.append(dec)
            expected[name] = (instrument, direction, separation, with_roll, without_roll)
    return Table({"Name": names, "RAJ2000": ras, "DEJ2000": decs}), expected


@pytest.mark.parametrize("orientation", ["posangle", "z_axis"])
def test_sources_placed_in_each_region_of_each_square_field(tmp_path, orientation):
    pointing, position_angle_y = (121.0, -35.0), 30.0
    # Z = X × Y lies at position angle PA(Y) - 90°; the archives' posangle is minus that angle
    position_angle_z = position_angle_y - 90
    if orientation == "posangle":
        extra = {"posangle": [-position_angle_z]}
    else:  # the Z axis is 90° from X
        z_ra, z_dec = offset_source(*pointing, position_angle_z, 90.0)
        extra = {"ra_z": [z_ra], "dec_z": [z_dec]}
    sources, expected = placed_sources(pointing, position_angle_y)
    result, table = run_coverage(tmp_path, scw_rows([pointing], good=2000.0, **extra), sources=sources)

    assert len(table) == len(sources) * len(INSTRUMENTS)
    for name, (instrument, direction, separation, fraction, _) in expected.items():
        row = row_of(table, name, instrument)
        assert row["coding_fraction"] == pytest.approx(fraction, abs=1e-9), name
        assert row["effective_time"] == pytest.approx(2000.0 * fraction, abs=1e-6), name
        assert row["fov_region"] == REGION.get(fraction, "partially_coded"), name
        assert row["fov_model"] == ("square" if instrument in ("isgri", "omc") else
                                    "circle" if instrument.startswith("jemx") else "inscribed_circle")
        if direction == 0:  # along +Y
            assert row["angle_y"] == pytest.approx(separation, abs=1e-9)
            assert row["angle_z"] == pytest.approx(0.0, abs=1e-9)
        if direction == -90:  # along +Z
            assert row["angle_z"] == pytest.approx(separation, abs=1e-9)
            assert row["angle_y"] == pytest.approx(0.0, abs=1e-9)
    assert result["orientation"] == ("Z axis (ra_z, dec_z)" if orientation == "z_axis"
                                     else "posangle (Z at position angle -posangle)")
    assert result["n_oriented"] == 1


def test_without_orientation_square_fields_are_their_inscribed_circles(tmp_path):
    pointing = (121.0, -35.0)
    sources, expected = placed_sources(pointing, 30.0)
    result, table = run_coverage(tmp_path, scw_rows([pointing], good=1000.0), sources=sources)

    for name, (instrument, _, _, _, fraction) in expected.items():
        row = row_of(table, name, instrument)
        assert row["coding_fraction"] == pytest.approx(fraction, abs=1e-9), name
        assert row["fov_region"] == REGION.get(fraction, "partially_coded"), name
        assert is_missing(row["angle_y"]) and is_missing(row["angle_z"])
    assert result["orientation"].startswith("none") and result["n_oriented"] == 0


def test_without_orientation_coverage_never_exceeds_the_square_field_at_any_roll(tmp_path):
    rng = np.random.default_rng(3)
    n = 400
    source = (266.4, -29.0)
    pointings = [offset_source(*source, pa, sep) for pa, sep in zip(rng.uniform(0, 360, n), rng.uniform(0, 20, n))]
    rolled = scw_rows(pointings, posangle=rng.uniform(0, 360, n))
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    _, square = run_coverage(tmp_path / "a", rolled, ra=source[0], dec=source[1], instruments="isgri,omc")
    rolled.remove_column("posangle")
    _, circle = run_coverage(tmp_path / "b", rolled, ra=source[0], dec=source[1], instruments="isgri,omc")

    assert np.all(circle["coding_fraction"] <= square["coding_fraction"] + 1e-12)
    assert np.any(circle["coding_fraction"] < square["coding_fraction"] - 0.05)


def test_effective_times_of_a_dither_pattern_sum_as_by_hand(tmp_path):
    crab = SkyCoord(83.633 * u.deg, 22.0145 * u.deg)
    # a 5x5 dither of 2.17° steps around the Crab, plus one pointing 25° away
    pointings = [offset_source(83.633, 22.0145, 0, 2.17 * i) for i in range(-2, 3)]
    pointings = [offset_source(ra, dec, 90, 2.17 * j) for ra, dec in pointings for j in range(-2, 3)]
    pointings.append(offset_source(83.633, 22.0145, 140, 25.0))
    good = np.linspace(1800.0, 3600.0, len(pointings))
    result, table = run_coverage(tmp_path, scw_rows(pointings, good=good), ra=83.633, dec=22.0145)

    separation = SkyCoord([p[0] for p in pointings] * u.deg, [p[1] for p in pointings] * u.deg).separation(crab).deg
    models = {
        "isgri": (ISGRI_FC_Z, ISGRI_ZR), "jemx1": (JEMX_FC, JEMX_ZR), "jemx2": (JEMX_FC, JEMX_ZR),
        "spi": (SPI_FC, SPI_ZR), "omc": (OMC_HALF, OMC_HALF),
    }
    for instrument, (inner, outer) in models.items():
        fractions = [ramp(s, inner, outer) for s in separation]
        assert result[f"effective_time_{instrument}"] == pytest.approx(float(np.dot(good, fractions)), rel=1e-9)
        assert result[f"good_time_{instrument}"] == pytest.approx(good.sum())
        assert result[f"n_fully_coded_{instrument}"] == sum(f == 1.0 for f in fractions)
        assert result[f"n_partially_coded_{instrument}"] == sum(0 < f < 1 for f in fractions)
    assert result["n_scw"] == 26 and result["n_sources"] == 1
    assert 0 < result["effective_time_jemx1"] < result["effective_time_isgri"] < result["good_time_isgri"]
    assert_png(tmp_path / "cov.png")


def test_coverage_votable_output_carries_units_and_ucds(tmp_path):
    result, table = run_coverage(tmp_path, scw_rows([(10.0, 10.0), (12.0, 10.0)]), ra=10.0, dec=11.0,
                                 out="cov.vot", instruments="spi, ISGRI")
    from astropy.io.votable import parse_single_table

    fields = {field.name: field for field in parse_single_table(tmp_path / "cov.vot").fields}
    assert fields["off_axis"].unit == u.deg and fields["effective_time"].unit == u.s
    assert fields["start_time"].unit == u.d
    assert fields["off_axis"].ucd == "pos.angDistance"
    assert set(table["instrument"]) == {"spi", "isgri"}
    assert list(table["scw_id"][:2]) == ["003900010010", "003900020010"]
    assert set(result) >= {"effective_time_spi", "effective_time_isgri"} and "effective_time_omc" not in result


def test_sources_from_a_csv_with_aliases_and_many_sources_plotted(tmp_path):
    names = [f"src {i}" for i in range(14)]
    Table({"SOURCE_NAME": names, "RA_deg": np.linspace(80, 87, 14), "Dec_deg": np.full(14, 22.0)}).write(
        tmp_path / "sources.csv")
    scw_rows([(83.6, 22.0), (84.0, 21.0)]).write(tmp_path / "scw.csv")
    result = scw_coverage(str(tmp_path / "scw.csv"), str(tmp_path / "cov.fits"), str(tmp_path / "cov.png"),
                          sources=str(tmp_path / "sources.csv"), instruments="jemx2")
    table = Table.read(tmp_path / "cov.fits")
    assert set(table["source"]) == set(names) and len(table) == 28
    assert table["scw_id"][0] == "003900010010"  # leading zeros survive the CSV reader
    assert result["plotted_sources"] == 12
    assert_png(tmp_path / "cov.png", min_width=1000, min_height=1000)


@pytest.mark.parametrize("change, message", [
    (lambda t: t.remove_column("good_spi"), "good_spi"),
    (lambda t: t.remove_column("start_time"), "start_time"),
    (lambda t: t.remove_rows(slice(None)), "no science windows"),
])
def test_coverage_rejects_incomplete_science_window_tables(tmp_path, change, message):
    scws = scw_rows([(10.0, 10.0)])
    change(scws)
    with pytest.raises(ValueError, match=message):
        run_coverage(tmp_path, scws, ra=10.0, dec=10.0)


def test_coverage_needs_good_time_only_of_the_instruments_asked_for(tmp_path):
    scws = scw_rows([(10.0, 10.0)])
    scws.remove_column("good_spi")
    result, _ = run_coverage(tmp_path, scws, ra=10.0, dec=10.0, instruments="isgri")
    assert result["effective_time_isgri"] == pytest.approx(3000.0)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "give a source"),
    ({"ra": 10.0}, "give a source"),
    ({"ra": 10.0, "dec": 95.0}, r"\[-90, 90\]"),
    ({"ra": 10.0, "dec": 10.0, "instruments": "isgri,xmm"}, "unknown xmm"),
    ({"ra": 10.0, "dec": 10.0, "instruments": ""}, "at least one"),
])
def test_coverage_rejects_bad_parameters(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_coverage(tmp_path, scw_rows([(10.0, 10.0)]), **kwargs)


def test_coverage_rejects_both_a_position_and_a_source_table_and_unknown_formats(tmp_path):
    sources = Table({"name": ["a"], "ra": [1.0], "dec": [2.0]})
    with pytest.raises(ValueError, match="not both"):
        run_coverage(tmp_path, scw_rows([(10.0, 10.0)]), sources=sources, ra=1.0, dec=2.0)
    with pytest.raises(ValueError, match="needs ra and dec"):
        run_coverage(tmp_path, scw_rows([(10.0, 10.0)]), sources=Table({"name": ["a"], "x": [1.0]}))
    with pytest.raises(ValueError, match="extension"):
        run_coverage(tmp_path, scw_rows([(10.0, 10.0)]), ra=1.0, dec=2.0, out="cov.txt")


# --- lcurve --------------------------------------------------------------------------------

GTIS = np.array([[0.0, 400.0], [600.0, 1000.0]])


def write_events(path, times, gti=GTIS, time_unit="s", pi=None, extra_header=None, gti_rows=True):
    columns = [fits.Column("TIME", "D", unit=time_unit, array=times)]
    if pi is not None:
        columns.append(fits.Column("PI", "J", array=pi))
    events = fits.BinTableHDU.from_columns(columns, name="EVENTS")
    events.header["TIMEUNIT"] = time_unit
    events.header["TELESCOP"] = "INTEGRAL"
    events.header["INSTRUME"] = "IBIS"
    events.header["TIMEZERO"] = 0.0
    for key, value in (extra_header or {}).items():
        events.header[key] = value
    hdus = [fits.PrimaryHDU(), events]
    if gti is not None:
        rows = gti if gti_rows else np.zeros((0, 2))
        hdus.append(fits.BinTableHDU.from_columns(
            [fits.Column("START", "D", array=rows[:, 0]), fits.Column("STOP", "D", array=rows[:, 1])], name="GTI"))
    fits.HDUList(hdus).writeto(path, overwrite=True)
    return str(path)


def overlap(lo, hi, gti):
    return sum(max(0.0, min(hi, stop) - max(lo, start)) for start, stop in gti)


def synthetic_times(seed=11, n=6000):
    """Uniform events over 0–1000 s, including the gap 400–600 s that must not be counted."""
    return np.sort(np.random.default_rng(seed).uniform(0.0, 1000.0, n))


def test_light_curve_with_a_gti_gap_matches_a_numpy_histogram(tmp_path):
    times = synthetic_times()
    infile = write_events(tmp_path / "events.fits", times)
    result = lcurve(infile, str(tmp_path / "lc.fits"), str(tmp_path / "lc.png"), binsize=150.0)

    edges = np.arange(0.0, 1050.0 + 1, 150.0)  # 0, 150, ..., 1050 covers 0–1000
    in_gti = ((times >= 0) & (times < 400)) | ((times >= 600) & (times < 1000))
    counts, _ = np.histogram(times[in_gti], bins=edges)
    exposure = np.array([overlap(lo, hi, GTIS) for lo, hi in zip(edges[:-1], edges[1:])])
    keep = exposure > 0  # the bin 450–600 lies in the gap
    assert not keep.all()

    with fits.open(tmp_path / "lc.fits") as hdus:
        rate = hdus["RATE"]
        data, header = rate.data, rate.header
        np.testing.assert_allclose(data["TIME"], (edges[:-1] + 75.0)[keep])
        np.testing.assert_array_equal(data["COUNTS"], counts[keep])
        np.testing.assert_allclose(data["FRACEXP"], exposure[keep] / 150.0)
        np.testing.assert_allclose(data["RATE"], counts[keep] / exposure[keep])
        np.testing.assert_allclose(data["ERROR"], np.sqrt(counts[keep]) / exposure[keep])
        np.testing.assert_allclose(data["TIMEDEL"], 150.0)
        assert header["HDUCLAS1"] == "LIGHTCURVE" and header["HDUCLASS"] == "OGIP"
        assert header["EXPOSURE"] == pytest.approx(800.0)
        assert (header["TSTART"], header["TSTOP"], header["TIMEZERO"]) == (0.0, 1000.0, 0.0)
        assert header["TIMEUNIT"] == "s" and header["TIMEDEL"] == 150.0 and header["TELESCOP"] == "INTEGRAL"
        np.testing.assert_allclose(np.column_stack([hdus["GTI"].data["START"], hdus["GTI"].data["STOP"]]), GTIS)
    assert result["n_bins"] == keep.sum() == 6
    assert result["total_counts"] == in_gti.sum()
    assert result["exposure"] == pytest.approx(800.0)
    assert result["mean_rate"] == pytest.approx(in_gti.sum() / 800.0)
    assert_png(tmp_path / "lc.png")


def test_light_curve_in_days_with_range_and_energy_selection(tmp_path):
    # INTEGRAL event lists count time in IJD days; binsize stays in seconds.
    seconds = synthetic_times(seed=5)
    pi = np.random.default_rng(5).integers(0, 256, len(seconds))
    ijd = 3000.0 + seconds / 86400.0
    gti_days = 3000.0 + GTIS / 86400.0
    infile = write_events(tmp_path / "events.fits", ijd, gti=gti_days, time_unit="d", pi=pi)
    tstart, tstop = 3000.0 + 100.0 / 86400, 3000.0 + 900.0 / 86400
    result = lcurve(infile + "[EVENTS]", str(tmp_path / "lc.fits"), str(tmp_path / "lc.png"), binsize=200.0,
                    tstart=tstart, tstop=tstop, emin=20, emax=99)

    used = np.array([[100.0, 400.0], [600.0, 900.0]])
    edges = np.arange(100.0, 900.0 + 1, 200.0)
    chosen = (pi >= 20) & (pi <= 99) & (((seconds >= 100) & (seconds < 400)) | ((seconds >= 600) & (seconds < 900)))
    counts, _ = np.histogram(seconds[chosen], bins=edges)
    exposure = np.array([overlap(lo, hi, used) for lo, hi in zip(edges[:-1], edges[1:])])
    with fits.open(tmp_path / "lc.fits") as hdus:
        data, header = hdus["RATE"].data, hdus["RATE"].header
        np.testing.assert_array_equal(data["COUNTS"], counts)
        np.testing.assert_allclose(data["RATE"], counts / exposure, rtol=1e-6)
        np.testing.assert_allclose(data["ERROR"], np.sqrt(counts) / exposure, rtol=1e-6)
        np.testing.assert_allclose(data["FRACEXP"], exposure / 200.0, rtol=1e-6)
        np.testing.assert_allclose((data["TIME"] - 3000.0) * 86400.0, edges[:-1] + 100.0, atol=1e-4)
        assert header["TIMEUNIT"] == "d" and header["TIMEDEL"] == pytest.approx(200.0 / 86400.0)
        assert header["EXPOSURE"] == pytest.approx(600.0, rel=1e-6)
        assert header["TSTART"] == pytest.approx(tstart) and header["TSTOP"] == pytest.approx(tstop)
        assert (header["CHANMIN"], header["CHANMAX"]) == (20, 99)
    assert result["total_counts"] == chosen.sum()


def test_light_curve_of_a_weight_column_uses_summed_weights(tmp_path):
    times = synthetic_times(seed=2, n=500)
    weights = np.random.default_rng(2).uniform(0.0, 2.0, len(times))
    events = fits.BinTableHDU.from_columns(
        [fits.Column("TIME", "D", array=times), fits.Column("W", "D", array=weights)], name="EVENTS")
    gti = fits.BinTableHDU.from_columns(
        [fits.Column("START", "D", array=GTIS[:, 0]), fits.Column("STOP", "D", array=GTIS[:, 1])], name="GTI")
    fits.HDUList([fits.PrimaryHDU(), events, gti]).writeto(tmp_path / "ev.fits")
    lcurve(str(tmp_path / "ev.fits"), str(tmp_path / "lc.fits"), str(tmp_path / "lc.png"), binsize=200, column="w")

    in_gti = (times < 400) | (times >= 600)
    edges = np.arange(0.0, 1001.0, 200.0)
    sums, _ = np.histogram(times[in_gti], bins=edges, weights=weights[in_gti])
    squares, _ = np.histogram(times[in_gti], bins=edges, weights=weights[in_gti] ** 2)
    exposure = np.array([200, 200, 0, 200, 200], dtype=float)
    keep = exposure > 0
    data = fits.getdata(tmp_path / "lc.fits", "RATE")
    np.testing.assert_allclose(data["RATE"], sums[keep] / exposure[keep])
    np.testing.assert_allclose(data["ERROR"], np.sqrt(squares[keep]) / exposure[keep])


@pytest.mark.parametrize("binsize", [0, -5.0, float("nan"), "abc"])
def test_light_curve_rejects_a_bad_binsize(tmp_path, binsize):
    infile = write_events(tmp_path / "events.fits", synthetic_times())
    with pytest.raises(ValueError, match="binsize"):
        lcurve(infile, str(tmp_path / "lc.fits"), str(tmp_path / "lc.png"), binsize=binsize)


def test_light_curve_rejects_missing_columns_and_extensions(tmp_path):
    infile = write_events(tmp_path / "events.fits", synthetic_times())
    out, png = str(tmp_path / "lc.fits"), str(tmp_path / "lc.png")
    with pytest.raises(ValueError, match="no column 'TIMEX'"):
        lcurve(infile, out, png, binsize=10, timecol="TIMEX")
    with pytest.raises(ValueError, match="energy_column"):
        lcurve(infile, out, png, binsize=10, emin=10)  # no PI nor PHA column
    with pytest.raises(ValueError, match="no extension 'STDGTI'"):
        lcurve(infile, out, png, binsize=10, gtiext="STDGTI")
    with pytest.raises(ValueError, match="only an HDU selection"):
        lcurve(infile + "[EVENTS][PI > 10]", out, png, binsize=10)
    no_gti = write_events(tmp_path / "nogti.fits", synthetic_times(), gti=None)
    with pytest.raises(ValueError, match="TSTART/TSTOP"):
        lcurve(no_gti, out, png, binsize=10, gtiext="")


def test_light_curve_without_gti_uses_the_given_range(tmp_path):
    no_gti = write_events(tmp_path / "nogti.fits", synthetic_times(), gti=None)
    result = lcurve(no_gti, str(tmp_path / "lc.fits"), str(tmp_path / "lc.png"), binsize=100, gtiext="",
                    tstart=0.0, tstop=1000.0)
    assert result["n_bins"] == 10 and result["exposure"] == pytest.approx(1000.0)
    assert result["total_counts"] == 6000


@pytest.mark.parametrize("kwargs", [{}, {"tstart": 2000.0, "tstop": 3000.0}, {"tstart": 410.0, "tstop": 590.0}])
def test_light_curve_rejects_empty_good_time(tmp_path, kwargs):
    gti_rows = bool(kwargs)  # no keywords: a GTI extension with no rows
    infile = write_events(tmp_path / "events.fits", synthetic_times(), gti_rows=gti_rows)
    with pytest.raises(ValueError, match="no good time"):
        lcurve(infile, str(tmp_path / "lc.fits"), str(tmp_path / "lc.png"), binsize=10, **kwargs)


def test_light_curve_rejects_inverted_gtis_and_missing_files(tmp_path):
    inverted = write_events(tmp_path / "events.fits", synthetic_times(), gti=np.array([[0.0, 400.0], [900.0, 600.0]]))
    out, png = str(tmp_path / "lc.fits"), str(tmp_path / "lc.png")
    with pytest.raises(ValueError, match="STOP before START"):
        lcurve(inverted, out, png, binsize=10)
    with pytest.raises(ValueError, match="cannot open"):
        lcurve(str(tmp_path / "absent.fits"), out, png, binsize=10)


def test_extended_file_names_select_an_hdu_and_overwrite(tmp_path):
    scws = scw_rows([(10.0, 10.0)])
    fits.HDUList([fits.PrimaryHDU(), fits.table_to_hdu(Table({"x": [1]})), fits.table_to_hdu(scws)]).writeto(
        tmp_path / "two.fits")
    (tmp_path / "cov.fits").write_bytes(b"old")
    result = scw_coverage(str(tmp_path / "two.fits") + "[2]", "!" + str(tmp_path / "cov.fits"),
                          str(tmp_path / "cov.png"), ra=10.0, dec=20.0, instruments="isgri")
    assert result["effective_time_isgri"] == pytest.approx(3000.0 * ramp(10.0, ISGRI_FC_Z, ISGRI_ZR))
    assert result["n_partially_coded_isgri"] == 1
    assert len(Table.read(tmp_path / "cov.fits")) == 1
    with pytest.raises(ValueError, match="missing column"):
        scw_coverage(str(tmp_path / "two.fits") + "[1]", str(tmp_path / "cov.fits"), str(tmp_path / "cov.png"),
                     ra=10.0, dec=12.0)
