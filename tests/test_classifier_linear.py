"""The blended linear model: one weight matrix that scores like its two parts averaged."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from classifier.dataset import read_examples
from classifier.linear import BlendedLinear, NBSVMClassifier
from tests.conftest import TRAINING_DATA


@pytest.fixture(scope="module")
def data() -> tuple[object, np.ndarray, object]:
    examples = read_examples(TRAINING_DATA / "train.jsonl")[:1500]
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    matrix = vectorizer.fit_transform([e.text for e in examples])
    held_out = vectorizer.transform([e.text for e in read_examples(TRAINING_DATA / "test.jsonl")[:300]])
    return matrix, np.array([e.primary for e in examples]), held_out


def test_blend_scores_are_the_mean_of_its_parts_at_unit_spread(
    data: tuple[object, np.ndarray, object],
) -> None:
    matrix, labels, held_out = data
    blend = BlendedLinear().fit(matrix, labels)
    parts = [
        LinearSVC(C=0.2, class_weight="balanced").fit(matrix, labels),
        NBSVMClassifier().fit(matrix, labels),
    ]
    expected = np.mean(
        [p.decision_function(held_out) / np.std(p.decision_function(matrix)) for p in parts], axis=0
    )
    # Each fit of liblinear differs in the last digits, hence the tolerance.
    assert blend.decision_function(held_out) == pytest.approx(expected, abs=1e-4)
    assert list(blend.classes_) == ["none", "product", "sales", "service"]


def test_blend_predicts_the_best_scoring_label(data: tuple[object, np.ndarray, object]) -> None:
    matrix, labels, held_out = data
    blend = BlendedLinear().fit(matrix, labels)
    scores = blend.decision_function(held_out)
    assert list(blend.predict(held_out)) == list(blend.classes_[scores.argmax(axis=1)])
