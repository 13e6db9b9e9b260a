"""The fitted router reduced to vocabularies and one weight matrix, for fast prediction.

scikit-learn's transform and predict calls validate their input, build sparse
matrices and dispatch per estimator; for one short message that overhead was
four times the arithmetic (p99 about 10 ms). Here each message is analysed
with the fitted vectorizers' own analyzers (so the n-grams are exactly the
same), weighted like TfidfVectorizer does, and scored against all three heads
with one small matrix product. tests/test_classifier_compiled.py checks the
results equal the scikit-learn path.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import add

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

# A sigmoid this far out is 0 or 1 in float64: stands in for a constant head.
_CERTAIN = 50.0


class NotCompilable(ValueError):
    """The fitted model uses settings the fast path does not reproduce."""


# scikit-learn's char analyzer folds runs of two or more whitespace characters to one space.
_WHITE_SPACES = re.compile(r"\s\s+")

Grams = Callable[[str], Counter[str]]


def _char_grams(low: int, high: int) -> Grams:
    """Character n-gram counts, as analyzer="char" makes them (built in C by map and Counter)."""

    def grams(text: str) -> Counter[str]:
        text = _WHITE_SPACES.sub(" ", text.lower())
        counts: Counter[str] = Counter()
        shifted: Iterable[str] = text
        for n in range(1, high + 1):
            if n > 1:
                shifted = map(add, shifted, text[n - 1 :])
            if n >= low:
                shifted = list(shifted)
                counts.update(shifted)
        return counts

    return grams


def _word_grams(tokenizer: Callable[[str], list[str]], low: int, high: int) -> Grams:
    """Word n-gram counts, tokens joined by one space as scikit-learn joins them."""

    def grams(text: str) -> Counter[str]:
        tokens = tokenizer(text)
        counts: Counter[str] = Counter(tokens) if low == 1 else Counter()
        for n in range(max(low, 2), high + 1):
            counts.update(map(" ".join, zip(*(tokens[k:] for k in range(n)), strict=False)))
        return counts

    return grams


def _generic_grams(vectorizer: TfidfVectorizer) -> Grams:
    """Any other analyzer: the vectorizer's own."""
    analyze = vectorizer.build_analyzer()
    return lambda text: Counter(analyze(text))


def _grams(vectorizer: TfidfVectorizer) -> Grams:
    plain = vectorizer.preprocessor is None and vectorizer.strip_accents is None
    low, high = vectorizer.ngram_range
    if plain and vectorizer.analyzer == "char" and vectorizer.lowercase:
        return _char_grams(low, high)
    words = vectorizer.analyzer == "word" and vectorizer.tokenizer is not None
    if plain and words and not vectorizer.lowercase and vectorizer.stop_words is None:
        return _word_grams(vectorizer.tokenizer, low, high)
    return _generic_grams(vectorizer)


@dataclass(frozen=True)
class _Block:
    grams: Grams
    vocabulary: dict[str, int]


def _blocks(features: TfidfVectorizer | FeatureUnion) -> tuple[list[_Block], np.ndarray, np.ndarray]:
    """The feature blocks, the idf of every column, and each block's first column."""
    vectorizers = (
        [v for _, v in features.transformer_list] if isinstance(features, FeatureUnion) else [features]
    )
    blocks, idfs, offsets, offset = [], [], [], 0
    for vectorizer in vectorizers:
        if not isinstance(vectorizer, TfidfVectorizer):
            raise NotCompilable(f"unexpected feature step {type(vectorizer).__name__}")
        if not (vectorizer.use_idf and vectorizer.sublinear_tf and vectorizer.norm == "l2"):
            raise NotCompilable("only sublinear, idf-weighted, l2-normalised TF-IDF is compiled")
        if vectorizer.binary:
            raise NotCompilable("binary TF-IDF is not compiled")
        blocks.append(_Block(_grams(vectorizer), vectorizer.vocabulary_))
        idfs.append(vectorizer.idf_)
        offsets.append(offset)
        offset += len(vectorizer.vocabulary_)
    return blocks, np.concatenate(idfs), np.asarray(offsets, dtype=np.int64)


def _linear_head(estimator: object, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights (features x outputs) and bias of a fitted linear classifier's decision function."""
    coef = np.asarray(getattr(estimator, "coef_"), dtype=np.float64)  # noqa: B009
    intercept = np.atleast_1d(np.asarray(getattr(estimator, "intercept_"), dtype=np.float64))  # noqa: B009
    if coef.shape[1] != n_features:
        raise NotCompilable("head and features disagree on the number of features")
    if coef.shape[0] == 1 and len(getattr(estimator, "classes_", ())) == 2:
        # Binary: one score for classes_[1]; a zero column for classes_[0] keeps argmax right.
        return np.hstack([np.zeros((n_features, 1)), coef.T]), np.array([0.0, intercept[0]])
    return coef.T, intercept


class CompiledRouter:
    """Scores messages for the primary, kind and secondary heads in one pass."""

    def __init__(self, pipeline: Pipeline, kind_model: object, secondary_model: object) -> None:
        self.blocks, self.idf, self.offsets = _blocks(pipeline[0])
        n_features = len(self.idf)
        calibrated = pipeline[-1]
        temperature = getattr(calibrated, "temperature_", None)
        if temperature is None:
            raise NotCompilable("the primary head is not temperature-calibrated")
        self.temperature = float(temperature)
        primary_w, primary_b = _linear_head(calibrated.estimator_, n_features)
        kind_w, kind_b = _linear_head(kind_model, n_features)
        secondary_w, secondary_b = [], []
        for estimator in getattr(secondary_model, "estimators_", []):
            if isinstance(estimator, LogisticRegression):
                w, b = _linear_head(estimator, n_features)
                secondary_w.append(w[:, -1:])
                secondary_b.append(b[-1:])
            else:  # a label no training example had: its probability is constant
                constant = float(np.ravel(estimator.predict_proba(np.zeros((1, 1))))[-1])
                secondary_w.append(np.zeros((n_features, 1)))
                secondary_b.append(np.array([_CERTAIN if constant > 0.5 else -_CERTAIN]))
        self.weights = np.ascontiguousarray(np.hstack([primary_w, kind_w, *secondary_w]))
        self.bias = np.concatenate([primary_b, kind_b, *secondary_b])
        self.primary = slice(0, primary_w.shape[1])
        self.kind = slice(self.primary.stop, self.primary.stop + kind_w.shape[1])
        self.secondary = slice(self.kind.stop, self.weights.shape[1])

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Raw scores, one row per text: primary, kind and secondary columns (see the slices)."""
        # Python only gathers n-gram counts (with C-level map/Counter); vocabulary lookup
        # results, TF-IDF weights, per-block normalisation and the scoring are then
        # computed once for the whole batch, so numpy's per-call cost is paid once.
        segments: list[int] = []
        columns: list[int] = []
        counts: list[int] = []
        n_blocks = len(self.blocks)
        for row, text in enumerate(texts):
            for number, block in enumerate(self.blocks):
                found = block.grams(text)
                columns.extend(map(block.vocabulary.get, found.keys(), repeat(-1)))
                counts.extend(found.values())
                segments.extend(repeat(row * n_blocks + number, len(found)))
        column = np.asarray(columns, dtype=np.int64)
        known = column >= 0
        segment = np.asarray(segments, dtype=np.int64)[known]
        column = column[known] + self.offsets[segment % n_blocks]
        weight = (np.log(np.asarray(counts, dtype=np.float64)[known]) + 1.0) * self.idf[column]
        norms = np.sqrt(np.bincount(segment, weights=weight * weight, minlength=len(texts) * n_blocks))
        weight /= norms[segment]
        matrix = csr_matrix((weight, (segment // n_blocks, column)), shape=(len(texts), len(self.idf)))
        return np.asarray(matrix @ self.weights) + self.bias

    def primary_probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Temperature-calibrated softmax over the primary labels."""
        logits = scores[:, self.primary] / self.temperature
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def secondary_probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Per-department probability of being raised too (one-vs-rest sigmoids)."""
        return 1.0 / (1.0 + np.exp(-scores[:, self.secondary]))
