"""Exceptions raised by the storage layer."""

from __future__ import annotations


class StorageError(Exception):
    """Base class for every error the storage layer raises on purpose."""


class DatabaseUnavailable(StorageError):
    """The database could not be reached or opened."""


class SchemaError(StorageError):
    """The database schema does not match what this code expects."""


class SchemaOutdated(SchemaError):
    """The database needs `feedbot db upgrade` before the bot can use it."""


class NotFound(StorageError, LookupError):
    """A row the caller named by id or key does not exist."""
