"""One daemon per database (per schema, on PostgreSQL).

APScheduler 3 does not coordinate schedulers sharing a job store (each fires every
job), so the daemon holds this lock while it schedules. Both kinds die with their
holder: the kernel drops a flock when the process ends, even on ``kill -9``, and
PostgreSQL drops a session's advisory lock when its connection closes.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from scheduler.store.engine import SCHEMA_KEY

DAEMON_LOCK = 0x6475_6261  # "duba", the first key of the daemon's advisory lock


@contextmanager
def daemon_lock(engine: sa.Engine, owner: str) -> Iterator[bool]:
    """Try once to become the database's daemon; yield whether it worked."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine, owner) as taken:
            yield taken
    else:
        with _flock(engine.url.database, owner) as taken:
            yield taken


@contextmanager
def _advisory(engine: sa.Engine, owner: str) -> Iterator[bool]:
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(sa.select(sa.func.set_config("application_name", owner, False)))
        lock = (DAEMON_LOCK, SCHEMA_KEY)
        taken = connection.execute(sa.select(sa.func.pg_try_advisory_lock(*lock))).scalar()
        try:
            yield bool(taken)
        finally:
            if taken:
                connection.execute(sa.select(sa.func.pg_advisory_unlock(*lock)))
            connection.invalidate()


@contextmanager
def _flock(database: str | None, owner: str) -> Iterator[bool]:
    """flock "<database file>.lock"; an in-memory database has one process anyway."""
    if not database or database == ":memory:":
        yield True
        return
    fd = os.open(f"{database}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        os.ftruncate(fd, 0)
        os.write(fd, f"{owner}\n".encode())
        yield True
    finally:
        os.close(fd)
