"""The Bot API methods the sandbox implements, answering as Telegram does."""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox.errors import ApiError, bad_request
from bot.sandbox.formatting import EntityParseError, FormattedText, parse_formatted, utf16_len
from bot.sandbox.media import image_size
from bot.sandbox.notify import Notifier
from bot.sandbox.params import Params
from bot.sandbox.state import (
    EditRecord,
    JSONDict,
    MessageRecord,
    SandboxChat,
    SandboxState,
    StoredFile,
    Webhook,
    now,
)

# Telegram's documented limits, counted in UTF-16 code units after entity parsing.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_COMMANDS = 100
# getUpdates waits at most this long however large a timeout the client asks for.
MAX_POLL_TIMEOUT = 50

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
    "copy_text", "callback_game", "pay",
)  # fmt: skip
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_BOT_TEXTS = {  # method suffix -> (parameter, maximum length)
    "Description": ("description", 512),
    "ShortDescription": ("short_description", 120),
    "Name": ("name", 64),
}
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_WEBHOOK_CONFLICT = ApiError(
    409,
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first",
)
_POLL_CONFLICT = ApiError(
    409,
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
)


@dataclass
class Answer:
    """A successful result with the optional description Telegram adds (e.g. setWebhook)."""

    result: Any
    description: str | None = None


Handler = Callable[[Params], Awaitable[Any]]


class BotApi:
    """Bot API methods over a SandboxState; method names are case-insensitive like Telegram's."""

    def __init__(self, state: SandboxState, notifier: Notifier) -> None:
        self.state = state
        self.notifier = notifier
        self._poll_generation = 0
        self._handlers: dict[str, tuple[str, Handler]] = {}
        for name in (
            "getMe", "logOut", "close", "getUpdates", "setWebhook", "deleteWebhook",
            "getWebhookInfo", "sendMessage", "editMessageText", "editMessageCaption",
            "editMessageReplyMarkup", "deleteMessage", "answerCallbackQuery", "sendPhoto",
            "sendDocument", "getFile", "setMyCommands", "getMyCommands", "deleteMyCommands",
            "sendChatAction",
        ):  # fmt: skip
            self._handlers[name.lower()] = (name, getattr(self, _snake(name)))
        for suffix, (field, limit) in _BOT_TEXTS.items():
            setter = self._bot_text_setter(field, limit)
            self._handlers[f"setmy{suffix.lower()}"] = (f"setMy{suffix}", setter)
            self._handlers[f"getmy{suffix.lower()}"] = (
                f"getMy{suffix}",
                self._bot_text_getter(field),
            )

    def lookup(self, method: str) -> tuple[str, Handler] | None:
        """The canonical name and handler of a method, or None if it is not implemented."""
        return self._handlers.get(method.lower())

    @property
    def method_names(self) -> list[str]:
        """Every implemented method, for the docs and the control API."""
        return sorted(name for name, _ in self._handlers.values())

    # --- identity --------------------------------------------------------------

    async def get_me(self, params: Params) -> JSONDict:
        """getMe."""
        return self.state.bot.get_me()

    async def log_out(self, params: Params) -> bool:
        """logOut: nothing to log out from locally."""
        return True

    async def close(self, params: Params) -> bool:
        """close: nothing to close locally."""
        return True

    # --- receiving updates -----------------------------------------------------

    async def get_updates(self, params: Params) -> list[JSONDict]:
        """getUpdates: confirm by offset, then long-poll up to `timeout` seconds."""
        state = self.state
        if state.webhook is not None:
            raise _WEBHOOK_CONFLICT
        offset = params.get_int("offset")
        limit = min(max(params.get_int("limit", 100) or 100, 1), 100)
        timeout = min(max(params.get_float("timeout", 0.0) or 0.0, 0.0), MAX_POLL_TIMEOUT)
        allowed = params.get_json("allowed_updates")
        if isinstance(allowed, list):
            state.allowed_updates = [str(kind) for kind in allowed]
        if offset is not None:
            state.confirm_updates(offset)
        # A newer getUpdates ends an older one that is still waiting, as on Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self.notifier.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise _POLL_CONFLICT
            if state.webhook is not None:
                raise _WEBHOOK_CONFLICT
            updates = state.deliverable_updates(state.allowed_updates, limit)
            remaining = deadline - loop.time()
            if updates or remaining <= 0:
                return copy.deepcopy(updates)
            await self.notifier.wait(remaining)

    async def set_webhook(self, params: Params) -> Answer:
        """setWebhook; an empty url removes the webhook."""
        state = self.state
        url = params.get_str("url") or ""
        if not url:
            return await self.delete_webhook(params)
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get_str("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.match(secret):
            raise bad_request("secret token contains unallowed characters")
        if params.get_bool("drop_pending_updates"):
            state.updates.clear()
        allowed = params.get_json("allowed_updates")
        if isinstance(allowed, list):
            state.allowed_updates = [str(kind) for kind in allowed]
        already = state.webhook is not None and state.webhook.url == url
        state.webhook = Webhook(
            url=url,
            secret_token=secret,
            max_connections=params.get_int("max_connections", 40) or 40,
            allowed_updates=state.allowed_updates,
            ip_address=params.get_str("ip_address"),
        )
        self.notifier.notify()
        return Answer(True, "Webhook is already set" if already else "Webhook was set")

    async def delete_webhook(self, params: Params) -> Answer:
        """deleteWebhook; pending updates stay unless drop_pending_updates."""
        state = self.state
        if params.get_bool("drop_pending_updates"):
            state.updates.clear()
        existed = state.webhook is not None
        state.webhook = None
        self.notifier.notify()
        return Answer(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    async def get_webhook_info(self, params: Params) -> JSONDict:
        """getWebhookInfo."""
        state = self.state
        hook = state.webhook
        info: JSONDict = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(state.updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.ip_address:
                info["ip_address"] = hook.ip_address
            if hook.allowed_updates:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    # --- sending ---------------------------------------------------------------

    async def send_message(self, params: Params) -> JSONDict:
        """sendMessage."""
        chat = self.state.chat_to_send(params.chat_id())
        source = params.get_str("text") or ""
        parse_mode = params.get_str("parse_mode")
        formatted = _format(source, parse_mode, params.get_json("entities"))
        if not formatted.text:
            raise bad_request("message text is empty")
        if utf16_len(formatted.text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        markup, inline = _reply_markup(params)
        message = self._new_bot_message(chat, params)
        message["text"] = formatted.text
        if formatted.entities:
            message["entities"] = formatted.entities
        preview = params.get_json("link_preview_options")
        if isinstance(preview, dict) and preview:
            message["link_preview_options"] = preview
        if inline is not None:
            message["reply_markup"] = inline
        return self._remember(chat, "sendMessage", message, source, parse_mode, markup)

    async def send_photo(self, params: Params) -> JSONDict:
        """sendPhoto: a multipart upload or the file_id of an earlier photo."""
        chat = self.state.chat_to_send(params.chat_id())
        stored = self._input_file(params, "photo")
        message = self._new_media_message(chat, params)
        message["photo"] = [stored.photo_size_json()]
        return self._send_media(chat, "sendPhoto", message, params)

    async def send_document(self, params: Params) -> JSONDict:
        """sendDocument: a multipart upload or the file_id of an earlier document."""
        chat = self.state.chat_to_send(params.chat_id())
        stored = self._input_file(params, "document")
        message = self._new_media_message(chat, params)
        message["document"] = stored.document_json()
        return self._send_media(chat, "sendDocument", message, params)

    def _new_media_message(self, chat: SandboxChat, params: Params) -> JSONDict:
        message = self._new_bot_message(chat, params)
        caption = params.get_str("caption") or ""
        formatted = _format(caption, params.get_str("parse_mode"), params.get_json("caption_entities"))
        if utf16_len(formatted.text) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        if formatted.text:
            message["caption"] = formatted.text
        if formatted.entities:
            message["caption_entities"] = formatted.entities
        return message

    def _send_media(self, chat: SandboxChat, method: str, message: JSONDict, params: Params) -> JSONDict:
        markup, inline = _reply_markup(params)
        if inline is not None:
            message["reply_markup"] = inline
        return self._remember(
            chat, method, message, params.get_str("caption"), params.get_str("parse_mode"), markup
        )

    def _input_file(self, params: Params, kind: str) -> StoredFile:
        state = self.state
        upload = params.upload(kind)
        if upload is not None:
            if kind == "photo":
                size = image_size(upload.data)
                if size is None:
                    raise bad_request("IMAGE_PROCESS_FAILED")
                return state.store_file("photo", upload.data, extension="jpg", width=size[0], height=size[1])
            name = upload.filename or "file"
            extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
            return state.store_file(
                "document",
                upload.data,
                extension=extension,
                file_name=name,
                mime_type=upload.content_type or "application/octet-stream",
            )
        reference = params.get_str(kind)
        if not reference:
            raise bad_request(f"there is no {kind} in the request")
        stored = state.files.get(reference)
        if stored is None:
            if reference.startswith(("http://", "https://")):
                # The sandbox has no internet access to fetch from, like a firewalled server.
                raise bad_request("failed to get HTTP URL content")
            raise bad_request("wrong file identifier/HTTP URL specified")
        if kind == "photo" and stored.kind != "photo":
            raise bad_request(f"can't use file of type {stored.kind.capitalize()} as Photo")
        return stored

    def _new_bot_message(self, chat: SandboxChat, params: Params) -> JSONDict:
        reply_to = self._reply_target(chat, params)
        message: JSONDict = {
            "message_id": 0,  # allocated in _remember, so a refused request uses no id
            "from": self.state.bot.to_json(),
            "chat": chat.to_json(),
            "date": now(),
        }
        if chat.type == "channel":
            del message["from"]
            message["sender_chat"] = chat.to_json()
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        return message

    def _reply_target(self, chat: SandboxChat, params: Params) -> JSONDict | None:
        reply = params.get_json("reply_parameters", "reply parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") not in (None, chat.id, chat.username):
                target_chat = self.state.chat_for_bot(reply["chat_id"])
            else:
                target_chat = chat
        else:
            message_id = params.get_int("reply_to_message_id")
            allow_missing = params.get_bool("allow_sending_without_reply")
            target_chat = chat
        if message_id is None:
            return None
        record = self.state.message(target_chat.id, int(message_id))
        if record is None:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        replied = copy.deepcopy(record.message)
        replied.pop("reply_to_message", None)
        return replied

    def _remember(
        self,
        chat: SandboxChat,
        method: str,
        message: JSONDict,
        source: str | None,
        parse_mode: str | None,
        markup: JSONDict | None,
    ) -> JSONDict:
        message["message_id"] = chat.allocate_message_id()
        record = MessageRecord(
            chat_id=chat.id,
            message_id=message["message_id"],
            from_bot=True,
            method=method,
            message=message,
            source_text=source,
            parse_mode=parse_mode,
            reply_markup=markup,
        )
        self.state.add_message(record)
        return copy.deepcopy(message)

    # --- editing ---------------------------------------------------------------

    def _editable(self, params: Params) -> MessageRecord:
        if params.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self.state.chat_for_bot(params.chat_id())
        record = self.state.message(chat.id, params.require_int("message_id"))
        if record is None:
            raise bad_request("message to edit not found")
        if not record.from_bot:
            raise bad_request("message can't be edited")
        return record

    def _apply_edit(
        self, record: MessageRecord, method: str, changes: JSONDict, markup: JSONDict | None
    ) -> JSONDict:
        before = copy.deepcopy(record.message)
        after = copy.deepcopy(record.message)
        for key, value in changes.items():
            if value is None or value == []:
                after.pop(key, None)
            else:
                after[key] = value
        if after == before:
            raise bad_request(_NOT_MODIFIED)
        after["edit_date"] = now()
        record.message = after
        record.reply_markup = markup
        self.state.edits.append(
            EditRecord(record.chat_id, record.message_id, method, after["edit_date"], before, after)
        )
        return copy.deepcopy(after)

    async def edit_message_text(self, params: Params) -> JSONDict:
        """editMessageText; leaving out reply_markup removes the inline keyboard."""
        record = self._editable(params)
        if "text" not in record.message:
            raise bad_request("there is no text in the message to edit")
        source = params.get_str("text") or ""
        parse_mode = params.get_str("parse_mode")
        formatted = _format(source, parse_mode, params.get_json("entities"))
        if not formatted.text:
            raise bad_request("message text is empty")
        if utf16_len(formatted.text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        markup, inline = _reply_markup(params, inline_only=True)
        changes = {"text": formatted.text, "entities": formatted.entities, "reply_markup": inline}
        result = self._apply_edit(record, "editMessageText", changes, markup)
        record.source_text, record.parse_mode = source, parse_mode
        return result

    async def edit_message_caption(self, params: Params) -> JSONDict:
        """editMessageCaption."""
        record = self._editable(params)
        if "text" in record.message:
            raise bad_request("there is no caption in the message to edit")
        source = params.get_str("caption") or ""
        parse_mode = params.get_str("parse_mode")
        formatted = _format(source, parse_mode, params.get_json("caption_entities"))
        if utf16_len(formatted.text) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        markup, inline = _reply_markup(params, inline_only=True)
        changes = {
            "caption": formatted.text or None,
            "caption_entities": formatted.entities,
            "reply_markup": inline,
        }
        result = self._apply_edit(record, "editMessageCaption", changes, markup)
        record.source_text, record.parse_mode = source, parse_mode
        return result

    async def edit_message_reply_markup(self, params: Params) -> JSONDict:
        """editMessageReplyMarkup; no reply_markup removes the keyboard."""
        record = self._editable(params)
        markup, inline = _reply_markup(params, inline_only=True)
        return self._apply_edit(record, "editMessageReplyMarkup", {"reply_markup": inline}, markup)

    async def delete_message(self, params: Params) -> bool:
        """deleteMessage."""
        chat = self.state.chat_for_bot(params.chat_id())
        record = self.state.message(chat.id, params.require_int("message_id"))
        if record is None:
            raise bad_request("message to delete not found")
        record.deleted = True
        return True

    async def answer_callback_query(self, params: Params) -> bool:
        """answerCallbackQuery: each query can be answered once."""
        query_id = params.require_str("callback_query_id", "QUERY_ID_INVALID")
        query = self.state.callback_queries.get(query_id)
        if query is None or query.answer is not None:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.get_str("text")
        if text is not None and utf16_len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answer = {
            "text": text,
            "show_alert": params.get_bool("show_alert"),
            "url": params.get_str("url"),
            "cache_time": params.get_int("cache_time", 0),
        }
        return True

    # --- files -----------------------------------------------------------------

    async def get_file(self, params: Params) -> JSONDict:
        """getFile: file_path is relative; PTB joins it with base_file_url."""
        stored = self.state.files.get(params.require_str("file_id"))
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.get_file_json()

    # --- commands, chat actions, profile texts ---------------------------------

    async def set_my_commands(self, params: Params) -> bool:
        """setMyCommands."""
        commands = params.get_json("commands", "commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise bad_request("too many commands")
        cleaned: list[JSONDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand")
            name = str(command.get("command", "")).removeprefix("/")
            description = str(command.get("description", ""))
            if not _COMMAND_RE.match(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        self.state.commands[_commands_key(params)] = cleaned
        return True

    async def get_my_commands(self, params: Params) -> list[JSONDict]:
        """getMyCommands for one scope and language."""
        return copy.deepcopy(self.state.commands.get(_commands_key(params), []))

    async def delete_my_commands(self, params: Params) -> bool:
        """deleteMyCommands for one scope and language."""
        self.state.commands.pop(_commands_key(params), None)
        return True

    async def send_chat_action(self, params: Params) -> bool:
        """sendChatAction: recorded so tests can see the bot 'typing'."""
        chat = self.state.chat_to_send(params.chat_id())
        action = params.require_str("action", "action is empty")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.state.chat_actions.append({"chat_id": chat.id, "action": action, "date": now()})
        return True

    def _bot_text_setter(self, field: str, limit: int) -> Handler:
        async def set_text(params: Params) -> bool:
            text = params.get_str(field) or ""
            if len(text) > limit:
                raise bad_request(f"{field.upper()}_INVALID")
            self.state.bot_texts[f"{field}|{params.get_str('language_code') or ''}"] = text
            return True

        return set_text

    def _bot_text_getter(self, field: str) -> Handler:
        async def get_text(params: Params) -> JSONDict:
            key = f"{field}|{params.get_str('language_code') or ''}"
            return {field: self.state.bot_texts.get(key, "")}

        return get_text


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _format(text: str, parse_mode: str | None, entities: Any) -> FormattedText:
    if entities is not None and not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    try:
        return parse_formatted(text, parse_mode, entities)
    except EntityParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None


def _commands_key(params: Params) -> str:
    scope = params.get_json("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True) + "|" + (params.get_str("language_code") or "")


def _reply_markup(params: Params, *, inline_only: bool = False) -> tuple[JSONDict | None, JSONDict | None]:
    """The markup as sent (for the control API) and the inline keyboard a Message carries."""
    markup = params.get_json("reply_markup", "reply keyboard markup")
    if markup is None:
        return None, None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
        return markup, {"inline_keyboard": markup["inline_keyboard"]}
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        return markup, None
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup, None
    raise bad_request("can't parse reply keyboard markup JSON object")


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text is not specified")
            actions = [key for key in _BUTTON_ACTIONS if key in button]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
