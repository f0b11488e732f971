"""Shared fixtures: a migrated ``store`` on each backend, and a private PostgreSQL URL.

The PostgreSQL tests run in a schema of their own (created before, dropped after each
test) in the database named by ``DUBAN_TEST_POSTGRES_URL``. Without a server they skip,
unless ``DUBAN_REQUIRE_POSTGRES=1`` turns the skip into a failure (as CI should).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from scheduler.store import Store

pytest_plugins = ["tests.smtpserver"]  # the aiosmtpd ``smtp_server`` fixture, for every test

POSTGRES_URL = os.environ.get(
    "DUBAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[sa.Engine]:
    """An engine on the test server, or a skip (a failure when PostgreSQL is required)."""
    engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        engine.dispose()
        reason = f"PostgreSQL unreachable at {POSTGRES_URL}: {error.orig}"
        if os.environ.get("DUBAN_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    yield engine
    engine.dispose()


@pytest.fixture
def new_pg_url(postgres_server: sa.Engine) -> Iterator[Callable[[], str]]:
    """Make URLs whose connections each see only a fresh schema, dropped after the test."""
    schemas: list[str] = []

    def make() -> str:
        schema = f"test_{uuid.uuid4().hex[:12]}"
        with postgres_server.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        schemas.append(schema)
        separator = "&" if "?" in POSTGRES_URL else "?"
        return f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"

    yield make
    with postgres_server.begin() as connection:
        for schema in schemas:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_url(new_pg_url: Callable[[], str]) -> str:
    """A URL of an empty PostgreSQL database of the test's own (a fresh schema)."""
    return new_pg_url()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'duban.db'}"


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def store_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty database on each backend."""
    return request.getfixturevalue("pg_url" if request.param == "postgresql" else "sqlite_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated, empty store on each backend."""
    store = Store(store_url)
    store.migrate()
    yield store
    store.dispose()
