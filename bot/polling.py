"""Long polling that confirms an update to Telegram only after it has been handled.

PTB's own updater confirms updates as soon as it fetches the next batch, so a
crash can lose messages that were fetched but not yet stored. Here the next
getUpdates (which confirms the previous batch) is sent only after every update
of the batch was handled; a crash means Telegram delivers the batch again, and
idempotent intake stores each message once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict

from telegram import Update
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.context import deps_of

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 30.0


async def poll_until_stopped(application: Application, stop: asyncio.Event, timeout: int = 10) -> None:
    """Fetch, handle and only then confirm updates until `stop` is set."""
    offset: int | None = None
    failures = 0
    while not stop.is_set():
        try:
            updates = await _fetch_or_stop(application, offset, timeout, stop)
            if updates is None:
                return
            failures = 0
        except RetryAfter as error:
            await _sleep_or_stop(stop, _seconds(error.retry_after))
            continue
        except (TimedOut, NetworkError) as error:
            failures += 1
            delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2**failures)
            log.warning("getUpdates failed (%s); retrying in %.1fs", error, delay)
            await _sleep_or_stop(stop, delay)
            continue
        if not updates:
            continue
        if not await handle_batch(application, list(updates), stop):
            return  # stopping with updates unhandled: leave them unconfirmed
        offset = updates[-1].update_id + 1


async def _fetch_or_stop(
    application: Application, offset: int | None, timeout: int, stop: asyncio.Event
) -> tuple[Update, ...] | None:
    """One long poll, abandoned (None) as soon as `stop` is set so shutdown is prompt."""
    fetch = asyncio.ensure_future(
        application.bot.get_updates(offset=offset, timeout=timeout, allowed_updates=Update.ALL_TYPES)
    )
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if fetch.done():
        stopping.cancel()
        return fetch.result()
    # Abandoning the request confirms nothing: the offset is only sent with the next call.
    fetch.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await fetch
    return None


async def handle_batch(application: Application, updates: list[Update], stop: asyncio.Event) -> bool:
    """Handle a batch: chats in parallel, each chat in order; False if stopped before done."""
    deps = deps_of(application.bot_data)
    pending = updates
    attempt = 0
    while pending:
        by_chat: defaultdict[int, list[Update]] = defaultdict(list)
        for update in pending:
            chat = update.effective_chat
            by_chat[chat.id if chat else 0].append(update)
        await asyncio.gather(
            *(_handle_in_order(application, chat_updates) for chat_updates in by_chat.values())
        )
        failed_ids = {u.update_id for u in pending} & deps.failed_updates
        deps.failed_updates -= failed_ids
        # Handled now: forget that the customer was told about an outage for it.
        deps.apologised -= {u.update_id for u in pending} - failed_ids
        pending = [u for u in pending if u.update_id in failed_ids]
        if pending:
            attempt += 1
            delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2**attempt)
            log.warning("%d updates could not be stored; retrying in %.1fs", len(pending), delay)
            if await _sleep_or_stop(stop, delay):
                return False
    return True


async def _handle_in_order(application: Application, updates: list[Update]) -> None:
    for update in updates:
        await application.process_update(update)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep, waking early if asked to stop; True when stopping."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
        return True
    except TimeoutError:
        return False


def _seconds(value: object) -> float:
    total_seconds = getattr(value, "total_seconds", None)
    return float(total_seconds()) if callable(total_seconds) else float(value)  # type: ignore[arg-type]
