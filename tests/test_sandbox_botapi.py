"""The sandbox's Bot API over plain HTTP: long polling, shapes, limits and the control API."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.sandbox import SandboxClient, SandboxError, SandboxServer
from tests.sandbox_fixtures import TEST_TOKEN


class BotHttp:
    """Calls Bot API methods the way any HTTP client would."""

    def __init__(self, base_url: str, token: str = TEST_TOKEN) -> None:
        self.url = f"{base_url}/bot{token}"
        self.http = httpx.Client(timeout=10)

    def __call__(self, method: str, **params: Any) -> httpx.Response:
        return self.http.post(f"{self.url}/{method}", json=params)

    def ok(self, method: str, **params: Any) -> Any:
        body = self(method, **params).json()
        assert body["ok"], body
        return body["result"]

    def error(self, method: str, **params: Any) -> tuple[int, str]:
        response = self(method, **params)
        body = response.json()
        assert not body["ok"] and body["error_code"] == response.status_code
        return response.status_code, body["description"]


@pytest.fixture
def bot(sandbox: SandboxClient) -> Iterator[BotHttp]:
    client = BotHttp(sandbox.base_url)
    yield client
    client.http.close()


def test_get_me_has_every_field_ptb_requires(bot: BotHttp) -> None:
    me = bot.ok("getMe")
    assert me["is_bot"] is True
    assert me["id"] == int(TEST_TOKEN.split(":")[0])
    assert {"first_name", "username", "can_join_groups"} <= me.keys()


def test_method_names_are_case_insensitive_like_telegram(bot: BotHttp) -> None:
    assert bot.ok("GETME")["is_bot"] is True


def test_one_sandbox_serves_one_bot_token(sandbox: SandboxClient, bot: BotHttp) -> None:
    bot.ok("getMe")
    other = BotHttp(sandbox.base_url, "42:another-token")
    assert other.error("getMe") == (401, "Unauthorized")


def test_get_updates_long_polls_without_busy_looping(sandbox: SandboxClient, bot: BotHttp) -> None:
    user = sandbox.create_user()
    result: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        result["updates"] = bot.ok("getUpdates", timeout=5)
        result["elapsed"] = time.monotonic() - started

    poller = threading.Thread(target=poll)
    poller.start()
    sandbox.wait_for_calls("getUpdates", 1)
    time.sleep(0.2)  # the poll must be parked, not spinning, while nothing happens
    sandbox.send_message(user.id, "hi")
    poller.join(5)

    assert [u["message"]["text"] for u in result["updates"]] == ["hi"]
    assert 0.2 <= result["elapsed"] < 2
    assert sandbox.call_count("getUpdates") == 1


def test_get_updates_times_out_empty(bot: BotHttp) -> None:
    started = time.monotonic()
    assert bot.ok("getUpdates", timeout=1) == []
    assert 0.9 <= time.monotonic() - started < 2


def test_offset_confirms_updates_and_limit_caps_them(sandbox: SandboxClient, bot: BotHttp) -> None:
    user = sandbox.create_user()
    injected = [sandbox.send_message(user.id, f"m{i}") for i in range(3)]
    ids = [i.update_id for i in injected if i.update_id is not None]

    first = bot.ok("getUpdates", limit=2)
    again = bot.ok("getUpdates")
    after = bot.ok("getUpdates", offset=ids[1] + 1)
    bot.ok("getUpdates", offset=ids[2] + 1)

    assert [u["update_id"] for u in first] == ids[:2]
    assert [u["update_id"] for u in again] == ids  # unconfirmed updates come back
    assert [u["update_id"] for u in after] == ids[2:]
    assert sandbox.pending_updates() == []


def test_allowed_updates_filters_and_persists(sandbox: SandboxClient, bot: BotHttp) -> None:
    user = sandbox.create_user()
    sandbox.send_message(user.id, "text")
    sandbox.block_bot(user.id)

    only_members = bot.ok("getUpdates", allowed_updates=["my_chat_member"])
    later = bot.ok("getUpdates")

    assert [next(k for k in u if k != "update_id") for u in only_members] == ["my_chat_member"]
    assert [u["update_id"] for u in later] == [u["update_id"] for u in only_members]


def test_a_second_poll_terminates_the_first_with_409(sandbox: SandboxClient, bot: BotHttp) -> None:
    result: dict[str, Any] = {}
    poller = threading.Thread(target=lambda: result.update(first=bot.error("getUpdates", timeout=5)))
    poller.start()
    sandbox.wait_for_calls("getUpdates", 1)

    BotHttp(sandbox.base_url).ok("getUpdates")
    poller.join(5)

    status, description = result["first"]
    assert status == 409 and description.startswith("Conflict: terminated by other getUpdates")


def test_webhook_info_and_conflict(bot: BotHttp) -> None:
    assert bot.ok("getWebhookInfo") == {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": 0,
    }
    assert bot("setWebhook", url="https://example.invalid/hook").json()["description"] == ("Webhook was set")
    assert bot.error("getUpdates")[0] == 409
    assert bot.error("setWebhook", url="https://x.invalid", secret_token="no spaces")[0] == 400
    assert bot("deleteWebhook").json()["description"] == "Webhook was deleted"
    assert bot.ok("getUpdates") == []


def test_reply_parameters_attach_the_replied_message(sandbox: SandboxClient, bot: BotHttp) -> None:
    user = sandbox.create_user()
    question = sandbox.send_message(user.id, "Where is my order?")

    reply = bot.ok(
        "sendMessage",
        chat_id=user.chat_id,
        text="On its way",
        reply_parameters={"message_id": question.message_id},
    )
    missing = bot.error("sendMessage", chat_id=user.chat_id, text="x", reply_parameters={"message_id": 999})

    assert reply["reply_to_message"]["text"] == "Where is my order?"
    assert missing == (400, "Bad Request: message to be replied not found")


def test_edits_are_logged_and_checked(sandbox: SandboxClient, bot: BotHttp) -> None:
    user = sandbox.create_user()
    keyboard = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = bot.ok("sendMessage", chat_id=user.chat_id, text="v1", reply_markup=keyboard)
    ref = {"chat_id": user.chat_id, "message_id": sent["message_id"]}

    edited = bot.ok("editMessageText", text="v2", reply_markup=keyboard, **ref)
    unmarked = bot.ok("editMessageReplyMarkup", **ref)
    not_modified = bot.error("editMessageReplyMarkup", **ref)
    customer = sandbox.send_message(user.id, "mine")
    foreign = bot.error("editMessageText", chat_id=user.chat_id, message_id=customer.message_id, text="x")
    missing = bot.error("editMessageText", chat_id=user.chat_id, message_id=99, text="x")

    assert edited["text"] == "v2" and edited["reply_markup"] == keyboard
    assert "reply_markup" not in unmarked
    assert not_modified[1].startswith("Bad Request: message is not modified")
    assert foreign == (400, "Bad Request: message can't be edited")
    assert missing == (400, "Bad Request: message to edit not found")
    assert [e.method for e in sandbox.edits(user.chat_id)] == [
        "editMessageText",
        "editMessageReplyMarkup",
    ]
    [message] = sandbox.messages(user.chat_id)
    assert message.text == "v2" and message.reply_markup is None


def test_reply_keyboards_are_recorded_but_not_part_of_the_message(
    sandbox: SandboxClient, bot: BotHttp
) -> None:
    user = sandbox.create_user()
    keyboard = {"keyboard": [["Sales", "Support"]], "resize_keyboard": True}
    sent = bot.ok("sendMessage", chat_id=user.chat_id, text="Pick", reply_markup=keyboard)
    [message] = sandbox.messages(user.chat_id)

    assert "reply_markup" not in sent
    assert [b["text"] for b in message.buttons] == ["Sales", "Support"]


def test_callback_queries_are_answered_once(sandbox: SandboxClient, bot: BotHttp) -> None:
    user = sandbox.create_user()
    keyboard = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = bot.ok("sendMessage", chat_id=user.chat_id, text="?", reply_markup=keyboard)
    press = sandbox.press_button(user.id, user.chat_id, sent["message_id"], "a")
    assert press.callback_query_id is not None

    bot.ok("answerCallbackQuery", callback_query_id=press.callback_query_id, show_alert=True)
    twice = bot.error("answerCallbackQuery", callback_query_id=press.callback_query_id)

    assert sandbox.callback_answer(press.callback_query_id) == {
        "text": None,
        "show_alert": True,
        "url": None,
        "cache_time": 0,
    }
    assert twice[1].startswith("Bad Request: query is too old")
    assert not press.forged


def test_forged_callback_data_is_delivered_and_marked(sandbox: SandboxClient, bot: BotHttp) -> None:
    user = sandbox.create_user()
    keyboard = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = bot.ok("sendMessage", chat_id=user.chat_id, text="?", reply_markup=keyboard)

    forged = sandbox.press_button(user.id, user.chat_id, sent["message_id"], "admin:delete")
    [update] = bot.ok("getUpdates")

    assert forged.forged and forged.delivered
    assert update["callback_query"]["data"] == "admin:delete"
    with pytest.raises(SandboxError, match="no bot message"):
        sandbox.press_button(user.id, user.chat_id, 999, "a")


def test_users_who_never_started_the_bot_cannot_be_messaged(sandbox: SandboxClient, bot: BotHttp) -> None:
    user = sandbox.create_user(started_bot=False)
    refused = bot.error("sendMessage", chat_id=user.chat_id, text="hi")
    sandbox.send_command(user.id, "start")

    assert refused == (403, "Forbidden: bot can't initiate conversation with a user")
    assert bot.ok("sendMessage", chat_id=user.chat_id, text="hi")["text"] == "hi"


def test_photo_must_be_an_image_and_file_ids_must_exist(sandbox: SandboxClient, bot: BotHttp) -> None:
    user = sandbox.create_user()
    url = f"{bot.url}/sendPhoto"
    not_image = bot.http.post(url, data={"chat_id": str(user.chat_id)}, files={"photo": ("a.jpg", b"text")})

    assert not_image.json()["description"] == "Bad Request: IMAGE_PROCESS_FAILED"
    assert bot.error("sendPhoto", chat_id=user.chat_id, photo="nope")[1] == (
        "Bad Request: wrong file identifier/HTTP URL specified"
    )
    assert bot.error("getFile", file_id="nope") == (400, "Bad Request: invalid file_id")


def test_chat_actions_are_recorded(sandbox: SandboxClient, bot: BotHttp) -> None:
    user = sandbox.create_user()
    bot.ok("sendChatAction", chat_id=user.chat_id, action="typing")

    assert [a["action"] for a in sandbox.chat_actions(user.chat_id)] == ["typing"]
    assert bot.error("sendChatAction", chat_id=user.chat_id, action="dancing")[0] == 400


def test_group_messages_need_the_bot_as_member(sandbox: SandboxClient, bot: BotHttp) -> None:
    group = sandbox.create_group("Outside", bot_is_member=False)
    assert bot.error("sendMessage", chat_id=group.id, text="hi") == (
        403,
        "Forbidden: bot is not a member of the group chat",
    )


def test_delay_fault_slows_one_call_and_is_listed_until_used(sandbox: SandboxClient, bot: BotHttp) -> None:
    sandbox.delay_calls("getMe", 0.3)
    assert [f["kind"] for f in sandbox.faults()] == ["delay"]

    started = time.monotonic()
    bot.ok("getMe")

    assert time.monotonic() - started >= 0.3
    assert sandbox.faults() == []


def test_reset_forgets_everything(sandbox: SandboxClient, bot: BotHttp) -> None:
    user = sandbox.create_user()
    bot.ok("sendMessage", chat_id=user.chat_id, text="hi")
    sandbox.fail_with_500("getMe")

    sandbox.reset()

    assert sandbox.bot_info()["token_claimed"] is False
    assert sandbox.faults() == [] and sandbox.call_counts() == {}
    with pytest.raises(SandboxError, match="unknown chat"):
        sandbox.messages(user.chat_id)


def test_control_api_reports_mistakes_clearly(sandbox: SandboxClient) -> None:
    with pytest.raises(SandboxError, match="unknown user 5"):
        sandbox.send_message(5, "hi")
    with pytest.raises(SandboxError, match="kind must be one of"):
        sandbox.add_fault("teapot", method="getMe")


def test_request_log_keeps_parameters(sandbox: SandboxClient, bot: BotHttp) -> None:
    user = sandbox.create_user()
    bot.ok("sendMessage", chat_id=user.chat_id, text="<b>x</b>", parse_mode="HTML")
    [entry] = sandbox.requests("sendMessage")
    assert entry["params"]["parse_mode"] == "HTML" and entry["status"] == 200


def test_server_runs_with_a_fixed_token_and_as_context_manager() -> None:
    with SandboxServer(token="1:fixed") as server, SandboxClient(str(server.base_url)) as client:
        assert httpx.get(f"{server.base_url}/bot2:other/getMe").status_code == 401
        assert httpx.get(f"{server.base_url}/bot1:fixed/getMe").json()["result"]["id"] == 1
        assert client.bot_info()["token_claimed"] is True


def test_stop_does_not_wait_for_a_parked_long_poll() -> None:
    server = SandboxServer()
    base_url = server.start()
    client = SandboxClient(base_url)
    bot = BotHttp(base_url)
    outcome: list[str] = []

    def poll() -> None:
        try:
            bot("getUpdates", timeout=30)
            outcome.append("answered")
        except httpx.HTTPError:
            outcome.append("disconnected")

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    client.wait_for_calls("getUpdates", 1)

    started = time.monotonic()
    server.stop()

    assert time.monotonic() - started < 3
    poller.join(5)
    assert outcome  # the poll ended one way or the other instead of hanging
    client.close()
    bot.http.close()
