"""The customer side: feedback intake, department choice, /status, /language, /forget."""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from bot import texts
from bot.context import deps_of
from bot.handlers.staff import post_to_staff, refresh_staff_message
from bot.service import NOT_SURE, IncomingMessage, IntakeOutcome
from storage.records import Attachment, FeedbackRecord

log = logging.getLogger(__name__)
CHOICE_PREFIX = "c"
FORGET_PREFIX = "f"


async def start_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start and /help: say what the bot does."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    deps = deps_of(context.bot_data)
    language = await asyncio.to_thread(deps.service.language_for, user.id, user.language_code)
    await message.reply_text(texts.text("help", language))


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language [zh|en]: switch the reply language (toggles without an argument)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    deps = deps_of(context.bot_data)
    current = await asyncio.to_thread(deps.service.language_for, user.id, user.language_code)
    wanted = (context.args[0].lower()[:2] if context.args else "") or ("en" if current == "zh" else "zh")
    language = await asyncio.to_thread(
        deps.service.choose_language, user.id, message.chat_id, user.full_name, wanted, current
    )
    await message.reply_text(texts.text("language_set", language))


async def status_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status [FB-000123]: the customer's open tickets, or one of them."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    service = deps_of(context.bot_data).service
    language = await asyncio.to_thread(service.language_for, user.id, user.language_code)
    if context.args:
        ticket = context.args[0].upper()
        item = await asyncio.to_thread(service.customer_ticket, user.id, ticket)
        if item is None:
            await message.reply_text(texts.text("status_unknown", language, ticket=ticket))
            return
        await message.reply_text(
            texts.text("status_one", language, text=item.text or "", **_ticket_fields(item, language))
        )
        return
    items = await asyncio.to_thread(service.customer_tickets, user.id)
    if not items:
        await message.reply_text(texts.text("status_none", language))
        return
    lines = [texts.text("status_header", language)]
    lines += [texts.text("status_line", language, **_ticket_fields(item, language)) for item in items]
    await message.reply_text("\n".join(lines))


def _ticket_fields(item: FeedbackRecord, language: str) -> dict[str, str]:
    return {
        "ticket": item.ticket,
        "department": texts.department_name(item.final_queue or "triage", language),
        "status": texts.status_name(item.status, language),
    }


async def forget_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget: ask for confirmation before deleting the customer's data."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    service = deps_of(context.bot_data).service
    language = await asyncio.to_thread(service.language_for, user.id, user.language_code)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.text("forget_yes", language), callback_data=f"{FORGET_PREFIX}:yes"
                ),
                InlineKeyboardButton(texts.text("forget_no", language), callback_data=f"{FORGET_PREFIX}:no"),
            ]
        ]
    )
    await message.reply_text(texts.text("forget_confirm", language), reply_markup=keyboard)


async def on_forget_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete (or keep) the presser's own data; the button only ever acts on its presser."""
    query = update.callback_query
    assert query is not None
    service = deps_of(context.bot_data).service
    user = query.from_user
    language = await asyncio.to_thread(service.language_for, user.id, user.language_code)
    await query.answer()
    if query.data == f"{FORGET_PREFIX}:yes":
        count = await asyncio.to_thread(service.forget, user.id)
        await query.edit_message_text(texts.text("forget_done", language, count=count))
    else:
        await query.edit_message_text(texts.text("forget_cancelled", language))


def _incoming(
    update: Update, message: Message, text: str, attachments: tuple[Attachment, ...]
) -> IncomingMessage:
    user = message.from_user
    assert user is not None
    return IncomingMessage(
        user_id=user.id,
        chat_id=message.chat_id,
        message_id=message.message_id,
        update_id=update.update_id,
        text=text,
        attachments=attachments,
        display_name=user.full_name,
        language_code=user.language_code,
    )


def _attachments(message: Message) -> tuple[Attachment, ...]:
    if message.photo:
        return (Attachment(kind="photo", file_id=message.photo[-1].file_id),)
    if message.document:
        return (Attachment(kind="document", file_id=message.document.file_id),)
    return ()


async def on_feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text, or a photo/document with a caption: store, classify, reply, post to staff."""
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    deps = deps_of(context.bot_data)
    service = deps.service
    text = message.text if message.text is not None else (message.caption or "")
    attachments = _attachments(message)
    within_limit = deps.rate_limiter.allow(message.from_user.id)
    outcome = await asyncio.to_thread(service.receive, _incoming(update, message, text, attachments))
    if outcome.action == "replied":
        return
    if not within_limit:
        # Stored and routed like any other message; the customer gets one notice
        # instead of a confirmation per message, and staff are not flooded.
        await message.reply_text(texts.text("too_fast", outcome.language))
        await asyncio.to_thread(service.mark_replied, outcome.item.id)
        return
    await reply_to_customer(context, outcome, reply_to=message.message_id)
    await asyncio.to_thread(service.mark_replied, outcome.item.id)
    if outcome.action in ("routed", "no_text"):
        await post_to_staff(context, outcome.item)


async def reply_to_customer(
    context: ContextTypes.DEFAULT_TYPE, outcome: IntakeOutcome, reply_to: int | None = None
) -> None:
    """Send the ticket confirmation, the thanks, or the department question."""
    item, language = outcome.item, outcome.language
    chat_id = item.chat_id
    if outcome.action == "ask":
        buttons = [
            InlineKeyboardButton(
                texts.department_name(choice, language),
                callback_data=f"{CHOICE_PREFIX}:{item.id}:{choice}",
            )
            for choice in outcome.choices
        ]
        buttons.append(
            InlineKeyboardButton(
                texts.text("not_sure", language),
                callback_data=f"{CHOICE_PREFIX}:{item.id}:{NOT_SURE}",
            )
        )
        await context.bot.send_message(
            chat_id,
            texts.text("ask_choice", language, ticket=item.ticket),
            reply_markup=InlineKeyboardMarkup([buttons]),
            reply_to_message_id=reply_to,
        )
    elif outcome.action == "no_text":
        # Kept and shown to staff in triage: a photo alone may still matter.
        media = "media_document" if item.attachments[0].kind == "document" else "media_photo"
        await context.bot.send_message(
            chat_id,
            texts.text("empty_caption", language, media=texts.text(media, language), ticket=item.ticket),
            reply_to_message_id=reply_to,
        )
    elif outcome.action == "thanks":
        await context.bot.send_message(
            chat_id,
            texts.text("thanks", language, ticket=item.ticket),
            reply_to_message_id=reply_to,
        )
    else:
        department = texts.department_name(item.final_queue or "triage", language)
        await context.bot.send_message(
            chat_id,
            texts.text("routed", language, ticket=item.ticket, department=department),
            reply_to_message_id=reply_to,
        )


async def on_choice_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The customer picked a department (or "not sure") for an unsure message."""
    query = update.callback_query
    assert query is not None and query.data is not None
    deps = deps_of(context.bot_data)
    service = deps.service
    user = query.from_user
    parts = query.data.split(":")
    language = await asyncio.to_thread(service.language_for, user.id, user.language_code)
    if len(parts) != 3 or not parts[1].isdigit():
        await query.answer()
        return
    item = await asyncio.to_thread(service.apply_customer_choice, user.id, int(parts[1]), parts[2])
    await query.answer()
    if item is None:
        await query.edit_message_text(texts.text("choice_expired", language))
        return
    key = "choice_triage" if item.final_queue == "triage" else "choice_done"
    department = texts.department_name(item.final_queue or "triage", language)
    await query.edit_message_text(texts.text(key, language, ticket=item.ticket, department=department))
    await post_to_staff(context, item)


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message updates the stored text while nobody has started on it."""
    message = update.edited_message
    if message is None or message.from_user is None:
        return
    text = message.text if message.text is not None else message.caption
    if not text or not text.strip():
        return
    service = deps_of(context.bot_data).service
    item = await asyncio.to_thread(service.apply_edit, message.chat_id, message.message_id, text)
    if item is None:
        return
    language = await asyncio.to_thread(
        service.language_for, message.from_user.id, message.from_user.language_code
    )
    await context.bot.send_message(message.chat_id, texts.text("edited", language, ticket=item.ticket))
    if item.staff_message_id is not None:
        await refresh_staff_message(context, item, "edited by the customer")


async def on_unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, voice notes, locations, contacts...: say what the bot accepts."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    service = deps_of(context.bot_data).service
    language = await asyncio.to_thread(service.language_for, user.id, user.language_code)
    await message.reply_text(texts.text("unsupported", language))
