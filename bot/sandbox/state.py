"""The sandbox's in-memory world: the bot, users, chats, messages, files, updates and faults.

Everything here is plain synchronous data. The aiohttp server owns one
SandboxState and touches it only from its event loop, so no locking is needed.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.errors import ControlError, bad_request, forbidden

JSONDict = dict[str, Any]

# getUpdates without allowed_updates delivers every type except these (Bot API docs).
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# Supergroup and channel ids look like -100xxxxxxxxxx in the Bot API.
_SUPERGROUP_ID_BASE = -1_001_000_000_000

# Enough history to debug a test, bounded so a long operator session cannot grow without limit.
REQUEST_LOG_SIZE = 10_000


def now() -> int:
    """Unix time in seconds, the Bot API's date unit."""
    return int(time.time())


@dataclass
class BotProfile:
    """The bot as getMe describes it."""

    id: int
    first_name: str
    username: str

    def to_json(self) -> JSONDict:
        """The User object that appears as `from` of the bot's messages."""
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def get_me(self) -> JSONDict:
        """The getMe answer, with the capability flags PTB 22 reads."""
        return {
            **self.to_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }


@dataclass
class SandboxUser:
    """A customer who talks to the bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    started_bot: bool = True
    blocked_bot: bool = False

    def to_json(self) -> JSONDict:
        """The Bot API User object."""
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass
class SandboxChat:
    """A private chat, group, supergroup or channel."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    owner: SandboxUser | None = None
    member_ids: set[int] = field(default_factory=set)
    bot_is_member: bool = True
    last_message_id: int = 0

    def to_json(self) -> JSONDict:
        """The Bot API Chat object embedded in messages."""
        data: JSONDict = {"id": self.id, "type": self.type}
        if self.owner is not None:
            data["first_name"] = self.owner.first_name
            if self.owner.last_name:
                data["last_name"] = self.owner.last_name
            if self.owner.username:
                data["username"] = self.owner.username
            return data
        if self.title is not None:
            data["title"] = self.title
        if self.username is not None:
            data["username"] = self.username
        if self.type == "group":
            data["all_members_are_administrators"] = False
        return data

    def allocate_message_id(self) -> int:
        """Message ids count up per chat, as in Telegram."""
        self.last_message_id += 1
        return self.last_message_id


@dataclass
class StoredFile:
    """Bytes uploaded by the bot or generated for a customer's media."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    def get_file_json(self) -> JSONDict:
        """The getFile answer; PTB prefixes file_path with base_file_url itself."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def photo_size_json(self) -> JSONDict:
        """A PhotoSize for this image."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "width": self.width or 0,
            "height": self.height or 0,
        }

    def document_json(self) -> JSONDict:
        """A Document for this file."""
        data: JSONDict = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name:
            data["file_name"] = self.file_name
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data


@dataclass
class MessageRecord:
    """One message in a chat, with how the bot sent it (for the control API)."""

    chat_id: int
    message_id: int
    from_bot: bool
    method: str
    message: JSONDict
    source_text: str | None = None
    parse_mode: str | None = None
    reply_markup: JSONDict | None = None
    deleted: bool = False

    def to_json(self) -> JSONDict:
        """What the control API shows for this message."""
        message = self.message
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "from_bot": self.from_bot,
            "method": self.method,
            "date": message.get("date"),
            "edit_date": message.get("edit_date"),
            "text": message.get("text"),
            "caption": message.get("caption"),
            "entities": message.get("entities") or message.get("caption_entities") or [],
            "source_text": self.source_text,
            "parse_mode": self.parse_mode,
            "reply_markup": self.reply_markup,
            "reply_to_message_id": (message.get("reply_to_message") or {}).get("message_id"),
            "photo": message.get("photo"),
            "document": message.get("document"),
            "deleted": self.deleted,
            "message": message,
        }


@dataclass
class EditRecord:
    """One successful edit of a message, before and after."""

    chat_id: int
    message_id: int
    method: str
    date: int
    before: JSONDict
    after: JSONDict

    def to_json(self) -> JSONDict:
        """What the control API shows for this edit."""
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "method": self.method,
            "date": self.date,
            "before": self.before,
            "after": self.after,
        }


@dataclass
class CallbackQueryRecord:
    """A button press and the bot's answer to it."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: JSONDict | None = None

    def to_json(self) -> JSONDict:
        """What the control API shows for this press."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "data": self.data,
            "answered": self.answer is not None,
            "answer": self.answer,
        }


FAULT_KINDS = ("429", "500", "delay", "drop")


@dataclass
class Fault:
    """A failure to inject into the next `remaining` calls of `method` ("*" for any)."""

    id: int
    method: str
    kind: str
    remaining: int
    retry_after: int = 1
    delay: float = 0.0

    def to_json(self) -> JSONDict:
        """What the control API shows for this fault."""
        return {
            "id": self.id,
            "method": self.method,
            "kind": self.kind,
            "remaining": self.remaining,
            "retry_after": self.retry_after,
            "delay": self.delay,
        }


@dataclass
class Webhook:
    """A webhook set with setWebhook, and how delivering to it has gone."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivered: int = 0


@dataclass
class RequestLogEntry:
    """One Bot API call as the sandbox saw it."""

    method: str
    params: JSONDict
    status: int
    time: float
    description: str | None = None

    def to_json(self) -> JSONDict:
        """What the control API shows for this call."""
        return {
            "method": self.method,
            "params": self.params,
            "status": self.status,
            "time": self.time,
            "description": self.description,
        }


def update_type(update: JSONDict) -> str:
    """The kind of an update: the one key besides update_id."""
    return next(key for key in update if key != "update_id")


class SandboxState:
    """All of the sandbox's data; reset by making a new one."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_first_name: str = "Feedback Bot (sandbox)",
        bot_username: str = "feedbot_sandbox_bot",
        privacy_mode: bool = True,
    ) -> None:
        self.configured_token = token
        self.bot_first_name = bot_first_name
        self.bot_username = bot_username
        self.privacy_mode = privacy_mode
        # Called after every new update so long polls and the webhook sender wake up.
        self.on_update: Callable[[], None] = lambda: None
        self._clear()

    def reset(self) -> None:
        """Forget everything except the configuration (and who to wake on updates)."""
        self._clear()

    def _clear(self) -> None:
        token = self.configured_token
        self.token: str | None = token
        self.bot = BotProfile(_bot_id(token) if token else 0, self.bot_first_name, self.bot_username)
        self.users: dict[int, SandboxUser] = {}
        self.chats: dict[int, SandboxChat] = {}
        self.messages: dict[tuple[int, int], MessageRecord] = {}
        self.edits: list[EditRecord] = []
        self.updates: list[JSONDict] = []
        self.last_update_id = 0
        self.allowed_updates: list[str] | None = None
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.faults: list[Fault] = []
        self.last_fault_id = 0
        self.call_counts: Counter[str] = Counter()
        self.request_log: deque[RequestLogEntry] = deque(maxlen=REQUEST_LOG_SIZE)
        self.chat_actions: list[JSONDict] = []
        self.commands: dict[str, list[JSONDict]] = {}
        self.bot_texts: dict[str, str] = {}
        self.webhook: Webhook | None = None
        self.last_group_id = 0
        self.last_user_id = 100_000_000
        self.last_file_number = 0

    # --- the bot and its token -------------------------------------------------

    def accept_token(self, token: str) -> bool:
        """The first well-formed token claims the sandbox; one sandbox is one bot."""
        if self.token is None:
            self.token = token
            self.bot.id = _bot_id(token)
        return token == self.token

    # --- users and chats -------------------------------------------------------

    def create_user(
        self,
        *,
        user_id: int | None = None,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        started_bot: bool = True,
    ) -> SandboxUser:
        """Add a customer and their private chat with the bot."""
        if user_id is None:
            self.last_user_id += 1
            while self.last_user_id in self.users:
                self.last_user_id += 1
            user_id = self.last_user_id
        if user_id <= 0:
            raise ControlError("user ids are positive")
        if user_id in self.users:
            raise ControlError(f"user {user_id} already exists", status=409)
        user = SandboxUser(user_id, first_name, last_name, username, language_code, started_bot=started_bot)
        self.users[user_id] = user
        self.chats[user_id] = SandboxChat(user_id, "private", owner=user, member_ids={user_id})
        return user

    def create_chat(
        self,
        *,
        chat_type: str,
        title: str,
        chat_id: int | None = None,
        username: str | None = None,
        member_ids: list[int] | None = None,
        bot_is_member: bool = True,
    ) -> SandboxChat:
        """Add a group, supergroup or channel."""
        if chat_type not in ("group", "supergroup", "channel"):
            raise ControlError("type must be group, supergroup or channel")
        if chat_id is None:
            self.last_group_id += 1
            base = -self.last_group_id if chat_type == "group" else _SUPERGROUP_ID_BASE
            chat_id = base if chat_type == "group" else base - self.last_group_id
        if chat_id >= 0:
            raise ControlError("group and channel ids are negative")
        if chat_id in self.chats:
            raise ControlError(f"chat {chat_id} already exists", status=409)
        members = set(member_ids or [])
        for member in members:
            self.user(member)
        chat = SandboxChat(
            chat_id,
            chat_type,
            title=title,
            username=username,
            member_ids=members,
            bot_is_member=bot_is_member,
        )
        self.chats[chat_id] = chat
        return chat

    def user(self, user_id: int) -> SandboxUser:
        """A user for the control API, or a clear error."""
        try:
            return self.users[user_id]
        except KeyError:
            raise ControlError(f"unknown user {user_id}; create it first", status=404) from None

    def chat(self, chat_id: int) -> SandboxChat:
        """A chat for the control API, or a clear error."""
        try:
            return self.chats[chat_id]
        except KeyError:
            raise ControlError(f"unknown chat {chat_id}", status=404) from None

    def chat_for_bot(self, chat_ref: int | str) -> SandboxChat:
        """The chat a bot method targets, with Telegram's refusals."""
        chat: SandboxChat | None
        if isinstance(chat_ref, str):
            name = chat_ref.removeprefix("@").lower()
            chat = next(
                (c for c in self.chats.values() if c.username and c.username.lower() == name),
                None,
            )
        else:
            chat = self.chats.get(chat_ref)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def chat_to_send(self, chat_ref: int | str) -> SandboxChat:
        """The chat the bot wants to post into, if the bot may post there."""
        chat = self.chat_for_bot(chat_ref)
        if chat.owner is not None:
            if chat.owner.blocked_bot:
                raise forbidden("bot was blocked by the user")
            if not chat.owner.started_bot:
                raise forbidden("bot can't initiate conversation with a user")
        elif not chat.bot_is_member:
            if chat.type == "channel":
                raise forbidden("bot is not a member of the channel chat")
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        return chat

    # --- messages --------------------------------------------------------------

    def add_message(self, record: MessageRecord) -> MessageRecord:
        """Remember a message so it can be replied to, edited and read back."""
        self.messages[(record.chat_id, record.message_id)] = record
        return record

    def message(self, chat_id: int, message_id: int) -> MessageRecord | None:
        """A message that exists and was not deleted."""
        record = self.messages.get((chat_id, message_id))
        if record is None or record.deleted:
            return None
        return record

    def chat_messages(self, chat_id: int, *, from_bot_only: bool = True) -> list[MessageRecord]:
        """Messages of one chat in order."""
        return sorted(
            (
                record
                for (cid, _), record in self.messages.items()
                if cid == chat_id and (record.from_bot or not from_bot_only)
            ),
            key=lambda record: record.message_id,
        )

    # --- files -----------------------------------------------------------------

    def store_file(
        self,
        kind: str,
        data: bytes,
        *,
        extension: str,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        """Keep bytes under a new file_id and a downloadable file_path."""
        self.last_file_number += 1
        number = self.last_file_number
        folder = {"photo": "photos", "document": "documents", "sticker": "stickers"}.get(kind, kind)
        stored = StoredFile(
            file_id=f"SBX{kind[:3].upper()}{number:06d}{secrets.token_urlsafe(12)}",
            file_unique_id=f"SBXU{number:06d}",
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{number}.{extension}",
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    # --- updates ---------------------------------------------------------------

    def enqueue_update(self, kind: str, payload: JSONDict) -> int:
        """Queue an update for getUpdates or the webhook; returns its update_id."""
        self.last_update_id += 1
        self.updates.append({"update_id": self.last_update_id, kind: payload})
        self.on_update()
        return self.last_update_id

    def confirm_updates(self, offset: int) -> None:
        """getUpdates' offset: forget updates below it; a negative one keeps the last -offset."""
        if offset < 0:
            del self.updates[: max(0, len(self.updates) + offset)]
        else:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def deliverable_updates(self, allowed: list[str] | None, limit: int) -> list[JSONDict]:
        """Pending updates of allowed types; others are dropped, as Telegram never sends them."""
        kept = [u for u in self.updates if _is_allowed(update_type(u), allowed)]
        self.updates = kept
        return kept[:limit]

    # --- faults and call accounting --------------------------------------------

    def add_fault(self, *, method: str, kind: str, count: int, retry_after: int, delay: float) -> Fault:
        """Schedule a fault for the next `count` calls."""
        if kind not in FAULT_KINDS:
            raise ControlError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if count < 1:
            raise ControlError("count must be at least 1")
        self.last_fault_id += 1
        fault = Fault(self.last_fault_id, method or "*", kind, count, retry_after, delay)
        self.faults.append(fault)
        return fault

    def take_fault(self, method: str) -> Fault | None:
        """The fault this call suffers, if any; consumes one use of it."""
        for fault in self.faults:
            if fault.method in ("*", method) and fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def count_call(self, method: str) -> None:
        """Count a Bot API call on arrival, so retries and in-flight long polls show up."""
        self.call_counts[method] += 1

    def log_request(self, entry: RequestLogEntry) -> None:
        """Remember how a Bot API call was answered."""
        self.request_log.append(entry)


def _bot_id(token: str) -> int:
    return int(token.split(":", 1)[0])


def _is_allowed(kind: str, allowed: list[str] | None) -> bool:
    if not allowed:
        return kind not in DEFAULT_EXCLUDED_UPDATES
    return kind in allowed
