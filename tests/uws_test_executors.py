"""Executors for the UWS tests' job list, imported by real RQ worker processes.

Parameters steer what the job does: ``sleep`` (seconds), ``fail`` (an error
message), ``touch`` (a file created after the sleep: proof that the job was not
stopped), ``echo`` (text kept as the result ``out``), ``context`` (what the job context
says of the job, kept as the result ``context``)."""
import json
import time
from pathlib import Path

from flask import has_app_context


def run(job):
    p = job.parameters
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
