"""Sending a digest to each lead with retries, and recording how it went."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.digest.builder import Digest
from bot.digest.render import CAPTION_LIMIT, split_message
from storage.records import DigestRunRecord
from storage.repository import Repository

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one Bot API call is retried."""

    # Four tries over about half a minute ride out a Telegram hiccup or a restarting
    # proxy; an outage longer than that is for the next catch-up to handle.
    attempts: int = 4
    first_delay: float = 2.0
    max_delay: float = 30.0
    # Telegram's flood control asks for waits of seconds; one of minutes means the bot is
    # throttled hard, and holding the job that long would delay every other digest.
    max_retry_after: float = 120.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before try `attempt` + 1 (exponential, capped)."""
        return float(min(self.first_delay * 2 ** (attempt - 1), self.max_delay))


@dataclass
class LeadDelivery:
    """What reached one lead: the message ids sent, or the error that stopped it."""

    chat_id: int
    message_ids: list[int] = field(default_factory=list)
    error: str | None = None
    # True when trying again cannot help (blocked bot, unknown chat).
    permanent: bool = False


class DeliveryFailed(Exception):
    """A Bot API call failed for good after its retries."""

    def __init__(self, error: TelegramError, permanent: bool) -> None:
        super().__init__(f"{type(error).__name__}: {error.message}")
        self.permanent = permanent


async def call_with_retry(
    call: Callable[[], Awaitable[Message]], policy: RetryPolicy, what: str
) -> Message:
    """Run one Bot API call, retrying flood control and network errors with backoff."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return await call()
        except (Forbidden, BadRequest, InvalidToken, ChatMigrated) as error:
            # Checked before NetworkError: BadRequest is a subclass of it, yet retrying
            # a refused request only gets it refused again.
            raise DeliveryFailed(error, permanent=True) from error
        except RetryAfter as error:
            wait = error.retry_after
            seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
            if attempt == policy.attempts or seconds > policy.max_retry_after:
                raise DeliveryFailed(error, permanent=False) from error
            _LOGGER.warning("%s: flood control, retrying in %.0f s", what, seconds)
            await asyncio.sleep(seconds)
        except NetworkError as error:
            if attempt == policy.attempts:
                raise DeliveryFailed(error, permanent=False) from error
            delay = policy.delay(attempt)
            _LOGGER.warning("%s failed (%s), retrying in %.1f s", what, error, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def deliver_to_lead(
    bot: Bot, chat_id: int, digest: Digest, policy: RetryPolicy
) -> LeadDelivery:
    """Send the digest's messages, then its chart, to one chat."""
    result = LeadDelivery(chat_id)
    caption = split_message(digest.caption, CAPTION_LIMIT)[0]
    try:
        for part, text in enumerate(digest.messages, start=1):
            message = await call_with_retry(
                partial(
                    bot.send_message,
                    chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    # One notification per digest, not one per part.
                    disable_notification=part > 1,
                ),
                policy,
                f"digest part {part} to chat {chat_id}",
            )
            result.message_ids.append(message.message_id)
        if digest.chart is not None:
            message = await call_with_retry(
                partial(
                    bot.send_photo,
                    chat_id,
                    digest.chart,
                    caption=caption,
                    parse_mode=ParseMode.HTML,
                    disable_notification=True,
                ),
                policy,
                f"digest chart to chat {chat_id}",
            )
            result.message_ids.append(message.message_id)
    except DeliveryFailed as failure:
        result.error = str(failure)
        result.permanent = failure.permanent
        _LOGGER.error("digest to chat %s not delivered: %s", chat_id, failure)
    return result


@dataclass(frozen=True)
class DeliveryReport:
    """How one claimed digest ended, as recorded in the database."""

    run: DigestRunRecord
    leads: list[LeadDelivery]

    @property
    def retryable(self) -> bool:
        """Nobody got it and at least one failure may be temporary: try the period again."""
        nothing_sent = not any(lead.message_ids for lead in self.leads)
        return nothing_sent and any(lead.error and not lead.permanent for lead in self.leads)


async def deliver_digest(
    bot: Bot,
    repository: Repository,
    run: DigestRunRecord,
    digest: Digest,
    lead_chat_ids: Sequence[int],
    policy: RetryPolicy,
) -> DeliveryReport:
    """Send a claimed digest to every lead (one lead's failure does not stop the others)."""
    leads = [await deliver_to_lead(bot, chat_id, digest, policy) for chat_id in lead_chat_ids]
    failed = [lead for lead in leads if lead.error]
    sent_ids = [message_id for lead in leads for message_id in lead.message_ids]
    error = "; ".join(f"chat {lead.chat_id}: {lead.error}" for lead in failed) or None
    if failed and sent_ids:
        # A retry would send everything again to the leads who already have it.
        reached = len(leads) - len(failed)
        error = f"{error} (delivered to {reached} of {len(leads)} leads; not retried)"
    finished = await asyncio.to_thread(
        repository.finish_digest, run.id, "failed" if failed else "sent", sent_ids, error
    )
    return DeliveryReport(finished, leads)
