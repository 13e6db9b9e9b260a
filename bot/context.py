"""What every handler needs, kept in `application.bot_data` under one typed key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from bot.config import Config
from bot.service import FeedbackService, RateLimiter

DEPS_KEY = "feedbot"


@dataclass
class BotDeps:
    """Services and settings shared by the handlers."""

    config: Config
    engine: Engine
    service: FeedbackService
    rate_limiter: RateLimiter
    # Update ids whose handling failed because storage was unreachable; the poller
    # retries them instead of confirming them to Telegram.
    failed_updates: set[int] = field(default_factory=set)
    # Update ids for which the customer was already told about the outage.
    apologised: set[int] = field(default_factory=set)

    def staff_chat_for(self, queue: str) -> int | None:
        """The chat where items of a queue are posted (department chat, else triage)."""
        department = self.config.departments.get(queue)
        if department is not None and department.staff_chat_id:
            return department.staff_chat_id
        triage = int(self.config.get("staff", "triage_chat_id"))
        return triage or None

    def staff_chat_ids(self) -> set[int]:
        chats = {d.staff_chat_id for d in self.config.departments.values() if d.staff_chat_id}
        triage = int(self.config.get("staff", "triage_chat_id"))
        return chats | ({triage} if triage else set())


def deps_of(bot_data: dict[str, Any]) -> BotDeps:
    """The BotDeps stored by build_application."""
    deps = bot_data[DEPS_KEY]
    assert isinstance(deps, BotDeps)
    return deps
