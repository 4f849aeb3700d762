"""A TAP query: its parameters (TAP 1.1 and DALI 1.1), its uploaded tables, its
translation to SQL, and its result streamed from a database cursor through a renderer.

The user's text reaches the database only as SQL generated from the parsed ADQL tree;
uploaded rows reach it only as bound parameters of an INSERT into a table of the
request's own connection (an in-memory database attached as ``tap_upload`` on SQLite, a
temporary table on PostgreSQL), gone when the request ends.
"""
from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterator, Mapping

from sqlalchemy.engine import Engine

from fetching import FetchError, FetchPolicy, download

from . import adql, formats
from .adql.errors import ADQLLimitError
from .adql.limits import ParseLimits
from .dialects import Dialect, dialect_of, sqlite_functions
from .dialects.base import UPLOAD_SCHEMA
from .tableset import Column, Table, TableSet

#: LANG values and the ADQL version each names
LANGUAGES = {"ADQL": "2.1", "ADQL-2.0": "2.0", "ADQL-2.1": "2.1"}
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
log = logging.getLogger(__name__)


class TapError(Exception):
    """A query the service refuses or cannot answer; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Limits:
    """The service's TAP limits (TAPRegExt outputLimit, uploadLimit, sync time limit)."""

    maxrec_default: int = 100_000
    maxrec_hard: int = 10_000_000
    sync_timeout: float = 60.0
    upload_hard: int = 16 * 1024 * 1024
    #: where UPLOAD by URL may fetch from (the service's one fetch policy)
    upload_fetch: FetchPolicy = FetchPolicy()
    #: the longest and most deeply nested ADQL query parsed
    adql: ParseLimits = ParseLimits()


@dataclass
class TapRequest:
    query: str
    lang: str
    renderer: formats.Renderer
    maxrec: int
    runid: str | None = None
    #: (table name, source): source is "param:NAME" (inline) or an http(s) URL
    uploads: list[tuple[str, str]] = field(default_factory=list)
    parse_limits: ParseLimits = ParseLimits()


@dataclass
class UploadedTable:
    """A client's table, declared as ``TAP_UPLOAD.name``, with its rows."""

    name: str
    columns: list[Column]
    rows: list[tuple]


def _get(params: Mapping[str, str], name: str) -> str | None:
    """A parameter by name in any letter case (DALI 1.1 §3)."""
    for key, value in params.items():
        if key.lower() == name:
            return value
    return None


def parse_parameters(params: Mapping[str, str], limits: Limits) -> TapRequest:
    """The TAP request that ``params`` describe, or a TapError saying what is wrong."""
    request = _get(params, "request")
    if request is not None and request.strip().lower() != "doquery":
        raise TapError(f"REQUEST must be doQuery, not {request!r}")
    lang = _get(params, "lang")
    if lang is None or not lang.strip():
        raise TapError("LANG is missing: use LANG=ADQL")
    if lang.strip().upper() not in LANGUAGES:
        raise TapError(f"unsupported LANG {lang!r}; this service speaks {', '.join(LANGUAGES)}")
    query = _get(params, "query")
    if query is None or not query.strip():
        raise TapError("QUERY is missing")
    fmt = _get(params, "responseformat") or _get(params, "format")
    try:
        renderer = formats.lookup(fmt)
    except formats.UnsupportedFormat as err:
        raise TapError(str(err))
    return TapRequest(query=query, lang=lang.strip().upper(), renderer=renderer,
                      maxrec=_maxrec(_get(params, "maxrec"), limits), runid=_get(params, "runid"),
                      uploads=parse_upload(_get(params, "upload")), parse_limits=limits.adql)


def _maxrec(value: str | None, limits: Limits) -> int:
    if value is None or value.strip() == "":
        return limits.maxrec_default
    try:
        maxrec = int(value)
    except ValueError:
        raise TapError(f"MAXREC must be a non-negative integer, not {value!r}") from None
    if maxrec < 0:
        raise TapError(f"MAXREC must be a non-negative integer, not {maxrec}")
    return min(maxrec, limits.maxrec_hard)


def parse_upload(value: str | None) -> list[tuple[str, str]]:
    """``UPLOAD=name,source;name2,source2`` (TAP 1.1 §4.5.1)."""
    if not value:
        return []
    uploads = []
    for item in value.split(";"):
        if not item.strip():
            continue
        name, sep, source = item.strip().partition(",")
        name, source = name.strip(), source.strip()
        if not sep or not name or not source:
            raise TapError(f"UPLOAD must be 'name,URL' or 'name,param:field', not {item!r}")
        if not _IDENTIFIER.match(name):
            raise TapError(f"upload table name {name!r} must be an ADQL regular identifier "
                           "(a letter, then letters, digits or '_')")
        if name.lower() in (n.lower() for n, _ in uploads):
            raise TapError(f"upload table name {name!r} is given twice")
        if not (source.startswith("param:") or source.startswith(("http://", "https://"))):
            raise TapError(f"UPLOAD source {source!r} must be an http(s) URL or param:NAME")
        uploads.append((name, source))
    return uploads


# -- uploads ----------------------------------------------------------------------------------
def _fetch(url: str, limits: Limits) -> BinaryIO:
    """The table at ``url``, read under the fetch policy (no internal host, each redirect
    checked) and the upload size limit."""
    try:
        with download(url, limits.upload_fetch, max_bytes=limits.upload_hard) as fetched:
            return io.BytesIO(fetched.read())
    except FetchError as err:
        # a URL that cannot be read is the client's error (400); a refused one says why (403, 413)
        raise TapError(f"upload {url}: {err.message}", 400 if err.status == 502 else err.status) from None


def read_uploads(request: TapRequest, inline: Callable[[str], BinaryIO | None],
                 limits: Limits) -> list[UploadedTable]:
    """The request's uploaded tables; ``inline(name)`` opens the multipart part ``name``
    (None when the request has none of that name)."""
    tables = []
    for name, source in request.uploads:
        if source.startswith("param:"):
            part = source[len("param:"):]
            fileobj = inline(part)
            if fileobj is None:
                raise TapError(f"UPLOAD {name} names the inline part {part!r}, but the request "
                               "has no such multipart file")
        else:
            fileobj = _fetch(source, limits)
        try:
            columns, rows = formats.read_upload(fileobj, limits.upload_hard)
        except formats.UploadError as err:
            raise TapError(f"UPLOAD {name}: {err}", 413 if "larger than" in str(err) else 400) from None
        finally:
            fileobj.close()
        tables.append(UploadedTable(name, _upload_columns(name, columns), rows))
    return tables


def _upload_columns(table: str, columns: list[Column]) -> list[Column]:
    """The uploaded table's columns as stored: arrays other than strings are kept as their
    DALI text (numbers separated by spaces), so every column is a scalar SQL column."""
    seen, out = set(), []
    for c in columns:
        if not c.name:
            raise TapError(f"UPLOAD {table}: a FIELD has no name")
        if c.name.lower() in seen:
            raise TapError(f"UPLOAD {table}: column name {c.name!r} is given twice")
        seen.add(c.name.lower())
        if c.arraysize is not None and c.datatype not in ("char", "unicodeChar"):
            c = Column(name=c.name, datatype="char", arraysize="*", unit=c.unit, ucd=c.ucd,
                       utype=c.utype, description=c.description)
        out.append(c)
    return out


def _scalar(value, column: Column):
    if isinstance(value, tuple) and column.datatype == "char":
        return " ".join(repr(v) if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def upload_tableset(tableset: TableSet, uploads: list[UploadedTable], dialect: Dialect) -> TableSet:
    """``tableset`` with the uploaded tables as ``TAP_UPLOAD.name``."""
    if not uploads:
        return tableset
    return tableset.with_tables([
        Table(name=f"{UPLOAD_SCHEMA}.{u.name}", columns=u.columns,
              description="a table uploaded with this query",
              sql_name=dialect.upload_sql_name(u.name))
        for u in uploads])


def _upload_type(column: Column, dialect: Dialect) -> str:
    return "TEXT" if column.datatype in ("char", "unicodeChar") else dialect.column_type(column)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- translation and execution -----------------------------------------------------------------
def translate(request: TapRequest, tableset: TableSet, dialect: Dialect,
              user_groups: frozenset[str] | None = None) -> adql.Translation:
    """The SQL of the request's query, or a TapError saying what is wrong where."""
    try:
        tree = adql.parse(request.query, limits=request.parse_limits)
        return adql.translate(tree, tableset, dialect, maxrec=request.maxrec + 1,
                              user_groups=user_groups)
    except adql.ADQLSyntaxError as err:
        raise TapError(f"ADQL syntax error: {err}") from None
    except adql.ADQLSemanticError as err:
        raise TapError(f"ADQL error: {err}") from None
    except ADQLLimitError as err:
        raise TapError(str(err)) from None
    except RecursionError:  # within the depth limit, but deeper than the translator's stack
        raise TapError(f"query nested too deeply for this service to translate (its limit, "
                       f"{request.parse_limits.max_depth} levels, is set higher than its "
                       "stack allows)") from None


def _is_timeout(err: Exception) -> bool:
    text = str(err).lower()
    return "interrupted" in text or "statement timeout" in text or "canceling statement" in text


#: SQLSTATE classes of PostgreSQL errors that the user's query causes: data exceptions
#: (a failed cast, a square root of a negative number, a division by zero) and a
#: statement too complex to plan
_USER_SQLSTATES = ("22", "54")
#: the same errors as SQLite words them
_SQLITE_USER_ERRORS = ("user-defined function raised exception", "integer overflow",
                       "expression tree is too large", "parser stack overflow", "too many",
                       "tables in a join", "too big", "too complex")


def database_error(err: Exception, timeout: float | None) -> TapError:
    """The TapError for an error the database raised while running a query.

    Errors that the query's own expressions cause are the user's (400), with the
    database's message: the rows it names are rows the user may see, since the
    access rules hide the others before any expression is evaluated
    (:mod:`tap_catalog.row_access`). Anything else is the service's (500), and its
    text, which might name internal objects, is not shown.
    """
    if timeout and _is_timeout(err):
        return QueryTimeout(timeout)
    sqlstate = getattr(err, "sqlstate", None)
    if sqlstate and sqlstate.startswith(_USER_SQLSTATES):
        diag = getattr(err, "diag", None)
        message = (diag.message_primary if diag is not None else None) or str(err).splitlines()[0]
        return TapError(f"the query cannot be evaluated: {message}")
    text = str(err)
    if sqlstate is None and any(s in text.lower() for s in _SQLITE_USER_ERRORS):
        failure = sqlite_functions.last_failure() if "user-defined" in text else None
        return TapError(f"the query cannot be evaluated: {failure or text}")
    log.error("the database failed on a query: %s", text)
    return TapError("the database could not run the query (the service's fault; it is logged)", 500)


class QueryTimeout(TapError):
    def __init__(self, seconds: float):
        super().__init__(f"the query ran longer than the limit of {seconds:g} s; run it as an "
                         "asynchronous job (/tap/async) or make it more selective", 408)


class _Session:
    """The request's own database connection: uploads loaded, the time limit set, and
    everything undone at :meth:`close` (uploaded tables dropped, the limit lifted).

    What differs between databases is asked of the dialect (its "query session" part)."""

    def __init__(self, engine: Engine, dialect: Dialect, uploads: list[UploadedTable],
                 timeout: float | None):
        self.dialect = dialect
        self.timeout = timeout
        self.uploads = uploads
        self.raw = engine.raw_connection()
        self.cursor = None
        try:
            self.dialect.begin_session(self.raw)
            self._load_uploads()
            if self.timeout:
                self.dialect.set_deadline(self.raw, self.timeout)
        except Exception:
            self.close()
            raise

    def _load_uploads(self) -> None:
        """Create the uploaded tables on the request's connection and fill them."""
        if not self.uploads:
            return
        cur = self.raw.cursor()
        self.dialect.prepare_uploads(cur)
        for u in self.uploads:
            columns = ", ".join(f'{_quote(c.name)} {_upload_type(c, self.dialect)}' for c in u.columns)
            target = self.dialect.create_upload(cur, u.name, columns)
            if u.rows:
                markers = ", ".join([self.dialect.marker] * len(u.columns))
                cur.executemany(f"INSERT INTO {target} VALUES ({markers})",
                                [tuple(_scalar(v, c) for v, c in zip(row, u.columns)) for row in u.rows])
        cur.close()

    def run(self, translation: adql.Translation):
        if translation.setup:
            with self.raw.cursor() as cur:
                for statement in translation.setup:
                    cur.execute(statement)
        self.cursor = self.dialect.open_cursor(self.raw)
        self.cursor.execute(translation.sql)
        return self.cursor

    def close(self):
        try:
            if self.cursor is not None:
                self.cursor.close()
            self.raw.rollback()  # PostgreSQL: drops the temporary tables, resets the limit
            self.dialect.end_session(self.raw, bool(self.uploads))
        except Exception:
            self.raw.invalidate()  # never hand a connection in an unknown state back to the pool
        finally:
            self.raw.close()


def execute(engine: Engine, tableset: TableSet, request: TapRequest, *,
            uploads: list[UploadedTable] = (), user_groups: frozenset[str] | None = None,
            timeout: float | None = None) -> Iterator[bytes]:
    """Run ``request`` and return its result as byte chunks.

    Translation and the statement's execution happen before this returns, so that their
    errors reach the caller as TapError (an error document with a proper status); rows
    are then fetched while the renderer writes them, and memory stays flat. A failure
    while rows stream (the time limit, an expression that fails on row 90,000) ends a
    VOTable with QUERY_STATUS ERROR after the rows sent (DALI 1.1), then raises the
    TapError, for the caller that still has a status to set (an async job)."""
    dialect = dialect_of(engine)
    uploads = list(uploads)
    translation = translate(request, upload_tableset(tableset, uploads, dialect), dialect, user_groups)
    session = _Session(engine, dialect, uploads, timeout)
    try:
        cursor = session.run(translation)
        first = cursor.fetchmany(1)
    except Exception as err:
        session.close()
        raise database_error(err, timeout) from None

    def rows():
        yield from first
        try:
            yield from cursor
        except Exception as err:
            raise database_error(err, timeout) from None

    def stream():
        try:
            yield from formats.render(request.renderer, translation.columns, rows(),
                                      maxrec=request.maxrec, infos=_infos(request))
        finally:
            session.close()

    return stream()


def _infos(request: TapRequest) -> list[tuple]:
    infos = [("QUERY", request.query, None), ("LANG", request.lang, None)]
    if request.runid is not None:
        infos.append(("RUNID", request.runid, None))
    return infos
