"""The job store: UWS job records in SQL (SQLite or PostgreSQL).

The database is the truth about jobs; Redis only dispatches them. Every phase change
is a conditional UPDATE (``WHERE phase IN (...)``), so that the web server, a worker
and the sweeper racing for the same job cannot both win: an ABORT cannot be
overwritten by a late COMPLETED, nor a COMPLETED by a late "worker died".
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (JSON, Column, DateTime, Index, Integer, MetaData, String, Table, Text,
                        delete, select, update)
from sqlalchemy.engine import Engine

from .job import ErrorSummary, Job, Phase, Result

metadata = MetaData()

jobs_table = Table(
    "uws_job",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("joblist", String(128), nullable=False),
    Column("owner", String(64), nullable=True),
    Column("run_id", Text, nullable=True),
    Column("phase", String(16), nullable=False),
    Column("creation_time", DateTime, nullable=False),
    Column("start_time", DateTime, nullable=True),
    Column("end_time", DateTime, nullable=True),
    Column("execution_duration", Integer, nullable=False),
    Column("destruction", DateTime, nullable=True),
    Column("quote", DateTime, nullable=True),
    Column("parameters", JSON, nullable=False),
    Column("results", JSON, nullable=False),
    Column("error", JSON, nullable=True),
    Column("info", JSON, nullable=False),
    Column("executor", String(256), nullable=False),
    Index("uws_job_list_owner", "joblist", "owner", "creation_time"),
    Index("uws_job_phase", "phase"),
    Index("uws_job_destruction", "destruction"),
)


def utcnow() -> datetime:
    """Now, at full (microsecond) precision, as documents show it: rounded to the
    millisecond, jobs created within one millisecond had equal times, and a strict AFTER
    (UWS 1.1: the jobs created after the time given) hid one of them."""
    return datetime.now(timezone.utc)


def _naive(t: datetime | None) -> datetime | None:
    """Times are stored as naive UTC: SQLite keeps no time zone."""
    if t is None:
        return None
    return t.astimezone(timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def _aware(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=timezone.utc) if t is not None else None


def _to_row(**fields) -> dict:
    row = {}
    for key, value in fields.items():
        if isinstance(value, datetime):
            value = _naive(value)
        elif isinstance(value, Phase):
            value = value.value
        elif key == "results":
            value = [r.__dict__ for r in value]
        elif key == "error" and value is not None:
            value = value.__dict__
        row[key] = value
    return row


def _job(row) -> Job:
    return Job(
        id=row.id, joblist=row.joblist, owner=row.owner, phase=Phase(row.phase),
        creation_time=_aware(row.creation_time), execution_duration=row.execution_duration,
        destruction=_aware(row.destruction), parameters=dict(row.parameters), run_id=row.run_id,
        quote=_aware(row.quote), start_time=_aware(row.start_time), end_time=_aware(row.end_time),
        results=[Result(**r) for r in row.results],
        error=ErrorSummary(**row.error) if row.error else None,
        info=dict(row.info), executor=row.executor,
    )


class JobStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    def create_tables(self):
        metadata.create_all(self.engine)

    def add(self, job: Job) -> None:
        values = _to_row(**job.__dict__)
        with self.engine.begin() as conn:
            conn.execute(jobs_table.insert(), values)

    def get(self, job_id: str) -> Job | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs_table).where(jobs_table.c.id == job_id)).first()
        return _job(row) if row else None

    def list(self, joblist: str | None, owner: str | None, phases=None, after: datetime | None = None,
             last: int | None = None, any_owner: bool = False) -> list[Job]:
        """Jobs of ``owner`` in ``joblist``, oldest first; with ``last``, the ``last`` most
        recent ones, most recent first (UWS 1.1 §2.2.2.1)."""
        t = jobs_table
        query = select(t)
        if joblist is not None:
            query = query.where(t.c.joblist == joblist)
        if not any_owner:
            query = query.where(t.c.owner.is_(None) if owner is None else t.c.owner == owner)
        if phases:
            query = query.where(t.c.phase.in_([Phase(p).value for p in phases]))
        else:
            query = query.where(t.c.phase != Phase.ARCHIVED.value)
        if after is not None:
            query = query.where(t.c.creation_time > _naive(after))
        if last is not None:
            query = query.order_by(t.c.creation_time.desc(), t.c.id.desc()).limit(last)
        else:
            query = query.order_by(t.c.creation_time, t.c.id)
        with self.engine.connect() as conn:
            return [_job(r) for r in conn.execute(query)]

    def latest_completed(self, owner: str | None, info_key: str, info_value: str, *,
                         excluding: str | None = None) -> Job | None:
        """The COMPLETED job of ``owner`` that ended last among those whose jobInfo has
        ``info_key`` equal to ``info_value`` (other than job ``excluding``): a tool reuses
        the products of an identical job this way."""
        t = jobs_table
        query = select(t.c.id).where(t.c.owner.is_(None) if owner is None else t.c.owner == owner,
                                     t.c.phase == Phase.COMPLETED.value,
                                     t.c.info[info_key].as_string() == info_value)
        if excluding is not None:
            query = query.where(t.c.id != excluding)
        query = query.order_by(t.c.end_time.desc()).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return self.get(row.id) if row else None

    def update(self, job_id: str, *, only_in=None, **fields) -> bool:
        """Set ``fields``; with ``only_in``, only if the job is in one of those phases.
        Returns whether the job was changed."""
        query = update(jobs_table).where(jobs_table.c.id == job_id)
        if only_in is not None:
            query = query.where(jobs_table.c.phase.in_([Phase(p).value for p in only_in]))
        with self.engine.begin() as conn:
            return conn.execute(query.values(**_to_row(**fields))).rowcount == 1

    def delete(self, job_id: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(delete(jobs_table).where(jobs_table.c.id == job_id)).rowcount == 1

    def ids_in_phase(self, phases, started_before: datetime | None = None,
                     created_before: datetime | None = None) -> list[str]:
        t = jobs_table
        query = select(t.c.id).where(t.c.phase.in_([Phase(p).value for p in phases]))
        if started_before is not None:
            query = query.where(t.c.start_time < _naive(started_before))
        if created_before is not None:
            query = query.where(t.c.creation_time < _naive(created_before))
        with self.engine.connect() as conn:
            return [r.id for r in conn.execute(query)]

    def ids_to_destroy(self, now: datetime) -> list[str]:
        t = jobs_table
        with self.engine.connect() as conn:
            return [r.id for r in conn.execute(
                select(t.c.id).where(t.c.destruction.is_not(None), t.c.destruction <= _naive(now)))]

