"""Digest messages stay within Telegram's limit, split at lines and never inside a character."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.digest.render import MESSAGE_LIMIT, age_text, plain_text, split_message, utf16_len


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert utf16_len("退款") == 2
    assert utf16_len("😡") == 2
    assert utf16_len("a😡b") == 4


def test_short_text_stays_one_message() -> None:
    assert split_message("<b>标题</b>\n一行") == ["<b>标题</b>\n一行"]


def test_long_text_is_split_at_line_boundaries_under_the_limit() -> None:
    lines = [f"• FB-{n:06d} · 😡 退款三天了还没到账，客服电话打不通" for n in range(400)]

    parts = split_message("\n".join(lines))

    assert len(parts) > 1
    assert all(utf16_len(part) <= MESSAGE_LIMIT for part in parts)
    assert "\n".join(parts).split("\n") == lines  # nothing lost, nothing cut mid-line


def test_a_single_overlong_line_is_cut_between_characters_not_inside_one() -> None:
    line = "😡" * 3000  # 6000 UTF-16 units, every character a surrogate pair

    parts = split_message(line)

    assert [utf16_len(part) for part in parts] == [4096, 1904]
    assert "".join(parts) == line


def test_a_hard_cut_never_splits_an_html_entity() -> None:
    line = "&amp;" * 1000  # 5000 units of raw HTML

    parts = split_message(line, limit=4096)

    assert all(part.endswith("&amp;") and part.startswith("&amp;") for part in parts)
    assert "".join(parts) == line


def test_plain_text_drops_tags_and_decodes_entities() -> None:
    assert plain_text("<b>退款</b> &lt;script&gt; &amp;") == "退款 <script> &"


@pytest.mark.parametrize(
    ("age", "zh", "en"),
    [
        (timedelta(minutes=42), "42分钟", "42 min"),
        (timedelta(hours=5, minutes=59), "5小时", "5 h"),
        (timedelta(days=3, hours=4), "3天4小时", "3 d 4 h"),
    ],
)
def test_ages_read_naturally(age: timedelta, zh: str, en: str) -> None:
    assert (age_text(age, "zh"), age_text(age, "en")) == (zh, en)
