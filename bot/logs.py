"""Logging set-up: one format, quiet libraries, and secrets never written out."""

from __future__ import annotations

import logging
from collections.abc import Iterable

# Libraries that log every HTTP request at INFO, with the bot token in the URL.
_NOISY = ("httpx", "httpcore", "apscheduler", "jieba", "aiohttp.access", "telegram.ext.Application")


class RedactSecrets(logging.Filter):
    """Replace every occurrence of a secret in a record's final message."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        text = message
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret in self.secrets:
                record.exc_text = record.exc_text.replace(secret, "<redacted>")
        if text != message:
            record.msg, record.args = text, None
        return True


def configure_logging(verbose: bool, secrets: Iterable[str] = ()) -> None:
    """Log to stderr; debug with `verbose`; redact `secrets` from every line."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
