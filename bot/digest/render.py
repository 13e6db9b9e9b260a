"""The digest as Telegram HTML, split into messages within Telegram's length limit."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.digest import texts
from bot.digest.content import CHART_DAYS, DigestContent
from bot.digest.masking import mask_contacts
from bot.digest.themes import shorten
from storage.digest_queries import KINDS, ItemText
from storage.records import format_ticket

# Telegram counts message length in UTF-16 code units after entities are parsed; the
# raw HTML is longer than that, so staying under the limit with it is always safe.
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
_TAG = re.compile(r"<[^>]*>")
# A hard split must not cut an HTML tag or entity in half, nor a surrogate pair.
_ATOM = re.compile(r"<[^>]*>|&[#\w]+;|.", re.DOTALL)


def utf16_len(value: str) -> int:
    """Length in UTF-16 code units, as Telegram counts it."""
    return len(value.encode("utf-16-le")) // 2


def split_message(message: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split text into parts of at most `limit` UTF-16 units, at line boundaries.

    Only a single line longer than the limit is cut inside, between characters.
    """
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in _bounded_lines(message.split("\n"), limit):
        needed = utf16_len(line) + (1 if current else 0)
        if current and size + needed > limit:
            parts.append("\n".join(current))
            current, size = [], 0
            needed = utf16_len(line)
        current.append(line)
        size += needed
    if current:
        parts.append("\n".join(current))
    # Blank lines at a cut would be sent as an empty-looking start or end of a message.
    return [part.strip("\n") for part in parts if part.strip()]


def _bounded_lines(lines: Iterable[str], limit: int) -> Iterable[str]:
    for line in lines:
        if utf16_len(line) <= limit:
            yield line
            continue
        piece, size = "", 0
        for atom in _ATOM.findall(line):
            width = utf16_len(atom)
            if size + width > limit:
                yield piece
                piece, size = "", 0
            piece += atom
            size += width
        if piece:
            yield piece


def plain_text(message: str) -> str:
    """The text a reader sees: tags removed, entities decoded (for the terminal)."""
    return html.unescape(_TAG.sub("", message))


def render_digest(content: DigestContent) -> list[str]:
    """The digest's HTML messages, in order."""
    return split_message("\n".join(_lines(content)))


def digest_label(content: DigestContent) -> str:
    """Department and date in plain text, e.g. "销售部 · 2024年5月14日"."""
    request = content.request
    language = request.language
    end = request.period_end.astimezone(request.zone)
    return texts.text(language, "digest_label").format(
        department=texts.department_name(language, request.department),
        date=_date(end, language),
    )


def render_caption(content: DigestContent) -> str:
    """The caption of the chart photo (HTML)."""
    return f"📈 {html.escape(digest_label(content))}"


def _lines(content: DigestContent) -> list[str]:
    request = content.request
    language = request.language
    t = _Texts(language)
    zone = request.zone
    start = request.period_start.astimezone(zone)
    end = request.period_end.astimezone(zone)
    department = html.escape(texts.department_name(language, request.department))
    title_key = "title_quiet" if content.quiet else "title"
    lines = [t(title_key, department=department, when=_moment(end, language))]
    if request.late:
        lines.append(t("late", time=end.strftime("%H:%M")))
    if request.skipped_before:
        lines.append(t("skipped", count=request.skipped_before))
    hours = f"{request.response_hours:g}"
    if content.quiet:
        lines.append(t("quiet", start=_moment(start, language)))
        lines.append(
            t("open", count=content.backlog.open, overdue=content.backlog.overdue, hours=hours)
        )
        return lines
    lines.append(
        t(
            "period",
            start=_moment(start, language),
            end=_moment(end, language),
            zone=html.escape(request.timezone),
        )
    )
    current, previous = content.current, content.previous
    lines += [
        "",
        t("volume"),
        t(
            "new",
            count=current.new,
            change=_change(current.new, previous.new),
            average=f"{content.week_average('new'):.1f}",
        ),
        t(
            "resolved",
            count=current.resolved,
            change=_change(current.resolved, previous.resolved),
            average=f"{content.week_average('resolved'):.1f}",
        ),
        t("open", count=content.backlog.open, overdue=content.backlog.overdue, hours=hours),
        t(
            "moved",
            moved_in=_moves(current.moved_in, t, language),
            moved_out=_moves(current.moved_out, t, language),
        ),
        "",
        t("kinds"),
    ]
    kind_names = texts.KIND_NAMES[language]
    for kind in KINDS:
        count, before = current.by_kind[kind], previous.by_kind[kind]
        if kind == "other" and not (count or before):
            continue
        lines.append(
            t("kind_line", kind=kind_names[kind], count=count, change=_change(count, before))
        )
    lines += ["", t("themes")]
    if not content.themes:
        lines.append(t("no_themes"))
    for rank, theme in enumerate(content.themes, start=1):
        change = _change(theme.count, theme.previous, new_word=t("new_trend"))
        keyword = html.escape(theme.keyword)
        lines.append(t("theme", rank=rank, keyword=keyword, count=theme.count, change=change))
        lines += [t("quote", quote=html.escape(quote)) for quote in theme.quotes]
    if content.sampled:
        lines.append(t("sampled", read=content.texts_read, total=current.new_with_text))
    if content.oldest_open or content.strongest:
        lines += ["", t("attention")]
    if content.oldest_open:
        lines.append(t("oldest"))
        lines += [_item_line(item, request.period_end, t, language) for item in content.oldest_open]
    if content.strongest:
        lines.append(t("strongest"))
        lines += [_item_line(item, request.period_end, t, language) for item in content.strongest]
    return lines


class _Texts:
    """Formats the strings of one language."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, key: str, **values: object) -> str:
        return texts.text(self.language, key).format(**values)


def item_line(item: ItemText, now: datetime, language: str, key: str = "item") -> str:
    """One item as a list line: ticket, age, kind and a short masked quote."""
    return _item_line(item, now, _Texts(language), language, key)


def _item_line(
    item: ItemText, now: datetime, t: _Texts, language: str, key: str = "item"
) -> str:
    quote = shorten(mask_contacts(item.text, language)) if item.text else "…"
    return t(
        key,
        ticket=format_ticket(item.id),
        age=age_text(now - item.created_at, language),
        kind=texts.ITEM_KIND_NAMES[language].get(item.kind, item.kind),
        quote=html.escape(quote),
    )


def age_text(age: timedelta, language: str) -> str:
    """A waiting time such as "3 d 4 h" or "3天4小时"."""
    t = _Texts(language)
    minutes = max(int(age.total_seconds() // 60), 0)
    days, hours = divmod(minutes // 60, 24)
    if days:
        return t("days_hours", days=days, hours=hours)
    if hours:
        return t("hours", hours=hours)
    return t("minutes", minutes=minutes)


def _moves(moves: dict[str, int], t: _Texts, language: str) -> str:
    total = sum(moves.values())
    if not total:
        return "0"
    names = texts.QUEUE_NAMES[language]
    detail = t("list_separator").join(
        f"{html.escape(names.get(queue, queue))} {count}"
        for queue, count in sorted(moves.items(), key=lambda pair: (-pair[1], pair[0]))
    )
    return t("moved_detail", count=total, detail=detail)


def _change(now: int, before: int, new_word: str | None = None) -> str:
    if new_word is not None and before == 0 and now > 0:
        return new_word
    difference = now - before
    if difference > 0:
        return f"+{difference}"
    if difference < 0:
        return f"−{-difference}"
    return "±0"


def _moment(moment: datetime, language: str) -> str:
    if language == "zh":
        return f"{moment.month}月{moment.day}日（{texts.WEEKDAYS['zh'][moment.weekday()]}）{moment:%H:%M}"
    weekday = texts.WEEKDAYS["en"][moment.weekday()]
    return f"{weekday} {moment.day} {texts.MONTHS_EN[moment.month - 1]} {moment:%H:%M}"


def _date(moment: datetime, language: str) -> str:
    if language == "zh":
        return f"{moment.year}年{moment.month}月{moment.day}日"
    return f"{moment.day} {texts.MONTHS_EN[moment.month - 1]} {moment.year}"


def chart_days_label(language: str, at: str) -> str:
    """The daily chart's title."""
    return texts.text(language, "chart_daily").format(days=CHART_DAYS, time=at)


def zone_time(moment: datetime, zone: ZoneInfo) -> str:
    """HH:MM of an instant in a time zone."""
    return moment.astimezone(zone).strftime("%H:%M")
