"""End to end: odd input, floods and Telegram failures leave the bot answering and nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.sandbox import SandboxClient
from tests.bot_harness import Feedbot, eventually, running_feedbot
from tests.test_bot_intake import ticket_in


def stored_count(feedbot: Feedbot) -> int:
    with feedbot.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM feedback_items")).scalar_one())


@pytest.mark.parametrize("send", ["sticker", "voice", "location", "contact"])
def test_unsupported_messages_get_a_friendly_answer_and_store_nothing(feedbot: Feedbot, send: str) -> None:
    customer = feedbot.customer()
    actions = {
        "sticker": lambda: feedbot.sandbox.send_sticker(customer.id),
        "voice": lambda: feedbot.sandbox.send_voice(customer.id),
        "location": lambda: feedbot.sandbox.send_location(customer.id, 31.23, 121.47),
        "contact": lambda: feedbot.sandbox.send_contact(customer.id, "+8613812345678", "王"),
    }
    actions[send]()
    reply = feedbot.sandbox.wait_for_messages(customer.chat_id, 1)[0]
    assert "只能处理文字" in (reply.text or "")
    assert stored_count(feedbot) == 0


def test_photo_with_caption_is_feedback_with_its_attachment(feedbot: Feedbot) -> None:
    customer = feedbot.customer()
    sent = feedbot.sandbox.send_photo(customer.id, caption="收到的杯子是碎的，快递包装太差")
    ticket = ticket_in(feedbot.sandbox.wait_for_messages(customer.chat_id, 1)[0].text or "")
    item = feedbot.repository.get_by_ticket(ticket)
    assert item is not None and item.text == "收到的杯子是碎的，快递包装太差"
    assert [a.kind for a in item.attachments] == ["photo"] and item.attachments[0].file_id == sent.file_id


def test_photo_without_caption_is_kept_for_staff_and_customer_asked_for_words(feedbot: Feedbot) -> None:
    customer = feedbot.customer()
    feedbot.sandbox.send_photo(customer.id)
    reply = feedbot.sandbox.wait_for_messages(customer.chat_id, 1)[0].text or ""
    ticket = ticket_in(reply)
    assert "没有文字说明" in reply
    item = feedbot.repository.get_by_ticket(ticket)
    assert item is not None and item.final_queue == "triage" and len(item.attachments) == 1
    triage = feedbot.sandbox.wait_for_messages(feedbot.staff_chats["triage"], 1)[0]
    assert ticket in (triage.text or "") and "photo" in (triage.text or "")


@pytest.mark.parametrize(
    "message",
    [
        "太" * 4096,
        "😡😡😡👎",
        "<b>粗体</b> & <i>没关闭的标签",
        "'; DROP TABLE feedback_items; --",
        "价格\n\n\t多行   空白  ",
    ],
    ids=["4096-chars", "emoji-only", "html-like", "sql-like", "whitespace"],
)
def test_odd_text_is_stored_exactly_and_answered(feedbot: Feedbot, message: str) -> None:
    customer = feedbot.customer()
    feedbot.sandbox.send_message(customer.id, message)
    reply = feedbot.sandbox.wait_for_messages(customer.chat_id, 1)[0]
    ticket = ticket_in(reply.text or "")
    assert reply.parse_mode is None  # customer text can never break formatting
    item = feedbot.repository.get_by_ticket(ticket)
    assert item is not None and item.text == message
    assert stored_count(feedbot) == 1  # the SQL-like text dropped nothing


def test_edited_message_updates_the_stored_text_while_new(feedbot: Feedbot) -> None:
    customer = feedbot.customer()
    sent = feedbot.sandbox.send_message(customer.id, "送餐太慢")
    ticket = ticket_in(feedbot.sandbox.wait_for_messages(customer.chat_id, 1)[0].text or "")
    feedbot.sandbox.edit_message(customer.chat_id, sent.message_id or 0, "送餐太慢了，等了两个小时")
    notice = feedbot.sandbox.wait_for_messages(customer.chat_id, 2)[-1]
    assert ticket in (notice.text or "")
    item = feedbot.repository.get_by_ticket(ticket)
    assert item is not None and item.text == "送餐太慢了，等了两个小时"
    assert stored_count(feedbot) == 1


def test_group_messages_and_channel_posts_are_ignored(feedbot: Feedbot) -> None:
    customer = feedbot.customer()
    group = feedbot.sandbox.create_group("家人群", [customer.id])
    feedbot.sandbox.send_message(customer.id, "@feedbot_sandbox_bot 这家店太贵了", chat_id=group.id)
    feedbot.sandbox.send_command(customer.id, "start", chat_id=group.id, mention_bot=True)
    channel = feedbot.sandbox.create_channel("新闻")
    feedbot.sandbox.post_to_channel(channel.id, "新品上市")
    # A private message afterwards is answered, so the earlier updates were processed.
    ticket_in(feedbot.say(customer, "快递太慢了"))
    assert feedbot.sandbox.messages(group.id) == []
    assert feedbot.sandbox.messages(channel.id) == []
    assert stored_count(feedbot) == 1


def test_flood_is_rate_limited_politely_and_nothing_is_lost(
    sandbox: SandboxClient, models_dir: Path, tmp_path: Path
) -> None:
    with running_feedbot(
        sandbox, models_dir, f"sqlite:///{tmp_path / 'db.sqlite'}", intake={"rate_limit_per_minute": 3}
    ) as harness:
        customer = harness.customer()
        for number in range(6):
            sandbox.send_message(customer.id, f"第{number}条：送餐太慢了")
        replies = sandbox.wait_for_messages(customer.chat_id, 6)
        assert sum("发得有点快" in (r.text or "") for r in replies) == 3
        assert stored_count(harness) == 6


@pytest.mark.parametrize("fault", ["429", "500"])
def test_telegram_failures_are_retried_until_the_reply_is_sent(feedbot: Feedbot, fault: str) -> None:
    customer = feedbot.customer()
    feedbot.sandbox.add_fault(fault, method="sendMessage", count=3, retry_after=1)
    feedbot.sandbox.send_message(customer.id, "骑手把汤洒了一半")
    reply = feedbot.sandbox.wait_for_messages(customer.chat_id, 1, timeout=20)[0]
    ticket = ticket_in(reply.text or "")
    eventually(lambda: feedbot.repository.get_by_ticket(ticket).reply_sent_at)  # type: ignore[union-attr]
    feedbot.sandbox.wait_for_messages(feedbot.staff_chats["service"], 1, timeout=20)


def test_long_outage_is_caught_up_by_the_unanswered_job(
    sandbox: SandboxClient, models_dir: Path, tmp_path: Path
) -> None:
    with running_feedbot(
        sandbox, models_dir, f"sqlite:///{tmp_path / 'db.sqlite'}", intake={"retry_unanswered_seconds": 1}
    ) as harness:
        customer = harness.customer()
        # More failures than the in-request retries cover: the handler gives up.
        sandbox.add_fault("500", method="sendMessage", count=12)
        sandbox.send_message(customer.id, "发票一直没开，客服也不理")
        reply = sandbox.wait_for_messages(customer.chat_id, 1, timeout=40)[0]
        ticket = ticket_in(reply.text or "")
        eventually(lambda: harness.repository.get_by_ticket(ticket).reply_sent_at)  # type: ignore[union-attr]
        assert stored_count(harness) == 1
