"""Real python-telegram-bot 22 against the sandbox over real HTTP: polling, webhooks, errors."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError
from telegram.ext import (
    AIORateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.sandbox import SandboxClient
from bot.sandbox.media import make_png
from tests.sandbox_fixtures import (
    TEST_TOKEN,
    build_test_application,
    free_port,
    running_polling,
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet with a one-button keyboard."""
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Rate us", callback_data="rate:5")]])
    await update.effective_message.reply_text(
        "<b>Welcome!</b> Tell us what you think.", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )


async def rate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Thank for the rating and edit the keyboard away."""
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer(text="Thanks!")
    await query.edit_message_text(f"You rated us {query.data.split(':')[1]}/5")


async def test_start_command_reaches_command_handler_and_reply_is_readable(
    sandbox: SandboxClient,
) -> None:
    app = build_test_application(sandbox).build()
    app.add_handler(CommandHandler("start", start))
    user = sandbox.create_user(first_name="Ann", username="ann", language_code="en")

    async with running_polling(app):
        sent = sandbox.send_command(user.id, "start")
        [reply] = await sandbox.wait_for_messages_async(user.chat_id, 1)

    assert sent.delivered
    assert reply.text == "Welcome! Tell us what you think."
    assert reply.parse_mode == "HTML"
    assert reply.entities == [{"type": "bold", "offset": 0, "length": 8}]
    assert reply.callback_data == ["rate:5"]
    assert app.bot.username == "feedbot_sandbox_bot"


async def test_callback_press_reaches_handler_and_answer_is_recorded(
    sandbox: SandboxClient,
) -> None:
    app = build_test_application(sandbox).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(rate, pattern=r"^rate:"))
    user = sandbox.create_user(first_name="Bo")

    async with running_polling(app):
        sandbox.send_command(user.id, "start")
        [menu] = await sandbox.wait_for_messages_async(user.chat_id, 1)
        press = sandbox.press_button(user.id, user.chat_id, menu.message_id, "rate:5")
        assert press.callback_query_id is not None
        answer = await sandbox.wait_for_callback_answer_async(press.callback_query_id)
        [edit] = await sandbox.wait_for_edits_async(user.chat_id, 1)

    assert answer["text"] == "Thanks!"
    assert edit.after["text"] == "You rated us 5/5"
    assert "reply_markup" not in edit.after  # editing without a keyboard removes it
    [message] = sandbox.messages(user.chat_id)
    assert message.text == "You rated us 5/5" and message.edit_date is not None


async def test_photo_sent_by_the_bot_downloads_as_the_same_bytes(sandbox: SandboxClient) -> None:
    user = sandbox.create_user()
    png = make_png(120, 80)
    async with build_test_application(sandbox).build() as app:
        message = await app.bot.send_photo(user.chat_id, png, caption="Your chart")
        photo = message.photo[-1]
        file = await app.bot.get_file(photo.file_id)
        downloaded = await file.download_as_bytearray()
        # Re-sending by file_id reuses the stored file, as on Telegram.
        again = await app.bot.send_photo(user.chat_id, photo.file_id)

    assert (photo.width, photo.height, photo.file_size) == (120, 80, len(png))
    assert bytes(downloaded) == png
    assert again.photo[-1].file_unique_id == photo.file_unique_id
    assert sandbox.file_bytes(photo.file_id) == png
    assert [m.caption for m in sandbox.messages(user.chat_id)] == ["Your chart", None]


async def test_document_upload_keeps_name_type_and_bytes(sandbox: SandboxClient) -> None:
    user = sandbox.create_user()
    async with build_test_application(sandbox).build() as app:
        message = await app.bot.send_document(
            user.chat_id, b"id,label\n1,sales\n", filename="digest.csv", caption="Daily digest"
        )
        assert message.document is not None
        file = await message.document.get_file()
        downloaded = await file.download_as_bytearray()

    assert message.document.file_name == "digest.csv"
    assert message.document.mime_type == "text/csv"
    assert bytes(downloaded) == b"id,label\n1,sales\n"


async def test_customer_photo_can_be_downloaded_by_the_bot(sandbox: SandboxClient) -> None:
    received: list[bytes] = []

    async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        file = await update.message.photo[-1].get_file()
        received.append(bytes(await file.download_as_bytearray()))
        await update.message.reply_text(f"Got {update.message.caption}")

    app = build_test_application(sandbox).build()
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))
    user = sandbox.create_user()

    async with running_polling(app):
        sent = sandbox.send_photo(user.id, caption="broken screen", width=800, height=600)
        await sandbox.wait_for_messages_async(user.chat_id, 1)

    assert sent.file_id is not None
    assert received == [sandbox.file_bytes(sent.file_id)]
    assert received[0].startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("x" * 4096, True),
        ("x" * 4097, False),
        # Telegram counts UTF-16 code units: each emoji here is two of them.
        ("😀" * 2048, True),
        ("😀" * 2048 + "x", False),
        # The limit applies after parsing: markup does not count.
        ("<b>" + "x" * 4096 + "</b>", True),
    ],
)
async def test_message_length_limit_is_telegrams(sandbox: SandboxClient, text: str, accepted: bool) -> None:
    user = sandbox.create_user()
    async with build_test_application(sandbox).build() as app:
        if accepted:
            await app.bot.send_message(user.chat_id, text, parse_mode=ParseMode.HTML)
        else:
            with pytest.raises(BadRequest, match="Message is too long"):
                await app.bot.send_message(user.chat_id, text, parse_mode=ParseMode.HTML)

    assert len(sandbox.messages(user.chat_id)) == (1 if accepted else 0)


async def test_broken_html_is_rejected_like_telegram(sandbox: SandboxClient) -> None:
    # PTB's TelegramError runs str.capitalize(), so only the first letter stays upper-case.
    user = sandbox.create_user()
    async with build_test_application(sandbox).build() as app:
        with pytest.raises(BadRequest, match=r'Can\'t parse entities: unsupported start tag "x"'):
            await app.bot.send_message(user.chat_id, "price <x> 5", parse_mode=ParseMode.HTML)
        with pytest.raises(
            BadRequest, match="Can't parse entities: can't find end tag corresponding to start tag"
        ):
            await app.bot.send_message(user.chat_id, "<b>bold", parse_mode=ParseMode.HTML)
        with pytest.raises(BadRequest, match="is reserved and must be escaped"):
            await app.bot.send_message(user.chat_id, "Done.", parse_mode=ParseMode.MARKDOWN_V2)


async def test_telegrams_refusals_surface_as_ptb_errors(sandbox: SandboxClient) -> None:
    user = sandbox.create_user()
    async with build_test_application(sandbox).build() as app:
        with pytest.raises(BadRequest, match="Chat not found"):
            await app.bot.send_message(424242, "hello")
        with pytest.raises(BadRequest, match="Message text is empty"):
            await app.bot.send_message(user.chat_id, "   ")
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            long_data = InlineKeyboardButton("b", callback_data="d" * 65)
            await app.bot.send_message(user.chat_id, "pick", reply_markup=InlineKeyboardMarkup([[long_data]]))
        with pytest.raises(BadRequest, match="Message caption is too long"):
            await app.bot.send_photo(user.chat_id, make_png(), caption="c" * 1025)
        message = await app.bot.send_message(user.chat_id, "same")
        with pytest.raises(BadRequest, match="Message is not modified"):
            await message.edit_text("same")
        sandbox.block_bot(user.id)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await app.bot.send_message(user.chat_id, "still there?")


async def test_injected_429_makes_rate_limiter_wait_and_retry(sandbox: SandboxClient) -> None:
    user = sandbox.create_user()
    app = build_test_application(sandbox).rate_limiter(AIORateLimiter(max_retries=3)).build()
    async with app:
        sandbox.fail_with_429("sendMessage", retry_after=1)
        started = time.monotonic()
        await app.bot.send_message(user.chat_id, "eventually")
        elapsed = time.monotonic() - started

    assert elapsed >= 1.0
    assert sandbox.call_count("sendMessage") == 2
    assert [m.text for m in sandbox.messages(user.chat_id)] == ["eventually"]
    assert sandbox.faults() == []


async def test_injected_500_and_dropped_connection_surface_as_network_error(
    sandbox: SandboxClient,
) -> None:
    user = sandbox.create_user()
    async with build_test_application(sandbox).build() as app:
        sandbox.fail_with_500("sendMessage")
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await app.bot.send_message(user.chat_id, "first")
        sandbox.drop_connection("sendMessage")
        with pytest.raises(NetworkError):
            await app.bot.send_message(user.chat_id, "second")
        await app.bot.send_message(user.chat_id, "third")

    assert sandbox.call_count("sendMessage") == 3
    assert [m.text for m in sandbox.messages(user.chat_id)] == ["third"]


async def test_polling_survives_a_failing_get_updates(sandbox: SandboxClient) -> None:
    app = build_test_application(sandbox).build()
    app.add_handler(CommandHandler("start", start))
    user = sandbox.create_user()

    async with running_polling(app):
        await sandbox.wait_for_calls_async("getUpdates", 1)
        sandbox.fail_with_500("getUpdates")
        sandbox.send_command(user.id, "start")
        [reply] = await sandbox.wait_for_messages_async(user.chat_id, 1)

    assert reply.text is not None and reply.text.startswith("Welcome!")


async def test_webhook_mode_pushes_updates_with_the_secret(sandbox: SandboxClient) -> None:
    app = build_test_application(sandbox).build()
    app.add_handler(CommandHandler("start", start))
    user = sandbox.create_user()
    port = free_port()
    webhook_url = f"http://127.0.0.1:{port}/hook"

    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=webhook_url,
            secret_token="s3cret",
        )
        try:
            sandbox.send_command(user.id, "start")
            [reply] = await sandbox.wait_for_messages_async(user.chat_id, 1)
            info = await app.bot.get_webhook_info()
            with pytest.raises(Conflict, match="webhook is active"):
                await app.bot.get_updates()
            async with httpx.AsyncClient() as client:
                refused = await client.post(
                    webhook_url,
                    json={"update_id": 999},
                    headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                )
        finally:
            await app.updater.stop()
            await app.stop()

    assert reply.text is not None and reply.text.startswith("Welcome!")
    assert info.url == webhook_url and info.pending_update_count == 0
    assert refused.status_code == 403
    assert sandbox.bot_info()["webhook"]["delivered"] == 1


async def test_webhook_delivery_is_retried_until_the_bot_answers(sandbox: SandboxClient) -> None:
    app = build_test_application(sandbox).build()
    app.add_handler(CommandHandler("start", start))
    user = sandbox.create_user()
    port = free_port()

    async with app:
        # The webhook is registered before anything listens: deliveries fail first.
        await app.bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        sandbox.send_command(user.id, "start")
        for _ in range(100):
            info = await app.bot.get_webhook_info()
            if info.last_error_message:
                break
            await asyncio.sleep(0.02)
        assert info.last_error_message == "Connection refused"
        assert info.pending_update_count == 1

        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            secret_token="s3cret",
        )
        try:
            await sandbox.wait_for_messages_async(user.chat_id, 1)
        finally:
            await app.updater.stop()
            await app.stop()


async def test_every_kind_of_update_parses_in_ptb(sandbox: SandboxClient) -> None:
    seen: list[Update] = []

    async def collect(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)

    app = build_test_application(sandbox).build()
    app.add_handler(TypeHandler(Update, collect))
    user = sandbox.create_user(first_name="Cy", username="cy_customer")
    channel = sandbox.create_channel("News")
    group = sandbox.create_group("Team", [user.id], supergroup=True)

    async with running_polling(app):
        text = sandbox.send_message(user.id, "hello, see https://example.com #bug")
        sandbox.send_document(user.id, data=b"%PDF-1.4", file_name="a.pdf", caption="invoice")
        sandbox.send_sticker(user.id)
        sandbox.send_voice(user.id, duration=7)
        sandbox.send_location(user.id, 55.75, 37.62)
        sandbox.send_contact(user.id, "+15550100", "Dee")
        assert text.message_id is not None
        sandbox.edit_message(user.chat_id, text.message_id, "hello again")
        sandbox.post_to_channel(channel.id, "Release notes")
        sandbox.send_command(user.id, "help", chat_id=group.id, mention_bot=True)
        ignored = sandbox.send_message(user.id, "chatter the bot cannot see", chat_id=group.id)
        sandbox.block_bot(user.id)
        await sandbox.wait_until_delivered_async()
        for _ in range(200):
            if len(seen) == 10:
                break
            await asyncio.sleep(0.01)

    message, document, sticker, voice, location, contact, edited, post, command, blocked = seen
    assert message.message is not None and message.message.text is not None
    assert [e.type for e in message.message.entities] == ["url", "hashtag"]
    assert document.message is not None and document.message.document is not None
    assert document.message.document.file_name == "a.pdf"
    assert document.message.caption == "invoice"
    assert sticker.message is not None and sticker.message.sticker is not None
    assert sticker.message.sticker.is_animated is False
    assert voice.message is not None and voice.message.voice is not None
    assert voice.message.voice.to_dict()["duration"] == 7
    assert location.message is not None and location.message.location is not None
    assert location.message.location.latitude == 55.75
    assert contact.message is not None and contact.message.contact is not None
    assert contact.message.contact.phone_number == "+15550100"
    assert edited.edited_message is not None and edited.edited_message.text == "hello again"
    assert post.channel_post is not None and post.channel_post.chat.type == "channel"
    assert command.message is not None and command.message.text == "/help@feedbot_sandbox_bot"
    assert command.message.chat.type == "supergroup"
    assert not ignored.delivered  # privacy mode, as for a real bot in a group
    assert blocked.my_chat_member is not None
    assert blocked.my_chat_member.new_chat_member.status == "kicked"


async def test_bot_commands_round_trip(sandbox: SandboxClient) -> None:
    async with build_test_application(sandbox).build() as app:
        await app.bot.set_my_commands([("start", "Start"), ("help", "Help")])
        commands = await app.bot.get_my_commands()
        await app.bot.delete_my_commands()
        after = await app.bot.get_my_commands()
        await app.bot.set_my_description("Collects your feedback")
        description = await app.bot.get_my_description()

    assert [(c.command, c.description) for c in commands] == [("start", "Start"), ("help", "Help")]
    assert after == ()
    assert description.description == "Collects your feedback"


def test_unknown_method_and_bad_token_answer_like_telegram(sandbox: SandboxClient) -> None:
    base = sandbox.base_url
    unknown = httpx.post(f"{base}/bot{TEST_TOKEN}/sendTelepathy", data={"chat_id": "1"})
    bad_token = httpx.get(f"{base}/botnot-a-token/getMe")

    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert bad_token.status_code == 401
    assert bad_token.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_form_encoded_and_json_bodies_both_work(sandbox: SandboxClient) -> None:
    user = sandbox.create_user()
    url = f"{sandbox.base_url}/bot{TEST_TOKEN}/sendMessage"
    keyboard = '{"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}'

    as_form = httpx.post(url, data={"chat_id": str(user.chat_id), "text": "123", "reply_markup": keyboard})
    as_json = httpx.post(url, json={"chat_id": user.chat_id, "text": "<i>json</i>", "parse_mode": "HTML"})
    as_query = httpx.get(url, params={"chat_id": user.chat_id, "text": "query"})

    assert as_form.json()["result"]["text"] == "123"  # a numeric text stays a string
    assert as_form.json()["result"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Yes"
    assert as_json.json()["result"]["entities"] == [{"offset": 0, "length": 4, "type": "italic"}]
    assert as_query.json()["ok"] is True
    assert [m.text for m in sandbox.messages(user.chat_id)] == ["123", "json", "query"]
