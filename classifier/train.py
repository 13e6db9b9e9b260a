"""Training: choose the representation and model by cross-validation, fit, score, save."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from classifier.dataset import Example, check_learnable, fingerprint, read_examples
from classifier.evaluation import score_predictions
from classifier.labels import DEPARTMENTS
from classifier.model import DEFAULT_THRESHOLD, FeedbackClassifier, make_scoring_pipeline
from classifier.persist import save_model

TRAIN_FILE = "train.jsonl"
TEST_FILE = "test.jsonl"
EXTRA_GLOB = "corrections*.jsonl"
# The candidates compared; the winner's settings are the defaults below.
CANDIDATES: tuple[tuple[str, str], ...] = tuple(
    (features, model)
    for features in ("word", "char", "both")
    for model in ("blend", "nbsvm", "svm", "logreg")
)
DEFAULT_FEATURES, DEFAULT_MODEL = "both", "blend"
CV_FOLDS = 5
CV_SEED = 13

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainingResult:
    """What `train` produced."""

    model_dir: Path
    report: dict[str, Any]


def load_training_examples(data_dir: Path) -> list[Example]:
    """The training split plus any corrections exported from staff relabels."""
    examples = read_examples(data_dir / TRAIN_FILE)
    for extra in sorted(data_dir.glob(EXTRA_GLOB)):
        examples.extend(read_examples(extra))
    return examples


def compare_candidates(examples: Sequence[Example], progress: Progress) -> list[dict[str, Any]]:
    """Cross-validated macro-F1 (departments) of every candidate, best first."""
    texts = [e.text for e in examples]
    labels = [e.primary for e in examples]
    folds = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=CV_SEED)
    rows = []
    for number, (features, model) in enumerate(CANDIDATES, start=1):
        progress(f"[{number}/{len(CANDIDATES)}] cross-validating features={features} model={model}")
        predicted = cross_val_predict(make_scoring_pipeline(features, model), texts, labels, cv=folds)
        rows.append(
            {
                "features": features,
                "model": model,
                "cv_macro_f1_departments": round(
                    float(f1_score(labels, predicted, labels=list(DEPARTMENTS), average="macro")), 4
                ),
                "cv_accuracy": round(float(np.mean(np.array(labels) == predicted)), 4),
            }
        )
    return sorted(rows, key=lambda row: row["cv_macro_f1_departments"], reverse=True)


def train(
    data_dir: Path,
    models_dir: Path,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    compare: bool = False,
    progress: Progress = lambda message: None,
) -> TrainingResult:
    """Fit the router on `data_dir`, score it on the frozen test set and save it."""
    examples = load_training_examples(data_dir)
    check_learnable(examples)
    progress(f"loaded {len(examples)} training examples from {data_dir}")
    comparison: list[dict[str, Any]] = []
    features, model = DEFAULT_FEATURES, DEFAULT_MODEL
    if compare:
        comparison = compare_candidates(examples, progress)
        features, model = comparison[0]["features"], comparison[0]["model"]
        progress(f"best by cross-validation: features={features} model={model}")
    progress(f"fitting features={features} model={model}")
    classifier = FeedbackClassifier(features=features, model=model, threshold=threshold).fit(
        [e.text for e in examples],
        [e.primary for e in examples],
        [e.kind for e in examples],
        [list(e.secondary) for e in examples],
    )
    report: dict[str, Any] = {"training_examples": len(examples), "comparison": comparison}
    test_path = data_dir / TEST_FILE
    if test_path.exists():
        progress(f"scoring on the frozen test set {test_path}")
        test = read_examples(test_path)
        report["test"] = score_examples(classifier, test)
    model_dir = save_model(classifier, models_dir, data_hash=fingerprint(examples), scores=report)
    progress(f"saved {model_dir}")
    return TrainingResult(model_dir, report)


def score_examples(classifier: FeedbackClassifier, examples: Sequence[Example]) -> dict[str, Any]:
    """Score a classifier on labeled examples (primary label and kind)."""
    predictions = classifier.route([e.text for e in examples])
    scores = score_predictions([e.primary for e in examples], predictions, classifier.threshold)
    scores["kind_accuracy"] = round(
        float(np.mean([p.kind == e.kind for p, e in zip(predictions, examples, strict=True)])), 4
    )
    return scores
