"""The jieba tokenizer: domain words stay whole, noise is dropped, and it survives pickling."""

from __future__ import annotations

import pickle

import pytest

from classifier.tokenizer import MAX_CHARS, USER_DICTIONARY, JiebaTokenizer

tokenize = JiebaTokenizer()


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("买了满减券结果用不了", ["买", "了", "满减券", "结果", "用", "不了"]),
        ("降价了能补差价吗", ["降价", "了", "能", "补差价", "吗"]),
        ("外卖小哥态度很差", ["外卖小哥", "态度", "很差"]),
        ("支持七天无理由退货吗", ["支持", "七天无理由退货", "吗"]),
        ("送错了还漏送", ["送错", "了", "还", "漏送"]),
        ("会员卡积分不能用", ["会员卡", "积分", "不能", "用"]),
    ],
)
def test_domain_words_stay_whole_in_a_sentence(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def _user_dictionary_words() -> list[str]:
    lines = USER_DICTIONARY.read_text(encoding="utf-8").splitlines()
    return [line.split()[0] for line in lines if line.strip()]


@pytest.mark.parametrize("word", _user_dictionary_words())
def test_every_user_dictionary_word_is_one_token(word: str) -> None:
    assert tokenize(word) == [word]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        (
            "等了一个半小时才送到，饭都凉了！",
            ["等", "了", "一个半", "小时", "才", "送到", "饭", "都", "凉", "了"],
        ),
        ("价格 太贵 了", ["价格", "太贵", "了"]),
        ("【活动】满减", ["活动", "满减"]),
        ("“好”「好」…—", ["好", "好"]),
        ("好吃～～", ["好吃"]),
        ("［活动］｜满减", ["活动", "满减"]),
        ("  ，。！？  ", []),
        ("...!!!", []),
    ],
)
def test_punctuation_and_spaces_are_dropped(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("The Rider was LATE", ["the", "rider", "was", "late"]),
        ("iPhone屏幕坏了", ["iphone", "屏幕", "坏", "了"]),
        ("Hello, World! 很好", ["hello", "world", "很", "好"]),
    ],
)
def test_english_is_lower_cased(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("太好吃了😋👍", ["太", "好吃", "了", "😋", "👍"]),
        ("差评😡😡", ["差评", "😡", "😡"]),
    ],
)
def test_emoji_are_kept_as_tokens(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_emoji_with_a_variation_selector_is_one_token() -> None:
    assert tokenize("很好吃❤️") == ["很", "好吃", "❤"]


def test_empty_text_has_no_tokens() -> None:
    assert tokenize("") == []


@pytest.mark.parametrize(
    ("padding", "tokens"),
    [
        (MAX_CHARS - 3, ["满减券"]),
        (MAX_CHARS - 2, ["满减"]),
        (MAX_CHARS, []),
    ],
)
def test_text_is_cut_at_max_chars(padding: int, tokens: list[str]) -> None:
    assert tokenize(" " * padding + "满减券") == tokens


@pytest.mark.parametrize("text", ["外卖小哥态度很差😡", "iPhone屏幕坏了，能补差价吗？", ""])
def test_tokenizer_survives_a_pickle_round_trip(text: str) -> None:
    restored = pickle.loads(pickle.dumps(tokenize, protocol=pickle.HIGHEST_PROTOCOL))
    assert isinstance(restored, JiebaTokenizer)
    assert restored(text) == tokenize(text)
