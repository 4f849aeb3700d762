"""Dependent jobs: a job fans out child jobs and continues when they end, on real RQ
workers, without any worker waiting for another job (issue 19, point 8)."""
from __future__ import annotations

import json
import time

from conftest import wait_for
from test_uws import create, phase, wait_phase


def stages(*stages):
    return json.dumps([[{"echo": e, **extra} for e in stage] for stage, extra in stages])


def children_of(app, job_id):
    store = app.extensions["hera"].jobs.store
    return [j for j in store.list("test", None) if j.info.get("parent") == job_id]


def test_a_job_fans_out_and_completes_when_its_children_have(app, client, worker):
    job_id = create(client, stages=stages((["a", "b", "c"], {}), (["d"], {})), PHASE="RUN")
    wait_phase(client, job_id, {"COMPLETED", "ERROR"}, timeout=60)
    assert phase(client, job_id) == "COMPLETED", client.get(f"/test-jobs/{job_id}/error").data
    assert client.get(f"/test-jobs/{job_id}/results/out").data == b"a\nb\nc\nd\n"
    children = children_of(app, job_id)
    assert len(children) == 4 and {c.phase.value for c in children} == {"COMPLETED"}
    parent = app.extensions["hera"].jobs.store.get(job_id)
    assert "waiting_for" not in parent.info


def test_two_fanning_parents_on_two_workers_both_complete(client, workers):
    workers.start(2)
    jobs = [create(client, stages=stages(([f"{n}{i}" for i in range(3)], {"sleep": "0.3"}),
                                         ([f"{n}z"], {})), PHASE="RUN") for n in "xy"]
    for job_id in jobs:
        wait_phase(client, job_id, {"COMPLETED", "ERROR"}, timeout=90)
        assert phase(client, job_id) == "COMPLETED", client.get(f"/test-jobs/{job_id}/error").data
    assert client.get(f"/test-jobs/{jobs[1]}/results/out").data == b"y0\ny1\ny2\nyz\n"


def test_a_failed_child_ends_its_parent_in_error_with_its_message(app, client, worker):
    job_id = create(client, stages=json.dumps([[{"echo": "ok"}, {"fail": "the detector is off"}], [{"echo": "never"}]]),
                    PHASE="RUN")
    wait_phase(client, job_id, {"COMPLETED", "ERROR"}, timeout=60)
    assert phase(client, job_id) == "ERROR"
    assert client.get(f"/test-jobs/{job_id}/error").get_data(as_text=True) == "the detector is off"
    assert len(children_of(app, job_id)) == 2  # the second stage never started


def test_a_parent_waiting_longer_than_the_heartbeat_timeout_is_not_declared_dead(client, workers):
    workers.start(2)  # a sweeper in each; the child sleeps past HERA_HEARTBEAT_TIMEOUT (3 s) + sweeps
    job_id = create(client, stages=stages((["slow"], {"sleep": "6"})), PHASE="RUN")
    wait_phase(client, job_id, {"COMPLETED", "ERROR"}, timeout=60)
    assert phase(client, job_id) == "COMPLETED", client.get(f"/test-jobs/{job_id}/error").data


def test_aborting_a_parent_aborts_the_children_it_waits_for(app, client, worker):
    job_id = create(client, stages=stages((["a"], {"sleep": "30"})), PHASE="RUN")
    wait_for(lambda: any(c.phase.value == "EXECUTING" for c in children_of(app, job_id)), 30)
    assert client.post(f"/test-jobs/{job_id}/phase", data={"PHASE": "ABORT"}).status_code == 303
    assert phase(client, job_id) == "ABORTED"
    assert [c.phase.value for c in children_of(app, job_id)] == ["ABORTED"]
    time.sleep(1)
    assert phase(client, job_id) == "ABORTED"
