"""Engines, sessions and schema migrations for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import DatabaseUnavailable, SchemaError, SchemaOutdated

__all__ = [
    "DatabaseUnavailable",
    "SchemaError",
    "SchemaOutdated",
    "check_schema",
    "downgrade",
    "for_writing",
    "head_revision",
    "make_engine",
    "schema_revision",
    "session_factory",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
UPGRADE_COMMAND = "feedbot db upgrade"

# Writers wait for each other instead of failing; every bot transaction lasts milliseconds,
# so ten seconds of queueing means something is badly wrong rather than merely busy.
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Without a timeout an unreachable PostgreSQL host hangs start-up for minutes of TCP retries.
POSTGRES_CONNECT_TIMEOUT_S = 10

_WRITE_OPTION = "feedbot_write"


def describe_url(url: str | URL) -> str:
    """Return the URL with its password masked, fit for logs and error messages."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str | URL) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL with the settings the bot relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed)
    else:
        connect_args: dict[str, Any] = {}
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
        # Pre-ping replaces connections the server closed while the bot sat idle overnight.
        engine = create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    event.listen(engine, "handle_error", _unavailable_on_connect_failure)
    return engine


def for_writing(engine: Engine) -> Engine:
    """Return a view of `engine` whose transactions take the write lock up front on SQLite."""
    return engine.execution_options(**{_WRITE_OPTION: True})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        parent = Path(database).expanduser().parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseUnavailable(
                f"cannot create the directory {parent} for the SQLite database "
                f"{describe_url(url)}: {error}"
            ) from error
    engine = create_engine(url)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Stop the sqlite3 module issuing its own BEGIN; _begin_sqlite_transaction does it properly.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        # WAL lets readers (digests, staff lookups) run while the intake handler writes.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once with "database is
    # locked" if another writer committed in between; IMMEDIATE waits for the lock instead.
    if connection.get_execution_options().get(_WRITE_OPTION, False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def _unavailable_on_connect_failure(context: ExceptionContext) -> None:
    if context.connection is not None and not context.is_disconnect:
        return
    engine = context.engine
    where = describe_url(engine.url) if engine is not None else "the configured URL"
    lines = str(context.original_exception).strip().splitlines()
    detail = lines[0] if lines else type(context.original_exception).__name__
    raise DatabaseUnavailable(f"cannot connect to the database at {where}: {detail}")


def alembic_config(url: str | URL | None = None) -> Config:
    """Build the Alembic configuration in code, so no alembic.ini is needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser treats "%" as interpolation; passwords may contain it.
        rendered = make_url(url).render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision` (default: the newest)."""
    _run_migration(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str | URL, revision: str) -> None:
    """Migrate the database at `url` down to `revision` ("base" removes every table)."""
    _run_migration(url, lambda config: command.downgrade(config, revision))


def _run_migration(url: str | URL, run: Callable[[Config], object]) -> None:
    engine = make_engine(url)
    try:
        # One outer transaction: a failed migration leaves nothing half-applied
        # (PostgreSQL and SQLite both have transactional DDL).
        with for_writing(engine).begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            run(config)
    finally:
        engine.dispose()


def head_revision() -> str:
    """Return the schema revision this code needs."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise SchemaError(f"migrations have {len(heads)} heads {heads}; merge them")
    return heads[0]


def schema_revision(engine: Engine) -> str | None:
    """Return the revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_schema(engine: Engine) -> None:
    """Raise SchemaOutdated unless the database is at the revision this code needs."""
    needed = head_revision()
    current = schema_revision(engine)
    if current == needed:
        return
    script = ScriptDirectory.from_config(alembic_config())
    known = {revision.revision for revision in script.walk_revisions()}
    if current is not None and current not in known:
        raise SchemaError(
            f"database schema is at revision {current}, which this code does not know "
            f"(it needs {needed}): the database was migrated by a newer feedbot"
        )
    shown = current if current is not None else "none (empty database)"
    raise SchemaOutdated(
        f"database schema is at revision {shown}, code needs {needed}: run `{UPGRADE_COMMAND}`"
    )
