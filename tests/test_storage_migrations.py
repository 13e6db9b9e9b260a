"""Schema migrations, schema checks and what users see when the database is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from storage.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    check_schema,
    downgrade,
    head_revision,
    make_engine,
    schema_revision,
    upgrade,
)
from storage.errors import DatabaseUnavailable, SchemaError, SchemaOutdated
from storage.models import Base
from storage.repository import Repository

TABLES = {
    "customers",
    "feedback_items",
    "label_changes",
    "staff_members",
    "departments",
    "digest_runs",
    "model_versions",
}


def table_names(engine: Engine) -> set[str]:
    """Return the application tables present, leaving out Alembic's bookkeeping."""
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_creates_every_table_and_downgrade_removes_them(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert table_names(engine) == set()

        upgrade(db_url)
        assert table_names(engine) == TABLES
        assert schema_revision(engine) == head_revision()

        downgrade(db_url, "base")
        assert table_names(engine) == set()
        assert schema_revision(engine) is None
    finally:
        engine.dispose()


def test_migrations_match_the_models(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrading_twice_is_harmless(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        check_schema(engine)
    finally:
        engine.dispose()


def test_empty_database_is_reported_with_the_command_to_run(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with pytest.raises(SchemaOutdated) as raised:
            check_schema(engine)
        message = str(raised.value)
        assert "none (empty database)" in message
        assert f"code needs {head_revision()}" in message
        assert "run `feedbot db upgrade`" in message

        upgrade(db_url)
        check_schema(engine)

        downgrade(db_url, "base")
        with pytest.raises(SchemaOutdated, match="feedbot db upgrade"):
            check_schema(engine)
    finally:
        engine.dispose()


def test_database_from_newer_code_is_not_called_outdated(migrated_engine: Engine) -> None:
    with migrated_engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))

    with pytest.raises(SchemaError, match="revision 9999, which this code does not know") as raised:
        check_schema(migrated_engine)
    assert not isinstance(raised.value, SchemaOutdated)


def test_sqlite_engine_creates_its_directory_and_uses_wal_and_foreign_keys(
    tmp_path: Path,
) -> None:
    path = tmp_path / "var" / "data" / "feedbot.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
        assert path.exists()
    finally:
        engine.dispose()


def test_unreachable_postgres_names_host_and_port_but_not_password() -> None:
    url = "postgresql+psycopg://feedbot:s3cret@127.0.0.1:1/feedbot?connect_timeout=2"
    engine = make_engine(url)
    try:
        with pytest.raises(DatabaseUnavailable) as raised:
            check_schema(engine)
        message = str(raised.value)
        assert "cannot connect to the database at" in message
        assert "127.0.0.1:1/feedbot" in message
        assert "s3cret" not in message
        assert "***" in message

        with pytest.raises(DatabaseUnavailable, match=r"127\.0\.0\.1:1"):
            Repository(engine).get_customer(1)
    finally:
        engine.dispose()


def test_upgrade_of_unreachable_database_says_so() -> None:
    with pytest.raises(DatabaseUnavailable, match=r"127\.0\.0\.1:1"):
        upgrade("postgresql+psycopg://postgres@127.0.0.1:1/feedbot?connect_timeout=2")


def test_sqlite_file_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "plain-file"
    not_a_directory.write_text("")
    with pytest.raises(DatabaseUnavailable, match="plain-file"):
        make_engine(f"sqlite:///{not_a_directory / 'feedbot.db'}")

    directory_as_database = tmp_path / "a-directory"
    directory_as_database.mkdir()
    engine = make_engine(f"sqlite:///{directory_as_database}")
    try:
        with pytest.raises(DatabaseUnavailable, match="a-directory"):
            check_schema(engine)
    finally:
        engine.dispose()
