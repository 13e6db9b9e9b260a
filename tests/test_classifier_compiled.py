"""The compiled fast path decides exactly what scikit-learn's own transform and predict decide."""

from __future__ import annotations

import pytest

from classifier.dataset import read_examples
from classifier.persist import LoadedModel
from tests.conftest import TRAINING_DATA

ODD_TEXTS = [
    "",
    "   ",
    "😡😡😡",
    "太" * 5000,
    "The courier was RUDE and the box was crushed",
    "价格\n\n\t多行   空白  ",
    "<b>粗体</b> '; DROP TABLE x; --",
    "满减券用不了，外卖小哥态度差，七天无理由退货也不给补差价",
]


@pytest.fixture(scope="module")
def test_texts() -> list[str]:
    return [example.text for example in read_examples(TRAINING_DATA / "test.jsonl")][:1500] + ODD_TEXTS


def test_fast_path_equals_sklearn_path(trained_model: LoadedModel, test_texts: list[str]) -> None:
    model = trained_model.classifier
    fast, reference = model.route(test_texts), model.route_with_sklearn(test_texts)
    assert [p.label for p in fast] == [p.label for p in reference]
    assert [p.kind for p in fast] == [p.kind for p in reference]
    assert [p.secondary for p in fast] == [p.secondary for p in reference]
    assert [p.queue for p in fast] == [p.queue for p in reference]
    for mine, theirs in zip(fast, reference, strict=True):
        assert mine.probabilities == pytest.approx(theirs.probabilities, abs=1e-4)


def test_one_message_at_a_time_equals_the_batch(trained_model: LoadedModel, test_texts: list[str]) -> None:
    model = trained_model.classifier
    batch = model.route(test_texts[:200])
    single = [model.route([text])[0] for text in test_texts[:200]]
    assert batch == single


def test_queue_agrees_with_the_confidence_shown(trained_model: LoadedModel, test_texts: list[str]) -> None:
    model = trained_model.classifier
    for prediction in model.route(test_texts):
        routed = prediction.queue != "triage"
        assert routed == (prediction.confidence >= model.threshold)
