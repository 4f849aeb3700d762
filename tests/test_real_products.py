"""Every built-in tool on the real OSA products of tests/data/real/products (README there):
each table HDU named as the OSA names it, image sections of the real mosaics, and lcurve
on the ISGRI, JEM-X and SPI-ACS light curves, each against numbers computed here
independently with astropy and numpy; then one real job per tool family on a worker."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.time import Time
from astropy.wcs import WCS

from tools_registry.filename import HduName, parse
from tools_registry.ftools.fcalc import fcalc
from tools_registry.ftools.fmerge import fmerge
from tools_registry.ftools.fselect import fselect
from tools_registry.ftools.fsort import fsort
from tools_registry.ftools.fstatistic import fstatistic
from tools_registry.ftools.ftcopy import ftcopy
from tools_registry.ftools.ftlist import ftlist
from tools_registry.scw.lcurve import lcurve

PRODUCTS = Path(__file__).parent / "data" / "real" / "products"

#: every table HDU of the products, by the name the OSA (or OGIP) gives it: (file, name, index)
TABLES = [
    ("isgri_4u1700-377_arf.fits", "SPECRESP", 1),
    ("isgri_4u1700-377_rmf.fits", "GROUPING", 1),
    ("isgri_4u1700-377_rmf.fits", "SPECRESP MATRIX", 2),
    ("isgri_4u1700-377_rmf.fits", "EBOUNDS", 3),
    ("isgri_4u1700-377_spec.fits", "ISGR-EVTS-SPE", 1),  # EXTVER 4: found without naming it
    ("isgri_4u1700-377_spec.fits", "ISGR-EVTS-SPE,4", 1),
    ("isgri_query_lc.fits", "ISGR-SRC.-LCR", 1),
    ("isgri_query_mosaic.fits", "GROUPING", 1),
    ("jemx1_lc_grb221009a.fits", "JMX1-SRC.-LCR", 1),
    ("jemx_query_lc_rev0102.fits.gz", "GROUPING", 1),
    ("jemx_query_lc_rev0102.fits.gz", "JMX1-SRC.-LCR", 2),
    ("jemx_query_spectrum_arf_Crab.fits.gz", "SPECRESP", 1),
    ("jemx_query_spectrum_rmf_Crab.fits.gz", "GROUPING", 1),
    ("jemx_query_spectrum_rmf_Crab.fits.gz", "SPECRESP MATRIX", 2),
    ("jemx_query_spectrum_rmf_Crab.fits.gz", "EBOUNDS", 3),
    ("jemx_query_spectrum_rmf_Crab.fits.gz", "JMX1-AXIS-ARF", 4),
    ("jemx_query_spectrum_rmf_Crab.fits.gz", "JMX1-IMAG-ARF", 5),
    ("jemx_query_spectrum_spec_Crab_pha.fits.gz", "JMX1-PHA1-SPE", 1),
    ("jmx1_sloc_res.fits.gz", "JMX1-SLOC-RES", 1),
    ("query_catalog.fits", "1", 1),  # its only extension is (wrongly) called PRIMARY: by number
    ("sc_orbit_param_078900560010.fits.gz", "INTL-ORBI-SCP", 1),
    ("spiacs_lc_query-3.1.fits", "RATE", 1),
]
IDS = [f"{f}[{n}]" for f, n, _ in TABLES]


def reference(file, index):
    """The HDU read directly with astropy, data copied (the file is closed)."""
    with fits.open(PRODUCTS / file) as hdul:
        hdu = hdul[index]
        data = None if hdu.data is None else hdu.data.copy()
        return hdu.header.copy(), data, (data.columns if data is not None else hdu.columns)


def numeric_scalar_columns(columns, data):
    return [c.name for c in columns
            if np.asarray(data.field(c.name)).dtype.kind in "iuf" and np.asarray(data.field(c.name)).ndim == 1]


def test_the_list_covers_every_table_hdu_of_every_product():
    expected = set()
    for path in PRODUCTS.iterdir():
        with fits.open(path) as hdul:
            expected |= {(path.name, i) for i, h in enumerate(hdul) if isinstance(h, fits.BinTableHDU)}
    assert {(f, i) for f, _, i in TABLES} == expected


@pytest.mark.parametrize("name, hdu", [
    ("lc.fits[ISGR-SRC.-LCR]", HduName("ISGR-SRC.-LCR")),
    ("spec.fits[JMX1-PHA1-SPE]", HduName("JMX1-PHA1-SPE")),
    ("mosaic.fits[ISGR-MOSA-IMA,2]", HduName("ISGR-MOSA-IMA", 2)),
    ("mosaic.fits[ISGR-MOSA-IMA, 3, i]", HduName("ISGR-MOSA-IMA", 3, "image")),
    ("rmf.fits[SPECRESP MATRIX]", HduName("SPECRESP MATRIX")),
    ("rmf.fits[GROUPING]", HduName("GROUPING")),
    ("rmf.fits[EBOUNDS,1,b]", HduName("EBOUNDS", 1, "binary")),
    ("any.fits[1]", 1), ("any.fits[P]", 0), ("any.fits[primary]", 0), ("any.fits+2", 2),
])
def test_osa_hdu_names_parse_as_cfitsio_reads_them(name, hdu):
    parsed = parse(name)
    assert parsed.hdu == hdu and parsed.filters == () and parsed.section is None


def test_a_fortran_style_expression_stays_a_row_filter():
    assert parse("lc.fits[RATE .gt. 20]").hdu is None
    assert parse("lc.fits[RATE .gt. 20]").filters[0].text == "RATE .gt. 20"


# -- every table tool on every table HDU ------------------------------------------------------
@pytest.mark.parametrize("file, name, index", TABLES, ids=IDS)
def test_ftlist_lists_every_osa_table_by_name(tmp_path, file, name, index):
    header, data, columns = reference(file, index)
    out = tmp_path / "list.txt"
    ftlist(f"{PRODUCTS / file}[{name}]", "C", str(out))
    listed = [line.split()[1] for line in out.read_text().splitlines()[1:] if line.strip()]
    assert listed == columns.names
    numeric = numeric_scalar_columns(columns, data)
    if numeric:
        column = numeric[0]
        result = ftlist(f"{PRODUCTS / file}[{name}]", "T", str(out), columns=column, rownum=False,
                        colheader=False)
        assert result["rows_listed"] == header["NAXIS2"]
        values = [float(v) for v in out.read_text().split()]
        np.testing.assert_allclose(values, data.field(column).astype(float), rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("file, name, index", TABLES, ids=IDS)
def test_ftcopy_copies_every_osa_table_exactly(tmp_path, file, name, index):
    _, data, columns = reference(file, index)
    out = tmp_path / "copy.fits"
    ftcopy(f"{PRODUCTS / file}[{name}]", str(out), copyall=False)
    with fits.open(out) as hdul:
        assert len(hdul) == 2
        for column in columns.names:
            copied, original = hdul[1].data.field(column), data.field(column)
            if np.asarray(original).dtype.kind in "fc":
                np.testing.assert_array_equal(copied, original)  # NaN equal to NaN
            else:
                assert np.all(np.asarray(copied) == np.asarray(original)), column


@pytest.mark.parametrize("file, name, index", TABLES, ids=IDS)
def test_fstatistic_fselect_fsort_and_fcalc_on_every_osa_table(tmp_path, file, name, index):
    _, data, columns = reference(file, index)
    numeric = numeric_scalar_columns(columns, data)
    if not numeric:
        pytest.skip(f"{file}[{name}] has no numeric scalar column")
    column = numeric[0]
    values = data.field(column).astype(np.float64)
    infile = f"{PRODUCTS / file}[{name}]"

    stats = fstatistic(infile, column, str(tmp_path / "stats.txt"))
    finite = values[~np.isnan(values)]
    assert stats["numb"] == len(finite)
    assert stats["sum"] == pytest.approx(finite.sum(), rel=1e-12, abs=1e-300)
    assert stats["min"] == finite.min() and stats["max"] == finite.max()
    if len(finite) > 1:
        assert stats["sigma"] == pytest.approx(finite.std(ddof=1), rel=1e-9)

    result = fselect(infile, str(tmp_path / "odd.fits"), "#row % 2 == 1", copyall=False)
    assert result == {"rows_in": len(values), "rows_out": len(values[::2])}
    with fits.open(tmp_path / "odd.fits") as hdul:
        np.testing.assert_array_equal(hdul[1].data.field(column), data.field(column)[::2])

    fsort(infile, f"-{column}", str(tmp_path / "sorted.fits"), copyall=False)
    order = np.argsort(-values, kind="stable")  # descending, stable; NaN last
    with fits.open(tmp_path / "sorted.fits") as hdul:
        np.testing.assert_array_equal(hdul[1].data.field(column), data.field(column)[order])

    fcalc(infile, str(tmp_path / "calc.fits"), "HERA_HALF", f"{column} * 0.5", copyall=False)
    with fits.open(tmp_path / "calc.fits") as hdul:
        computed = hdul[1].columns["HERA_HALF"]
        assert computed.format == "D"
        np.testing.assert_array_equal(hdul[1].data["HERA_HALF"], values * 0.5)


def test_fcalc_writes_double_precision_from_single_precision_osa_columns(tmp_path):
    out = tmp_path / "snr.fits"
    fcalc(f"{PRODUCTS / 'isgri_query_lc.fits'}[ISGR-SRC.-LCR]", str(out), "SNR", "RATE / ERROR")
    _, data, _ = reference("isgri_query_lc.fits", 1)
    assert data.columns["RATE"].format == "E" and data.columns["ERROR"].format == "E"
    with fits.open(out) as hdul:
        assert hdul[1].columns["SNR"].format == "D"
        np.testing.assert_array_equal(hdul[1].data["SNR"],
                                      data["RATE"].astype(np.float64) / data["ERROR"].astype(np.float64))


def test_fmerge_joins_the_two_jemx_light_curves_on_their_common_columns(tmp_path):
    out = tmp_path / "merged.fits"
    names = [f"{PRODUCTS / 'jemx_query_lc_rev0102.fits.gz'}[JMX1-SRC.-LCR]",
             f"{PRODUCTS / 'jemx1_lc_grb221009a.fits'}[JMX1-SRC.-LCR]"]
    result = fmerge(names, str(out), columns="TIME,RATE,ERROR,FRACEXP", lastkey="TSTOP")
    _, first, _ = reference("jemx_query_lc_rev0102.fits.gz", 2)
    last_header, last, _ = reference("jemx1_lc_grb221009a.fits", 1)
    assert result == {"rows": len(first) + len(last), "files": 2}
    with fits.open(out) as hdul:
        np.testing.assert_array_equal(hdul[1].data["RATE"], np.concatenate([first["RATE"], last["RATE"]]))
        assert hdul[1].header["TSTOP"] == last_header["TSTOP"]


# -- images: HDU names with versions, and sections ------------------------------------------
def test_an_image_section_of_a_mosaic_extension_keeps_pixels_and_sky_positions(tmp_path):
    out, listing = tmp_path / "cut.fits", tmp_path / "pixels.txt"
    result = ftcopy(f"{PRODUCTS / 'isgri_query_mosaic.fits'}[ISGR-MOSA-IMA,2][101:200,101:200]", str(out))
    with fits.open(PRODUCTS / "isgri_query_mosaic.fits") as original, fits.open(out) as cut:
        assert result["shape"] == [100, 100] and len(cut) == len(original)
        assert (cut[3].header["EXTNAME"], cut[3].header["EXTVER"]) == ("ISGR-MOSA-IMA", 2)
        np.testing.assert_array_equal(cut[3].data, original[3].data[100:200, 100:200])
        np.testing.assert_array_equal(cut[4].data, original[4].data)  # the other images untouched
        sky = WCS(original[3].header).pixel_to_world_values(149.0, 119.0)  # 0-based pixel (150, 120)
        assert np.allclose(WCS(cut[3].header).pixel_to_world_values(49.0, 19.0), sky, atol=1e-9)
    ftlist(f"{PRODUCTS / 'isgri_query_mosaic.fits'}[ISGR-MOSA-IMA,4][101:103,201:202]", "I", str(listing))
    rows = [[float(v) for v in line.split()] for line in listing.read_text().splitlines() if line.strip()]
    np.testing.assert_allclose(rows, fits.getdata(PRODUCTS / "isgri_query_mosaic.fits", 5)[200:202, 100:103],
                               rtol=1e-6)


def test_a_stepped_and_flipped_section_of_a_compressed_primary_image(tmp_path):
    name = "1E_1740_7_2942_isgri_mosaic_clean_significance25_40.fits.gz"
    original_data = fits.getdata(PRODUCTS / name)
    header = fits.getheader(PRODUCTS / name)
    ftcopy(f"{PRODUCTS / name}[1:433:2,*]", str(tmp_path / "odd.fits"))
    ftcopy(f"{PRODUCTS / name}[0][-*,40:11]", str(tmp_path / "flip.fits"))
    with fits.open(tmp_path / "odd.fits") as odd, fits.open(tmp_path / "flip.fits") as flip:
        np.testing.assert_array_equal(odd[0].data, original_data[:, ::2])
        np.testing.assert_array_equal(flip[0].data, original_data[39:9:-1, ::-1])
        for cut, pixel in ((odd[0], (4.0, 7.0)), (flip[0], (3.0, 5.0))):
            world = WCS(cut.header).pixel_to_world_values(*pixel)
            # back to the original's 0-based pixel, by the section's own arithmetic
            if cut is odd[0]:
                source = (pixel[0] * 2, pixel[1])
            else:
                source = (header["NAXIS1"] - 1 - pixel[0], 39 - pixel[1])
            assert np.allclose(world, WCS(header).pixel_to_world_values(*source), atol=1e-9)


@pytest.mark.parametrize("tool", ["fstatistic", "fselect", "fsort", "fcalc"])
def test_table_tools_refuse_an_image_section_clearly(tmp_path, tool):
    infile = f"{PRODUCTS / 'isgri_query_mosaic.fits'}[2][1:10,1:10]"
    out = str(tmp_path / "x.fits")
    calls = {"fstatistic": lambda: fstatistic(infile, "X", out), "fselect": lambda: fselect(infile, out, "X > 1"),
             "fsort": lambda: fsort(infile, "X", out), "fcalc": lambda: fcalc(infile, out, "Y", "X")}
    with pytest.raises(ValueError, match=r"image section \[1:10,1:10\] selects pixels of an image"):
        calls[tool]()


def test_a_section_of_a_table_or_beyond_the_image_is_refused(tmp_path):
    out = str(tmp_path / "x.fits")
    with pytest.raises(ValueError, match="'GROUPING' is a table"):
        ftcopy(f"{PRODUCTS / 'isgri_query_mosaic.fits'}[GROUPING][1:2,1:2]", out)
    with pytest.raises(ValueError, match="axis 2 has 479 pixels"):
        ftcopy(f"{PRODUCTS / 'isgri_query_mosaic.fits'}[ISGR-MOSA-IMA,1][1:10,470:480]", out)
    with pytest.raises(ValueError, match="no extension 'ISGR-MOSA-IMA' version 5"):
        ftcopy(f"{PRODUCTS / 'isgri_query_mosaic.fits'}[ISGR-MOSA-IMA,5]", out)


# -- lcurve on the real light curves ----------------------------------------------------------
def light_curve_rows(file, index):
    """Per row: absolute start and width (the file's unit), exposure (s), rate and error,
    from the file's own keywords and columns, as OGIP/93-003 and the OSA define them."""
    with fits.open(PRODUCTS / file) as hdul:
        header, data = hdul[index].header, hdul[index].data
        unit_s = 86400.0 if header["TIMEUNIT"].strip() == "d" else 1.0
        time = data["TIME"] + header.get("TIMEZERO", 0.0)
        names = data.columns.names
        width = (data["TIMEDEL"] if "TIMEDEL" in names else
                 2 * data["XAX_E"] if "XAX_E" in names else np.full(len(data), header["TIMEDEL"])).astype(float)
        fracexp = data["FRACEXP"].astype(float) if "FRACEXP" in names else np.ones(len(data))
        start = time - header.get("TIMEPIXR", 0.5) * width
        return dict(header=header.copy(), start=start, width=width, exposure=fracexp * width * unit_s,
                    rate=data["RATE"].astype(float), error=data["ERROR"].astype(float), unit_s=unit_s)


def expected_rebinned(rows, binsize):
    """Rebinned by each row's centre: rate weighted by exposure, error in quadrature."""
    good = rows["exposure"] > 0
    start, width = rows["start"][good], rows["width"][good]
    exposure, rate, error = rows["exposure"][good], rows["rate"][good], rows["error"][good]
    step = binsize / rows["unit_s"]
    index = np.floor((start + width / 2 - start.min()) / step).astype(int)
    bins = np.unique(index)
    e = np.array([exposure[index == b].sum() for b in bins])
    r = np.array([(rate * exposure)[index == b].sum() for b in bins]) / e
    s = np.array([np.sqrt(((error * exposure)[index == b] ** 2).sum()) for b in bins]) / e
    centre = start.min() + (bins + 0.5) * step
    return centre, e, r, s


@pytest.mark.parametrize("file, name, index, binsize", [
    ("isgri_query_lc.fits", "ISGR-SRC.-LCR", 1, 2000.0),
    ("isgri_query_lc.fits", "ISGR-SRC.-LCR", 1, 1000.0),
    ("jemx_query_lc_rev0102.fits.gz", "JMX1-SRC.-LCR", 2, 100.0),
    ("jemx1_lc_grb221009a.fits", "JMX1-SRC.-LCR", 1, 5000.0),
    ("spiacs_lc_query-3.1.fits", "RATE", 1, 1.0),
])
def test_lcurve_rebins_real_light_curves(tmp_path, file, name, index, binsize):
    out = tmp_path / "lc.fits"
    result = lcurve(f"{PRODUCTS / file}[{name}]", str(out), str(tmp_path / "lc.png"), binsize, gtiext="")
    rows = light_curve_rows(file, index)
    centre, exposure, rate, error = expected_rebinned(rows, binsize)
    with fits.open(out) as hdul:
        data, header = hdul["RATE"].data, hdul["RATE"].header
        np.testing.assert_allclose(data["TIME"], centre, rtol=1e-12)
        np.testing.assert_allclose(data["FRACEXP"] * binsize, exposure, rtol=1e-6)
        np.testing.assert_allclose(data["RATE"], rate, rtol=1e-6)
        np.testing.assert_allclose(data["ERROR"], error, rtol=1e-6)
        np.testing.assert_allclose(data["COUNTS"], rate * exposure, rtol=1e-6)
        utc = Time(rows["header"]["MJDREF"], data["TIME"] * rows["unit_s"] / 86400.0, format="mjd",
                   scale=rows["header"]["TIMESYS"].strip().lower()).utc.mjd
        np.testing.assert_allclose(data["MJD_UTC"], utc, rtol=0, atol=1e-9)  # 86 microseconds
        assert header["TIMEZERO"] == 0.0 and header["TIMESYS"] == "TT" and header["MJDREF"] == 51544.0
        good = rows["exposure"] > 0
        assert header["EXPOSURE"] == pytest.approx(rows["exposure"][good].sum(), rel=1e-9)
    assert result["kind"] == "light curve" and result["n_bins"] == len(centre)
    assert (result["rows_used"], result["rows_skipped"]) == (good.sum(), (~good).sum())
    assert result["mean_rate"] == pytest.approx((rows["rate"] * rows["exposure"])[good].sum()
                                                / rows["exposure"][good].sum())


def test_lcurve_skips_the_jemx_row_with_a_negative_timedel(tmp_path):
    # lc_pick wrote row 103 of the GRB 221009A curve twice, the second time with TIMEDEL < 0
    data = fits.getdata(PRODUCTS / "jemx1_lc_grb221009a.fits", 1)
    assert np.count_nonzero(data["TIMEDEL"] <= 0) == 1
    result = lcurve(str(PRODUCTS / "jemx1_lc_grb221009a.fits"), str(tmp_path / "lc.fits"),
                    str(tmp_path / "lc.png"), 1000.0)
    assert (result["rows_used"], result["rows_skipped"]) == (len(data) - 1, 1)
    assert "1 rows skipped" in str(fits.getheader(tmp_path / "lc.fits", "RATE")["HISTORY"])


def test_lcurve_on_spi_acs_honours_timezero_and_gives_poisson_errors(tmp_path):
    out = tmp_path / "acs.fits"
    infile = str(PRODUCTS / "spiacs_lc_query-3.1.fits")
    result = lcurve(infile, str(out), str(tmp_path / "acs.png"), 1.0)
    with fits.open(infile) as hdul:
        header, data = hdul[1].header, hdul[1].data
    absolute = data["TIME"] + header["TIMEZERO"]
    assert result["exposure"] == pytest.approx(len(data) * header["TIMEDEL"])  # 540 s, every row
    assert result["tstart"] == pytest.approx(absolute.min() - 0.05)
    with fits.open(out) as hdul:
        lc = hdul["RATE"].data
    assert lc["TIME"].min() > absolute.min() - 1 and lc["TIME"].max() < absolute.max() + 1
    assert len(lc) == 540 and np.all(lc["FRACEXP"] > 0.8)
    # ACS counts are Poisson: in 1 s bins ERROR must be sqrt(RATE x 1 s), within the jitter
    # of rows that really last 0.05 or 0.15 s (the file's own ERROR says so)
    np.testing.assert_allclose(lc["ERROR"], np.sqrt(lc["RATE"] * 1.0), rtol=0.08)
    assert np.median(lc["ERROR"] / np.sqrt(lc["RATE"])) == pytest.approx(1.0, rel=0.01)
    # GRB 230307A (Fermi GBM trigger 2023-03-07T15:44:06.67 UTC): its rise in UTC
    brightest = Time(lc["MJD_UTC"][np.argmax(lc["RATE"])], format="mjd", scale="utc")
    rise = Time(lc["MJD_UTC"][np.argmax(lc["RATE"] > 2 * np.median(lc["RATE"]))], format="mjd", scale="utc")
    assert abs((rise - Time("2023-03-07T15:44:06.67", scale="utc")).sec) < 2.0
    assert 0 < (brightest - rise).sec < 60


def test_lcurve_with_an_explicit_range_on_spi_acs(tmp_path):
    infile = str(PRODUCTS / "spiacs_lc_query-3.1.fits")
    with fits.open(infile) as hdul:
        header, data = hdul[1].header, hdul[1].data.copy()
    tstart = header["TIMEZERO"] - 100.0
    result = lcurve(infile, str(tmp_path / "acs.fits"), str(tmp_path / "acs.png"), 10.0, tstart=tstart,
                    tstop=tstart + 50.0)
    centre = data["TIME"] + header["TIMEZERO"]
    chosen = (centre >= tstart) & (centre < tstart + 50.0)
    lc = fits.getdata(tmp_path / "acs.fits", "RATE")
    assert result["n_bins"] == 5 and result["exposure"] == pytest.approx(chosen.sum() * 0.1)
    first = chosen & (centre < tstart + 10.0)
    assert lc["RATE"][0] == pytest.approx(data["RATE"][first].mean(), rel=1e-9)
    assert lc["ERROR"][0] == pytest.approx(np.sqrt((data["ERROR"][first] ** 2).sum()) / first.sum(), rel=1e-9)


def test_lcurve_refuses_what_is_neither_events_nor_a_light_curve(tmp_path):
    out, png = str(tmp_path / "lc.fits"), str(tmp_path / "lc.png")
    for name in ("isgri_4u1700-377_spec.fits", "query_catalog.fits", "sc_orbit_param_078900560010.fits.gz",
                 "isgri_query_mosaic.fits"):
        with pytest.raises(ValueError, match="neither an event list nor a light curve"):
            lcurve(str(PRODUCTS / name), out, png, 100.0)
    with pytest.raises(ValueError, match="neither an event list nor a light curve but a response table"):
        lcurve(f"{PRODUCTS / 'isgri_4u1700-377_rmf.fits'}[EBOUNDS]", out, png, 100.0)
    with pytest.raises(ValueError, match="narrower than the light curve's bins"):
        lcurve(str(PRODUCTS / "jemx1_lc_grb221009a.fits"), out, png, 100.0)
    with pytest.raises(ValueError, match="a binned light curve has its energy band already"):
        lcurve(str(PRODUCTS / "isgri_query_lc.fits"), out, png, 2000.0, emin=30)
    with pytest.raises(ValueError, match="an image section"):
        lcurve(f"{PRODUCTS / 'isgri_query_mosaic.fits'}[2][1:10,1:10]", out, png, 100.0)
