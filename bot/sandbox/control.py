"""The control API: JSON endpoints under /control/ that play the customers and inspect the bot."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web

from bot.sandbox import customers
from bot.sandbox.errors import ControlError
from bot.sandbox.notify import Notifier
from bot.sandbox.state import SandboxState

JSONDict = dict[str, Any]


class _Body:
    """Typed fields of a control request body, with clear errors for mistakes."""

    def __init__(self, data: JSONDict) -> None:
        self.data = data

    def _get(self, name: str, kind: type | tuple[type, ...], required: bool) -> Any:
        value = self.data.get(name)
        if value is None:
            if required:
                raise ControlError(f"missing field {name!r}")
            return None
        if isinstance(value, bool) and kind in (int, float):
            raise ControlError(f"field {name!r} must be a number")
        if not isinstance(value, kind):
            raise ControlError(f"field {name!r} has the wrong type")
        return value

    def req_int(self, name: str) -> int:
        return int(self._get(name, int, True))

    def opt_int(self, name: str) -> int | None:
        value = self._get(name, int, False)
        return None if value is None else int(value)

    def req_float(self, name: str) -> float:
        return float(self._get(name, (int, float), True))

    def req_str(self, name: str) -> str:
        return str(self._get(name, str, True))

    def opt_str(self, name: str) -> str | None:
        value = self._get(name, str, False)
        return None if value is None else str(value)

    def opt_bool(self, name: str, default: bool) -> bool:
        value = self._get(name, bool, False)
        return default if value is None else bool(value)

    def opt_bytes(self, name: str) -> bytes | None:
        value = self.opt_str(name)
        if value is None:
            return None
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ControlError(f"field {name!r} must be base64") from None


async def _body(request: web.Request) -> _Body:
    if not request.can_read_body:
        return _Body({})
    try:
        data = await request.json()
    except ValueError:
        raise ControlError("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise ControlError("the body must be a JSON object")
    return _Body(data)


def _path_int(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise ControlError(f"{name} must be an integer", status=404) from None


class ControlApi:
    """Handlers for /control/...; every answer is JSON."""

    def __init__(self, state: SandboxState, notifier: Notifier, method_names: list[str]) -> None:
        self.state = state
        self.notifier = notifier
        self.method_names = method_names

    def add_routes(self, app: web.Application) -> None:
        """Register every control endpoint."""
        app.add_routes(
            [
                web.get("/control/bot", self.bot),
                web.post("/control/reset", self.reset),
                web.get("/control/users", self.list_users),
                web.post("/control/users", self.create_user),
                web.post("/control/users/{user_id}/block", self.block),
                web.post("/control/chats", self.create_chat),
                web.get("/control/chats/{chat_id}/messages", self.chat_messages),
                web.get("/control/chats/{chat_id}/actions", self.chat_actions),
                web.post("/control/messages", self.message),
                web.post("/control/commands", self.command),
                web.post("/control/photos", self.photo),
                web.post("/control/documents", self.document),
                web.post("/control/stickers", self.sticker),
                web.post("/control/voices", self.voice),
                web.post("/control/locations", self.location),
                web.post("/control/contacts", self.contact),
                web.post("/control/edits", self.edit),
                web.post("/control/callbacks", self.callback),
                web.get("/control/callbacks/{query_id}", self.callback_answer),
                web.post("/control/channel_posts", self.channel_post),
                web.get("/control/updates", self.pending_updates),
                web.get("/control/files/{file_id}", self.file_bytes),
                web.get("/control/faults", self.list_faults),
                web.post("/control/faults", self.add_fault),
                web.delete("/control/faults", self.clear_faults),
                web.get("/control/calls", self.calls),
                web.get("/control/requests", self.requests),
            ]
        )

    # --- the bot and the sandbox -----------------------------------------------

    async def bot(self, request: web.Request) -> web.Response:
        state = self.state
        hook = state.webhook
        return web.json_response(
            {
                "bot": state.bot.get_me(),
                "token_claimed": state.token is not None,
                "webhook": None
                if hook is None
                else {
                    "url": hook.url,
                    "secret_token_set": hook.secret_token is not None,
                    "delivered": hook.delivered,
                    "last_error_message": hook.last_error_message,
                },
                "pending_update_count": len(state.updates),
                "commands": state.commands,
                "methods": self.method_names,
            }
        )

    async def reset(self, request: web.Request) -> web.Response:
        self.state.reset()
        self.notifier.notify()
        return web.json_response({"ok": True})

    # --- users and chats -------------------------------------------------------

    async def list_users(self, request: web.Request) -> web.Response:
        return web.json_response([user.to_json() for user in self.state.users.values()])

    async def create_user(self, request: web.Request) -> web.Response:
        body = await _body(request)
        user = self.state.create_user(
            user_id=body.opt_int("id"),
            first_name=body.opt_str("first_name") or "Test",
            last_name=body.opt_str("last_name"),
            username=body.opt_str("username"),
            language_code=body.opt_str("language_code"),
            started_bot=body.opt_bool("started_bot", True),
        )
        chat = self.state.chats[user.id]
        return web.json_response({"user": user.to_json(), "chat": chat.to_json()}, status=201)

    async def block(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = customers.set_blocked(
            self.state,
            user_id=_path_int(request, "user_id"),
            blocked=body.opt_bool("blocked", True),
        )
        return web.json_response(result.to_json())

    async def create_chat(self, request: web.Request) -> web.Response:
        body = await _body(request)
        members = body.data.get("member_ids") or []
        if not isinstance(members, list) or not all(isinstance(m, int) for m in members):
            raise ControlError("member_ids must be a list of user ids")
        chat = self.state.create_chat(
            chat_type=body.req_str("type"),
            title=body.opt_str("title") or "Sandbox group",
            chat_id=body.opt_int("id"),
            username=body.opt_str("username"),
            member_ids=members,
            bot_is_member=body.opt_bool("bot_is_member", True),
        )
        return web.json_response(chat.to_json(), status=201)

    async def chat_messages(self, request: web.Request) -> web.Response:
        chat_id = _path_int(request, "chat_id")
        self.state.chat(chat_id)
        everyone = request.query.get("include_customer", "").lower() in ("1", "true")
        records = self.state.chat_messages(chat_id, from_bot_only=not everyone)
        edits = [edit.to_json() for edit in self.state.edits if edit.chat_id == chat_id]
        return web.json_response({"messages": [record.to_json() for record in records], "edits": edits})

    async def chat_actions(self, request: web.Request) -> web.Response:
        chat_id = _path_int(request, "chat_id")
        actions = [a for a in self.state.chat_actions if a["chat_id"] == chat_id]
        return web.json_response(actions)

    # --- customer actions ------------------------------------------------------

    async def message(self, request: web.Request) -> web.Response:
        body = await _body(request)
        entities = body.data.get("entities")
        if entities is not None and not isinstance(entities, list):
            raise ControlError("entities must be a list")
        result = customers.send_text(
            self.state,
            user_id=body.req_int("user_id"),
            text=body.req_str("text"),
            chat_id=body.opt_int("chat_id"),
            reply_to_message_id=body.opt_int("reply_to_message_id"),
            entities=entities,
        )
        return web.json_response(result.to_json(), status=201)

    async def command(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = customers.send_command(
            self.state,
            user_id=body.req_int("user_id"),
            command=body.req_str("command"),
            args=body.opt_str("args") or "",
            chat_id=body.opt_int("chat_id"),
            mention_bot=body.opt_bool("mention_bot", False),
        )
        return web.json_response(result.to_json(), status=201)

    async def photo(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = customers.send_photo(
            self.state,
            user_id=body.req_int("user_id"),
            chat_id=body.opt_int("chat_id"),
            caption=body.opt_str("caption"),
            data=body.opt_bytes("data_base64"),
            width=body.opt_int("width") or 640,
            height=body.opt_int("height") or 480,
        )
        return web.json_response(result.to_json(), status=201)

    async def document(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = customers.send_document(
            self.state,
            user_id=body.req_int("user_id"),
            chat_id=body.opt_int("chat_id"),
            caption=body.opt_str("caption"),
            data=body.opt_bytes("data_base64"),
            file_name=body.opt_str("file_name") or "feedback.txt",
            mime_type=body.opt_str("mime_type") or "text/plain",
        )
        return web.json_response(result.to_json(), status=201)

    async def sticker(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = customers.send_sticker(
            self.state,
            user_id=body.req_int("user_id"),
            chat_id=body.opt_int("chat_id"),
            emoji=body.opt_str("emoji") or "👍",
        )
        return web.json_response(result.to_json(), status=201)

    async def voice(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = customers.send_voice(
            self.state,
            user_id=body.req_int("user_id"),
            chat_id=body.opt_int("chat_id"),
            duration=body.opt_int("duration") or 3,
        )
        return web.json_response(result.to_json(), status=201)

    async def location(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = customers.send_location(
            self.state,
            user_id=body.req_int("user_id"),
            latitude=body.req_float("latitude"),
            longitude=body.req_float("longitude"),
            chat_id=body.opt_int("chat_id"),
        )
        return web.json_response(result.to_json(), status=201)

    async def contact(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = customers.send_contact(
            self.state,
            user_id=body.req_int("user_id"),
            phone_number=body.req_str("phone_number"),
            first_name=body.req_str("first_name"),
            last_name=body.opt_str("last_name"),
            contact_user_id=body.opt_int("contact_user_id"),
            chat_id=body.opt_int("chat_id"),
        )
        return web.json_response(result.to_json(), status=201)

    async def edit(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = customers.edit_message(
            self.state,
            chat_id=body.req_int("chat_id"),
            message_id=body.req_int("message_id"),
            text=body.req_str("text"),
        )
        return web.json_response(result.to_json(), status=201)

    async def callback(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = customers.press_button(
            self.state,
            user_id=body.req_int("user_id"),
            chat_id=body.req_int("chat_id"),
            message_id=body.req_int("message_id"),
            data=body.req_str("data"),
        )
        return web.json_response(result.to_json(), status=201)

    async def callback_answer(self, request: web.Request) -> web.Response:
        query = self.state.callback_queries.get(request.match_info["query_id"])
        if query is None:
            raise ControlError("unknown callback query", status=404)
        return web.json_response(query.to_json())

    async def channel_post(self, request: web.Request) -> web.Response:
        body = await _body(request)
        result = customers.post_to_channel(
            self.state, chat_id=body.req_int("chat_id"), text=body.req_str("text")
        )
        return web.json_response(result.to_json(), status=201)

    # --- inspection ------------------------------------------------------------

    async def pending_updates(self, request: web.Request) -> web.Response:
        return web.json_response(self.state.updates)

    async def file_bytes(self, request: web.Request) -> web.Response:
        stored = self.state.files.get(request.match_info["file_id"])
        if stored is None:
            raise ControlError("unknown file_id", status=404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    # --- faults and call accounting --------------------------------------------

    async def list_faults(self, request: web.Request) -> web.Response:
        return web.json_response([fault.to_json() for fault in self.state.faults])

    async def add_fault(self, request: web.Request) -> web.Response:
        body = await _body(request)
        delay = body.data.get("delay", 0.0)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
            raise ControlError("delay must be a non-negative number of seconds")
        fault = self.state.add_fault(
            method=body.opt_str("method") or "*",
            kind=str(body.data.get("kind", "")),
            count=body.opt_int("count") or 1,
            retry_after=body.opt_int("retry_after") or 1,
            delay=float(delay),
        )
        return web.json_response(fault.to_json(), status=201)

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.state.faults.clear()
        return web.json_response({"ok": True})

    async def calls(self, request: web.Request) -> web.Response:
        return web.json_response(dict(self.state.call_counts))

    async def requests(self, request: web.Request) -> web.Response:
        method = request.query.get("method")
        entries = [
            entry.to_json()
            for entry in self.state.request_log
            if method is None or entry.method.lower() == method.lower()
        ]
        return web.json_response(entries)


@web.middleware
async def control_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn ControlError into a JSON answer instead of a 500."""
    try:
        response: web.StreamResponse = await handler(request)
    except ControlError as exc:
        return web.json_response({"ok": False, "error": exc.message}, status=exc.status)
    return response
