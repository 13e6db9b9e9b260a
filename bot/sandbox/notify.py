"""Waking coroutines that wait for new updates, without lost wake-ups or busy loops."""

from __future__ import annotations

import asyncio


class Notifier:
    """Waiters check their condition, then wait(); notify() wakes all current waiters.

    Because a waiter registers synchronously right after checking, a notify()
    can never slip in between (everything runs on one event loop).
    """

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        """Wake everyone waiting now."""
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, timeout: float) -> bool:
        """Wait for the next notify(); False if the timeout passed first."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)
        return True
