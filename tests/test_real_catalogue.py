"""The real INTEGRAL science-window tables (tests/data/real/scw: HEASARC's intscw of 2022
and 2024, ISDC's rev3 scw table) go in as the archives gave them, and Hera's TAP answers
what the archives answered, on SQLite and PostgreSQL.

Expected values are read from the files with the csv module here, never from Hera; the
query centres of the files (not in the files themselves) are in tests/data/real/README.md
and below.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.io import votable
from astropy.time import Time
from click.testing import CliRunner
from sqlalchemy import text

from tap_catalog import adql, cli, ingest
from tap_catalog.dialects import dialect_of
from vo_service.web import selection

from schemas import assert_valid

REAL = Path(__file__).parent / "data" / "real" / "scw"
FILES = sorted(REAL.glob("*.csv"))
PRODUCTS = Path(__file__).parent / "data" / "real" / "products"

#: the centre of each file's query (RA, Dec in degrees), from which the archive measured
#: `_search_offset_arcmin`: HEASARC resolved "Crab" to 05 34 31.94 +22 00 52.2 in 2022 and
#: to SIMBAD's M 1, 05 34 30.9 +22 00 53, in 2024; ISDC's first 1000 rows came from a cone
#: of 361 deg around (10, 10)
CRAB_2022 = (83.633083, 22.0145)
CRAB_2024 = (83.62875, 22.014722)
CENTRES = {
    "heasarc_intscw_crab_1deg_2020-09_2020-12.csv": CRAB_2024,
    "heasarc_intscw_nearest1000_ra10_dec10_2022.csv": (10.0, 10.0),
    "heasarc_intscw_nearest1000_ra10_dec10_2024.csv": (10.0, 10.0),
    "heasarc_intscw_revs2437-2440.csv": CRAB_2022,
    "heasarc_intscw_revs2770-2771.csv": CRAB_2024,
    "isdc_rev3_scw_3c273_1deg.csv": (187.277917, 2.052389),
    "isdc_rev3_scw_nearest1000_ra10_dec10_2024.csv": (10.0, 10.0),
    "isdc_rev3_scw_revs0001-0018.csv": (10.0, 10.0),
    "isdc_rev3_scw_revs2437-2441.csv": CRAB_2022,
}
CANONICAL_OBS_TYPES = set(ingest.OBS_TYPES.values())


def read(path: Path) -> list[dict]:
    """The rows of a real file, with ISDC's names turned into HEASARC's."""
    renames = {"ra_x": "ra", "dec_x": "dec", "ps": "status", "dsize": "data_size", "spimode": "spi_mode",
               "ibismode": "ibis_mode", "jmx1mode": "jemx1_mode", "jmx2mode": "jemx2_mode", "omcmode": "omc_mode"}
    with path.open(newline="") as f:
        return [{renames.get(k, k): v for k, v in row.items()} for row in csv.DictReader(f)]


def newest(rows: list[dict]) -> dict[str, dict]:
    """scw_id → the row of its highest scw_ver."""
    out = {}
    for row in sorted(rows, key=lambda r: r["scw_ver"]):
        out[row["scw_id"]] = row
    return out


def all_windows() -> dict[str, dict]:
    return newest([r for path in FILES for r in read(path)])


@pytest.fixture
def config(config_on_both_databases):
    return config_on_both_databases


@pytest.fixture
def hera(app):
    """The app's catalogue, emptied (the PostgreSQL database is the session's)."""
    hera = app.extensions["hera"]
    empty(hera)
    return hera


def empty(hera):
    with hera.engine.begin() as conn:
        conn.execute(text("DELETE FROM integral.scw"))
        ingest.refresh_revolutions(conn)


def load(hera, paths, **options):
    return ingest.ingest(hera.engine, hera.tableset, paths, progress=False, **options)


def tap(app, query: str):
    """The rows of a TAP sync query (anonymous), as an astropy table."""
    r = app.test_client().post("/tap/sync", data={"LANG": "ADQL", "QUERY": query, "MAXREC": 100000})
    assert r.status_code == 200, r.data[:800]
    assert_valid("VOTable.xsd", r.data)
    return votable.parse(io.BytesIO(r.data)).get_first_table().to_table()


def stored(hera, columns="*") -> dict[str, dict]:
    with hera.engine.connect() as conn:
        return {r["scw_id"]: dict(r) for r in conn.execute(
            text(f"SELECT {columns} FROM integral.scw ORDER BY scw_id")).mappings()}


def mjd_utc(value: str) -> float:
    """MJD (UTC) of an archive's start/end: HEASARC's MJD, or ISDC's ISO date, which ISDC
    writes as TT - 64.184 s cut to the second (see docs/catalogue.md), up to 6 s after UTC."""
    try:
        return float(value)
    except ValueError:
        return (Time(value.replace(" ", "T"), scale="tt") + 64.184 * u.s).utc.mjd


# -- ingest ------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_real_file_ingests_as_the_archive_gave_it(hera, path):
    expected = newest(read(path))
    counts = load(hera, [path])
    assert counts == {"read": len(read(path)), "windows": len(expected), "files": 1, "demo_removed": 0}
    rows = stored(hera)
    assert set(rows) == set(expected)
    for scw_id, want in expected.items():
        got = rows[scw_id]
        assert got["scw_ver"] == want["scw_ver"]
        assert got["scw_type"] == want["scw_type"].lower()
        assert got["status"] == want["status"].lower()
        for instrument in ("spi", "isgri", "picsit", "jemx1", "jemx2", "omc"):
            value = want[f"good_{instrument}"]
            assert got[f"good_{instrument}"] == (None if value == "" else float(value))
        assert got["obs_id"] == (want["obs_id"] or None)
        assert got["pi_name"] == (want["pi_name"] or None)
        if want["obs_type"]:
            assert got["obs_type"] in CANONICAL_OBS_TYPES and got["obs_type"].upper() == want["obs_type"].upper()
        else:
            assert got["obs_type"] is None
        assert got["data_size"] == int(want["data_size"])
        assert abs(got["start_time"] - mjd_utc(want["start_date"])) * 86400 < 1.0
        assert abs(got["end_time"] - mjd_utc(want["end_date"])) * 86400 < 1.0
        if want.get("ijd_start"):
            assert abs(got["start_ijd"] - float(want["ijd_start"])) * 86400 < 1e-3
            assert abs(got["end_ijd"] - float(want["ijd_end"])) * 86400 < 1e-3
        if "posangle" in want:  # the files with all columns
            assert got["exp_id"] == (want["exp_id"] or None)
            for name in ("spi_mode", "ibis_mode", "jemx1_mode", "jemx2_mode", "omc_mode"):
                assert got[name] == int(want[name])
            for name in ("obt_start", "obt_end"):  # exact, whether digits or E-notation
                assert got[name] == int(Decimal(want[name]))
            for name in ("ra_z", "dec_z", "posangle"):
                assert got[name] == pytest.approx(float(want[name]), abs=1e-9)
        if "lii" in want:  # HEASARC's Galactic coordinates, to its 5 decimals (0.02")
            along = (got["lii"] - float(want["lii"]) + 180) % 360 - 180
            offset = np.hypot(along * np.cos(np.radians(float(want["bii"]))), got["bii"] - float(want["bii"]))
            assert offset * 3600 < 0.1


def test_all_real_files_together_twice_and_in_reverse(hera):
    windows = all_windows()
    load(hera, FILES)
    first = stored(hera)
    assert set(first) == set(windows)
    assert len(first) == 3682
    # 'other' windows kept as their own type: as many as the files hold
    assert sum(r["scw_type"] == "other" for r in first.values()) == \
        sum(w["scw_type"].lower() == "other" for w in windows.values())
    load(hera, FILES)
    assert stored(hera) == first  # idempotent
    empty(hera)
    load(hera, list(reversed(FILES)))
    reverse = stored(hera)
    assert set(reverse) == set(first)
    for scw_id, row in first.items():
        other = reverse[scw_id]
        for name in ("scw_ver", "scw_type", "status", "obs_type", "pi_name", "public_date", "obs_id",
                     "good_isgri", "data_size", "exp_id", "ibis_mode"):
            assert other[name] == row[name], (scw_id, name)
        assert abs(other["start_time"] - row["start_time"]) * 86400 < 1.0


def test_same_window_in_two_snapshots_is_completed_and_public_wins(hera):
    """44 windows are private in HEASARC's 2022 snapshot and public in its 2024 one; the
    2024 snapshot and ISDC spell PIs differently; ISDC's 2437-2441 table lacks the Z axes
    and experiments that HEASARC's 2022 snapshot gives for three of its windows."""
    old, new = REAL / "heasarc_intscw_nearest1000_ra10_dec10_2022.csv", REAL / "heasarc_intscw_nearest1000_ra10_dec10_2024.csv"
    released = {r["scw_id"] for r in read(old) if r["status"] == "PRIVATE"} & \
        {r["scw_id"] for r in read(new) if r["status"] == "public"}
    assert len(released) == 44
    for order in ([old, new], [new, old]):
        empty(hera)
        load(hera, order)
        rows = stored(hera)
        assert {rows[i]["status"] for i in released} == {"public"}
        mixed = {r["scw_id"]: r["pi_name"] for r in read(new) if r["pi_name"]}
        assert all(rows[i]["pi_name"] == name for i, name in mixed.items())
    empty(hera)
    load(hera, [REAL / "isdc_rev3_scw_revs2437-2441.csv", old])
    both = {r["scw_id"] for r in read(REAL / "isdc_rev3_scw_revs2437-2441.csv")} & set(newest(read(old)))
    assert len(both) == 3
    rows, heasarc = stored(hera), newest(read(old))
    for scw_id in both:
        assert rows[scw_id]["posangle"] == pytest.approx(float(heasarc[scw_id]["posangle"]), abs=1e-9)
        assert rows[scw_id]["obt_start"] == int(heasarc[scw_id]["obt_start"])
        assert rows[scw_id]["exp_id"] == (heasarc[scw_id]["exp_id"] or None)


def test_a_newer_scw_ver_replaces_the_older(hera):
    path = REAL / "isdc_rev3_scw_3c273_1deg.csv"
    versions = {}
    for row in read(path):
        versions.setdefault(row["scw_id"], []).append(row)
    twice = {i: sorted(rows, key=lambda r: r["scw_ver"]) for i, rows in versions.items() if len(rows) > 1}
    assert set(twice) == {"105400440010", "105400440021"}
    load(hera, [path])
    rows = stored(hera)
    for scw_id, (older, newer) in twice.items():
        assert rows[scw_id]["scw_ver"] == newer["scw_ver"] == "002"
        assert rows[scw_id]["data_size"] == int(newer["data_size"]) != int(older["data_size"])


def test_empty_good_times_are_null_in_every_table(hera, app):
    load(hera, FILES)
    windows = all_windows()
    no_isgri = [w for w in windows.values() if w["good_isgri"] == ""]
    assert no_isgri
    assert tap(app, "SELECT COUNT(*) AS n FROM integral.scw WHERE good_isgri IS NULL")["n"][0] == len(no_isgri)
    assert tap(app, "SELECT COUNT(*) AS n FROM ivoa.obscore WHERE t_exptime IS NULL")["n"][0] == len(no_isgri)
    pointings = [w for w in no_isgri if w["scw_type"].lower() == "pointing"]
    assert tap(app, "SELECT COUNT(*) AS n FROM ivoa.obsplan WHERE t_exptime IS NULL")["n"][0] == len(pointings)


def test_obs_type_has_one_spelling_and_obsloctap_maps_any_case(hera, app):
    load(hera, FILES)
    windows = all_windows()
    spellings = set(tap(app, "SELECT DISTINCT obs_type FROM integral.scw WHERE obs_type IS NOT NULL")["obs_type"])
    assert {s.upper() for s in spellings} == {w["obs_type"].upper() for w in windows.values() if w["obs_type"]}
    assert spellings <= CANONICAL_OBS_TYPES and "General" in spellings and "GENERAL" not in spellings
    pointings = [w for w in windows.values() if w["scw_type"].lower() == "pointing"]
    categories = dict(tap(app, "SELECT category, COUNT(*) AS n FROM ivoa.obsplan GROUP BY category").iterrows())
    assert categories["Fixed"] == sum(w["obs_type"].upper() == "TOO" for w in pointings)
    assert categories["Coordinated"] == sum(w["obs_type"].upper() == "CALIBRATION" for w in pointings)


def test_other_windows_are_a_type_of_their_own_on_the_selection_page(hera, app, tmp_path):
    load(hera, [REAL / "isdc_rev3_scw_revs0001-0018.csv"])
    others = {r["scw_id"] for r in read(REAL / "isdc_rev3_scw_revs0001-0018.csv") if r["scw_type"] == "OTHER"}
    assert len(others) == 36
    sel = selection.build({"scw_type": "other", "maxrec": "10000"})
    assert not sel.errors
    assert set(tap(app, sel.adql)["scw_id"]) == others
    # a file without a type column: the id's last digit tells (2: other)
    bare = tmp_path / "bare.csv"
    with (REAL / "isdc_rev3_scw_revs0001-0018.csv").open(newline="") as f, bare.open("w", newline="") as out:
        writer = csv.writer(out)
        for row in csv.reader(f):
            writer.writerow(row[:2] + row[3:])
    empty(hera)
    load(hera, [bare])
    assert {i for i, r in stored(hera, "scw_id, scw_type").items() if r["scw_type"] == "other"} == others


@pytest.mark.parametrize("name", ["isgri_query_lc.fits", "isgri_query_mosaic.fits",
                                  "1E_1740_7_2942_isgri_mosaic_clean_significance25_40.fits.gz"])
def test_a_file_that_is_not_a_science_window_table_is_refused_and_nothing_kept(hera, name):
    product = PRODUCTS / name
    good = REAL / "heasarc_intscw_revs2437-2440.csv"
    with pytest.raises(ingest.IngestError) as caught:
        load(hera, [good, product])
    assert caught.value.file == str(product)
    assert caught.value.reason.startswith("not a science-window table: ")
    assert stored(hera) == {}
    url = hera.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli.catalog, ["ingest", "--database-url", url, "--no-progress", str(good), str(product)])
    assert result.exit_code != 0
    assert result.output.count("\n") == 1 and f"nothing ingested: {product}: not a science-window table" in result.output


def test_binary_data_named_csv_is_refused(hera, tmp_path):
    fake = tmp_path / "intscw.csv"
    fake.write_bytes(b"scw_id,start_date,end_date\n" + (PRODUCTS / "isgri_query_lc.fits").read_bytes())
    with pytest.raises(ingest.IngestError, match="not a science-window table: cannot read it as text"):
        load(hera, [REAL / "heasarc_intscw_revs2437-2440.csv", fake])
    assert stored(hera) == {}


# -- rights ------------------------------------------------------------------------------------
def visible(hera, now: datetime, query="SELECT COUNT(*) FROM integral.scw") -> int:
    """What an anonymous query sees at ``now`` (the translator's access rule)."""
    translation = adql.translate(query, hera.tableset, dialect_of(hera.engine), now=now)
    with hera.engine.begin() as conn:
        for statement in translation.setup:
            conn.exec_driver_sql(statement)
        return conn.exec_driver_sql(translation.sql).scalar()


def test_private_windows_without_a_date_become_public_a_period_after_their_end(hera):
    windows = all_windows()
    statuses = {}
    for path in FILES:
        for row in read(path):
            statuses.setdefault(row["scw_id"], set()).add(row["status"].lower())
    undated = {i for i, seen in statuses.items() if seen == {"private"}}  # private in every file
    assert len(undated) == 385
    load(hera, FILES)
    rows = stored(hera, "scw_id, status, end_time, public_date")
    for scw_id in undated:
        expected = Time(rows[scw_id]["end_time"] + 365, format="mjd", scale="utc")
        date = Time(rows[scw_id]["public_date"], format="isot", scale="utc")
        assert rows[scw_id]["status"] == "private" and abs((date - expected).sec) <= 1.0
    dates = sorted(datetime.fromisoformat(rows[i]["public_date"]) for i in undated)
    # before the first date none is seen; each is seen from its date on, with nobody acting
    assert visible(hera, dates[0] - timedelta(seconds=1)) == len(windows) - len(undated)
    middle = dates[len(dates) // 2]
    assert visible(hera, middle) == len(windows) - sum(d > middle for d in dates)
    assert visible(hera, dates[-1]) == len(windows)
    released = visible(hera, dates[-1], "SELECT COUNT(*) FROM integral.scw WHERE status = 'private'")
    assert released == 0  # a released window reads public


def test_the_proprietary_period_is_a_setting(hera, app):
    """Through TAP, now: a period that ends between the windows of revolutions 2437-2441
    shows exactly those whose end lies that far back."""
    path = REAL / "isdc_rev3_scw_revs2437-2441.csv"
    rows = read(path)
    ends = {r["scw_id"]: mjd_utc(r["end_date"]) for r in rows if r["status"] == "PRIVATE"}
    now = Time(datetime.now(timezone.utc)).utc.mjd
    period = now - sorted(ends.values())[len(ends) // 2]  # half of them past it
    url = hera.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli.catalog, ["ingest", "--database-url", url, "--no-progress", str(path)],
                                env={"HERA_PROPRIETARY_DAYS": str(period)})
    assert result.exit_code == 0, result.output
    # a margin of a minute around the boundary: the test runs while the clock moves
    past = sum(end + period <= now - 1 / 1440 for end in ends.values())
    near = sum(abs(end + period - now) < 1 / 1440 for end in ends.values())
    seen = tap(app, "SELECT COUNT(*) AS n FROM integral.scw")["n"][0]
    assert len(rows) - len(ends) + past <= seen <= len(rows) - len(ends) + past + near
    assert 0 < past < len(ends)
    assert tap(app, "SELECT COUNT(*) AS n FROM integral.scw WHERE status = 'private'")["n"][0] == 0


# -- what the archives answered ----------------------------------------------------------------
def test_crab_one_degree_autumn_2020(hera, app):
    """astroquery's own test of HEASARC: 11 windows, 7 with ISGRI good time above 1,000 s."""
    load(hera, FILES)
    ra, dec = CRAB_2024
    rows = tap(app, f"SELECT scw_id, good_isgri FROM integral.scw "
                    f"WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {dec}, 1)) = 1 "
                    "AND start_date >= '2020-09-01' AND start_date < '2020-12-01'")
    assert sorted(rows["scw_id"]) == sorted(r["scw_id"] for r in read(REAL / "heasarc_intscw_crab_1deg_2020-09_2020-12.csv"))
    assert len(rows) == 11
    assert int(np.sum(rows["good_isgri"].filled(0) > 1000)) == 7


def test_revolutions_2437_to_2440_are_the_same_in_both_archives(hera, app):
    query = ("SELECT scw_id, scw_type, start_time, end_time FROM integral.scw "
             "WHERE revolution BETWEEN 2437 AND 2440 ORDER BY scw_id")
    answers = []
    for name in ("heasarc_intscw_revs2437-2440.csv", "isdc_rev3_scw_revs2437-2441.csv"):
        empty(hera)
        load(hera, [REAL / name])
        answers.append(tap(app, query))
    heasarc, isdc = answers
    assert len(heasarc) == len(isdc) == 627
    assert list(heasarc["scw_id"]) == list(isdc["scw_id"])
    assert list(heasarc["scw_type"]) == list(isdc["scw_type"])
    assert np.max(np.abs(heasarc["start_time"] - isdc["start_time"])) * 86400 < 1.0
    assert np.max(np.abs(heasarc["end_time"] - isdc["end_time"])) * 86400 < 1.0


def test_distance_agrees_with_the_archives_search_offsets(hera, app):
    load(hera, FILES)
    compared = 0
    for path in FILES:
        ra, dec = CENTRES[path.name]
        offsets = {r["scw_id"]: float(r["_search_offset_arcmin"]) for r in read(path)}
        ids = ", ".join(f"'{i}'" for i in offsets)
        rows = tap(app, f"SELECT scw_id, DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', {ra}, {dec})) * 60 "
                        f"AS offset_arcmin FROM integral.scw WHERE scw_id IN ({ids})")
        assert len(rows) == len(offsets)
        worst = max(abs(float(r["offset_arcmin"]) - offsets[r["scw_id"]]) for r in rows)
        assert worst < 0.1, (path.name, worst)
        compared += len(rows)
    assert compared == sum(len(read(p)) for p in FILES) - 2  # 3C 273's two older versions
