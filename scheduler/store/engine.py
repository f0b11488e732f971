"""Engines and migrations: the only place that knows the two dialects apart.

SQLite gets WAL (readers never wait for the writer), foreign keys, a busy timeout,
and transactions begun by us rather than by the sqlite3 module, so that a writing
transaction can start with ``BEGIN IMMEDIATE``: it takes the write lock up front and
cannot fail half-way with "database is locked" after having read stale rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
# pg_advisory_xact_lock key of migrate(): two daemons starting on a fresh database
# would otherwise both try to create the tables.
MIGRATION_LOCK = 0x6475_6261_6E00_0001
_BEGIN = "duban_begin"


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``, with SQLite tuned for a daemon and a CLI sharing a file."""
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    mode = connection.get_execution_options().get(_BEGIN, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def writing(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction that will write: on SQLite it holds the write lock from its start."""
    with engine.connect() as connection:
        connection = connection.execution_options(**{_BEGIN: "IMMEDIATE"})
        with connection.begin():
            yield connection


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision; concurrent callers run it once."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with writing(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
