"""The science-window archive in place: ``scw:`` file names resolved under the
read-only ``HERA_ARCHIVE_ROOT``, under the catalogue's access rule.

The root has the archive's own layout (as at HEASARC and the ISDC):
``scw/RRRR/RRRRPPPPSSSF.VVV/<file>`` (revolution, pointing, sub-pointing, type, then the
processing version) and ``aux/adp/RRRR.VVV/<file>``. A tool's file parameter may name
``scw:<scw_id>/<file>`` (the newest version present) or ``scw:<scw_id>.<ver>/<file>``,
with CFITSIO's extended file name syntax after it.

Rights are the catalogue's: a window's files are readable when the query TAP runs for the
user, under the access rule of :mod:`tap_catalog.row_access`, sees its row of
``integral.scw`` (public, or past its public date, or the user in its group). A window the catalogue does
not hold, a file the user may not read, a name that leaves the root (``..``, a symbolic
link pointing out) and a name that is not a regular file all get the same
:class:`ArchiveFileNotFound`, whose message names only what the user wrote.
"""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from accounts import users
from tap_catalog import adql
from tap_catalog.dialects import dialect_of

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


def placeholders(config: dict) -> dict[str, str]:
    """What a declared command tool's ``env`` may name: ``{calibration_roots}`` (the
    calibration trees joined by ``:``) and ``{archive_root}`` (empty when unset)."""
    archive, calibration = roots(config)
    return {"calibration_roots": ":".join(str(c) for c in calibration),
            "archive_root": str(archive) if archive else ""}


def _window_visible(services, scw_id: str, owner: str | None, now: datetime | None) -> bool:
    """Whether ``owner`` sees window ``scw_id`` in the catalogue: the query TAP would run
    for that user, under the same access rule (``tap_catalog.row_access``)."""
    engine = services.engine
    user = users.get_user(engine, owner) if owner is not None else None
    groups = frozenset(user.groups) if user is not None else None
    # scw_id is twelve digits (checked by _NAME): safe to write into the query
    translation = adql.translate(f"SELECT scw_id FROM integral.scw WHERE scw_id = '{scw_id}'",
                                 services.tableset, dialect_of(engine), user_groups=groups, now=now)
    with engine.begin() as conn:
        for statement in translation.setup:
            conn.exec_driver_sql(statement)
        return conn.exec_driver_sql(translation.sql).first() is not None


def resolve(services, name: str, owner: str | None, now: datetime | None = None) -> Path:
    """The local path of the archive file ``name`` (``scw:…/file``, no extended syntax)
    under the archive root of ``services``, for ``owner``; :class:`ArchiveFileNotFound`
    for anything else."""
    root = roots(services.config)[0]
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
    if not _window_visible(services, scw_id, owner, now):
        raise ArchiveFileNotFound(name)
    return real
