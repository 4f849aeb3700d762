"""Scripts run on the service (``/runsc``): each line a dependent tool job, ``%N``
temporaries in the script's job, on real RQ workers (issue 20)."""
from __future__ import annotations

from lxml import etree

from test_tools_http import (NS, alice, config, create, finished, job_url, rate, rate_values,  # noqa: F401
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
