"""Sky coordinates as INTEGRAL's catalogue uses them: unit vectors, ICRS and Galactic
angles, position angles, and the direction of the Sun.

Plain NumPy on arrays (no astropy frames), fast enough for millions of science windows:
the demo generator and ingest convert whole batches with these. All angles are degrees.
"""
from __future__ import annotations

import math

import numpy as np

#: the rotation from ICRS to Galactic unit vectors: the matrix A_G of The Hipparcos and
#: Tycho Catalogues (ESA SP-1200, 1997, vol. 1, section 1.5.3), which defines Galactic
#: coordinates directly on the ICRS (astropy's Galactic frame, reached through FK5,
#: differs by up to 1e-7 rad)
ICRS_TO_GALACTIC = np.array([[-0.0548755604162154, -0.8734370902348850, -0.4838350155487132],
                             [+0.4941094278755837, -0.4448296299600112, +0.7469822444972189],
                             [-0.8676661490190047, -0.1980763734312015, +0.4559837761750669]])


def unit_vector(ra, dec) -> np.ndarray:
    """Unit vectors (..., 3) of (ra, dec) in degrees."""
    ra, dec = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


def angles(vec) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) in degrees of unit vectors (..., 3)."""
    lon = np.degrees(np.arctan2(vec[..., 1], vec[..., 0])) % 360.0
    lat = np.degrees(np.arcsin(np.clip(vec[..., 2], -1.0, 1.0)))
    return lon, lat


def galactic(ra, dec) -> tuple[np.ndarray, np.ndarray]:
    """Galactic (l, b) in degrees of ICRS (ra, dec) in degrees."""
    return angles(unit_vector(ra, dec) @ ICRS_TO_GALACTIC.T)


def equatorial(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """ICRS (ra, dec) in degrees of Galactic (l, b) in degrees."""
    return angles(unit_vector(lon, lat) @ ICRS_TO_GALACTIC)


def position_angle(ra, dec, ra_to, dec_to) -> np.ndarray:
    """Position angle (deg, east of north) at (ra, dec) of the direction to (ra_to, dec_to)."""
    ra, dec, ra_to, dec_to = (np.radians(v) for v in (ra, dec, ra_to, dec_to))
    d = ra_to - ra
    pa = np.arctan2(np.sin(d) * np.cos(dec_to),
                    np.cos(dec) * np.sin(dec_to) - np.sin(dec) * np.cos(dec_to) * np.cos(d))
    return np.degrees(pa) % 360.0


def sun_vector(mjd: float) -> np.ndarray:
    """Unit vector (ICRS) towards the Sun at ``mjd``: the Astronomical Almanac's
    low-precision formula for the Sun's coordinates (section C, "Low-precision formulas",
    0.01 deg from 1950 to 2050)."""
    d = mjd - 51544.5
    g = math.radians(357.528 + 0.9856003 * d)
    lam = math.radians(280.460 + 0.9856474 * d + 1.915 * math.sin(g) + 0.020 * math.sin(2 * g))
    eps = math.radians(23.439)
    return np.array([math.cos(lam), math.cos(eps) * math.sin(lam), math.sin(eps) * math.sin(lam)])
