"""Compressed input files, decompressed with a cap on their size.

astropy reads a gzip-, bzip2-, xz- or zip-compressed FITS file by decompressing all of
it into memory: a 4.7 MB gzip of 1 GiB of zeros took 2.2 GB in a work horse. Here a
compressed file is instead decompressed as a stream into an unlinked temporary file
(in ``TMPDIR``), counting bytes, and refused as soon as it passes
``HERA_FITS_DECOMPRESSED_MAX`` (the tool executor sets the service's cap for each job
with :func:`limited_to`); the plain copy is then memory-mapped like any FITS
file. The count is of the bytes really produced: gzip's own length field (ISIZE) is
modulo 2^32 and written by the sender, so it is not trusted.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import BinaryIO, Iterator

CHUNK = 1 << 20
SETTING = "HERA_FITS_DECOMPRESSED_MAX"
#: the cap when neither the job nor the environment sets one (bytes)
DEFAULT_MAX = 2 * 1024**3

#: the cap of the job running in this context, set by :func:`limited_to`
_job_cap: ContextVar[int | None] = ContextVar("hera_decompressed_max", default=None)

#: how each compression starts (what astropy recognises too)
MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip"}


class TooLarge(ValueError):
    """A compressed file that decompresses to more than the configured cap."""


def decompressed_max() -> int:
    """The cap in bytes: the running job's (:func:`limited_to`), else the environment's, else the default."""
    cap = _job_cap.get()
    if cap is not None:
        return cap
    return int(os.environ.get(SETTING, DEFAULT_MAX))


@contextmanager
def limited_to(cap: int) -> Iterator[None]:
    """Inside the ``with`` block, compressed files decompress to at most ``cap`` bytes:
    the tools read their files without being told the service's configuration."""
    token = _job_cap.set(int(cap))
    try:
        yield
    finally:
        _job_cap.reset(token)


def compression_of(path) -> str | None:
    """"gzip", "bzip2", "xz", "zip", or None for a file that is not compressed."""
    with open(path, "rb") as f:
        start = f.read(6)
    return next((kind for magic, kind in MAGIC.items() if start.startswith(magic)), None)


@contextmanager
def stream(path, kind: str) -> Iterator[BinaryIO]:
    """The decompressed bytes of ``path`` (compressed with ``kind``), as a file to read."""
    if kind == "zip":
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as err:
            raise ValueError(f"{Path(path).name}: the zip file is damaged ({err})") from None
        with archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                raise ValueError(f"{Path(path).name}: a zip file must hold exactly one file, it holds {len(members)}")
            with archive.open(members[0]) as f:
                yield f
        return
    opener = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}[kind]
    with opener(path, "rb") as f:
        yield f


class CountingReader:
    """Reads a decompressed stream and raises :class:`TooLarge` past ``limit`` bytes;
    a damaged stream raises ValueError."""

    def __init__(self, f: BinaryIO, name: str, kind: str, limit: int):
        self.f, self.name, self.kind, self.limit, self.count = f, name, kind, limit, 0

    def read(self, n: int = CHUNK) -> bytes:
        try:
            data = self.f.read(min(n, self.limit + 1 - self.count))
        except (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile) as err:
            raise ValueError(f"{self.name}: the {self.kind} data are damaged ({err})") from None
        self.count += len(data)
        if self.count > self.limit:
            raise TooLarge(f"{self.name} decompresses to more than {self.limit} bytes, the limit of this "
                           f"service ({SETTING}); decompress it first, or select less")
        return data


def decompress_to(path, out: BinaryIO, limit: int | None = None) -> int:
    """Write the decompressed bytes of ``path`` to ``out``; the number written."""
    kind = compression_of(path)
    limit = decompressed_max() if limit is None else limit
    with stream(path, kind) as f:
        reader = CountingReader(f, Path(path).name, kind, limit)
        while data := reader.read(CHUNK):
            out.write(data)
    return reader.count


def open_fits(path, limit: int | None = None, **kwargs):
    """``astropy.io.fits.open(path, memmap=True)``, a compressed file decompressed first
    (at most ``limit`` bytes, default :func:`decompressed_max`) into a temporary file
    that is unlinked at once: the open HDU list keeps it until it is closed."""
    from astropy.io import fits  # heavy, and not needed by the web pages that use this module

    if compression_of(path) is None:
        return fits.open(path, memmap=True, **kwargs)
    with plain_copy(path, limit) as plain:
        return fits.open(plain, memmap=True, **kwargs)


@contextmanager
def plain_copy(path, limit: int | None = None) -> Iterator[str]:
    """The path of ``path`` decompressed (``path`` itself when it is not compressed),
    valid inside the ``with`` block."""
    if compression_of(path) is None:
        yield str(path)
        return
    suffix = "".join(Path(path).suffixes[:-1]) or ".fits"  # rate.fits.gz -> .fits; readers go by suffix
    fd, plain = tempfile.mkstemp(prefix="hera-decompressed-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            decompress_to(path, out, limit)
        yield plain
    finally:
        os.unlink(plain)
