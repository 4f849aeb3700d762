"""The SQL database handle: one SQLAlchemy engine for job records, users and the catalogue."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine

#: the service's own tables (users, groups, tokens); other packages keep their own MetaData
metadata = MetaData()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL journaling and a busy timeout so that
    the web server, the workers and the sweeper can write concurrently."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40)
