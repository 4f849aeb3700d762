"""Derive tap_catalog/data/demo_calibration.json, the real-data summary the demo generator
(tap_catalog/demo.py) draws from.

    python tools/derive_demo_calibration.py ../shared/data/scw/isoc_observations_2002-2022.csv

Sources: the ISOC observation list (4,168 observations 2002-2022; its repository states no
licence, so only this summary is kept: observation centres merged within 0.5 deg with their
summed exposure, and quantiles of the exposure of one observation) and the real
science-window tables of tests/data/real/scw (astroquery's recorded HEASARC/ISDC answers,
BSD-3-Clause): quantiles of durations and ISGRI good-time fractions, the `other` windows,
dither offsets from the observation centre, the share of recent windows still private.
Commissioning (revolutions 1-18) is left out: the demo models routine operations."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from integral import time as itime  # noqa: E402

SCW = REPO / "tests" / "data" / "real" / "scw"
OUT = REPO / "tap_catalog" / "data" / "demo_calibration.json"
LEVELS = np.linspace(0.0, 1.0, 41)  # quantiles every 2.5 %
MERGE_DEG = 0.5
#: the complete revolutions of a snapshot and when that snapshot was taken (data README)
SNAPSHOTS = {"heasarc_intscw_revs2437-2440.csv": "2022-03-01", "heasarc_intscw_revs2770-2771.csv": "2024-05-27"}


def read(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def quantiles(values) -> list[float]:
    return [round(float(v), 4) for v in np.quantile(np.asarray(values, dtype=float), LEVELS)]


def real_windows() -> dict[str, dict]:
    """Every distinct real window of routine operations, with its duration (s) in '_elapsed'."""
    windows = {}
    for path in sorted(SCW.glob("*.csv")):
        for r in read(path):
            if r.get("ijd_start"):
                t0, t1 = float(r["ijd_start"]), float(r["ijd_end"])
            elif path.name.startswith("isdc"):
                t0, t1 = itime.mjd_from_isdc_iso([r["start_date"], r["end_date"]])
            else:
                t0, t1 = float(r["start_date"]), float(r["end_date"])
            r["_elapsed"] = round((t1 - t0) * 86400.0)  # whole seconds, as the archives count them
            r["_type"] = r["scw_type"].lower()
            r["_ra"], r["_dec"] = r.get("ra") or r.get("ra_x"), r.get("dec") or r.get("dec_x")
            if int(r["scw_id"][:4]) >= 19:
                windows.setdefault(r["scw_id"], r)
    return windows


def targets(observations: list[dict]) -> list[list[float]]:
    """Observation centres merged within MERGE_DEG (greedily, largest exposure first):
    [ra, dec, exposure ks]."""
    ra = np.array([float(o["ra"]) for o in observations])
    dec = np.array([float(o["dec"]) for o in observations])
    exposure = np.array([float(o["exposure_s"]) for o in observations])
    centres = SkyCoord(ra, dec, unit="deg")
    left = np.ones(len(ra), bool)
    out = []
    for i in np.argsort(-exposure):
        if not left[i]:
            continue
        near = left & (centres.separation(centres[i]).deg < MERGE_DEG)
        out.append([round(float(ra[i]), 3), round(float(dec[i]), 3), round(float(exposure[near].sum()) / 1e3, 1)])
        left &= ~near
    return out


def main(observation_list: str) -> None:
    observations = read(Path(observation_list))
    by_obs = {o["obs_id"]: o for o in observations}
    windows = list(real_windows().values())
    pointings = [r for r in windows if r["_type"] == "pointing" and r["_elapsed"] > 0]
    slews = [r for r in windows if r["_type"] == "slew" and r["_elapsed"] > 0]
    other = [r for r in windows if r["_type"] == "other"]
    opening = [r["_elapsed"] for r in other if r["scw_id"][4:11] == "0000001"]
    inner = [r["_elapsed"] for r in other if r["scw_id"][4:11] != "0000001"]
    offsets = []
    for r in pointings:
        o = by_obs.get(r["obs_id"])
        if o and r["_ra"]:
            offsets.append(SkyCoord(float(r["_ra"]), float(r["_dec"]), unit="deg").separation(
                SkyCoord(float(o["ra"]), float(o["dec"]), unit="deg")).deg)
    offsets = np.array(offsets)
    recent = [(r.get("status") or r.get("ps") or "").lower() for name in SNAPSHOTS for r in read(SCW / name)]
    summary = {
        "about": "The real-data summary the demo generator draws from, written by "
                 "tools/derive_demo_calibration.py (its docstring says how); docs/catalogue.md, 'The demo catalogue'.",
        "quantile_levels": [round(float(v), 4) for v in LEVELS],
        "targets_ra_dec_exposure_ks": targets(observations),
        "observation_exposure_s": quantiles([o["exposure_s"] for o in observations]),
        "pointing_elapsed_s": quantiles([r["_elapsed"] for r in pointings]),
        "pointing_isgri_fraction": quantiles([min(1.0, float(r["good_isgri"]) / r["_elapsed"])
                                              for r in pointings if r["good_isgri"]]),
        "slew_elapsed_s": quantiles([r["_elapsed"] for r in slews]),
        "slew_isgri_fraction": quantiles([min(1.0, float(r["good_isgri"]) / r["_elapsed"])
                                          for r in slews if r["good_isgri"]]),
        "opening_other_elapsed_s": quantiles(opening),
        "inner_other_elapsed_s": quantiles(inner),
        "other_share": round(len(other) / len(windows), 4),
        # dither offsets of pointings from their observation's centre: staring (< 0.3 deg),
        # hexagonal (0.3-2.1 deg) and 5x5 (beyond) shares, and the staring offset
        "stare_share": round(float(np.mean(offsets < 0.3)), 4),
        "hex_share": round(float(np.mean((offsets >= 0.3) & (offsets < 2.1))), 4),
        "stare_offset_arcmin": quantiles(offsets[(offsets > 0.05) & (offsets < 0.3)] * 60.0),
        "recent_private_share": round(recent.count("private") / len(recent), 4),
    }
    OUT.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"{OUT}: {len(summary['targets_ra_dec_exposure_ks'])} targets, {len(windows)} windows, "
          f"{len(offsets)} pointings with their observation")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(REPO.parent / "shared" / "data" / "scw" /
                                                    "isoc_observations_2002-2022.csv"))
