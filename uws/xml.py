"""The UWS 1.1 XML documents (uws:job, uws:jobs, uws:results, uws:parameters,
uws:errorSummary), written in one place with lxml."""
from __future__ import annotations

from datetime import datetime

from lxml import etree

from .job import Job

UWS_NS = "http://www.ivoa.net/xml/UWS/v1.0"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"uws": UWS_NS, "xlink": XLINK_NS, "xsi": XSI_NS}
VERSION = "1.1"


def _q(tag: str) -> str:
    return f"{{{UWS_NS}}}{tag}"


def isoformat(t: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the microsecond the store keeps: a time read from a
    document (say, for AFTER) is then the job's own time, and two jobs created within
    one millisecond still have different times."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(parent, tag: str, value, nillable: bool = False):
    el = etree.SubElement(parent, _q(tag))
    if value is None:
        if nillable:
            el.set(f"{{{XSI_NS}}}nil", "true")
    else:
        el.text = isoformat(value) if isinstance(value, datetime) else str(value)
    return el


def _serialize(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _fill_parameters(params, job: Job):
    for name, value in job.parameters.items():
        etree.SubElement(params, _q("parameter"), id=name).text = value
    return params


def _fill_results(results, job: Job, result_url):
    for r in job.results:
        attrs = {"id": r.id, f"{{{XLINK_NS}}}type": "simple", f"{{{XLINK_NS}}}href": result_url(job, r)}
        if r.size is not None:
            attrs["size"] = str(r.size)
        attrs["mime-type"] = r.content_type
        etree.SubElement(results, _q("result"), attrs)
    return results


def _error_summary(parent, job: Job):
    err = etree.SubElement(parent, _q("errorSummary"), type=job.error.type,
                           hasDetail="true" if job.error.has_detail else "false")
    etree.SubElement(err, _q("message")).text = job.error.message


def job_document(job: Job, result_url) -> bytes:
    root = etree.Element(_q("job"), nsmap=NSMAP, version=VERSION)
    _text(root, "jobId", job.id)
    if job.run_id is not None:
        _text(root, "runId", job.run_id)
    _text(root, "ownerId", job.owner, nillable=True)
    _text(root, "phase", job.phase.value)
    _text(root, "quote", job.quote, nillable=True)
    _text(root, "creationTime", job.creation_time)
    _text(root, "startTime", job.start_time, nillable=True)
    _text(root, "endTime", job.end_time, nillable=True)
    _text(root, "executionDuration", job.execution_duration)
    _text(root, "destruction", job.destruction, nillable=True)
    _fill_parameters(etree.SubElement(root, _q("parameters")), job)
    _fill_results(etree.SubElement(root, _q("results")), job, result_url)
    if job.error is not None:
        _error_summary(root, job)
    if job.info:
        info = etree.SubElement(root, _q("jobInfo"))
        for key, value in job.info.items():
            etree.SubElement(info, f"{{{UWS_NS}}}{key}").text = str(value)
    return _serialize(root)


def jobs_document(jobs: list[Job], job_url) -> bytes:
    root = etree.Element(_q("jobs"), nsmap=NSMAP, version=VERSION)
    for job in jobs:
        ref = etree.SubElement(root, _q("jobref"), {"id": job.id, f"{{{XLINK_NS}}}type": "simple",
                                                   f"{{{XLINK_NS}}}href": job_url(job)})
        _text(ref, "phase", job.phase.value)
        if job.run_id is not None:
            _text(ref, "runId", job.run_id)
        _text(ref, "ownerId", job.owner, nillable=True)
        _text(ref, "creationTime", job.creation_time)
    return _serialize(root)


def results_document(job: Job, result_url) -> bytes:
    return _serialize(_fill_results(etree.Element(_q("results"), nsmap=NSMAP), job, result_url))


def parameters_document(job: Job) -> bytes:
    return _serialize(_fill_parameters(etree.Element(_q("parameters"), nsmap=NSMAP), job))
