"""Engines and migrations, for the two databases duban supports.

SQLite gets WAL (readers never wait for the writer), foreign keys, a busy timeout,
and transactions begun by us rather than by the sqlite3 module, so that a writing
transaction can start with ``BEGIN IMMEDIATE``: it takes the write lock up front and
cannot fail half-way with "database is locked" after having read stale rows.

SQLite connections keep no prepared statements (``cached_statements=0``; the sqlite3
module keeps 128 by default): SQLAlchemy writes many rows as one INSERT with a VALUES
row each, a different statement for every row count, and the cache filled with them:
56 MB held after ingesting 10,000 plans. Preparing one of duban's statements costs
microseconds, next to the milliseconds of the work each one does.

SQLite keeps ``synchronous=FULL`` (set explicitly, since WAL invites ``NORMAL``): with
``NORMAL`` a power cut or an operating-system crash can roll back the last commits, and
for the log that means messages recorded as sent going out again. Writes are made cheap
by committing fewer times (whole batches of rows), not by weakening a commit.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event

from scheduler.errors import ConfigError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
WAL_ATTEMPTS, WAL_RETRY_SECONDS = 100, 0.02
# PostgreSQL advisory locks take two int4 keys: what is locked (a constant per kind of
# lock, spelled in ASCII) and where (the schema the store lives in), so that stores in
# two schemas of one database, such as parallel test runs, never contend.
MIGRATION_LOCK = 0x6D69_6772  # "migr": two daemons starting on a fresh database
SCHEMA_KEY = sa.func.hashtext(sa.func.coalesce(sa.func.current_schema(), ""))
DIALECTS = ("sqlite", "postgresql")
_BEGIN = "duban_begin"


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``, with SQLite tuned for a daemon and a CLI sharing a file."""
    try:
        parsed = sa.make_url(url)
        sqlite = parsed.get_backend_name() == "sqlite"
        engine = sa.create_engine(parsed, connect_args={"cached_statements": 0} if sqlite else {})
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as error:
        reason = str(error).splitlines()[0].rstrip(".")
        raise ConfigError(f"database url {url!r} is not usable: {reason}.") from None
    if engine.dialect.name not in DIALECTS:
        raise ConfigError(
            f"database url {url!r} names {engine.dialect.name}; "
            "use sqlite:/// or postgresql+psycopg://."
        )
    if sqlite:
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.isolation_level = None
    dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    dbapi_connection.execute("PRAGMA foreign_keys=ON")
    _enable_wal(dbapi_connection)
    dbapi_connection.execute("PRAGMA synchronous=FULL")


def _enable_wal(dbapi_connection: sqlite3.Connection) -> None:
    """Switch the file to WAL, which it then keeps.

    The switch needs the file to itself and, unlike other statements, does not wait
    for the busy timeout: two processes opening a new database at once would see
    "database is locked". So it is retried here, briefly; once a file is in WAL mode
    the pragma returns at once.
    """
    for attempt in range(WAL_ATTEMPTS):
        try:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == WAL_ATTEMPTS - 1:
                raise
            time.sleep(WAL_RETRY_SECONDS)


def _sqlite_begin(connection: sa.Connection) -> None:
    mode = connection.get_execution_options().get(_BEGIN, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def writing(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction that will write: on SQLite it holds the write lock from its start."""
    with engine.connect() as connection, begin_writing(connection):
        yield connection


def begin_writing(connection: sa.Connection) -> sa.RootTransaction:
    return connection.execution_options(**{_BEGIN: "IMMEDIATE"}).begin()


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision; concurrent callers run it once."""
    try:
        connection = engine.connect()
    except sa.exc.OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0].rstrip(".")
        where = engine.url.render_as_string(hide_password=True)
        raise ConfigError(f"cannot open the database {where}: {reason}.") from None
    with connection, begin_writing(connection):
        if connection.dialect.name == "postgresql":
            lock = sa.func.pg_advisory_xact_lock(MIGRATION_LOCK, SCHEMA_KEY)
            connection.execute(sa.select(lock))
        command.upgrade(alembic_config(connection), "head")


def alembic_config(connection: sa.Connection) -> Config:
    """Alembic's configuration for running ``scheduler/migrations`` on ``connection``.

    Also the way to write the next revision against a database at the newest one::

        with engine.connect() as c:
            command.revision(alembic_config(c), "what changed", autogenerate=True, rev_id="0002")
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config
