"""Real OSA products through the service: jobs of each tool family (ftools, science-window
tools) on a real RQ worker, with OSA extended file names checked at job creation and the
results checked against astropy/numpy."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from lxml import etree

from test_tools_http import NS, create, finished, job_url, result, space  # noqa: F401 (fixtures)

PRODUCTS = Path(__file__).parent / "data" / "real" / "products"


@pytest.fixture
def osa(space):  # noqa: F811 (the fixture imported above)
    for name in ("isgri_query_lc.fits", "isgri_query_mosaic.fits", "spiacs_lc_query-3.1.fits"):
        space.write(f"osa/{name}", (PRODUCTS / name).read_bytes())
    return "osa"


def completed(client, url, headers):
    root = finished(client, url, headers)
    assert root.findtext("uws:phase", namespaces=NS) == "COMPLETED", client.get(url + "/error", headers=headers).data
    return root


def test_ftools_jobs_on_osa_names_and_an_image_section(client, alice, space, osa, worker):  # noqa: F811
    listing = job_url(create(client, "/tools/ftlist", alice, PHASE="RUN", infile=f"{osa}/isgri_query_lc.fits[ISGR-SRC.-LCR]",
                             option="T", outfile="osa/lc.txt", columns="RATE", rownum="no", colheader="no"))
    section = job_url(create(client, "/tools/ftcopy", alice, PHASE="RUN", outfile="osa/cut.fits", copyall="no",
                             infile=f"{osa}/isgri_query_mosaic.fits[ISGR-MOSA-IMA,2][101:200,101:200]"))
    completed(client, listing, alice)
    rates = fits.getdata(PRODUCTS / "isgri_query_lc.fits", 1)["RATE"]
    listed = [float(v) for v in result(client, listing, alice, "outfile").get_data(as_text=True).split()]
    np.testing.assert_allclose(listed, rates, rtol=1e-6)
    completed(client, section, alice)
    with space.open("osa/cut.fits") as f, fits.open(f) as cut:
        np.testing.assert_array_equal(cut[1].data, fits.getdata(PRODUCTS / "isgri_query_mosaic.fits", 3)[100:200, 100:200])


def test_an_unknown_osa_name_or_a_bad_section_is_refused_at_creation(client, alice, osa):  # noqa: F811
    response = create(client, "/tools/ftcopy", alice, PHASE="RUN", outfile="osa/x.fits",
                      infile=f"{osa}/isgri_query_mosaic.fits[ISGR-MOSA-IMA,2][0:10,1:10]")
    assert response.status_code == 400 and b"pixels are counted from 1" in response.data
    response = create(client, "/tools/fstatistic", alice, PHASE="RUN", colname="RATE",
                      infile=f"{osa}/isgri_query_lc.fits[ISGR-SRC.-LCR][RATE >]")
    assert response.status_code == 303  # the expression is the tool's to judge, as for any filter


def test_an_lcurve_job_rebins_the_spi_acs_rates(client, alice, space, osa, worker):  # noqa: F811
    url = job_url(create(client, "/tools/lcurve", alice, PHASE="RUN", infile=f"{osa}/spiacs_lc_query-3.1.fits",
                         outfile="osa/acs.fits", plotfile="osa/acs.png", binsize="10"))
    root = completed(client, url, alice)
    values = result(client, url, alice, "provenance").json["values"]
    with fits.open(PRODUCTS / "spiacs_lc_query-3.1.fits") as hdul:
        data = hdul[1].data
        assert values["exposure"] == pytest.approx(len(data) * hdul[1].header["TIMEDEL"])
        assert values["mean_rate"] == pytest.approx(data["RATE"].mean())  # equal exposures
    assert values["kind"] == "light curve" and values["n_bins"] == 54
    with space.open("osa/acs.fits") as f, fits.open(f) as lc:
        assert np.all(lc["RATE"].data["TIME"] > 7.3e8) and "MJD_UTC" in lc["RATE"].columns.names
    types = {r.get("id"): r.get("mime-type") for r in root.findall("uws:results/uws:result", NS)}
    assert types["plotfile"] == "image/png"
    assert etree.QName(root).localname == "job"
