"""What customers do: messages, media, edits, button presses, blocking the bot.

Each action builds the message exactly as Telegram would deliver it and queues
the update; the control API exposes these functions over HTTP.
"""

from __future__ import annotations

import copy
import re
import secrets
from dataclasses import dataclass
from typing import Any

from bot.sandbox.errors import ControlError
from bot.sandbox.formatting import utf16_len
from bot.sandbox.media import image_size, make_ogg_stub, make_png
from bot.sandbox.state import (
    CallbackQueryRecord,
    JSONDict,
    MessageRecord,
    SandboxChat,
    SandboxState,
    SandboxUser,
    StoredFile,
    now,
)

# Telegram clients mark these automatically in what a user types.
_AUTO_ENTITIES = re.compile(
    r"(?P<url>https?://[^\s]+)"
    r"|(?P<email>[\w.+-]+@[\w-]+\.[\w.-]*\w)"
    r"|(?P<bot_command>(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?)"
    r"|(?P<mention>(?<![\w@])@[A-Za-z0-9_]{5,32})"
    r"|(?P<hashtag>(?<![\w#])#\w+)"
)

# Telegram's smallest photo thumbnail fits in 90x90.
_THUMBNAIL_SIDE = 90


@dataclass
class Injected:
    """What the control API reports about an injected update (server and client share it)."""

    update_id: int | None
    chat_id: int
    message_id: int | None = None
    callback_query_id: str | None = None
    file_id: str | None = None
    forged: bool = False

    @property
    def delivered(self) -> bool:
        """False when Telegram would not show it to the bot (group privacy mode)."""
        return self.update_id is not None

    @classmethod
    def from_json(cls, data: JSONDict) -> Injected:
        """Read the control API's answer back (the client side)."""
        return cls(
            update_id=data.get("update_id"),
            chat_id=data["chat_id"],
            message_id=data.get("message_id"),
            callback_query_id=data.get("callback_query_id"),
            file_id=data.get("file_id"),
            forged=bool(data.get("forged", False)),
        )

    def to_json(self) -> JSONDict:
        """The control API's answer."""
        return {
            "forged": self.forged,
            "update_id": self.update_id,
            "delivered": self.update_id is not None,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "callback_query_id": self.callback_query_id,
            "file_id": self.file_id,
        }


def text_entities(text: str) -> list[JSONDict]:
    """The entities a Telegram client would attach to typed text."""
    entities: list[JSONDict] = []
    for match in _AUTO_ENTITIES.finditer(text):
        kind = match.lastgroup
        if kind is None:
            continue
        entities.append(
            {
                "type": kind,
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return entities


def send_text(
    state: SandboxState,
    *,
    user_id: int,
    text: str,
    chat_id: int | None = None,
    reply_to_message_id: int | None = None,
    entities: list[JSONDict] | None = None,
) -> Injected:
    """A customer types a text message (commands included)."""
    if not text:
        raise ControlError("text must not be empty")
    found = text_entities(text) if entities is None else entities
    content: JSONDict = {"text": text}
    if found:
        content["entities"] = found
    return _deliver(state, user_id, chat_id, content, reply_to_message_id)


def send_command(
    state: SandboxState,
    *,
    user_id: int,
    command: str,
    args: str = "",
    chat_id: int | None = None,
    mention_bot: bool = False,
) -> Injected:
    """A customer sends /command [args]; in groups optionally as /command@bot."""
    name = command.removeprefix("/")
    text = f"/{name}@{state.bot_username}" if mention_bot else f"/{name}"
    if args:
        text = f"{text} {args}"
    return send_text(state, user_id=user_id, text=text, chat_id=chat_id)


def send_photo(
    state: SandboxState,
    *,
    user_id: int,
    chat_id: int | None = None,
    caption: str | None = None,
    data: bytes | None = None,
    width: int = 640,
    height: int = 480,
) -> Injected:
    """A customer sends a photo: given bytes, or a generated PNG plus a thumbnail."""
    sizes: list[StoredFile] = []
    if data is None:
        scale = max(width, height) / _THUMBNAIL_SIDE
        if scale > 1:
            small = (max(1, round(width / scale)), max(1, round(height / scale)))
            sizes.append(_store_image(state, make_png(*small)))
        data = make_png(width, height)
    sizes.append(_store_image(state, data))
    content: JSONDict = {"photo": [size.photo_size_json() for size in sizes]}
    _add_caption(content, caption)
    result = _deliver(state, user_id, chat_id, content)
    result.file_id = sizes[-1].file_id
    return result


def send_document(
    state: SandboxState,
    *,
    user_id: int,
    chat_id: int | None = None,
    caption: str | None = None,
    data: bytes | None = None,
    file_name: str = "feedback.txt",
    mime_type: str = "text/plain",
) -> Injected:
    """A customer sends a file."""
    extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
    stored = state.store_file(
        "document",
        data if data is not None else b"Sample document from the sandbox.\n",
        extension=extension,
        file_name=file_name,
        mime_type=mime_type,
    )
    content: JSONDict = {"document": stored.document_json()}
    _add_caption(content, caption)
    result = _deliver(state, user_id, chat_id, content)
    result.file_id = stored.file_id
    return result


def send_sticker(
    state: SandboxState, *, user_id: int, chat_id: int | None = None, emoji: str = "👍"
) -> Injected:
    """A customer sends a static sticker (its bytes are a PNG placeholder)."""
    stored = state.store_file(
        "sticker", make_png(512, 512), extension="png", mime_type="image/png", width=512, height=512
    )
    sticker = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
        "file_size": len(stored.data),
    }
    result = _deliver(state, user_id, chat_id, {"sticker": sticker})
    result.file_id = stored.file_id
    return result


def send_voice(
    state: SandboxState, *, user_id: int, chat_id: int | None = None, duration: int = 3
) -> Injected:
    """A customer sends a voice note (placeholder Ogg bytes)."""
    stored = state.store_file("voice", make_ogg_stub(duration), extension="oga", mime_type="audio/ogg")
    voice = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "duration": duration,
        "mime_type": "audio/ogg",
        "file_size": len(stored.data),
    }
    result = _deliver(state, user_id, chat_id, {"voice": voice})
    result.file_id = stored.file_id
    return result


def send_location(
    state: SandboxState,
    *,
    user_id: int,
    latitude: float,
    longitude: float,
    chat_id: int | None = None,
) -> Injected:
    """A customer shares a location."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ControlError("latitude must be within ±90 and longitude within ±180")
    location = {"latitude": latitude, "longitude": longitude}
    return _deliver(state, user_id, chat_id, {"location": location})


def send_contact(
    state: SandboxState,
    *,
    user_id: int,
    phone_number: str,
    first_name: str,
    last_name: str | None = None,
    contact_user_id: int | None = None,
    chat_id: int | None = None,
) -> Injected:
    """A customer shares a contact card."""
    contact: JSONDict = {"phone_number": phone_number, "first_name": first_name}
    if last_name:
        contact["last_name"] = last_name
    if contact_user_id is not None:
        contact["user_id"] = contact_user_id
    return _deliver(state, user_id, chat_id, {"contact": contact})


def edit_message(state: SandboxState, *, chat_id: int, message_id: int, text: str) -> Injected:
    """A customer edits the text (or caption) of a message they sent earlier."""
    record = state.message(chat_id, message_id)
    if record is None or record.from_bot:
        raise ControlError(f"no customer message {message_id} in chat {chat_id}", status=404)
    message = copy.deepcopy(record.message)
    key = "text" if "text" in message else "caption"
    if key == "caption" and not any(k in message for k in ("photo", "document")):
        raise ControlError("only text messages and media captions can be edited")
    message[key] = text
    entities_key = "entities" if key == "text" else "caption_entities"
    message.pop(entities_key, None)
    if found := text_entities(text):
        message[entities_key] = found
    message["edit_date"] = now()
    record.message = message
    chat = state.chat(chat_id)
    update_id = None
    if _bot_sees(state, chat, message):
        update_id = state.enqueue_update("edited_message", copy.deepcopy(message))
    return Injected(update_id, chat_id, message_id)


def press_button(state: SandboxState, *, user_id: int, chat_id: int, message_id: int, data: str) -> Injected:
    """A customer presses an inline button with this callback_data on a bot message.

    Data that is on no button is still sent, because a modified client can forge it and
    bots must cope; the result is then marked forged.
    """
    user = state.user(user_id)
    record = state.message(chat_id, message_id)
    if record is None or not record.from_bot:
        raise ControlError(f"no bot message {message_id} in chat {chat_id}", status=404)
    keyboard = (record.message.get("reply_markup") or {}).get("inline_keyboard", [])
    datas = [button.get("callback_data") for row in keyboard for button in row]
    query_id = str(secrets.randbits(62))
    state.callback_queries[query_id] = CallbackQueryRecord(query_id, user_id, chat_id, message_id, data)
    query = {
        "id": query_id,
        "from": user.to_json(),
        "chat_instance": str(abs(chat_id) * 7 + 1_000_000_007),
        "data": data,
        "message": copy.deepcopy(record.message),
    }
    update_id = state.enqueue_update("callback_query", query)
    return Injected(update_id, chat_id, message_id, callback_query_id=query_id, forged=data not in datas)


def post_to_channel(state: SandboxState, *, chat_id: int, text: str) -> Injected:
    """A channel admin posts; the bot, as a channel admin, receives a channel_post."""
    chat = state.chat(chat_id)
    if chat.type != "channel":
        raise ControlError(f"chat {chat_id} is a {chat.type}, not a channel")
    message: JSONDict = {
        "message_id": chat.allocate_message_id(),
        "date": now(),
        "chat": chat.to_json(),
        "sender_chat": chat.to_json(),
        "text": text,
    }
    if found := text_entities(text):
        message["entities"] = found
    state.add_message(MessageRecord(chat_id, message["message_id"], False, "channel_post", message))
    update_id = state.enqueue_update("channel_post", copy.deepcopy(message))
    return Injected(update_id, chat_id, message["message_id"])


def set_blocked(state: SandboxState, *, user_id: int, blocked: bool) -> Injected:
    """A customer blocks (or unblocks) the bot; Telegram tells the bot via my_chat_member."""
    user = state.user(user_id)
    if user.blocked_bot == blocked:
        return Injected(None, user_id)
    user.blocked_bot = blocked
    bot = state.bot.to_json()
    old: JSONDict = {"user": bot, "status": "member"}
    new: JSONDict = {"user": bot, "status": "kicked", "until_date": 0}
    if not blocked:
        old, new = new, old
    update = {
        "chat": state.chats[user_id].to_json(),
        "from": user.to_json(),
        "date": now(),
        "old_chat_member": old,
        "new_chat_member": new,
    }
    return Injected(state.enqueue_update("my_chat_member", update), user_id)


def _store_image(state: SandboxState, data: bytes) -> StoredFile:
    size = image_size(data)
    if size is None:
        raise ControlError("photo data is not a PNG, JPEG, GIF or WebP image")
    return state.store_file("photo", data, extension="jpg", width=size[0], height=size[1])


def _add_caption(content: JSONDict, caption: str | None) -> None:
    if caption:
        content["caption"] = caption
        if found := text_entities(caption):
            content["caption_entities"] = found


def _chat_for_customer(state: SandboxState, user: SandboxUser, chat_id: int | None) -> SandboxChat:
    if chat_id is None or chat_id == user.id:
        return state.chats[user.id]
    chat = state.chat(chat_id)
    if chat.type == "private":
        raise ControlError(f"chat {chat_id} is the private chat of another user")
    if chat.type == "channel":
        raise ControlError("customers do not write into channels; use a channel post")
    chat.member_ids.add(user.id)
    return chat


def _deliver(
    state: SandboxState,
    user_id: int,
    chat_id: int | None,
    content: JSONDict,
    reply_to_message_id: int | None = None,
) -> Injected:
    user = state.user(user_id)
    chat = _chat_for_customer(state, user, chat_id)
    if chat.type == "private":
        if user.blocked_bot:
            raise ControlError(f"user {user_id} blocked the bot; unblock before writing")
        user.started_bot = True
    message: JSONDict = {
        "message_id": chat.allocate_message_id(),
        "from": user.to_json(),
        "chat": chat.to_json(),
        "date": now(),
    }
    if reply_to_message_id is not None:
        replied = state.message(chat.id, reply_to_message_id)
        if replied is None:
            raise ControlError(f"no message {reply_to_message_id} in chat {chat.id}", status=404)
        target = copy.deepcopy(replied.message)
        target.pop("reply_to_message", None)
        message["reply_to_message"] = target
    message.update(content)
    state.add_message(MessageRecord(chat.id, message["message_id"], False, "customer", message))
    update_id = None
    if _bot_sees(state, chat, message) and (chat.type == "private" or chat.bot_is_member):
        update_id = state.enqueue_update("message", copy.deepcopy(message))
    return Injected(update_id, chat.id, message["message_id"])


def _bot_sees(state: SandboxState, chat: SandboxChat, message: JSONDict) -> bool:
    """Privacy mode: in groups a bot only gets commands, replies to it and mentions of it."""
    if chat.type == "private" or not state.privacy_mode:
        return True
    text: str = message.get("text") or message.get("caption") or ""
    if text.startswith("/"):
        return True
    replied: Any = message.get("reply_to_message") or {}
    if (replied.get("from") or {}).get("id") == state.bot.id and state.bot.id:
        return True
    return f"@{state.bot_username}".lower() in text.lower()
