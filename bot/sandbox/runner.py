"""Running the sandbox: in a background thread for tests, or in the foreground for operators."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import Any

from aiohttp import web

from bot.sandbox.server import Sandbox

_LOGGER = logging.getLogger(__name__)

# How long start() and stop() wait for the server thread before giving up.
THREAD_TIMEOUT = 10.0
# Grace period for requests still running at stop(), such as a parked getUpdates.
SHUTDOWN_TIMEOUT = 1.0


class SandboxServer:
    """The sandbox on its own event loop in a daemon thread.

    The bot under test runs on the caller's loop and talks to the sandbox over
    real HTTP; a separate loop keeps a blocked test loop from stalling the server.
    """

    def __init__(self, **config: Any) -> None:
        self.sandbox = Sandbox(**config)
        self.base_url: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving; returns the base URL, e.g. http://127.0.0.1:54321."""
        if self._thread is not None:
            raise RuntimeError("the sandbox server is already running")
        # Binding here, in the caller's thread, makes port 0 resolve before start() returns.
        sock = socket.create_server((host, port))
        bound_host, bound_port = sock.getsockname()[:2]
        self._thread = threading.Thread(target=self._serve, args=(sock,), name="sandbox-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(THREAD_TIMEOUT):
            raise RuntimeError("the sandbox server did not start in time")
        if self._startup_error is not None:
            raise RuntimeError("the sandbox server failed to start") from self._startup_error
        url_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        self.base_url = f"http://{url_host}:{bound_port}"
        return self.base_url

    def stop(self) -> None:
        """Stop serving and join the thread; safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            try:
                future.result(THREAD_TIMEOUT)
            finally:
                loop.call_soon_threadsafe(loop.stop)
        thread.join(THREAD_TIMEOUT)
        self._thread = None
        self._loop = None
        self.base_url = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _serve(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._startup(sock))
        except BaseException as exc:  # reported to start() in the other thread
            self._startup_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _startup(self, sock: socket.socket) -> None:
        # Open long polls would otherwise hold stop() for aiohttp's default 60 s; the
        # access log stays off because request paths contain the bot token.
        self._runner = web.AppRunner(
            self.sandbox.build_app(),
            handle_signals=False,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            access_log=None,
        )
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def serve_forever(host: str = "127.0.0.1", port: int = 8081, **config: Any) -> None:
    """Run the sandbox in the foreground until interrupted (the `feedbot sandbox` command)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Sandbox(**config).build_app()
    base = f"http://{host}:{port}"

    def announce(_: str) -> None:
        print(f"Telegram sandbox listening on {base}")
        print(f'  point the bot at it: telegram.base_url = "{base}/bot"')
        print(f'                       telegram.base_file_url = "{base}/file/bot"')
        print(f"  control API:         {base}/control/bot")

    # No access log: request paths contain the bot token. The server logs calls itself.
    web.run_app(
        app,
        host=host,
        port=port,
        print=announce,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        access_log=None,
    )
