"""Background jobs of the bot process: unanswered customers, expired choices."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot.context import deps_of
from bot.handlers.customer import reply_to_customer
from bot.handlers.staff import post_to_staff
from bot.service import utcnow

log = logging.getLogger(__name__)


async def answer_unanswered(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reply to messages stored before a crash or outage whose customer never got an answer."""
    deps = deps_of(context.bot_data)
    service = deps.service
    # An item younger than one interval may still be in its handler; leave it alone.
    grace = timedelta(seconds=float(deps.config.get("intake", "retry_unanswered_seconds")))
    items = await asyncio.to_thread(
        service.repository.items_awaiting_reply, 100, received_before=utcnow() - grace
    )
    for stored in items:
        if stored.routed_queue is None:
            # Stored but never classified: the crash came between the two.
            outcome = await asyncio.to_thread(service.reclassify, stored.id)
        else:
            outcome = await asyncio.to_thread(service.outcome_for, stored, stored.language)
        try:
            await reply_to_customer(context, outcome, reply_to=stored.message_id)
        except (Forbidden, BadRequest) as error:
            log.warning("cannot reply to %s (%s); giving up on the confirmation", stored.ticket, error)
        await asyncio.to_thread(service.mark_replied, stored.id)
        if outcome.action in ("routed", "no_text"):
            await post_to_staff(context, outcome.item)


async def expire_choices(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send items whose customer did not pick a department in time to triage."""
    deps = deps_of(context.bot_data)
    for item in await asyncio.to_thread(deps.service.expire_choices):
        log.info("%s: no customer choice in time, sent to triage", item.ticket)
        await post_to_staff(context, item)
