"""specfit: forward-folded fit of OGIP spectra with their responses (docs/specfit.md).

The spectra, ARFs and RMFs are read by :mod:`tools_registry.spectral.ogip`; the model
expression becomes sherpa models by :mod:`tools_registry.spectral.models`; sherpa folds
the model through the responses, minimises the statistic (Levenberg-Marquardt for
chi-square, Nelder-Mead simplex for the C-statistic), profiles the likelihood for the
1 sigma and 90 % intervals (its ``Confidence`` method, as XSPEC's ``error``), and
draws parameter sets from the covariance to give the flux its interval. The results
are a FITS table, one row per parameter, and a PNG of the folded data, the model and
the residuals against energy.
"""
from __future__ import annotations

import contextlib
import logging
import math
import re
import time

import numpy as np
import sherpa
from astropy.io import fits
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter, ScalarFormatter
from sherpa.astro.instrument import Response1D
from sherpa.astro.plot import DataPHAPlot, ModelPHAHistogram
from sherpa.data import DataSimulFit
from sherpa.estmethods import Confidence
from sherpa.fit import Fit
from sherpa.models.model import SimulFitModel
from sherpa.optmethods import LevMar, NelderMead
from sherpa.stats import Chi2, Chi2Gehrels, CStat, WStat

from tools_registry.filename import output_path
from tools_registry.spectral import models, ogip

SIGMA_90 = 1.6448536269514722  # the two-sided 90 % interval of one parameter
_PAR = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*=\s*([^:\s]+)(?::([^:\s]*):([^:\s]*))?\s*$")


def specfit(phafile, outfile, plotfile, model="phabs*powerlaw", arffile=None, rmffile=None, backfile=None,
            emin=None, emax=None, statistic="auto", par=None, freeze=None, fluxband="2-10", row=None):
    """Fit ``model`` to one spectrum or several jointly; see docs/specfit.md.

    phafile, arffile, rmffile, backfile: a path or a list of paths (a joint fit); when
    not given, the spectrum's ANCRFILE, RESPFILE and BACKFILE beside it.
    model: XSPEC-style expression of powerlaw, cutoffpl, bknpower, bbody, bremss,
    gaussian, phabs/tbabs/wabs with + and *. emin, emax: energies (keV) fitted.
    statistic: auto, chi2 or cstat. par: ``name=value`` or ``name=value:min:max``,
    separated by commas or spaces. freeze: parameter names. fluxband: ``lo-hi`` keV.
    row: the spectrum of a type II file (1-based).
    Returns the statistic, the parameters with their 1 sigma errors, and the flux.
    """
    started = time.perf_counter()
    phafiles, arffiles, rmffiles = _as_list(phafile), _as_list(arffile), _as_list(rmffile)
    backfiles = _as_list(backfile)
    for name, files in (("arffile", arffiles), ("rmffile", rmffiles), ("backfile", backfiles)):
        if files and len(files) != len(phafiles):
            raise ValueError(f"{name}: {len(files)} files for {len(phafiles)} spectra; give one per spectrum or none")
    band = _band(fluxband)
    if emin is not None and emax is not None and float(emin) >= float(emax):
        raise ValueError(f"emin ({emin}) must be below emax ({emax})")
    expression = models.Expression(model)
    _set_parameters(expression, par, freeze)

    spectra = []
    for i, pha in enumerate(phafiles):
        spectrum = ogip.read_pha(pha, row=row, what=_label("phafile", i, phafiles))
        arf_name = arffiles[i] if arffiles else spectrum.ancrfile
        rmf_name = rmffiles[i] if rmffiles else spectrum.respfile
        if rmf_name is None:
            raise ValueError(f"rmffile: needed: {spectrum.data.name} names no response (RESPFILE)")
        rmf = ogip.read_rmf(rmf_name, what=_label("rmffile", i, phafiles))
        arf = ogip.read_arf(arf_name, what=_label("arffile", i, phafiles)) if arf_name else None
        ogip.match(spectrum, arf, rmf, what=_label("phafile", i, phafiles))
        back_name = backfiles[i] if backfiles else (spectrum.backfile if not spectrum.net else None)
        if back_name:
            what = _label("backfile", i, phafiles)
            ogip.add_background(spectrum, ogip.read_pha(back_name, row=row, what=what), what=what)
        _filter(spectrum.data, emin, emax, _label("phafile", i, phafiles))
        spectra.append(spectrum)

    statistic_name = _statistic(statistic, spectra)
    stat, method = _sherpa_statistic(statistic_name)
    if statistic_name == "chi2":
        for s in spectra:
            if s.data.background_ids:
                s.data.subtract()  # XSPEC's way with chi-square; the errors add in quadrature

    data, full, folded, factors = _fold(spectra, expression.model)
    free = full.get_thawed_pars()
    n_bins = sum(len(s.data.get_dep(filter=True)) for s in spectra)
    dof = n_bins - len(free)
    if dof < 1:
        raise ValueError(f"emin/emax: {n_bins} bins for {len(free)} free parameters: nothing left to test the fit")
    _guess_normalisations(expression, spectra)

    fit = Fit(data, full, stat, method)
    with _quiet():
        try:
            result = fit.fit()
        except Exception as error:  # sherpa says why (a parameter at NaN, ...) but not for which input
            raise ValueError(f"model: the fit of {expression.text} failed ({error})") from None
        best = {p.fullname: p.val for p in full.get_thawed_pars()}
        errors_1 = _confidence(fit, 1.0)
        errors_90 = _confidence(fit, SIGMA_90)
        _restore(full, best)  # the confidence search leaves the parameters where it ended
        flux, flux_lo, flux_hi = _flux(spectra, expression, band, stat, method)
        _restore(full, best)
    elapsed = time.perf_counter() - started

    rows = []
    for parameter in expression.parameters + [f.factor for f in factors]:
        name = expression.full_name(parameter) if parameter.modelname in expression.components \
            else f"{parameter.modelname}.{parameter.name}"
        lo1, hi1 = errors_1.get(parameter.fullname, (math.nan, math.nan))
        lo90, hi90 = errors_90.get(parameter.fullname, (math.nan, math.nan))
        rows.append((name, float(parameter.val), lo1, hi1, lo90, hi90, parameter.units or "", bool(parameter.frozen)))

    info = {
        "statistic": statistic_name, "statval": float(result.statval), "dof": int(dof),
        "model": expression.text, "absorption": expression.absorption_library,
        "flux": flux, "flux_lo": flux_lo, "flux_hi": flux_hi, "emin": band[0], "emax": band[1],
        "fit_seconds": round(elapsed, 3),
    }
    _write_table(output_path(outfile), rows, info, spectra)
    _plot(output_path(plotfile), spectra, folded, stat, expression, info)
    returned = {k: v for k, v in info.items() if v is not None}
    returned["reduced_statistic"] = float(result.statval) / dof
    for name, value, lo1, hi1, *_ in rows:
        returned[name] = value
        if not math.isnan(lo1):
            returned[f"{name}_err"] = [lo1, hi1]
    notes = [n for s in spectra for n in s.notes]
    if notes:
        returned["notes"] = "; ".join(notes)
    return returned


@contextlib.contextmanager
def _quiet():
    """sherpa logs each bound it finds at INFO; a job has no reader for that."""
    logger = logging.getLogger("sherpa")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _restore(model, values) -> None:
    for p in model.get_thawed_pars():
        p.val = values[p.fullname]


def _as_list(value):
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _label(name: str, index: int, files) -> str:
    return name if len(files) == 1 else f"{name} {index + 1}"


def _band(text: str):
    match = re.fullmatch(r"\s*([0-9.eE+]+)\s*-\s*([0-9.eE+]+)\s*", str(text or ""))
    try:
        lo, hi = (float(match.group(1)), float(match.group(2))) if match else (None, None)
    except ValueError:
        lo = hi = None
    if lo is None or not 0 < lo < hi:
        raise ValueError(f"fluxband: {text!r} is not an energy band lo-hi in keV with 0 < lo < hi, e.g. 2-10")
    return lo, hi


def _set_parameters(expression, par, freeze) -> None:
    for item in re.split(r"[,\s]+(?=[A-Za-z_][\w.]*\s*=)", par.strip()) if par and par.strip() else []:
        match = _PAR.match(item)
        if not match:
            raise ValueError(f"par: {item!r} is not name=value or name=value:min:max")
        name, value, low, high = match.groups()
        try:
            parameter = expression.parameter(name)
        except models.ModelError as error:
            raise ValueError(f"par: {error}") from None
        try:
            value = float(value)
            low = float(low) if low else None
            high = float(high) if high else None
        except ValueError:
            raise ValueError(f"par: {item!r}: the values must be numbers") from None
        if low is not None and high is not None and low >= high:
            raise ValueError(f"par: {item!r}: min must be below max")
        for bound, attribute in ((low, "min"), (high, "max")):
            if bound is not None:
                if not parameter.hard_min <= bound <= parameter.hard_max:
                    raise ValueError(f"par: {name} {attribute} {bound:g} is outside the model's limits "
                                     f"{parameter.hard_min:g} to {parameter.hard_max:g}")
                setattr(parameter, attribute, bound)
        if not parameter.min <= value <= parameter.max:
            raise ValueError(f"par: {name} = {value:g} is outside its range {parameter.min:g} to {parameter.max:g}")
        parameter.val = value
        parameter.default_val = value
    for name in re.split(r"[,\s]+", freeze.strip()) if freeze and freeze.strip() else []:
        try:
            expression.parameter(name).freeze()
        except models.ModelError as error:
            raise ValueError(f"freeze: {error}") from None


def _filter(data, emin, emax, what: str) -> None:
    """Notice emin..emax (the whole spectrum by default), then drop bad channels."""
    grid = data.get_rmf().e_min, data.get_rmf().e_max
    data.notice(emin, emax)
    data.ignore_bad()
    if data.get_dep(filter=True).size == 0:
        raise ValueError(f"emin/emax: no good channel of {data.name} between {_kev(emin)} and {_kev(emax)} keV "
                         f"(its channels cover {grid[0][0]:g} to {grid[1][-1]:g} keV)")


def _kev(value):
    return "its start" if value is None else f"{float(value):g}"


def _statistic(choice: str, spectra) -> str:
    """chi2 for spectra with errors (OSA's background-subtracted rates), cstat for
    Poisson counts; an explicit choice is checked against the data."""
    choice = (choice or "auto").lower()
    poisson = all(s.poisson for s in spectra)
    background = [s.data.name for s in spectra if s.data.background_ids]
    if choice == "auto":
        choice = "cstat" if poisson else "chi2"
    if choice == "cstat":
        rates = [s.data.name for s in spectra if s.is_rate or not s.poisson]
        if rates:
            raise ValueError(f"statistic: the C-statistic needs Poisson counts; {', '.join(rates)} "
                             "holds rates or counts with their own errors (use chi2)")
        # Poisson counts with a Poisson background: the W-statistic (XSPEC's cstat then)
        return "wstat" if background else choice
    if choice == "chi2":
        for s in spectra:
            for data in [s.data] + [s.data.get_background(i) for i in s.data.background_ids]:
                if data.staterror is None:
                    # Poisson counts under chi-square: sqrt(N) errors, as XSPEC gives them
                    data.staterror = np.sqrt(np.maximum(data.counts, 1.0))
        return choice
    raise ValueError(f"statistic: {choice!r} is not auto, chi2 or cstat")


def _sherpa_statistic(name: str):
    return {"chi2": (Chi2(), LevMar()), "cstat": (CStat(), NelderMead()), "wstat": (WStat(), NelderMead())}[name]


def _guess_normalisations(expression, spectra) -> None:
    """Start each additive norm near the data: the folded model with norm 1 scaled to
    the first spectrum's noticed counts (a norm of 1 can be 1e-4 or 1e4 times too big)."""
    data = spectra[0].data
    norms = [p for p in expression.parameters if p.name == "norm" and not p.frozen]
    if not norms:
        return
    predicted = np.sum(data.eval_model_to_fit(Response1D(data)(expression.model)))
    observed = np.sum(data.get_dep(filter=True))
    if predicted > 0 and observed > 0:
        scale = observed / predicted
        for p in norms:
            p.val = min(max(p.val * scale, p.min), p.max)


def _confidence(fit, sigma: float) -> dict:
    fit.estmethod = Confidence()
    fit.estmethod.sigma = sigma
    try:
        result = fit.est_errors()
    except Exception:  # an interval that cannot be searched (a parameter at its limit) is NaN, not a failure
        return {}
    return {name: (math.nan if lo is None else float(lo), math.nan if hi is None else float(hi))
            for name, lo, hi in zip(result.parnames, result.parmins, result.parmaxes)}


def _fold(spectra, source):
    """The data and the folded model to fit: one spectrum, or several in a joint fit
    where each after the first has a free constant factor, as in XSPEC."""

    folded, factors = [], []
    for i, spectrum in enumerate(spectra):
        model = source
        if i > 0:
            factor = models.CrossNormalisation(f"factor_{i + 1}")
            factors.append(factor)
            model = factor * source
        folded.append(Response1D(spectrum.data)(model))
    if len(spectra) == 1:
        return spectra[0].data, folded[0], folded, factors
    return DataSimulFit("joint", [s.data for s in spectra]), SimulFitModel("joint", folded), folded, factors


def _flux(spectra, expression, band, stat, method):
    """The model's energy flux in ``band`` and its 1 sigma interval from the likelihood
    profile of the flux: the model is refitted with the flux as a parameter (XSPEC's
    cflux) and the first free norm frozen. Without a free norm there is no interval."""

    source = expression.model
    flux = models.band_flux(source, *band)
    norm = next((p for p in expression.parameters if p.name == "norm" and not p.frozen), None)
    if norm is None or not flux > 0:
        return flux, math.nan, math.nan
    scale = models.FluxScale(source, *band, flux)
    norm.freeze()
    try:
        data, full, _, _ = _fold(spectra, scale * source)
        fit = Fit(data, full, stat, method)
        fit.fit()
        fit.estmethod = Confidence()
        result = fit.est_errors(parlist=(scale.lg10Flux,))
        lo, hi = result.parmins[0], result.parmaxes[0]
        centre = scale.lg10Flux.val
        low = math.nan if lo is None else float(10.0 ** (centre + lo))
        high = math.nan if hi is None else float(10.0 ** (centre + hi))
    except Exception:  # an interval sherpa cannot search stays NaN rather than failing the fit
        low = high = math.nan
    finally:
        norm.thaw()
    return flux, low, high


def _write_table(path, rows, info, spectra) -> None:
    columns = [
        fits.Column("PARAM", f"{max(8, max(len(r[0]) for r in rows))}A", array=[r[0] for r in rows]),
        fits.Column("VALUE", "D", array=[r[1] for r in rows]),
        fits.Column("ERR_LO", "D", array=[r[2] for r in rows]),
        fits.Column("ERR_HI", "D", array=[r[3] for r in rows]),
        fits.Column("ERR90_LO", "D", array=[r[4] for r in rows]),
        fits.Column("ERR90_HI", "D", array=[r[5] for r in rows]),
        fits.Column("UNIT", f"{max(8, max(len(r[6]) for r in rows))}A", array=[r[6] for r in rows]),
        fits.Column("FROZEN", "L", array=[r[7] for r in rows]),
    ]
    table = fits.BinTableHDU.from_columns(columns, name="SPECFIT")
    h = table.header
    comments = {"PARAM": "model parameter", "VALUE": "best fit",
                "ERR_LO": "1 sigma lower error (negative offset)", "ERR_HI": "1 sigma upper error (offset)",
                "ERR90_LO": "90% lower error (negative offset)", "ERR90_HI": "90% upper error (offset)",
                "UNIT": "unit of VALUE", "FROZEN": "T: not fitted"}
    for i, column in enumerate(table.columns, start=1):
        h.comments[f"TTYPE{i}"] = comments[column.name]
    h["HIERARCH STATISTIC"] = (info["statistic"], "fit statistic: chi2, cstat or wstat")
    h["STATVAL"] = (info["statval"], "statistic at the best fit")
    h["DOF"] = (info["dof"], "degrees of freedom")
    h["MODEL"] = (info["model"], "model expression")
    h["FLUX"] = (_finite(info["flux"]), "[erg/cm2/s] model energy flux in EMIN-EMAX")
    h["FLUX_LO"] = (_finite(info["flux_lo"]), "[erg/cm2/s] flux 1 sigma lower bound")
    h["FLUX_HI"] = (_finite(info["flux_hi"]), "[erg/cm2/s] flux 1 sigma upper bound")
    h["EMIN"] = (info["emin"], "[keV] flux band lower energy")
    h["EMAX"] = (info["emax"], "[keV] flux band upper energy")
    if info["absorption"]:
        h["ABSMODEL"] = info["absorption"][:68]
    h["CREATOR"] = (f"Hera specfit (sherpa {sherpa.__version__})", "program that wrote the file")
    for i, s in enumerate(spectra, start=1):
        h[f"PHAFILE{i}"] = (s.data.name[:68], "spectrum fitted")
        h[f"RMFFILE{i}"] = (s.rmf.name[:68], "redistribution matrix")
        if s.arf is not None:
            h[f"ARFFILE{i}"] = (s.arf.name[:68], "effective area")
        h[f"NBINS{i}"] = (int(s.data.get_dep(filter=True).size), "bins fitted")
        h[f"FILTER{i}"] = (s.data.get_filter(format="%.3f")[:68], "[keV] energies fitted")
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(path, overwrite=True)


def _finite(value):
    return value if value is not None and math.isfinite(value) else None


def _plot(path, spectra, folded, stat, expression, info) -> None:
    """Folded data and model in counts s^-1 keV^-1 against energy, the residuals in
    sigma below, as XSPEC's ``plot ldata delchi``."""

    figure = Figure(figsize=(7.5, 6.5), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    colours = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
    lowest = []
    if info["statistic"] != "chi2":
        stat = Chi2Gehrels()  # Poisson data: Gehrels' errors on the plot, as XSPEC draws them
    for i, (spectrum, model) in enumerate(zip(spectra, folded)):
        colour = colours[i % len(colours)]
        if spectrum.data.background_ids and not spectrum.data.subtracted:
            spectrum.data.subtract()  # the W-statistic fit is done; the figure shows the source
        data_plot, model_plot = DataPHAPlot(), ModelPHAHistogram()
        data_plot.prepare(spectrum.data, stat)
        model_plot.prepare(spectrum.data, model, stat)
        centre = (data_plot.xlo + data_plot.xhi) / 2
        half = (data_plot.xhi - data_plot.xlo) / 2
        label = spectrum.data.header.get("INSTRUME") or spectrum.data.name
        top.errorbar(centre, data_plot.y, xerr=half, yerr=data_plot.yerr, fmt="none", ecolor=colour,
                     elinewidth=1, label=f"{label} data")
        edges = np.append(model_plot.xlo, model_plot.xhi[-1])
        top.stairs(model_plot.y, edges, color="black" if len(spectra) == 1 else colour, linewidth=1.5,
                   baseline=None, label=f"{label} model")
        lowest.append(np.min(data_plot.y[data_plot.y > 0], initial=np.inf))
        with np.errstate(divide="ignore", invalid="ignore"):
            residual = np.where(data_plot.yerr > 0, (data_plot.y - model_plot.y) / data_plot.yerr, 0.0)
        bottom.errorbar(centre, residual, xerr=half, yerr=np.ones_like(residual), fmt="none", ecolor=colour,
                        elinewidth=1)
    bottom.axhline(0, color="0.3", linewidth=1)
    top.set_xscale("log")
    if np.isfinite(min(lowest)):  # counts fall by decades: a log axis, down to the faintest positive bin
        top.set_yscale("log")
        top.set_ylim(bottom=min(lowest) / 3)
    for axis in (bottom.xaxis,):
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    top.set_ylabel("counts s$^{-1}$ keV$^{-1}$")
    bottom.set_ylabel("(data − model) / σ")
    bottom.set_xlabel("Energy (keV)")
    stat_name = {"chi2": "χ²", "cstat": "C", "wstat": "W"}[info["statistic"]]
    title = f"{expression.text}: {stat_name} = {info['statval']:.1f} for {info['dof']} dof"
    if info["flux"] is not None and math.isfinite(info["flux"]):
        title += f"\nF({info['emin']:g}–{info['emax']:g} keV) = {info['flux']:.3g} erg cm⁻² s⁻¹"
    top.set_title(title, fontsize=11)
    if len(spectra) > 1:
        top.legend(fontsize=9)
    for axes in (top, bottom):
        axes.tick_params(which="both", direction="in", top=True, right=True)
        axes.grid(True, which="major", alpha=0.3)
    figure.savefig(path, format="png", dpi=120)
