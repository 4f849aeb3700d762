"""integral.time against the archives' own numbers: HEASARC's MJD and IJD, ISDC's ISO dates
and IJD, on every real row of tests/data/real/scw, directly and through ingest."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from integral import time as itime
from tap_catalog import database, ingest
from tap_catalog.tableset import TableSet

SCW = Path(__file__).parent / "data" / "real" / "scw"
DAY = 86400.0


def read(name: str) -> list[dict]:
    with (SCW / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def with_ijd(prefix: str) -> list[tuple[str, dict]]:
    """(file, row) of every real row of the archive's files that carry ijd_start."""
    return [(p.name, r) for p in sorted(SCW.glob(prefix + "*.csv")) for r in read(p.name) if r.get("ijd_start")]


def test_ijd_equals_heasarc_ijd_start_on_every_real_row():
    rows = with_ijd("heasarc_")
    assert len(rows) == 2000  # both nearest-1000 snapshots carry IJD
    for column, ijd_column in (("start_date", "ijd_start"), ("end_date", "ijd_end")):
        mjd = np.array([float(r[column]) for _, r in rows])
        theirs = np.array([float(r[ijd_column]) for _, r in rows])
        assert np.abs(itime.ijd_from_mjd(mjd) - theirs).max() * DAY < 1e-3
        assert np.abs(itime.mjd_from_ijd(theirs) - mjd).max() * DAY < 1e-3
    # IJD is TT: 69.184 s (37 leap seconds + 32.184 s) from MJD - 51544 in 2020, not 0
    mjd = float(rows[0][1]["start_date"])
    assert mjd >= 57754  # after the last leap second, 2016-12-31
    assert (itime.ijd_from_mjd(mjd) - (mjd - 51544)) * DAY == pytest.approx(69.184, abs=1e-4)


def test_leap_seconds_are_counted():
    # independent: TT - UTC = 68.184 s before 2017-01-01, 69.184 s after (a leap second between)
    before, after = 57753.0, 57754.0  # 2016-12-31T00:00, 2017-01-01T00:00 UTC
    # (within 2016-12-31, of 86,401 s, an MJD fraction counts 86,401 s: 57753.5 is 12:00:00.5)
    assert itime.iso_from_mjd(57753.5) == "2016-12-31T12:00:00.500"
    assert (itime.ijd_from_mjd(before) - (before - 51544)) * DAY == pytest.approx(68.184, abs=1e-5)
    assert (itime.ijd_from_mjd(after) - (after - 51544)) * DAY == pytest.approx(69.184, abs=1e-5)
    leap = itime.mjd_from_iso("2016-12-31T23:59:60.500")
    assert itime.iso_from_mjd(leap) == "2016-12-31T23:59:60.500"
    # 23:59:59.5 to 00:00:00.5 UTC lasts two seconds of TT
    span = itime.ijd_from_mjd(itime.mjd_from_iso(["2016-12-31T23:59:59.5", "2017-01-01T00:00:00.5"]))
    assert (span[1] - span[0]) * DAY == pytest.approx(2.0, abs=1e-5)


def test_isdc_iso_dates_are_its_ijd_less_64_184_s():
    """ISDC's ISO dates are not UTC after 2005: read as ISDC writes them, they match its own
    IJD within the second they are cut to, on every real row that has both."""
    rows = with_ijd("isdc_")
    assert len(rows) == 2000
    for column, ijd_column in (("start_date", "ijd_start"), ("end_date", "ijd_end")):
        ijd = np.array([float(r[ijd_column]) for _, r in rows])
        read_back = itime.mjd_from_isdc_iso([r[column] for _, r in rows])
        assert np.abs(read_back - itime.mjd_from_ijd(ijd)).max() * DAY < 1.0
        as_utc = itime.mjd_from_iso([r[column] for _, r in rows])
        assert (as_utc - itime.mjd_from_ijd(ijd)).max() * DAY > 4.0  # plain UTC would be 5 s late


def test_isdc_iso_and_heasarc_mjd_agree_for_the_same_windows():
    heasarc = {r["scw_id"]: r for r in read("heasarc_intscw_revs2437-2440.csv")}
    isdc = {r["scw_id"]: r for r in read("isdc_rev3_scw_revs2437-2441.csv")}
    common = sorted(set(heasarc) & set(isdc))
    assert len(common) == 627
    for column in ("start_date", "end_date"):
        mjd = np.array([float(heasarc[k][column]) for k in common])
        iso = itime.mjd_from_isdc_iso([isdc[k][column] for k in common])
        assert np.abs(mjd - iso).max() * DAY < 1.0  # ISDC's text stops at the second


def test_conversions_keep_shape_and_empty_values():
    assert np.isnan(itime.ijd_from_mjd([np.nan, 55000.0])[0])
    assert itime.iso_from_mjd([np.nan, 55000.0]).tolist() == [None, "2009-06-18T00:00:00.000"]
    assert itime.iso_from_mjd(55000.25, precision=0) == "2009-06-18T06:00:00"
    assert itime.mjd_from_any(["55000.5", 55000, "2009-06-18 12:00:00Z", None, ""])[:3].tolist() == \
        [55000.5, 55000.0, 55000.5]
    with pytest.raises(itime.BadTime) as caught:
        itime.mjd_from_any(["2009-06-18", "soon", "55000"])
    assert caught.value.index == 1 and "'soon'" in str(caught.value)


@pytest.fixture
def engine():
    engine = database.make_engine("sqlite://")
    database.create_catalog(engine, TableSet.load())
    yield engine
    engine.dispose()


def test_ingest_gives_the_archives_times(engine):
    """Through ingest: start_time is HEASARC's MJD (UTC), start_ijd its IJD, start_date the
    UTC timestamp; ISDC's windows get the same times as HEASARC's."""
    ingest.ingest(engine, TableSet.load(), [SCW / "heasarc_intscw_nearest1000_ra10_dec10_2024.csv",
                                            SCW / "isdc_rev3_scw_revs2437-2441.csv"], progress=False)
    with engine.connect() as conn:
        got = {r.scw_id: r for r in conn.execute(text(
            "SELECT scw_id, start_time, end_time, start_ijd, end_ijd, start_date, elapsed FROM integral.scw"))}
    heasarc = [r for r in read("heasarc_intscw_nearest1000_ra10_dec10_2024.csv") if r["scw_id"] in got]
    assert len(heasarc) > 900
    for r in heasarc:
        mine = got[r["scw_id"]]
        assert abs(mine.start_ijd - float(r["ijd_start"])) * DAY < 1e-3
        assert abs(mine.end_ijd - float(r["ijd_end"])) * DAY < 1e-3
        assert abs(mine.start_time - float(r["start_date"])) * DAY < 1e-3
        assert abs(itime.mjd_from_iso(mine.start_date) - float(r["start_date"])) * DAY < 1e-3
        assert mine.elapsed == pytest.approx((float(r["ijd_end"]) - float(r["ijd_start"])) * DAY, abs=1e-3)
    revs = {r["scw_id"]: r for r in read("heasarc_intscw_revs2437-2440.csv")}
    isdc = [k for k in got if k in revs]
    assert len(isdc) > 600
    assert max(abs(got[k].start_time - float(revs[k]["start_date"])) for k in isdc) * DAY < 1.0
