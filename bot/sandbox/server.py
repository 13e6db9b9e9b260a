"""The sandbox's aiohttp application: Bot API routes, file downloads and the control API."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

from aiohttp import web

from bot.sandbox.botapi import Answer, BotApi
from bot.sandbox.control import ControlApi, control_errors
from bot.sandbox.errors import ApiError
from bot.sandbox.notify import Notifier
from bot.sandbox.params import Params, Upload
from bot.sandbox.state import Fault, RequestLogEntry, SandboxState
from bot.sandbox.webhook import DEFAULT_RETRY_DELAY, WebhookSender

_LOGGER = logging.getLogger(__name__)

# Telegram tokens are "<bot id>:<secret>"; anything else is refused with 401.
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,200}$")
# Telegram accepts uploads up to 50 MB; leave room for the multipart envelope.
MAX_REQUEST_BYTES = 64 * 1024 * 1024

_UNAUTHORIZED = ApiError(401, "Unauthorized")
_NOT_FOUND = ApiError(404, "Not Found")


class Sandbox:
    """One sandbox: its state and the pieces that serve it over HTTP."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_first_name: str = "Feedback Bot (sandbox)",
        bot_username: str = "feedbot_sandbox_bot",
        privacy_mode: bool = True,
        webhook_retry_delay: float = DEFAULT_RETRY_DELAY,
    ) -> None:
        if token is not None and not _TOKEN_RE.match(token):
            raise ValueError("token must look like a Telegram token: '<digits>:<secret>'")
        self.state = SandboxState(
            token=token,
            bot_first_name=bot_first_name,
            bot_username=bot_username,
            privacy_mode=privacy_mode,
        )
        self.notifier = Notifier()
        self.state.on_update = self.notifier.notify
        self.bot_api = BotApi(self.state, self.notifier)
        self.control = ControlApi(self.state, self.notifier, self.bot_api.method_names)
        self.webhooks = WebhookSender(self.state, self.notifier, webhook_retry_delay)

    def build_app(self) -> web.Application:
        """The aiohttp application; the webhook sender runs while the app does."""
        app = web.Application(client_max_size=MAX_REQUEST_BYTES, middlewares=[control_errors])
        app.router.add_route("*", "/bot{token}/{method}", self._bot_method)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._download)
        self.control.add_routes(app)
        app.on_startup.append(self._on_startup)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _on_startup(self, app: web.Application) -> None:
        await self.webhooks.start()

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.webhooks.stop()

    async def _bot_method(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if not self._authorized(request.match_info["token"]):
            return _error_response(_UNAUTHORIZED)
        found = self.bot_api.lookup(method)
        name = found[0] if found else method
        self.state.count_call(name)
        fault = self.state.take_fault(name)
        if fault is not None:
            faulted = await self._apply_fault(request, name, fault)
            if faulted is not None:
                return faulted
        started = time.time()
        try:
            params = await _read_params(request)
        except ApiError as exc:
            return _error_response(exc)
        if found is None:
            _LOGGER.warning("Bot API method %s is not implemented by the sandbox", method)
            self._log(name, params, _NOT_FOUND, started)
            return _error_response(_NOT_FOUND)
        try:
            result = await found[1](params)
        except ApiError as exc:
            self._log(name, params, exc, started)
            return _error_response(exc)
        self._log(name, params, None, started)
        body: dict[str, Any] = {"ok": True}
        if isinstance(result, Answer):
            body["result"] = result.result
            if result.description:
                body["description"] = result.description
        else:
            body["result"] = result
        return web.json_response(body)

    def _authorized(self, token: str) -> bool:
        return bool(_TOKEN_RE.match(token)) and self.state.accept_token(token)

    async def _apply_fault(
        self, request: web.Request, method: str, fault: Fault
    ) -> web.StreamResponse | None:
        """Answer as the fault says; None means carry on normally (after a delay)."""
        error: ApiError | None = None
        if fault.kind == "delay":
            await asyncio.sleep(fault.delay)
            return None
        if fault.kind == "429":
            error = ApiError(
                429,
                f"Too Many Requests: retry after {fault.retry_after}",
                {"retry_after": fault.retry_after},
            )
        elif fault.kind == "500":
            error = ApiError(500, "Internal Server Error")
        if error is not None:
            self._log(method, Params({}), error, time.time())
            return _error_response(error)
        # "drop": close the TCP connection without any HTTP answer.
        self._log(method, Params({}), ApiError(0, "connection dropped"), time.time())
        if request.transport is not None:
            request.transport.close()
        raise web.HTTPInternalServerError  # never reaches the client: the socket is gone

    def _log(self, method: str, params: Params, error: ApiError | None, started: float) -> None:
        status = 200 if error is None else error.status
        # getUpdates runs every few seconds while a bot polls; keep it out of INFO.
        level = logging.DEBUG if method == "getUpdates" and error is None else logging.INFO
        _LOGGER.log(level, "%s -> %s%s", method, status, f" {error.description}" if error else "")
        self.state.log_request(
            RequestLogEntry(
                method=method,
                params=params.as_dict(),
                status=status,
                time=started,
                description=None if error is None else error.description,
            )
        )

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request.match_info["token"]):
            return _error_response(_UNAUTHORIZED)
        stored = self.state.files_by_path.get(request.match_info["file_path"])
        if stored is None:
            return _error_response(_NOT_FOUND)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")


def create_app(**config: Any) -> web.Application:
    """A ready-to-run aiohttp app for a new Sandbox (config as for Sandbox)."""
    return Sandbox(**config).build_app()


def _error_response(error: ApiError) -> web.Response:
    return web.json_response(error.to_json(), status=error.status)


async def _read_params(request: web.Request) -> Params:
    """Query string plus the body: JSON, urlencoded form or multipart with files."""
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method != "POST" or not request.can_read_body:
        return Params(values)
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON object") from None
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: can't parse JSON object")
        values.update(body)
        return Params(values)
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, web.FileField):
            uploads[name] = Upload(name, value.filename, value.content_type, value.file.read())
        else:
            values[name] = value if isinstance(value, str) else bytes(value).decode()
    return Params(values, uploads)
