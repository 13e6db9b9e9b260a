"""pytest fixtures for bot tests against the Telegram sandbox (real PTB, real HTTP).

Load with `pytest_plugins = ["tests.sandbox_fixtures"]` in tests/conftest.py
(or `-p tests.sandbox_fixtures` on the command line).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram.ext import Application, ApplicationBuilder

from bot.sandbox import SandboxClient, SandboxServer

# Shaped like a real token ("<bot id>:<35 characters>"); the sandbox accepts any such token.
TEST_TOKEN = "7000000001:SANDBOX-test-token-0123456789abcdefg"

# Short timeouts make a broken test fail in seconds instead of PTB's defaults.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 5.0
# getUpdates long-poll length used by running_polling(); short so shutdown is quick.
POLL_TIMEOUT = 1


@pytest.fixture
def sandbox() -> Iterator[SandboxClient]:
    """A fresh sandbox on a free port, in its own thread; yields its control client."""
    server = SandboxServer()
    client = SandboxClient(server.start())
    try:
        yield client
    finally:
        client.close()
        server.stop()


def build_test_application(sandbox: SandboxClient, token: str = TEST_TOKEN) -> ApplicationBuilder:
    """An ApplicationBuilder pointed at the sandbox, exactly as production points at Telegram."""
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{sandbox.base_url}/bot")
        .base_file_url(f"{sandbox.base_url}/file/bot")
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .write_timeout(READ_TIMEOUT)
        .pool_timeout(CONNECT_TIMEOUT)
        .get_updates_connect_timeout(CONNECT_TIMEOUT)
        .get_updates_read_timeout(READ_TIMEOUT)
    )


@asynccontextmanager
async def running_polling(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """Run `app` with long polling for the duration of the block, then shut it down."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=POLL_TIMEOUT)
        try:
            yield
        finally:
            await app.updater.stop()
            await app.stop()


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (for a webhook listener)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
