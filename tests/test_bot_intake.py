"""End to end: customers write to the real bot over HTTP; staff act in their chats."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.sandbox import SandboxClient
from tests.bot_harness import Feedbot, make_feedbot, running_feedbot

TICKET = re.compile(r"FB-\d{6}")


def ticket_in(text: str) -> str:
    match = TICKET.search(text)
    assert match, f"no ticket number in {text!r}"
    return match.group(0)


@pytest.mark.parametrize(
    ("text", "department", "department_name"),
    [
        ("等了一个半小时才送到，饭都凉了，骑手还不接电话", "service", "服务部"),
        ("昨天买的今天就降价五十，太坑了，能补差价吗", "sales", "销售部"),
        ("衣服质量太差了，洗了一次就掉色起球", "product", "产品部"),
    ],
)
def test_complaint_reaches_its_department_and_customer_gets_ticket(
    feedbot: Feedbot, text: str, department: str, department_name: str
) -> None:
    customer = feedbot.customer()
    reply = feedbot.say(customer, text)
    ticket = ticket_in(reply)
    assert department_name in reply
    posted = feedbot.sandbox.wait_for_messages(feedbot.staff_chats[department], 1)
    assert ticket in (posted[0].text or "") and text in (posted[0].text or "")
    assert set(posted[0].callback_data) >= {f"s:{int(ticket[3:])}:resolve", f"s:{int(ticket[3:])}:none"}
    stored = feedbot.repository.get_by_ticket(ticket)
    assert stored is not None and stored.text == text and stored.final_queue == department
    assert stored.reply_sent_at is not None


def test_english_customer_gets_english_reply(feedbot: Feedbot) -> None:
    customer = feedbot.customer("Alex", language_code="en")
    reply = feedbot.say(customer, "The delivery took two hours and the courier was rude")
    assert "ticket" in reply.lower()
    ticket_in(reply)


def test_unsure_message_asks_the_customer_and_records_the_choice(
    sandbox: SandboxClient, models_dir: Path, tmp_path: Path
) -> None:
    # A threshold no prediction reaches makes every message "unsure".
    with running_feedbot(
        sandbox, models_dir, f"sqlite:///{tmp_path / 'db.sqlite'}", classifier={"threshold": 0.999}
    ) as harness:
        customer = harness.customer()
        sandbox.send_message(customer.id, "东西一般，送得也慢")
        question = sandbox.wait_for_messages(customer.chat_id, 1)[0]
        ticket = ticket_in(question.text or "")
        choices = question.callback_data
        assert len(choices) == 3 and choices[-1].endswith(":unsure")
        picked = choices[0].split(":")[-1]
        assert harness.repository.get_by_ticket(ticket).status == "awaiting_customer"  # type: ignore[union-attr]
        sandbox.press_button(customer.id, customer.chat_id, question.message_id, choices[0])
        sandbox.wait_for_edits(customer.chat_id, 1)
        posted = sandbox.wait_for_messages(harness.staff_chats[picked], 1)
        assert ticket in (posted[0].text or "")
        item = harness.repository.get_by_ticket(ticket)
        assert item is not None and item.final_queue == picked and item.status == "new"
        changes = harness.repository.label_changes(item.id)
        assert [(c.actor, c.source, c.to_queue) for c in changes] == [("customer", "customer_choice", picked)]


def test_not_sure_goes_to_triage(sandbox: SandboxClient, models_dir: Path, tmp_path: Path) -> None:
    with running_feedbot(
        sandbox, models_dir, f"sqlite:///{tmp_path / 'db.sqlite'}", classifier={"threshold": 0.999}
    ) as harness:
        customer = harness.customer()
        sandbox.send_message(customer.id, "有点问题")
        question = sandbox.wait_for_messages(customer.chat_id, 1)[0]
        sandbox.press_button(customer.id, customer.chat_id, question.message_id, question.callback_data[-1])
        posted = sandbox.wait_for_messages(harness.staff_chats["triage"], 1)
        assert ticket_in(question.text or "") in (posted[0].text or "")


def test_staff_relabel_moves_edits_and_logs(feedbot: Feedbot) -> None:
    customer = feedbot.customer()
    ticket = ticket_in(feedbot.say(customer, "等了两个小时外卖才到，汤都洒了"))
    item_id = int(ticket[3:])
    service_chat = feedbot.staff_chats["service"]
    posted = feedbot.sandbox.wait_for_messages(service_chat, 1)[0]

    # Someone who is not staff presses the same button: refused, nothing changes.
    stranger = feedbot.customer("路人")
    press = feedbot.sandbox.press_button(stranger.id, service_chat, posted.message_id, f"s:{item_id}:sales")
    answer = feedbot.sandbox.wait_for_callback_answer(press.callback_query_id or "")
    assert "staff" in str(answer.get("text", "")).lower()
    assert feedbot.repository.get_item(item_id).final_queue == "service"  # type: ignore[union-attr]
    assert feedbot.repository.label_changes(item_id) == []

    staff = feedbot.staff_member
    feedbot.sandbox.press_button(staff.id, service_chat, posted.message_id, f"s:{item_id}:product")
    edit = feedbot.sandbox.wait_for_edits(service_chat, 1)[0]
    assert "moved to product" in str(edit.after.get("text"))
    moved = feedbot.sandbox.wait_for_messages(feedbot.staff_chats["product"], 1)[0]
    assert ticket in (moved.text or "")
    item = feedbot.repository.get_item(item_id)
    assert item is not None and item.final_queue == "product"
    change = feedbot.repository.label_changes(item_id)[-1]
    assert (change.actor, change.from_queue, change.to_queue, change.source) == (
        f"staff:{staff.id}",
        "service",
        "product",
        "staff_relabel",
    )


def test_forged_callback_data_changes_nothing(feedbot: Feedbot) -> None:
    customer = feedbot.customer()
    ticket = ticket_in(feedbot.say(customer, "价格太贵了，比别家贵一倍"))
    item_id = int(ticket[3:])
    reply = feedbot.sandbox.messages(customer.chat_id)[-1]
    # The customer forges a staff "resolve" on their own chat's message.
    feedbot.sandbox.press_button(customer.id, customer.chat_id, reply.message_id, f"s:{item_id}:resolve")
    feedbot.sandbox.press_button(customer.id, customer.chat_id, reply.message_id, f"c:{item_id}:product")
    feedbot.sandbox.wait_for_calls("answerCallbackQuery", 2)
    item = feedbot.repository.get_item(item_id)
    assert item is not None and item.status == "new" and item.final_queue == "sales"
    assert feedbot.repository.label_changes(item_id) == []


def test_resolve_notifies_customer_and_status_shows_only_own_tickets(feedbot: Feedbot) -> None:
    alice, bob = feedbot.customer("Alice"), feedbot.customer("Bob")
    alice_ticket = ticket_in(feedbot.say(alice, "快递员把包裹扔在门口，东西摔坏了"))
    bob_ticket = ticket_in(feedbot.say(bob, "手机屏幕有坏点，质量太差"))

    status = feedbot.say(alice, "/status")
    assert alice_ticket in status and bob_ticket not in status
    refused = feedbot.say(alice, f"/status {bob_ticket}")
    assert "找不到" in refused and "手机屏幕" not in refused
    assert alice_ticket in feedbot.say(alice, f"/status {alice_ticket}")

    item = feedbot.repository.get_by_ticket(alice_ticket)
    assert item is not None and item.staff_chat_id is not None and item.staff_message_id is not None
    before = len(feedbot.sandbox.messages(alice.chat_id))
    feedbot.sandbox.press_button(
        feedbot.staff_member.id, item.staff_chat_id, item.staff_message_id, f"s:{item.id}:resolve"
    )
    notice = feedbot.sandbox.wait_for_messages(alice.chat_id, before + 1)[-1]
    assert alice_ticket in (notice.text or "") and "已处理完成" in (notice.text or "")
    assert feedbot.repository.get_item(item.id).status == "resolved"  # type: ignore[union-attr]
    assert alice_ticket not in feedbot.say(alice, "/status")


def test_forget_removes_the_customers_text_after_confirmation(feedbot: Feedbot) -> None:
    customer = feedbot.customer()
    ticket = ticket_in(feedbot.say(customer, "我的电话是13812345678，送错地址了"))
    before = len(feedbot.sandbox.messages(customer.chat_id))
    feedbot.sandbox.send_command(customer.id, "forget")
    confirm = feedbot.sandbox.wait_for_messages(customer.chat_id, before + 1)[-1]
    assert feedbot.repository.get_by_ticket(ticket).text is not None  # type: ignore[union-attr]
    feedbot.sandbox.press_button(customer.id, customer.chat_id, confirm.message_id, "f:yes")
    feedbot.sandbox.wait_for_edits(customer.chat_id, 1)
    item = feedbot.repository.get_by_ticket(ticket)
    assert item is not None and item.text is None
    customer_record = feedbot.repository.get_customer(customer.id)
    assert customer_record is not None and customer_record.forgotten_at is not None
    assert feedbot.repository.search_feedback("13812345678") == []


def test_staff_queue_and_find_commands(feedbot: Feedbot) -> None:
    customer = feedbot.customer()
    ticket = ticket_in(feedbot.say(customer, "骑手态度很差，还把汤洒了"))
    staff, chat = feedbot.staff_member, feedbot.staff_chats["service"]
    before = len(feedbot.sandbox.messages(chat))
    feedbot.sandbox.send_command(staff.id, "queue", "service", chat_id=chat)
    listing = feedbot.sandbox.wait_for_messages(chat, before + 1)[-1]
    assert ticket in (listing.text or "")
    feedbot.sandbox.send_command(staff.id, "find", "骑手态度", chat_id=chat)
    found = feedbot.sandbox.wait_for_messages(chat, before + 2)[-1]
    assert ticket in (found.text or "")
    # A customer cannot use staff commands in their private chat.
    assert ticket not in feedbot.say(customer, "/queue")


def test_unanswered_choice_goes_to_triage_after_the_timeout(
    sandbox: SandboxClient, models_dir: Path, tmp_path: Path
) -> None:
    with running_feedbot(
        sandbox,
        models_dir,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        classifier={"threshold": 0.999},
        intake={"choice_timeout_minutes": 0.02},
    ) as harness:
        customer = harness.customer()
        sandbox.send_message(customer.id, "东西一般般，送得也不快")
        ticket = ticket_in(sandbox.wait_for_messages(customer.chat_id, 1)[0].text or "")
        posted = sandbox.wait_for_messages(harness.staff_chats["triage"], 1, timeout=15)[0]
        assert ticket in (posted.text or "")
        item = harness.repository.get_by_ticket(ticket)
        assert item is not None and item.status == "triage"
        assert [c.source for c in harness.repository.label_changes(item.id)] == ["timeout"]


async def test_webhook_mode_receives_updates_with_the_secret(
    sandbox: SandboxClient, models_dir: Path, tmp_path: Path
) -> None:
    import asyncio

    from bot.app import build_application, make_deps
    from tests.sandbox_fixtures import TEST_TOKEN, free_port

    harness = make_feedbot(sandbox, models_dir, f"sqlite:///{tmp_path / 'db.sqlite'}")
    application = build_application(make_deps(harness.config), TEST_TOKEN)
    port = free_port()
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="telegram",
            webhook_url=f"http://127.0.0.1:{port}/telegram",
            secret_token="s3cret-token",
        )
        try:
            customer = await asyncio.to_thread(harness.customer)
            await asyncio.to_thread(sandbox.send_message, customer.id, "快递三天都没送到")
            replies = await sandbox.wait_for_messages_async(customer.chat_id, 1, timeout=15)
            ticket_in(replies[0].text or "")
        finally:
            await application.updater.stop()
            await application.stop()
