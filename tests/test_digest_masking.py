"""Phone numbers and e-mail addresses in quoted customer text are masked."""

from __future__ import annotations

import pytest

from bot.digest.masking import mask_contacts, remove_contacts


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话13812345678请回电", "电话〔电话〕请回电"),
        ("138 1234 5678", "〔电话〕"),
        ("138-1234-5678", "〔电话〕"),
        ("我的手机+86 138 1234 5678谢谢", "我的手机〔电话〕谢谢"),
        ("+8613812345678", "〔电话〕"),
        ("0086-13812345678", "〔电话〕"),
        ("(+86) 138 1234 5678", "〔电话〕"),
        ("＋86 13812345678", "〔电话〕"),
        ("１３８１２３４５６７８", "〔电话〕"),
        ("wx13812345678", "wx〔电话〕"),
        ("座机010-12345678", "座机〔电话〕"),
        ("(0755) 1234567", "〔电话〕"),
        ("021 1234 5678", "〔电话〕"),
        ("0755-88886666转123", "〔电话〕转123"),
        ("+86 10 8888 6666", "〔电话〕"),
        ("热线400-123-4567", "热线〔电话〕"),
        ("+44 20 7946 0958", "〔电话〕"),
        ("联系我abc@qq.com吧", "联系我〔邮箱〕吧"),
        ("a.b+c@example.com", "〔邮箱〕"),
        ("foo@mail.example.co.uk", "〔邮箱〕"),
        ("张三＠qq.com", "张三〔邮箱〕"),
    ],
)
def test_contacts_are_masked(text: str, masked: str) -> None:
    assert mask_contacts(text, "zh") == masked


@pytest.mark.parametrize(
    "text",
    [
        "订单号202405141234567890",  # a long order number with a mobile-like run inside
        "订单 12345678",
        "价格 199.00 元 3 件",
        "投诉到12315",
        "2024-05-14 09:00",
    ],
)
def test_numbers_that_are_not_contacts_stay(text: str) -> None:
    assert mask_contacts(text, "zh") == text


def test_english_placeholders() -> None:
    assert mask_contacts("call 13912345678 or mail me@x.org", "en") == ("call [phone] or mail [email]")


def test_topic_words_are_looked_for_without_contacts() -> None:
    assert remove_contacts("邮箱a@b.com电话13812345678").split() == ["邮箱", "电话"]
