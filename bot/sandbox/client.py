"""SandboxClient: a synchronous wrapper of the control API for tests, load tests and demos."""

from __future__ import annotations

import asyncio
import base64
import functools
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from bot.sandbox.customers import Injected

JSONDict = dict[str, Any]
T = TypeVar("T")

# Polling the control API this often keeps waits snappy without loading the server.
POLL_INTERVAL = 0.02
DEFAULT_WAIT = 5.0


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Building a context loads the CA bundle (~50 ms); tests create a client per test.
    return httpx.create_ssl_context()


class SandboxError(Exception):
    """The control API refused a call (unknown user, missing button, ...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class SandboxTimeout(AssertionError):
    """A wait helper gave up; an AssertionError so pytest shows it as a failed expectation."""


@dataclass(frozen=True)
class CustomerInfo:
    """A customer created in the sandbox; their private chat has the same id."""

    id: int
    first_name: str
    username: str | None
    language_code: str | None
    chat_id: int


@dataclass(frozen=True)
class ChatInfo:
    """A group, supergroup or channel created in the sandbox."""

    id: int
    type: str
    title: str


@dataclass(frozen=True)
class SentMessage:
    """A message in a chat as the bot left it (edits applied)."""

    chat_id: int
    message_id: int
    method: str
    text: str | None
    caption: str | None
    entities: list[JSONDict]
    source_text: str | None
    parse_mode: str | None
    reply_markup: JSONDict | None
    reply_to_message_id: int | None
    photo: list[JSONDict] | None
    document: JSONDict | None
    date: int
    edit_date: int | None
    deleted: bool
    from_bot: bool
    raw: JSONDict

    @classmethod
    def from_json(cls, data: JSONDict) -> SentMessage:
        return cls(
            chat_id=data["chat_id"],
            message_id=data["message_id"],
            method=data["method"],
            text=data.get("text"),
            caption=data.get("caption"),
            entities=data.get("entities") or [],
            source_text=data.get("source_text"),
            parse_mode=data.get("parse_mode"),
            reply_markup=data.get("reply_markup"),
            reply_to_message_id=data.get("reply_to_message_id"),
            photo=data.get("photo"),
            document=data.get("document"),
            date=data["date"],
            edit_date=data.get("edit_date"),
            deleted=data["deleted"],
            from_bot=data["from_bot"],
            raw=data["message"],
        )

    @property
    def buttons(self) -> list[JSONDict]:
        """Every button of the keyboard (inline or reply), row after row."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [b if isinstance(b, dict) else {"text": b} for row in rows for b in row]

    @property
    def callback_data(self) -> list[str]:
        """The callback_data of the inline buttons, in order."""
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]


@dataclass(frozen=True)
class Edit:
    """One edit of a bot message."""

    chat_id: int
    message_id: int
    method: str
    date: int
    before: JSONDict
    after: JSONDict


class SandboxClient:
    """Talks to a running sandbox's /control API; every method is one HTTP call."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, verify=_ssl_context())

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> SandboxClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- plumbing --------------------------------------------------------------

    def _call(self, verb: str, path: str, body: JSONDict | None = None, query: JSONDict | None = None) -> Any:
        params = {k: v for k, v in (query or {}).items() if v is not None}
        payload = None if body is None else {k: v for k, v in body.items() if v is not None}
        response = self._http.request(verb, f"/control{path}", json=payload, params=params)
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise SandboxError(response.status_code, message)
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.content

    def _inject(self, path: str, body: JSONDict) -> Injected:
        return Injected.from_json(self._call("POST", path, body))

    @staticmethod
    def _wait(probe: Callable[[], T | None], describe: Callable[[], str], timeout: float) -> T:
        deadline = time.monotonic() + timeout
        while True:
            result = probe()
            if result is not None:
                return result
            if time.monotonic() >= deadline:
                raise SandboxTimeout(f"gave up after {timeout:.1f}s: {describe()}")
            time.sleep(POLL_INTERVAL)

    @staticmethod
    async def _wait_async(probe: Callable[[], T | None], describe: Callable[[], str], timeout: float) -> T:
        # Each probe is a blocking HTTP call, so it runs in a thread: the bot under
        # test shares this event loop and must keep running while we wait.
        deadline = time.monotonic() + timeout
        while True:
            result = await asyncio.to_thread(probe)
            if result is not None:
                return result
            if time.monotonic() >= deadline:
                reason = await asyncio.to_thread(describe)
                raise SandboxTimeout(f"gave up after {timeout:.1f}s: {reason}")
            await asyncio.sleep(POLL_INTERVAL)

    # --- the sandbox -----------------------------------------------------------

    def reset(self) -> None:
        """Forget all users, chats, messages, files, updates, faults and the webhook."""
        self._call("POST", "/reset")

    def bot_info(self) -> JSONDict:
        """getMe, webhook state, pending updates, commands and implemented methods."""
        result: JSONDict = self._call("GET", "/bot")
        return result

    # --- users and chats -------------------------------------------------------

    def create_user(
        self,
        user_id: int | None = None,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        started_bot: bool = True,
    ) -> CustomerInfo:
        """Add a customer (and their private chat with the bot)."""
        data = self._call(
            "POST",
            "/users",
            {
                "id": user_id,
                "first_name": first_name,
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
                "started_bot": started_bot,
            },
        )
        user = data["user"]
        return CustomerInfo(
            id=user["id"],
            first_name=user["first_name"],
            username=user.get("username"),
            language_code=user.get("language_code"),
            chat_id=data["chat"]["id"],
        )

    def create_group(
        self,
        title: str = "Sandbox group",
        member_ids: list[int] | None = None,
        *,
        supergroup: bool = False,
        chat_id: int | None = None,
        username: str | None = None,
        bot_is_member: bool = True,
    ) -> ChatInfo:
        """Add a group (or supergroup) with these customers and, by default, the bot."""
        return self._create_chat(
            "supergroup" if supergroup else "group",
            title,
            member_ids or [],
            chat_id,
            username,
            bot_is_member,
        )

    def create_channel(
        self,
        title: str = "Sandbox channel",
        *,
        chat_id: int | None = None,
        username: str | None = None,
    ) -> ChatInfo:
        """Add a channel the bot administers."""
        return self._create_chat("channel", title, [], chat_id, username, True)

    def _create_chat(
        self,
        chat_type: str,
        title: str,
        member_ids: list[int],
        chat_id: int | None,
        username: str | None,
        bot_is_member: bool,
    ) -> ChatInfo:
        data = self._call(
            "POST",
            "/chats",
            {
                "type": chat_type,
                "title": title,
                "member_ids": member_ids,
                "id": chat_id,
                "username": username,
                "bot_is_member": bot_is_member,
            },
        )
        return ChatInfo(id=data["id"], type=data["type"], title=data["title"])

    def block_bot(self, user_id: int) -> Injected:
        """The customer blocks the bot: sends then fail with 403, a my_chat_member is queued."""
        return self._inject(f"/users/{user_id}/block", {"blocked": True})

    def unblock_bot(self, user_id: int) -> Injected:
        """The customer unblocks the bot again."""
        return self._inject(f"/users/{user_id}/block", {"blocked": False})

    # --- customer actions ------------------------------------------------------

    def send_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        entities: list[JSONDict] | None = None,
    ) -> Injected:
        """The customer types text (entities such as /commands are detected like a client does)."""
        return self._inject(
            "/messages",
            {
                "user_id": user_id,
                "text": text,
                "chat_id": chat_id,
                "reply_to_message_id": reply_to_message_id,
                "entities": entities,
            },
        )

    def send_command(
        self,
        user_id: int,
        command: str,
        args: str = "",
        *,
        chat_id: int | None = None,
        mention_bot: bool = False,
    ) -> Injected:
        """The customer sends /command args (as /command@bot when mention_bot)."""
        return self._inject(
            "/commands",
            {
                "user_id": user_id,
                "command": command,
                "args": args,
                "chat_id": chat_id,
                "mention_bot": mention_bot,
            },
        )

    def send_photo(
        self,
        user_id: int,
        *,
        caption: str | None = None,
        data: bytes | None = None,
        width: int = 640,
        height: int = 480,
        chat_id: int | None = None,
    ) -> Injected:
        """The customer sends a photo (a generated PNG unless data is given)."""
        return self._inject(
            "/photos",
            {
                "user_id": user_id,
                "caption": caption,
                "data_base64": _b64(data),
                "width": width,
                "height": height,
                "chat_id": chat_id,
            },
        )

    def send_document(
        self,
        user_id: int,
        *,
        data: bytes | None = None,
        file_name: str = "feedback.txt",
        mime_type: str = "text/plain",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> Injected:
        """The customer sends a file."""
        return self._inject(
            "/documents",
            {
                "user_id": user_id,
                "data_base64": _b64(data),
                "file_name": file_name,
                "mime_type": mime_type,
                "caption": caption,
                "chat_id": chat_id,
            },
        )

    def send_sticker(self, user_id: int, *, emoji: str = "👍", chat_id: int | None = None) -> Injected:
        """The customer sends a sticker."""
        return self._inject("/stickers", {"user_id": user_id, "emoji": emoji, "chat_id": chat_id})

    def send_voice(self, user_id: int, *, duration: int = 3, chat_id: int | None = None) -> Injected:
        """The customer sends a voice note."""
        return self._inject("/voices", {"user_id": user_id, "duration": duration, "chat_id": chat_id})

    def send_location(
        self, user_id: int, latitude: float, longitude: float, *, chat_id: int | None = None
    ) -> Injected:
        """The customer shares a location."""
        return self._inject(
            "/locations",
            {"user_id": user_id, "latitude": latitude, "longitude": longitude, "chat_id": chat_id},
        )

    def send_contact(
        self,
        user_id: int,
        phone_number: str,
        first_name: str,
        *,
        last_name: str | None = None,
        contact_user_id: int | None = None,
        chat_id: int | None = None,
    ) -> Injected:
        """The customer shares a contact."""
        return self._inject(
            "/contacts",
            {
                "user_id": user_id,
                "phone_number": phone_number,
                "first_name": first_name,
                "last_name": last_name,
                "contact_user_id": contact_user_id,
                "chat_id": chat_id,
            },
        )

    def edit_message(self, chat_id: int, message_id: int, text: str) -> Injected:
        """The customer edits an earlier message; the bot gets edited_message."""
        return self._inject("/edits", {"chat_id": chat_id, "message_id": message_id, "text": text})

    def press_button(self, user_id: int, chat_id: int, message_id: int, data: str) -> Injected:
        """The customer presses the inline button with this callback_data.

        Data on no button is sent anyway (as a forging client could) and marked forged.
        """
        return self._inject(
            "/callbacks",
            {"user_id": user_id, "chat_id": chat_id, "message_id": message_id, "data": data},
        )

    def post_to_channel(self, chat_id: int, text: str) -> Injected:
        """A channel admin posts; the bot gets channel_post."""
        return self._inject("/channel_posts", {"chat_id": chat_id, "text": text})

    # --- what the bot did ------------------------------------------------------

    def messages(self, chat_id: int, *, include_customer: bool = False) -> list[SentMessage]:
        """The bot's messages in a chat (also the customers' with include_customer)."""
        data = self._call(
            "GET",
            f"/chats/{chat_id}/messages",
            query={"include_customer": "1" if include_customer else None},
        )
        return [SentMessage.from_json(m) for m in data["messages"]]

    def edits(self, chat_id: int) -> list[Edit]:
        """Every edit the bot made in a chat, oldest first."""
        data = self._call("GET", f"/chats/{chat_id}/messages")
        return [Edit(**edit) for edit in data["edits"]]

    def chat_actions(self, chat_id: int) -> list[JSONDict]:
        """sendChatAction calls for a chat ("typing", ...)."""
        result: list[JSONDict] = self._call("GET", f"/chats/{chat_id}/actions")
        return result

    def callback_answer(self, callback_query_id: str) -> JSONDict | None:
        """The bot's answerCallbackQuery for a press, or None while unanswered."""
        answer: JSONDict | None = self._call("GET", f"/callbacks/{callback_query_id}")["answer"]
        return answer

    def pending_updates(self) -> list[JSONDict]:
        """Updates the bot has not confirmed yet."""
        result: list[JSONDict] = self._call("GET", "/updates")
        return result

    def file_bytes(self, file_id: str) -> bytes:
        """The stored bytes of any file (sent by the bot or by a customer)."""
        data: bytes = self._call("GET", f"/files/{file_id}")
        return data

    def requests(self, method: str | None = None) -> list[JSONDict]:
        """The Bot API request log (parameters, status, description)."""
        result: list[JSONDict] = self._call("GET", "/requests", query={"method": method})
        return result

    # --- waiting ---------------------------------------------------------------
    # Each wait has a blocking form for plain tests and scripts, and an `_async`
    # form for tests whose bot runs on the same event loop as the test.

    def _messages_probe(
        self, chat_id: int, count: int
    ) -> tuple[Callable[[], list[SentMessage] | None], Callable[[], str]]:
        def probe() -> list[SentMessage] | None:
            found = self.messages(chat_id)
            return found if len(found) >= count else None

        def describe() -> str:
            texts = [m.text or m.caption for m in self.messages(chat_id)]
            return f"expected {count} bot message(s) in chat {chat_id}, have {texts}"

        return probe, describe

    def _edits_probe(
        self, chat_id: int, count: int
    ) -> tuple[Callable[[], list[Edit] | None], Callable[[], str]]:
        def probe() -> list[Edit] | None:
            found = self.edits(chat_id)
            return found if len(found) >= count else None

        return probe, lambda: f"expected {count} edit(s) in chat {chat_id}"

    def _answer_probe(
        self, callback_query_id: str
    ) -> tuple[Callable[[], JSONDict | None], Callable[[], str]]:
        return (
            lambda: self.callback_answer(callback_query_id),
            lambda: f"callback query {callback_query_id} was not answered",
        )

    def _calls_probe(self, method: str, count: int) -> tuple[Callable[[], int | None], Callable[[], str]]:
        def probe() -> int | None:
            seen = self.call_count(method)
            return seen if seen >= count else None

        return probe, lambda: f"{method} called {self.call_count(method)}x, wanted {count}"

    def _delivered_probe(self) -> tuple[Callable[[], bool | None], Callable[[], str]]:
        return (
            lambda: True if not self.pending_updates() else None,
            lambda: f"still pending: {self.pending_updates()}",
        )

    def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = DEFAULT_WAIT
    ) -> list[SentMessage]:
        """Wait until the bot has sent at least `count` messages to the chat; returns them all."""
        return self._wait(*self._messages_probe(chat_id, count), timeout=timeout)

    async def wait_for_messages_async(
        self, chat_id: int, count: int = 1, timeout: float = DEFAULT_WAIT
    ) -> list[SentMessage]:
        """wait_for_messages without blocking the event loop."""
        return await self._wait_async(*self._messages_probe(chat_id, count), timeout=timeout)

    def wait_for_edits(self, chat_id: int, count: int = 1, timeout: float = DEFAULT_WAIT) -> list[Edit]:
        """Wait until the bot has made at least `count` edits in the chat."""
        return self._wait(*self._edits_probe(chat_id, count), timeout=timeout)

    async def wait_for_edits_async(
        self, chat_id: int, count: int = 1, timeout: float = DEFAULT_WAIT
    ) -> list[Edit]:
        """wait_for_edits without blocking the event loop."""
        return await self._wait_async(*self._edits_probe(chat_id, count), timeout=timeout)

    def wait_for_callback_answer(self, callback_query_id: str, timeout: float = DEFAULT_WAIT) -> JSONDict:
        """Wait until the bot answered this button press; returns the answer."""
        return self._wait(*self._answer_probe(callback_query_id), timeout=timeout)

    async def wait_for_callback_answer_async(
        self, callback_query_id: str, timeout: float = DEFAULT_WAIT
    ) -> JSONDict:
        """wait_for_callback_answer without blocking the event loop."""
        return await self._wait_async(*self._answer_probe(callback_query_id), timeout=timeout)

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = DEFAULT_WAIT) -> int:
        """Wait until the bot called `method` at least `count` times; returns the count."""
        return self._wait(*self._calls_probe(method, count), timeout=timeout)

    async def wait_for_calls_async(self, method: str, count: int = 1, timeout: float = DEFAULT_WAIT) -> int:
        """wait_for_calls without blocking the event loop."""
        return await self._wait_async(*self._calls_probe(method, count), timeout=timeout)

    def wait_until_delivered(self, timeout: float = DEFAULT_WAIT) -> None:
        """Wait until the bot has fetched (confirmed) every pending update."""
        self._wait(*self._delivered_probe(), timeout=timeout)

    async def wait_until_delivered_async(self, timeout: float = DEFAULT_WAIT) -> None:
        """wait_until_delivered without blocking the event loop."""
        await self._wait_async(*self._delivered_probe(), timeout=timeout)

    # --- faults and call counts ------------------------------------------------

    def add_fault(
        self,
        kind: str,
        *,
        method: str = "*",
        count: int = 1,
        retry_after: int = 1,
        delay: float = 0.0,
    ) -> JSONDict:
        """Make the next `count` calls of `method` ("*": any) fail: kind 429, 500, delay or drop."""
        result: JSONDict = self._call(
            "POST",
            "/faults",
            {
                "kind": kind,
                "method": method,
                "count": count,
                "retry_after": retry_after,
                "delay": delay,
            },
        )
        return result

    def fail_with_429(self, method: str, *, retry_after: int = 1, count: int = 1) -> JSONDict:
        """Answer 429 Too Many Requests with parameters.retry_after."""
        return self.add_fault("429", method=method, count=count, retry_after=retry_after)

    def fail_with_500(self, method: str, *, count: int = 1) -> JSONDict:
        """Answer 500 Internal Server Error."""
        return self.add_fault("500", method=method, count=count)

    def delay_calls(self, method: str, seconds: float, *, count: int = 1) -> JSONDict:
        """Answer normally but only after `seconds`."""
        return self.add_fault("delay", method=method, count=count, delay=seconds)

    def drop_connection(self, method: str, *, count: int = 1) -> JSONDict:
        """Close the connection without answering."""
        return self.add_fault("drop", method=method, count=count)

    def faults(self) -> list[JSONDict]:
        """Faults still waiting to happen, with their remaining counts."""
        result: list[JSONDict] = self._call("GET", "/faults")
        return result

    def clear_faults(self) -> None:
        """Cancel every pending fault."""
        self._call("DELETE", "/faults")

    def call_counts(self) -> dict[str, int]:
        """How often each Bot API method was called (faulted calls included)."""
        result: dict[str, int] = self._call("GET", "/calls")
        return result

    def call_count(self, method: str) -> int:
        """How often one Bot API method was called."""
        return self.call_counts().get(method, 0)


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()
