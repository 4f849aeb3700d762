"""Executors for the UWS tests' job list, imported by real RQ worker processes.

Parameters steer what the job does: ``sleep`` (seconds), ``fail`` (an error
message), ``touch`` (a file created after the sleep: proof that the job was not
stopped), ``echo`` (text kept as the result ``out``)."""
import time
from pathlib import Path


def run(job):
    p = job.parameters
    if "sleep" in p:
        time.sleep(float(p["sleep"]))
    if "touch" in p:
        Path(p["touch"]).touch()
    if "fail" in p:
        raise RuntimeError(p["fail"])
    job.add_result("out", p.get("echo", "").encode(), "text/plain")
