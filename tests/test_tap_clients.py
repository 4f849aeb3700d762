"""Real VO clients against the TAP service over HTTP: pyvo, astroquery, STILTS tapquery,
and STILTS taplint, which must report no error, warning or failure.

The service runs on a real HTTP server with a real RQ worker, on SQLite and on
PostgreSQL, with demo science windows loaded.
"""
from __future__ import annotations

import re
import subprocess

import pytest
import requests
from astropy.table import Table

from accounts import users
from conftest import free_port, load_demo
from tap_catalog import demo

ROWS, SEED = 400, 8  # seed 8: its 400 rows hold private windows (seed 7's no longer do since the demo's calibration)
CONE = ("SELECT scw_id, ra, dec, good_isgri FROM integral.scw "
        "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {dec}, 3))")


@pytest.fixture
def config(config_on_both_databases):
    return config_on_both_databases


@pytest.fixture
def tap_url(app, live_server, worker):
    load_demo(app, ROWS, SEED)
    return f"{live_server}/tap"


def a_pointing(url):
    import pyvo
    row = pyvo.dal.TAPService(url).run_sync(
        "SELECT TOP 1 scw_id, ra, dec FROM integral.scw WHERE scw_type = 'pointing' ORDER BY scw_id"
    ).to_table()[0]
    return str(row["scw_id"]), float(row["ra"]), float(row["dec"])


# -- pyvo ----------------------------------------------------------------------------------------

def test_pyvo_run_sync(tap_url):
    import pyvo
    scw_id, ra, dec = a_pointing(tap_url)
    table = pyvo.dal.TAPService(tap_url).run_sync(CONE.format(ra=ra, dec=dec)).to_table()
    assert scw_id in list(table["scw_id"])
    assert table["ra"].unit == "deg"


def test_pyvo_run_async(tap_url):
    import pyvo
    scw_id, ra, dec = a_pointing(tap_url)
    table = pyvo.dal.TAPService(tap_url).run_async(CONE.format(ra=ra, dec=dec)).to_table()
    assert scw_id in list(table["scw_id"])


def test_pyvo_search_with_maxrec_sees_the_overflow(tap_url):
    import pyvo
    result = pyvo.dal.TAPService(tap_url).search("SELECT scw_id FROM integral.scw", maxrec=7)
    assert len(result) == 7
    assert result.query_status == "OVERFLOW"
    assert pyvo.dal.TAPService(tap_url).search("SELECT TOP 3 scw_id FROM integral.scw",
                                               maxrec=7).query_status == "OK"


def test_pyvo_upload(tap_url):
    import pyvo
    scw_id, ra, dec = a_pointing(tap_url)
    sources = Table(rows=[("mine", ra, dec)], names=("name", "ra", "dec"))
    query = ("SELECT s.name, c.scw_id FROM TAP_UPLOAD.src AS s JOIN integral.scw AS c "
             "ON 1 = CONTAINS(POINT('ICRS', c.ra, c.dec), CIRCLE('ICRS', s.ra, s.dec, 0.01))")
    table = pyvo.dal.TAPService(tap_url).run_sync(query, uploads={"src": sources}).to_table()
    assert scw_id in list(table["scw_id"]) and set(table["name"]) == {"mine"}


def test_pyvo_tables(tap_url):
    import pyvo
    tables = pyvo.dal.TAPService(tap_url).tables
    assert {"integral.scw", "integral.revolution", "ivoa.obscore", "ivoa.obsplan"} <= set(tables.keys())
    columns = {c.name: c for c in tables["integral.scw"].columns}
    assert columns["good_isgri"].unit == "s"
    assert columns["ra"].ucd == "pos.eq.ra;meta.main"


def test_pyvo_reads_and_runs_the_examples(tap_url):
    import pyvo
    service = pyvo.dal.TAPService(tap_url)
    examples = service.examples
    assert len(examples) >= 10
    assert all("SELECT" in e["QUERY"].upper() for e in examples)
    crab = next(e for e in examples if "Crab" in e["QUERY"] or "83.633" in e["QUERY"])
    assert crab.execute().to_table().colnames[:2] == ["scw_id", "scw_ver"]


def test_pyvo_with_credentials_sees_the_group_windows(app, tap_url):
    import pyvo
    hera = app.extensions["hera"]
    private = [r for r in demo.generate(ROWS, SEED) if r["status"] == "private"]
    assert private, "the demo holds private science windows"
    group = private[0]["proprietary_group"]
    name = f"pi{re.sub('[^a-z0-9]', '', group.lower())[-8:]}{id(app) % 10000}"
    token = users.add_user(hera.engine, name, [group])
    query = f"SELECT COUNT(*) AS n FROM integral.scw WHERE proprietary_group = '{group}' AND status = 'private'"
    anonymous = pyvo.dal.TAPService(tap_url).run_sync(query).to_table()
    session = requests.Session()
    session.auth = (name, token)
    member = pyvo.dal.TAPService(tap_url, session=session).run_sync(query).to_table()
    assert int(anonymous["n"][0]) == 0
    assert int(member["n"][0]) == sum(1 for r in private if r["proprietary_group"] == group)
    # pyvo's own way: credentials for the security method the capabilities declare
    from pyvo.auth import AuthSession
    auth = AuthSession()
    auth.credentials.set_password(name, token)
    service = pyvo.dal.TAPService(tap_url, session=auth)
    auth.update_from_capabilities(service.capabilities)
    assert int(service.run_async(query).to_table()["n"][0]) == int(member["n"][0])


# -- astroquery ------------------------------------------------------------------------------------

def test_astroquery_tapplus(tap_url):
    from astroquery.utils.tap.core import TapPlus
    scw_id, ra, dec = a_pointing(tap_url)
    tap = TapPlus(url=tap_url, verbose=False)
    sync_rows = tap.launch_job(CONE.format(ra=ra, dec=dec)).get_results()
    assert scw_id in [str(s) for s in sync_rows["scw_id"]]
    async_rows = tap.launch_job_async(CONE.format(ra=ra, dec=dec)).get_results()
    assert len(async_rows) == len(sync_rows)
    tables = {t.get_qualified_name(): t for t in tap.load_tables()}
    assert {"integral.scw", "integral.revolution"} <= set(tables)
    assert "good_isgri" in [c.name for c in tables["integral.scw"].columns]
    assert "integral.scw" in {t.get_qualified_name() for t in tap.load_tables(only_names=True)}


def test_astroquery_tapplus_upload(tap_url, tmp_path):
    """TapPlus sends its multipart body with an unquoted boundary (``boundary====17…===``),
    which the service reads all the same (vo_service.multipart_boundary)."""
    from astroquery.utils.tap.core import TapPlus
    scw_id, ra, dec = a_pointing(tap_url)
    sources = tmp_path / "src.vot"
    Table(rows=[("mine", ra, dec)], names=("name", "ra", "dec")).write(sources, format="votable")
    query = ("SELECT s.name, c.scw_id FROM TAP_UPLOAD.src AS s JOIN integral.scw AS c "
             "ON 1 = CONTAINS(POINT('ICRS', c.ra, c.dec), CIRCLE('ICRS', s.ra, s.dec, 0.01))")
    tap = TapPlus(url=tap_url, verbose=False)
    for launch in (tap.launch_job, tap.launch_job_async):
        rows = launch(query, upload_resource=str(sources), upload_table_name="src").get_results()
        assert scw_id in [str(s) for s in rows["scw_id"]] and {str(n) for n in rows["name"]} == {"mine"}


# -- STILTS --------------------------------------------------------------------------------------------

def stilts(*args, timeout=600):
    done = subprocess.run(["stilts", *args], capture_output=True, text=True, timeout=timeout)
    return done


@pytest.mark.parametrize("mode", ["sync=true", "sync=false"])
def test_stilts_tapquery(tap_url, tmp_path, mode):
    scw_id, ra, dec = a_pointing(tap_url)
    out = tmp_path / "result.csv"
    done = stilts("tapquery", f"tapurl={tap_url}", f"adql={CONE.format(ra=ra, dec=dec)}", mode,
                  f"out={out}", "ofmt=csv")
    assert done.returncode == 0, done.stderr
    table = Table.read(out, format="ascii.csv")
    assert scw_id in [f"{int(s):012d}" if not isinstance(s, str) else s for s in table["scw_id"]]


def test_stilts_tapquery_with_an_upload(tap_url, tmp_path):
    scw_id, ra, dec = a_pointing(tap_url)
    sources = tmp_path / "src.vot"
    Table(rows=[("mine", ra, dec)], names=("name", "ra", "dec")).write(sources, format="votable")
    out = tmp_path / "joined.csv"
    query = ("SELECT s.name, c.scw_id FROM TAP_UPLOAD.src AS s JOIN integral.scw AS c "
             "ON 1 = CONTAINS(POINT('ICRS', c.ra, c.dec), CIRCLE('ICRS', s.ra, s.dec, 0.01))")
    done = stilts("tapquery", f"tapurl={tap_url}", f"adql={query}", "nupload=1", f"upload1={sources}",
                  "upname1=src", f"out={out}", "ofmt=csv")
    assert done.returncode == 0, done.stderr
    table = Table.read(out, format="ascii.csv", converters={"scw_id": [str]})
    assert scw_id in [str(s).zfill(12) for s in table["scw_id"]] and set(table["name"]) == {"mine"}


def test_taplint_reports_nothing(tap_url, tmp_path):
    """``stilts taplint tapurl=…/tap report=EWF``: 0 errors, 0 warnings, 0 failures."""
    done = stilts("taplint", f"tapurl={tap_url}", "report=EWF")
    report = done.stdout
    (tmp_path / "taplint.txt").write_text(report)
    totals = re.search(r"Totals: Errors: (\d+); Warnings: (\d+); Failures: (\d+)", report)
    assert totals, report[-3000:]
    assert totals.groups() == ("0", "0", "0"), report[-5000:]


def test_zero_configuration_serve_has_a_demo_catalogue(tmp_path):
    """``hera serve`` on an empty data directory: embedded database and Redis, a demo
    catalogue, pyvo answers from it."""
    import os
    import signal
    import sys
    import time

    import pyvo

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERA_")}
    env.update(HERA_DATA_DIR=str(tmp_path / "data"), HERA_TAP_DEMO_ROWS="300")
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "vo_service.cli", "serve", "--port", str(port),
                             "--workers", "1"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/tap"
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(f"{url}/availability", timeout=10)
                break
            except requests.RequestException:  # not listening yet, or its worker still booting
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.5)
        n = pyvo.dal.TAPService(url).run_sync("SELECT COUNT(*) AS n FROM integral.scw").to_table()["n"][0]
        assert 0 < int(n) <= 300
        assert "loaded 300 demo science windows" in (tmp_path / "serve.log").read_text()
        assert pyvo.dal.TAPService(url).run_async("SELECT TOP 5 scw_id FROM integral.scw").to_table()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # the embedded Redis has a session of its own: never leave it behind
        import psutil
        for leftover in psutil.process_iter(["cmdline"]):
            if any(str(tmp_path) in part for part in leftover.info["cmdline"] or ()):
                leftover.kill()
        log.close()
