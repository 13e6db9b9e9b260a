"""Labeled data: duplicates are dropped, the split never moves old examples, bad labels are located."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifier.dataset import (
    DatasetError,
    Example,
    deduplicate,
    normalise,
    parse_example,
    read_examples,
    split,
    split_frozen,
)

DATA = Path(__file__).resolve().parents[1] / "training_data"
TRAIN_FILE = DATA / "train.jsonl"


def example(example_id: str, text: str, primary: str = "service") -> Example:
    return Example(id=example_id, text=text, primary=primary, kind="complaint")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("外卖送得太慢了，饭都凉了", "外卖送得太慢了，饭都凉了"),
        ("外卖送得太慢了，饭都凉了", "外卖送得太慢了，饭都凉了！！"),
        ("外卖送得太慢了，饭都凉了", "外卖送得太慢了 饭都凉了😡"),
        ("ＡＢＣ牌的耳机好评", "abc牌的耳机好评"),
        (
            "这家店的牛肉面分量太少了，价格还贵，服务员态度也不好，下次不来了",
            "这家店的牛肉面分量太少了，价格还贵，服务员态度也不好，下次不去了",
        ),
    ],
    ids=["exact", "punctuation", "emoji and space", "width and case", "one word changed"],
)
def test_second_copy_of_a_text_is_dropped_in_favour_of_the_first(first: str, second: str) -> None:
    kept, dropped = deduplicate([example("a", first), example("b", second)])
    assert [e.id for e in kept] == ["a"]
    assert dropped == [("b", "a")]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("快递太慢", "客服太慢"),
        ("好", "差"),
        (
            "这家店的牛肉面分量太少了，价格还贵，下次不来了",
            "这家店的牛肉面分量很足，价格便宜，下次还来",
        ),
        ("😡😡", "👍"),
    ],
    ids=["one word differs in a short text", "single characters", "opposite review", "emoji only"],
)
def test_distinct_texts_are_both_kept(first: str, second: str) -> None:
    kept, dropped = deduplicate([example("a", first), example("b", second)])
    assert [e.id for e in kept] == ["a", "b"]
    assert dropped == []


def test_near_duplicate_is_found_among_hundreds_of_real_reviews() -> None:
    others = read_examples(TRAIN_FILE)[:300]
    original = example("original", "买的电饭煲用了三天就坏了，内胆涂层掉了一大块，联系售后一直不处理")
    copy = example("copy", "买的电饭煲用了三天就坏了，内胆涂层掉了一大块，联系售后一直没处理！！")
    kept, dropped = deduplicate([original, *others, copy])
    assert ("copy", "original") in dropped
    assert "original" in [e.id for e in kept]
    assert len(kept) > 250


def _many(count: int, start: int = 0) -> list[Example]:
    return [example(f"batch:{n:05d}", f"第{n}条反馈") for n in range(start, start + count)]


def _sides(train: list[Example], test: list[Example]) -> dict[str, str]:
    return {e.id: "train" for e in train} | {e.id: "test" for e in test}


def test_split_is_the_same_every_time_and_in_any_input_order() -> None:
    examples = _many(500)
    assert split(examples, 0.2, "seed-1") == split(list(reversed(examples)), 0.2, "seed-1")


def test_adding_data_never_moves_an_existing_example_to_the_other_side() -> None:
    before = _sides(*split(_many(500), 0.2, "seed-1"))
    after = _sides(*split(_many(500) + _many(300, start=500), 0.2, "seed-1"))
    assert {example_id: after[example_id] for example_id in before} == before


def test_split_takes_about_the_test_share_and_depends_on_the_seed() -> None:
    train, test = split(_many(2000), 0.2, "seed-1")
    assert len(train) + len(test) == 2000
    assert 340 <= len(test) <= 460
    assert _sides(train, test) != _sides(*split(_many(2000), 0.2, "seed-2"))


def test_with_a_frozen_test_set_new_examples_only_ever_train() -> None:
    _, test = split(_many(500), 0.2, "seed-1")
    frozen = {e.id for e in test}
    train_after, test_after = split_frozen(_many(500) + _many(300, start=500), frozen)
    assert {e.id for e in test_after} == frozen
    assert {e.id for e in _many(300, start=500)} <= {e.id for e in train_after}


def test_a_frozen_test_id_that_vanished_is_an_error_not_a_smaller_test() -> None:
    with pytest.raises(ValueError, match="no longer in the data"):
        split_frozen(_many(10), {"batch:00003", "gone:1"})


def test_shipped_data_keeps_the_frozen_test_set_apart_from_training() -> None:
    train, test = read_examples(DATA / "train.jsonl"), read_examples(DATA / "test.jsonl")
    assert {e.id for e in test} == set((DATA / "test_ids.txt").read_text(encoding="utf-8").split())
    assert not {e.id for e in train} & {e.id for e in test}
    assert not {normalise(e.text) for e in train} & {normalise(e.text) for e in test}


def _settled_primary(relabels: str) -> dict[str, str]:
    rows = (DATA / relabels).read_text(encoding="utf-8").splitlines()[1:]  # after the header
    return {row.split("\t")[0]: row.split("\t")[1] for row in rows}


@pytest.mark.parametrize("relabels", ["cleaning/relabels.tsv", "accessories/relabels.tsv"])
def test_shipped_relabels_reach_training_and_never_touch_the_test_set(relabels: str) -> None:
    settled = _settled_primary(relabels)
    frozen_test = set((DATA / "test_ids.txt").read_text(encoding="utf-8").split())
    assert settled and not settled.keys() & frozen_test
    if relabels.startswith("cleaning"):  # applied first, so the accessory re-reading may change it again
        settled = {k: v for k, v in settled.items() if k not in _settled_primary("accessories/relabels.tsv")}
    trained = {e.id: e.primary for e in read_examples(DATA / "train.jsonl")}
    assert {source_id: trained.get(source_id) for source_id in settled} == settled


@pytest.mark.parametrize(("folder", "language"), [("english", "en"), ("chinese", "zh")])
def test_written_messages_are_trained_on_with_their_labels_or_dropped_as_duplicates(
    folder: str, language: str
) -> None:
    written = {}
    for path in sorted((DATA / folder).glob("written_*.tsv")):
        writer = path.stem.removeprefix("written_")
        for row, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            written[f"{language}-{writer}:{row:04d}"] = line.split("\t")[1]
    dropped = {
        line.split("\t")[0] for line in (DATA / "duplicates.tsv").read_text(encoding="utf-8").splitlines()
    }
    trained = {e.id: e.primary for e in read_examples(DATA / "train.jsonl")}
    assert len(written) >= 900
    assert {i: trained.get(i) for i in written if i not in dropped} == {
        i: primary for i, primary in written.items() if i not in dropped
    }


def test_shipped_data_has_the_volume_the_router_needs() -> None:
    labeled = read_examples(DATA / "labeled.jsonl")
    counts = {
        label: sum(e.primary == label for e in labeled) for label in ("sales", "product", "service", "none")
    }
    assert len(labeled) >= 4000 and min(counts.values()) >= 300
    assert min(counts["sales"], counts["product"], counts["service"]) >= 600
    assert len(read_examples(DATA / "test.jsonl")) >= 800
    assert len(read_examples(DATA / "english_mixed.jsonl")) >= 150


def test_valid_example_is_parsed_and_its_primary_dropped_from_secondary() -> None:
    raw = {
        "id": 7,
        "text": "屏幕坏了",
        "primary": "product",
        "secondary": ["service", "product"],
        "kind": "complaint",
    }
    assert parse_example(raw, "batch.jsonl:3") == Example(
        id="7", text="屏幕坏了", primary="product", kind="complaint", secondary=("service",)
    )


VALID = {"id": "x", "text": "屏幕坏了", "primary": "product", "secondary": [], "kind": "complaint"}


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"primary": "billing"}, "primary 'billing' is not one of"),
        ({"primary": "triage"}, "primary 'triage' is not one of"),
        ({"kind": "rant"}, "kind 'rant' is not one of"),
        ({"secondary": ["billing"]}, "secondary must be a list of"),
        ({"secondary": "service"}, "secondary must be a list of"),
        ({"text": "   "}, "text must be a non-empty string"),
        ({"text": None}, "text must be a non-empty string"),
    ],
)
def test_bad_example_is_rejected_with_its_file_and_line(
    tmp_path: Path, change: dict[str, object], complaint: str
) -> None:
    path = tmp_path / "batch.jsonl"
    lines = [VALID, VALID, {**VALID, **change}]
    path.write_text(
        "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8"
    )
    with pytest.raises(DatasetError) as error:
        read_examples(path)
    assert str(error.value).startswith(f"{path}:3: ")
    assert complaint in str(error.value)


def test_missing_field_is_named_with_its_location() -> None:
    with pytest.raises(DatasetError, match=r"^batch\.jsonl:9: missing field 'primary'$"):
        parse_example({"id": "x", "text": "屏幕坏了"}, "batch.jsonl:9")


def test_invalid_json_line_is_located(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_text(json.dumps(VALID) + "\n\n{not json\n", encoding="utf-8")
    with pytest.raises(DatasetError) as error:
        read_examples(path)
    assert str(error.value).startswith(f"{path}:3: not valid JSON")
