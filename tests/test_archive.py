"""The science-window archive in place (tools_registry/archive.py): ``scw:`` names resolved
under HERA_ARCHIVE_ROOT, in the archive's own layout, under the catalogue's access rule.

The archive tree is built in the real layout ``scw/RRRR/RRRRPPPPSSSF.VVV/<file>``:
- REAL: ``scw/0789/078900560010.001/sc_orbit_param.fits.gz`` is the real orbit-and-attitude
  file of window 078900560010 (tests/data/real/products/sc_orbit_param_078900560010.fits.gz).
- SYNTHETIC: the other files (an older version directory, a private window's file, a
  secret outside the root) are small text files written by the test, marked as such.
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from astropy.io import fits

from accounts import users
from tap_catalog import ingest
from test_tools_http import create, finished, job_url, result
from tools_registry import archive

REAL_ORBIT = Path(__file__).parent / "data" / "real" / "products" / "sc_orbit_param_078900560010.fits.gz"
PUBLIC, PRIVATE, ABSENT = "078900560010", "078900570010", "078900580010"
WINDOWS_CSV = f"""scw_id,scw_ver,scw_type,ra,dec,start_time,end_time,good_isgri,target_name,pi_name,status,public_date,proprietary_group
{PUBLIC},001,pointing,266.40,-28.94,54922.500,54922.503,1800,GC,Someone,public,,
{PRIVATE},001,pointing,266.41,-28.95,54922.504,54922.507,1800,GC secret,Secretini,private,2099-01-01T00:00:00,gc-team
"""


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "archive"
    public = root / "scw" / "0789" / f"{PUBLIC}.001"
    public.mkdir(parents=True)
    (public / "sc_orbit_param.fits.gz").write_bytes(REAL_ORBIT.read_bytes())  # REAL
    older = root / "scw" / "0789" / f"{PUBLIC}.000"
    older.mkdir()
    (older / "sc_orbit_param.fits.gz").write_text("SYNTHETIC: an older processing version")
    (older / "only_in_000.txt").write_text("SYNTHETIC")
    private = root / "scw" / "0789" / f"{PRIVATE}.001"
    private.mkdir()
    (private / "swg.txt").write_text("SYNTHETIC: a private window's file")
    (tmp_path / "secret.txt").write_text("SYNTHETIC: outside the root")
    os.symlink(tmp_path / "secret.txt", public / "escape.txt")
    os.symlink(public / "sc_orbit_param.fits.gz", public / "inside_link.fits.gz")
    return root


@pytest.fixture
def config(config_on_both_databases, root):
    return {**config_on_both_databases, "HERA_ARCHIVE_ROOT": str(root)}


@pytest.fixture
def catalogue(app, tmp_path):
    hera = app.extensions["hera"]
    csv = tmp_path / "windows.csv"
    csv.write_text(WINDOWS_CSV)
    ingest.ingest(hera.engine, hera.tableset, [csv], progress=False)
    return hera


# the PostgreSQL database is the session's: user names of each test's own
@pytest.fixture
def member(catalogue):
    name = "member" + os.urandom(4).hex()
    users.add_user(catalogue.engine, name, ["gc-team"])
    return name


@pytest.fixture
def alice(catalogue):
    """(name, headers) of an astronomer who is in no window's group."""
    name = "alice" + os.urandom(4).hex()
    return name, {"Authorization": "Bearer " + users.add_user(catalogue.engine, name, ["integral"])}


@pytest.fixture
def outsider(catalogue):
    name = "outsider" + os.urandom(4).hex()
    users.add_user(catalogue.engine, name, ["other"])
    return name


def refusal(hera, root, name, owner):
    if root is None:
        hera = dataclasses.replace(hera, config={**hera.config, "HERA_ARCHIVE_ROOT": None})
    with pytest.raises(archive.ArchiveFileNotFound) as err:
        archive.resolve(hera, name, owner)
    return str(err.value).replace(name, "NAME")


def test_names_resolve_to_the_newest_or_the_named_version(catalogue, root, outsider):
    path = archive.resolve(catalogue, f"scw:{PUBLIC}/sc_orbit_param.fits.gz", outsider)
    assert path == (root / "scw/0789" / f"{PUBLIC}.001" / "sc_orbit_param.fits.gz").resolve()
    with fits.open(path) as hdul:
        assert hdul["INTL-ORBI-SCP"].header["SWID"] == PUBLIC
    older = archive.resolve(catalogue, f"scw:{PUBLIC}.000/only_in_000.txt", None)
    assert older.read_text() == "SYNTHETIC"
    # a link that stays inside the root is followed
    assert archive.resolve(catalogue, f"scw:{PUBLIC}/inside_link.fits.gz", None) == path


def test_a_private_file_is_refused_exactly_as_a_missing_one(catalogue, root, member, outsider):
    root = root.resolve()
    absent = refusal(catalogue, root, f"scw:{ABSENT}/swg.txt", outsider)
    assert refusal(catalogue, root, f"scw:{PRIVATE}/swg.txt", outsider) == absent
    assert refusal(catalogue, root, f"scw:{PRIVATE}/swg.txt", None) == absent
    assert refusal(catalogue, root, f"scw:{PRIVATE}/nothing.txt", member) == absent
    assert archive.resolve(catalogue, f"scw:{PRIVATE}/swg.txt", member).read_text().startswith("SYNTHETIC")


@pytest.mark.parametrize("name", [f"scw:{PUBLIC}/escape.txt", f"scw:{PUBLIC}/../{PUBLIC}.000/only_in_000.txt",
                                  f"scw:{PUBLIC}/..", f"scw:{PUBLIC}/.", f"scw:{PUBLIC}.001/", "scw:0789/x",
                                  f"scw:{PUBLIC}.9/sc_orbit_param.fits.gz"])
def test_names_that_leave_the_root_or_are_not_files_are_refused(catalogue, root, name, member):
    assert refusal(catalogue, root.resolve(), name, member) == "'NAME' is not a file of the archive"


def test_without_a_root_no_name_resolves(catalogue):
    assert refusal(catalogue, None, f"scw:{PUBLIC}/sc_orbit_param.fits.gz", None)


def test_ftlist_reads_a_window_file_in_place_on_a_worker(client, catalogue, alice, root, worker):
    owner, alice = alice
    before = sorted((p, p.stat().st_mtime_ns) for p in root.rglob("*"))
    url = job_url(create(client, "/tools/ftlist", alice, PHASE="RUN",
                         infile=f"scw:{PUBLIC}/sc_orbit_param.fits.gz[INTL-ORBI-SCP]", option="H"))
    root_doc = finished(client, url, alice)
    assert root_doc.findtext("{http://www.ivoa.net/xml/UWS/v1.0}phase") == "COMPLETED", \
        client.get(url + "/error", headers=alice).data
    listing = result(client, url, alice, "outfile").get_data(as_text=True)
    assert "INTL-ORBI-SCP" in listing and "244" in listing
    provenance = result(client, url, alice, "provenance").json
    assert provenance["inputs"]["infile"]["path"] == f"scw:{PUBLIC}/sc_orbit_param.fits.gz"
    # nothing went into the workspace, nothing under the root changed
    quota = catalogue.workspaces.for_user(owner).quota()
    assert (quota["bytes_used"], quota["files_used"]) == (0, 0)
    assert sorted((p, p.stat().st_mtime_ns) for p in root.rglob("*")) == before


def test_a_private_or_escaping_name_is_refused_at_creation_like_a_missing_one(client, catalogue, alice):
    alice = alice[1]
    answers = []
    for scw in (ABSENT, PRIVATE):
        response = create(client, "/tools/ftlist", alice, PHASE="RUN", infile=f"scw:{scw}/swg.txt", option="H")
        answers.append((response.status_code, response.get_data(as_text=True).replace(scw, "ID")))
    assert answers[0] == answers[1] and answers[0][0] == 400
    response = create(client, "/tools/ftlist", alice, PHASE="RUN", infile=f"scw:{PUBLIC}/escape.txt", option="H")
    assert response.status_code == 400 and "is not a file of the archive" in response.get_data(as_text=True)


def test_an_output_cannot_be_written_into_the_archive(client, catalogue, alice, root):
    alice = alice[1]
    for target in (f"scw:{PUBLIC}/sc_orbit_param.fits.gz", f"!scw:{PUBLIC}/new.fits"):
        response = create(client, "/tools/ftcopy", alice, PHASE="RUN", outfile=target,
                          infile=f"scw:{PUBLIC}/sc_orbit_param.fits.gz[INTL-ORBI-SCP]")
        assert response.status_code == 400 and "the archive is read-only" in response.get_data(as_text=True)
    assert not (root / "scw/0789" / f"{PUBLIC}.001" / "new.fits").exists()


def test_hera_run_ftlist_on_a_window_file(live_server, catalogue, alice, worker, monkeypatch, capsys, tmp_path):
    """The command line of issue 20, through the client, on a real worker."""
    from hera import cli
    (tmp_path / "xdg").mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HERA_URL", live_server)
    monkeypatch.setenv("HERA_TOKEN", alice[1]["Authorization"].split()[1])
    monkeypatch.chdir(tmp_path)
    status = cli.main(["run", "ftlist", f"scw:{PUBLIC}/sc_orbit_param.fits.gz[INTL-ORBI-SCP]", "H"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "INTL-ORBI-SCP" in out and "244" in out


def test_a_command_tool_gets_the_calibration_roots_in_the_variable_it_declares(tmp_path):
    from tools_registry import command
    from tools_registry.declaration import Implementation
    config = {"HERA_CALIBRATION_ROOTS": f"{tmp_path}/ic:{tmp_path}/caldb", "HERA_ARCHIVE_ROOT": str(tmp_path)}
    implementation = Implementation(command=("true",), env=(("CALDB", "{calibration_roots}"),
                                                            ("REP_BASE_PROD", "{archive_root}")))
    env = command.environment(implementation, tmp_path, archive.placeholders(config))
    assert env["CALDB"] == f"{tmp_path}/ic:{tmp_path}/caldb" and env["REP_BASE_PROD"] == str(tmp_path)
