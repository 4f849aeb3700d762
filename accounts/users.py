"""Users, their groups and API tokens.

A token is shown once, when the user is created (or the token renewed); only its
SHA-256 digest is stored. Tokens are 256-bit random strings, so a plain digest is as
strong as a slow password hash would be, and checking one costs a single index lookup.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, Text, select
from sqlalchemy.engine import Engine

metadata = MetaData()

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")

users_table = Table(
    "hera_user",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("groups", Text, nullable=False, default=""),  # space-separated group names
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("quota_bytes", BigInteger, nullable=True),  # None: the configured default
    Column("quota_files", Integer, nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
)


class UserError(ValueError):
    """A user cannot be created or changed as asked."""


@dataclass(frozen=True)
class User:
    name: str
    groups: frozenset[str] = field(default_factory=frozenset)
    quota_bytes: int | None = None
    quota_files: int | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(row) -> User:
    return User(row.name, frozenset(row.groups.split()), row.quota_bytes, row.quota_files)


def _new_token() -> str:
    """A fresh API token. The prefix names it (secret scanners and people recognise it) and
    keeps its first character from being '-', which command lines would read as an option."""
    return "hera_" + secrets.token_urlsafe(32)


def add_user(engine: Engine, name: str, groups=(), quota_bytes=None, quota_files=None) -> str:
    """Create a user; return its API token (shown once, never stored in clear)."""
    if not NAME_PATTERN.match(name):
        raise UserError(f"invalid user name {name!r}: letters, digits, '_', '.', '-', starting with a letter")
    for g in groups:
        if not NAME_PATTERN.match(g):
            raise UserError(f"invalid group name {g!r}")
    token = _new_token()
    with engine.begin() as conn:
        if conn.execute(select(users_table.c.name).where(users_table.c.name == name)).first():
            raise UserError(f"user {name!r} exists already")
        conn.execute(users_table.insert().values(
            name=name, groups=" ".join(sorted(set(groups))), token_hash=_digest(token),
            quota_bytes=quota_bytes, quota_files=quota_files, created=datetime.now(timezone.utc)))
    return token


def renew_token(engine: Engine, name: str) -> str:
    token = _new_token()
    with engine.begin() as conn:
        done = conn.execute(users_table.update().where(users_table.c.name == name)
                            .values(token_hash=_digest(token))).rowcount
    if not done:
        raise UserError(f"no user {name!r}")
    return token


def get_user(engine: Engine, name: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(users_table).where(users_table.c.name == name)).first()
    return _user(row) if row else None


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return [_user(r) for r in conn.execute(select(users_table).order_by(users_table.c.name))]


def authenticate(engine: Engine, token: str, name: str | None = None) -> User | None:
    """The user holding ``token`` (and called ``name``, when given), or None."""
    with engine.connect() as conn:
        row = conn.execute(select(users_table).where(users_table.c.token_hash == _digest(token))).first()
    if row is None or (name is not None and not hmac.compare_digest(row.name, name)):
        return None
    return _user(row)
