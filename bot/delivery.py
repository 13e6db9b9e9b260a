"""Bot API calls that survive Telegram's bad moments: 429s are waited out, 5xx retried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

# Telegram's 429s carry their own wait; server errors and dropped connections
# get this many more tries, doubling the pause from RETRY_BASE_SECONDS.
NETWORK_RETRIES = 5
RETRY_BASE_SECONDS = 0.5
FLOOD_RETRIES = 5


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter (flood limits, RetryAfter) plus retries of transient network errors."""

    def __init__(
        self, network_retries: int = NETWORK_RETRIES, base_delay: float = RETRY_BASE_SECONDS
    ) -> None:
        super().__init__(max_retries=FLOOD_RETRIES)
        self.network_retries = network_retries
        self.base_delay = base_delay

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send one request, retrying server errors with exponential backoff."""
        attempt = 0
        while True:
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except BadRequest:
                raise  # our request is wrong; sending it again cannot help
            except NetworkError as error:
                # getUpdates has its own loop; retrying it here would only delay shutdown.
                if endpoint == "getUpdates" or attempt >= self.network_retries:
                    raise
                delay = self.base_delay * 2**attempt
                attempt += 1
                log.warning("%s failed (%s); retry %d in %.1fs", endpoint, error, attempt, delay)
                await asyncio.sleep(delay)
