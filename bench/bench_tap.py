"""Benchmark of the TAP service on both backends: latency through /tap/sync against the same
SQL run directly on the database, and the serialization rate against astropy.

For each backend (the embedded SQLite, and PostgreSQL with pgsphere in a database of its own
that is dropped at the end) the script loads ``--rows`` demo science windows with the bulk
loader (``tap_catalog.demo.load``), serves the application over HTTP in a subprocess
(werkzeug's threaded server, one process, TCP_NODELAY), and times, ``--repeat`` times each:

- a 5 deg cone around the Crab (RA 83.633, Dec 22.014), all columns, as an anonymous user
  and as a member of the group of a private window in the cone (both under the access rule:
  PostgreSQL's security-barrier view, SQLite's guarded columns), and, as the floor, the
  same cone in SQL on the bare table, as the database's owner would run it;
- a time range with TOP 1000;
- a GROUP BY revolution count;
- a 100,000-row result in VOTable BINARY2.

"TAP" is a GET of /tap/sync read to its last byte (parse, translation, execution, VOTable
rendering and HTTP); "raw" is the translated SQL (after its settings, on PostgreSQL) executed
on the same database from this
process with the DBAPI cursor, every row fetched. The serialization rate renders the
100,000 rows (fetched first) with Hera's BINARY2 renderer, and with astropy (a Table built
from the rows, ``votable.from_table`` + ``to_xml`` in BINARY2), each in a child process of
its own that reports the memory it added (ru_maxrss). The server's peak resident memory
(VmHWM) is read from /proc after the 100,000-row queries.

Usage: ``python bench/bench_tap.py [--rows 300000] [--repeat 20] [--backends sqlite,postgresql]``
(PostgreSQL at ``HERA_BENCH_POSTGRES_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from tap_catalog import adql, database, demo, formats  # noqa: E402
from tap_catalog.dialects import dialect_of  # noqa: E402
from tap_catalog.tableset import TableSet  # noqa: E402

POSTGRES = os.environ.get("HERA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BIG = 100_000
QUERIES = [
    ("cone 5° Crab", "SELECT * FROM integral.scw WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), "
                     "CIRCLE('ICRS', 83.633, 22.014, 5))", True),
    ("time range TOP 1000", "SELECT TOP 1000 scw_id, scw_type, ra, dec, start_time, end_time, good_isgri "
                            "FROM integral.scw WHERE start_time BETWEEN 55000 AND 55400 ORDER BY start_time",
     True),
    ("GROUP BY revolution", "SELECT revolution, COUNT(*) AS n FROM integral.scw GROUP BY revolution", True),
    (f"{BIG:,} rows BINARY2", f"SELECT TOP {BIG} * FROM integral.scw", False),
]

# werkzeug's threaded server; TCP_NODELAY as production servers set it (without it, the
# streamed response's small last chunk waits ~40 ms for the client's delayed ACK)
SERVE = """
import socket
from werkzeug.serving import WSGIRequestHandler, make_server
from vo_service import create_app

class Handler(WSGIRequestHandler):
    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_request(self, *args):
        pass

app = create_app()
server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Handler)
print(server.server_port, flush=True)
server.serve_forever()
"""


# -- the databases ---------------------------------------------------------------------------
class Backend:
    def __init__(self, name: str, workdir: Path):
        self.name, self.workdir = name, workdir
        if name == "sqlite":
            self.url = f"sqlite:///{workdir / 'hera.sqlite'}"
        else:
            self.dbname = f"hera_bench_{uuid.uuid4().hex[:8]}"
            with create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.dbname}"'))
            self.url = POSTGRES.rsplit("/", 1)[0] + "/" + self.dbname
        self.env = {**os.environ, "HERA_DATA_DIR": str(workdir / "data"), "HERA_DATABASE_URL": self.url,
                    "PYTHONPATH": str(REPO)}
        self.env.pop("HERA_REDIS_URL", None)

    def drop(self):
        if self.name == "postgresql":
            with create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)'))


def load(backend: Backend, rows: int) -> tuple[float, str, str]:
    """Load the windows; returns the seconds, and the token and group of a user who is a
    member of the group of a private window in the Crab cone."""
    from accounts import users
    from vo_service import create_app
    from vo_service.app import init_database
    app = create_app({"HERA_DATA_DIR": str(backend.workdir / "data"), "HERA_DATABASE_URL": backend.url})
    init_database(app)
    engine, tableset = app.extensions["hera"].engine, app.extensions["hera"].tableset
    t0 = time.perf_counter()
    demo.load(engine, tableset, demo.generate(rows, seed=1), replace=True)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    seconds = time.perf_counter() - t0
    with engine.connect() as conn:
        group = conn.execute(text(
            "SELECT proprietary_group FROM integral.scw WHERE status = 'private' ORDER BY "
            "CASE WHEN ra BETWEEN 78 AND 89 AND dec BETWEEN 17 AND 27 THEN 0 ELSE 1 END, scw_id "
            "LIMIT 1")).scalar()
    token = users.add_user(engine, "member", [group] if group else [])
    engine.dispose()
    return seconds, token, group


# -- timing ------------------------------------------------------------------------------------
def stats(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def time_tap(session, base: str, query: str, repeat: int, headers=None) -> tuple[list[float], int]:
    params = {"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": query, "FORMAT": "votable/b2",
              "MAXREC": str(BIG + 1000)}
    times, size = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = session.get(f"{base}/tap/sync", params=params, headers=headers)
        body = r.content
        times.append(time.perf_counter() - t0)
        if r.status_code != 200 or b'value="ERROR"' in body[-2000:]:
            raise SystemExit(f"TAP query failed ({r.status_code}): {body[-800:]!r}")
        size = len(body)
    return times, size


def time_raw(engine, tr: adql.Translation, repeat: int) -> tuple[list[float], int]:
    times, n = [], 0
    raw = engine.raw_connection()
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            cur = raw.cursor()
            for statement in tr.setup:
                cur.execute(statement)
            cur.execute(tr.sql)
            n = len(cur.fetchall())
            cur.close()
            times.append(time.perf_counter() - t0)
            raw.rollback()
    finally:
        raw.close()
    return times, n


def time_parts(engine, tableset, query: str, repeat: int) -> tuple[float, float, float]:
    """Medians (s) of parsing, translating, and rendering the fetched rows as BINARY2:
    where the TAP time goes, besides the database and HTTP."""
    parse, translate, render = [], [], []
    raw = engine.raw_connection()
    renderer = formats.lookup("votable/b2")
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            tree = adql.parse(query)
            t1 = time.perf_counter()
            tr = adql.translate(tree, tableset, dialect_of(engine), maxrec=BIG + 1001)
            t2 = time.perf_counter()
            cur = raw.cursor()
            for statement in tr.setup:
                cur.execute(statement)
            cur.execute(tr.sql)
            rows = cur.fetchall()
            cur.close()
            raw.rollback()
            t3 = time.perf_counter()
            for _chunk in formats.render(renderer, tr.columns, iter(rows), maxrec=BIG + 1000):
                pass
            t4 = time.perf_counter()
            parse.append(t1 - t0)
            translate.append(t2 - t1)
            render.append(t4 - t3)
    finally:
        raw.close()
    return statistics.median(parse), statistics.median(translate), statistics.median(render)


def _owner_cone_sql(dialect: str) -> str:
    """The Crab cone as the database's owner writes it on the bare table, with no access
    rule: what the spatial index alone costs."""
    if dialect == "postgresql":
        return ("SELECT * FROM integral.scw WHERE spoint(radians(ra), radians(dec)) @ "
                "scircle(spoint(radians(83.633), radians(22.014)), radians(5))")
    from tap_catalog.adql import sphere
    box = sphere.cap_bbox(83.633, 22.014, 5)
    names = ("xmin", "xmax", "ymin", "ymax", "zmin", "zmax")
    tests = " AND ".join(f"{names[2 * a + 1]} >= {box[2 * a]!r} AND {names[2 * a]} <= {box[2 * a + 1]!r}"
                         for a in range(3))
    return (f"SELECT * FROM integral.scw WHERE rowid IN (SELECT id FROM integral.scw_sky WHERE {tests}) "
            "AND adql_distance(ra, dec, 83.633, 22.014) <= 5")


def vm_hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def plan(engine, sql: str) -> str:
    with engine.connect() as conn:
        prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        rows = conn.execute(text(prefix + sql)).fetchall()
    return "\n".join("    " + str(r[-1] if engine.dialect.name == "sqlite" else r[0]) for r in rows)


# -- serialization, in a child process each ------------------------------------------------------
def serialize_child(kind: str, url: str) -> dict:
    import io
    tableset = TableSet.load()
    engine = database.make_engine(url)
    tr = adql.translate(QUERIES[-1][1], tableset, dialect_of(engine))
    raw = engine.raw_connection()
    cur = raw.cursor()
    for statement in tr.setup:
        cur.execute(statement)
    cur.execute(tr.sql)
    rows = cur.fetchall()
    raw.close()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = 0
    t0 = time.perf_counter()
    if kind == "astropy":
        from astropy.io.votable import from_table
        from astropy.table import MaskedColumn, Table

        class Sink(io.RawIOBase):
            def writable(self):
                return True

            def write(self, b):
                nonlocal size
                size += len(b)
                return len(b)

        columns = []
        for i, c in enumerate(tr.columns):
            values = [r[i] for r in rows]
            mask = [v is None for v in values]
            if c.datatype in ("char", "unicodeChar"):
                data = ["" if v is None else str(v) for v in values]
            elif c.datatype == "boolean":
                data = [bool(v) for v in values]
            else:
                data = [0 if v is None else v for v in values]
            columns.append(MaskedColumn(data, name=c.name, mask=mask, unit=c.unit))
        votable = from_table(Table(columns))
        votable.get_first_table().format = "binary2"
        votable.to_xml(Sink())
    else:
        renderer = formats.lookup("votable/b2")
        for chunk in formats.render(renderer, tr.columns, iter(rows), maxrec=len(rows)):
            size += len(chunk)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": len(rows), "seconds": seconds, "bytes": size, "peak_mib": (after - before) / 1024}


def serialize(kind: str, url: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, url], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


# -- the run ------------------------------------------------------------------------------------
def bench(name: str, rows: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hera-bench-tap-") as tmp:
        backend = Backend(name, Path(tmp))
        try:
            seconds, token, group = load(backend, rows)
            print(f"\n== {name}: {rows:,} science windows loaded in {seconds:.1f} s "
                  f"({rows / seconds:,.0f} rows/s, with indexes, views and ANALYZE)")
            engine = database.make_engine(backend.url)
            tableset = TableSet.load()
            server = subprocess.Popen([sys.executable, "-c", SERVE], env=backend.env, cwd=REPO,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            try:
                base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
                session = requests.Session()
                session.get(f"{base}/tap/availability").raise_for_status()
                rss_before = vm_hwm_mib(server.pid)
                floor = []
                for _ in range(repeat + 1):
                    t0 = time.perf_counter()
                    session.get(f"{base}/tap").raise_for_status()
                    floor.append(time.perf_counter() - t0)
                print(f"HTTP floor (GET /tap, a static page): median {stats(floor[1:])[0] * 1e3:.1f} ms")
                print(f"{'query':<24}{'rows':>8}{'TAP median':>12}{'p95':>9}{'raw median':>12}{'p95':>9}"
                      f"{'TAP/raw':>9}   of which parse / translate / render")
                member = {"Authorization": f"Bearer {token}"}
                runs = [(label, query, selective, None, None) for label, query, selective in QUERIES]
                runs.insert(1, ("cone, group member", QUERIES[0][1], True, member,
                                frozenset([group] if group else [])))
                for label, query, selective, headers, groups in runs:
                    tr = adql.translate(query, tableset, dialect_of(engine), user_groups=groups)
                    n_repeat = repeat if selective else max(3, repeat // 4)
                    time_tap(session, base, query, 1, headers)  # warm both caches
                    time_raw(engine, tr, 1)
                    tap, _ = time_tap(session, base, query, n_repeat, headers)
                    raw, n = time_raw(engine, tr, n_repeat)
                    (tm, tp), (rm, rp) = stats(tap), stats(raw)
                    parse, translate, render = time_parts(engine, tableset, query, n_repeat)
                    print(f"{label:<24}{n:>8,}{tm * 1e3:>10.1f}ms{tp * 1e3:>7.1f}ms{rm * 1e3:>10.1f}ms"
                          f"{rp * 1e3:>7.1f}ms{tm / rm:>8.2f}×   {parse * 1e3:.1f} / {translate * 1e3:.1f}"
                          f" / {render * 1e3:.1f} ms")
                owner = _owner_cone_sql(engine.dialect.name)
                floor_times, n = time_raw(engine, adql.Translation(owner, []), repeat)
                print(f"{'cone, owner, bare table':<24}{n:>8,}{'':>21}{stats(floor_times)[0] * 1e3:>10.1f}ms"
                      f"{stats(floor_times)[1] * 1e3:>7.1f}ms   (no access rule: the database's floor)")
                print(f"server peak resident memory: {vm_hwm_mib(server.pid):.0f} MiB "
                      f"(after start-up and the first query: {rss_before:.0f} MiB)")
            finally:
                server.terminate()
                server.wait(timeout=10)
            hera = serialize("hera", backend.url)
            astro = serialize("astropy", backend.url)
            print(f"{'serialization BINARY2':<24}{'rows/s':>12}{'peak +MiB':>11}{'MB':>8}")
            for label, r in (("Hera", hera), ("astropy (baseline)", astro)):
                print(f"{label:<24}{r['rows'] / r['seconds']:>12,.0f}{r['peak_mib']:>11.1f}"
                      f"{r['bytes'] / 1e6:>8.1f}")
            print(f"Hera / astropy: {astro['seconds'] / hera['seconds']:.1f}×")
            print("cone search plan:\n" + plan(engine, adql.translate(QUERIES[0][1], tableset,
                                                                      dialect_of(engine)).sql))
            engine.dispose()
        finally:
            backend.drop()


def main() -> None:
    # a terminated run still stops its server and drops its database (the finally blocks)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"bench_tap: {args.rows:,} rows, {args.repeat} repetitions, {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for name in args.backends.split(","):
        bench(name.strip(), args.rows, args.repeat)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(serialize_child(sys.argv[2], sys.argv[3])))
    else:
        main()
