"""The sentiment column: learned from rated reviews, folded exactly into the compiled router."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from classifier.dataset import read_examples
from classifier.model import FeedbackClassifier
from classifier.sentiment import SentimentAxis, read_sentiment_corpus
from tests.conftest import TRAINING_DATA

PRAISE = ["很好吃，下次还来", "味道不错，送得也快", "质量很好，很满意", "物美价廉，推荐购买"]
COMPLAINTS = ["太难吃了，再也不点了", "送了两个小时，饭都凉了", "质量太差，用一天就坏了", "客服态度恶劣，不给退款"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sentiment") / "corpus.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for number in range(60):
            for text, rating in [(t, "positive") for t in PRAISE] + [(t, "negative") for t in COMPLAINTS]:
                row = {"id": f"x:{number}", "text": f"{text}{'！' * (number % 3)}", "rating": rating}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="module")
def model(corpus: Path) -> FeedbackClassifier:
    examples = read_examples(TRAINING_DATA / "train.jsonl")[:800]
    return FeedbackClassifier(sentiment_corpus=str(corpus)).fit(
        [e.text for e in examples],
        [e.primary for e in examples],
        [e.kind for e in examples],
        [list(e.secondary) for e in examples],
    )


def test_corpus_is_read_as_texts_and_negative_flags(corpus: Path) -> None:
    texts, negative = read_sentiment_corpus(corpus)
    assert len(texts) == 480
    assert negative[:8] == [False] * 4 + [True] * 4


def test_the_extra_column_reads_complaints_as_more_negative_than_praise(model: FeedbackClassifier) -> None:
    axis = model.pipeline_[0]
    assert isinstance(axis, SentimentAxis)
    column = axis.transform(["东西很好，很满意，推荐", "太差了，坏了，退款"]).toarray()[:, -1]
    # The logistic regression's positive class is "negative review" (True sorts after False).
    assert column[1] > column[0]


def test_fast_path_with_the_sentiment_column_equals_sklearn(model: FeedbackClassifier) -> None:
    texts = [e.text for e in read_examples(TRAINING_DATA / "test.jsonl")[:300]] + ["", "😡", "太" * 5000]
    fast, reference = model.route(texts), model.route_with_sklearn(texts)
    assert [p.label for p in fast] == [p.label for p in reference]
    assert [p.kind for p in fast] == [p.kind for p in reference]
    assert [p.secondary for p in fast] == [p.secondary for p in reference]
    for mine, theirs in zip(fast, reference, strict=True):
        assert mine.probabilities == pytest.approx(theirs.probabilities, abs=1e-4)
    assert np.isfinite([p.confidence for p in fast]).all()
