"""Configuration: defaults, filled from ``HERA_``-prefixed environment variables.

Every key is documented in the README with its default. Values from the environment
are parsed as JSON where they look like it (numbers, booleans, lists), as Flask does.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from tools_registry import compressed

DEFAULTS = {
    # where job results, workspaces and the embedded database live
    "DATA_DIR": "./hera-data",
    # SQLAlchemy URL; default: sqlite:///{DATA_DIR}/hera.sqlite
    "DATABASE_URL": None,
    # redis://host:port/db for production; unset: embedded Redis started by `hera serve`
    "REDIS_URL": None,
    # the public URL of the service, used in documents that carry absolute links
    "BASE_URL": None,
    # UWS limits (seconds)
    "EXECUTION_DURATION_DEFAULT": 3600,
    "EXECUTION_DURATION_MAX": 86400,
    "DESTRUCTION_DEFAULT": 7 * 86400,
    "DESTRUCTION_MAX": 30 * 86400,
    "WAIT_MAX": 600,
    # a worker that stops sending heartbeats for this long is declared dead (s)
    "HEARTBEAT_TIMEOUT": 10,
    # how often the sweeper looks for dead jobs and jobs past destruction (s)
    "SWEEP_INTERVAL": 5,
    # largest request body accepted by job creation (bytes)
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    # name of the RQ queue the jobs go to
    "QUEUE": "hera",
    # TAP: rows returned when MAXREC is not given, and the most that MAXREC can ask for
    "TAP_MAXREC_DEFAULT": 100_000,
    "TAP_MAXREC_MAX": 10_000_000,
    # TAP: a sync query running longer than this is stopped with an error (s)
    "TAP_SYNC_TIMEOUT": 60,
    # TAP: largest uploaded table (bytes)
    "TAP_UPLOAD_MAX": 16 * 1024 * 1024,
    # ADQL (TAP queries, tools' query parameters): the longest query text (characters) and
    # the deepest parse tree (levels) accepted; the stages after the parser recurse
    "ADQL_MAX_LENGTH": 100_000,
    "ADQL_MAX_DEPTH": 100,
    # TAP: rows of demo science windows `hera serve` loads into an empty catalogue (0: none)
    "TAP_DEMO_ROWS": 20_000,
    # catalogue ingest: a private science window whose file gives no public date becomes
    # public this many days after its end (INTEGRAL's one-year proprietary period)
    "PROPRIETARY_DAYS": 365,
    # workspace quota of a user whose record sets none (bytes, files)
    "WORKSPACE_QUOTA_BYTES": 10 * 1024**3,
    "WORKSPACE_QUOTA_FILES": 10000,
    # a workspace this full (fraction of bytes or files) is warned about
    "WORKSPACE_QUOTA_WARNING": 0.9,
    # a resumable upload left alone this long is discarded (s)
    "WORKSPACE_PARTIAL_LIFETIME": 86400,
    # import by URL: allowed host names (exact, or ".example.org" for a domain), size cap
    "WORKSPACE_IMPORT_HOSTS": [],
    "WORKSPACE_IMPORT_MAX_BYTES": 2 * 1024**3,
    # every outgoing request (docs/fetching.md): the non-public hosts and networks it may
    # reach (addresses, CIDRs, names, ".example.org"), its timeout (s) and its redirects
    "FETCH_ALLOW": [],
    "FETCH_TIMEOUT": 30,
    "FETCH_MAX_REDIRECTS": 5,
    # tools and previews: a compressed (gzip, bzip2, xz, zip) input file that decompresses
    # to more than this is refused (bytes)
    "FITS_DECOMPRESSED_MAX": compressed.DEFAULT_MAX,
    # the science-window archive in place, read-only, in the archive's own layout
    # (scw/RRRR/RRRRPPPPSSSF.VVV/<file>, aux/adp/RRRR.VVV/<file>); tools read `scw:` names
    # from it (docs/archive.md); unset: no archive
    "ARCHIVE_ROOT": None,
    # read-only calibration trees, separated by ":" (docs/archive.md)
    "CALIBRATION_ROOTS": "",
    # the authority of VOSpace node URIs (vos://AUTHORITY!vospace/user/path); unset: the host name
    "VOSPACE_AUTHORITY": None,
    # key that signs the web pages' session cookies; unset: a random key kept in DATA_DIR/secret_key
    "SECRET_KEY": None,
    # failed sign-ins (wrong tokens) from one address before it gets 429 for the rest of the
    # window, and that window (s, from the first failure); 0 failures: no limit
    "SIGNIN_MAX_FAILURES": 10,
    "SIGNIN_FAILURE_WINDOW": 600,
    # reverse proxies whose X-Forwarded-For is believed (addresses or networks), and how
    # many of them append to it; from any other host the header is ignored
    "TRUSTED_PROXIES": [],
    "PROXY_HOPS": 1,
}


#: settings that no longer exist, and what replaced them: refused rather than ignored
RETIRED = {
    "HERA_TAP_UPLOAD_ALLOW_PRIVATE": "HERA_FETCH_ALLOW (list the non-public hosts or networks "
                                     "that requests may reach)",
    "HERA_WORKSPACE_IMPORT_ALLOW_PRIVATE": "HERA_FETCH_ALLOW (list the non-public hosts or networks "
                                           "that requests may reach)",
}


def load(overrides: dict | None = None) -> dict:
    """The configuration: defaults, then the environment, then ``overrides``.

    Keys are returned with the ``HERA_`` prefix, as Flask stores them.
    """

    config = {f"HERA_{k}": v for k, v in DEFAULTS.items()}
    for key, raw in os.environ.items():
        if key.startswith("HERA_") and key not in ("HERA_URL", "HERA_TOKEN"):
            try:
                config[key] = json.loads(raw)
            except ValueError:
                config[key] = raw
    config.update(overrides or {})
    for key, replacement in RETIRED.items():
        if key in config:
            raise ValueError(f"{key} is no longer a setting: use {replacement}")
    data_dir = Path(config["HERA_DATA_DIR"]).expanduser().resolve()
    config["HERA_DATA_DIR"] = data_dir
    if not config["HERA_DATABASE_URL"]:
        config["HERA_DATABASE_URL"] = f"sqlite:///{data_dir / 'hera.sqlite'}"
    return config
