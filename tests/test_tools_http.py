"""The tools over HTTP: the index, DataLink descriptors, UWS job lists per tool and per
version, parameter checks on creation and on RUN, and jobs on real RQ workers with
results in the workspace, provenance and reuse."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest
from astropy.io import fits
from lxml import etree

from conftest import load_demo, wait_for
from schemas import assert_valid

NS = {"uws": "http://www.ivoa.net/xml/UWS/v1.0", "xlink": "http://www.w3.org/1999/xlink",
      "vo": "http://www.ivoa.net/xml/VOTable/v1.3"}
SORT_TOOL = textwrap.dedent('''
    [[tool]]
    name = "sort_lines"
    version = "1.0"
    summary = "Sort the lines of a text file with the system's sort"
    command = ["sort", "{reverse?-r}", "--", "{infile}"]
    env = { LC_ALL = "C" }
      [[tool.parameter]]
      name = "infile"
      type = "file"
      required = true
      [[tool.parameter]]
      name = "reverse"
      type = "boolean"
      default = false
      [[tool.parameter]]
      name = "outfile"
      type = "file"
      direction = "out"
      [[tool.output]]
      name = "outfile"
      content_type = "text/plain"
      stdout = true
    ''')


SLOW_TOOL = textwrap.dedent('''
    [[tool]]
    name = "slow_touch"
    version = "1.0"
    summary = "Wait, then create a file (a stand-in for a long-running program)"
    command = ["{script}", "{seconds}", "{target}"]
      [[tool.parameter]]
      name = "seconds"
      type = "integer"
      required = true
      [[tool.parameter]]
      name = "target"
      type = "string"
      required = true
    ''')


FCALC_2 = textwrap.dedent('''
    [[tool]]
    name = "fcalc"
    version = "2.0.0"
    summary = "fcalc, a later version installed beside the built-in 1.0.0"
    python = "tools_registry.ftools.fcalc:fcalc"
      [[tool.parameter]]
      name = "infile"
      type = "file"
      required = true
      [[tool.parameter]]
      name = "outfile"
      type = "file"
      direction = "out"
      required = true
      [[tool.parameter]]
      name = "clname"
      type = "string"
      required = true
      [[tool.parameter]]
      name = "expr"
      type = "string"
      required = true
      [[tool.output]]
      name = "outfile"
      content_type = "application/fits"
    ''')


@pytest.fixture
def config(config, tmp_path):
    """The service's configuration, with an operator's tools declared in HERA_TOOLS_PATH."""
    tools = tmp_path / "operator-tools"
    tools.mkdir()
    (tools / "sort.toml").write_text(SORT_TOOL)
    (tools / "fcalc2.toml").write_text(FCALC_2)
    script = tools / "slow_touch.sh"
    script.write_text('#!/bin/sh\nsleep "$1"\ntouch "$2"\n')
    script.chmod(0o755)
    (tools / "slow.toml").write_text(SLOW_TOOL.replace("{script}", str(script)))
    return {**config, "HERA_TOOLS_PATH": str(tools)}


@pytest.fixture
def space(app, alice):
    return app.extensions["workspaces"].for_user("alice")


@pytest.fixture
def rate_values():
    rng = np.random.default_rng(7)
    return {"TIME": np.arange(500, dtype=float) * 8.0, "RATE": rng.normal(120, 30, 500)}


def fits_bytes(tmp_path, values, name="rate.fits"):
    path = tmp_path / name
    fits.BinTableHDU.from_columns([fits.Column("TIME", "D", unit="s", array=values["TIME"]),
                                   fits.Column("RATE", "D", unit="count/s", array=values["RATE"])],
                                  name="RATE").writeto(path, overwrite=True)
    return path.read_bytes()


@pytest.fixture
def rate(space, tmp_path, rate_values):
    space.write("data/rate.fits", fits_bytes(tmp_path, rate_values))
    return "data/rate.fits"


def create(client, url, headers, **params):
    return client.post(url, data=params, headers=headers)


def job_url(response):
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].replace("http://localhost", "")


def finished(client, url, headers, timeout=60):
    def done():
        root = etree.fromstring(client.get(url + "?WAIT=5", headers=headers).data)
        return [root] if root.findtext("uws:phase", namespaces=NS) in ("COMPLETED", "ERROR", "ABORTED") else None
    root, = wait_for(done, timeout)
    assert_valid("UWS.xsd", etree.tostring(root))
    return root


def info(root) -> dict:
    return {etree.QName(el).localname: el.text for el in root.findall("uws:jobInfo/*", NS)}


def result(client, url, headers, result_id):
    response = client.get(f"{url}/results/{result_id}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


# -- index and descriptors --------------------------------------------------------------------------
def test_the_index_lists_every_tool_in_html_json_and_votable(client):
    listing = client.get("/tools?format=json").json["tools"]
    names = {t["name"] for t in listing}
    assert {"ftlist", "ftcopy", "fsort", "fselect", "fstatistic", "fcalc", "fmerge", "lcurve", "scw_coverage",
            "sort_lines"} <= names
    ftlist = next(t for t in listing if t["name"] == "ftlist")
    assert ftlist["version"] == "1.0.0" and ftlist["url"] == "http://localhost/tools/ftlist"
    assert ftlist["summary"].startswith("List the HDUs")
    assert client.get("/tools", headers={"Accept": "application/json"}).json == {"tools": listing}
    html = client.get("/tools", headers={"Accept": "text/html"})
    assert html.mimetype == "text/html" and b'href="http://localhost/tools/fsort"' in html.data
    table = assert_valid("VOTable.xsd", client.get("/tools?format=votable").data)
    rows = [[td.text for td in tr.findall("vo:TD", NS)] for tr in table.iterfind(".//vo:TR", NS)]
    assert ["fsort", "1.0.0", "T"] == rows[[r[0] for r in rows].index("fsort")][:3]
    assert client.get("/tools?format=pdf").status_code == 400


@pytest.mark.parametrize("name", ["ftlist", "ftcopy", "fsort", "fselect", "fstatistic", "fcalc", "fmerge",
                                  "lcurve", "scw_coverage", "sort_lines"])
def test_every_descriptor_is_a_valid_datalink_service_descriptor(client, app, name):
    tool = app.extensions["tools"].latest(name)
    response = client.get(f"/tools/{name}/descriptor")
    assert response.mimetype == "application/x-votable+xml"
    root = assert_valid("VOTable.xsd", response.data)
    resource = root.find("vo:RESOURCE", NS)
    assert (resource.get("type"), resource.get("utype")) == ("meta", "adhoc:service")
    assert resource.find("vo:PARAM[@name='accessURL']", NS).get("value") == f"http://localhost/tools/{name}"
    params = resource.findall("vo:GROUP[@name='inputParams']/vo:PARAM", NS)
    assert [p.get("name") for p in params] == [p.name for p in tool.parameters]  # positional order
    outputs = resource.findall("vo:GROUP[@name='outputs']/vo:PARAM", NS)
    assert [o.get("name") for o in outputs] == [o.name for o in tool.outputs]


def test_descriptor_params_carry_units_ucds_ranges_and_options(client):
    root = assert_valid("VOTable.xsd", client.get("/tools/scw_coverage/descriptor").data)
    dec = root.find(".//vo:PARAM[@name='dec']", NS)
    assert (dec.get("datatype"), dec.get("unit"), dec.get("ucd")) == ("double", "deg", "pos.eq.dec")
    assert dec.find("vo:VALUES/vo:MIN", NS).get("value") == "-90.0"
    assert dec.find("vo:VALUES/vo:MAX", NS).get("value") == "90.0"
    fsort = assert_valid("VOTable.xsd", client.get("/tools/fsort@1.0.0/descriptor").data)
    method = fsort.find(".//vo:PARAM[@name='method']", NS)
    assert method.get("value") == "heap"
    assert [o.get("value") for o in method.findall("vo:VALUES/vo:OPTION", NS)] == ["heap", "insert", "shell"]
    assert fsort.find(".//vo:PARAM[@name='accessURL']", NS).get("value") == "http://localhost/tools/fsort@1.0.0"


def test_astropy_reads_a_descriptor_as_a_vo_client_would(client):
    import io
    from astropy.io.votable import parse
    votable = parse(io.BytesIO(client.get("/tools/scw_coverage/descriptor").data))
    service = votable.resources[0]
    assert service.type == "meta" and service.utype == "adhoc:service"
    inputs = next(g for g in service.groups if g.name == "inputParams")
    params = {p.name: p for p in inputs.entries}
    assert params["ra"].unit == "deg" and params["ra"].ucd == "pos.eq.ra"
    assert (params["ra"].values.min, params["ra"].values.max) == (0.0, 360.0)
    assert params["instruments"].value == "isgri,jemx1,jemx2,spi,omc"
    access = {p.name: p.value for p in service.params}
    assert access["accessURL"] == "http://localhost/tools/scw_coverage"


def test_descriptor_json_has_the_contract_shape(client):
    body = client.get("/tools/lcurve/descriptor?format=json").json
    assert {"name", "version", "summary", "description", "parameters", "outputs"} <= set(body)
    keys = {"name", "type", "direction", "unit", "ucd", "default", "min", "max", "required", "options",
            "multiple", "description"}
    assert all(set(p) == keys for p in body["parameters"])
    binsize = next(p for p in body["parameters"] if p["name"] == "binsize")
    assert binsize["type"] == "real" and binsize["unit"] == "s" and binsize["required"] is True
    infile = body["parameters"][0]
    assert (infile["name"], infile["type"], infile["direction"]) == ("infile", "file", "in")
    assert body["outputs"] == [
        {"name": "outfile", "content_type": "application/fits", "description": "OGIP light curve: RATE and GTI extensions"},
        {"name": "plotfile", "content_type": "image/png", "description": "the light curve with error bars"}]


# -- checking parameters ------------------------------------------------------------------------------
@pytest.mark.parametrize("params, message", [
    ({"colname": "RATE", "minval": "low"}, "minval: must be a number"),
    ({"colname": "RATE", "rows": "first ten"}, "rows: "),
    ({"colname": "RATE", "colour": "red"}, "colour: unknown parameter of fstatistic"),
    ({}, "colname: required parameter missing"),
    ({"colname": "RATE", "infile": "data/missing.fits"}, "infile: 'data/missing.fits' is not a file in your workspace"),
    ({"colname": "RATE", "infile": "../bob/secret.fits"}, "infile: "),
    ({"colname": "RATE", "infile": "data/rate.fits[1][RATE > ]"}, None),
    ({"colname": "RATE", "outfile": "/etc/passwd"}, "outfile: refused"),
    ({"colname": "RATE", "outfile": "data/rate.fits", "infile": "data/rate.fits[1"}, "infile: "),
])
def test_bad_parameters_get_400_naming_the_parameter_and_no_job(client, alice, rate, params, message):
    params = {"infile": rate, **params}
    response = create(client, "/tools/fstatistic", alice, PHASE="RUN", **params)
    if message is None:  # an expression error is the tool's to find: the job is created
        assert response.status_code == 303
        return
    assert response.status_code == 400, response.get_data(as_text=True)
    assert message in response.get_data(as_text=True)
    jobs = etree.fromstring(client.get("/tools/fstatistic", headers=alice).data)
    assert jobs.findall("uws:jobref", NS) == []


def test_range_checks_use_the_declared_limits(client, alice, rate):
    response = create(client, "/tools/lcurve", alice, infile=rate, outfile="lc.fits", plotfile="lc.png",
                      binsize="0")
    assert response.status_code == 400 and b"binsize: must be at least 0.001" in response.data
    response = create(client, "/tools/scw_coverage", alice, scw_table=rate, outfile="c.fits",
                      plotfile="c.png", dec="95")
    assert response.status_code == 400 and b"dec: must be at most 90" in response.data


def test_anonymous_users_cannot_name_workspace_files(client):
    response = create(client, "/tools/ftlist", None, infile="data/rate.fits", option="h")
    assert response.status_code == 400 and b"infile:" in response.data and b"signed-in" in response.data


def test_parameters_are_checked_again_on_run(client, alice, rate, space, worker):
    url = job_url(create(client, "/tools/fstatistic", alice, infile=rate, colname="RATE"))
    space.delete(rate)
    response = client.post(url + "/phase", data={"PHASE": "RUN"}, headers=alice)
    assert response.status_code == 400 and b"infile: 'data/rate.fits' is not a file" in response.data
    assert client.get(url + "/phase", headers=alice).data == b"PENDING"


# -- running jobs ---------------------------------------------------------------------------------------
def test_a_job_writes_its_outputs_to_the_workspace_and_records_provenance(client, alice, rate, space,
                                                                         rate_values, worker):
    url = job_url(create(client, "/tools/fstatistic", alice, PHASE="RUN", infile=rate + "[1][RATE > 100]",
                         colname="RATE", outfile="stats/rate.txt"))
    root = finished(client, url, alice)
    assert root.findtext("uws:phase", namespaces=NS) == "COMPLETED", etree.tostring(root)
    assert info(root)["tool_version"] == "1.0.0" and info(root)["tool"] == "fstatistic"
    ids = [r.get("id") for r in root.findall("uws:results/uws:result", NS)]
    assert ids == ["outfile", "provenance"]
    text = result(client, url, alice, "outfile").get_data(as_text=True)
    with space.open("stats/rate.txt") as f:
        assert f.read().decode() == text
    values = rate_values["RATE"][rate_values["RATE"] > 100]
    assert f"is: {len(values)}" in text

    provenance = result(client, url, alice, "provenance").json
    assert (provenance["tool"], provenance["version"]) == ("fstatistic", "1.0.0")
    assert provenance["url"].endswith("/tools/fstatistic@1.0.0")
    assert provenance["parameters"] == {"infile": rate + "[1][RATE > 100]", "colname": "RATE",
                                        "outfile": "stats/rate.txt"}
    assert provenance["effective_parameters"]["rows"] == "-"
    assert provenance["inputs"]["infile"] == {"path": rate, "name": rate + "[1][RATE > 100]",
                                              "sha256": space.checksum(rate), "size": space.stat(rate).size}
    assert provenance["outputs"]["outfile"]["sha256"] == space.checksum("stats/rate.txt")
    assert provenance["values"]["mean"] == pytest.approx(values.mean())
    assert provenance["start"] <= provenance["end"] and provenance["host"] and provenance["reused_from"] is None

    import io
    from pyvo.io.uws import parse_job
    job = parse_job(io.BytesIO(client.get(url, headers=alice).data))  # pyvo reads the job document
    assert job.phase == "COMPLETED" and [r.id_ for r in job.results] == ["outfile", "provenance"]


def test_an_identical_job_reuses_the_products_unless_asked_for_a_fresh_run(client, alice, rate, space,
                                                                          tmp_path, rate_values, worker):
    params = {"infile": rate, "option": "hct", "outfile": "out.txt", "PHASE": "RUN"}
    first = job_url(create(client, "/tools/ftlist", alice, **params))
    first_root = finished(client, first, alice)
    first_id = first.rsplit("/", 1)[-1]
    assert "reused_from" not in info(first_root)

    space.delete("out.txt")
    second = job_url(create(client, "/tools/ftlist", alice, **params))
    root = finished(client, second, alice)
    assert root.findtext("uws:phase", namespaces=NS) == "COMPLETED"
    assert info(root)["reused_from"] == first_id
    assert result(client, second, alice, "outfile").data == result(client, first, alice, "outfile").data
    assert space.exists("out.txt")  # the reused products are put back into the workspace
    provenance = result(client, second, alice, "provenance").json
    assert provenance["reused_from"] == first_id and provenance["job"] == second.rsplit("/", 1)[-1]
    assert provenance["start"] == result(client, first, alice, "provenance").json["start"]

    fresh = job_url(create(client, "/tools/ftlist", alice, fresh="yes", **params))
    assert "reused_from" not in info(finished(client, fresh, alice))

    changed = dict(rate_values, RATE=rate_values["RATE"] + 1)
    space.write(rate, fits_bytes(tmp_path, changed))  # same path, new content: a new checksum
    other = job_url(create(client, "/tools/ftlist", alice, **params))
    assert "reused_from" not in info(finished(client, other, alice))


def test_versions_coexist_and_a_pinned_url_runs_its_version(client, alice, rate, worker):
    assert [t["versions"] for t in client.get("/tools?format=json").json["tools"] if t["name"] == "fcalc"] \
        == [["1.0.0", "2.0.0"]]
    params = {"PHASE": "RUN", "infile": rate, "outfile": "snr.fits", "clname": "SNR", "expr": "RATE / sqrt(RATE)"}
    pinned = job_url(create(client, "/tools/fcalc@1.0.0", alice, **params))
    assert pinned.startswith("/tools/fcalc@1.0.0/")
    root = finished(client, pinned, alice)
    assert root.findtext("uws:phase", namespaces=NS) == "COMPLETED"
    assert info(root)["tool_version"] == "1.0.0"
    assert result(client, pinned, alice, "provenance").json["url"].endswith("/tools/fcalc@1.0.0")
    with fits.open(__import__("io").BytesIO(result(client, pinned, alice, "outfile").data)) as hdul:
        np.testing.assert_allclose(hdul[1].data["SNR"], np.sqrt(hdul[1].data["RATE"]))

    latest = job_url(create(client, "/tools/fcalc", alice, **params))
    root = finished(client, latest, alice)
    assert info(root)["tool_version"] == "2.0.0"
    assert "reused_from" not in info(root)  # another version: computed again
    jobs = etree.fromstring(client.get("/tools/fcalc@1.0.0", headers=alice).data)
    assert [j.get("id") for j in jobs.findall("uws:jobref", NS)] == [pinned.rsplit("/", 1)[-1]]
    assert client.get(f"/tools/fcalc/{pinned.rsplit('/', 1)[-1]}", headers=alice).status_code == 404
    assert client.get("/tools/fcalc@3.0/descriptor").status_code == 404


def test_a_tool_error_ends_the_job_in_error_with_the_users_names_not_server_paths(client, alice, rate, worker):
    url = job_url(create(client, "/tools/fselect", alice, PHASE="RUN", infile=rate, outfile="x.fits",
                         expr="RATEX > 1"))
    root = finished(client, url, alice)
    assert root.findtext("uws:phase", namespaces=NS) == "ERROR"
    assert info(root)["tool_version"] == "1.0.0"  # a failed job records its version too
    message = client.get(url + "/error", headers=alice).get_data(as_text=True)
    assert "no column 'RATEX'" in message and "workspaces" not in message


def test_a_light_curve_job_writes_two_outputs(client, alice, space, tmp_path, worker):
    events = tmp_path / "events.fits"
    times = np.sort(np.random.default_rng(3).uniform(0, 1000, 5000))
    fits.HDUList([fits.PrimaryHDU(),
                  fits.BinTableHDU.from_columns([fits.Column("TIME", "D", unit="s", array=times)], name="EVENTS"),
                  fits.BinTableHDU.from_columns([fits.Column("START", "D", array=[0.0]),
                                                 fits.Column("STOP", "D", array=[1000.0])], name="GTI")]
                 ).writeto(events)
    space.write("ev/events.fits", events.read_bytes())
    url = job_url(create(client, "/tools/lcurve", alice, PHASE="RUN", infile="ev/events.fits[EVENTS]",
                         outfile="lc/lc.fits", plotfile="lc/lc.png", binsize="100"))
    root = finished(client, url, alice)
    assert root.findtext("uws:phase", namespaces=NS) == "COMPLETED", client.get(url + "/error", headers=alice).data
    with space.open("lc/lc.fits") as f, fits.open(f) as hdul:
        np.testing.assert_array_equal(hdul["RATE"].data["COUNTS"], np.histogram(times, bins=10, range=(0, 1000))[0])
    with space.open("lc/lc.png") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    types = {r.get("id"): r.get("mime-type") for r in root.findall("uws:results/uws:result", NS)}
    assert types == {"outfile": "application/fits", "plotfile": "image/png", "provenance": "application/json"}


def test_an_operator_declared_command_tool_runs_a_real_executable(client, alice, space, worker):
    lines = ["delta", "alpha", "charlie; rm -rf /", "bravo"]
    space.write("notes/in.txt", ("\n".join(lines) + "\n").encode())
    url = job_url(create(client, "/tools/sort_lines", alice, PHASE="RUN", infile="notes/in.txt",
                         reverse="yes", outfile="notes/sorted.txt"))
    root = finished(client, url, alice)
    assert root.findtext("uws:phase", namespaces=NS) == "COMPLETED", client.get(url + "/error", headers=alice).data
    expected = "\n".join(sorted(lines, reverse=True)) + "\n"
    assert result(client, url, alice, "outfile").get_data(as_text=True) == expected
    with space.open("notes/sorted.txt") as f:
        assert f.read().decode() == expected
    provenance = result(client, url, alice, "provenance").json
    assert provenance["implementation"] == {"command": ["sort", "{reverse?-r}", "--", "{infile}"]}


def test_a_table_parameter_can_be_an_adql_query_on_the_catalogue(client, app, alice, space, worker):
    from astropy.coordinates import SkyCoord
    from astropy.table import Table
    from sqlalchemy import text

    hera = app.extensions["hera"]
    load_demo(app, 300, 11)
    query = "SELECT TOP 12 * FROM integral.scw WHERE status = 'public' ORDER BY start_time"
    bad = create(client, "/tools/scw_coverage", alice, scw_table="SELECT FROM WHERE", ra="83.6", dec="22.0",
                 outfile="cov.fits", plotfile="cov.png")
    assert bad.status_code == 400 and b"scw_table: ADQL" in bad.data
    url = job_url(create(client, "/tools/scw_coverage", alice, PHASE="RUN", scw_table=query, ra="83.63",
                         dec="22.01", instruments="isgri,jemx1", outfile="cov/crab.fits", plotfile="cov/crab.png"))
    root = finished(client, url, alice, timeout=120)
    assert root.findtext("uws:phase", namespaces=NS) == "COMPLETED", client.get(url + "/error", headers=alice).data
    with space.open("cov/crab.fits") as f:
        table = Table.read(f, format="fits")
    with hera.engine.connect() as conn:
        expected = conn.execute(text("SELECT scw_id, ra, dec FROM integral.scw WHERE status = 'public' "
                                     "ORDER BY start_time LIMIT 12")).all()
    assert len(table) == 2 * len(expected) == 24
    by_id = {r.scw_id: r for r in expected}
    for row in table:
        scw = by_id[row["scw_id"]]
        separation = SkyCoord(scw.ra, scw.dec, unit="deg").separation(SkyCoord(83.63, 22.01, unit="deg")).deg
        assert row["off_axis"] == pytest.approx(separation, abs=1e-9)
    provenance = result(client, url, alice, "provenance").json
    assert provenance["inputs"]["scw_table"]["query"] == query and len(provenance["inputs"]["scw_table"]["sha256"]) == 64


def test_aborting_a_command_job_kills_the_program(client, alice, tmp_path, worker):
    target = tmp_path / "touched"
    url = job_url(create(client, "/tools/slow_touch", alice, PHASE="RUN", seconds="4", target=str(target)))
    wait_for(lambda: client.get(url + "/phase", headers=alice).data == b"EXECUTING", 60)
    client.post(url + "/phase", data={"PHASE": "ABORT"}, headers=alice)
    assert client.get(url + "/phase", headers=alice).data == b"ABORTED"
    import time
    time.sleep(6)
    assert not target.exists()
    # the same program, left alone, does create the file
    url = job_url(create(client, "/tools/slow_touch", alice, PHASE="RUN", seconds="0", target=str(target)))
    assert finished(client, url, alice).findtext("uws:phase", namespaces=NS) == "COMPLETED"
    assert target.exists()


def test_an_output_beyond_the_quota_ends_the_job_in_error_and_is_not_stored(app, client, tmp_path, rate_values,
                                                                          worker):
    from accounts import users
    data = fits_bytes(tmp_path, rate_values)
    token = users.add_user(app.extensions["hera"].engine, "carol", [], quota_bytes=len(data) + 1000)
    carol = {"Authorization": "Bearer " + token}
    ws = app.extensions["workspaces"].for_user("carol")
    ws.write("rate.fits", data)
    url = job_url(create(client, "/tools/ftcopy", carol, PHASE="RUN", infile="rate.fits", outfile="copy.fits"))
    root = finished(client, url, carol)
    assert root.findtext("uws:phase", namespaces=NS) == "ERROR"
    assert "quota" in client.get(url + "/error", headers=carol).get_data(as_text=True).lower()
    assert not ws.exists("copy.fits")


def test_fmerge_takes_a_list_of_inputs_or_an_ftools_list_file(client, alice, space, tmp_path, rate_values, worker):
    later = dict(rate_values, TIME=rate_values["TIME"] + 1e4)
    space.write("a.fits", fits_bytes(tmp_path, rate_values, "a.fits"))
    space.write("b.fits", fits_bytes(tmp_path, later, "b.fits"))
    space.write("inputs.txt", b"# the two halves\na.fits\nb.fits[1][RATE > 100]\n")
    direct = job_url(create(client, "/tools/fmerge", alice, PHASE="RUN", infiles="a.fits[col TIME, RATE],b.fits",
                            outfile="direct.fits"))
    assert finished(client, direct, alice).findtext("uws:phase", namespaces=NS) == "COMPLETED"
    missing = create(client, "/tools/fmerge", alice, infiles="a.fits,nope.fits", outfile="m.fits")
    assert missing.status_code == 400 and b"infiles: 'nope.fits' is not a file" in missing.data
    no_list = create(client, "/tools/fmerge", alice, infiles="@nolist.txt", outfile="m.fits")
    assert no_list.status_code == 400 and b"infiles: the list file 'nolist.txt'" in no_list.data
    url = job_url(create(client, "/tools/fmerge", alice, PHASE="RUN", infiles="@inputs.txt", outfile="merged.fits"))
    root = finished(client, url, alice)
    assert root.findtext("uws:phase", namespaces=NS) == "COMPLETED", client.get(url + "/error", headers=alice).data
    with space.open("merged.fits") as f, fits.open(f) as hdul:
        keep = later["RATE"] > 100
        np.testing.assert_array_equal(hdul[1].data["TIME"], np.concatenate([rate_values["TIME"], later["TIME"][keep]]))
    inputs = result(client, url, alice, "provenance").json["inputs"]["infiles"]
    assert [i["name"] for i in inputs] == ["a.fits", "b.fits[1][RATE > 100]"]
    assert inputs[1]["sha256"] == space.checksum("b.fits")


def test_reuse_and_provenance_on_postgresql(config, postgres_database_url, tmp_path, rate_values):
    """The reuse lookup reads the job table's JSON column: the same on PostgreSQL."""
    from conftest import Workers
    from accounts import users
    from vo_service import create_app
    from vo_service.app import init_database
    settings = {**config, "HERA_DATABASE_URL": postgres_database_url}
    app = create_app(settings)
    init_database(app)
    client = app.test_client()
    name = "pg" + tmp_path.name[-8:].replace("-", "").replace("_", "").lower()
    headers = {"Authorization": "Bearer " + users.add_user(app.extensions["hera"].engine, name)}
    app.extensions["workspaces"].for_user(name).write("rate.fits", fits_bytes(tmp_path, rate_values))
    with open(tmp_path / "pg-workers.log", "wb") as log:
        pool = Workers(settings, log).start(1)
        try:
            params = {"PHASE": "RUN", "infile": "rate.fits[RATE > 100]", "colname": "RATE"}
            first = job_url(create(client, "/tools/fstatistic", headers, **params))
            assert finished(client, first, headers).findtext("uws:phase", namespaces=NS) == "COMPLETED"
            second = job_url(create(client, "/tools/fstatistic", headers, **params))
            root = finished(client, second, headers)
            assert info(root)["reused_from"] == first.rsplit("/", 1)[-1]
            values = rate_values["RATE"][rate_values["RATE"] > 100]
            assert result(client, second, headers, "provenance").json["values"]["numb"] == len(values)
        finally:
            pool.stop()
            app.extensions["hera"].engine.dispose()
