"""The fitted router reduced to n-gram tables and one weight matrix, for fast prediction.

scikit-learn's transform and predict calls validate their input, build sparse
matrices and dispatch per estimator; for one short message that overhead was
four times the arithmetic (p99 about 10 ms). Here each message is cut into
exactly the n-grams the fitted vectorizers make, but the vocabulary lookups,
counting, TF-IDF weighting, normalisation and the scoring against all three
heads run in numpy over the whole batch, so Python only segments the text.
tests/test_classifier_compiled.py checks the results equal the scikit-learn path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Protocol

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

# A sigmoid this far out is 0 or 1 in float64: stands in for a constant head.
_CERTAIN = 50.0

# scikit-learn's char analyzer folds runs of two or more whitespace characters to one space.
_WHITE_SPACES = re.compile(r"\s\s+")
# A code point plus one fits in 21 bits, so up to three of them pack into one uint64 key
# without collisions; the +1 keeps a 1-gram's key apart from a 2-gram's.
_CODE_BITS = np.uint64(21)


class NotCompilable(ValueError):
    """The fitted model uses settings the fast path does not reproduce."""


# Every occurrence of a known n-gram: the row (text) it occurs in and its column.
Occurrences = tuple[np.ndarray, np.ndarray]


class _Block(Protocol):
    def occurrences(self, texts: Sequence[str]) -> Occurrences: ...


def _pack(codes: np.ndarray, starts: np.ndarray, n: int) -> np.ndarray:
    """One uint64 key per n-gram starting at `starts` (code points already shifted by one)."""
    key = codes[starts].copy()
    for k in range(1, n):
        key = (key << _CODE_BITS) | codes[starts + k]
    return key


# Fibonacci hashing: multiply by 2**64 / golden ratio and keep the top bits.
_FIBONACCI = np.uint64(0x9E3779B97F4A7C15)


class _KeyTable:
    """An open-addressing hash table from uint64 n-gram keys to columns, probed in bulk by numpy.

    A sorted array and np.searchsorted did the same job three times slower: each key
    costs about 17 dependent random reads there, here about two.
    """

    def __init__(self, keys: np.ndarray, columns: np.ndarray) -> None:
        self.keys = keys.astype(np.uint64)
        self.columns = columns.astype(np.int64)
        self.bits = max(4, int(np.ceil(np.log2(2 * max(len(keys), 1)))))  # at most half full
        self.slots = np.full(1 << self.bits, -1, dtype=np.int64)  # index into keys, -1 = empty
        position = self._home(self.keys)
        pending = np.arange(len(keys))
        while pending.size:
            # Of the keys whose slot is free, one per slot moves in; the rest probe the next slot.
            free = pending[self.slots[position[pending]] == -1]
            _, first = np.unique(position[free], return_index=True)
            settled = free[first]
            self.slots[position[settled]] = settled
            pending = np.setdiff1d(pending, settled, assume_unique=True)
            position[pending] = (position[pending] + 1) & (len(self.slots) - 1)

    def _home(self, keys: np.ndarray) -> np.ndarray:
        return ((keys * _FIBONACCI) >> np.uint64(64 - self.bits)).astype(np.int64)

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Columns of the keys in the table, and which of `keys` were found."""
        keys = keys.astype(np.uint64, copy=False)
        position = self._home(keys)
        index = np.full(len(keys), -1, dtype=np.int64)
        probing = np.arange(len(keys))
        while probing.size:
            slot = self.slots[position[probing]]
            occupied = slot >= 0
            hit = occupied.copy()
            hit[occupied] = self.keys[slot[occupied]] == keys[probing[occupied]]
            index[probing[hit]] = slot[hit]
            probing = probing[occupied & ~hit]  # an empty slot ends the search: not in the table
            position[probing] = (position[probing] + 1) & (len(self.slots) - 1)
        found = index >= 0
        return self.columns[index[found]], found


def _gram_keys(grams: list[str]) -> np.ndarray:
    """The packed key of each n-gram (n <= 3), built for the whole vocabulary at once."""
    lengths = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams))
    if len(grams) and (lengths.min() < 1 or lengths.max() > 3):
        raise NotCompilable("character n-grams longer than 3 do not fit one key")
    codes = _codes("".join(grams))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    keys = np.empty(len(grams), dtype=np.uint64)
    for n in (1, 2, 3):
        of_length = lengths == n
        keys[of_length] = _pack(codes, starts[of_length], n)
    return keys


class _CharBlock:
    """analyzer="char", n <= 3: n-grams as packed code points, looked up in bulk."""

    def __init__(
        self, vocabulary: dict[str, int], low: int, high: int, preprocess: Callable[[str], str]
    ) -> None:
        self.low, self.high = low, high
        self.preprocess = preprocess
        self.table = _KeyTable(_gram_keys(list(vocabulary)), np.fromiter(vocabulary.values(), dtype=np.int64))

    def occurrences(self, texts: Sequence[str]) -> Occurrences:
        prepared = [_WHITE_SPACES.sub(" ", self.preprocess(text)) for text in texts]
        lengths = np.fromiter(map(len, prepared), dtype=np.int64, count=len(prepared))
        codes = _codes("".join(prepared))
        row = np.repeat(np.arange(len(prepared)), lengths)
        rows, columns = [], []
        for n in range(self.low, self.high + 1):
            starts = np.arange(max(len(codes) - n + 1, 0))
            # An n-gram may not run from one text into the next.
            starts = starts[row[starts] == row[starts + n - 1]]
            found_columns, found = self.table.find(_pack(codes, starts, n))
            rows.append(row[starts[found]])
            columns.append(found_columns)
        return np.concatenate(rows), np.concatenate(columns)


def _codes(text: str) -> np.ndarray:
    """Unicode code points plus one, as uint64."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64) + np.uint64(1)


class _WordBlock:
    """Word 1- and 2-grams over our tokenizer: tokens become ids, bigrams a pair of ids."""

    def __init__(self, tokenizer: Callable[[str], list[str]], vocabulary: dict[str, int], high: int) -> None:
        self.tokenizer = tokenizer
        token_ids: dict[str, int] = {}
        unigrams: dict[int, int] = {}
        bigrams: dict[tuple[int, int], int] = {}
        for gram, column in vocabulary.items():
            parts = gram.split(" ")
            if len(parts) > high:  # a token with a space inside: splitting would be ambiguous
                raise NotCompilable(f"word n-gram {gram!r} does not split into tokens")
            ids = tuple(token_ids.setdefault(part, len(token_ids)) for part in parts)
            if len(ids) == 1:
                unigrams[ids[0]] = column
            else:
                bigrams[(ids[0], ids[1])] = column
        self.token_ids = token_ids
        self.unigram_columns = np.full(len(token_ids) + 1, -1, dtype=np.int64)  # last slot: unknown token
        for token, column in unigrams.items():
            self.unigram_columns[token] = column
        self.base = np.int64(len(token_ids) + 1)
        keys = np.array([a * self.base + b for a, b in bigrams], dtype=np.int64)
        self.bigrams = _KeyTable(keys, np.fromiter(bigrams.values(), dtype=np.int64, count=len(bigrams)))

    def occurrences(self, texts: Sequence[str]) -> Occurrences:
        unknown = len(self.token_ids)
        ids: list[int] = []
        lengths: list[int] = []
        for text in texts:
            tokens = self.tokenizer(text)
            ids.extend(map(self.token_ids.get, tokens, repeat(unknown)))
            lengths.append(len(tokens))
        token = np.asarray(ids, dtype=np.int64)
        row = np.repeat(np.arange(len(texts)), lengths)
        unigram_columns = self.unigram_columns[token]
        known = unigram_columns >= 0
        rows, columns = [row[known]], [unigram_columns[known]]
        pair = np.flatnonzero((row[:-1] == row[1:]) & (token[:-1] != unknown) & (token[1:] != unknown))
        found_columns, found = self.bigrams.find(token[pair] * self.base + token[pair + 1])
        rows.append(row[pair[found]])
        columns.append(found_columns)
        return np.concatenate(rows), np.concatenate(columns)


class _GenericBlock:
    """Any other analyzer: the vectorizer's own, with a dictionary lookup per n-gram."""

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_

    def occurrences(self, texts: Sequence[str]) -> Occurrences:
        rows: list[int] = []
        columns: list[int] = []
        for row, text in enumerate(texts):
            found = [column for column in map(self.vocabulary.get, self.analyze(text)) if column is not None]
            columns.extend(found)
            rows.extend(repeat(row, len(found)))
        return np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64)


def _block(vectorizer: TfidfVectorizer) -> _Block:
    plain = vectorizer.preprocessor is None and vectorizer.strip_accents is None
    low, high = vectorizer.ngram_range
    if vectorizer.analyzer == "char" and vectorizer.strip_accents is None and high <= 3:
        # As TfidfVectorizer.build_preprocessor: a given preprocessor replaces the lowercasing.
        preprocess = vectorizer.preprocessor or (str.lower if vectorizer.lowercase else str)
        return _CharBlock(vectorizer.vocabulary_, low, high, preprocess)
    words = vectorizer.analyzer == "word" and vectorizer.tokenizer is not None
    plain_words = plain and words and not vectorizer.lowercase and vectorizer.stop_words is None
    if plain_words and low == 1 and high <= 2:
        return _WordBlock(vectorizer.tokenizer, vectorizer.vocabulary_, high)
    return _GenericBlock(vectorizer)


def _blocks(
    features: TfidfVectorizer | FeatureUnion,
) -> tuple[list[_Block], np.ndarray, np.ndarray, np.ndarray]:
    """The feature blocks, the idf of every column, each block's first column, and each column's weight.

    The weight is FeatureUnion's transformer_weights (1 for unweighted blocks): it multiplies a
    block after normalisation, so it can be folded into the heads' weights.
    """
    named = features.transformer_list if isinstance(features, FeatureUnion) else [("", features)]
    block_weights = getattr(features, "transformer_weights", None) or {}
    blocks, idfs, offsets, column_weights, offset = [], [], [], [], 0
    for name, vectorizer in named:
        if not isinstance(vectorizer, TfidfVectorizer):
            raise NotCompilable(f"unexpected feature step {type(vectorizer).__name__}")
        if not (vectorizer.use_idf and vectorizer.sublinear_tf and vectorizer.norm == "l2"):
            raise NotCompilable("only sublinear, idf-weighted, l2-normalised TF-IDF is compiled")
        if vectorizer.binary:
            raise NotCompilable("binary TF-IDF is not compiled")
        blocks.append(_block(vectorizer))
        idfs.append(vectorizer.idf_)
        offsets.append(offset)
        column_weights.append(np.full(len(vectorizer.vocabulary_), float(block_weights.get(name, 1.0))))
        offset += len(vectorizer.vocabulary_)
    return blocks, np.concatenate(idfs), np.asarray(offsets, dtype=np.int64), np.concatenate(column_weights)


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
        self.blocks, self.idf, self.offsets, column_weights = _blocks(pipeline[0])
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
        weights = np.hstack([primary_w, kind_w, *secondary_w])
        self.weights = np.ascontiguousarray(weights * column_weights[:, np.newaxis])
        self.bias = np.concatenate([primary_b, kind_b, *secondary_b])
        self.primary = slice(0, primary_w.shape[1])
        self.kind = slice(self.primary.stop, self.primary.stop + kind_w.shape[1])
        self.secondary = slice(self.kind.stop, self.weights.shape[1])

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Raw scores, one row per text: primary, kind and secondary columns (see the slices)."""
        n_texts, n_features, n_blocks = len(texts), len(self.idf), len(self.blocks)
        rows, columns = [], []
        for block, offset in zip(self.blocks, self.offsets, strict=True):
            row, column = block.occurrences(texts)
            rows.append(row)
            columns.append(column + offset)
        # Counting an n-gram's occurrences in a text = counting equal (row, column) codes;
        # np.unique also sorts them row by row, the order a CSR matrix wants.
        cells = np.concatenate(rows) * n_features + np.concatenate(columns)
        cell, counts = np.unique(cells, return_counts=True)
        row, column = np.divmod(cell, n_features)
        weight = (np.log(counts) + 1.0) * self.idf[column]
        # Each block is l2-normalised on its own, as FeatureUnion stacks separately normalised blocks.
        segment = row * n_blocks + np.searchsorted(self.offsets, column, side="right") - 1
        norms = np.sqrt(np.bincount(segment, weights=weight * weight, minlength=n_texts * n_blocks))
        weight /= norms[segment]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=n_texts))])
        matrix = csr_matrix((weight, column, indptr), shape=(n_texts, n_features))
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
