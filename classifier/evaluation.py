"""Scores a router is judged by: per-class quality and what a confidence threshold buys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from classifier.labels import DEPARTMENTS, PRIMARY_LABELS
from classifier.model import Prediction

REPORTED_THRESHOLDS = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def score_predictions(
    truth: Sequence[str], predictions: Sequence[Prediction], threshold: float
) -> dict[str, Any]:
    """Per-class precision/recall/F1, confusion matrix and the threshold trade-off."""
    predicted = [p.label for p in predictions]
    confidence = np.array([p.confidence for p in predictions])
    correct = np.array([t == p for t, p in zip(truth, predicted, strict=True)])
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(PRIMARY_LABELS), zero_division=0
    )
    per_class = {
        label: {
            "precision": round(float(precision[i]), 4),
            "recall": round(float(recall[i]), 4),
            "f1": round(float(f1[i]), 4),
            "support": int(support[i]),
        }
        for i, label in enumerate(PRIMARY_LABELS)
    }
    thresholds = [threshold_row(t, confidence, correct) for t in sorted({*REPORTED_THRESHOLDS, threshold})]
    return {
        "examples": len(truth),
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1_departments": round(
            float(f1_score(truth, predicted, labels=list(DEPARTMENTS), average="macro", zero_division=0)),
            4,
        ),
        "macro_f1_all": round(
            float(f1_score(truth, predicted, labels=list(PRIMARY_LABELS), average="macro", zero_division=0)),
            4,
        ),
        "per_class": per_class,
        "confusion_matrix": {
            "labels": list(PRIMARY_LABELS),
            "rows_true_columns_predicted": confusion_matrix(
                truth, predicted, labels=list(PRIMARY_LABELS)
            ).tolist(),
        },
        "threshold": threshold,
        "at_threshold": threshold_row(threshold, confidence, correct),
        "thresholds": thresholds,
    }


def threshold_row(threshold: float, confidence: np.ndarray, correct: np.ndarray) -> dict[str, float]:
    """Share auto-routed at a threshold and accuracy among those routed."""
    routed = confidence >= threshold
    share = float(routed.mean()) if len(routed) else 0.0
    accuracy = float(correct[routed].mean()) if routed.any() else 0.0
    return {
        "threshold": threshold,
        "auto_routed": round(share, 4),
        "accuracy_routed": round(accuracy, 4),
    }


def format_report(scores: dict[str, Any]) -> str:
    """Human-readable version of `score_predictions`' result."""
    lines = [
        f"examples {scores['examples']}   accuracy {scores['accuracy']:.3f}   "
        f"macro-F1 (sales/product/service) {scores['macro_f1_departments']:.3f}   "
        f"macro-F1 (all four) {scores['macro_f1_all']:.3f}",
        "",
        f"{'label':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}",
    ]
    for label, row in scores["per_class"].items():
        lines.append(
            f"{label:<10}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>10.3f}{row['support']:>10}"
        )
    matrix = scores["confusion_matrix"]
    lines += [
        "",
        "confusion matrix (rows: true, columns: predicted)",
        " " * 10 + "".join(f"{name:>9}" for name in matrix["labels"]),
    ]
    for label, row in zip(matrix["labels"], matrix["rows_true_columns_predicted"], strict=True):
        lines.append(f"{label:<10}" + "".join(f"{n:>9}" for n in row))
    lines += ["", f"{'threshold':>10}{'auto-routed':>13}{'accuracy':>10}"]
    for row in scores["thresholds"]:
        mark = "  <- configured" if row["threshold"] == scores["threshold"] else ""
        lines.append(
            f"{row['threshold']:>10.2f}{row['auto_routed']:>12.1%}{row['accuracy_routed']:>10.1%}{mark}"
        )
    return "\n".join(lines)
