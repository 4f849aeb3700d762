"""A user's workspace: paths checked, quota enforced, checksums kept, on top of a Storage.

This is the pure core that the REST API, VOSpace, the TAP "save" hooks and tool jobs all
call. Everything that writes streams: bytes go to a temporary file in the destination's
file system while their SHA-256 is computed, and the file appears, whole, by one rename.
Quota is held *before* bytes are written (the announced size at once; a stream of
unknown length in steps as it grows), so a refused upload never fills the disk, and two
concurrent uploads cannot together exceed the quota (see :mod:`workspace.records`).
"""
from __future__ import annotations

import errno
import hashlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Iterable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from accounts import users

from . import records
from .paths import PathError, check_new_name, name_of, normalize, parent_of
from .storage import LocalStorage, Stat, Storage, StorageError, Upload

CHUNK = 1 << 20
#: a stream of unknown length holds quota in steps of this many bytes
HOLD_STEP = 64 << 20
#: renew a streaming upload's reservation at least this often (s)
RENEW_EVERY = 60


class WorkspaceError(Exception):
    """A workspace request refused or failed; ``status`` is its HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    def __str__(self):
        return self.message


def _iso(mtime_ns: int) -> str:
    return datetime.fromtimestamp(mtime_ns / 1e9, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _chunks(data) -> Iterable[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield bytes(data)
        return
    read = getattr(data, "read", None)
    if read is not None:
        # whole CHUNKs even from streams whose read() returns what the socket had (a
        # request body): each chunk costs a hand-over to the writing threads
        while True:
            parts, got = [], 0
            while got < CHUNK:
                try:
                    part = read(CHUNK - got)
                except Exception:
                    if got:  # what arrived before the connection broke (a resumable upload keeps it)
                        yield b"".join(parts)
                    raise
                if not part:
                    break
                parts.append(part)
                got += len(part)
            if not got:
                return
            yield parts[0] if len(parts) == 1 else b"".join(parts)
    else:
        for chunk in data:
            if chunk:
                yield chunk


def sha256_of(f: BinaryIO) -> str:
    h = hashlib.sha256()
    for chunk in iter(lambda: f.read(CHUNK), b""):
        h.update(chunk)
    return h.hexdigest()


class Workspace:
    """``owner``'s files, with a quota of ``quota_bytes`` and ``quota_files``."""

    def __init__(self, owner: str, storage: Storage, engine, quota_bytes: int, quota_files: int,
                 warn_fraction: float = 0.9, partial_lifetime: int = 86400):
        self.owner = owner
        self.storage = storage
        self.engine = engine
        self.quota_bytes = int(quota_bytes)
        self.quota_files = int(quota_files)
        self.warn_fraction = float(warn_fraction)
        self.partial_lifetime = int(partial_lifetime)

    # -- paths ----------------------------------------------------------------------------
    @staticmethod
    def key(path: str) -> str:
        try:
            return normalize(path)
        except PathError as err:
            raise WorkspaceError(400, str(err))

    def _stat(self, key: str) -> Stat | None:
        try:
            return self.storage.stat(key)
        except StorageError as err:
            raise WorkspaceError(err.status, err.message)

    def stat(self, path: str) -> Stat | None:
        return self._stat(self.key(path))

    def exists(self, path: str) -> bool:
        return self.stat(path) is not None

    def is_folder(self, path: str) -> bool:
        st = self.stat(path)
        return st is not None and st.type == "folder"

    def _file(self, key: str) -> Stat:
        st = self._stat(key)
        if st is None:
            raise WorkspaceError(404, f"no such file: {key}")
        if st.type != "file":
            raise WorkspaceError(409, f"{key} is a folder, not a file")
        return st

    def local_path(self, path: str) -> Path:
        """The local path of the existing file ``path`` (for tools that read it)."""
        key = self.key(path)
        self._file(key)
        try:
            return self.storage.local_path(key)
        except StorageError as err:
            raise WorkspaceError(err.status, err.message)

    def open(self, path: str) -> BinaryIO:
        key = self.key(path)
        self._file(key)
        try:
            return self.storage.open(key)
        except StorageError as err:
            raise WorkspaceError(err.status, err.message)

    # -- metadata ------------------------------------------------------------------------
    def _checksum(self, key: str, st: Stat, row=None) -> str:
        if row is None:
            row = records.get_file(self.engine, self.owner, key)
        if row is not None and row.size == st.size and row.mtime_ns == st.mtime_ns:
            return row.sha256
        with self.storage.open(key) as f:
            digest = sha256_of(f)
        try:
            with self.engine.begin() as conn:
                records.record_file(conn, self.owner, key, st.size, st.mtime_ns, digest)
        except IntegrityError:
            pass  # another request recorded it at the same moment
        return digest

    def checksum(self, path: str) -> str:
        key = self.key(path)
        return self._checksum(key, self._file(key))

    def entry(self, path: str, st: Stat | None = None, row=None) -> dict:
        key = self.key(path)
        st = st or self._stat(key)
        if st is None:
            raise WorkspaceError(404, f"no such file or folder: {key}")
        return {
            "name": name_of(key),
            "path": key,
            "type": st.type,
            "size": st.size,
            "modified": _iso(st.mtime_ns),
            "sha256": self._checksum(key, st, row) if st.type == "file" else None,
        }

    def quota(self) -> dict:
        used_b, used_n = records.usage(self.engine, self.owner)
        info = {"bytes_used": used_b, "bytes_max": self.quota_bytes,
                "files_used": used_n, "files_max": self.quota_files, "warning": None}
        info["warning"] = self.quota_warning(info)
        return info

    def quota_warning(self, info: dict | None = None) -> str | None:
        """A sentence when the workspace is at least ``warn_fraction`` full, else None."""
        info = info or self.quota()
        fb = info["bytes_used"] / info["bytes_max"] if info["bytes_max"] else 1.0
        fn = info["files_used"] / info["files_max"] if info["files_max"] else 1.0
        if max(fb, fn) < self.warn_fraction:
            return None
        return (f"workspace {max(fb, fn):.0%} full: {info['bytes_used']} of {info['bytes_max']} bytes, "
                f"{info['files_used']} of {info['files_max']} files")

    def list(self, path: str = "") -> dict:
        """The listing of folder ``path``: entries sorted by name, and the quota."""
        key = self.key(path)
        st = self._stat(key)
        if key and st is None:
            raise WorkspaceError(404, f"no such folder: {key}")
        if st is not None and st.type != "folder":
            raise WorkspaceError(409, f"{key} is a file, not a folder")
        entries = []
        if st is not None:
            known = records.files_under(self.engine, self.owner, key)
            seen = set()
            for name, child in sorted(self.storage.children(key)):
                child_key = f"{key}/{name}" if key else name
                seen.add(child_key)
                entries.append(self.entry(child_key, child, known.get(child_key)))
            for gone in [p for p in known if parent_of(p) == key and p not in seen]:
                records.forget(self.engine, self.owner, gone)  # removed behind our back
        return {"path": f"{key}/" if key else "", "entries": entries, "quota": self.quota()}

    # -- writing ---------------------------------------------------------------------------
    @staticmethod
    def _check_new_name(key: str) -> None:
        try:
            check_new_name(key)
        except PathError as err:
            raise WorkspaceError(400, str(err))

    def _check_target(self, key: str) -> tuple[int, int]:
        """(bytes, files) that writing ``key`` replaces; refuse a folder, the root, or a
        name that could display as another."""
        if not key:
            raise WorkspaceError(409, "the workspace root is a folder, not a file")
        self._check_new_name(key)
        st = self._stat(key)
        if st is not None and st.type == "folder":
            raise WorkspaceError(409, f"{key} is a folder")
        parent = parent_of(key)
        while parent:
            pst = self._stat(parent)
            if pst is not None and pst.type != "folder":
                raise WorkspaceError(409, f"a parent of {key} is a file, not a folder")
            parent = parent_of(parent)
        return (st.size, 1) if st is not None else (0, 0)

    def _reservation(self, key: str) -> records.Reservation:
        return records.Reservation(self.engine, self.owner, self.quota_bytes, self.quota_files,
                                   replacing=self._check_target(key))

    def _hold(self, reservation: records.Reservation, nbytes: int) -> None:
        try:
            reservation.hold(nbytes)
        except records.QuotaExceeded as err:
            raise WorkspaceError(507, err.message)
        free = self.storage.free_bytes()
        if free is not None and nbytes - reservation.replacing[0] > free:
            raise WorkspaceError(507, f"the service's disk has {free} bytes free, {nbytes} were asked")

    def _finish(self, reservation, upload: Upload, key: str, digest: str) -> dict:
        """Make the finished upload the file ``key`` and record it, releasing its quota hold."""
        try:
            self.storage.finish_upload(upload, key)
        except StorageError as err:
            raise WorkspaceError(err.status, err.message)
        st = self._stat(key)
        records.commit_file(self.engine, reservation, self.owner, key, st.size, st.mtime_ns, digest)
        return self.entry(key, st)

    def writer(self, path: str, size: int | None = None, max_bytes: int | None = None) -> "Writer":
        """A :class:`Writer` for ``path``: write chunks, then ``finish()``. ``size``: the
        announced length (quota held at once, and enforced: more or fewer bytes are
        refused). ``max_bytes``: a cap on the length (HTTP 413 beyond it)."""
        key = self.key(path)
        if size is not None and max_bytes is not None and size > max_bytes:
            raise WorkspaceError(413, f"{size} bytes announced, at most {max_bytes} accepted")
        reservation = self._reservation(key)
        try:
            self._hold(reservation, size or 0)  # a stream of unknown length: the file it adds, at once
            upload = self.storage.new_upload()
        except BaseException:
            reservation.release()
            raise
        return Writer(self, key, upload, reservation, size, max_bytes)

    def write(self, path: str, data, size: int | None = None, sha256: str | None = None,
              max_bytes: int | None = None) -> dict:
        """Write ``data`` (bytes, a binary file object or an iterable of bytes) to ``path``,
        streamed; ``sha256``: the expected checksum, refused on mismatch. See :meth:`writer`."""
        with self.writer(path, size, max_bytes) as w:
            for chunk in _chunks(data):
                w.write(chunk)
            return w.finish(sha256)

    def store(self, path: str, src, move: bool = True) -> dict:
        """Put the local file ``src`` (a tool's product) at ``path``, quota-checked, with
        its checksum; ``move``: rename it (copy when on another file system)."""
        key = self.key(path)
        src = Path(src)
        if not src.is_file():
            raise WorkspaceError(404, f"no such file to store: {src}")
        size = src.stat().st_size
        reservation = self._reservation(key)
        try:
            self._hold(reservation, size)
            with open(src, "rb") as f:
                digest = sha256_of(f)
            try:
                self.storage.put_file(src, key, move)
            except StorageError as err:
                raise WorkspaceError(err.status, err.message)
            st = self._stat(key)
            records.commit_file(self.engine, reservation, self.owner, key, st.size, st.mtime_ns, digest)
            return self.entry(key, st)
        finally:
            reservation.release()

    # -- resumable uploads -----------------------------------------------------------------
    def _partial_name(self, key: str, total: int) -> str:
        return "partial-" + hashlib.sha256(f"{key}\0{total}".encode()).hexdigest()[:40]

    def upload_offset(self, path: str, total: int) -> int:
        """How many bytes of a resumable upload of ``total`` bytes to ``path`` the service has."""
        upload = self.storage.resume_upload(self._partial_name(self.key(path), total))
        return upload.size if upload else 0

    def write_range(self, path: str, data, start: int, end: int | None, total: int) -> tuple[int, dict | None]:
        """Write bytes ``start``..``end`` (inclusive; None: up to what arrives) of a
        resumable upload of ``total`` bytes. ``start`` must be what the service has
        already (HTTP 409 with the offset otherwise; 0 starts over). What arrives is kept
        even when the connection breaks. Returns the new offset and, when the upload is
        complete, the file's entry."""
        key = self.key(path)
        name = self._partial_name(key, total)
        self.storage.discard_stale_uploads(time.time() - self.partial_lifetime)
        have = self.upload_offset(path, total)
        if start != have and start != 0:
            raise WorkspaceError(409, f"the upload is at byte {have}, not {start}")
        reservation = records.Reservation(self.engine, self.owner, self.quota_bytes, self.quota_files,
                                          replacing=self._check_target(key), id=name[-32:],
                                          lifetime=self.partial_lifetime)
        self._hold(reservation, total)
        upload = (self.storage.resume_upload(name) if start else None) or self.storage.new_upload(name)
        w = Writer(self, key, upload, reservation, None if end is None else end + 1, total, offset=start)
        try:
            for chunk in _chunks(data):
                w.write(chunk)
            w.check_complete()
        finally:
            w.close_partial()
        if w.written < total:
            return w.written, None
        with open(upload.path, "rb") as f:
            digest = sha256_of(f)
        try:
            return total, self._finish(reservation, upload, key, digest)
        finally:
            upload.discard()
            reservation.release()

    # -- folders, delete, move ---------------------------------------------------------
    def mkdir(self, path: str) -> dict:
        key = self.key(path)
        if not key:
            raise WorkspaceError(409, "the workspace root exists already")
        self._check_target(key)
        try:
            self.storage.mkdir(key)
        except StorageError as err:
            raise WorkspaceError(err.status, err.message)
        return self.entry(key)

    def delete(self, path: str) -> None:
        key = self.key(path)
        if not key:
            raise WorkspaceError(403, "the workspace root cannot be deleted")
        st = self._stat(key)
        if st is None:
            raise WorkspaceError(404, f"no such file or folder: {key}")
        try:
            self.storage.delete(key)
        except StorageError as err:
            raise WorkspaceError(err.status, err.message)
        records.forget(self.engine, self.owner, key, folder=st.type == "folder")

    def move(self, path: str, to: str) -> dict:
        """Move or rename ``path`` to ``to``; into ``to`` when that is an existing folder."""
        key, dst = self.key(path), self.key(to)
        if not key:
            raise WorkspaceError(403, "the workspace root cannot be moved")
        if self._stat(key) is None:
            raise WorkspaceError(404, f"no such file or folder: {key}")
        dst_st = self._stat(dst)
        if dst == "" or (dst_st is not None and dst_st.type == "folder"):
            dst = f"{dst}/{name_of(key)}" if dst else name_of(key)
        self._check_new_name(dst)
        if self._stat(dst) is not None:
            raise WorkspaceError(409, f"{dst} exists already")
        try:
            self.storage.move(key, dst)
        except StorageError as err:
            raise WorkspaceError(err.status, err.message)
        records.rename(self.engine, self.owner, key, dst)
        return self.entry(dst)


@dataclass(frozen=True)
class Workspaces:
    """Every user's workspace: under ``root/{owner}``, with the quota of the user's record
    or else the defaults given here. Built once per process from the configuration (by
    the composition root); request handlers and job executors alike ask it for a
    user's :class:`Workspace`."""

    engine: Engine
    root: Path
    quota_bytes: int
    quota_files: int
    warn_fraction: float = 0.9
    partial_lifetime: int = 86400

    def for_user(self, owner: str | None) -> Workspace:
        if not owner:
            raise WorkspaceError(401, "a workspace belongs to a signed-in user")
        if not users.NAME_PATTERN.match(owner):
            raise WorkspaceError(400, f"invalid user name {owner!r}")
        user = users.get_user(self.engine, owner)
        quota_bytes = user.quota_bytes if user and user.quota_bytes is not None else self.quota_bytes
        quota_files = user.quota_files if user and user.quota_files is not None else self.quota_files
        return Workspace(owner, LocalStorage(self.root / owner), self.engine, quota_bytes, quota_files,
                         self.warn_fraction, self.partial_lifetime)


_THREADS = None


def _in_native_thread(fn, *args):
    """Start ``fn(*args)`` in a native thread and return a function that waits for it
    (and raises what it raised). Under gevent, a patched ``threading`` thread would be a
    greenlet sharing the reader's core, so gevent's own pool of native threads is used."""
    global _THREADS
    monkey = sys.modules.get("gevent.monkey")  # gevent patches only if it was imported
    if monkey is not None and monkey.is_module_patched("threading"):
        from gevent import get_hub  # only under gevent, which this module never imports itself
        return get_hub().threadpool.spawn(fn, *args).get
    if _THREADS is None:
        _THREADS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="hera-workspace-writer")
    return _THREADS.submit(fn, *args).result


class Writer:
    """A file being written into a workspace chunk by chunk: quota is held as it grows,
    its SHA-256 computed on the way, and it appears whole at :meth:`finish` (a rename).
    Leaving the ``with`` block without finishing discards it."""

    def __init__(self, ws: Workspace, key: str, upload: Upload, reservation, size: int | None,
                 max_bytes: int | None, offset: int = 0):
        self.ws, self.key, self.upload, self.reservation = ws, key, upload, reservation
        self.size, self.max_bytes = size, max_bytes
        self.written = offset
        self.held = max(size or 0, reservation.bytes + reservation.replacing[0])
        self.hash = hashlib.sha256()
        self.renewed = time.monotonic()
        self.out = open(upload.path, "r+b" if offset else "wb")
        self.out.seek(offset)
        self.done = False
        self.pending = None  # waits for the chunk being written and hashed in the background

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self.done:
            self.abort()

    def write(self, chunk: bytes) -> None:
        written = self.written + len(chunk)
        if self.size is not None and written > self.size:
            raise WorkspaceError(400, f"more bytes were sent than the {self.size} announced")
        if self.max_bytes is not None and written > self.max_bytes:
            raise WorkspaceError(413, f"larger than the {self.max_bytes} bytes accepted")
        if written > self.held:
            try:
                self.ws._hold(self.reservation, written + HOLD_STEP)
                self.held = written + HOLD_STEP
            except WorkspaceError:
                self.ws._hold(self.reservation, written)
                self.held = written
        # write this chunk and hash it in two native threads while the caller reads the
        # next one (all three release the GIL): an upload goes at the pace of the slowest
        # of reading, writing and hashing rather than of their sum
        self._wait()
        self.pending = (_in_native_thread(self.out.write, chunk), _in_native_thread(self.hash.update, chunk))
        self.written = written
        if time.monotonic() - self.renewed > RENEW_EVERY:
            self.reservation.renew()
            self.renewed = time.monotonic()

    def _wait(self) -> None:
        pending, self.pending = self.pending or (), None
        try:
            for wait in pending:
                wait()
        except OSError as err:
            if err.errno in (errno.ENOSPC, errno.EDQUOT):
                raise WorkspaceError(507, "the service's disk is full") from None
            raise

    def check_complete(self) -> None:
        if self.size is not None and self.written < self.size:
            raise WorkspaceError(400, f"the body ended after {self.written} of the {self.size} bytes announced")

    def finish(self, sha256: str | None = None) -> dict:
        """Make the file appear; returns its entry."""
        self._wait()
        self.check_complete()
        self.out.close()
        digest = self.hash.hexdigest()
        if sha256 and sha256.lower() != digest:
            raise WorkspaceError(400, f"checksum mismatch: got sha256 {digest}, expected {sha256}")
        try:
            entry = self.ws._finish(self.reservation, self.upload, self.key, digest)
        finally:
            self.abort()
        return entry

    def close_partial(self) -> None:
        """Keep what was written (a resumable upload): close the file, renew the hold."""
        try:
            self._wait()
        finally:
            self.out.close()
        self.done = True
        self.reservation.renew()

    def abort(self) -> None:
        """Discard the bytes (if not yet made the file) and release the quota held."""
        try:
            self._wait()
        except Exception:  # noqa: BLE001 - discarding anyway
            pass
        self.out.close()
        self.upload.discard()
        self.reservation.release()
        self.done = True
