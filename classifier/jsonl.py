"""Classifying JSON Lines input record by record, keeping bad lines from stopping the rest."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from classifier.labels import NONE, TRIAGE
from classifier.model import FeedbackClassifier
from classifier.tokenizer import MAX_CHARS

BATCH_SIZE = 256


def empty_result(record_id: Any, note: str) -> dict[str, Any]:
    """A message with nothing to classify goes to a human, never to a department."""
    return {
        "id": record_id,
        "queue": TRIAGE,
        "label": NONE,
        "confidence": 0.0,
        "kind": "other",
        "secondary": [],
        "note": note,
    }


def classify_lines(classifier: FeedbackClassifier, lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """One output object per non-blank input line, in order; errors name the line number."""
    pending: list[tuple[Any, str, str | None]] = []
    slots: list[dict[str, Any] | None] = []

    def flush() -> Iterator[dict[str, Any]]:
        predictions = iter(classifier.route([text for _, text, _ in pending]))
        waiting = iter(pending)
        for slot in slots:
            if slot is not None:
                yield slot
                continue
            record_id, _, note = next(waiting)
            prediction = next(predictions)
            result: dict[str, Any] = {
                "id": record_id,
                "queue": prediction.queue,
                "label": prediction.label,
                "confidence": prediction.confidence,
                "kind": prediction.kind,
                "secondary": list(prediction.secondary),
            }
            if note:
                result["note"] = note
            yield result
        pending.clear()
        slots.clear()

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        slots.append(_parse(number, line, pending))
        if len(pending) >= BATCH_SIZE:
            yield from flush()
    yield from flush()


def _parse(number: int, line: str, pending: list[tuple[Any, str, str | None]]) -> dict[str, Any] | None:
    """Queue a valid record for classification, or return the result that replaces it."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        return {"line": number, "error": f"line {number}: not valid JSON ({error.msg})"}
    if not isinstance(record, dict) or "text" not in record:
        return {"line": number, "error": f'line {number}: expected an object with a "text" field'}
    record_id, text = record.get("id"), record["text"]
    if not isinstance(text, str):
        return {"id": record_id, "line": number, "error": f'line {number}: "text" must be a string'}
    if not text.strip():
        return empty_result(record_id, "empty text")
    note = (
        f"text longer than {MAX_CHARS} characters; classified on the first {MAX_CHARS}"
        if len(text) > MAX_CHARS
        else None
    )
    pending.append((record_id, text, note))
    return None
