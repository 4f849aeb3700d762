"""XSPEC-style model expressions (``phabs*(powerlaw+gaussian)``) as sherpa models.

The components carry XSPEC's names, parameters and units, so that an astronomer's
habits carry over: photon spectra in photons cm^-2 s^-1 keV^-1, energies in keV,
column densities in 10^22 cm^-2. Additive components are integrated over each energy
bin (a 5-point Gauss-Legendre rule, exact for the Gaussian line by its error function);
absorption multiplies at the bin centre, as XSPEC's does.

Absorption (``phabs``, ``tbabs``, ``wabs``) is XSPEC's own model when sherpa was built
with XSPEC; sherpa from PyPI is not, and then it is sherpa's ``Atten`` (Rumph, Bowyer &
Vennes 1994 for H and He, Morrison & McCammon 1983 for the metals from 0.28 to 10 keV),
evaluated at the wavelength of each energy. Which one ran is recorded (``ABSMODEL``).
"""
from __future__ import annotations

import ast
import math

import numpy as np
from sherpa.astro.models import Atten
from sherpa.models.model import ArithmeticModel, modelCacher1d
from sherpa.models.parameter import Parameter

HC_KEV_ANGSTROM = 12.398419843320026
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(5)
_erf = np.vectorize(math.erf, otypes=[float])


class Additive(ArithmeticModel):
    """A photon spectrum N(E) integrated over bins (or evaluated at points)."""

    def photons(self, p, energy):
        raise NotImplementedError

    def integrated(self, p, lo, hi):
        half = (hi - lo) / 2
        middle = (hi + lo) / 2
        return sum(w * self.photons(p, middle + half * x) for x, w in zip(_NODES, _WEIGHTS)) * half

    @modelCacher1d
    def calc(self, p, lo, hi=None, *args, **kwargs):
        lo = np.asarray(lo, dtype=float)
        if hi is None:
            return self.photons(p, lo)
        return self.integrated(p, lo, np.asarray(hi, dtype=float))


class PowerLaw(Additive):
    """powerlaw: norm E^-PhoIndex."""

    def __init__(self, name="powerlaw"):
        self.PhoIndex = Parameter(name, "PhoIndex", 2.0, -3.0, 10.0, -10.0, 10.0)
        self.norm = Parameter(name, "norm", 1.0, 0.0, 1e24, 0.0, 1e24, units="photons/keV/cm^2/s at 1 keV")
        super().__init__(name, (self.PhoIndex, self.norm))

    def photons(self, p, energy):
        return p[1] * energy ** -p[0]

    def integrated(self, p, lo, hi):
        index, norm = p
        if abs(index - 1.0) < 1e-9:
            return norm * np.log(hi / lo)
        return norm * (hi ** (1 - index) - lo ** (1 - index)) / (1 - index)


class CutoffPowerLaw(Additive):
    """cutoffpl: norm E^-PhoIndex exp(-E / HighECut)."""

    def __init__(self, name="cutoffpl"):
        self.PhoIndex = Parameter(name, "PhoIndex", 1.0, -3.0, 10.0, -10.0, 10.0)
        self.HighECut = Parameter(name, "HighECut", 15.0, 0.01, 500.0, 0.01, 1000.0, units="keV")
        self.norm = Parameter(name, "norm", 1.0, 0.0, 1e24, 0.0, 1e24, units="photons/keV/cm^2/s at 1 keV")
        super().__init__(name, (self.PhoIndex, self.HighECut, self.norm))

    def photons(self, p, energy):
        return p[2] * energy ** -p[0] * np.exp(-energy / p[1])


class BrokenPowerLaw(Additive):
    """bknpower: norm E^-PhoIndx1 below BreakE, norm BreakE^(PhoIndx2-PhoIndx1) E^-PhoIndx2 above."""

    def __init__(self, name="bknpower"):
        self.PhoIndx1 = Parameter(name, "PhoIndx1", 1.0, -3.0, 10.0, -10.0, 10.0)
        self.BreakE = Parameter(name, "BreakE", 5.0, 0.01, 1e6, 0.0, 1e6, units="keV")
        self.PhoIndx2 = Parameter(name, "PhoIndx2", 2.0, -3.0, 10.0, -10.0, 10.0)
        self.norm = Parameter(name, "norm", 1.0, 0.0, 1e24, 0.0, 1e24, units="photons/keV/cm^2/s at 1 keV")
        super().__init__(name, (self.PhoIndx1, self.BreakE, self.PhoIndx2, self.norm))

    def photons(self, p, energy):
        index1, brk, index2, norm = p
        return np.where(energy <= brk, norm * energy ** -index1,
                        norm * brk ** (index2 - index1) * energy ** -index2)


class BlackBody(Additive):
    """bbody: norm 8.0525 E^2 / (kT^4 (exp(E/kT) - 1)); norm = L39 / D10^2."""

    def __init__(self, name="bbody"):
        self.kT = Parameter(name, "kT", 3.0, 1e-4, 200.0, 1e-4, 200.0, units="keV")
        self.norm = Parameter(name, "norm", 1.0, 0.0, 1e24, 0.0, 1e24, units="L39/D10^2")
        super().__init__(name, (self.kT, self.norm))

    def photons(self, p, energy):
        kt, norm = p
        return norm * 8.0525 * energy ** 2 / (kt ** 4 * np.expm1(np.minimum(energy / kt, 700.0)))


class Bremsstrahlung(Additive):
    """bremss: norm E^-1 exp(-E/kT) g(E, kT) / sqrt(kT), the Gaunt factor g approximated
    by (E/kT)^-0.4 (within 20 % for 0.1 < E/kT < 10); XSPEC tabulates Kellogg et al. 1975."""

    def __init__(self, name="bremss"):
        self.kT = Parameter(name, "kT", 7.0, 1e-4, 200.0, 1e-4, 200.0, units="keV")
        self.norm = Parameter(name, "norm", 1.0, 0.0, 1e24, 0.0, 1e24)
        super().__init__(name, (self.kT, self.norm))

    def photons(self, p, energy):
        kt, norm = p
        x = energy / kt
        return norm * np.exp(-np.minimum(x, 700.0)) * x ** -0.4 / (energy * math.sqrt(kt))


class GaussianLine(Additive):
    """gaussian: a line at LineE of width Sigma holding norm photons cm^-2 s^-1."""

    def __init__(self, name="gaussian"):
        self.LineE = Parameter(name, "LineE", 6.5, 0.0, 1e6, 0.0, 1e6, units="keV")
        self.Sigma = Parameter(name, "Sigma", 0.1, 1e-4, 20.0, 0.0, 20.0, units="keV")
        self.norm = Parameter(name, "norm", 1.0, 0.0, 1e24, 0.0, 1e24, units="photons/cm^2/s")
        super().__init__(name, (self.LineE, self.Sigma, self.norm))

    def photons(self, p, energy):
        line, sigma, norm = p
        return norm * np.exp(-0.5 * ((energy - line) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))

    def integrated(self, p, lo, hi):
        line, sigma, norm = p
        scale = sigma * math.sqrt(2)
        return norm * 0.5 * (_erf((hi - line) / scale) - _erf((lo - line) / scale))


class Absorption(ArithmeticModel):
    """Photoelectric absorption exp(-nH sigma(E)) from sherpa's Atten (see the module doc)."""

    library = "sherpa.astro.models.Atten (Rumph et al. 1994; Morrison & McCammon 1983)"

    def __init__(self, name="phabs"):
        self.nH = Parameter(name, "nH", 1.0, 0.0, 1e5, 0.0, 1e6, units="10^22 atoms/cm^2")
        self._atten = Atten()
        super().__init__(name, (self.nH,))

    @modelCacher1d
    def calc(self, p, lo, hi=None, *args, **kwargs):
        energy = np.asarray(lo, dtype=float) if hi is None else (np.asarray(lo) + np.asarray(hi)) / 2
        if p[0] <= 0:
            return np.ones_like(energy)
        wavelength = HC_KEV_ANGSTROM / energy
        # hcol in atoms cm^-2; He I and He II in the ratios Atten uses by default (0.1, 0.01)
        return self._atten.calc([p[0] * 1e22, 0.1, 0.01], wavelength)


ADDITIVE = {"powerlaw": PowerLaw, "cutoffpl": CutoffPowerLaw, "bknpower": BrokenPowerLaw,
            "bbody": BlackBody, "bremss": Bremsstrahlung, "gaussian": GaussianLine}
ABSORPTION = ("phabs", "tbabs", "wabs")
NAMES = tuple(ADDITIVE) + ABSORPTION


def xspec_absorption(name: str):
    """XSPEC's absorption model when sherpa has XSPEC, else None."""
    try:
        from sherpa.astro import xspec  # an ImportError unless sherpa was built against XSPEC
    except ImportError:
        return None
    return getattr(xspec, "XS" + name)(name)


class ModelError(ValueError):
    pass


class Expression:
    """A model expression turned into sherpa models; ``components`` by their names."""

    def __init__(self, text: str):
        self.text = text.strip()
        if not self.text:
            raise ModelError("model: empty; give e.g. phabs*powerlaw")
        try:
            tree = ast.parse(self.text.replace("\n", " "), mode="eval")
        except SyntaxError:
            raise ModelError(f"model: {self.text!r} is not a sum and product of components "
                             f"(e.g. phabs*(powerlaw+gaussian))") from None
        self.components: dict[str, ArithmeticModel] = {}
        self.absorption_library = None
        self.model = self._build(tree.body)

    def _build(self, node):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            left, right = self._build(node.left), self._build(node.right)
            return left + right if isinstance(node.op, ast.Add) else left * right
        if isinstance(node, ast.Name):
            return self._component(node.id)
        raise ModelError(f"model: {self.text!r}: only component names, + and * (with brackets) are allowed")

    def _component(self, name: str):
        kind = name.lower()
        if kind not in NAMES:
            raise ModelError(f"model: unknown component {name!r}; known: {', '.join(NAMES)}")
        count = sum(1 for c in self.components if c.split("_")[0] == kind)
        label = kind if count == 0 else f"{kind}_{count + 1}"
        if kind in ABSORPTION:
            component = xspec_absorption(kind)
            if component is not None:
                component.name = label
                self.absorption_library = f"XSPEC {kind} (sherpa.astro.xspec)"
            else:
                component = Absorption(label)
                self.absorption_library = Absorption.library
        else:
            component = ADDITIVE[kind](label)
        self.components[label] = component
        return component

    @property
    def parameters(self):
        return [p for c in self.components.values() for p in c.pars]

    def parameter(self, name: str) -> Parameter:
        """The parameter ``name``: ``PhoIndex``, or ``powerlaw_2.PhoIndex`` when several
        components have one (case-insensitive)."""
        if "." in name:
            component, _, short = name.partition(".")
            owners = [c for label, c in self.components.items() if label.lower() == component.lower()]
        else:
            short, owners = name, list(self.components.values())
        found = [p for c in owners for p in c.pars if p.name.lower() == short.lower()]
        if len(found) == 1:
            return found[0]
        known = ", ".join(self.full_name(p) for p in self.parameters)
        if not found:
            raise ModelError(f"no parameter {name!r} in {self.text} (its parameters: {known})")
        raise ModelError(f"{name!r} is ambiguous in {self.text}: say which of {known}")

    def full_name(self, parameter: Parameter) -> str:
        unique = sum(1 for p in self.parameters if p.name.lower() == parameter.name.lower()) == 1
        return parameter.name if unique else f"{parameter.modelname}.{parameter.name}"


class CrossNormalisation(ArithmeticModel):
    """A free constant factor for each spectrum after the first of a joint fit (XSPEC's
    ``constant``): the instruments' calibrations and exposures differ by a few %."""

    def __init__(self, name="factor"):
        self.factor = Parameter(name, "factor", 1.0, 0.01, 100.0, 0.0, 1e6)
        super().__init__(name, (self.factor,))

    def calc(self, p, lo, hi=None, *args, **kwargs):
        return np.full(np.shape(lo), p[0])


class FluxScale(ArithmeticModel):
    """``FluxScale(source, lo, hi) * source`` is ``source`` scaled to an energy flux of
    10^lg10Flux erg cm^-2 s^-1 in lo..hi keV, as XSPEC's ``cflux``: with one norm of the
    source frozen, the flux becomes a fit parameter whose likelihood profile gives its
    interval."""

    def __init__(self, source, lo: float, hi: float, flux: float, name="cflux"):
        self.lg10Flux = Parameter(name, "lg10Flux", math.log10(flux), -40.0, 10.0, -40.0, 10.0,
                                  units="log10(erg/cm^2/s)")
        self._source, self._band = source, (lo, hi)
        super().__init__(name, (self.lg10Flux,))

    def calc(self, p, lo, hi=None, *args, **kwargs):
        unscaled = band_flux(self._source, *self._band)
        return np.full(np.shape(lo), 10.0 ** p[0] / unscaled if unscaled > 0 else 0.0)


KEV_ERG = 1.602176634e-9
FLUX_GRID = 2000


def band_flux(source, lo: float, hi: float) -> float:
    """The energy flux (erg cm^-2 s^-1) of a photon model in lo..hi keV, integrated on a
    logarithmic grid of its own (the band may lie outside the responses' grid)."""
    edges = np.geomspace(lo, hi, FLUX_GRID + 1)
    photons = source(edges[:-1], edges[1:])
    return float(np.sum(photons * (edges[:-1] + edges[1:]) / 2) * KEV_ERG)
