"""Science windows whose target, time and rights a test states, loaded next to a demo catalogue.

The demo catalogue (tap_catalog.demo) is calibrated on the real mission: the Crab region holds
1.4 % of its exposure, so a catalogue of a few thousand windows holds Crab pointings only by
chance of the seed. A test that needs pointings of a target adds an :func:`observation` of it
instead: complete rows of ``integral.scw`` (the demo's columns, the derived ones consistent),
public, or private to a group until :data:`NEVER`, whatever the clock of the test run says.
"""
from __future__ import annotations

import math

from integral import revolutions
from integral import time as itime
from integral.coordinates import galactic
from integral.pointing import DITHER_5X5
from tap_catalog import demo
from tap_catalog.row_access import PROPRIETARY_DAYS

CRAB = ("Crab", 83.6331, 22.0145)
GALACTIC_CENTRE = ("Galactic Centre", 266.4168, -29.0078)
CYG_X1 = ("Cyg X-1", 299.5903, 35.2016)
#: the public date of private windows: later than any test run, so they stay private
NEVER = "2099-01-01T00:00:00"
POINTING_S, SLEW_S = 2000, 100
#: pointing numbers no demo revolution reaches (it has a few hundred at most): the ids of
#: known windows never collide with demo ones in the same revolution
FIRST_POINTING = 9001


def observation(target: tuple[str, float, float], date: str, proposal_id: str, pointings: int = 25, *,
                good_isgri: float = 1800.0, private_to: str | None = None) -> list[dict]:
    """A 5x5 dither (2.17 deg steps, integral.pointing.DITHER_5X5) of ``pointings`` pointings around
    ``target`` (name, ra, dec), each of POINTING_S seconds with ``good_isgri`` s of ISGRI good
    time and followed by a slew at its attitude, starting 18 h into the revolution in progress
    at ``date`` (ISO), for the programme ``proposal_id``. Public (since a year after it
    ended), or private to the group ``private_to`` until :data:`NEVER`."""
    name, ra0, dec0 = target
    rev = int(revolutions.revolution_of(itime.mjd_from_iso(date)))
    t = revolutions.start_of(rev) + 0.75
    rows = []
    for k, (dy, dz) in enumerate(DITHER_5X5[:pointings]):
        ra = round((ra0 + dy / math.cos(math.radians(dec0))) % 360.0, 4)
        dec = round(dec0 + dz, 4)
        pointing = FIRST_POINTING + k
        for kind, suffix, length in (("pointing", "0010", POINTING_S), ("slew", "0021", SLEW_S)):
            isgri = good_isgri if kind == "pointing" else 0.5 * length
            rows.append(_window(f"{rev:04d}{pointing:04d}{suffix}", kind, rev, pointing, t, length, ra, dec,
                                isgri, name, proposal_id, private_to))
            t += length / 86400.0
    return rows[:-1]  # the observation ends with its last pointing


def _window(scw_id, kind, rev, pointing, start, length, ra, dec, good_isgri, name, proposal_id, private_to):
    end = start + length / 86400.0
    lii, bii = galactic(ra, dec)
    start_ijd, end_ijd = float(itime.ijd_from_mjd(start)), float(itime.ijd_from_mjd(end))
    return {
        "scw_id": scw_id, "scw_ver": "001", "scw_type": kind,
        "status": "private" if private_to else "public",
        "ra": ra, "dec": dec, "start_time": round(start, 8), "end_time": round(end, 8), "revolution": rev,
        "good_spi": 0.95 * length, "good_isgri": float(good_isgri), "good_picsit": 0.7 * good_isgri,
        "good_jemx1": 0.9 * length, "good_jemx2": 0.0, "good_omc": 0.9 * length,
        "pointing": pointing, "subpointing": 1 if kind == "pointing" else 2,
        "ra_z": None, "dec_z": None, "posangle": None,  # the test rows say where X points only
        "elapsed": float(length),
        "start_date": itime.iso_from_mjd(start), "end_date": itime.iso_from_mjd(end),
        "start_ijd": round(start_ijd, 8), "end_ijd": round(end_ijd, 8),
        "obs_id": f"{proposal_id}0001", "proposal_id": proposal_id, "obs_type": "General",
        "target_name": name, "pi_name": "Ubertini",
        "public_date": NEVER if private_to else itime.iso_from_mjd(end + PROPRIETARY_DAYS, precision=0),
        "proprietary_group": private_to or f"proposal-{proposal_id}",
        "data_in_archive": True,
        "lii": round(float(lii), 4), "bii": round(float(bii), 4),
    }


# Proposal ids are AO cycle, 9, serial: no demo proposal has the type digit 9, so the known
# groups and observations never mix with the demo's.

#: public Crab pointings in 2010 that any selection of the Crab in 2005-2015 finds; the same
#: target before 2005 and with little ISGRI time, which such a selection must leave out; the
#: Galactic Centre and Cyg X-1; private Crab and Galactic Centre observations of two groups
CRAB_2010 = observation(CRAB, "2010-03-01", "0890001")
CRAB_2004 = observation(CRAB, "2004-03-01", "0290002")
CRAB_2012_LITTLE_ISGRI = observation(CRAB, "2012-09-01", "1090003", good_isgri=600.0)
CENTRE_2006 = observation(GALACTIC_CENTRE, "2006-04-01", "0490004")
CENTRE_2020 = observation(GALACTIC_CENTRE, "2020-03-01", "1890005")
CYG_X1_2008 = observation(CYG_X1, "2008-06-01", "0690006")
CRAB_GROUP, CENTRE_GROUP = "proposal-2290007", "proposal-2290008"
CRAB_PRIVATE = observation(CRAB, "2024-09-01", "2290007", pointings=7, private_to=CRAB_GROUP)
CENTRE_PRIVATE = observation(GALACTIC_CENTRE, "2024-10-01", "2290008", pointings=12,
                             private_to=CENTRE_GROUP)
ALL = (CRAB_2010 + CRAB_2004 + CRAB_2012_LITTLE_ISGRI + CENTRE_2006 + CENTRE_2020 + CYG_X1_2008
       + CRAB_PRIVATE + CENTRE_PRIVATE)


def load(engine, tableset, rows=ALL) -> int:
    """Add ``rows`` to the catalogue (after a demo one); returns how many."""
    return demo.load(engine, tableset, iter(rows))
