"""The opening clause the router reads a second time: exact cuts, odd input."""

from __future__ import annotations

import pickle

import pytest

from classifier.opening import OpeningClause


@pytest.mark.parametrize(
    ("text", "opening"),
    [
        ("屏幕有坏点，联系客服三天没人回", "屏幕有坏点"),
        ("味道不错。就是送得太慢", "味道不错"),
        ("！！！太慢了！！！", "太慢了"),
        ("The courier was RUDE, box crushed", "the courier was rude"),
        ("iPhone 屏幕坏了 客服不理", "iphone 屏幕坏了"),
        ("  价格贵   质量差", "价格贵"),
        ("漏送了…再也不点了", "漏送了"),
        ("", ""),
        ("。，！？", ""),
    ],
)
def test_opening_clause_is_the_first_run_of_text_up_to_punctuation_or_space(text: str, opening: str) -> None:
    assert OpeningClause()(text) == opening


def test_opening_clause_survives_pickling_and_compares_equal() -> None:
    copy = pickle.loads(pickle.dumps(OpeningClause()))
    assert copy == OpeningClause() and hash(copy) == hash(OpeningClause())
    assert copy("好吃，但是贵") == "好吃"
