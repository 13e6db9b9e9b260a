"""The feedback router: one shared text representation feeding three small linear models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC

from classifier.compiled import CompiledRouter
from classifier.labels import DEPARTMENTS, NONE, TRIAGE
from classifier.linear import BlendedLinear, NBSVMClassifier, TemperatureCalibrated
from classifier.opening import OpeningClause
from classifier.tokenizer import MAX_CHARS, JiebaTokenizer

# Below this calibrated probability a message goes to a human (triage). Chosen on
# out-of-fold predictions for the training data (scripts/choose_threshold.py): the
# middle of the range where at least 75% are routed at least 93% correctly.
# `config.toml` overrides it.
DEFAULT_THRESHOLD = 0.77
# Regularisation strength of the linear models: 0.2 beat 0.05, 0.1 and 1.0 in
# a sweep on the training data (many rare n-grams, few examples per n-gram).
DEFAULT_C = 0.2
# A secondary department is named when its one-vs-rest probability passes this.
SECONDARY_THRESHOLD = 0.5


@dataclass(frozen=True)
class Prediction:
    """What the router decided for one message."""

    queue: str
    label: str
    confidence: float
    kind: str
    secondary: tuple[str, ...]
    probabilities: dict[str, float]


def make_vectorizer(features: str) -> TfidfVectorizer | FeatureUnion:
    """TF-IDF over jieba words, characters, or both (`features` is word, char or both).

    Words and characters get separate TF-IDF blocks, each normalised on its own,
    so neither drowns the other (this scored about 1.5 points of macro-F1 above
    one shared vocabulary). Only the word block runs jieba.
    """
    # sublinear_tf stops a customer who repeats 太慢太慢太慢 from drowning the rest;
    # min_df=2 drops one-off typos that only memorise the training set.
    words = TfidfVectorizer(
        tokenizer=JiebaTokenizer(),
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=2,
    )
    # Characters catch what segmentation gets wrong (typos, new slang, 满减券 split oddly).
    chars = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)
    if features == "word":
        return words
    if features == "char":
        return chars
    if features == "both":
        # The opening clause's characters again, as a lighter block of their own: customers
        # lead with the issue that matters most to them (guide rule 2); 0.4 scored best in CV.
        opening = TfidfVectorizer(
            analyzer="char", preprocessor=OpeningClause(), ngram_range=(1, 2), sublinear_tf=True, min_df=2
        )
        return FeatureUnion(
            [("words", words), ("chars", chars), ("opening", opening)], transformer_weights={"opening": 0.4}
        )
    raise ValueError(f"unknown features {features!r}: use word, char or both")


def make_linear_model(name: str, c: float = DEFAULT_C) -> BaseEstimator:
    """A linear classifier by name: blend, nbsvm, svm or logreg."""
    if name == "blend":
        return BlendedLinear(c=c)
    if name == "nbsvm":
        return NBSVMClassifier(c=c)
    if name == "svm":
        return LinearSVC(C=c, class_weight="balanced")
    if name == "logreg":
        return LogisticRegression(C=c * 10, class_weight="balanced", max_iter=2000)
    raise ValueError(f"unknown model {name!r}: use blend, nbsvm, svm or logreg")


def make_scoring_pipeline(features: str, model: str) -> Pipeline:
    """Vectorizer plus the uncalibrated linear model: what cross-validated comparisons fit.

    Calibration keeps each model's ranking, so it cannot change a comparison of
    labels, and it would cost five more fits per fold.
    """
    return Pipeline([("features", make_vectorizer(features)), ("classifier", make_linear_model(model))])


def make_primary_pipeline(features: str, model: str, c: float = DEFAULT_C) -> Pipeline:
    """Vectorizer plus a calibrated linear classifier for the primary label."""
    calibrated = TemperatureCalibrated(make_linear_model(model, c), cv=5)
    return Pipeline([("features", make_vectorizer(features)), ("classifier", calibrated)])


class FeedbackClassifier(BaseEstimator, ClassifierMixin):
    """Predicts the department, the kind and secondary departments of a message."""

    def __init__(
        self,
        features: str = "both",
        model: str = "svm",
        c: float = DEFAULT_C,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.features = features
        self.model = model
        self.c = c
        self.threshold = threshold

    def fit(
        self,
        texts: Sequence[str],
        primary: Sequence[str],
        kinds: Sequence[str] | None = None,
        secondary: Sequence[Sequence[str]] | None = None,
    ) -> FeedbackClassifier:
        """Learn all three heads from the same TF-IDF representation."""
        self.pipeline_ = make_primary_pipeline(self.features, self.model, self.c)
        self.pipeline_.fit(list(texts), list(primary))
        _drop_stop_words(self.pipeline_[0])
        matrix = self.pipeline_[:-1].transform(list(texts))
        self.classes_ = self.pipeline_.classes_
        self.kind_model_ = clone(make_linear_model("svm", self.c)).fit(
            matrix, list(kinds or ["other"] * len(texts))
        )
        binarizer = MultiLabelBinarizer(classes=list(DEPARTMENTS))
        targets = binarizer.fit_transform(secondary or [[] for _ in texts])
        self.secondary_labels_ = tuple(DEPARTMENTS)
        self.secondary_model_ = OneVsRestClassifier(
            LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000)
        ).fit(matrix, targets)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probability of each primary label, columns in `classes_` order."""
        return self.pipeline_.predict_proba([text[:MAX_CHARS] for text in texts])

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Most likely primary label per message."""
        return self.pipeline_.predict([text[:MAX_CHARS] for text in texts])

    def route(self, texts: Sequence[str]) -> list[Prediction]:
        """Full routing decision for each message, through the compiled fast path."""
        router = self._compiled()
        scores = router.scores([text[:MAX_CHARS] for text in texts])
        kinds = np.asarray(self.kind_model_.classes_)[np.argmax(scores[:, router.kind], axis=1)]
        return self._predictions(
            router.primary_probabilities(scores), kinds, router.secondary_probabilities(scores)
        )

    def route_with_sklearn(self, texts: Sequence[str]) -> list[Prediction]:
        """The same decisions through scikit-learn's own transform and predict (the reference)."""
        matrix = self.pipeline_[:-1].transform([text[:MAX_CHARS] for text in texts])
        return self._predictions(
            self.pipeline_[-1].predict_proba(matrix),
            self.kind_model_.predict(matrix),
            self.secondary_model_.predict_proba(matrix),
        )

    def _compiled(self) -> CompiledRouter:
        router: CompiledRouter | None = self.__dict__.get("_router")
        if router is None:
            router = CompiledRouter(self.pipeline_, self.kind_model_, self.secondary_model_)
            self.__dict__["_router"] = router
        return router

    def __getstate__(self) -> dict[str, object]:
        # The compiled router is rebuilt from the fitted parts; pickling it would double the file.
        state = dict(super().__getstate__())
        state.pop("_router", None)
        return state

    def _predictions(
        self, probabilities: np.ndarray, kinds: np.ndarray, secondary: np.ndarray
    ) -> list[Prediction]:
        classes = [str(c) for c in self.classes_]
        # Whole-batch conversions: one tolist() and one comparison instead of numpy calls per message.
        shown = [[round(p, 4) for p in row] for row in probabilities.tolist()]
        best = np.argmax(probabilities, axis=1).tolist()
        raised = (secondary >= SECONDARY_THRESHOLD).tolist()
        results = []
        for row, top, kind, flags in zip(shown, best, kinds.tolist(), raised, strict=True):
            label = classes[top]
            # Decide on the confidence as shown, so a line never reads 0.7 and triage.
            confidence = row[top]
            also = (
                tuple(
                    dept
                    for dept, flag in zip(self.secondary_labels_, flags, strict=True)
                    if flag and dept != label
                )
                if label != NONE
                else ()
            )
            results.append(
                Prediction(
                    queue=label if confidence >= self.threshold else TRIAGE,
                    label=label,
                    confidence=confidence,
                    kind=str(kind),
                    secondary=also,
                    probabilities=dict(zip(classes, row, strict=True)),
                )
            )
        return results


def _drop_stop_words(features: TfidfVectorizer | FeatureUnion) -> None:
    """Forget the n-grams min_df threw away: only needed for introspection, and most of the file."""
    parts = [v for _, v in features.transformer_list] if isinstance(features, FeatureUnion) else [features]
    for vectorizer in parts:
        if hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_
