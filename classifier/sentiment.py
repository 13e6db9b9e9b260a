"""One extra feature learned from the review corpora's own ratings: how negative a message reads.

Every review in the two corpora is rated positive or negative by its source:
about 59,000 examples of an easier question than routing. A logistic regression
on the router's own TF-IDF features learns that direction once per training;
the heads then get its score as one more column. It mostly helps to tell
praise and chatter (`none`) from complaints (cross-validated macro-F1 about
+0.5 points, docs/classifier.md). Being linear in the same features, the
column folds into the compiled router's weights and costs nothing per message.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression

# In training_data/, written by scripts/build_sentiment_corpus.py.
SENTIMENT_CORPUS = "sentiment_corpus.jsonl.gz"
# The score's weight next to TF-IDF columns of norm 1; 0.1-0.3 scored the same in CV.
DEFAULT_SCALE = 0.2


def read_sentiment_corpus(path: Path) -> tuple[list[str], list[bool]]:
    """Texts and whether each was rated negative."""
    texts, negative = [], []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            texts.append(row["text"])
            negative.append(row["rating"] == "negative")
    return texts, negative


class SentimentAxis(BaseEstimator, TransformerMixin):
    """Wraps the TF-IDF features and appends the sentiment score as the last column."""

    def __init__(self, features: BaseEstimator, corpus: str, scale: float = DEFAULT_SCALE) -> None:
        self.features = features
        self.corpus = corpus
        self.scale = scale

    def fit(self, texts: Sequence[str], y: object = None) -> SentimentAxis:
        self.features_ = clone(self.features).fit(texts)
        corpus_texts, negative = read_sentiment_corpus(Path(self.corpus))
        self.axis_ = LogisticRegression(C=4.0, max_iter=2000).fit(
            self.features_.transform(corpus_texts), negative
        )
        return self

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        matrix = self.features_.transform(texts)
        score = self.scale * self.axis_.decision_function(matrix)
        return hstack([matrix, csr_matrix(np.asarray(score).reshape(-1, 1))], format="csr")

    def fold(self, weights: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weights over [TF-IDF..., score] rewritten as weights over the TF-IDF alone.

        The score is scale * (x . a + b), so a head's weight w on it adds
        scale * w * a to the TF-IDF weights and scale * w * b to the bias.
        """
        on_score = weights[-1]
        direction = np.ravel(self.axis_.coef_)
        folded = weights[:-1] + self.scale * np.outer(direction, on_score)
        return folded, bias + self.scale * float(self.axis_.intercept_[0]) * on_score
