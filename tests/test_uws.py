"""UWS 1.1: the REST binding, the phases, and execution on real RQ workers."""
from __future__ import annotations

import base64
import io
import json
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree
from rq import Queue

from conftest import wait_for
from schemas import assert_valid

NS = {"uws": "http://www.ivoa.net/xml/UWS/v1.0", "xlink": "http://www.w3.org/1999/xlink"}


def create(client, headers=None, **params):
    r = client.post("/test-jobs", data=params, headers=headers)
    assert r.status_code == 303, r.get_data(as_text=True)
    return r.headers["Location"].rsplit("/", 1)[-1]


def job_doc(client, job_id, headers=None, query=""):
    r = client.get(f"/test-jobs/{job_id}{query}", headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return assert_valid("UWS.xsd", r.data)


def phase(client, job_id, headers=None):
    return client.get(f"/test-jobs/{job_id}/phase", headers=headers).get_data(as_text=True)


def wait_phase(client, job_id, expected, timeout=20, headers=None):
    return wait_for(lambda: phase(client, job_id, headers) in expected and phase(client, job_id, headers), timeout)


@pytest.fixture
def bob(app):
    from accounts import users
    token = users.add_user(app.extensions["hera"].engine, "bob")
    return {"Authorization": "Basic " + base64.b64encode(f"bob:{token}".encode()).decode()}


# -- documents ---------------------------------------------------------------------------
def test_a_new_job_is_pending_and_its_document_is_valid_uws_1_1(client):
    job_id = create(client, echo="hello", RUNID="my-run")
    root = job_doc(client, job_id)
    assert root.get("version") == "1.1"
    assert root.findtext("uws:jobId", namespaces=NS) == job_id
    assert root.findtext("uws:phase", namespaces=NS) == "PENDING"
    assert root.findtext("uws:runId", namespaces=NS) == "my-run"
    assert root.find("uws:parameters/uws:parameter[@id='echo']", NS).text == "hello"
    created = datetime.fromisoformat(root.findtext("uws:creationTime", namespaces=NS).replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - created).total_seconds()) < 60


def test_job_list_filters_by_phase_after_and_last(app, client, alice):
    ids = [create(client, headers=alice) for _ in range(3)]
    # three jobs created within one millisecond, as a fast machine creates them
    store, first = app.extensions["uws"].store, datetime(2026, 3, 1, 12, 0, 0, 123100, tzinfo=timezone.utc)
    for i, job_id in enumerate(ids):
        store.update(job_id, creation_time=first + timedelta(microseconds=300 * i))
    client.post(f"/test-jobs/{ids[0]}/phase", data={"PHASE": "ABORT"}, headers=alice)
    root = assert_valid("UWS.xsd", client.get("/test-jobs", headers=alice).data)
    assert [ref.get("id") for ref in root.findall("uws:jobref", NS)] == ids
    pending = assert_valid("UWS.xsd", client.get("/test-jobs?PHASE=PENDING", headers=alice).data)
    assert [ref.get("id") for ref in pending.findall("uws:jobref", NS)] == ids[1:]
    both = client.get("/test-jobs?PHASE=PENDING&PHASE=ABORTED", headers=alice).data
    assert len(etree.fromstring(both).findall("uws:jobref", NS)) == 3
    last = etree.fromstring(client.get("/test-jobs?LAST=2", headers=alice).data)
    assert [ref.get("id") for ref in last.findall("uws:jobref", NS)] == [ids[2], ids[1]]

    def after(when):
        listing = etree.fromstring(client.get("/test-jobs", query_string={"AFTER": when}, headers=alice).data)
        return [ref.get("id") for ref in listing.findall("uws:jobref", NS)]

    created = [etree.fromstring(client.get(f"/test-jobs/{i}", headers=alice).data).findtext(
        "uws:creationTime", namespaces=NS) for i in ids]
    assert created == ["2026-03-01T12:00:00.123100Z", "2026-03-01T12:00:00.123400Z", "2026-03-01T12:00:00.123700Z"]
    # UWS 1.1 AFTER: the jobs created after the time given, strictly; a job's own time excludes it
    assert after(created[1]) == [ids[2]]
    assert after(created[0]) == ids[1:]
    assert after(created[2]) == []
    assert after("2026-03-01T12:00:00.123Z") == ids
    assert after("2026-03-01T13:00:00.123400+01:00") == [ids[2]]


def test_archived_jobs_are_listed_only_when_asked_for(app, client, alice):
    from uws import Phase
    job_id = create(client, headers=alice)
    app.extensions["uws"].store.update(job_id, phase=Phase.ARCHIVED)
    assert job_id.encode() not in client.get("/test-jobs", headers=alice).data
    assert job_id.encode() in client.get("/test-jobs?PHASE=ARCHIVED", headers=alice).data


def test_sub_resources_answer_in_text_or_xml(client):
    job_id = create(client, echo="x", EXECUTIONDURATION="60")
    assert phase(client, job_id) == "PENDING"
    assert client.get(f"/test-jobs/{job_id}/executionduration").get_data(as_text=True) == "60"
    destruction = client.get(f"/test-jobs/{job_id}/destruction").get_data(as_text=True)
    assert destruction.endswith("Z") and datetime.fromisoformat(destruction.replace("Z", "+00:00"))
    assert client.get(f"/test-jobs/{job_id}/quote").status_code == 200
    assert client.get(f"/test-jobs/{job_id}/owner").get_data(as_text=True) == ""
    assert client.get(f"/test-jobs/{job_id}/parameters/echo").get_data(as_text=True) == "x"
    params = assert_valid("UWS.xsd", client.get(f"/test-jobs/{job_id}/parameters").data)
    assert params.find("uws:parameter", NS).get("id") == "echo"
    results = assert_valid("UWS.xsd", client.get(f"/test-jobs/{job_id}/results").data)
    assert len(results) == 0


def test_parameters_durations_and_destruction_change_while_pending(client):
    job_id = create(client, echo="a")
    assert client.post(f"/test-jobs/{job_id}/parameters", data={"echo": "b"}).status_code == 303
    assert client.put(f"/test-jobs/{job_id}/parameters/echo", data="c").status_code == 303
    assert client.get(f"/test-jobs/{job_id}/parameters/echo").get_data(as_text=True) == "c"
    assert client.post(f"/test-jobs/{job_id}/executionduration", data={"EXECUTIONDURATION": "30"}).status_code == 303
    assert client.get(f"/test-jobs/{job_id}/executionduration").get_data(as_text=True) == "30"
    when = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.post(f"/test-jobs/{job_id}/destruction", data={"DESTRUCTION": when}).status_code == 303
    assert client.get(f"/test-jobs/{job_id}/destruction").get_data(as_text=True).startswith(when[:19])


def test_durations_and_destruction_are_clamped_to_the_service_maxima(app, client):
    job_id = create(client, EXECUTIONDURATION=str(10**9), DESTRUCTION="2999-01-01T00:00:00Z")
    assert int(client.get(f"/test-jobs/{job_id}/executionduration").data) == app.config["HERA_EXECUTION_DURATION_MAX"]
    destruction = datetime.fromisoformat(client.get(f"/test-jobs/{job_id}/destruction").get_data(as_text=True).replace("Z", "+00:00"))
    limit = datetime.now(timezone.utc) + timedelta(seconds=app.config["HERA_DESTRUCTION_MAX"])
    assert destruction <= limit
    unlimited = create(client, EXECUTIONDURATION="0")
    assert int(client.get(f"/test-jobs/{unlimited}/executionduration").data) == app.config["HERA_EXECUTION_DURATION_MAX"]


# -- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("path, data, status, words", [
    ("phase", {"PHASE": "EXPLODE"}, 400, "RUN or ABORT"),
    ("executionduration", {"EXECUTIONDURATION": "-5"}, 400, "negative"),
    ("executionduration", {"EXECUTIONDURATION": "soon"}, 400, "whole number"),
    ("destruction", {"DESTRUCTION": "next tuesday"}, 400, "ISO 8601"),
    ("", {"ACTION": "EXPLODE"}, 400, "ACTION"),
])
def test_bad_values_get_400_with_a_message_and_leave_the_job_as_it_was(client, path, data, status, words):
    job_id = create(client, echo="keep")
    before = client.get(f"/test-jobs/{job_id}").data
    r = client.post(f"/test-jobs/{job_id}/{path}".rstrip("/"), data=data)
    assert r.status_code == status
    assert words in r.get_data(as_text=True)
    assert client.get(f"/test-jobs/{job_id}").data == before


def test_bad_list_filters_and_unknown_jobs(client):
    assert client.get("/test-jobs?PHASE=SLEEPING").status_code == 400
    assert client.get("/test-jobs?LAST=-1").status_code == 400
    assert client.get("/test-jobs?LAST=many").status_code == 400
    assert client.get("/test-jobs?AFTER=yesterday").status_code == 400
    for sub in ("", "/phase", "/parameters", "/results", "/error", "/results/out"):
        r = client.get(f"/test-jobs/0123456789abcdef{sub}")
        assert r.status_code == 404 and "no job" in r.get_data(as_text=True)
    assert client.post("/test-jobs", data={"PHASE": "ABORT"}).status_code == 400
    assert client.get(f"/test-jobs/{create(client)}?WAIT=soon").status_code == 400


def test_oversized_bodies_are_refused(app, client, alice):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    r = client.post("/test-jobs", data={"echo": "x" * 5000}, headers=alice)
    assert r.status_code == 413
    assert b"<uws:jobref" not in client.get("/test-jobs", headers=alice).data


def test_parameters_cannot_change_once_the_job_has_left_pending(client):
    job_id = create(client, echo="a")
    client.post(f"/test-jobs/{job_id}/phase", data={"PHASE": "ABORT"})
    r = client.post(f"/test-jobs/{job_id}/parameters", data={"echo": "b"})
    assert r.status_code == 400 and "PENDING" in r.get_data(as_text=True)
    assert client.get(f"/test-jobs/{job_id}/parameters/echo").get_data(as_text=True) == "a"
    assert client.post(f"/test-jobs/{job_id}/phase", data={"PHASE": "RUN"}).status_code == 400


# -- owners ----------------------------------------------------------------------------------
def test_jobs_belong_to_their_owner_and_are_invisible_to_others(client, alice, bob):
    job_id = create(client, headers=alice, echo="secret")
    assert client.get(f"/test-jobs/{job_id}/owner", headers=alice).get_data(as_text=True) == "alice"
    for other in (bob, None):
        assert client.get(f"/test-jobs/{job_id}", headers=other).status_code == 404
        assert client.delete(f"/test-jobs/{job_id}", headers=other).status_code == 404
        assert job_id.encode() not in client.get("/test-jobs", headers=other).data
    assert job_id.encode() in client.get("/test-jobs", headers=alice).data


def test_anonymous_jobs_are_listed_to_nobody_and_reached_by_their_url(app, alice):
    first, second = app.test_client(), app.test_client()  # two anonymous clients
    mine = create(first, echo="first's secret")
    theirs = create(second, echo="second's")
    assert re.fullmatch(r"[0-9a-f]{32}", mine) and mine != theirs  # 128 random bits each
    for client, headers in ((first, None), (second, None), (first, alice)):
        for query in ("", "?PHASE=PENDING", "?LAST=10"):
            listing = assert_valid("UWS.xsd", client.get("/test-jobs" + query, headers=headers).data)
            assert listing.findall("uws:jobref", NS) == []
    assert first.get(f"/test-jobs/{mine}", headers=alice).status_code == 404  # not a signed-in user's
    # whoever holds the URL can read, change, abort and delete the job
    assert second.get(f"/test-jobs/{mine}/parameters/echo").get_data(as_text=True) == "first's secret"
    assert second.post(f"/test-jobs/{mine}/phase", data={"PHASE": "ABORT"}).status_code == 303
    assert phase(first, mine) == "ABORTED"
    assert second.delete(f"/test-jobs/{mine}").status_code == 303
    assert first.get(f"/test-jobs/{mine}").status_code == 404
    assert phase(second, theirs) == "PENDING"


def test_anonymous_tap_jobs_are_not_listed_either(app):
    first, second = app.test_client(), app.test_client()
    r = first.post("/tap/async", data={"LANG": "ADQL", "QUERY": "SELECT TOP 1 * FROM tap_schema.tables"})
    assert r.status_code == 303
    url = r.headers["Location"]
    job_id = url.rsplit("/", 1)[-1]
    for client in (first, second):
        listing = assert_valid("UWS.xsd", client.get("/tap/async").data)
        assert listing.findall("uws:jobref", NS) == []
    job = assert_valid("UWS.xsd", second.get(f"/tap/async/{job_id}").data)
    assert job.findtext("uws:phase", namespaces=NS) == "PENDING"
    assert second.post(f"/tap/async/{job_id}", data={"ACTION": "DELETE"}).status_code == 303
    assert first.get(f"/tap/async/{job_id}").status_code == 404


def test_wrong_credentials_are_refused_not_downgraded(client, alice):
    r = client.get("/test-jobs", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and "Basic" in r.headers["WWW-Authenticate"]
    bad_basic = {"Authorization": "Basic " + base64.b64encode(b"mallory:" + alice["Authorization"][7:].encode()).decode()}
    assert client.get("/test-jobs", headers=bad_basic).status_code == 401


# -- execution -------------------------------------------------------------------------------
def test_a_job_created_with_phase_run_executes_on_a_worker(client, worker):
    job_id = create(client, echo="forty-two", PHASE="RUN")
    root = job_doc(client, job_id, query="?WAIT=30")
    wait_phase(client, job_id, {"COMPLETED"})
    root = job_doc(client, job_id)
    assert root.findtext("uws:startTime", namespaces=NS) and root.findtext("uws:endTime", namespaces=NS)
    result = root.find("uws:results/uws:result", NS)
    assert result.get("id") == "out" and result.get("mime-type") == "text/plain"
    href = result.get(f"{{{NS['xlink']}}}href")
    assert href.endswith(f"/test-jobs/{job_id}/results/out")
    assert client.get(f"/test-jobs/{job_id}/results/out").data == b"forty-two"


def test_an_executor_is_given_its_job_and_the_services_not_a_flask_app(client, alice, worker):
    job_id = create(client, alice, context="yes", RUNID="run-7", PHASE="RUN")
    wait_phase(client, job_id, {"COMPLETED"}, headers=alice)
    seen = json.loads(client.get(f"/test-jobs/{job_id}/results/context", headers=alice).data)
    assert seen == {"joblist": "test", "run_id": "run-7", "owner": "alice", "services": "Services",
                    "flask_app_context": False}


def test_a_failing_job_ends_in_error_with_its_message(client, worker):
    job_id = create(client, fail="the detector is off", PHASE="RUN")
    wait_phase(client, job_id, {"ERROR"})
    root = job_doc(client, job_id)
    assert root.find("uws:errorSummary", NS).get("type") == "fatal"
    assert root.findtext("uws:errorSummary/uws:message", namespaces=NS) == "the detector is off"
    assert client.get(f"/test-jobs/{job_id}/error").get_data(as_text=True) == "the detector is off"


def test_wait_blocks_until_the_phase_changes(client, worker):
    job_id = create(client, sleep="1", PHASE="RUN")
    wait_phase(client, job_id, {"EXECUTING"})
    started = time.monotonic()
    root = job_doc(client, job_id, query="?WAIT=20&PHASE=EXECUTING")
    assert root.findtext("uws:phase", namespaces=NS) == "COMPLETED"
    assert time.monotonic() - started < 15
    # a job not in the expected phase, or in a final one, answers at once
    started = time.monotonic()
    job_doc(client, job_id, query="?WAIT=20&PHASE=EXECUTING")
    job_doc(client, job_id, query="?WAIT=20")
    assert time.monotonic() - started < 5


def test_wait_gives_up_after_its_time(client):
    job_id = create(client)
    started = time.monotonic()
    root = job_doc(client, job_id, query="?WAIT=1")
    assert root.findtext("uws:phase", namespaces=NS) == "PENDING"
    assert 0.9 < time.monotonic() - started < 10


def test_abort_stops_the_work_horse_not_only_the_record(client, worker, tmp_path):
    marker = tmp_path / "finished"
    job_id = create(client, sleep="4", touch=str(marker), PHASE="RUN")
    wait_phase(client, job_id, {"EXECUTING"})
    assert client.post(f"/test-jobs/{job_id}/phase", data={"PHASE": "ABORT"}).status_code == 303
    assert phase(client, job_id) == "ABORTED"
    time.sleep(6)
    assert not marker.exists(), "the aborted job went on running"
    assert phase(client, job_id) == "ABORTED"


def test_execution_duration_is_enforced(client, worker, tmp_path):
    marker = tmp_path / "finished"
    job_id = create(client, sleep="10", touch=str(marker), EXECUTIONDURATION="1", PHASE="RUN")
    wait_phase(client, job_id, {"ERROR"}, timeout=30)
    assert "executionduration" in client.get(f"/test-jobs/{job_id}/error").get_data(as_text=True)
    assert not marker.exists()


def test_a_job_whose_worker_is_killed_ends_in_error(client, workers):
    workers.start(1)
    job_id = create(client, sleep="30", PHASE="RUN")
    wait_phase(client, job_id, {"EXECUTING"})
    workers.kill(workers.procs[0])  # the worker and its work horse, as a crash would
    workers.start(1)  # whose sweeper finds the dead job
    wait_phase(client, job_id, {"ERROR"}, timeout=30)
    assert "worker" in client.get(f"/test-jobs/{job_id}/error").get_data(as_text=True)


def test_jobs_queued_when_redis_lost_everything_are_queued_again(app, client, config, workers):
    job_id = create(client, echo="survivor", PHASE="RUN")
    queue = Queue(config["HERA_QUEUE"], connection=app.extensions["hera"].redis)
    queue.empty()  # what a Redis restart does to a queue kept only in memory
    assert queue.count == 0 and phase(client, job_id) == "QUEUED"
    workers.start(1)
    wait_phase(client, job_id, {"COMPLETED"}, timeout=30)
    assert client.get(f"/test-jobs/{job_id}/results/out").data == b"survivor"


def test_delete_removes_the_job_and_its_results(app, client, worker):
    job_id = create(client, echo="bye", PHASE="RUN")
    wait_phase(client, job_id, {"COMPLETED"})
    job_dir = app.extensions["uws"].job_dir(job_id)
    assert job_dir.exists()
    r = client.post(f"/test-jobs/{job_id}", data={"ACTION": "DELETE"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/test-jobs")
    assert client.get(f"/test-jobs/{job_id}").status_code == 404
    assert not job_dir.exists()
    other = create(client)
    assert client.delete(f"/test-jobs/{other}").status_code == 303
    assert client.get(f"/test-jobs/{other}").status_code == 404


def test_the_sweeper_destroys_jobs_at_their_destruction_time(app, client, worker):
    job_id = create(client, echo="ephemeral", PHASE="RUN")
    wait_phase(client, job_id, {"COMPLETED"})
    soon = (datetime.now(timezone.utc) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    client.post(f"/test-jobs/{job_id}/destruction", data={"DESTRUCTION": soon})
    wait_for(lambda: client.get(f"/test-jobs/{job_id}").status_code == 404, timeout=20)
    assert not app.extensions["uws"].job_dir(job_id).exists()


# -- real clients ------------------------------------------------------------------------------
def test_pyvo_parses_the_documents_and_drives_a_job(client, live_server, worker):
    import requests
    from pyvo.dal.tap import AsyncTAPJob
    from pyvo.io import uws as pyvo_uws

    r = requests.post(f"{live_server}/test-jobs", data={"echo": "via pyvo"}, allow_redirects=False)
    assert r.status_code == 303
    job = AsyncTAPJob(r.headers["Location"])
    assert job.phase == "PENDING"
    job.run()
    job.wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=30)
    assert job.phase == "COMPLETED"
    assert job.result_uris[0].endswith("/results/out")
    assert requests.get(job.result_uris[0]).text == "via pyvo"
    parsed = pyvo_uws.parse_job(io.BytesIO(requests.get(job.url).content))
    assert parsed.jobid == job.job_id and parsed.phase == "COMPLETED"
    url = job.url
    job.delete()
    assert requests.get(url).status_code == 404


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_store_finds_the_owners_last_completed_job_with_a_jobinfo_value(database, tmp_path, request):
    import uuid

    from sqlalchemy import create_engine

    from uws import Job, Phase
    from uws.store import JobStore

    url = (f"sqlite:///{tmp_path / 'jobs.sqlite'}" if database == "sqlite"
           else request.getfixturevalue("postgres_database_url"))
    engine = create_engine(url)
    store = JobStore(engine)
    store.create_tables()
    owner, start = f"owner-{uuid.uuid4().hex[:8]}", datetime(2026, 1, 1, tzinfo=timezone.utc)

    def add(n, phase, key, who=owner):
        job = Job(id=uuid.uuid4().hex, joblist="tools/x", owner=who, phase=phase, creation_time=start,
                  execution_duration=60, destruction=None, end_time=start + timedelta(minutes=n),
                  info={"reuse_key": key})
        store.add(job)
        return job.id

    older, newer = add(1, Phase.COMPLETED, "k"), add(2, Phase.COMPLETED, "k")
    add(3, Phase.ERROR, "k"), add(4, Phase.COMPLETED, "other"), add(5, Phase.COMPLETED, "k", who="someone-else")
    try:
        assert store.latest_completed(owner, "reuse_key", "k").id == newer
        assert store.latest_completed(owner, "reuse_key", "k", excluding=newer).id == older
        assert store.latest_completed(owner, "reuse_key", "none") is None
        assert store.latest_completed(None, "reuse_key", "k") is None
    finally:
        engine.dispose()
