"""Storage test fixtures: each test gets its own empty SQLite file or PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from storage.db import make_engine, upgrade
from storage.repository import Repository

__all__ = ["db_url", "migrated_engine", "postgres_server", "repo"]

POSTGRES_URL_VARIABLE = "FEEDBOT_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_VARIABLE = "FEEDBOT_REQUIRE_POSTGRES"
# The CI service: trust auth, so no password lives in the repository.
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class PostgresServer:
    """A reachable PostgreSQL server on which tests create throwaway databases."""

    def __init__(self, admin_url: URL) -> None:
        self.admin_url = admin_url
        # AUTOCOMMIT because CREATE/DROP DATABASE cannot run inside a transaction.
        self._admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def probe(self) -> None:
        """Raise OperationalError if the server cannot be reached."""
        with self._admin.connect() as connection:
            connection.execute(text("SELECT 1"))

    def create_database(self) -> URL:
        """Create an empty, uniquely named database and return its URL."""
        name = f"feedbot_test_{uuid.uuid4().hex[:16]}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        return self.admin_url.set(database=name)

    def drop_database(self, url: URL) -> None:
        """Drop a database made by create_database, even if a test left connections open."""
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))

    def dispose(self) -> None:
        """Close the admin engine."""
        self._admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | str]:
    """The PostgreSQL server for tests, or the reason it cannot be used."""
    url = make_url(os.environ.get(POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL))
    url = url.update_query_dict({"connect_timeout": "3"})
    server = PostgresServer(url)
    try:
        server.probe()
    except OperationalError as error:
        server.dispose()
        first_line = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        yield (
            f"PostgreSQL at {url.render_as_string(hide_password=True)} is unreachable "
            f"({first_line}); set {POSTGRES_URL_VARIABLE} to point elsewhere"
        )
        return
    yield server
    server.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server: PostgresServer | str
) -> Iterator[str]:
    """URL of an empty database of its own, once per backend (SQLite file, PostgreSQL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'feedbot.db'}"
        return
    if isinstance(postgres_server, str):
        if os.environ.get(REQUIRE_POSTGRES_VARIABLE) == "1":
            pytest.fail(f"{REQUIRE_POSTGRES_VARIABLE}=1 but {postgres_server}")
        pytest.skip(postgres_server)
    url = postgres_server.create_database()
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        postgres_server.drop_database(url)


@pytest.fixture
def migrated_engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database upgraded to the newest schema."""
    upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def repo(migrated_engine: Engine) -> Repository:
    """A Repository on a freshly migrated database."""
    return Repository(migrated_engine)
