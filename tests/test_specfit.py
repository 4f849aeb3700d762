"""specfit: fits of the real JEM-X and ISGRI spectra against the values the issue names
and against this file's own forward folding (numpy + scipy), OSA's quirks on small
synthetic files, clear errors for bad inputs, and a job through the service."""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from scipy.optimize import least_squares

from schemas import assert_valid
from test_tools_http import NS, create, finished, job_url, result, space  # noqa: F401 (fixtures)
from tools_registry.registry import Registry
from tools_registry.spectral.specfit import specfit

PRODUCTS = Path(__file__).parent / "data" / "real" / "products"
CRAB = {"phafile": str(PRODUCTS / "jemx_query_spectrum_spec_Crab_pha.fits.gz"),
        "arffile": str(PRODUCTS / "jemx_query_spectrum_arf_Crab.fits.gz"),
        "rmffile": str(PRODUCTS / "jemx_query_spectrum_rmf_Crab.fits.gz")}
ISGRI = {"phafile": str(PRODUCTS / "isgri_4u1700-377_spec.fits"),
         "arffile": str(PRODUCTS / "isgri_4u1700-377_arf.fits"),
         "rmffile": str(PRODUCTS / "isgri_4u1700-377_rmf.fits")}


def fit(tmp_path, **kwargs):
    out, plot = tmp_path / "fit.fits", tmp_path / "fit.png"
    values = specfit(outfile=str(out), plotfile=str(plot), **kwargs)
    with fits.open(out) as hdul:
        table = {row["PARAM"]: row for row in hdul[1].data}
        header = hdul[1].header
    return values, table, header, plot


# -- the real spectra ------------------------------------------------------------------------


def test_the_jemx_crab_spectrum_gives_the_crab_index_and_flux(tmp_path):
    values, table, header, plot = fit(tmp_path, model="phabs*powerlaw", par="nH=0.4", freeze="nH", **CRAB)
    assert 2.0 <= table["PhoIndex"]["VALUE"] <= 2.25
    assert 1.5e-8 <= header["FLUX"] <= 3e-8
    assert header["FLUX_LO"] < header["FLUX"] < header["FLUX_HI"]
    assert (header["EMIN"], header["EMAX"]) == (2.0, 10.0)
    assert header["STATISTIC"] == "chi2" and header["DOF"] == 14 and header["MODEL"] == "phabs*powerlaw"
    assert 0 < header["STATVAL"] < 30
    index = table["PhoIndex"]
    assert index["ERR_LO"] < 0 < index["ERR_HI"] and index["ERR90_LO"] < index["ERR_LO"]
    assert index["ERR90_HI"] > index["ERR_HI"]
    assert table["nH"]["FROZEN"] and not index["FROZEN"] and table["norm"]["UNIT"].startswith("photons")
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert values["statistic"] == "chi2" and values["PhoIndex"] == pytest.approx(index["VALUE"])


def test_the_isgri_spectrum_of_4u1700_gives_a_soft_index(tmp_path):
    _, table, header, _ = fit(tmp_path, model="powerlaw", emin=20, emax=200, fluxband="20-100", **ISGRI)
    assert 2.6 <= table["PhoIndex"]["VALUE"] <= 3.0
    assert header["NBINS1"] == 44  # 20-200 keV, channel 0 (QUALITY 3) left out


def forward_fold(pha, arf, rmf, emin, emax):
    """This test's own fit of a power law: the RMF expanded with astropy and numpy,
    the model integrated over each energy bin, chi-square minimised by scipy."""
    with fits.open(rmf) as hdul:
        m = next(h for h in hdul if h.header.get("HDUCLAS2") == "RSP_MATRIX")
        e = next(h for h in hdul if h.header.get("HDUCLAS2") == "EBOUNDS")
        lo, hi = m.data["ENERG_LO"].astype(float), m.data["ENERG_HI"].astype(float)
        offset = m.header.get("TLMIN4", 1)
        matrix = np.zeros((len(lo), len(e.data)))
        for i, row in enumerate(m.data):
            for f, n in zip(np.atleast_1d(row["F_CHAN"]), np.atleast_1d(row["N_CHAN"])):
                matrix[i, f - offset:f - offset + n] = np.asarray(row["MATRIX"])[:n]
        e_min, e_max = e.data["E_MIN"], e.data["E_MAX"]
    area = fits.getdata(arf, 1)["SPECRESP"]
    spectrum = fits.getdata(pha, 1)
    rate, error, quality = spectrum["RATE"], spectrum["STAT_ERR"], spectrum["QUALITY"]
    # the channels that overlap emin..emax, as XSPEC and sherpa select them
    use = (quality == 0) & (error > 0) & (e_max > emin) & (e_min < emax)

    def predicted(p):
        index, norm = p
        photons = norm * (hi ** (1 - index) - lo ** (1 - index)) / (1 - index)
        return (photons * area) @ matrix

    solution = least_squares(lambda p: (rate[use] - predicted(p)[use]) / error[use], x0=[2.0, 1.0],
                             x_scale=[0.1, 1.0])
    jacobian = solution.jac
    covariance = np.linalg.inv(jacobian.T @ jacobian)
    return solution.x, np.sqrt(np.diag(covariance))


@pytest.mark.parametrize("files, band", [(CRAB, (3.0, 35.0)), (ISGRI, (20.0, 200.0))])
def test_sherpa_agrees_with_an_independent_forward_folding(tmp_path, files, band):
    (index, norm), (index_err, _) = forward_fold(files["phafile"], files["arffile"], files["rmffile"], *band)
    _, table, _, _ = fit(tmp_path, model="powerlaw", emin=band[0], emax=band[1], **files)
    sherpa_index = table["PhoIndex"]
    assert abs(sherpa_index["VALUE"] - index) < 0.1 * index_err
    assert sherpa_index["ERR_HI"] == pytest.approx(index_err, rel=0.25)
    assert table["norm"]["VALUE"] == pytest.approx(norm, rel=0.05)


def test_the_responses_named_in_the_header_are_found(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for key in ("arffile", "rmffile"):
        shutil.copy(CRAB[key], folder / Path(CRAB[key]).name)
    with fits.open(CRAB["phafile"]) as hdul:
        hdul[1].header["RESPFILE"] = Path(CRAB["rmffile"]).name
        hdul[1].header["ANCRFILE"] = Path(CRAB["arffile"]).name
        hdul.writeto(folder / "crab.pha")
    given = fit(tmp_path, model="powerlaw", **CRAB)[1]["PhoIndex"]["VALUE"]
    found = fit(tmp_path, model="powerlaw", phafile=str(folder / "crab.pha"))[1]["PhoIndex"]["VALUE"]
    assert found == pytest.approx(given)


def test_a_header_cannot_name_a_response_outside_its_folder(tmp_path):
    with fits.open(CRAB["phafile"]) as hdul:
        hdul[1].header["RESPFILE"] = "../secret.rmf"
        hdul.writeto(tmp_path / "crab.pha")
    with pytest.raises(ValueError, match="rmffile: .*outside its folder"):
        fit(tmp_path, phafile=str(tmp_path / "crab.pha"))


def test_a_joint_fit_has_a_cross_normalisation(tmp_path):
    values, table, header, _ = fit(tmp_path, model="powerlaw", phafile=[CRAB["phafile"]] * 2,
                                   arffile=[CRAB["arffile"]] * 2, rmffile=[CRAB["rmffile"]] * 2)
    assert table["factor_2.factor"]["VALUE"] == pytest.approx(1.0, abs=1e-3)
    single = fit(tmp_path, model="powerlaw", **CRAB)[1]
    assert table["PhoIndex"]["VALUE"] == pytest.approx(single["PhoIndex"]["VALUE"], abs=1e-3)
    assert header["DOF"] == 2 * 16 - 3 and header["PHAFILE2"]


# -- synthetic files: OSA's quirks, counts and the model list -----------------------------------


def write_response(folder, n_energies=200, n_channels=32, offset=0, osa_names=False, quirks=False):
    """A diagonal-ish Gaussian response from 2 to 60 keV, written with compressed rows
    (variable-length F_CHAN/N_CHAN/MATRIX) and an ARF of 100 cm^2."""
    edges = np.geomspace(2.0, 60.0, n_energies + 1)
    lo, hi = edges[:-1], edges[1:]
    channel_edges = np.geomspace(2.0, 60.0, n_channels + 1)
    centre = (channel_edges[:-1] + channel_edges[1:]) / 2
    f_chan, n_chan, matrix, n_grp = [], [], [], []
    for e in (lo + hi) / 2:
        row = np.exp(-0.5 * ((centre - e) / (0.05 * e + 0.3)) ** 2)
        row /= row.sum()
        keep = np.flatnonzero(row > 1e-4)
        f_chan.append([keep[0] + offset]), n_chan.append([len(keep)])
        matrix.append(row[keep[0]:keep[-1] + 1].astype(np.float32)), n_grp.append(1)
    rmf = fits.BinTableHDU.from_columns([
        fits.Column("ENERG_LO", "E", array=lo), fits.Column("ENERG_HI", "E", array=hi),
        fits.Column("N_GRP", "I", array=n_grp), fits.Column("F_CHAN", "PI()", array=f_chan),
        fits.Column("N_CHAN", "PI()", array=n_chan), fits.Column("MATRIX", "PE()", array=matrix)],
        name="ISGR-RMF.-RSP" if osa_names else "MATRIX")
    rmf.header.update(HDUCLASS="OGIP", HDUCLAS1="RESPONSE", HDUCLAS2="RSP_MATRIX", TLMIN4=offset)
    rmf.header["DETCHANS"] = None if quirks else n_channels  # OSA leaves keywords without a value
    ebounds = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", "J", array=np.arange(n_channels) + offset),
        fits.Column("E_MIN", "E", array=channel_edges[:-1]), fits.Column("E_MAX", "E", array=channel_edges[1:])],
        name="ISGR-EBDS-MOD" if osa_names else "EBOUNDS")
    ebounds.header.update(HDUCLASS="OGIP", HDUCLAS1="RESPONSE", HDUCLAS2="EBOUNDS")
    fits.HDUList([fits.PrimaryHDU(), rmf, ebounds]).writeto(folder / "synth.rmf", overwrite=True)
    arf = fits.BinTableHDU.from_columns([
        fits.Column("ENERG_LO", "E", array=lo), fits.Column("ENERG_HI", "E", array=hi),
        fits.Column("SPECRESP", "E", array=np.full(n_energies, 100.0))],
        name="JMX1-AXIS-ARF" if osa_names else "SPECRESP")
    arf.header.update(HDUCLASS="OGIP", HDUCLAS1="RESPONSE", HDUCLAS2="SPECRESP")
    fits.HDUList([fits.PrimaryHDU(), arf]).writeto(folder / "synth.arf", overwrite=True)
    full = np.zeros((n_energies, n_channels))
    for i, (f, m) in enumerate(zip(f_chan, matrix)):
        full[i, f[0] - offset:f[0] - offset + len(m)] = m
    return lo, hi, full


def expected_counts(lo, hi, full, index, norm, exposure):
    photons = norm * (hi ** (1 - index) - lo ** (1 - index)) / (1 - index)
    return (photons * 100.0) @ full * exposure


def write_counts(folder, counts, exposure, first_channel=1, extra=None):
    pha = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", "J", array=np.arange(len(counts)) + first_channel),
        fits.Column("COUNTS", "J", array=counts)], name="SPECTRUM")
    pha.header.update(HDUCLASS="OGIP", HDUCLAS1="SPECTRUM", HDUCLAS2="TOTAL", HDUCLAS3="COUNT",
                      EXPOSURE=exposure, POISSERR=True, **(extra or {}))
    fits.HDUList([fits.PrimaryHDU(), pha]).writeto(folder / "synth.pha", overwrite=True)
    return str(folder / "synth.pha")


def synthetic(folder):
    return {"arffile": str(folder / "synth.arf"), "rmffile": str(folder / "synth.rmf")}


def test_poisson_counts_are_fitted_with_the_c_statistic(tmp_path):
    lo, hi, full = write_response(tmp_path)
    counts = np.random.default_rng(1).poisson(expected_counts(lo, hi, full, 1.8, 0.5, 1000.0))
    _, table, header, _ = fit(tmp_path, model="powerlaw", phafile=write_counts(tmp_path, counts, 1000.0),
                              **synthetic(tmp_path))
    assert header["STATISTIC"] == "cstat"
    index = table["PhoIndex"]
    assert index["VALUE"] + 3 * index["ERR_LO"] < 1.8 < index["VALUE"] + 3 * index["ERR_HI"]


def test_osa_quirks_are_adapted(tmp_path):
    """OSA extension names, a keyword without a value, numeric keywords holding 'Real',
    NaN rates in bad channels, spectrum channels from 1 against a matrix from 0."""
    lo, hi, full = write_response(tmp_path, offset=0, osa_names=True, quirks=True)
    exposure = 2000.0
    model = expected_counts(lo, hi, full, 2.1, 2.0, exposure)
    counts = np.random.default_rng(2).poisson(model)
    rate, error = counts / exposure, np.sqrt(np.maximum(counts, 1)) / exposure
    rate[[0, 31]] = np.nan
    quality = np.zeros(32, dtype=int)
    quality[0] = 1
    pha = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", "I", array=np.arange(1, 33)), fits.Column("RATE", "D", array=rate),
        fits.Column("STAT_ERR", "D", array=error), fits.Column("SYS_ERR", "D", array=np.zeros(32)),
        fits.Column("QUALITY", "I", array=quality)], name="ISGR-EVTS-SPE")
    pha.header.update(HDUCLASS="OGIP", HDUCLAS1="SPECTRUM", HDUCLAS2="NET", HDUCLAS3="RATE",
                      EXPOSURE=exposure, POISSERR=False, BACKSCAL="Real", AREASCAL="Integer", TLMIN1=1)
    pha.header["CORRSCAL"] = None
    fits.HDUList([fits.PrimaryHDU(), pha]).writeto(tmp_path / "osa.pha")
    values, table, header, _ = fit(tmp_path, model="powerlaw", phafile=str(tmp_path / "osa.pha"),
                                   **synthetic(tmp_path))
    assert header["STATISTIC"] == "chi2" and header["NBINS1"] == 30
    index = table["PhoIndex"]
    assert index["VALUE"] + 3 * index["ERR_LO"] < 2.1 < index["VALUE"] + 3 * index["ERR_HI"]
    assert "NaN" in values["notes"]


def write_background(folder, counts, exposure, backscal):
    pha = fits.BinTableHDU.from_columns([
        fits.Column("CHANNEL", "J", array=np.arange(1, len(counts) + 1)),
        fits.Column("COUNTS", "J", array=counts)], name="SPECTRUM")
    pha.header.update(HDUCLASS="OGIP", HDUCLAS1="SPECTRUM", HDUCLAS2="BKG", HDUCLAS3="COUNT",
                      EXPOSURE=exposure, POISSERR=True, BACKSCAL=backscal)
    fits.HDUList([fits.PrimaryHDU(), pha]).writeto(folder / "synth_bkg.pha", overwrite=True)
    return str(folder / "synth_bkg.pha")


@pytest.mark.parametrize("statistic, recorded", [("auto", "wstat"), ("chi2", "chi2")])
def test_a_background_spectrum_is_scaled_and_used(tmp_path, statistic, recorded):
    """Source plus background counts, and a background taken over 5 times the area:
    the W-statistic (or chi-square after subtraction) finds the source's index, where
    ignoring the background would not."""
    lo, hi, full = write_response(tmp_path)
    rng = np.random.default_rng(4)
    source = expected_counts(lo, hi, full, 2.0, 1.0, 1000.0)
    background = np.full(32, 0.5 * source.mean())
    counts = rng.poisson(source + background)
    pha = write_counts(tmp_path, counts, 1000.0, extra={"BACKFILE": "synth_bkg.pha", "BACKSCAL": 1.0})
    write_background(tmp_path, rng.poisson(background * 5), 1000.0, 5.0)
    _, table, header, _ = fit(tmp_path, model="powerlaw", phafile=pha, statistic=statistic, **synthetic(tmp_path))
    assert header["STATISTIC"] == recorded
    index = table["PhoIndex"]
    assert index["VALUE"] + 3 * index["ERR_LO"] < 2.0 < index["VALUE"] + 3 * index["ERR_HI"]
    with fits.open(pha, mode="update") as hdul:
        hdul[1].header["BACKFILE"] = "NONE"
    ignored = fit(tmp_path, model="powerlaw", phafile=pha, **synthetic(tmp_path))[1]["PhoIndex"]["VALUE"]
    assert ignored < index["VALUE"] - 0.1  # a flat background flattens the spectrum


def test_a_net_spectrum_refuses_a_second_background(tmp_path):
    with pytest.raises(ValueError, match="backfile: .*already background-subtracted"):
        fit(tmp_path, backfile=CRAB["phafile"], **CRAB)


def test_type_ii_files_and_grouping(tmp_path):
    """Row 2 of a type II file is fitted; GROUPING joins channels into fewer bins."""
    lo, hi, full = write_response(tmp_path)
    rng = np.random.default_rng(5)
    spectra = [rng.poisson(expected_counts(lo, hi, full, index, 1.0, 1000.0)) for index in (1.5, 2.5)]
    grouping = np.tile([1, -1], 16)
    pha = fits.BinTableHDU.from_columns([
        fits.Column("SPEC_NUM", "J", array=[1, 2]),
        fits.Column("CHANNEL", "32J", array=np.tile(np.arange(1, 33), (2, 1))),
        fits.Column("COUNTS", "32J", array=np.array(spectra)),
        fits.Column("GROUPING", "32I", array=np.tile(grouping, (2, 1)))], name="SPECTRUM")
    pha.header.update(HDUCLASS="OGIP", HDUCLAS1="SPECTRUM", HDUCLAS2="TOTAL", HDUCLAS3="COUNT",
                      HDUCLAS4="TYPE:II", EXPOSURE=1000.0, POISSERR=True)
    fits.HDUList([fits.PrimaryHDU(), pha]).writeto(tmp_path / "typeii.pha")
    with pytest.raises(ValueError, match="phafile: a type II file with 2 spectra; choose one with row"):
        fit(tmp_path, model="powerlaw", phafile=str(tmp_path / "typeii.pha"), **synthetic(tmp_path))
    _, table, header, _ = fit(tmp_path, model="powerlaw", phafile=str(tmp_path / "typeii.pha"), row=2,
                              **synthetic(tmp_path))
    index = table["PhoIndex"]
    assert index["VALUE"] + 3 * index["ERR_LO"] < 2.5 < index["VALUE"] + 3 * index["ERR_HI"]
    assert header["NBINS1"] == 16 and header["DOF"] == 14


@pytest.mark.parametrize("model, par, truth", [
    ("cutoffpl", "PhoIndex=1.2,HighECut=20", {"HighECut": 25.0}),
    ("bknpower", "PhoIndx1=1.5,BreakE=12,PhoIndx2=2.5", {"BreakE": 15.0}),
    ("bbody", "kT=3", {"kT": 4.0}),
    ("bremss", "kT=10", {"kT": 15.0}),
    ("phabs*(powerlaw+gaussian)", "nH=1,PhoIndex=2,LineE=6.4,Sigma=0.3,gaussian.norm=0.05", {"LineE": 6.4}),
])
def test_each_model_recovers_its_own_spectrum(tmp_path, model, par, truth):
    """Counts drawn from the model with the true values (sherpa folding them) are fitted
    from other start values; the fit finds the truth within 3 sigma."""
    from sherpa.astro.instrument import Response1D

    from tools_registry.spectral import models, ogip
    lo, hi, full = write_response(tmp_path)
    expression = models.Expression(model)
    for name, value in truth.items():
        expression.parameter(name).val = value
    for p in expression.parameters:
        if p.name == "norm":
            p.val = {"gaussian": 0.05}.get(p.modelname, 1.0)
    spectrum = ogip.read_pha(write_counts(tmp_path, np.ones(32, int), 1000.0))
    ogip.match(spectrum, ogip.read_arf(str(tmp_path / "synth.arf")), ogip.read_rmf(str(tmp_path / "synth.rmf")))
    predicted = spectrum.data.eval_model(Response1D(spectrum.data)(expression.model))
    counts = np.random.default_rng(3).poisson(predicted * 30)  # bright: every model's shape shows
    _, table, header, _ = fit(tmp_path, model=model, par=par, phafile=write_counts(tmp_path, counts, 30000.0),
                              fluxband="3-50", **synthetic(tmp_path))
    for name, value in truth.items():
        row = table[name]
        assert row["VALUE"] + 3 * row["ERR_LO"] - 1e-6 < value < row["VALUE"] + 3 * row["ERR_HI"] + 1e-6, name
    assert header["FLUX"] > 0


# -- bad inputs are parameter errors ------------------------------------------------------------


@pytest.mark.parametrize("change, message", [
    ({"rmffile": ISGRI["rmffile"], "arffile": ISGRI["arffile"]}, "phafile: 16 channels, but the RMF"),
    ({"emin": 500.0, "emax": 600.0}, "emin/emax: no good channel"),
    ({"emin": 10.0, "emax": 5.0}, "emin .* must be below emax"),
    ({"model": "phabs*powerlw"}, "model: unknown component 'powerlw'"),
    ({"model": "powerlaw**2"}, "model: .*only component names"),
    ({"par": "Gamma=2"}, "par: no parameter 'Gamma'"),
    ({"par": "PhoIndex=twenty"}, "par: .*must be numbers"),
    ({"freeze": "nh2"}, "freeze: no parameter 'nh2'"),
    ({"statistic": "cstat"}, "statistic: the C-statistic needs Poisson counts"),
    ({"fluxband": "10-2"}, "fluxband: '10-2' is not an energy band"),
    ({"arffile": CRAB["phafile"]}, "arffile: no SPECRESP"),
    ({"phafile": CRAB["arffile"]}, "phafile: no SPECTRUM extension"),
    ({"arffile": ISGRI["arffile"]}, "arffile: its energy grid"),
    ({"row": 2}, "row: .*type I"),
])
def test_bad_inputs_are_named_errors(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        fit(tmp_path, **{**CRAB, **change})


def test_specfit_is_declared():
    tool = Registry.load(entry_points=False).latest("specfit")
    assert tool.implementation.python == "tools_registry.spectral.specfit:specfit"
    names = [p.name for p in tool.parameters]
    assert names[:3] == ["phafile", "outfile", "plotfile"] and {"model", "par", "freeze", "fluxband"} <= set(names)


# -- through the service ------------------------------------------------------------------------


def test_the_descriptor_comes_from_the_declaration(client):
    root = assert_valid("VOTable.xsd", client.get("/tools/specfit/descriptor").data)
    params = root.findall(".//vo:GROUP[@name='inputParams']/vo:PARAM", NS)
    assert [p.get("name") for p in params][:3] == ["phafile", "outfile", "plotfile"]
    statistic = root.find(".//vo:PARAM[@name='statistic']", NS)
    assert [o.get("value") for o in statistic.findall("vo:VALUES/vo:OPTION", NS)] == ["auto", "chi2", "cstat"]
    assert root.find(".//vo:PARAM[@name='emin']", NS).get("unit") == "keV"



def test_a_specfit_job_fits_the_crab(client, alice, space, worker, tmp_path):  # noqa: F811
    for key in ("phafile", "arffile", "rmffile"):
        space.write(f"crab/{Path(CRAB[key]).name}", Path(CRAB[key]).read_bytes())
    url = job_url(create(client, "/tools/specfit", alice, PHASE="RUN",
                         phafile="crab/jemx_query_spectrum_spec_Crab_pha.fits.gz",
                         arffile="crab/jemx_query_spectrum_arf_Crab.fits.gz",
                         rmffile="crab/jemx_query_spectrum_rmf_Crab.fits.gz",
                         model="phabs*powerlaw", par="nH=0.4", freeze="nH",
                         outfile="crab/fit.fits", plotfile="crab/fit.png"))
    root = finished(client, url, alice)
    assert root.findtext("uws:phase", namespaces=NS) == "COMPLETED", client.get(url + "/error", headers=alice).data
    values = result(client, url, alice, "provenance").json["values"]
    assert 2.0 <= values["PhoIndex"] <= 2.25 and 1.5e-8 <= values["flux"] <= 3e-8
    with space.open("crab/fit.fits") as f, fits.open(f) as hdul:
        assert hdul[1].header["STATISTIC"] == "chi2"
    with fits.open(CRAB["phafile"]) as hdul:  # the responses named in the header, beside it in the workspace
        hdul[1].header["RESPFILE"] = "jemx_query_spectrum_rmf_Crab.fits.gz"
        hdul[1].header["ANCRFILE"] = "jemx_query_spectrum_arf_Crab.fits.gz"
        hdul.writeto(tmp_path / "named.pha")
    space.write("crab/named.pha", (tmp_path / "named.pha").read_bytes())
    named = job_url(create(client, "/tools/specfit", alice, PHASE="RUN", phafile="crab/named.pha",
                           model="phabs*powerlaw", par="nH=0.4", freeze="nH",
                           outfile="crab/named.fits", plotfile="crab/named.png"))
    root = finished(client, named, alice)
    assert root.findtext("uws:phase", namespaces=NS) == "COMPLETED", client.get(named + "/error", headers=alice).data
    assert result(client, named, alice, "provenance").json["values"]["PhoIndex"] == pytest.approx(values["PhoIndex"])
    bad = job_url(create(client, "/tools/specfit", alice, PHASE="RUN",
                         phafile="crab/jemx_query_spectrum_spec_Crab_pha.fits.gz",
                         rmffile="crab/jemx_query_spectrum_rmf_Crab.fits.gz", model="powerlw",
                         outfile="crab/bad.fits", plotfile="crab/bad.png"))
    root = finished(client, bad, alice)
    assert root.findtext("uws:phase", namespaces=NS) == "ERROR"
    assert b"unknown component 'powerlw'" in client.get(bad + "/error", headers=alice).data
    assert math.isfinite(values["statval"])
