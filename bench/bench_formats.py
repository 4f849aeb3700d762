"""Benchmark of the result renderers against astropy's VOTable writer.

For 100,000 and 1,000,000 rows of a 15-column science-window-like table (numbers and
short strings), each measurement runs in its own subprocess and reports rows/s and the
peak memory it added (ru_maxrss after minus before). Rows come from a generator that
cycles over a pool of 1,000 distinct rows, so producing them costs almost nothing and
holds no memory. The baseline builds an astropy Table from the same rows and writes
it as a BINARY2 VOTable (``votable.from_table`` + ``to_xml``), as a service using
astropy would. Usage: ``python bench/bench_formats.py [nrows ...]``.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from itertools import cycle, islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tap_catalog.tableset import Column  # noqa: E402

COLUMNS = [
    Column("scw_id", "char", "12", ucd="meta.id;obs"),
    Column("scw_ver", "char", "3"),
    Column("revol", "int"),
    Column("scw_type", "char", "*"),
    Column("ra_x", "double", unit="deg", ucd="pos.eq.ra"),
    Column("dec_x", "double", unit="deg", ucd="pos.eq.dec"),
    Column("posangle", "double", unit="deg"),
    Column("start_ijd", "double", unit="d"),
    Column("end_ijd", "double", unit="d"),
    Column("telapse", "float", unit="s"),
    Column("ontime", "float", unit="s"),
    Column("obs_id", "char", "*"),
    Column("good_isgri", "long"),
    Column("public", "boolean"),
    Column("object", "char", "*"),
]
_NUMPY = {"char": "S", "int": "i4", "long": "i8", "double": "f8", "float": "f4", "boolean": "?"}
TARGETS = ["Crab", "Cyg X-1", "GRS 1915+105", "Vela X-1", "Galactic Centre", "4U 1700-377"]


def pool(n: int = 1000) -> list[tuple]:
    rows = []
    for i in range(n):
        revol = 100 + i // 50
        start = 1200.0 + i * 0.0412
        rows.append((
            f"{revol:04d}{i % 100:04d}0010", "001", revol, "POINTING" if i % 7 else "SLEW",
            (i * 7.31) % 360.0, -60.0 + (i * 3.17) % 120.0, (i * 1.3) % 360.0,
            start, start + 0.0347, 3000.0 + i % 500, 2800.5 + i % 400,
            f"0{revol:03d}00{i % 90:02d}", 1000 + i * 3, bool(i % 2), TARGETS[i % len(TARGETS)],
        ))
    return rows


def rows(n: int):
    return islice(cycle(pool()), n)


def measure(kind: str, n: int) -> dict:
    """Run in the child: render ``n`` rows with ``kind``; return rows/s and memory added."""
    import io

    from astropy.io.votable import from_table
    from astropy.table import Table

    from tap_catalog import formats
    pool()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = 0
    t0 = time.perf_counter()
    if kind == "astropy":
        class Sink(io.RawIOBase):
            def writable(self):
                return True

            def write(self, b):
                nonlocal size
                size += len(b)
                return len(b)
        dtype = [_NUMPY[c.datatype] for c in COLUMNS]
        table = Table(rows=list(rows(n)), names=[c.name for c in COLUMNS], dtype=dtype)
        votable = from_table(table)
        votable.get_first_table().format = "binary2"
        votable.to_xml(Sink())
    else:
        renderer = formats.lookup(kind)
        for chunk in formats.render(renderer, COLUMNS, rows(n), maxrec=n):
            size += len(chunk)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"kind": kind, "rows": n, "seconds": seconds, "rows_per_s": n / seconds,
            "bytes": size, "peak_mib": (after - before) / 1024}


def run(kind: str, n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(n)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main(sizes: list[int]) -> None:
    kinds = [("votable/b2", "BINARY2"), ("votable/b", "BINARY"), ("votable/td", "TABLEDATA"),
             ("csv", "CSV")]
    print(f"{'format':<26}{'rows':>10}{'rows/s':>12}{'peak +MiB':>11}{'MB out':>9}"
          f"{'vs astropy':>12}")
    for n in sizes:
        base = run("astropy", n)
        for kind, label in kinds:
            r = run(kind, n)
            ratio = r["rows_per_s"] / base["rows_per_s"]
            print(f"{'Hera ' + label:<26}{n:>10,}{r['rows_per_s']:>12,.0f}{r['peak_mib']:>11.1f}"
                  f"{r['bytes'] / 1e6:>9.1f}{ratio:>11.1f}×")
        print(f"{'astropy BINARY2 (baseline)':<26}{n:>10,}{base['rows_per_s']:>12,.0f}"
              f"{base['peak_mib']:>11.1f}{base['bytes'] / 1e6:>9.1f}{1:>11.1f}×")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]))))
    else:
        main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
