"""The real bot, running against the sandbox in a background thread, for end-to-end tests.

Every bot-level test is written the same way: create customers and staff in the
sandbox, inject what they do, and assert on what the bot sent and stored.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine

from bot.app import build_application, make_deps, run_polling
from bot.config import Config, parse_config
from bot.sandbox import SandboxClient
from bot.sandbox.client import CustomerInfo
from storage.db import make_engine, upgrade
from storage.repository import Repository
from tests.sandbox_fixtures import TEST_TOKEN

DEPARTMENT_NAMES = ("sales", "product", "service")
T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float = 10.0) -> T:
    """Poll until `probe` returns something truthy: the bot records a reply just after sending it."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still {result!r} after {timeout} s")
        time.sleep(0.05)


def bot_config(
    sandbox_url: str,
    database_url: str,
    models_dir: Path,
    staff: dict[str, int],
    admin_id: int,
    **overrides: dict[str, Any],
) -> Config:
    """A config pointed at the sandbox, its staff chats and a test database."""
    raw: dict[str, Any] = {
        "database": {"url": database_url},
        "classifier": {"models_dir": str(models_dir)},
        "telegram": {
            "base_url": f"{sandbox_url}/bot",
            "base_file_url": f"{sandbox_url}/file/bot",
            "request_timeout_seconds": 5.0,
        },
        "intake": {"rate_limit_per_minute": 100},
        "staff": {"triage_chat_id": staff["triage"], "admins": [admin_id]},
        "departments": {
            name: {"staff_chat_id": staff[name], "lead_chat_ids": [admin_id]} for name in DEPARTMENT_NAMES
        },
    }
    for section, values in overrides.items():
        raw.setdefault(section, {}).update(values)
    return parse_config(raw, "test", env={})


class BotThread:
    """Runs the real Application with durable polling on its own event loop."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feedbot", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> BotThread:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the bot did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            application = build_application(make_deps(self.config), TEST_TOKEN)
            self._ready.set()
            await run_polling(application, self._stop)

        try:
            asyncio.run(main())
        except BaseException as error:  # surfaced by the fixture
            self.error = error
            self._ready.set()


@dataclass
class Feedbot:
    """A running bot plus handles on everything a test looks at."""

    sandbox: SandboxClient
    engine: Engine
    repository: Repository
    config: Config
    staff_chats: dict[str, int]
    staff_member: CustomerInfo
    thread: BotThread | None = None
    customers: list[CustomerInfo] = field(default_factory=list)

    def customer(self, name: str = "顾客", language_code: str | None = "zh-hans") -> CustomerInfo:
        person = self.sandbox.create_user(first_name=name, language_code=language_code)
        self.customers.append(person)
        return person

    def say(self, person: CustomerInfo, text: str, replies: int = 1) -> str:
        """Send text as a customer and return the text of the bot's reply to it."""
        before = len(self.sandbox.messages(person.chat_id))
        self.sandbox.send_message(person.id, text)
        sent = self.sandbox.wait_for_messages(person.chat_id, before + replies)
        return sent[before].text or ""


@contextmanager
def running_feedbot(
    sandbox: SandboxClient, models_dir: Path, database_url: str, **overrides: dict[str, Any]
) -> Iterator[Feedbot]:
    """A bot with these config overrides, running for the duration of the block."""
    harness = make_feedbot(sandbox, models_dir, database_url, **overrides)
    harness.thread = BotThread(harness.config).start()
    if harness.thread.error:
        raise harness.thread.error
    try:
        yield harness
    finally:
        harness.thread.stop()


@pytest.fixture
def feedbot(sandbox: SandboxClient, models_dir: Path, tmp_path: Path) -> Iterator[Feedbot]:
    """The bot running against a fresh sandbox and a fresh SQLite file."""
    with running_feedbot(sandbox, models_dir, f"sqlite:///{tmp_path / 'feedbot.db'}") as harness:
        yield harness


def make_feedbot(
    sandbox: SandboxClient, models_dir: Path, database_url: str, **overrides: dict[str, Any]
) -> Feedbot:
    """Set up chats, staff and database for a bot (not started)."""
    staff_member = sandbox.create_user(first_name="Sam", language_code="en")
    staff = {
        name: sandbox.create_group(f"{name} staff", [staff_member.id]).id
        for name in (*DEPARTMENT_NAMES, "triage")
    }
    upgrade(database_url)
    config = bot_config(sandbox.base_url, database_url, models_dir, staff, staff_member.id, **overrides)
    engine = make_engine(database_url)
    return Feedbot(sandbox, engine, Repository(engine), config, staff, staff_member)
