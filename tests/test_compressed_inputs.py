"""Compressed input files: read like plain ones, and refused with a message naming
HERA_FITS_DECOMPRESSED_MAX once they decompress to more than it (gzip bombs built here,
with the limit set low), in the tools' Python code and in a tool job on a real worker."""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from lxml import etree

from conftest import wait_for
from tools_registry import compressed
from tools_registry.ftools.fstatistic import fstatistic
from tools_registry.ftools.ftlist import ftlist
from tools_registry.scw.coverage import scw_coverage
from tools_registry.scw.lcurve import lcurve

UWS = {"uws": "http://www.ivoa.net/xml/UWS/v1.0"}
LIMIT = 200_000


def rate_fits(n: int = 100) -> bytes:
    out = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns(
        [fits.Column("TIME", "D", unit="s", array=np.arange(n) * 10.0),
         fits.Column("RATE", "E", array=np.arange(n, dtype=np.float32))], name="RATE")]).writeto(out)
    return out.getvalue()


def bomb(zeros: int) -> bytes:
    """A gzip file: a valid FITS table header announcing ``zeros`` bytes of rows, then the
    zeros, compressed about a thousandfold; written in pieces, never held whole."""
    header = fits.BinTableHDU.from_columns([fits.Column("RATE", "E", array=np.zeros(1, np.float32))],
                                           name="RATE").header
    header["NAXIS2"] = zeros // 4
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb") as gz:
        gz.write(fits.PrimaryHDU().header.tostring().encode() + header.tostring().encode())
        piece = bytes(1 << 20)
        for _ in range(zeros >> 20):
            gz.write(piece)
    return out.getvalue()


COMPRESSORS = {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress}


def zipped(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("rate.fits", data)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "xz", "zip"])
def test_compressed_fits_files_are_read_like_plain_ones(tmp_path, kind):
    path = tmp_path / f"rate.fits.{kind}"
    path.write_bytes(zipped(rate_fits()) if kind == "zip" else COMPRESSORS[kind](rate_fits()))
    assert compressed.compression_of(path) == kind
    with compressed.open_fits(path, limit=LIMIT) as hdulist:
        np.testing.assert_array_equal(hdulist["RATE"].data["RATE"], np.arange(100, dtype=np.float32))
    stats = fstatistic(str(path) + "[RATE]", "RATE", str(tmp_path / "stats.txt"))
    assert stats["sum"] == sum(range(100))


def test_a_gzip_bomb_is_refused_before_it_fills_memory_or_disk(tmp_path):
    path = tmp_path / "bomb.fits.gz"
    path.write_bytes(bomb(8 << 20))
    assert path.stat().st_size < 100_000
    with pytest.raises(compressed.TooLarge, match=f"more than {LIMIT} bytes.*HERA_FITS_DECOMPRESSED_MAX"):
        compressed.open_fits(path, limit=LIMIT)
    # what was decompressed went to a temporary file that is gone again
    assert not list(tmp_path.glob("hera-decompressed-*"))


def test_the_gzip_length_field_is_not_believed(tmp_path):
    """ISIZE is the length modulo 2^32, written by the sender: here it says 10 bytes."""
    data = bytearray(gzip.compress(bytes(LIMIT * 2)))
    data[-4:] = (10).to_bytes(4, "little")
    path = tmp_path / "liar.fits.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(compressed.TooLarge):
        compressed.decompress_to(path, io.BytesIO(), limit=LIMIT)


def test_damaged_compressed_files_are_a_clear_error(tmp_path):
    good = gzip.compress(rate_fits())
    (tmp_path / "cut.fits.gz").write_bytes(good[: len(good) // 2])
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04" + b"\0" * 100)
    for name in ("cut.fits.gz", "bad.zip"):
        with pytest.raises(ValueError, match="damaged"):
            compressed.decompress_to(tmp_path / name, io.BytesIO(), limit=LIMIT)


def test_the_tools_refuse_a_bomb_naming_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("HERA_FITS_DECOMPRESSED_MAX", str(LIMIT))
    path = tmp_path / "bomb.fits.gz"
    path.write_bytes(bomb(4 << 20))
    message = "HERA_FITS_DECOMPRESSED_MAX"
    with pytest.raises(ValueError, match=message):
        ftlist(str(path), "H", str(tmp_path / "list.txt"))
    with pytest.raises(ValueError, match=message):
        lcurve(str(path), str(tmp_path / "lc.fits"), str(tmp_path / "lc.png"), 10)
    with pytest.raises(ValueError, match=message):
        scw_coverage(str(path), str(tmp_path / "cov.fits"), str(tmp_path / "cov.png"), ra=83.6, dec=22.0)


def test_a_compressed_science_window_table_is_read_by_the_coverage_tool(tmp_path):
    table = Table({"scw_id": ["003900050010", "003900060010"], "ra_x": [83.6, 84.0], "dec_x": [22.0, 22.5],
                   "start_time": [53000.0, 53000.05], "end_time": [53000.02, 53000.07],
                   "good_isgri": [1800.0, 1500.0]})
    plain = tmp_path / "scw.fits"
    table.write(plain)
    packed = tmp_path / "scw.fits.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    from_plain = scw_coverage(str(plain), str(tmp_path / "a.fits"), str(tmp_path / "a.png"), ra=83.6, dec=22.0,
                              instruments="isgri")
    from_packed = scw_coverage(str(packed), str(tmp_path / "b.fits"), str(tmp_path / "b.png"), ra=83.6, dec=22.0,
                               instruments="isgri")
    assert from_packed == from_plain
    assert Table.read(tmp_path / "b.fits").as_array().tolist() == Table.read(tmp_path / "a.fits").as_array().tolist()


@pytest.fixture
def config(config):
    return {**config, "HERA_FITS_DECOMPRESSED_MAX": LIMIT}


def test_a_tool_job_on_a_bomb_ends_in_error_naming_the_limit(app, client, worker):
    from accounts import users

    token = users.add_user(app.extensions["hera"].engine, "alice")
    headers = {"Authorization": f"Bearer {token}"}
    ws = app.extensions["workspaces"].for_user("alice")
    ws.write("in/bomb.fits.gz", bomb(4 << 20))
    ws.write("in/rate.fits.gz", gzip.compress(rate_fits()))

    def run(infile):
        response = client.post("/tools/fstatistic", headers=headers,
                               data={"PHASE": "RUN", "infile": infile, "colname": "RATE", "outfile": "out/s.txt"})
        assert response.status_code == 303, response.data
        url = response.headers["Location"].replace("http://localhost", "")

        def finished():
            root = etree.fromstring(client.get(url + "?WAIT=5", headers=headers).data)
            phase = root.findtext("uws:phase", namespaces=UWS)
            return phase if phase in ("COMPLETED", "ERROR", "ABORTED") else None
        return wait_for(finished, 60), client.get(url + "/error", headers=headers).get_data(as_text=True)

    phase, message = run("in/bomb.fits.gz[RATE]")
    assert phase == "ERROR"
    assert f"more than {LIMIT} bytes" in message and "HERA_FITS_DECOMPRESSED_MAX" in message
    assert "/tmp" not in message and "workspaces" not in message
    phase, _ = run("in/rate.fits.gz[RATE]")
    assert phase == "COMPLETED"
