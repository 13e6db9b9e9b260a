"""The compiled fast path decides exactly what scikit-learn's own transform and predict decide."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from classifier import model as model_module
from classifier.compiled import _GenericBlock, _KeyTable
from classifier.dataset import read_examples
from classifier.model import FeedbackClassifier, make_vectorizer
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


def test_key_table_finds_exactly_the_keys_it_holds() -> None:
    rng = np.random.default_rng(7)
    keys = np.unique(rng.integers(0, 2**63, size=20_000, dtype=np.uint64))
    columns = rng.permutation(len(keys))
    table = _KeyTable(keys, columns)
    absent = rng.integers(0, 2**63, size=5_000, dtype=np.uint64)
    absent = absent[~np.isin(absent, keys)]
    queries = rng.permutation(np.concatenate([keys[:5_000], absent]))
    found_columns, found = table.find(queries)
    expected = dict(zip(keys.tolist(), columns.tolist(), strict=True))
    assert found.tolist() == [q in expected for q in queries.tolist()]
    assert found_columns.tolist() == [expected[q] for q in queries[found].tolist()]


def test_settings_without_a_fast_block_use_the_analyzer_and_still_agree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Character 2-4-grams do not fit the packed 3-code-point keys: the generic block serves them.
    def unusual(features: str) -> FeatureUnion:
        words = make_vectorizer("word")
        chars = TfidfVectorizer(analyzer="char", ngram_range=(2, 4), sublinear_tf=True, min_df=2)
        return FeatureUnion([("words", words), ("chars", chars)])

    monkeypatch.setattr(model_module, "make_vectorizer", unusual)
    examples = read_examples(TRAINING_DATA / "train.jsonl")[:600]
    model = FeedbackClassifier().fit(
        [e.text for e in examples],
        [e.primary for e in examples],
        [e.kind for e in examples],
        [list(e.secondary) for e in examples],
    )
    texts = [e.text for e in examples[:100]] + ODD_TEXTS
    fast, reference = model.route(texts), model.route_with_sklearn(texts)
    assert isinstance(model._compiled().blocks[1], _GenericBlock)
    assert [p.label for p in fast] == [p.label for p in reference]
    for mine, theirs in zip(fast, reference, strict=True):
        assert mine.probabilities == pytest.approx(theirs.probabilities, abs=1e-4)
