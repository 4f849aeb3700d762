"""The archives' orientation convention, on the real tables, and scw_coverage's roll.

HEASARC's intscw, ISDC's integral_rev3_scw and OSA's INTL-ORBI-SCP give the spacecraft X
axis (ra, dec), its Z axis (ra_z, dec_z) and `posangle`, which is minus the position angle
(east of north, at X) of the Z axis; Y = Z × X (docs/scw_tools.md, "Orientation").

Expected values come from astropy's position angles and from vector algebra and handbook
field sizes written out here, never from the tool's own frame.
"""

import csv
from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table

from tap_catalog import demo
from tools_registry.scw.coverage import scw_coverage

REAL = Path(__file__).parent / "data" / "real"


def has_z_axis(path):
    with path.open(newline="") as stream:
        return "ra_z" in next(csv.reader(stream))


ORIENTED = sorted(path for path in (REAL / "scw").glob("*.csv") if has_z_axis(path))

#: position angle residuals: HEASARC rounds ra, dec, ra_z, dec_z to 4 decimals (measured
#: at most 7.9e-6 deg); ISDC's are below 5e-7 deg
POSITION_ANGLE_TOLERANCE = 1e-4
#: coding fractions from posangle alone against the Z axis: measured at most 3.5e-8
FRACTION_TOLERANCE = 1e-6

#: sources for the coverage runs: the centre of the nearest-1000 queries, and the bright
#: sources of the commissioning revolutions and of calibration
SOURCES = Table({"name": ["ra10_dec10", "Cyg X-1", "Crab"],
                 "ra": [10.0, 299.590316, 83.633083], "dec": [10.0, 35.201604, 22.0145]})

# IBIS/ISGRI and OMC in the handbook (docs/scw_tools.md): half widths in degrees along Y, Z
ISGRI_FC_Y, ISGRI_FC_Z, ISGRI_ZERO = 8.3 / 2, 8.0 / 2, 29.0 / 2
OMC_HALF = 5.0 / 2


def wrapped(degrees):
    """An angle in [-180, 180)."""
    return (np.asarray(degrees) + 180.0) % 360.0 - 180.0


def ramp(x, inner, outer):
    return np.clip((outer - np.abs(x)) / (outer - inner), 0.0, 1.0)


def numbers(column):
    return np.ma.filled(np.ma.asarray(column, dtype=float), np.nan)


def real_table(path):
    """A real file as astropy reads it, with ISDC's ra_x/dec_x named ra/dec."""
    table = Table.read(path, format="ascii.csv")
    for isdc, heasarc in (("ra_x", "ra"), ("dec_x", "dec")):
        if isdc in table.colnames:
            table.rename_column(isdc, heasarc)
    return table


def real_pointings(path):
    """The pointings of a real file as a table scw_coverage reads: X, Z, posangle, ISGRI
    and OMC good time (none where the archive has none), start/end as MJD."""
    table = real_table(path)
    table = table[np.char.lower(np.asarray(table["scw_type"]).astype(str)) == "pointing"]
    out = Table()
    out["scw_id"] = [f"{int(value):012d}" for value in table["scw_id"]]
    for name in ("ra", "dec", "ra_z", "dec_z", "posangle"):
        out[name] = numbers(table[name])
    for name in ("good_isgri", "good_omc"):
        out[name] = np.nan_to_num(numbers(table[name]), nan=0.0)
    out["start_time"] = 53000.0 + np.arange(len(out)) / 24.0  # times do not enter coverage
    out["end_time"] = out["start_time"] + 0.04
    return out


def coverage(tmp_path, windows, label, instruments="isgri,omc", **source):
    """scw_coverage of the SOURCES (or one ra/dec) over `windows`; (result, table)."""
    windows.write(tmp_path / f"{label}.fits", overwrite=True)
    if not source:
        SOURCES.write(tmp_path / "sources.fits", overwrite=True)
        source = {"sources": str(tmp_path / "sources.fits")}
    result = scw_coverage(str(tmp_path / f"{label}.fits"), str(tmp_path / f"{label}-out.fits"),
                          str(tmp_path / f"{label}.png"), instruments=instruments, **source)
    return result, Table.read(tmp_path / f"{label}-out.fits")


def without(table, *names):
    table = table.copy()
    table.remove_columns(list(names))
    return table


def unit_vectors(ra, dec):
    ra, dec = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


# -- the convention ---------------------------------------------------------------------------
def test_four_real_files_carry_the_orientation():
    assert [path.name for path in ORIENTED] == [
        "heasarc_intscw_nearest1000_ra10_dec10_2022.csv", "heasarc_intscw_nearest1000_ra10_dec10_2024.csv",
        "isdc_rev3_scw_nearest1000_ra10_dec10_2024.csv", "isdc_rev3_scw_revs0001-0018.csv"]


@pytest.mark.parametrize("path", ORIENTED, ids=[path.name for path in ORIENTED])
def test_posangle_is_minus_the_position_angle_of_the_z_axis_on_every_real_row(path):
    table = real_table(path)
    ra, dec, ra_z, dec_z, posangle = (numbers(table[name]) for name in ("ra", "dec", "ra_z", "dec_z", "posangle"))
    assert np.all(np.isfinite([ra, dec, ra_z, dec_z, posangle])), "every real row has its orientation"
    pointings = np.char.lower(np.asarray(table["scw_type"]).astype(str)) == "pointing"
    assert pointings.sum() > 500

    x_axis, z_axis = SkyCoord(ra * u.deg, dec * u.deg), SkyCoord(ra_z * u.deg, dec_z * u.deg)
    position_angle_z = x_axis.position_angle(z_axis).deg
    assert np.max(np.abs(wrapped(posangle + position_angle_z))) < POSITION_ANGLE_TOLERANCE
    assert np.max(np.abs(x_axis.separation(z_axis).deg - 90.0)) < POSITION_ANGLE_TOLERANCE
    assert np.all((posangle > -180.0) & (posangle <= 180.0))
    # the other sign, as Hera described it before, is wrong on nearly every row
    assert np.mean(np.abs(wrapped(posangle - position_angle_z)) > 1.0) > 0.95

    # Y = Z × X lies at position angle 90° - posangle, 90° from X
    y_axis = x_axis.directional_offset_by((90.0 - posangle) * u.deg, 90.0 * u.deg)
    z_orthogonal = z_axis.cartesian.xyz.value.T
    x_unit = x_axis.cartesian.xyz.value.T
    z_orthogonal = z_orthogonal - np.sum(z_orthogonal * x_unit, axis=1)[:, None] * x_unit
    z_orthogonal /= np.linalg.norm(z_orthogonal, axis=1)[:, None]
    y_expected = np.cross(z_orthogonal, x_unit)
    assert np.max(np.linalg.norm(y_axis.cartesian.xyz.value.T - y_expected, axis=1)) < np.radians(
        POSITION_ANGLE_TOLERANCE)


def test_osa_attitude_table_uses_the_same_posangle():
    with fits.open(REAL / "products" / "sc_orbit_param_078900560010.fits.gz") as hdus:
        attitude = hdus["INTL-ORBI-SCP"].data
        x_axis = SkyCoord(attitude["RA_SCX"] * u.deg, attitude["DEC_SCX"] * u.deg)
        z_axis = SkyCoord(attitude["RA_SCZ"] * u.deg, attitude["DEC_SCZ"] * u.deg)
        posangle = np.asarray(attitude["POSANGLE"], dtype=float)
    assert len(posangle) == 244
    assert np.max(np.abs(wrapped(posangle + x_axis.position_angle(z_axis).deg))) < 1e-6  # measured 1.8e-10


def test_the_demo_writes_posangle_as_the_archives_do():
    rows = list(demo.generate(2000, 2))
    x_axis = SkyCoord([r["ra"] for r in rows] * u.deg, [r["dec"] for r in rows] * u.deg)
    z_axis = SkyCoord([r["ra_z"] for r in rows] * u.deg, [r["dec_z"] for r in rows] * u.deg)
    posangle = np.array([r["posangle"] for r in rows])
    # the demo rounds posangle to 0.01° as the archive's web pages do
    assert np.max(np.abs(wrapped(posangle + x_axis.position_angle(z_axis).deg))) < 0.006
    assert np.all((posangle > -180.0) & (posangle <= 180.0))


# -- scw_coverage -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", ORIENTED, ids=[path.name for path in ORIENTED])
def test_coding_fractions_from_posangle_alone_equal_those_from_the_z_axis(path, tmp_path):
    windows = real_pointings(path)
    from_z, by_z = coverage(tmp_path, without(windows, "posangle"), "z")
    from_posangle, by_posangle = coverage(tmp_path, without(windows, "ra_z", "dec_z"), "posangle")

    assert from_z["orientation"] == "Z axis (ra_z, dec_z)"
    assert from_posangle["orientation"] == "posangle (Z at position angle -posangle)"
    assert from_z["n_oriented"] == from_posangle["n_oriented"] == len(windows)
    assert list(by_z["scw_id"]) == list(by_posangle["scw_id"])
    assert np.all(by_posangle["fov_model"] == "square")
    difference = np.abs(by_posangle["coding_fraction"] - by_z["coding_fraction"])
    assert np.max(difference) <= FRACTION_TOLERANCE
    near = by_z["off_axis"] < 20.0  # farther away a roll residual of 1e-5° moves the angles more
    for angle in ("angle_y", "angle_z"):
        assert np.max(np.abs(by_posangle[angle] - by_z[angle])[near]) < 1e-5
    isgri = by_z["instrument"] == "isgri"
    partial = isgri & (by_z["coding_fraction"] > 0) & (by_z["coding_fraction"] < 1)
    assert partial.sum() >= 25, "the comparison must cover partially coded sources"  # 31 to 330

    # the roll matters there: posangle read as the position angle of Y (Hera before) puts
    # Z at posangle - 90°, i.e. an archive posangle of 90° - posangle
    misread = without(windows, "ra_z", "dec_z")
    misread["posangle"] = 90.0 - misread["posangle"]
    _, by_misread = coverage(tmp_path, misread, "misread")
    changed = isgri & (np.abs(by_misread["coding_fraction"] - by_z["coding_fraction"]) > 0.05)
    assert changed.sum() >= 10


@pytest.mark.parametrize("path", ORIENTED, ids=[path.name for path in ORIENTED])
def test_coverage_of_every_real_pointing_equals_vector_algebra(path, tmp_path):
    windows = real_pointings(path)
    _, table = coverage(tmp_path, without(windows, "posangle"), "z", instruments="isgri")

    x_axis = unit_vectors(windows["ra"], windows["dec"])
    z_axis = unit_vectors(windows["ra_z"], windows["dec_z"])
    z_axis -= np.sum(z_axis * x_axis, axis=1)[:, None] * x_axis
    z_axis /= np.linalg.norm(z_axis, axis=1)[:, None]
    y_axis = np.cross(z_axis, x_axis)
    for name, ra, dec in SOURCES:
        source = unit_vectors(ra, dec)
        along_x, along_y, along_z = x_axis @ source, y_axis @ source, z_axis @ source
        angle_y = np.degrees(np.arctan2(along_y, along_x))
        angle_z = np.degrees(np.arctan2(along_z, along_x))
        expected = np.where(along_x > 0, ramp(angle_y, ISGRI_FC_Y, ISGRI_ZERO) * ramp(angle_z, ISGRI_FC_Z, ISGRI_ZERO),
                            0.0)
        rows = table[table["source"] == name]
        assert list(rows["scw_id"]) == list(windows["scw_id"])
        np.testing.assert_allclose(rows["angle_y"], angle_y, rtol=0, atol=1e-9)
        np.testing.assert_allclose(rows["angle_z"], angle_z, rtol=0, atol=1e-9)
        np.testing.assert_allclose(rows["coding_fraction"], expected, rtol=0, atol=1e-9)
        np.testing.assert_allclose(rows["effective_time"], expected * windows["good_isgri"], rtol=0, atol=1e-6)


def test_a_real_pointing_near_ra10_dec10_from_its_posangle_by_spherical_trigonometry(tmp_path):
    """Revolution 2520, pointing 79 (HEASARC 2024): the source at (10°, 10°) is 5.9° off
    axis, partially coded along Y; its coding fraction follows from the source's position
    angle θ and distance ρ at X alone: along Z the source is at atan(tan ρ cos(θ - PA(Z))),
    along Y at atan(tan ρ sin(θ - PA(Z))), with PA(Z) = -posangle."""
    windows = real_pointings(REAL / "scw" / "heasarc_intscw_nearest1000_ra10_dec10_2024.csv")
    window = windows[windows["scw_id"] == "252000790010"]
    x_axis, source = SkyCoord(window["ra"] * u.deg, window["dec"] * u.deg), SkyCoord(10.0 * u.deg, 10.0 * u.deg)
    rho, theta = x_axis.separation(source).rad[0], x_axis.position_angle(source).rad[0]
    from_z = theta + np.radians(window["posangle"][0])
    angle_y = np.degrees(np.arctan2(np.sin(rho) * np.sin(from_z), np.cos(rho)))
    angle_z = np.degrees(np.arctan2(np.sin(rho) * np.cos(from_z), np.cos(rho)))
    expected = ramp(angle_y, ISGRI_FC_Y, ISGRI_ZERO) * ramp(angle_z, ISGRI_FC_Z, ISGRI_ZERO)
    assert 0.5 < expected < 1.0

    result, table = coverage(tmp_path, without(window, "ra_z", "dec_z"), "one", instruments="isgri",
                             ra=10.0, dec=10.0)
    row = table[0]
    assert row["angle_y"] == pytest.approx(angle_y, abs=1e-9)
    assert row["angle_z"] == pytest.approx(angle_z, abs=1e-9)
    assert row["coding_fraction"] == pytest.approx(expected, abs=1e-9)
    assert row["fov_region"] == "partially_coded"
    assert result["effective_time_isgri"] == pytest.approx(expected * window["good_isgri"][0], abs=1e-6)
    # the roll is what makes this fraction: at the roll of Hera's former reading it differs
    misread_z = np.radians(window["posangle"][0] - 90.0)
    misread = (ramp(np.degrees(np.arctan(np.tan(rho) * np.sin(theta - misread_z))), ISGRI_FC_Y, ISGRI_ZERO)
               * ramp(np.degrees(np.arctan(np.tan(rho) * np.cos(theta - misread_z))), ISGRI_FC_Z, ISGRI_ZERO))
    assert abs(misread - expected) > 0.05


def test_each_window_uses_its_z_axis_else_its_posangle_else_no_roll(tmp_path):
    windows = real_pointings(REAL / "scw" / "isdc_rev3_scw_nearest1000_ra10_dec10_2024.csv")
    _, reference = coverage(tmp_path, windows, "all", instruments="isgri", ra=10.0, dec=10.0)
    mixed = windows.copy()
    n = len(mixed)
    mixed["ra_z"][: n // 2] = np.nan  # first half: posangle only
    mixed["dec_z"][: n // 2] = np.nan
    mixed["posangle"][n // 2:] = np.nan  # second half: Z axis only
    mixed["posangle"][-5:] = mixed["ra_z"][-5:] = mixed["dec_z"][-5:] = np.nan  # last five: nothing
    result, table = coverage(tmp_path, mixed, "mixed", instruments="isgri", ra=10.0, dec=10.0)

    assert result["orientation"] == "Z axis (ra_z, dec_z), else posangle (Z at position angle -posangle)"
    assert result["n_oriented"] == n - 5
    np.testing.assert_allclose(table["coding_fraction"][:-5], reference["coding_fraction"][:-5], rtol=0,
                               atol=FRACTION_TOLERANCE)
    assert np.all(table["fov_model"][:-5] == "square")
    assert np.all(table["fov_model"][-5:] == "inscribed_circle")
    assert np.all(np.ma.getmaskarray(table["angle_y"][-5:]))  # NaN in FITS, read back masked
    off_axis = table["off_axis"][-5:]
    np.testing.assert_allclose(table["coding_fraction"][-5:], ramp(off_axis, ISGRI_FC_Z, ISGRI_ZERO), atol=1e-9)


def test_a_generic_position_angle_column_is_not_taken_for_posangle(tmp_path):
    windows = without(real_pointings(REAL / "scw" / "isdc_rev3_scw_revs0001-0018.csv"), "ra_z", "dec_z")
    windows.rename_column("posangle", "pa")
    result, table = coverage(tmp_path, windows[:20], "pa", instruments="isgri", ra=299.590316, dec=35.201604)
    assert result["orientation"].startswith("none") and result["n_oriented"] == 0
    assert np.all(table["fov_model"] == "inscribed_circle")


@pytest.mark.parametrize("column", ["dec", "dec_z"])
def test_a_declination_beyond_the_pole_is_refused(tmp_path, column):
    windows = real_pointings(REAL / "scw" / "isdc_rev3_scw_revs0001-0018.csv")[:3]
    windows[column][1] = 95.0
    with pytest.raises(ValueError, match=rf"column '{column}' must lie in \[-90, 90\] degrees \(row 2 has 95.0\)"):
        coverage(tmp_path, windows, "bad", instruments="isgri", ra=10.0, dec=10.0)


# -- the catalogue ----------------------------------------------------------------------------
def test_the_catalogue_describes_posangle_and_coverage_from_its_columns_agrees(app, tmp_path):
    from astropy.io import votable
    import io

    from tap_catalog import ingest

    hera = app.extensions["hera"]
    ingest.ingest(hera.engine, hera.tableset, [REAL / "scw" / "heasarc_intscw_nearest1000_ra10_dec10_2024.csv"],
                  progress=False)
    client = app.test_client()

    def tap(query):
        response = client.post("/tap/sync", data={"LANG": "ADQL", "QUERY": query, "MAXREC": 100000})
        assert response.status_code == 200, response.data[:500]
        return votable.parse(io.BytesIO(response.data)).get_first_table().to_table()

    described = {row["column_name"]: row["description"] for row in tap(
        "SELECT column_name, description FROM TAP_SCHEMA.columns WHERE table_name = 'integral.scw' "
        "AND column_name IN ('posangle', 'ra_z', 'dec_z')")}
    assert described["posangle"].startswith("Minus the position angle (east of north, ICRS) of the spacecraft Z axis")
    assert "Y = Z x X at 90 - posangle" in described["posangle"]
    assert "Z axis, 90 deg from the X axis" in described["ra_z"]

    columns = "scw_id, ra, dec, start_time, end_time, good_isgri, good_omc"
    where = "FROM integral.scw WHERE scw_type = 'pointing' ORDER BY scw_id"
    from_z = tap(f"SELECT {columns}, ra_z, dec_z {where}")
    from_posangle = tap(f"SELECT {columns}, posangle {where}")
    assert len(from_z) > 400
    from_z.write(tmp_path / "z.xml", format="votable")
    from_posangle.write(tmp_path / "posangle.xml", format="votable")
    runs = {}
    for label in ("z", "posangle"):
        runs[label] = scw_coverage(str(tmp_path / f"{label}.xml"), str(tmp_path / f"{label}.fits"),
                                   str(tmp_path / f"{label}.png"), ra=10.0, dec=10.0, instruments="isgri")
    assert runs["z"]["n_oriented"] == runs["posangle"]["n_oriented"] == len(from_z)
    by_z, by_posangle = Table.read(tmp_path / "z.fits"), Table.read(tmp_path / "posangle.fits")
    np.testing.assert_allclose(by_posangle["coding_fraction"], by_z["coding_fraction"], rtol=0,
                               atol=FRACTION_TOLERANCE)
    assert runs["posangle"]["effective_time_isgri"] == pytest.approx(runs["z"]["effective_time_isgri"], abs=1e-3)
