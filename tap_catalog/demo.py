"""A realistic, deterministic INTEGRAL science-window catalogue for demos and benchmarks.

``generate(rows, seed)`` yields ``rows`` science windows as dicts with every column of
``integral.scw``; the same (rows, seed) gives the same rows on every machine (NumPy's PCG64
with the seed, one child generator per revolution, values rounded as the archive gives them).
``write_csv`` writes the fifteen fixed columns in their order; ``load`` bulk-loads rows into
``integral.scw`` and refreshes ``integral.revolution``.

The model (see docs/catalogue.md, "The demo catalogue"), calibrated on the real archives
through data/demo_calibration.json (written by tools/derive_demo_calibration.py, checked by
tests/test_demo_calibration.py): the real revolutions (ESA's orbit tables, predicted after
2020-02-05), science from radiation-belt exit to entry; each revolution opens with a short
'other' window and a slew, a few more 'other' windows follow pointings; observations of the
real observation list's centres, drawn by their share of its exposure among those the solar
aspect constraint allows (Sun 50-130 deg from the X axis, in the X-Z plane), each as long
as a real observation; 5x5 dithers (2.17 deg steps), hexagonal ones (7 points, 2 deg) or
staring pointings about 8' off the centre, in the real pointings' shares; pointing and slew
durations and ISGRI good-time shares drawn from the real ones; proprietary data public one
year after the observation (two for part of the last year's programmes, so a few windows are
still private at the demo epoch, :data:`DEMO_NOW`), many programmes' data public at once.

What the model knows of the mission itself comes from :mod:`integral`: its times
(:mod:`integral.time`), revolutions (:mod:`integral.revolutions`), instruments
(:mod:`integral.instruments`), coordinates (:mod:`integral.coordinates`) and how it points
(:mod:`integral.pointing`: dithers, the solar aspect constraint, ``posangle``).
"""
from __future__ import annotations

import bisect
import csv
import json
import math
from pathlib import Path
from typing import IO, Iterable, Iterator

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Engine

from integral import revolutions
from integral import time as itime
from integral.coordinates import angles, galactic, sun_vector, unit_vector
from integral.pointing import DITHER_5X5, DITHER_HEX, posangle, sun_allows

from . import database, ingest
from .dialects import dialect_of
from .row_access import PROPRIETARY_DAYS
from .scw_columns import FIXED_COLUMNS
from .tableset import TableSet

# -- time ---------------------------------------------------------------------------------
# Times are MJD in UTC, converted by integral.time; revolutions are the real ones of
# integral.revolutions (ESA's orbit tables, predicted after 2020-02-05).
MJD_LAUNCH = itime.mjd_from_iso(itime.LAUNCH_DAY)  #: AO cycles count years from it
PERIGEE_GAP = 0.5               #: d: no science within 12 h of perigee
DEMO_NOW = itime.mjd_from_iso("2026-07-01")  #: the demo's "now" for the proprietary status
EXTENDED_PROPRIETARY = 730.0    #: d, part of the last year's general programmes (else PROPRIETARY_DAYS)
MJD_LAST_AO = itime.mjd_from_iso("2024-03-01")
MJD_LATE_TOO = itime.mjd_from_iso("2010-01-01")  #: TOO data proprietary from then on

revolution_start = revolutions.start_of
FIRST_REVOLUTION, LAST_REVOLUTION = revolutions.mission()

# -- observing programme --------------------------------------------------------------------
#: what the real archives say (tools/derive_demo_calibration.py wrote it; docs/catalogue.md)
CALIBRATION = json.loads((Path(__file__).parent / "data" / "demo_calibration.json").read_text())
_LEVELS = CALIBRATION["quantile_levels"]
#: the observation centres of the real observation list and their summed exposure (weights)
_TARGET_RA, _TARGET_DEC, _TARGET_WEIGHT = np.array(CALIBRATION["targets_ra_dec_exposure_ks"]).T
_TARGET_X = None  # their unit vectors, computed on first use
#: (name, ra, dec): the names of targets INTEGRAL observed again and again; an observation
#: centre within 1 deg of one takes its name, any other an IGR-style name
TARGETS = (
    ("Galactic Centre", 266.4168, -29.0078), ("Crab", 83.6331, 22.0145),
    ("Cyg X-1", 299.5903, 35.2016), ("Vela X-1", 135.5286, -40.5547),
    ("Cen A", 201.3651, -43.0191), ("3C 273", 187.2779, 2.0524),
    ("Her X-1", 254.4576, 35.3424), ("GRS 1915+105", 288.7983, 10.9458),
    ("Sco X-1", 244.9795, -15.6402), ("Cas A", 350.8500, 58.8150),
    ("Cyg X-3", 308.1074, 40.9577), ("GX 339-4", 255.7057, -48.7897),
    ("4U 1630-47", 248.5067, -47.3934), ("Vela pulsar", 128.8361, -45.1764),
    ("1E 1740.7-2942", 265.9785, -29.7452), ("GX 1+4", 263.0125, -24.7456),
    ("Cen X-3", 170.3133, -60.6230), ("A0535+26", 84.7274, 26.3158),
    ("Aql X-1", 287.8168, 0.5850), ("SS 433", 287.9565, 4.9827),
    ("Coma cluster", 194.9531, 27.9807), ("Perseus cluster", 49.9507, 41.5117),
    ("LMC", 80.8942, -69.7561), ("M31", 10.6847, 41.2690),
    ("Mrk 421", 166.1138, 38.2088), ("NGC 4151", 182.6357, 39.4057),
)
_NAMED_X = unit_vector([t[1] for t in TARGETS], [t[2] for t in TARGETS])
PI_NAMES = ("Ubertini", "Winkler", "Kuulkers", "Bazzano", "Bird", "Courvoisier", "Diehl",
            "Lund", "Mereghetti", "Roques", "Sunyaev", "Tomsick", "Walter", "Bodaghee",
            "Chenevez", "Jourdain", "Lebrun", "Ferrigno", "Savchenko", "Fiocchi", "Grebenev",
            "Krivonos", "Lutovinov", "Siegert", "Soldi", "Tsygankov", "Wilms", "Zdziarski")
#: 'other' windows inside a revolution (after a pointing; the revolution's opening one aside):
#: chosen so that all 'other' windows make CALIBRATION["other_share"] of the windows
INNER_OTHER_PER_POINTING = 0.042
#: General and Key programmes whose data are proprietary: chosen so that the share of windows still
#: private a few months after they were taken is CALIBRATION["recent_private_share"]
PROPRIETARY_SHARE = 0.35

#: how often each pattern is chosen, for the real shares of pointings within 0.3 deg of the
#: centre (staring ones and the centres of the other patterns: 1 in 7 hexagonal, 1 in 25 5x5
#: pointings) and 0.3-2.1 deg from it (the hexagonal ring)
HEX_PATTERN = CALIBRATION["hex_share"] * 7 / 6
STARE_PATTERN = (CALIBRATION["stare_share"] - HEX_PATTERN / 7 - (1 - HEX_PATTERN) / 25) * 25 / 24


def draw(quantity: str, u: float) -> float:
    """The value of a calibrated ``quantity`` at uniform deviate ``u`` (its quantiles,
    interpolated linearly: the inverse of the real distribution); ``u`` in [0, 1)."""
    values = CALIBRATION[quantity]
    i = bisect.bisect_right(_LEVELS, u)  # 1 .. len - 1: _LEVELS runs from 0 to 1
    return values[i - 1] + (values[i] - values[i - 1]) * (u - _LEVELS[i - 1]) / (_LEVELS[i] - _LEVELS[i - 1])


def _ao(mjd: float) -> int:
    """Announcement of Opportunity cycle, one a year from AO-1 at launch."""
    return max(1, min(99, 1 + int((mjd - MJD_LAUNCH) // 365.25)))


def _field_name(ra: float, dec: float) -> str:
    """An IAU-style INTEGRAL source name, IGR Jhhmmm+ddmm."""
    h = ra / 15.0
    hh, mm = int(h), (h - int(h)) * 60.0
    sign = "+" if dec >= 0 else "-"
    d = abs(dec)
    return f"IGR J{hh:02d}{int(mm * 10):03d}{sign}{int(d):02d}{int((d - int(d)) * 60):02d}"


def _target_name(ra: float, dec: float) -> str:
    near = np.flatnonzero(_NAMED_X @ unit_vector(ra, dec) > math.cos(math.radians(1.0)))
    return TARGETS[near[0]][0] if len(near) else _field_name(ra, dec)


class _Observation:
    """One observation: its pointings' X axes (and sub-pointing counts) and its metadata."""

    def __init__(self, x: np.ndarray, subs: list[int], meta: dict):
        self.x, self.subs, self.meta = x, subs, meta


def _plan_observation(rng: np.random.Generator, rev: int, mjd: float, sun: np.ndarray) -> _Observation:
    """Choose what to observe next: one of the real observation centres the solar aspect
    constraint allows, drawn by its share of the real exposure."""
    global _TARGET_X
    if _TARGET_X is None:
        _TARGET_X = unit_vector(_TARGET_RA, _TARGET_DEC)
    weight = np.where(sun_allows(_TARGET_X, sun), _TARGET_WEIGHT, 0.0)
    i = int(np.searchsorted(np.cumsum(weight), rng.random() * weight.sum(), side="right"))
    obs = _dither(rng, float(_TARGET_RA[i]), float(_TARGET_DEC[i]))
    ao = _ao(mjd)
    core_era = rev < 330
    roll = rng.random()
    if obs.meta["target_name"] == "Crab" and roll < 0.5:
        obs_type = "Calibration"
    elif roll < 0.08:
        obs_type = "TOO"
    elif core_era and roll < 0.45:
        obs_type = "Core"
    elif rev >= 800 and roll < 0.30:
        obs_type = "Key Programme"
    else:
        obs_type = "General"
    type_digit = {"General": 0, "Core": 1, "Key Programme": 2, "TOO": 3, "Calibration": 4}[obs_type]
    proposal_id = f"{ao:02d}{type_digit}{int(rng.integers(1, 400)):04d}"
    pi_name = {"Core": "ISWT", "Calibration": "ISOC"}.get(obs_type) or PI_NAMES[int(rng.integers(len(PI_NAMES)))]
    if obs_type == "Calibration" or obs_type == "TOO" and mjd > MJD_LATE_TOO:
        proprietary = 0.0
    elif obs_type in ("General", "Key Programme") and rng.random() >= PROPRIETARY_SHARE:
        proprietary = 0.0  # many programmes waive their rights (measured, CALIBRATION)
    elif mjd >= MJD_LAST_AO:  # the last programmes: two years (PROPRIETARY_SHARE of them drew rights)
        proprietary = EXTENDED_PROPRIETARY
    else:
        proprietary = PROPRIETARY_DAYS
    obs.meta.update(obs_type=obs_type, proposal_id=proposal_id,
                    obs_id=f"{proposal_id}{int(rng.integers(1, 60)):04d}", pi_name=pi_name,
                    proprietary=proprietary, exposure=draw("observation_exposure_s", rng.random()))
    return obs


def _dither(rng, ra, dec) -> _Observation:
    """The pattern, in the real pointings' shares: staring ~8' off the centre (as real
    staring pointings are), hexagonal (7 points, 2 deg) or 5x5 (2.17 deg steps), repeated
    until the observation's exposure is spent."""
    pattern = rng.random()
    if pattern < STARE_PATTERN:
        offset, angle = draw("stare_offset_arcmin", rng.random()) / 60.0, rng.uniform(0, 2 * math.pi)
        offsets = [(offset * math.cos(angle), offset * math.sin(angle))]
    elif pattern < STARE_PATTERN + HEX_PATTERN:
        offsets = DITHER_HEX
    else:
        offsets = DITHER_5X5
    offsets = offsets * 12  # more than any observation needs; it stops when its exposure is spent
    x0 = unit_vector(ra, dec)
    return _Observation(np.array([x0] * len(offsets)), [1] * len(offsets),
                        {"target_name": _target_name(ra, dec), "offsets": offsets, "centre": (ra, dec)})


def _science_time(rev: int) -> tuple[int, int]:
    """Seconds (MJD x 86400) from the radiation-belt exit to the entry of revolution ``rev``
    (ESA's table; 12 h from each perigee where it has no value, or none that makes sense:
    revolution 2114's entry precedes its exit)."""
    revs = revolutions.orbit()
    i = revs.index(rev)
    first, last = revolution_start(rev) + PERIGEE_GAP, revolution_start(rev + 1) - PERIGEE_GAP
    if i is not None and revs.science_start[i] < revs.science_end[i]:  # False for NaN too
        first, last = revs.science_start[i], revs.science_end[i]
    return round(first * 86400.0), round(last * 86400.0)


def _revolution(rev: int, seed: int, count_only: bool = False) -> list[tuple] | int:
    """The science windows of revolution ``rev``: tuples (scw_id, type, start s, end s,
    sub-pointing, attitude, good times, metadata); with ``count_only``, just how many
    (the same draws, without the coordinates and the tuples). Each revolution opens with
    a short 'other' window and a slew, as the real ones do."""
    rng = np.random.default_rng([seed, rev])
    start, end = revolution_start(rev), revolution_start(rev + 1)
    t, t_end = _science_time(rev)
    sun = sun_vector(0.5 * (start + end))
    spi_annealing = rev % 58 < 4
    jemx_units = (False, True) if rev < 170 else (True, False) if rev < 970 else (True, True)
    # one pool of uniform deviates for the windows: far cheaper than a call per number
    pool = iter(rng.random((int((t_end - t) / 60) + 16, 12)).tolist())
    out, pointing = [], 0
    opening = True
    while t < t_end:
        obs = _plan_observation(rng, rev, t / 86400.0, sun)
        # the Sun lies in the X-Z plane; dither offsets are along Y and Z
        x0 = obs.x
        z = sun - (x0 @ sun)[:, None] * x0
        z /= np.linalg.norm(z, axis=1)[:, None]
        y = np.cross(z, x0)
        off = np.radians(np.array(obs.meta["offsets"]))
        x = x0 + np.tan(off[:, :1]) * y + np.tan(off[:, 1:]) * z
        x /= np.linalg.norm(x, axis=1)[:, None]
        if count_only:
            ra = attitude = [None] * len(x)
        else:
            ra, dec, ra_z, dec_z, pa, lii, bii = _attitudes(x, z)
        meta = obs.meta
        if opening:  # the revolution's 'other' window and slew, pointing 0000, at the first attitude
            opening = False
            for kind, sub, quantity in (("other", 1, "opening_other_elapsed_s"), ("slew", 2, "slew_elapsed_s")):
                u = next(pool)
                length = min(max(1, round(draw(quantity, u[8]))), t_end - t)
                if not count_only:
                    attitude = (0, ra[0], dec[0], ra_z[0], dec_z[0], pa[0], lii[0], bii[0])
                out.append(None if count_only else
                           (f"{rev:04d}0000{sub:03d}{2 if kind == 'other' else 1}", kind, t, t + length, sub,
                            attitude, _good_times(u, length, kind, spi_annealing, jemx_units), meta))
                t += length
        exposure = 0.0
        for k in range(len(ra)):
            if t >= t_end or pointing >= 9999 or exposure >= meta["exposure"]:
                break
            pointing += 1
            if not count_only:
                attitude = (pointing, ra[k], dec[k], ra_z[k], dec_z[k], pa[k], lii[k], bii[k])
            u = next(pool)
            length = min(max(1, round(draw("pointing_elapsed_s", u[8]))), t_end - t)
            out.append(None if count_only else
                       (f"{rev:04d}{pointing:04d}0010", "pointing", t, t + length, 1, attitude,
                        _good_times(u, length, "pointing", spi_annealing, jemx_units), meta))
            t += length
            exposure += length
            sub = 2
            if u[10] < INNER_OTHER_PER_POINTING and t < t_end:
                length = min(max(1, round(draw("inner_other_elapsed_s", u[11]))), t_end - t)
                out.append(None if count_only else
                           (f"{rev:04d}{pointing:04d}0022", "other", t, t + length, 2, attitude,
                            _good_times(u, length, "other", spi_annealing, jemx_units), meta))
                t += length
                sub = 3
            if t >= t_end:
                break
            # the slew to the next attitude, named after the pointing it leaves
            u = next(pool)
            length = min(max(1, round(draw("slew_elapsed_s", u[8]))), t_end - t)
            out.append(None if count_only else
                       (f"{rev:04d}{pointing:04d}{sub:03d}1", "slew", t, t + length, sub, attitude,
                        _good_times(u, length, "slew", spi_annealing, jemx_units), meta))
            t += length
    return len(out) if count_only else out


def pointing_layout(rev: int, seed: int = 0) -> list[tuple[float, float, float, float, float]]:
    """(elapsed s, ra, dec, centre ra, centre dec) of every pointing of revolution ``rev``:
    where each lies from its observation's centre, which the rows do not hold (what
    tests/test_demo_calibration.py compares with the archives)."""
    return [(w[3] - w[2], w[5][1], w[5][2], *w[7]["centre"])
            for w in _revolution(rev, seed) if w[1] == "pointing"]


def _attitudes(x: np.ndarray, z: np.ndarray) -> tuple[list, ...]:
    """ra, dec, ra_z, dec_z, posangle, lii, bii (lists, rounded as the archive gives them)
    of X axes ``x`` and approximate Z axes ``z`` (made orthogonal to X here)."""
    z = z - (x * z).sum(axis=1)[:, None] * x
    z /= np.linalg.norm(z, axis=1)[:, None]
    ra, dec = angles(x)
    ra_z, dec_z = angles(z)
    ra, dec, ra_z, dec_z = (np.round(v, 4) for v in (ra, dec, ra_z, dec_z))
    pa = np.round(posangle(ra, dec, ra_z, dec_z), 2).tolist()
    lii, bii = (np.round(v, 4).tolist() for v in galactic(ra, dec))
    return ra.tolist(), dec.tolist(), ra_z.tolist(), dec_z.tolist(), pa, lii, bii


def _good_times(u: list, length: int, kind: str, spi_annealing: bool, jemx_units) -> tuple:
    """Good time (s) of SPI, ISGRI, PICsIT, JEM-X 1, JEM-X 2, OMC: each <= ``length``;
    ISGRI's share of a pointing or a slew drawn from the real ones."""
    if kind == "other":  # mostly nothing; SPI alone sometimes
        return (0 if spi_annealing or u[0] < 0.6 else int(length * u[1]), 0, 0, 0, 0, 0)
    isgri = int(length * draw(f"{kind}_isgri_fraction", u[3]))
    if kind == "slew":
        spi = 0 if spi_annealing else int(length * (0.6 + 0.4 * u[0]))
        return (spi, isgri, int(isgri * 0.8 * u[2]) if u[2] > 0.8 else 0, 0, 0, 0)
    spi = 0 if spi_annealing or u[0] < 0.02 else int(length * (0.88 + 0.10 * u[1]))
    picsit = int(isgri * (0.60 + 0.20 * u[4]))
    jemx_on = u[5] >= 0.3  # JEM-X is often off
    jemx1 = int(length * (0.85 + 0.14 * u[6])) if jemx_on and jemx_units[0] else 0
    jemx2 = int(length * (0.85 + 0.14 * u[6])) if jemx_on and jemx_units[1] else 0
    omc = 0 if u[7] < 0.08 else int(length * (0.85 + 0.15 * u[7]))
    return (spi, isgri, picsit, jemx1, jemx2, omc)


def _rows(windows: list[tuple[int, tuple]]) -> list[dict]:
    """The rows of (revolution, window) pairs, their times converted together (one
    integral.time call per column, not per row)."""
    t0 = np.array([w[2] for _, w in windows], dtype=float)
    t1 = np.array([w[3] for _, w in windows], dtype=float)
    public_seconds = t1 + np.array([round(w[7]["proprietary"] * 86400) for _, w in windows])
    start_date, end_date = itime.iso_from_mjd(t0 / 86400.0), itime.iso_from_mjd(t1 / 86400.0)
    start_ijd, end_ijd = itime.ijd_from_mjd(t0 / 86400.0), itime.ijd_from_mjd(t1 / 86400.0)
    public_date = itime.iso_from_mjd(public_seconds / 86400.0, precision=0)
    return [_row(rev, window, {
        "start_date": start_date[i], "end_date": end_date[i],
        "start_ijd": round(float(start_ijd[i]), 8), "end_ijd": round(float(end_ijd[i]), 8),
        "elapsed": round(float(end_ijd[i] - start_ijd[i]) * 86400.0, 3),
        "public_date": public_date[i]}) for i, (rev, window) in enumerate(windows)]


def _row(rev: int, window: tuple, times: dict) -> dict:
    scw_id, kind, t0, t1, sub, attitude, good, meta = window
    pointing, ra, dec, ra_z, dec_z, pa, lii, bii = attitude
    start, end = round(t0 / 86400.0, 8), round(t1 / 86400.0, 8)
    public = t1 / 86400.0 + meta["proprietary"]
    spi, isgri, picsit, jemx1, jemx2, omc = good
    return {
        "scw_id": scw_id, "scw_ver": "001", "scw_type": kind,
        "status": "private" if public > DEMO_NOW else "public",
        "ra": ra, "dec": dec, "start_time": start, "end_time": end, "revolution": rev,
        "good_spi": float(spi), "good_isgri": float(isgri), "good_picsit": float(picsit),
        "good_jemx1": float(jemx1), "good_jemx2": float(jemx2), "good_omc": float(omc),
        "pointing": pointing, "subpointing": sub, "ra_z": ra_z, "dec_z": dec_z,
        "posangle": pa, **times,
        "obs_id": meta["obs_id"], "proposal_id": meta["proposal_id"], "obs_type": meta["obs_type"],
        "target_name": meta["target_name"], "pi_name": meta["pi_name"],
        # the proposal team: the users entitled to the data while they are private
        "proprietary_group": f"proposal-{meta['proposal_id']}",
        # a few science windows (one in about 200) never reached the archive
        "data_in_archive": int(scw_id) % 197 != 0,
        "lii": lii, "bii": bii,
    }


# -- the catalogue --------------------------------------------------------------------------
ROWS_PER_REVOLUTION = 100  #: a round figure of the model's yield, to spread small catalogues


def _revolutions(rows: int, seed: int) -> list[tuple[int, int]]:
    """Which revolutions to generate and how many of each one's windows to keep: evenly
    spread over the mission, always ending with its last revolution, as many as ``rows``
    need (continuing past the end of operations when the whole mission is not enough)."""
    stride = max(1, (LAST_REVOLUTION - FIRST_REVOLUTION + 1) * ROWS_PER_REVOLUTION // max(rows, 1))
    chosen, total, rev = [], 0, LAST_REVOLUTION
    while total < rows and rev >= FIRST_REVOLUTION:
        n = _revolution(rev, seed, count_only=True)
        chosen.append([rev, n])
        total += n
        rev -= stride
    chosen.reverse()
    rev = LAST_REVOLUTION
    while total < rows:
        rev += 1
        n = _revolution(rev, seed, count_only=True)
        chosen.append([rev, n])
        total += n
    if total > rows:  # the earliest revolution keeps only its beginning
        chosen[0][1] -= total - rows
    return [(r, n) for r, n in chosen]


def generate(rows: int, seed: int = 0) -> Iterator[dict]:
    """Yield ``rows`` science windows (dicts of every integral.scw column), time-ordered;
    the same (rows, seed) yields the same rows everywhere."""
    if rows <= 0:
        return
    pending: list[tuple[int, tuple]] = []
    for rev, keep in _revolutions(rows, seed):
        pending += [(rev, window) for window in _revolution(rev, seed)[:keep]]
        if len(pending) >= 5000:
            yield from _rows(pending)
            pending = []
    if pending:
        yield from _rows(pending)


def write_csv(out: IO[str], rows: Iterable[dict]) -> int:
    """Write ``rows`` as CSV with the fifteen fixed columns in order; returns the count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIXED_COLUMNS)
    n = 0
    for row in rows:
        writer.writerow([_csv_value(row[c]) for c in FIXED_COLUMNS])
        n += 1
    return n


def _csv_value(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return value


# -- loading -------------------------------------------------------------------------------
def load(engine: Engine, tableset: TableSet, rows_iter: Iterable[dict], batch: int = 20000,
         replace: bool = False, progress: bool = False) -> int:
    """Bulk-load science windows into integral.scw (COPY on PostgreSQL, executemany in
    batches on SQLite) in one transaction, then refresh integral.revolution and the
    SQLite stand-ins of the views. ``replace`` empties integral.scw first. Returns the
    number of rows loaded."""
    scw = tableset.get("integral.scw")
    columns = [c.name for c in scw.columns]
    with engine.begin() as conn:
        if replace:
            conn.execute(text("DELETE FROM integral.scw"))
        bar = ingest.progress_bar(progress, None, "loading")
        n = dialect_of(conn).bulk_insert(conn, "integral.scw", columns, rows_iter, batch, bar.update)
        bar.close()
        ingest.refresh_revolutions(conn)
        database.refresh_views(conn, tableset)
    return n


def load_if_empty(engine: Engine, tableset: TableSet, rows: int, seed: int = 0) -> int:
    """Load ``rows`` demo science windows when ``integral.scw`` is empty (what the
    zero-configuration ``hera serve`` does); returns the rows loaded, 0 if there were
    science windows already or ``rows`` is 0. The catalogue is marked as a demo one
    (:func:`mark_as_demo`)."""
    if rows <= 0:
        return 0
    with engine.connect() as conn:
        if conn.execute(text("SELECT 1 FROM integral.scw LIMIT 1")).first() is not None:
            return 0
    n = load(engine, tableset, generate(rows, seed))
    mark_as_demo(engine)
    return n


def mark_as_demo(engine: Engine) -> None:
    """Record that the catalogue holds only demo windows: the first real ingest then
    empties it before loading (tap_catalog.ingest)."""
    with engine.begin() as conn:
        ingest.mark_demo(conn)
