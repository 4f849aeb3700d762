"""The science-window archive in place: ``scw:`` file names resolved under the
read-only ``HERA_ARCHIVE_ROOT``, under the catalogue's access rule.

The root has the archive's own layout (as at HEASARC and the ISDC):
``scw/RRRR/RRRRPPPPSSSF.VVV/<file>`` (revolution, pointing, sub-pointing, type, then the
processing version) and ``aux/adp/RRRR.VVV/<file>``. A tool's file parameter may name
``scw:<scw_id>/<file>`` (the newest version present) or ``scw:<scw_id>.<ver>/<file>``,
with CFITSIO's extended file name syntax after it.

Rights are the catalogue's: a window's files are readable when its row of
``integral.scw`` is visible to the user under :data:`tap_catalog.row_access.ROW_ACCESS`
(public, or past its public date, or the user in its group). A window the catalogue does
not hold, a file the user may not read, a name that leaves the root (``..``, a symbolic
link pointing out) and a name that is not a regular file all get the same
:class:`ArchiveFileNotFound`, whose message names only what the user wrote.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text

from accounts import users
from tap_catalog.row_access import ROW_ACCESS

PREFIX = "scw:"
_NAME = re.compile(r"^scw:(?P<scw>\d{12})(?:\.(?P<ver>\d{3}))?/(?P<file>[^/\\]+)$")


class ArchiveFileNotFound(ValueError):
    """No such file of the archive for this user (whether absent or not readable)."""

    def __init__(self, name: str):
        super().__init__(f"{name!r} is not a file of the archive")
        self.name = name


def is_archive_name(value: str) -> bool:
    return value.startswith(PREFIX)


def roots(config: dict) -> tuple[Path | None, list[Path]]:
    """The archive root and the calibration roots of the configuration."""
    archive = config.get("HERA_ARCHIVE_ROOT")
    calibration = config.get("HERA_CALIBRATION_ROOTS") or ""
    if isinstance(calibration, str):
        calibration = [c for c in calibration.split(":") if c]
    return (Path(archive).resolve() if archive else None), [Path(c).resolve() for c in calibration]


def _window_visible(engine, scw_id: str, owner: str | None, now: datetime) -> bool:
    """Whether the catalogue's access rule lets ``owner`` see window ``scw_id``."""
    access = ROW_ACCESS["integral.scw"]
    with engine.connect() as conn:
        row = conn.execute(text(
            f'SELECT "{access.status}", "{access.release}", "{access.group}" '
            'FROM integral.scw WHERE scw_id = :scw'), {"scw": scw_id}).first()
    if row is None:
        return False
    status, release, group = row
    if status != access.private_value:
        return True
    if release is not None and str(release)[:19].replace(" ", "T") <= now.strftime("%Y-%m-%dT%H:%M:%S"):
        return True
    user = users.get_user(engine, owner) if owner is not None else None
    return user is not None and group is not None and group in user.groups


def resolve(root: Path | None, engine, name: str, owner: str | None,
            now: datetime | None = None) -> Path:
    """The local path of the archive file ``name`` (``scw:…/file``, no extended syntax),
    for ``owner``; :class:`ArchiveFileNotFound` for anything else."""
    match = _NAME.match(name)
    if root is None or match is None or match["file"] in (".", ".."):
        raise ArchiveFileNotFound(name)
    scw_id = match["scw"]
    window_dirs = root / "scw" / scw_id[:4]
    if match["ver"]:
        candidates = [window_dirs / f"{scw_id}.{match['ver']}"]
    else:
        candidates = sorted(window_dirs.glob(f"{scw_id}.[0-9][0-9][0-9]"), reverse=True)[:1]
    if not candidates:
        raise ArchiveFileNotFound(name)
    path = candidates[0] / match["file"]
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise ArchiveFileNotFound(name) from None
    if not real.is_relative_to(root) or not real.is_file():
        raise ArchiveFileNotFound(name)
    if not _window_visible(engine, scw_id, owner, now or datetime.now(timezone.utc)):
        raise ArchiveFileNotFound(name)
    return real
