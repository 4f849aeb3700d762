"""The INTEGRAL instruments' fields of view, as data, and their response model.

Each instrument's field is declared once in `FIELDS`. Sizes are full widths in
degrees, as the instrument handbooks quote them: the fully coded field (the
whole detector sees the source through the mask) and the edge of the partially
coded field (zero response). The response model is the *coding fraction*: 1 in
the fully coded field, falling linearly with angle to 0 at the zero-response
edge (docs/scw_tools.md explains the approximations).

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
"""

from dataclasses import dataclass
import math

import numpy as np

FULLY_CODED = "fully_coded"
PARTIALLY_CODED = "partially_coded"
OUTSIDE = "outside"


@dataclass(frozen=True)
class FieldOfView:
    """One instrument's field of view.

    For ``square`` the widths are (along Y, along Z); for ``circle`` they are
    diameters; for ``hexagon`` they are corner-to-corner widths.
    """

    instrument: str
    label: str
    good_column: str
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


# IBIS/ISGRI: which of 8.3° and 8.0° lies along Y is an assumption (see docs).
FIELDS = {
    fov.instrument: fov
    for fov in (
        FieldOfView("isgri", "IBIS/ISGRI", "good_isgri", "square", (8.3, 8.0), (29.0, 29.0)),
        FieldOfView("spi", "SPI", "good_spi", "hexagon", (16.0, 16.0), (31.0, 31.0)),
        FieldOfView("jemx1", "JEM-X1", "good_jemx1", "circle", (4.8, 4.8), (13.2, 13.2)),
        FieldOfView("jemx2", "JEM-X2", "good_jemx2", "circle", (4.8, 4.8), (13.2, 13.2)),
        FieldOfView("omc", "OMC", "good_omc", "square", (5.0, 5.0), (5.0, 5.0)),
    )
}
