"""Ingest of science-window tables (FITS, CSV, VOTable) into ``integral.scw``.

The files follow HEASARC's ``intscw`` table (or ISDC's, or the demo CSV): column names are
matched case-insensitively with the names and aliases of :data:`ALIASES`, in any order,
extra columns ignored; coordinates in degrees or sexagesimal (RA in hours), times as MJD or
ISO-8601; values in any letter case (``POINTING``, ``pointing``; ``GENERAL``, ``General``)
stored in one spelling. Columns the file lacks are derived where they can be (revolution,
pointing, sub-pointing and type from ``scw_id``, elapsed time, ISO and IJD times, Galactic
coordinates, and the public date of a private window: its end plus a proprietary period).

All files go in one transaction: a bad row raises :class:`IngestError` naming the file, the
row and the reason, a file that is not a science-window table says so, and nothing of the
ingest is kept. Ingest is idempotent: a science window already present is replaced by a newer
``scw_ver`` and completed by the same one (:func:`_upsert_tail`).
"""
from __future__ import annotations

import csv
import math
import re
import sys
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import NamedTuple
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from tqdm import tqdm

from integral import revolutions
from integral import time as itime
from integral.coordinates import galactic
from integral.instruments import NAMES as INSTRUMENT_NAMES
from integral.pointing import POSANGLE_NAMES

from . import database
from .dialects import dialect_of
from .row_access import PROPRIETARY_DAYS
from .tableset import TableSet


class IngestError(Exception):
    """A file that cannot be ingested: ``file``, 1-based data ``row`` (or None), ``reason``."""

    def __init__(self, file, row: int | None, reason: str):
        self.file, self.row, self.reason = str(file), row, reason
        where = f"{self.file}, row {row}" if row is not None else self.file
        super().__init__(f"{where}: {reason}")


#: canonical column → accepted names in files (lower case), preferred first
ALIASES = {
    "scw_id": ("scw_id", "scwid", "swid", "scw"),
    "scw_ver": ("scw_ver", "scwver", "scw_version", "version", "ver"),
    "scw_type": ("scw_type", "scwtype", "type"),
    "status": ("status", "ps", "proprietary_status"),
    "ra": ("ra", "ra_x", "rax", "ra_scx", "ra_obj"),
    "dec": ("dec", "dec_x", "decx", "dec_scx", "dec_obj"),
    "start_time": ("start_time", "start_date", "tstart", "time", "start_mjd", "start"),
    "end_time": ("end_time", "end_date", "tstop", "stop_time", "end_mjd", "end", "stop"),
    "start_ijd": ("start_ijd", "ijd_start"),
    "end_ijd": ("end_ijd", "ijd_end", "stop_ijd"),
    "revolution": ("revolution", "rev", "revol", "orbit"),
    **{f"good_{i}": (f"good_{i}", f"good{i}", f"{i}_good") for i in INSTRUMENT_NAMES},
    "ra_z": ("ra_z", "raz", "ra_scz"),
    "dec_z": ("dec_z", "decz", "dec_scz"),
    "posangle": POSANGLE_NAMES,  # minus the position angle of Z (integral.pointing)
    "obs_id": ("obs_id", "obsid"),
    "proposal_id": ("proposal_id", "prop_id", "proposal"),
    "obs_type": ("obs_type", "obstype"),
    "target_name": ("target_name", "target", "object", "obj_name", "name"),
    "pi_name": ("pi_name", "pi", "pi_lname"),
    "public_date": ("public_date", "release_date", "obs_release_date"),
    "proprietary_group": ("proprietary_group", "group", "data_group"),
    "data_in_archive": ("data_in_archive", "data_in_heasarc", "in_archive"),
    "exp_id": ("exp_id", "expid"),
    **{f"{i}_mode": (f"{i}_mode", f"{i}mode", f"{short}mode")
       for i, short in (("spi", "spi"), ("ibis", "ibis"), ("jemx1", "jmx1"), ("jemx2", "jmx2"), ("omc", "omc"))},
    "obt_start": ("obt_start", "obtstart"),
    "obt_end": ("obt_end", "obtend", "obt_stop"),
    "data_size": ("data_size", "dsize", "datasize"),
}
#: 'other' windows (scw_id ending in 2) are neither a pointing nor a slew: the archives'
#: own third type, 0.5-6 % of their rows
SCW_TYPES = {"pointing", "slew", "other", "engineering"}
#: obs_type in one spelling whatever the archive's case (HEASARC's current one: the 2022
#: snapshot and ISDC write GENERAL, HEASARC now General); unknown values: see _obs_type
OBS_TYPES = {t.upper(): t for t in ("General", "Calibration", "TOO", "Engineering", "Core",
                                     "Key Programme", "Special", "GCDE")}
_SCW_ID = re.compile(r"^\d{12}$")
_SEXAGESIMAL = re.compile(r"^\s*([+-]?)\s*(\d+(?:\.\d*)?)[\s:hd°]+(\d+(?:\.\d*)?)(?:[\s:m']+(\d+(?:\.\d*)?)[s\"]?)?\s*$")


def progress_bar(enabled: bool, total: int | None, desc: str):
    """A tqdm bar on stderr (a silent one when not ``enabled``)."""
    return tqdm(total=total, desc=desc, unit=" scw", file=sys.stderr, disable=not enabled,
                mininterval=0.5, leave=False)


# -- reading ------------------------------------------------------------------------------
def read_rows(path: Path) -> tuple[list[str], Iterator[list], int | None]:
    """The column names, an iterator of row values and the row count (if known) of a
    CSV/TSV/pipe-separated text, FITS or VOTable file."""
    name = path.name.lower()
    if name.endswith((".csv", ".tsv", ".txt", ".dat", ".psv")):
        return _read_text(path)
    if name.endswith((".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")):
        fmt = "fits"
    elif name.endswith((".xml", ".vot", ".votable")):
        fmt = "votable"
    else:
        raise IngestError(path, None, "unknown file type (expected .csv, .tsv, .fits or .xml/.vot)")
    from astropy.table import Table  # a heavy import, for FITS and VOTable files only
    try:
        table = Table.read(path, format=fmt)
    except Exception as err:  # astropy raises many kinds for unreadable files
        raise IngestError(path, None, f"not a science-window table: cannot read it as {fmt} ({err})") from err
    names = list(table.colnames)
    columns = [table[n].tolist() for n in names]  # masked values become None
    return names, (list(r) for r in zip(*columns)), len(table)


def _read_text(path: Path):
    f = path.open(newline="", encoding="utf-8-sig")
    sample = f.read(8192)
    f.seek(0)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t|;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(f, dialect)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        f.close()
        raise IngestError(path, None, "empty file") from None

    def rows():
        with f:
            for values in reader:
                if values and any(v.strip() for v in values):
                    yield [v.strip() for v in values]

    return header, rows(), None


# -- one row ---------------------------------------------------------------------------------
def column_map(names: list[str]) -> dict[str, int]:
    """canonical column → index in the file's columns."""
    lower = [n.strip().lower() for n in names]
    found = {}
    for canonical, aliases in ALIASES.items():
        for alias in aliases:
            if alias in lower:
                found[canonical] = lower.index(alias)
                break
    return found


def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in ("", "--", "null", "NULL", "NaN", "nan")


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip()


def _number(value, what: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(_text(value))
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a number") from None


def _angle(value, hours: bool, what: str) -> float:
    """Degrees from a number (degrees) or a sexagesimal string (hours for RA)."""
    if not isinstance(value, (str, bytes)):
        return _number(value, what)
    s = _text(value)
    try:
        return float(s)
    except ValueError:
        pass
    m = _SEXAGESIMAL.match(s)
    if not m:
        raise ValueError(f"{what} {s!r} is neither degrees nor sexagesimal")
    sign = -1.0 if m.group(1) == "-" else 1.0
    a = float(m.group(2)) + float(m.group(3)) / 60.0 + float(m.group(4) or 0.0) / 3600.0
    return sign * a * (15.0 if hours else 1.0)


class _IJD(NamedTuple):
    """A time given as IJD (TT), converted with the rest of its batch."""
    value: float


def _time(value, what: str):
    """A time as the file gives it, checked but not yet converted: an MJD (UTC) as a float,
    ISO-8601 UTC text, or a datetime (taken as UTC); :func:`_convert_times` converts the
    texts of a whole batch at once."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, (str, bytes)):
        s = _text(value)
        try:
            return float(s)
        except ValueError:
            if not re.match(r"^\d{4}-\d{2}-\d{2}", s):
                raise ValueError(f"{what} {s!r} is neither MJD nor ISO-8601") from None
            return s
    return _number(value, what)


def _integer(value, what: str) -> int:
    """An integer as the file gives it, exactly: ISDC writes OBTs (about 9e15, beyond the
    53 bits of a double) in E-notation (9.034467682287616E15), HEASARC as digits."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    try:
        number = Decimal(_text(value)) if isinstance(value, (str, bytes)) else Decimal(float(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError(f"{what} {value!r} is not an integer") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"{what} {value!r} is not an integer")
    return int(number)


def _identifier(value, digits: int) -> str:
    """An identifier made of digits as text; numbers (FITS, VOTable) get back the leading
    zeros of ``digits`` digits (obs_id 01200230007)."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{_integer(value, 'identifier'):0{digits}d}"
    return _text(value)


def _obs_type(value) -> str:
    """One spelling of an observation type (:data:`OBS_TYPES`); an unknown one is upper case
    when it is an acronym of up to four letters (DDT), else capitalised word by word."""
    name = " ".join(_text(value).split())
    known = OBS_TYPES.get(name.upper())
    if known:
        return known
    return name.upper() if len(name) <= 4 else name.title()


def _flag(value) -> bool:
    s = _text(value).lower()
    if s in ("y", "yes", "true", "t", "1"):
        return True
    if s in ("n", "no", "false", "f", "0"):
        return False
    raise ValueError(f"archive flag {value!r} is not Y/N")


def normalise(values: list, columns: dict[str, int]) -> dict:
    """An integral.scw row from one file row (raises ValueError with the reason), complete
    once :func:`_convert_times` has converted its times with the rest of its batch."""
    def get(name):
        i = columns.get(name)
        if i is None or i >= len(values) or _blank(values[i]):
            return None
        return values[i]

    raw_id = get("scw_id")
    if raw_id is None:
        raise ValueError("scw_id is missing")
    scw_id = f"{int(raw_id):012d}" if isinstance(raw_id, (int, float)) else _text(raw_id)
    if not _SCW_ID.match(scw_id):
        raise ValueError(f"scw_id {scw_id!r} is not 12 digits RRRRPPPPSSSF")
    ver = get("scw_ver")
    scw_ver = "001" if ver is None else (f"{int(ver):03d}" if isinstance(ver, (int, float)) else _text(ver).zfill(3))
    if not re.fullmatch(r"\d{3}", scw_ver):
        raise ValueError(f"scw_ver {scw_ver!r} is not 3 digits")
    kind = get("scw_type")
    # without a type column, the id's last digit tells: 0 pointing, 1 slew, 2 other
    scw_type = _text(kind).lower() if kind is not None else {"1": "slew", "2": "other"}.get(scw_id[-1], "pointing")
    if scw_type not in SCW_TYPES:
        raise ValueError(f"scw_type {scw_type!r} is not pointing, slew, other or engineering")
    rev_id = int(scw_id[:4])
    rev = get("revolution")
    if rev is not None and int(_number(rev, "revolution")) != rev_id:
        raise ValueError(f"revolution {rev} does not match scw_id {scw_id}")

    ra, dec = get("ra"), get("dec")
    ra = None if ra is None else _angle(ra, True, "ra")
    dec = None if dec is None else _angle(dec, False, "dec")
    if ra is not None and not 0.0 <= ra <= 360.0:
        raise ValueError(f"ra {ra} is outside 0..360 deg")
    if dec is not None and not -90.0 <= dec <= 90.0:
        raise ValueError(f"dec {dec} is outside -90..90 deg")
    if (ra is None) != (dec is None):
        raise ValueError("ra and dec must be given together")

    # IJD first where the file has it: it is the archives' most precise time (ISDC's ISO
    # dates are cut to the second); MJD or ISO otherwise. Converted per batch, see _convert_times
    start = _IJD(_number(get("start_ijd"), "start_ijd")) if get("start_ijd") is not None else (
        None if get("start_time") is None else _time(get("start_time"), "start time"))
    end = _IJD(_number(get("end_ijd"), "end_ijd")) if get("end_ijd") is not None else (
        None if get("end_time") is None else _time(get("end_time"), "end time"))
    if start is None or end is None:
        raise ValueError("start and end times are required")

    row = {"scw_id": scw_id, "scw_ver": scw_ver, "scw_type": scw_type, "ra": ra, "dec": dec,
           "revolution": rev_id}
    for instrument in INSTRUMENT_NAMES:
        value = get("good_" + instrument)
        good = None if value is None else _number(value, "good_" + instrument)
        if good is not None and good < 0:
            raise ValueError(f"good_{instrument} {good} is negative")
        row["good_" + instrument] = good

    public = get("public_date")
    status = get("status")
    if status is not None:  # without one, _convert_times reads it from the public date
        status = _text(status).lower()
        if status not in ("public", "private"):
            raise ValueError(f"status {status!r} is not public or private")

    def angle_or_none(name, hours):
        value = get(name)
        return None if value is None else _angle(value, hours, name)

    archive = get("data_in_archive")
    lii, bii = (None, None) if ra is None else (float(v) for v in galactic(ra, dec))
    row.update({
        "status": status,
        "pointing": int(scw_id[4:8]), "subpointing": int(scw_id[8:11]),
        "ra_z": angle_or_none("ra_z", True), "dec_z": angle_or_none("dec_z", False),
        "posangle": angle_or_none("posangle", False),
        "start_time": start, "end_time": end,  # converted, with the columns they give, per batch
        **{k: (None if get(k) is None else _text(get(k))) for k in ("proposal_id", "target_name", "pi_name")},
        "obs_id": None if get("obs_id") is None else _identifier(get("obs_id"), 11),
        "exp_id": None if get("exp_id") is None else _identifier(get("exp_id"), 8),
        "obs_type": None if get("obs_type") is None else _obs_type(get("obs_type")),
        **{f"{i}_mode": None if get(f"{i}_mode") is None else _integer(get(f"{i}_mode"), f"{i}_mode")
           for i in ("spi", "ibis", "jemx1", "jemx2", "omc")},
        "obt_start": None if get("obt_start") is None else _integer(get("obt_start"), "obt_start"),
        "obt_end": None if get("obt_end") is None else _integer(get("obt_end"), "obt_end"),
        "data_size": None if get("data_size") is None else _integer(get("data_size"), "data_size"),
        "public_date": None if public is None else _time(public, "public_date"),
        # a private window without a group is seen by nobody until its public date
        "proprietary_group": None if get("proprietary_group") is None else _text(get("proprietary_group")),
        "data_in_archive": True if archive is None else _flag(archive),
        "lii": None if lii is None else round(lii, 6), "bii": None if bii is None else round(bii, 6),
    })
    if row["proposal_id"] is None and row["obs_id"] and len(row["obs_id"]) >= 7:
        row["proposal_id"] = row["obs_id"][:7]
    return row


class _BatchError(ValueError):
    """A bad time in row ``index`` of a batch."""

    def __init__(self, index: int, reason: str):
        self.index = index
        super().__init__(reason)


def _mjds(values: list, what: str, isdc: bool = False) -> np.ndarray:
    """MJDs (UTC) of a batch's times as :func:`_time` left them (NaN for None), one astropy
    call per kind of time; ``isdc``: ISO text is ISDC's (see integral.time.mjd_from_isdc_iso)."""
    ijd = [i for i, v in enumerate(values) if isinstance(v, _IJD)]
    other = [i for i, v in enumerate(values) if not isinstance(v, _IJD)]
    out = np.full(len(values), np.nan)
    if ijd:
        out[ijd] = itime.mjd_from_ijd([values[i].value for i in ijd])
    if other:
        try:
            texts = [values[i] for i in other]
            out[other] = itime.mjd_from_isdc_iso(texts) if isdc and all(isinstance(v, str) for v in texts) \
                else itime.mjd_from_any(texts)
        except itime.BadTime as err:
            raise _BatchError(other[err.index], f"{what} {err.value!r} is neither MJD nor ISO-8601") from None
    return out


def _convert_times(rows: list[dict], now_mjd: float, isdc: bool = False,
                   proprietary_days: float = PROPRIETARY_DAYS) -> None:
    """Convert the times of a batch of :func:`normalise`'d rows in place, all at once
    (astropy.time is fast on arrays, slow one value at a time): start_time/end_time to MJD
    (UTC), start_date/end_date (ISO, UTC), start_ijd/end_ijd (IJD, TT), the elapsed time (in
    TT, so a leap second counts), the public date (ISO, UTC, to the second), and the status of
    rows that had none; ``isdc``: the file's ISO dates are ISDC's. A private window whose file
    gives no public date becomes public ``proprietary_days`` after its end: without a date
    nobody outside its group (and the archives give none) would ever see it. Raises
    :class:`_BatchError`."""
    start = _mjds([r["start_time"] for r in rows], "start time", isdc)
    end = _mjds([r["end_time"] for r in rows], "end time", isdc)
    public = _mjds([r["public_date"] for r in rows], "public_date")
    undated = np.isnan(public) & np.array([r["status"] == "private" for r in rows], dtype=bool)
    public[undated] = end[undated] + proprietary_days
    for i, (a, b) in enumerate(zip(start.tolist(), end.tolist())):
        if not (40000.0 < a < 80000.0 and 40000.0 < b < 80000.0):
            raise _BatchError(i, f"times {a}..{b} are not plausible MJDs")
        if b < a:
            raise _BatchError(i, f"end time {b} is before start time {a}")
    ijd_start, ijd_end = itime.ijd_from_mjd(start), itime.ijd_from_mjd(end)
    date_start, date_end = itime.iso_from_mjd(start), itime.iso_from_mjd(end)
    public_date = itime.iso_from_mjd(public, precision=0)
    for i, row in enumerate(rows):
        row.update(start_time=float(start[i]), end_time=float(end[i]),
                   start_date=date_start[i], end_date=date_end[i],
                   start_ijd=float(ijd_start[i]), end_ijd=float(ijd_end[i]),
                   elapsed=round((ijd_end[i] - ijd_start[i]) * 86400.0, 3),
                   public_date=public_date[i])
        if row["status"] is None:
            row["status"] = "private" if public[i] > now_mjd else "public"


# -- the ingest -----------------------------------------------------------------------------
def ingest(engine: Engine, tableset: TableSet, paths: Iterable, progress: bool = True,
           batch: int = 5000, proprietary_days: float = PROPRIETARY_DAYS) -> dict:
    """Load the science windows of ``paths`` in one transaction; returns counts
    ``{"read": rows, "windows": distinct ids, "files": k, "demo_removed": n}`` (a demo
    catalogue is removed first). Raises :class:`IngestError` (and keeps nothing) on a bad
    file or row. A private window without a public date in its file becomes public
    ``proprietary_days`` after its end."""
    scw = tableset.get("integral.scw")
    columns = [c.name for c in scw.columns]
    now_mjd = itime.now_mjd()
    read, ids = 0, set()
    first_revolution, last_revolution = revolutions.mission()
    paths = [Path(p) for p in paths]
    with engine.begin() as conn:
        demo_removed = _remove_demo_catalogue(conn)
        writer = dialect_of(conn).upsert_writer(conn, "integral.scw", columns, "scw_id", "scw_ver",
                                                _upsert_tail(columns, conn.dialect.identifier_preparer.quote))
        for path in paths:
            if not path.is_file():
                raise IngestError(path, None, "no such file")
            names, rows, total = _read_table(path)
            found = column_map(names)
            if "scw_id" not in found:
                raise IngestError(path, None, "not a science-window table: it has no scw_id column "
                                              f"(looked for {', '.join(ALIASES['scw_id'])})")
            if "start_time" not in found and "start_ijd" not in found or \
                    "end_time" not in found and "end_ijd" not in found:
                raise IngestError(path, None, "not a science-window table: it has no start/end time "
                                              "columns (start_date/end_date, start_time/end_time, ijd_start/ijd_end)")
            bar = progress_bar(progress, total, path.name)
            # ISDC's table names the status "ps"; its ISO dates are IJD - 64.184 s, not UTC
            isdc = "ps" in (n.strip().lower() for n in names)

            def write(chunk: list[dict], first: int):
                try:
                    _convert_times(chunk, now_mjd, isdc, proprietary_days)
                except _BatchError as err:
                    bar.close()
                    raise IngestError(path, first + err.index, str(err)) from None
                writer.write(chunk)
                bar.update(len(chunk))

            chunk, number = [], 0
            for number, values in enumerate(_checked(path, rows), start=1):
                try:
                    row = normalise(values, found)
                except (ValueError, TypeError, OverflowError) as err:
                    bar.close()
                    raise IngestError(path, number, str(err)) from None
                if not first_revolution <= row["revolution"] <= last_revolution:
                    bar.close()
                    raise IngestError(path, number, f"scw_id {row['scw_id']} names revolution "
                                                    f"{row['revolution']}, outside the mission "
                                                    f"({first_revolution} to {last_revolution})")
                chunk.append(row)
                ids.add(row["scw_id"])
                if len(chunk) >= batch:
                    write(chunk, number - len(chunk) + 1)
                    chunk = []
            if chunk:
                write(chunk, number - len(chunk) + 1)
            bar.close()
            read += number
            writer.finish()  # per file: a window of the same version in two files is merged
        refresh_revolutions(conn)
        database.refresh_views(conn, tableset)
    return {"read": read, "windows": len(ids), "files": len(paths), "demo_removed": demo_removed}


#: the table whose presence says that integral.scw holds the demo catalogue only
DEMO_MARKER = "demo_catalogue"


def mark_demo(conn: Connection) -> None:
    """Record that integral.scw now holds only demo windows (:func:`tap_catalog.demo.load`
    with ``replace``)."""
    conn.execute(text(f"CREATE TABLE IF NOT EXISTS integral.{DEMO_MARKER} (note TEXT)"))


def forget_demo(conn: Connection) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS integral.{DEMO_MARKER}"))


def _remove_demo_catalogue(conn: Connection) -> int:
    """Empty integral.scw when it holds the demo catalogue, so that real windows never mix
    with invented ones (a demo window whose id a real one shares would otherwise lend it
    its position and times); returns the windows removed."""
    if not inspect(conn).has_table(DEMO_MARKER, schema="integral"):
        return 0
    removed = conn.execute(text("DELETE FROM integral.scw")).rowcount
    forget_demo(conn)
    return removed


def _read_table(path: Path):
    """:func:`read_rows`, with a file that is not a table (binary data named .csv, say)
    refused by name rather than by a decoder's exception."""
    try:
        return read_rows(path)
    except (UnicodeDecodeError, csv.Error) as err:
        raise IngestError(path, None, f"not a science-window table: cannot read it as text ({err})") from None


def _checked(path: Path, rows: Iterator[list]) -> Iterator[list]:
    """The rows of a text table, a line that cannot be decoded or parsed refused with the
    file's name and the line's number."""
    number = 0
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except (UnicodeDecodeError, csv.Error) as err:
            raise IngestError(path, number + 1, f"not a science-window table: cannot read it as text ({err})") from None
        number += 1
        yield values


def _upsert_tail(columns: list[str], quote) -> str:
    """The ON CONFLICT clause: a newer ``scw_ver`` replaces the row; the same version (the
    same window in another file, another archive or snapshot) completes it: columns the row
    lacks are taken, a window is public when either says so (the later snapshot: a release
    is never undone), of two public dates the later is kept, and of two PI names a mixed-case one (HEASARC's current spelling) is
    preferred to an upper-case one, else the greater (HEASARC's "DR." to ISDC's "DR"),
    whatever the order of the files. Other values both give are kept from the first; the
    archives agree on them within their precision (times within ISDC's second, OBTs within
    HEASARC's 15 digits)."""
    newer = "excluded.scw_ver > t.scw_ver"

    def merged(c):
        q = quote(c)
        if c == "status":
            same = f"CASE WHEN excluded.{q} = 'public' THEN excluded.{q} ELSE t.{q} END"
        elif c == "public_date":  # the later: no source's proprietary period is cut short
            same = f"CASE WHEN t.{q} IS NULL OR excluded.{q} > t.{q} THEN excluded.{q} ELSE t.{q} END"
        elif c == "pi_name":  # mixed case first, then the greater text: any order, one result
            old, new = f"t.{q}", f"excluded.{q}"
            same = (f"CASE WHEN {old} IS NULL THEN {new} WHEN {new} IS NULL THEN {old} "
                    f"WHEN {old} = UPPER({old}) AND {new} <> UPPER({new}) THEN {new} "
                    f"WHEN {old} <> UPPER({old}) AND {new} = UPPER({new}) THEN {old} "
                    f"WHEN {new} > {old} THEN {new} ELSE {old} END")
        else:
            same = f"COALESCE(t.{q}, excluded.{q})"
        return f"{q} = CASE WHEN {newer} THEN excluded.{q} ELSE {same} END"

    updates = ", ".join(merged(c) for c in columns if c != "scw_id")
    return f"ON CONFLICT (scw_id) DO UPDATE SET {updates} WHERE excluded.scw_ver >= t.scw_ver"


# -- integral.revolution ----------------------------------------------------------------------
def refresh_revolutions(conn: Connection, now: datetime | None = None) -> int:
    """Rewrite integral.revolution: every revolution of the mission, with its bounds, perigee
    and science time from :mod:`integral.revolutions` (the orbit tables; after them, the
    science windows; predicted where no window tells), and the counts and total good times of
    its windows.

    integral.revolution is public, so it is built only from the windows that everyone may see
    at ``now`` (public, or past their public date): its totals never tell how many private
    windows exist, and its bounds never tell when they were taken. A window that becomes
    public later counts from the next refresh (``hera catalog refresh``, or any ingest)."""
    when = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S")
    released = dialect_of(conn).time_not_after("public_date", ":now")
    goods = ", ".join(f"SUM(good_{i})" for i in INSTRUMENT_NAMES)
    found = conn.execute(text(
        "SELECT revolution, MIN(start_time), MAX(end_time), "
        "MIN(CASE WHEN pointing = 0 THEN start_time END), COUNT(*), "
        f"SUM(CASE WHEN scw_type = 'pointing' THEN 1 ELSE 0 END), {goods} "
        f"FROM integral.scw WHERE status <> 'private' OR {released} "
        "GROUP BY revolution"), {"now": when}).all()
    windows = {rev: revolutions.Span(first, last, opening is not None and opening <= first)
               for rev, first, last, opening, *_ in found}
    totals = {rev: (n, n_pointing, good) for rev, _, _, _, n, n_pointing, *good in found}
    rows = []
    for row in revolutions.build(windows).rows():
        n, n_pointing, good = totals.get(row["revolution"], (0, 0, [None] * len(INSTRUMENT_NAMES)))
        row.update({"n_scw": n, "n_pointing": n_pointing}, **{f"good_{i}": g for i, g in zip(INSTRUMENT_NAMES, good)})
        rows.append(row)
    names = list(rows[0])
    conn.execute(text("DELETE FROM integral.revolution"))
    conn.execute(text(f"INSERT INTO integral.revolution ({', '.join(names)}) "
                      f"VALUES ({', '.join(':' + c for c in names)})"), rows)
    return len(rows)
