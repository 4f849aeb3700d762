"""Ingest of science-window tables (``hera catalog ingest``) and the demo generator
(``hera catalog demo``), on SQLite and PostgreSQL.

Files follow HEASARC's ``intscw`` layout: upper-case names in any order, RA/Dec of the X
axis as ``ra_x``/``dec_x`` (sexagesimal or degrees), ISO-8601 start and end dates, the
proprietary status as ``ps``, extra columns that Hera ignores.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import math
from pathlib import Path

import pytest
from astropy.table import Table
from click.testing import CliRunner
from sqlalchemy import text

from integral.instruments import NAMES as INSTRUMENT_NAMES
from tap_catalog import cli, database, demo, ingest, tap_schema
from tap_catalog.scw_columns import FIXED_COLUMNS
from tap_catalog.tableset import TableSet

HEASARC_COLUMNS = ["OBS_ID", "SCW_TYPE", "DEC_X", "SCW_ID", "RA_X", "END_DATE", "START_DATE",
                   "SCW_VER", "GOOD_ISGRI", "GOOD_SPI", "GOOD_JEMX1", "PS", "PI_NAME", "HEASARC_ONLY"]
#: three Crab pointings and a slew, coordinates in sexagesimal (RA in hours)
ROWS = [
    ["02400010001", "POINTING", "+22 00 52.2", "003900010010", "05 34 31.94", "2003-01-31T10:40:00",
     "2003-01-31T10:10:00", "1", "1750.5", "1700", "1600", "PUBLIC", "Kuulkers", "x"],
    ["02400010001", "SLEW", "+21 30 00", "003900010021", "05 40 00.00", "2003-01-31T10:45:00",
     "2003-01-31T10:40:10", "001", "250", "240", "0", "PUBLIC", "Kuulkers", "y"],
    ["02400010001", "POINTING", "-05 23 28", "003900020010", "05 35 17.3", "2003-01-31T11:20:00",
     "2003-01-31T10:45:10", "001", "2000", "1900", "1800", "PRIVATE", "Kuulkers", "z"],
]
EXPECTED_RA = 15 * (5 + 34 / 60 + 31.94 / 3600)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_database_url")
    else:
        url = f"sqlite:///{tmp_path / 'hera.sqlite'}"
    engine = database.make_engine(url)
    tableset = TableSet.load()
    database.drop_catalog(engine, tableset)  # the PostgreSQL database is the session's
    database.create_catalog(engine, tableset)
    tap_schema.fill(engine, tableset)
    yield engine
    engine.dispose()


@pytest.fixture
def tableset():
    return TableSet.load()


def write_csv(path, columns=HEASARC_COLUMNS, rows=ROWS):
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def degrees_table(rows=ROWS) -> Table:
    """The same rows with degrees and numbers, as FITS and VOTable files hold them."""
    out = Table(names=("scw_id", "scw_ver", "scw_type", "ra_x", "dec_x", "start_date", "end_date",
                       "good_isgri", "good_spi", "ps", "extra"),
                dtype=("U12", "i4", "U10", "f8", "f8", "U19", "U19", "f8", "f8", "U8", "f8"))
    for r in rows:
        out.add_row((r[3], int(r[7]), r[1], ingest._angle(r[4], True, "ra"), ingest._angle(r[2], False, "dec"),
                     r[6], r[5], float(r[8]), float(r[9]), r[11], 1.0))
    return out


def scw(engine, columns="scw_id, scw_ver, scw_type, status, ra, dec, start_time, elapsed, good_isgri, revolution"):
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(f"SELECT {columns} FROM integral.scw ORDER BY scw_id"))]


def test_heasarc_csv_with_sexagesimal_coordinates(engine, tableset, tmp_path):
    # a proprietary period of a century: the private 2003 pointing is private still
    counts = ingest.ingest(engine, tableset, [write_csv(tmp_path / "intscw.csv")], progress=False,
                           proprietary_days=36525)
    assert counts == {"read": 3, "windows": 3, "files": 1, "demo_removed": 0}
    rows = scw(engine)
    assert [r["scw_id"] for r in rows] == ["003900010010", "003900010021", "003900020010"]
    crab = rows[0]
    assert math.isclose(crab["ra"], EXPECTED_RA, abs_tol=1e-9)
    assert math.isclose(crab["dec"], 22 + 52.2 / 3600, abs_tol=1e-9)
    assert math.isclose(rows[2]["dec"], -(5 + 23 / 60 + 28 / 3600), abs_tol=1e-9)
    assert crab["scw_ver"] == "001" and crab["scw_type"] == "pointing" and crab["revolution"] == 39
    assert crab["elapsed"] == 1800.0 and crab["good_isgri"] == 1750.5
    assert [r["status"] for r in rows] == ["public", "public", "private"]
    with engine.connect() as conn:
        rev = conn.execute(text("SELECT n_scw, n_pointing, good_isgri FROM integral.revolution "
                                "WHERE revolution = 39")).one()
    assert tuple(rev) == (2, 1, 1750.5 + 250)  # the private pointing is not counted


def test_revolution_totals_count_a_private_window_once_it_is_public(engine, tableset, tmp_path):
    """integral.revolution is public: its totals never reveal private windows, and a
    refresh after the public date counts them."""
    from datetime import datetime, timezone

    ingest.ingest(engine, tableset, [write_csv(tmp_path / "intscw.csv")], progress=False)
    with engine.begin() as conn:
        conn.execute(text("UPDATE integral.scw SET public_date = '2030-01-01T00:00:00' "
                          "WHERE scw_id = '003900020010'"))
        ingest.refresh_revolutions(conn, now=datetime(2029, 12, 31, tzinfo=timezone.utc))
        before = conn.execute(text("SELECT n_scw FROM integral.revolution WHERE revolution = 39")).scalar()
        ingest.refresh_revolutions(conn, now=datetime(2030, 1, 2, tzinfo=timezone.utc))
        after = conn.execute(text("SELECT n_scw, n_pointing FROM integral.revolution WHERE revolution = 39")).one()
    assert before == 2 and tuple(after) == (3, 2)


@pytest.mark.parametrize("text, hours, degrees", [
    ("05 34 31.94", True, EXPECTED_RA), ("05:34:31.94", True, EXPECTED_RA),
    ("5h34m31.94s", True, EXPECTED_RA), ("83.633083", True, 83.633083),
    ("+22 00 52.2", False, 22 + 52.2 / 3600), ("-05:23:28", False, -(5 + 23 / 60 + 28 / 3600)),
    ("22d00m52.2s", False, 22 + 52.2 / 3600), ("-0 30 00", False, -0.5),
])
def test_coordinate_spellings(text, hours, degrees):
    assert math.isclose(ingest._angle(text, hours, "ra" if hours else "dec"), degrees, abs_tol=1e-9)


@pytest.mark.parametrize("fmt, name", [("fits", "intscw.fits"), ("votable", "intscw.xml")])
def test_fits_and_votable_in_degrees(engine, tableset, tmp_path, fmt, name):
    path = tmp_path / name
    degrees_table().write(path, format=fmt)
    ingest.ingest(engine, tableset, [path], progress=False)
    rows = scw(engine)
    assert [r["scw_id"] for r in rows] == ["003900010010", "003900010021", "003900020010"]
    assert math.isclose(rows[0]["ra"], EXPECTED_RA, abs_tol=1e-9)
    assert rows[1]["scw_type"] == "slew" and rows[1]["good_isgri"] == 250.0


def test_ingest_is_idempotent(engine, tableset, tmp_path):
    path = write_csv(tmp_path / "intscw.csv")
    ingest.ingest(engine, tableset, [path], progress=False)
    first = scw(engine)
    ingest.ingest(engine, tableset, [path, path], progress=False)
    assert scw(engine) == first


def test_newer_scw_ver_replaces_the_older_and_not_the_reverse(engine, tableset, tmp_path):
    ingest.ingest(engine, tableset, [write_csv(tmp_path / "v1.csv")], progress=False)
    v2 = [list(r) for r in ROWS[:1]]
    v2[0][7], v2[0][8] = "002", "1799"
    ingest.ingest(engine, tableset, [write_csv(tmp_path / "v2.csv", rows=v2)], progress=False)
    rows = {r["scw_id"]: r for r in scw(engine)}
    assert len(rows) == 3
    assert rows["003900010010"]["scw_ver"] == "002" and rows["003900010010"]["good_isgri"] == 1799.0
    ingest.ingest(engine, tableset, [tmp_path / "v1.csv"], progress=False)  # older again: ignored
    assert {r["scw_id"]: r for r in scw(engine)}["003900010010"]["scw_ver"] == "002"


@pytest.mark.parametrize("column, value, reason", [
    (2, "+95 00 00", "outside -90..90"),
    (4, "five hours", "neither degrees nor sexagesimal"),
    (3, "39-1-10", "not 12 digits"),
    (5, "2003-01-31T09:00:00", "before start time"),
    (11, "SECRET", "not public or private"),
])
def test_a_bad_row_aborts_everything(engine, tableset, tmp_path, column, value, reason):
    good = write_csv(tmp_path / "good.csv")
    rows = [list(r) for r in ROWS]
    rows[2][column] = value
    bad = write_csv(tmp_path / "bad.csv", rows=rows)
    with pytest.raises(ingest.IngestError) as caught:
        ingest.ingest(engine, tableset, [good, bad], progress=False)
    err = caught.value
    assert err.file == str(bad) and err.row == 3 and reason in err.reason
    assert f"{bad}, row 3: " in str(err)
    assert scw(engine) == []  # not even the good file's rows are kept
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM integral.revolution")).scalar() == 0


@pytest.mark.parametrize("name, read", [("posangle", True), ("POS_ANGLE", True), ("posang", True),
                                        ("pa", False), ("position_angle", False)])
def test_only_the_archives_names_are_read_as_posangle(engine, tableset, tmp_path, name, read):
    """posangle is minus the position angle of Z (docs/catalogue.md); a generic "pa" or
    "position_angle" most likely holds the angle east of north, the opposite sign, so it is
    not taken for it (as scw_coverage does not)."""
    path = write_csv(tmp_path / "intscw.csv", HEASARC_COLUMNS + [name],
                     [row + [str(-40.5 - i)] for i, row in enumerate(ROWS)])
    ingest.ingest(engine, tableset, [path], progress=False)
    got = [r["posangle"] for r in scw(engine, "scw_id, posangle")]
    assert got == ([-40.5, -41.5, -42.5] if read else [None, None, None])


def test_file_without_scw_id_is_refused(engine, tableset, tmp_path):
    path = write_csv(tmp_path / "x.csv", columns=["RA_X", "DEC_X"], rows=[["1", "2"]])
    with pytest.raises(ingest.IngestError, match="no scw_id column"):
        ingest.ingest(engine, tableset, [path], progress=False)


def test_cli_ingest_reports_file_row_and_reason(engine, tmp_path):
    url = engine.url.render_as_string(hide_password=False)
    rows = [list(r) for r in ROWS]
    rows[1][2] = "+95 00 00"
    bad = write_csv(tmp_path / "bad.csv", rows=rows)
    result = CliRunner().invoke(cli.catalog, ["ingest", "--database-url", url, "--no-progress", str(bad)])
    assert result.exit_code != 0
    assert f"nothing ingested: {bad}, row 2: dec 95.0 is outside -90..90 deg" in result.output
    good = write_csv(tmp_path / "good.csv")
    result = CliRunner().invoke(cli.catalog, ["ingest", "--database-url", url, "--no-progress", str(good)])
    assert result.exit_code == 0, result.output
    assert "ingested 3 science windows (3 rows) from 1 file(s)" in result.output


# -- demo -----------------------------------------------------------------------------------------

def test_demo_is_deterministic():
    first = list(demo.generate(500, 3))
    assert first == list(demo.generate(500, 3))
    assert first != list(demo.generate(500, 4))
    assert len(first) == 500
    out1, out2 = io.StringIO(), io.StringIO()
    demo.write_csv(out1, demo.generate(500, 3))
    demo.write_csv(out2, demo.generate(500, 3))
    assert out1.getvalue() == out2.getvalue()
    assert out1.getvalue().splitlines()[0] == ",".join(FIXED_COLUMNS)


def test_demo_follows_integral_structure():
    rows = list(demo.generate(3000, 1))
    assert [r["start_time"] for r in rows] == sorted(r["start_time"] for r in rows)
    pointings = [r for r in rows if r["scw_type"] == "pointing"]
    slews = [r for r in rows if r["scw_type"] == "slew"]
    assert pointings and slews
    # pointings mostly of 10-60 min, slews mostly of about 2 min, as the real ones
    # (tests/test_demo_calibration.py compares the distributions)
    assert sum(600 <= r["elapsed"] <= 3700 for r in pointings) >= 0.85 * len(pointings)
    assert sum(r["elapsed"] < 300 for r in slews) >= 0.8 * len(slews)
    for r in rows:
        assert all((r[f"good_{i}"] or 0) <= r["elapsed"] + 1e-6 for i in INSTRUMENT_NAMES)
        assert r["scw_id"][:4] == f"{r['revolution']:04d}"
        assert r["scw_id"][-1] == {"pointing": "0", "slew": "1", "other": "2"}[r["scw_type"]]
    # only the mission's last months (programmes with two proprietary years) are private at the
    # demo's epoch: 3,000 rows hold one of its last revolutions, a served catalogue (20,000) several
    assert any(r["status"] == "private" for r in demo.generate(20000, 1))


def test_demo_csv_ingests_as_it_is(engine, tableset, tmp_path):
    path = tmp_path / "demo.csv"
    with path.open("w", newline="") as out:
        demo.write_csv(out, demo.generate(200, 5))
    ingest.ingest(engine, tableset, [path], progress=False)
    loaded = {r["scw_id"]: r for r in scw(engine, ", ".join(FIXED_COLUMNS))}
    for row in demo.generate(200, 5):
        got = loaded[row["scw_id"]]
        for c in FIXED_COLUMNS:
            if isinstance(row[c], float):
                assert math.isclose(got[c], row[c], rel_tol=1e-9, abs_tol=1e-6), c
            else:
                assert got[c] == row[c], c


def test_demo_command_loads_the_database(engine):
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli.catalog, ["demo", "--database-url", url, "--rows", "150", "--seed", "2",
                                              "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "loaded 150 science windows (seed 2)" in result.output
    assert len(scw(engine)) == 150
    assert demo.load_if_empty(engine, TableSet.load(), 100) == 0  # not empty: nothing added
    assert len(scw(engine)) == 150


def test_demo_loads_into_an_empty_catalogue(engine, tableset):
    assert demo.load_if_empty(engine, tableset, 120, seed=9) == 120
    assert [r["scw_id"] for r in scw(engine)] == sorted(r["scw_id"] for r in demo.generate(120, 9))


# -- an existing catalogue ---------------------------------------------------------------------------

REAL_SCW = Path(__file__).parent / "data" / "real" / "scw"
#: the integral.scw columns declared after the first release
ADDED = {"exp_id", "obt_start", "obt_end", "data_size", "spi_mode", "ibis_mode", "jemx1_mode",
         "jemx2_mode", "omc_mode"}


def first_release() -> TableSet:
    """The declaration as it was before the archives' columns: integral.scw without them,
    ObsCore without access_estsize, ObsLocTAP's t_exptime NOT NULL."""
    tableset = TableSet.load()
    scw_table = tableset.get("integral.scw")
    scw_table.columns = [c for c in scw_table.columns if c.name not in ADDED]
    obscore = tableset.get("ivoa.obscore")
    obscore.definition = {dialect: sql.replace("(data_size + 1023) / 1024", "NULL")
                          for dialect, sql in obscore.definition.items()}
    obsplan = tableset.get("ivoa.obsplan")
    obsplan.columns = [dataclasses.replace(c, nullable=False) if c.name == "t_exptime" else c
                       for c in obsplan.columns]
    return tableset


def test_an_existing_catalogue_gets_the_new_columns_and_keeps_its_rows(engine, tableset):
    database.drop_catalog(engine, tableset)
    old = first_release()
    database.create_catalog(engine, old)
    crab = REAL_SCW / "heasarc_intscw_crab_1deg_2020-09_2020-12.csv"
    ingest.ingest(engine, old, [crab], progress=False)
    with engine.connect() as conn:
        columns = set(conn.execute(text("SELECT * FROM integral.scw")).keys())
    assert not columns & ADDED and len(scw(engine)) == 11

    database.create_catalog(engine, tableset)  # what every hera command and start-up runs
    tap_schema.fill(engine, tableset)
    assert len(scw(engine)) == 11  # the rows are kept, their new columns empty
    assert {r["data_size"] for r in scw(engine, "scw_id, data_size")} == {None}
    # the same file again completes its windows; a file with empty good times now goes in
    ingest.ingest(engine, tableset, [crab, REAL_SCW / "isdc_rev3_scw_revs2437-2441.csv"], progress=False)
    sizes = {r["scw_id"]: r["data_size"] for r in scw(engine, "scw_id, data_size")}
    with crab.open(newline="") as f:
        assert all(sizes[r["scw_id"]] == int(r["data_size"]) for r in csv.DictReader(f))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM ivoa.obsplan WHERE t_exptime IS NULL")).scalar() > 0
        assert conn.execute(text("SELECT COUNT(*) FROM ivoa.obscore WHERE access_estsize > 0")).scalar() == len(sizes)
        if engine.dialect.name == "postgresql":  # the barrier view shows the new columns too
            assert conn.execute(text("SELECT COUNT(data_size) FROM integral.scw__visible")).scalar() == len(sizes)
    database.create_catalog(engine, tableset)  # idempotent
    assert len(scw(engine)) == len(sizes)


def test_a_real_ingest_replaces_the_zero_configuration_demo_catalogue(engine, tableset, tmp_path):
    """hera serve loads demo windows into an empty catalogue; the first real ingest must
    not mix with them (a demo window sharing a real id lent it its position)."""
    from tap_catalog import demo
    from sqlalchemy import text

    assert demo.load_if_empty(engine, tableset, 500, seed=1) == 500
    counts = ingest.ingest(engine, tableset, [write_csv(tmp_path / "real.csv")], progress=False)
    assert counts["demo_removed"] == 500 and counts["windows"] == 3
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM integral.scw")).scalar() == 3
    # a second ingest adds to the real catalogue: nothing is removed any more
    more = [list(r) for r in ROWS[:1]]
    more[0][3] = "003900030010"
    counts = ingest.ingest(engine, tableset, [write_csv(tmp_path / "more.csv", rows=more)], progress=False)
    assert counts["demo_removed"] == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM integral.scw")).scalar() == 4


def test_a_window_of_a_revolution_outside_the_mission_is_refused_by_row(engine, tableset, tmp_path):
    rows = [list(r) for r in ROWS]
    rows[2][3] = "999900010010"
    bad = write_csv(tmp_path / "bad.csv", rows=rows)
    with pytest.raises(ingest.IngestError, match=r"row 3: scw_id 999900010010 names revolution 9999, "
                                                 r"outside the mission"):
        ingest.ingest(engine, tableset, [bad], progress=False)
