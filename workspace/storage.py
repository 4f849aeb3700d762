"""Where workspace bytes live: one small interface and its local-filesystem implementation.

A :class:`Storage` holds one user's tree of files and folders, addressed by *keys*:
relative POSIX paths already checked by :func:`workspace.paths.normalize` (no ``..``,
no empty or absolute parts, no NUL). It knows nothing about users, quotas or checksums;
:class:`workspace.store.Workspace` adds those.

Writes go through an *upload*: a temporary file created in the same file system as its
destination (so that finishing it is one atomic ``rename``), which a reader never sees
half written. A partial upload can be kept under a name and continued later (resumable
transfers).

:class:`LocalStorage` keeps the tree under a directory. It refuses to follow symbolic
links anywhere below its root, so a link planted in a workspace (by a tool, by an
operator restoring a backup) cannot lead outside it. Putting the directory on shared
storage (NFS, CephFS, Lustre) serves several hosts: see ``docs/workspace.md``.
"""
from __future__ import annotations

import errno
import os
import shutil
import stat as stat_module
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Protocol

#: temporary and partial uploads live in this folder at the root of each tree; the name
#: cannot be a user path (paths.normalize refuses parts that start with ".hera")
STAGING = ".hera-staging"


class StorageError(Exception):
    """A storage operation cannot be done; ``status`` is the HTTP status it maps to."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Stat:
    type: str  # "file" | "folder"
    size: int
    mtime_ns: int


class Storage(Protocol):
    """One user's tree of files and folders."""

    def stat(self, key: str) -> Stat | None: ...
    def children(self, key: str) -> Iterator[tuple[str, Stat]]: ...
    def open(self, key: str) -> BinaryIO: ...
    def local_path(self, key: str) -> Path: ...
    def mkdir(self, key: str) -> None: ...
    def delete(self, key: str) -> None: ...
    def move(self, key: str, to: str) -> None: ...
    def new_upload(self, name: str | None = None) -> "Upload": ...
    def resume_upload(self, name: str) -> "Upload | None": ...
    def finish_upload(self, upload: "Upload", key: str) -> None: ...
    def put_file(self, src: Path, key: str, move: bool) -> None: ...
    def discard_stale_uploads(self, before: float) -> None: ...
    def free_bytes(self) -> int | None: ...


@dataclass
class Upload:
    """A file being written, invisible until finished. ``name`` is set for a resumable
    upload (kept after a broken connection), None for a one-shot one."""

    path: Path
    name: str | None

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def discard(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


def _stat(st: os.stat_result) -> Stat | None:
    if stat_module.S_ISDIR(st.st_mode):
        return Stat("folder", 0, st.st_mtime_ns)
    if stat_module.S_ISREG(st.st_mode):
        return Stat("file", st.st_size, st.st_mtime_ns)
    return None  # symbolic links, devices, sockets: not part of a workspace


class LocalStorage:
    """A tree under ``root`` on a local or shared POSIX file system."""

    def __init__(self, root: Path):
        self.root = Path(root)

    # -- resolving keys, never through a symbolic link ----------------------------------
    def _path(self, key: str, must_exist: bool = False) -> Path:
        """The path of ``key``; every existing part of it is checked not to be a
        symbolic link (lstat), and the result is checked to lie under the root."""
        path = self.root
        if key:
            for part in key.split("/"):
                path = path / part
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    if must_exist:
                        raise StorageError(404, f"no such file or folder: {key}")
                    break
                if stat_module.S_ISLNK(st.st_mode):
                    raise StorageError(400, f"refused: {key} goes through a symbolic link")
            path = self.root.joinpath(*key.split("/"))
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise StorageError(400, f"refused: {key} leads outside the workspace")
        return path

    def stat(self, key: str) -> Stat | None:
        try:
            path = self._path(key)
            return _stat(os.lstat(path))
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return None

    def children(self, key: str) -> Iterator[tuple[str, Stat]]:
        path = self._path(key, must_exist=True)
        with os.scandir(path) as it:
            for entry in it:
                if entry.name.startswith(".hera"):
                    continue
                st = _stat(entry.stat(follow_symlinks=False))
                if st is not None:
                    yield entry.name, st

    def open(self, key: str) -> BinaryIO:
        path = self._path(key, must_exist=True)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise StorageError(400, f"refused: {key} is a symbolic link")
            raise
        f = os.fdopen(fd, "rb")
        if not stat_module.S_ISREG(os.fstat(fd).st_mode):
            f.close()
            raise StorageError(409, f"{key} is a folder, not a file")
        return f

    def local_path(self, key: str) -> Path:
        path = self._path(key, must_exist=True)
        if not path.is_file():
            raise StorageError(409, f"{key} is a folder, not a file")
        return path

    def _parent(self, key: str) -> Path:
        """Make the parent folders of ``key``; refuse when one of them is a file."""
        parent = self._path(key).parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise StorageError(409, f"a parent of {key} is a file, not a folder")
        self._path(key)  # re-check: nothing below the root became a link meanwhile
        return parent

    def mkdir(self, key: str) -> None:
        self._parent(key)
        path = self._path(key)
        try:
            path.mkdir()
        except FileExistsError:
            raise StorageError(409, f"{key} exists already")

    def delete(self, key: str) -> None:
        path = self._path(key, must_exist=True)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()

    def move(self, key: str, to: str) -> None:
        src = self._path(key, must_exist=True)
        if to == key or to.startswith(key + "/"):
            raise StorageError(409, f"cannot move {key} into itself")
        self._parent(to)
        dst = self._path(to)
        if os.path.lexists(dst):
            raise StorageError(409, f"{to} exists already")
        os.rename(src, dst)

    def free_bytes(self) -> int | None:
        """Free bytes of the file system holding the tree."""
        path = self.root
        while not path.exists() and path != path.parent:
            path = path.parent
        return shutil.disk_usage(path).free

    # -- uploads ------------------------------------------------------------------------
    def _staging(self) -> Path:
        staging = self.root / STAGING
        staging.mkdir(parents=True, exist_ok=True)
        return staging

    def new_upload(self, name: str | None = None) -> Upload:
        path = self._staging() / (name or f"tmp-{uuid.uuid4().hex}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o640)
        os.close(fd)
        return Upload(path, name)

    def resume_upload(self, name: str) -> Upload | None:
        path = self.root / STAGING / name
        return Upload(path, name) if path.is_file() and not path.is_symlink() else None

    def discard_stale_uploads(self, before: float) -> None:
        """Delete resumable uploads last written before ``before`` (a Unix time)."""
        staging = self.root / STAGING
        if not staging.is_dir():
            return
        for entry in os.scandir(staging):
            try:
                if entry.stat(follow_symlinks=False).st_mtime < before:
                    os.unlink(entry.path)
            except FileNotFoundError:
                pass  # finished or discarded meanwhile

    def finish_upload(self, upload: Upload, key: str) -> None:
        self._parent(key)
        dst = self._path(key)
        if dst.is_dir():
            raise StorageError(409, f"{key} is a folder")
        os.replace(upload.path, dst)

    def put_file(self, src: Path, key: str, move: bool) -> None:
        """Put the local file ``src`` at ``key``: renamed when ``move`` and on the same
        file system; else hard-linked (no bytes copied: neither the service nor a job
        changes a finished file in place, every write makes a new file and renames it),
        or copied where links are impossible; always through an upload, so that readers
        never see half of it."""
        self._parent(key)
        dst = self._path(key)
        if dst.is_dir():
            raise StorageError(409, f"{key} is a folder")
        if move:
            try:
                os.replace(src, dst)
                return
            except OSError as err:
                if err.errno != errno.EXDEV:
                    raise
        upload = self.new_upload()
        try:
            upload.discard()
            try:
                os.link(src, upload.path)
            except OSError:  # another file system, or one without hard links
                shutil.copyfile(src, upload.path)
            os.replace(upload.path, dst)
        finally:
            upload.discard()
        if move:
            os.unlink(src)
