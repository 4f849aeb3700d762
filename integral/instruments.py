"""INTEGRAL's instruments: the six whose good time the catalogue gives, and the fields of
view of the five imaging ones with their response model.

The instruments (ESA's INTEGRAL mission pages and the archives' ``intscw`` tables, which
give one good-time column ``good_<name>`` per instrument): the spectrometer SPI, the
imager IBIS with its two detector layers ISGRI and PICsIT, the two X-ray monitors JEM-X 1
and JEM-X 2, and the Optical Monitoring Camera OMC.

The fields of view, declared once in :data:`FIELDS`: sizes are full widths in degrees,
as the instruments' observer's manuals of the INTEGRAL Announcements of Opportunity quote
them (docs/scw_tools.md, "The instrument model", tabulates them): the fully coded field
(the whole detector sees the source through the mask) and the edge of the partially coded
field (zero response). The response model is the *coding fraction*: 1 in the fully coded
field, falling linearly with angle to 0 at the zero-response edge (docs/scw_tools.md
explains the approximations).

Shapes:

- ``square``: rectangular in the spacecraft frame (IBIS/ISGRI, OMC). When the
  spacecraft roll is known the source's angles along the Y and Z axes are used,
  and the fraction is the product of one ramp per axis (a rectangular mask
  shadow overlapping a rectangular detector). When the roll is unknown the
  field is replaced by its inscribed circles, which never exceed the square
  model at any roll (conservative).
- ``circle``: circular (JEM-X), roll does not matter.
- ``hexagon``: SPI's hexagonal mask. Its orientation in the spacecraft frame is
  not modelled, so it is always replaced by its inscribed circles (the
  hexagons' apothems), conservative at any roll.

Where a source lies in the spacecraft frame comes from :mod:`integral.pointing`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # for annotations only
    from .pointing import SourceAngles


@dataclass(frozen=True)
class Instrument:
    """One instrument: its ``name`` as the catalogue's good-time column ``good_<name>``
    names it, and its ``label`` as astronomers write it."""

    name: str
    label: str

    @property
    def good_column(self) -> str:
        return f"good_{self.name}"


#: the instruments in the order of the catalogue's good-time columns
INSTRUMENTS = (Instrument("spi", "SPI"), Instrument("isgri", "IBIS/ISGRI"), Instrument("picsit", "IBIS/PICsIT"),
               Instrument("jemx1", "JEM-X 1"), Instrument("jemx2", "JEM-X 2"), Instrument("omc", "OMC"))
#: their names, in the same order
NAMES = tuple(i.name for i in INSTRUMENTS)
BY_NAME = {i.name: i for i in INSTRUMENTS}

FULLY_CODED = "fully_coded"
PARTIALLY_CODED = "partially_coded"
OUTSIDE = "outside"


@dataclass(frozen=True)
class FieldOfView:
    """One instrument's field of view; ``label`` is the instrument's as plots write it
    (compact: "JEM-X1").

    For ``square`` the widths are (along Y, along Z); for ``circle`` they are
    diameters; for ``hexagon`` they are corner-to-corner widths.
    """

    instrument: Instrument
    label: str
    shape: str
    fully_coded: tuple[float, float]
    zero_response: tuple[float, float]

    @property
    def inscribed_radii(self):
        """(fully coded, zero response) radii of the inscribed circles, degrees."""
        if self.shape == "square":
            return min(self.fully_coded) / 2, min(self.zero_response) / 2
        if self.shape == "hexagon":
            apothem = math.cos(math.radians(30)) / 2
            return self.fully_coded[0] * apothem, self.zero_response[0] * apothem
        return self.fully_coded[0] / 2, self.zero_response[0] / 2

    def fraction_square(self, angle_y, angle_z):
        """Coding fraction of a source at angles (deg) along the Y and Z axes."""
        if self.shape != "square":
            raise ValueError(f"{self.label} has no square field")
        return _ramp(np.abs(angle_y), self.fully_coded[0] / 2, self.zero_response[0] / 2) * _ramp(
            np.abs(angle_z), self.fully_coded[1] / 2, self.zero_response[1] / 2
        )

    def fraction_circle(self, off_axis):
        """Coding fraction of a source at off-axis angles (deg), roll unknown."""
        inner, outer = self.inscribed_radii
        return _ramp(np.asarray(off_axis, dtype=float), inner, outer)

    @property
    def good_column(self) -> str:
        return self.instrument.good_column

    def coding_fraction(self, source: SourceAngles) -> tuple[np.ndarray, np.ndarray]:
        """The coding fraction of a source in many pointings, and the model each one used:
        ``square`` where the roll is known (0 for a source behind the spacecraft), else
        ``inscribed_circle``; ``circle`` for JEM-X, ``inscribed_circle`` always for SPI."""
        circular = np.nan_to_num(self.fraction_circle(source.off_axis), nan=0.0)
        if self.shape != "square":
            model = "circle" if self.shape == "circle" else "inscribed_circle"
            return circular, np.full(len(source.off_axis), model)
        oriented = source.oriented
        in_front = oriented & (source.along_x > 0)
        square = np.where(in_front, self.fraction_square(np.nan_to_num(source.angle_y),
                                                         np.nan_to_num(source.angle_z)), 0.0)
        return np.where(oriented, square, circular), np.where(oriented, "square", "inscribed_circle")


def _ramp(x, inner, outer):
    """1 for x <= inner, linear to 0 at outer, 0 beyond; a step if inner == outer."""
    x = np.asarray(x, dtype=float)
    if outer <= inner:
        return np.where(x <= inner, 1.0, 0.0)
    return np.clip((outer - x) / (outer - inner), 0.0, 1.0)


def region(fraction):
    """Name the field region of each coding fraction."""
    fraction = np.asarray(fraction, dtype=float)
    return np.where(fraction >= 1.0, FULLY_CODED, np.where(fraction > 0.0, PARTIALLY_CODED, OUTSIDE))


#: the fields of view by instrument name (PICsIT, IBIS's lower layer, has none here). Sizes
#: from the observer's manuals: IBIS (ISGRI: 8.3° x 8.0° fully coded, 29° x 29° zero
#: response; which of 8.3° and 8.0° lies along Y is an assumption, see docs/scw_tools.md),
#: SPI (16° fully coded, ~31° zero response, corner to corner), JEM-X (4.8° fully coded,
#: 13.2° zero response, diameters), OMC (5° x 5°, no partial coding)
FIELDS = {
    fov.instrument.name: fov
    for fov in (
        FieldOfView(BY_NAME["isgri"], "IBIS/ISGRI", "square", (8.3, 8.0), (29.0, 29.0)),
        FieldOfView(BY_NAME["spi"], "SPI", "hexagon", (16.0, 16.0), (31.0, 31.0)),
        FieldOfView(BY_NAME["jemx1"], "JEM-X1", "circle", (4.8, 4.8), (13.2, 13.2)),
        FieldOfView(BY_NAME["jemx2"], "JEM-X2", "circle", (4.8, 4.8), (13.2, 13.2)),
        FieldOfView(BY_NAME["omc"], "OMC", "square", (5.0, 5.0), (5.0, 5.0)),
    )
}
