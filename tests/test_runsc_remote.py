"""Scripts run on the service (``/runsc``): each line a dependent tool job, ``%N``
temporaries in the script's job, on real RQ workers (issue 20)."""
from __future__ import annotations

from lxml import etree

from test_client import account, hera_cmd, here, logged_in, make_rate_file, private_config, shared  # noqa: F401

from test_tools_http import (NS, config, create, finished, job_url, rate, rate_values,  # noqa: F401
                             result, space)

SCRIPT = """# three steps, two temporaries
ftcopy '$1[1][RATE > 100]' %1
ftcopy '%1[1][RATE > 150]' %2
fstatistic '%2[1]' RATE outfile=$2
"""


def run_script(client, alice, script=SCRIPT, args="data/rate.fits stats/high.txt"):
    url = job_url(create(client, "/runsc", alice, PHASE="RUN", script=script, args=args))
    return url, finished(client, url, alice, timeout=120)


def step_urls(client, url, alice):
    log = result(client, url, alice, "log").get_data(as_text=True)
    return [line.rsplit(" ", 1)[-1].replace("http://localhost", "") for line in log.splitlines()]


def check_completed(client, alice, space, rate_values, url, root):
    assert root.findtext("uws:phase", namespaces=NS) == "COMPLETED", etree.tostring(root)
    steps = step_urls(client, url, alice)
    assert [s.split("/")[2] for s in steps] == ["ftcopy", "ftcopy", "fstatistic"]
    for step in steps:
        assert etree.fromstring(client.get(step, headers=alice).data).findtext(
            "uws:phase", namespaces=NS) == "COMPLETED"
    with space.open("stats/high.txt") as f:
        text = f.read().decode()
    assert str((rate_values["RATE"] > 150).sum()) in text
    assert not [p for p in space.list("") if "tmp" in str(p)]  # temporaries stay out of the workspace


def test_a_three_step_script_with_temporaries_completes_on_one_worker(client, alice, rate, space, rate_values,
                                                                       worker):
    url, root = run_script(client, alice)
    check_completed(client, alice, space, rate_values, url, root)


def test_two_scripts_at_once_on_two_workers_both_complete(client, alice, rate, space, rate_values, workers):
    workers.start(2)
    first = job_url(create(client, "/runsc", alice, PHASE="RUN", script=SCRIPT, args="data/rate.fits stats/high.txt"))
    second = job_url(create(client, "/runsc", alice, PHASE="RUN", script=SCRIPT.replace("150", "140"),
                            args="data/rate.fits stats/other.txt"))
    for url in (first, second):
        root = finished(client, url, alice, timeout=180)
        assert root.findtext("uws:phase", namespaces=NS) == "COMPLETED", etree.tostring(root)
    check_completed(client, alice, space, rate_values, first, finished(client, first, alice))


def test_a_failed_step_ends_the_script_in_error_and_a_rerun_reuses_the_completed_steps(client, alice, rate,
                                                                                        worker):
    bad = SCRIPT.replace("RATE outfile", "NOSUCHCOLUMN outfile")
    url, root = run_script(client, alice, bad)
    assert root.findtext("uws:phase", namespaces=NS) == "ERROR"
    steps = step_urls(client, url, alice)
    assert len(steps) == 3
    step_error = client.get(steps[2] + "/error", headers=alice).get_data(as_text=True)
    assert client.get(url + "/error", headers=alice).get_data(as_text=True) == step_error
    url, root = run_script(client, alice)
    assert root.findtext("uws:phase", namespaces=NS) == "COMPLETED", etree.tostring(root)
    reused = [{etree.QName(e).localname: e.text for e in etree.fromstring(
        client.get(s, headers=alice).data).findall("uws:jobInfo/*", NS)}.get("reused_from")
        for s in step_urls(client, url, alice)]
    assert reused[0] and reused[1] and not reused[2]


def test_a_bad_script_is_refused_at_once(client, alice):
    r = create(client, "/runsc", alice, script="nosuchtool x\n")
    assert r.status_code == 400 and "line 1" in r.get_data(as_text=True)
    r = create(client, "/runsc", alice, script="ftcopy $3 %1\n", args="a b")
    assert r.status_code == 400 and "$3" in r.get_data(as_text=True)


def test_the_client_runs_a_script_on_the_service_and_comes_back_with_jobs_wait(logged_in, here, capsys):
    _, rate = make_rate_file(here / "rate.fit")
    logged_in.ws_put(here / "rate.fit", "data/rate.fit")
    (here / "high.hera").write_text("ftcopy '$1[col rate]' %1\nftcopy '%1[rate > 100]' %2\n"
                                    "fstatistic %2 RATE outfile=$2\n")
    status, _, err = hera_cmd(capsys, "runsc", "--remote", "high.hera", "data/rate.fit", "stats/high.txt")
    assert status == 0, err
    url = next(line.split(": ", 1)[1] for line in err.splitlines() if line.startswith("script job: "))
    assert "/runsc/" in url and err.count("/tools/") == 3
    status, out, _ = hera_cmd(capsys, "jobs", "wait", url)
    assert status == 0 and out.strip() == "COMPLETED"
    text = logged_in.ws_get("stats/high.txt", here / "high.txt").read_text()
    assert f"The number of points used in calculation is: {int((rate > 100).sum())}" in text
    assert [e["name"] for e in logged_in.ws_ls("")["entries"]] == ["data", "stats"]  # no temporaries there
    (here / "bad.hera").write_text("ftcopy '$1[col rate]' %1\nfstatistic %1 NOSUCH\n")
    status, _, err = hera_cmd(capsys, "runsc", "--remote", "bad.hera", "data/rate.fit")
    assert status == 1 and "ERROR" in err.splitlines()[-1] and "NOSUCH" in err.splitlines()[-1]


def test_resume_runs_a_failed_script_again_from_its_failed_step(logged_in, here, capsys):
    make_rate_file(here / "rate.fit")
    logged_in.ws_put(here / "rate.fit", "data/rate.fit")
    (here / "two.hera").write_text("ftcopy 'data/rate.fit[col rate]' %1\nfstatistic data/later.fit RATE\n")
    status, _, err = hera_cmd(capsys, "runsc", "--remote", "two.hera")
    assert status == 1 and "later.fit" in err.splitlines()[-1]
    failed = next(line.split(": ", 1)[1] for line in err.splitlines() if line.startswith("script job: "))
    logged_in.ws_put(here / "rate.fit", "data/later.fit")
    status, _, err = hera_cmd(capsys, "runsc", "--remote", "--resume", failed)
    assert status == 0, err
    steps = [line.rsplit(" ", 1)[-1] for line in err.splitlines() if line.startswith("step ")]
    assert len(steps) == 2
    assert logged_in.uws.job(steps[0]).phase == "COMPLETED"
    assert "reused_from" in logged_in.uws.http.request("GET", steps[0]).text()
