"""A script's temporaries (``%1`` … ``%9``) as the tool jobs of its steps see them.

A step of a script run on the service (:mod:`tools_registry.runsc`) is an ordinary tool
job whose parameters may name ``%N`` (with CFITSIO's ``[...]`` after it, for an input);
the file is ``temporaries/tmpN.fits`` in the directory of the script's job, the step's
parent. Nothing else can name them: a job without a parent refuses ``%N``.
"""
from __future__ import annotations

import re
from pathlib import Path

TEMP_RE = re.compile(r"^%(\d+)(.*)$", re.S)


def is_temporary(value) -> bool:
    return isinstance(value, str) and TEMP_RE.match(value) is not None


def local(job, value: str) -> tuple[Path, str]:
    """(the file, the CFITSIO suffix) that ``%N[...]`` names for ``job``'s script."""
    if job.parent is None:
        raise RuntimeError(f"{value!r} names a script's temporary, and this job runs in no script")
    m = TEMP_RE.match(value)
    folder = job.services.jobs.job_dir(job.parent) / "temporaries"
    return folder / f"tmp{m.group(1)}.fits", m.group(2)
