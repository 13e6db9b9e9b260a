"""The staff side: items posted to staff chats, label buttons, /queue and /find."""

from __future__ import annotations

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot import texts
from bot.context import BotDeps, deps_of
from classifier.labels import DEPARTMENTS, NONE
from storage.records import FeedbackRecord

log = logging.getLogger(__name__)
STAFF_PREFIX = "s"
# Staff chats read English-and-Chinese labels side by side; the item text itself
# is shown as the customer wrote it.
_STAFF_LANGUAGE = "en"
_PREVIEW_CHARS = 1500


def staff_keyboard(item: FeedbackRecord) -> InlineKeyboardMarkup | None:
    """Move / mark none / resolve buttons; none once the item is resolved."""
    if item.status == "resolved":
        return None
    moves = [
        InlineKeyboardButton(
            texts.department_name(d, _STAFF_LANGUAGE), callback_data=f"{STAFF_PREFIX}:{item.id}:{d}"
        )
        for d in DEPARTMENTS
        if d != item.final_queue
    ]
    return InlineKeyboardMarkup(
        [
            moves,
            [
                InlineKeyboardButton("None", callback_data=f"{STAFF_PREFIX}:{item.id}:{NONE}"),
                InlineKeyboardButton("Resolve ✅", callback_data=f"{STAFF_PREFIX}:{item.id}:resolve"),
            ],
        ]
    )


def staff_text(item: FeedbackRecord, note: str | None = None) -> str:
    """The staff-chat view of an item (plain text: customer text cannot break formatting)."""
    queue = item.final_queue or "triage"
    confidence = f"{item.confidence:.0%}" if item.confidence is not None else "-"
    body = item.text if item.text is not None else "(deleted at the customer's request)"
    if len(body) > _PREVIEW_CHARS:
        body = body[:_PREVIEW_CHARS] + f"… (+{len(body) - _PREVIEW_CHARS} characters)"
    lines = [
        f"{item.ticket} · {texts.department_name(queue, _STAFF_LANGUAGE)} · {item.status}",
        f"kind: {item.kind or '-'} · model: {item.predicted_label or '-'} ({confidence})",
    ]
    if item.secondary:
        lines.append("also: " + ", ".join(s.label for s in item.secondary))
    if item.attachments:
        lines.append("attachments: " + ", ".join(a.kind for a in item.attachments))
    lines += ["", body]
    if note:
        lines += ["", note]
    return "\n".join(lines)


async def post_to_staff(context: ContextTypes.DEFAULT_TYPE, item: FeedbackRecord) -> None:
    """Show a routed item in its department's staff chat (or triage), once."""
    deps = deps_of(context.bot_data)
    if item.staff_message_id is not None or item.final_queue in (None, NONE):
        return
    chat_id = deps.staff_chat_for(item.final_queue)
    if chat_id is None:
        log.warning("no staff chat configured for queue %s; %s not posted", item.final_queue, item.ticket)
        return
    sent = await context.bot.send_message(chat_id, staff_text(item), reply_markup=staff_keyboard(item))
    await asyncio.to_thread(deps.service.repository.set_staff_message, item.id, chat_id, sent.message_id)


async def refresh_staff_message(
    context: ContextTypes.DEFAULT_TYPE, item: FeedbackRecord, note: str | None = None
) -> None:
    """Edit the staff message to the item's new state, or post it where it now belongs."""
    deps = deps_of(context.bot_data)
    target = deps.staff_chat_for(item.final_queue) if item.final_queue not in (None, NONE) else None
    if item.staff_message_id is not None and item.staff_chat_id is not None:
        await context.bot.edit_message_text(
            staff_text(item, note),
            chat_id=item.staff_chat_id,
            message_id=item.staff_message_id,
            reply_markup=staff_keyboard(item),
        )
        if target is not None and target != item.staff_chat_id and item.status != "resolved":
            sent = await context.bot.send_message(target, staff_text(item), reply_markup=staff_keyboard(item))
            await asyncio.to_thread(
                deps.service.repository.set_staff_message, item.id, target, sent.message_id
            )
    else:
        await post_to_staff(context, item)


async def on_staff_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Apply a staff button press (move, none, resolve) if the presser is staff."""
    query = update.callback_query
    assert query is not None and query.data is not None
    deps = deps_of(context.bot_data)
    parts = query.data.split(":")
    if len(parts) != 3 or not parts[1].isdigit():
        await query.answer("Invalid button", show_alert=True)
        return
    item_id, action = int(parts[1]), parts[2]
    if await asyncio.to_thread(deps.service.staff_role, query.from_user.id) is None:
        log.warning("non-staff user %s pressed staff button %s", query.from_user.id, query.data)
        await query.answer(texts.text("not_staff", "en"), show_alert=True)
        return
    before = await asyncio.to_thread(deps.service.repository.get_item, item_id)
    item = await asyncio.to_thread(deps.service.staff_action, query.from_user.id, item_id, action)
    if item is None or before is None:
        await query.answer("Unknown item or action", show_alert=True)
        return
    name = query.from_user.full_name
    await query.answer(f"{item.ticket}: {action}")
    if before.status == item.status and before.final_queue == item.final_queue:
        return
    note = f"{'resolved' if action == 'resolve' else 'moved to ' + action} by {name}"
    await refresh_staff_message(context, item, note)
    if item.status == "resolved" and before.status != "resolved" and action == "resolve":
        await notify_resolved(context, item)


async def notify_resolved(context: ContextTypes.DEFAULT_TYPE, item: FeedbackRecord) -> None:
    """Tell the customer their ticket is resolved."""
    await context.bot.send_message(item.chat_id, texts.text("resolved", item.language, ticket=item.ticket))


async def queue_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/queue [department]: list open items."""
    message = update.effective_message
    deps = deps_of(context.bot_data)
    if message is None or not await _is_staff(update, deps):
        return
    queue = context.args[0].lower() if context.args else None
    if queue is not None and queue not in (*DEPARTMENTS, "triage"):
        await message.reply_text("Usage: /queue [sales|product|service|triage]")
        return
    items = await asyncio.to_thread(deps.service.repository.open_items, queue, 20)
    await message.reply_text(_item_list(items, f"Open items{' in ' + queue if queue else ''}"))


async def find_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/find TEXT: search recent feedback."""
    message = update.effective_message
    deps = deps_of(context.bot_data)
    if message is None or not await _is_staff(update, deps):
        return
    needle = " ".join(context.args or []).strip()
    if not needle:
        await message.reply_text("Usage: /find TEXT")
        return
    items = await asyncio.to_thread(deps.service.repository.search_feedback, needle, 10)
    await message.reply_text(_item_list(items, f"Feedback containing “{needle}”"))


async def _is_staff(update: Update, deps: BotDeps) -> bool:
    user = update.effective_user
    if user is None or await asyncio.to_thread(deps.service.staff_role, user.id) is None:
        if update.effective_message is not None:
            await update.effective_message.reply_text(texts.text("not_staff", "en"))
        return False
    return True


def _item_list(items: list[FeedbackRecord], title: str) -> str:
    if not items:
        return f"{title}: none."
    lines = [f"{title} ({len(items)}):"]
    for item in items:
        snippet = (item.text or "(deleted)").replace("\n", " ")
        if len(snippet) > 60:
            snippet = snippet[:60] + "…"
        lines.append(f"{item.ticket} · {item.final_queue or 'triage'} · {item.status} · {snippet}")
    return "\n".join(lines)
