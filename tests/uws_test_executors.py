"""Executors for the UWS tests' job list, imported by real RQ worker processes.

Parameters steer what the job does: ``sleep`` (seconds), ``fail`` (an error
message), ``touch`` (a file created after the sleep: proof that the job was not
stopped), ``echo`` (text kept as the result ``out``), ``context`` (what the job context
says of the job, kept as the result ``context``), ``stages`` (a JSON list of stages, each
a list of children's parameters: the job fans out each stage as child jobs, one stage
after the other, and its result ``out`` is their outputs, one line each)."""
import json
import time
from pathlib import Path

from flask import has_app_context

from uws import JobList

#: the job list of the children (the tests mount it as "test")
CHILDREN = JobList("test", "uws_test_executors:run")


def run(job):
    p = job.parameters
    if "stages" in p:
        return _fan_out(job, 0)
    if "sleep" in p:
        time.sleep(float(p["sleep"]))
    if "touch" in p:
        Path(p["touch"]).touch()
    if "fail" in p:
        raise RuntimeError(p["fail"])
    if "context" in p:
        seen = {"joblist": job.joblist, "run_id": job.run_id, "owner": job.owner,
                "services": type(job.services).__name__, "flask_app_context": has_app_context()}
        job.add_result("context", json.dumps(seen).encode(), "application/json")
    job.add_result("out", p.get("echo", "").encode(), "text/plain")


def _fan_out(job, stage: int):
    stages = json.loads(job.parameters["stages"])
    if stage == len(stages):
        job.add_result("out", (job.directory / "merged.txt").read_bytes(), "text/plain")
        return
    (job.directory / "stage").write_text(str(stage))
    children = [job.spawn(CHILDREN, parameters) for parameters in stages[stage]]
    job.wait_for(children, then="uws_test_executors:merge")


def merge(job, children):
    """The continuation: the children's outputs appended, then the next stage."""
    with open(job.directory / "merged.txt", "a") as merged:
        for child in children:
            merged.write((job.directory.parent / child.id / "results" / "out").read_text() + "\n")
    _fan_out(job, int((job.directory / "stage").read_text()) + 1)
