"""What the workspace keeps in the SQL database: file checksums and quota reservations.

``workspace_file`` holds, per owner and path, the size, modification time and SHA-256 of
every file the service wrote. A checksum is trusted only while the file's size and
mtime still match; otherwise it is computed again (a file changed behind the service's
back is not shown with a stale checksum).

Quota: the bytes and files in use are the sums over ``workspace_file``; an upload in
progress holds a *reservation* (``workspace_reservation``) for the bytes it may still
write. Reserving is atomic per owner: the transaction first updates the owner's row of
``workspace_owner`` — a row lock on PostgreSQL, the database write lock on SQLite — and
only then sums usage and reservations (in one statement, so one snapshot), so two
concurrent uploads cannot both take the last free gigabyte; turning a reservation into a
file record takes the same lock. A reservation has an expiry, renewed while its upload
streams, so a process that dies mid-upload does not hold quota for ever.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import (BigInteger, Column, DateTime, Integer, MetaData, String, Table, delete,
                        func, insert, select, update)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

files_table = Table(
    "workspace_file", metadata,
    Column("owner", String(64), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
)

owners_table = Table(
    "workspace_owner", metadata,
    Column("owner", String(64), primary_key=True),
    Column("version", BigInteger, nullable=False, default=0),
)

reservations_table = Table(
    "workspace_reservation", metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(64), nullable=False, index=True),
    Column("bytes", BigInteger, nullable=False),
    Column("files", Integer, nullable=False),
    Column("expires", DateTime, nullable=False),  # naive UTC
)

#: how long a reservation lives without being renewed (s)
RESERVATION_LIFETIME = 600


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class QuotaExceeded(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _ensure_owner(engine: Engine, owner: str) -> None:
    with engine.connect() as conn:
        if conn.execute(select(owners_table.c.owner).where(owners_table.c.owner == owner)).first():
            return
    try:
        with engine.begin() as conn:
            conn.execute(insert(owners_table).values(owner=owner, version=0))
    except IntegrityError:
        pass  # made meanwhile by another process


def _lock_owner(conn: Connection, owner: str) -> None:
    """Serialise quota decisions of ``owner``: the first statement of the transaction is
    a write to its row (PostgreSQL: row lock; SQLite: the database's write lock)."""
    conn.execute(update(owners_table).where(owners_table.c.owner == owner)
                 .values(version=owners_table.c.version + 1))


def usage(conn_or_engine, owner: str, with_reservations: bool = False) -> tuple[int, int]:
    """(bytes, files) used by ``owner``'s files, plus live reservations when asked, read
    in one statement (one snapshot: an upload finishing meanwhile, which turns its
    reservation into a file record, is counted once, never zero times)."""
    used_b = select(func.coalesce(func.sum(files_table.c.size), 0)).where(files_table.c.owner == owner)
    used_n = select(func.count()).select_from(files_table).where(files_table.c.owner == owner)
    columns = [used_b.scalar_subquery(), used_n.scalar_subquery()]
    if with_reservations:
        live = (reservations_table.c.owner == owner, reservations_table.c.expires > _now())
        held_b = select(func.coalesce(func.sum(reservations_table.c.bytes), 0)).where(*live)
        held_n = select(func.coalesce(func.sum(reservations_table.c.files), 0)).where(*live)
        columns = [columns[0] + held_b.scalar_subquery(), columns[1] + held_n.scalar_subquery()]
    query = select(*columns)

    def run(conn):
        b, n = conn.execute(query).one()
        return int(b), int(n)
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return run(conn)
    return run(conn_or_engine)


class Reservation:
    """Quota held by one upload in progress: room for what it may still write, net of the
    file it replaces. ``hold`` raises the amount (streams of unknown length grow it as
    they go), ``commit_file`` turns it into a file record, ``release`` gives it back."""

    def __init__(self, engine: Engine, owner: str, max_bytes: int, max_files: int,
                 replacing: tuple[int, int] = (0, 0), id: str | None = None,
                 lifetime: int = RESERVATION_LIFETIME):
        """``id``: the name of a reservation that lives across requests (a resumable
        upload); it is taken over when it exists."""
        self.engine, self.owner = engine, owner
        self.max_bytes, self.max_files = max_bytes, max_files
        self.replacing = replacing
        self.lifetime = lifetime
        self.id = id or uuid.uuid4().hex
        self.bytes = 0
        self.files = 0
        self.live = False
        if id is not None:
            with engine.connect() as conn:
                row = conn.execute(select(reservations_table).where(
                    reservations_table.c.id == id, reservations_table.c.owner == owner,
                    reservations_table.c.expires > _now())).first()
            if row is not None:
                self.bytes, self.files, self.live = row.bytes, row.files, True

    def hold(self, total_bytes: int, files: int = 1) -> None:
        """Make sure the upload may end with ``total_bytes`` in ``files`` files, or raise
        :class:`QuotaExceeded` (nothing held changes then)."""
        net_b = max(total_bytes - self.replacing[0], 0)
        net_n = max(files - self.replacing[1], 0)
        more_b, more_n = net_b - self.bytes, net_n - self.files
        if self.live and more_b <= 0 and more_n <= 0:
            return
        _ensure_owner(self.engine, self.owner)
        with self.engine.begin() as conn:
            _lock_owner(conn, self.owner)
            conn.execute(delete(reservations_table).where(
                reservations_table.c.owner == self.owner, reservations_table.c.expires <= _now()))
            used_b, used_n = usage(conn, self.owner, with_reservations=True)
            if more_b > 0 and used_b + more_b > self.max_bytes:
                free = max(self.max_bytes - used_b, 0)
                raise QuotaExceeded(f"quota exceeded: {total_bytes} bytes would need {more_b} more, "
                                    f"{free} of the quota of {self.max_bytes} bytes are free")
            if more_n > 0 and used_n + more_n > self.max_files:
                raise QuotaExceeded(f"quota exceeded: the quota is {self.max_files} files "
                                    f"and {used_n} are used")
            self.bytes, self.files = max(net_b, self.bytes), max(net_n, self.files)
            expires = _now() + timedelta(seconds=self.lifetime)
            if self.live:
                conn.execute(update(reservations_table).where(reservations_table.c.id == self.id)
                             .values(bytes=self.bytes, files=self.files, expires=expires))
            else:
                conn.execute(insert(reservations_table).values(
                    id=self.id, owner=self.owner, bytes=self.bytes, files=self.files, expires=expires))
                self.live = True

    def renew(self) -> None:
        if self.live:
            with self.engine.begin() as conn:
                conn.execute(update(reservations_table).where(reservations_table.c.id == self.id)
                             .values(expires=_now() + timedelta(seconds=self.lifetime)))

    def release(self) -> None:
        if self.live:
            with self.engine.begin() as conn:
                conn.execute(delete(reservations_table).where(reservations_table.c.id == self.id))
            self.live = False


def record_file(conn: Connection, owner: str, path: str, size: int, mtime_ns: int, sha256: str) -> None:
    conn.execute(delete(files_table).where(files_table.c.owner == owner, files_table.c.path == path))
    conn.execute(insert(files_table).values(owner=owner, path=path, size=size, mtime_ns=mtime_ns, sha256=sha256))


def commit_file(engine: Engine, reservation: Reservation | None, owner: str, path: str,
                size: int, mtime_ns: int, sha256: str) -> None:
    """Record a finished file and drop the reservation that held its room, in one
    transaction under the owner's lock, like every decision that can raise usage."""
    _ensure_owner(engine, owner)
    with engine.begin() as conn:
        _lock_owner(conn, owner)
        if reservation is not None and reservation.live:
            conn.execute(delete(reservations_table).where(reservations_table.c.id == reservation.id))
            reservation.live = False
        record_file(conn, owner, path, size, mtime_ns, sha256)


def get_file(engine: Engine, owner: str, path: str):
    with engine.connect() as conn:
        return conn.execute(select(files_table).where(
            files_table.c.owner == owner, files_table.c.path == path)).first()


def files_under(engine: Engine, owner: str, prefix: str) -> dict:
    """{path: row} of ``owner``'s recorded files in folder ``prefix`` ("" = all)."""
    query = select(files_table).where(files_table.c.owner == owner)
    if prefix:
        query = query.where(files_table.c.path.startswith(prefix + "/", autoescape=True))
    with engine.connect() as conn:
        return {r.path: r for r in conn.execute(query)}


def forget(engine: Engine, owner: str, path: str, folder: bool = False) -> None:
    with engine.begin() as conn:
        conn.execute(delete(files_table).where(files_table.c.owner == owner, files_table.c.path == path))
        if folder:
            conn.execute(delete(files_table).where(
                files_table.c.owner == owner, files_table.c.path.startswith(path + "/", autoescape=True)))


def rename(engine: Engine, owner: str, src: str, dst: str) -> None:
    """Carry the records of ``src`` (a file, or a folder and everything under it) to ``dst``."""
    with engine.begin() as conn:
        rows = conn.execute(select(files_table).where(files_table.c.owner == owner).where(
            (files_table.c.path == src) | files_table.c.path.startswith(src + "/", autoescape=True))).all()
        for r in rows:
            conn.execute(delete(files_table).where(files_table.c.owner == owner, files_table.c.path == r.path))
        for r in rows:
            new = dst + r.path[len(src):]
            conn.execute(delete(files_table).where(files_table.c.owner == owner, files_table.c.path == new))
            conn.execute(insert(files_table).values(owner=owner, path=new, size=r.size,
                                                    mtime_ns=r.mtime_ns, sha256=r.sha256))
