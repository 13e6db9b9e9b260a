"""Feedback storage: SQLAlchemy models, migrations and the Repository the bot calls."""

from storage.db import check_schema, downgrade, make_engine, upgrade
from storage.errors import (
    DatabaseUnavailable,
    NotFound,
    SchemaError,
    SchemaOutdated,
    StorageError,
)
from storage.repository import Repository

__all__ = [
    "DatabaseUnavailable",
    "NotFound",
    "Repository",
    "SchemaError",
    "SchemaOutdated",
    "StorageError",
    "check_schema",
    "downgrade",
    "make_engine",
    "upgrade",
]
