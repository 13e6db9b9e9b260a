"""Storage test fixtures: each test gets its own empty SQLite file or PostgreSQL schema."""

from __future__ import annotations

import io
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from storage.db import alembic_config, make_engine, upgrade
from storage.repository import Repository

__all__ = [
    "db_url",
    "migrated_engine",
    "migrated_sqlite_file",
    "postgres_schema_sql",
    "postgres_server",
    "repo",
]

POSTGRES_URL_VARIABLE = "FEEDBOT_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_VARIABLE = "FEEDBOT_REQUIRE_POSTGRES"
# The CI service: trust auth, so no password lives in the repository.
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class PostgresServer:
    """A reachable PostgreSQL database in which each test gets a schema of its own."""

    def __init__(self, admin_url: URL) -> None:
        self.admin_url = admin_url
        self._admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def probe(self) -> None:
        """Raise OperationalError if the server cannot be reached."""
        with self._admin.connect() as connection:
            connection.execute(text("SELECT 1"))

    def create_schema(self) -> URL:
        """Create an empty, uniquely named schema; return a URL whose connections use only it."""
        # A schema rather than a database: creating and dropping a database took about
        # 0.4 s per test (it writes and syncs files), a schema a few milliseconds.
        name = f"feedbot_test_{uuid.uuid4().hex[:16]}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
        return self.admin_url.update_query_dict({"options": f"-csearch_path={name}"})

    def drop_schema(self, url: URL) -> None:
        """Drop a schema made by create_schema, with everything in it."""
        name = str(url.query["options"]).removeprefix("-csearch_path=")
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))

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
    """URL of an empty database of its own: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'feedbot.db'}"
        return
    if isinstance(postgres_server, str):
        if os.environ.get(REQUIRE_POSTGRES_VARIABLE) == "1":
            pytest.fail(f"{REQUIRE_POSTGRES_VARIABLE}=1 but {postgres_server}")
        pytest.skip(postgres_server)
    url = postgres_server.create_schema()
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        postgres_server.drop_schema(url)


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file upgraded to the newest schema once, for tests to copy."""
    path = tmp_path_factory.mktemp("template") / "feedbot.db"
    # upgrade() disposes its engine, so the WAL is checkpointed into this one file.
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_schema_sql() -> str:
    """The SQL that `upgrade` runs on PostgreSQL, rendered once by Alembic's offline mode."""
    buffer = io.StringIO()
    config = alembic_config("postgresql+psycopg://")
    config.output_buffer = buffer
    command.upgrade(config, "head", sql=True)
    return buffer.getvalue()


@pytest.fixture
def migrated_engine(db_url: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """An engine on the test's database after migrating it to the newest schema."""
    # Running the migrations for every test costs 0.1-0.3 s each; the migration tests
    # run them for real, the other tests get the same result copied or replayed.
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), url.database or "")
        engine = make_engine(db_url)
    else:
        engine = make_engine(db_url)
        # The script brings its own BEGIN and COMMIT.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(request.getfixturevalue("postgres_schema_sql"))
    yield engine
    engine.dispose()


@pytest.fixture
def repo(migrated_engine: Engine) -> Repository:
    """A Repository on a freshly migrated database."""
    return Repository(migrated_engine)
