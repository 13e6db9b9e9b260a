"""Pushing updates to the bot's webhook, one at a time and in order, retrying failures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import aiohttp

from bot.sandbox.notify import Notifier
from bot.sandbox.state import SandboxState, Webhook, now

_LOGGER = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram backs off for minutes; a sandbox used by tests should retry quickly instead.
DEFAULT_RETRY_DELAY = 0.2
MAX_RETRY_DELAY = 5.0
# How long one webhook request may take before it counts as failed.
DELIVERY_TIMEOUT = 10.0
# Even without a notification, re-check this often in case state changed underneath.
IDLE_RECHECK = 1.0


class WebhookSender:
    """Delivers pending updates to state.webhook; confirmed only when the bot answers 2xx."""

    def __init__(
        self, state: SandboxState, notifier: Notifier, retry_delay: float = DEFAULT_RETRY_DELAY
    ) -> None:
        self.state = state
        self.notifier = notifier
        self.retry_delay = retry_delay
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Start the delivery loop on the running event loop."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT))
        self._task = asyncio.create_task(self._run(), name="sandbox-webhook-sender")

    async def stop(self) -> None:
        """Stop delivering and close connections."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        failures = 0
        while True:
            hook = self.state.webhook
            pending = self.state.deliverable_updates(hook.allowed_updates, 1) if hook is not None else []
            if hook is None or not pending:
                failures = 0
                await self.notifier.wait(IDLE_RECHECK)
                continue
            update = pending[0]
            error = await self._post(hook, update)
            if error is None:
                failures = 0
                hook.delivered += 1
                self.state.updates = [u for u in self.state.updates if u["update_id"] != update["update_id"]]
                continue
            failures += 1
            hook.last_error_date = now()
            hook.last_error_message = error
            _LOGGER.info("Webhook delivery to %s failed: %s", hook.url, error)
            delay = min(self.retry_delay * 2 ** min(failures - 1, 10), MAX_RETRY_DELAY)
            # Wake early if the webhook is changed or removed meanwhile.
            await self.notifier.wait(delay)

    async def _post(self, hook: Webhook, update: dict[str, object]) -> str | None:
        """POST one update; None on success, else Telegram's wording of the failure."""
        assert self._session is not None
        # PTB's webhook server insists on exactly this content type.
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        try:
            async with self._session.post(
                hook.url, data=json.dumps(update).encode(), headers=headers
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientConnectorError:
            return "Connection refused"
        except (aiohttp.ClientError, OSError) as exc:
            return f"Connection failed: {exc.__class__.__name__}"
