"""The spacecraft's attitude in a pointing: its axes, the archives' ``posangle``, the frame a
source's off-axis angles are measured in, and how INTEGRAL points (dithers, the Sun).

INTEGRAL's instruments look along the spacecraft X axis; the frame is right-handed with
Y = Z × X. The archives give X as (ra, dec), Z as (ra_z, dec_z) and ``posangle``, which is
**minus** the position angle (east of north, at X) of Z: HEASARC's ``intscw``, ISDC's
``integral_rev3_scw`` and OSA's attitude table ``INTL-ORBI-SCP`` all follow it, checked on
every row of the real tables in ``tests/data/real`` by ``tests/test_orientation.py``
(docs/scw_tools.md, "Orientation"). So

    posangle = −PA(Z),   Z at position angle −posangle,   Y at position angle 90° − posangle.

All angles are degrees.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .coordinates import position_angle

#: column names that hold the archives' ``posangle`` (ingest and scw_coverage read these):
#: only names of that quantity; a generic "pa" or "position_angle" most likely means the
#: angle east of north, the opposite sign
POSANGLE_NAMES = ("posangle", "pos_angle", "posang")

#: the solar aspect constraint of ESA's INTEGRAL AO documentation: the Sun lies 50°-130°
#: from the X axis (so at least 50° from X and from its opposite)
MIN_SUN_ANGLE = 50.0

#: the dithering patterns of the INTEGRAL AO documentation (the observer's manuals), as
#: offsets (deg along Y, along Z) from the pointing's centre: 5x5, 2.17° steps (listed row by
#: row, in a serpentine); hexagonal, the centre and 6 points 2° around it
DITHER_5X5 = [(dy * 2.17, dz * 2.17) for dy in range(-2, 3)
              for dz in (range(-2, 3) if dy % 2 == 0 else range(2, -3, -1))]
DITHER_HEX = [(0.0, 0.0)] + [(2.0 * math.cos(math.radians(a)), 2.0 * math.sin(math.radians(a)))
                             for a in range(0, 360, 60)]


def posangle(ra, dec, ra_z, dec_z) -> np.ndarray:
    """The archives' ``posangle`` of X axes (ra, dec) with Z axes (ra_z, dec_z): minus the
    position angle of Z, in (-180, 180]."""
    return 180.0 - (180.0 + position_angle(ra, dec, ra_z, dec_z)) % 360.0


def sun_allows(x, sun) -> np.ndarray:
    """Whether the solar aspect constraint (:data:`MIN_SUN_ANGLE`) allows X axes ``x``
    (unit vectors (..., 3)) with the Sun at unit vector ``sun``."""
    return np.abs(x @ sun) <= math.cos(math.radians(MIN_SUN_ANGLE))


def spacecraft_frame(ra, dec, z_ra=None, z_dec=None, posangles=None):
    """The spacecraft frame of pointings X = (ra, dec) (arrays), and where its roll is known.

    astropy's SkyOffsetFrame(origin=X, rotation=θ) has its Cartesian x axis on X, its z axis
    towards position angle θ (east of north, at X) and its y axis completing a right-handed
    frame. With θ the position angle of the spacecraft Z axis these are INTEGRAL's X, Y and Z
    (Y = Z × X). θ comes from the Z axis (``z_ra``, ``z_dec``) where it is given, else from
    ``posangles``, minus that position angle. Where neither tells, the frame has θ = 0 and
    ``oriented`` is False. Returns (frame, oriented)."""
    # astropy.coordinates takes a quarter of a second to import: only the tools need it
    from astropy import units as u
    from astropy.coordinates import SkyCoord, SkyOffsetFrame

    pointing = SkyCoord(ra * u.deg, dec * u.deg)
    roll = -posangles if posangles is not None else np.full(len(ra), np.nan)
    if z_ra is not None:
        z_axis = SkyCoord(z_ra * u.deg, z_dec * u.deg)
        # a Z axis on (or opposite) X has no position angle
        usable = np.abs(np.sin(pointing.separation(z_axis).rad)) > 1e-6
        roll = np.where(usable, pointing.position_angle(z_axis).deg, roll)
    oriented = np.isfinite(roll) & np.isfinite(ra) & np.isfinite(dec)
    frame = SkyOffsetFrame(origin=pointing, rotation=np.where(oriented, roll, 0.0) * u.deg)
    return frame, oriented


class SourceAngles(NamedTuple):
    """Where a source lies in the spacecraft frames of many pointings (arrays, one value a
    pointing): its unit vector's component ``along_x``, its ``off_axis`` angle from X, its
    angles ``angle_y``, ``angle_z`` along Y and Z (atan2(s·Y, s·X), atan2(s·Z, s·X); NaN
    where the roll is not known) and whether the roll is known (``oriented``)."""
    along_x: np.ndarray
    off_axis: np.ndarray
    angle_y: np.ndarray
    angle_z: np.ndarray
    oriented: np.ndarray


def source_angles(frame, oriented, ra: float, dec: float) -> SourceAngles:
    """Where the source at (ra, dec) lies in the frames of :func:`spacecraft_frame`."""
    # astropy.coordinates takes a quarter of a second to import: only the tools need it
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    in_frame = SkyCoord(ra * u.deg, dec * u.deg).transform_to(frame).cartesian
    along_x, along_y, along_z = (np.atleast_1d(axis.value) for axis in (in_frame.x, in_frame.y, in_frame.z))
    return SourceAngles(along_x=along_x,
                        off_axis=np.degrees(np.arctan2(np.hypot(along_y, along_z), along_x)),
                        angle_y=np.where(oriented, np.degrees(np.arctan2(along_y, along_x)), np.nan),
                        angle_z=np.where(oriented, np.degrees(np.arctan2(along_z, along_x)), np.nan),
                        oriented=oriented)
