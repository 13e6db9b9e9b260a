"""Theme words, their weights and complaint signals."""

from __future__ import annotations

import pytest

from bot.digest.signals import signal_strength
from bot.digest.themes import IDF_FILE, MEDIAN_IDF, extract_themes, idf_weights, words_of


def test_median_idf_matches_the_installed_jieba_table() -> None:
    with IDF_FILE.open(encoding="utf-8") as lines:
        values = sorted(float(line.split(" ")[1]) for line in lines)

    assert values[len(values) // 2] == MEDIAN_IDF


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("退款三天了还没到账，请打13812345678联系我", {"退款", "联系"}),
        ("快递包装可以再结实一点", {"快递", "包装", "结实"}),
        ("客服态度很好，谢谢！", {"客服", "态度"}),
        ("我要退款", {"退款"}),
        ("The delivery was LATE, mail me@x.org", {"delivery", "late", "mail"}),
        ("哈哈哈 12345 ！！！", set()),
    ],
)
def test_topic_words_leave_out_stopwords_numbers_and_contacts(text: str, words: set[str]) -> None:
    assert words_of(text) == words


def test_unknown_words_get_the_median_idf() -> None:
    weights = idf_weights(["退款", "zzzzqx"])

    assert weights["zzzzqx"] == MEDIAN_IDF
    assert 5 < weights["退款"] < MEDIAN_IDF  # a known, fairly common word


def test_a_word_said_once_is_no_theme() -> None:
    assert extract_themes(["退款太慢", "快递丢件"], [], language="zh") == []


def test_english_themes_match_whole_words() -> None:
    texts = ["The delivery was late", "Late again!", "Delivery lost", "I love chocolate"]

    themes = extract_themes(texts, ["chocolate cake", "so late"], language="en")

    # "late" inside "chocolate" is not a mention, in either period.
    assert [(t.keyword, t.count, t.previous) for t in themes] == [
        ("delivery", 2, 0),
        ("late", 2, 1),
    ]


@pytest.mark.parametrize(
    ("text", "strength"),
    [
        ("还行", 0),
        ("I have an issue with the size", 0),  # "sue" inside "issue" is no threat
        ("I will sue you!!!!!", 7),
        ("骗子！！我要投诉到12315", 14),
        ("再也不买了，最差的一次", 6),
    ],
)
def test_complaint_signal_strength(text: str, strength: int) -> None:
    assert signal_strength(text) == strength
