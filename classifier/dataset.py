"""Labeled feedback: reading, validating, de-duplicating and splitting JSON Lines files."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from classifier.labels import DEPARTMENTS, KINDS, PRIMARY_LABELS

# Character 3-gram Jaccard similarity at or above which two texts count as the
# same review posted twice (copy-paste with a changed emoji or full stop).
NEAR_DUPLICATE_JACCARD = 0.8


class DatasetError(ValueError):
    """Raised when labeled data cannot be learned from; the message says why."""


@dataclass(frozen=True)
class Example:
    """One labeled message."""

    id: str
    text: str
    primary: str
    kind: str
    secondary: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "text": self.text,
            "primary": self.primary,
            "secondary": list(self.secondary),
            "kind": self.kind,
        }


def parse_example(raw: dict[str, object], where: str) -> Example:
    """Validate one JSON object as a labeled example."""
    try:
        example_id, text = str(raw["id"]), raw["text"]
        primary, kind = raw["primary"], raw.get("kind", "other")
        secondary = raw.get("secondary") or []
    except KeyError as missing:
        raise DatasetError(f"{where}: missing field {missing}") from None
    if not isinstance(text, str) or not text.strip():
        raise DatasetError(f"{where}: text must be a non-empty string")
    if primary not in PRIMARY_LABELS:
        raise DatasetError(f"{where}: primary {primary!r} is not one of {PRIMARY_LABELS}")
    if kind not in KINDS:
        raise DatasetError(f"{where}: kind {kind!r} is not one of {KINDS}")
    if not isinstance(secondary, list) or any(s not in DEPARTMENTS for s in secondary):
        raise DatasetError(f"{where}: secondary must be a list of {DEPARTMENTS}")
    return Example(
        id=example_id,
        text=text,
        primary=str(primary),
        kind=str(kind),
        secondary=tuple(s for s in dict.fromkeys(secondary) if s != primary),
    )


def read_examples(path: Path) -> list[Example]:
    """Read labeled examples from a JSON Lines file, failing on the first bad line."""
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as error:
                raise DatasetError(f"{path}:{number}: not valid JSON ({error.msg})") from None
            examples.append(parse_example(raw, f"{path}:{number}"))
    return examples


def write_examples(path: Path, examples: Iterable[Example]) -> None:
    """Write examples as JSON Lines, one object per line, UTF-8 unescaped."""
    with path.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(example.to_json(), ensure_ascii=False) + "\n")


def fingerprint(examples: Sequence[Example]) -> str:
    """Hash of the exact training data, stored with a model to tell what it learned from."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps(example.to_json(), ensure_ascii=False, sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def normalise(text: str) -> str:
    """Fold width, case, spaces and punctuation so trivial copies compare equal."""
    folded = unicodedata.normalize("NFKC", text).lower()
    # Emoji-only messages (😡 vs 👍) would all fold to "": keep their symbols then.
    return re.sub(r"[\W_]+", "", folded) or re.sub(r"\s+", "", folded)


def _shingles(text: str) -> set[str]:
    if len(text) < 3:
        return {text}
    return {text[i : i + 3] for i in range(len(text) - 2)}


def deduplicate(examples: Sequence[Example]) -> tuple[list[Example], list[tuple[str, str]]]:
    """Drop exact and near-duplicate texts, keeping the first; return kept and (dropped, kept) ids."""
    kept: list[Example] = []
    dropped: list[tuple[str, str]] = []
    by_key: dict[str, str] = {}
    shingle_sets: list[set[str]] = []
    index: defaultdict[str, list[int]] = defaultdict(list)
    for example in examples:
        key = normalise(example.text)
        if key in by_key:
            dropped.append((example.id, by_key[key]))
            continue
        shingles = _shingles(key)
        candidates: Counter[int] = Counter()
        for shingle in shingles:
            candidates.update(index[shingle])
        duplicate_of = None
        for position, shared in candidates.most_common(20):
            other = shingle_sets[position]
            if shared / len(shingles | other) >= NEAR_DUPLICATE_JACCARD:
                duplicate_of = kept[position].id
                break
        if duplicate_of is not None:
            dropped.append((example.id, duplicate_of))
            continue
        by_key[key] = example.id
        for shingle in shingles:
            index[shingle].append(len(kept))
        shingle_sets.append(shingles)
        kept.append(example)
    return kept, dropped


def split(examples: Sequence[Example], test_share: float, seed: str) -> tuple[list[Example], list[Example]]:
    """Split by a seeded hash of each source id, so adding data never moves old examples."""
    train: list[Example] = []
    test: list[Example] = []
    for example in sorted(examples, key=lambda e: e.id):
        digest = hashlib.sha256(f"{seed}:{example.id}".encode()).digest()
        position = int.from_bytes(digest[:8], "big") / 2**64
        (test if position < test_share else train).append(example)
    return train, test


def split_frozen(examples: Sequence[Example], test_ids: set[str]) -> tuple[list[Example], list[Example]]:
    """Train and test sides for a test set that is already fixed: new examples only ever train.

    A hash split would send a fifth of every new labeling round into the test set, so the
    figures of two models would come from different tests; with the ids fixed, they do not.
    """
    test = [example for example in examples if example.id in test_ids]
    missing = test_ids - {example.id for example in test}
    if missing:
        raise ValueError(
            f"{len(missing)} frozen test ids are no longer in the data, e.g. {sorted(missing)[0]}"
        )
    train = [example for example in examples if example.id not in test_ids]
    return sorted(train, key=lambda e: e.id), sorted(test, key=lambda e: e.id)


def check_learnable(examples: Sequence[Example], minimum_per_label: int = 5) -> None:
    """Refuse data a classifier cannot learn from, saying what is missing."""
    counts = Counter(example.primary for example in examples)
    missing = [label for label in PRIMARY_LABELS if counts[label] < minimum_per_label]
    if missing:
        shown = ", ".join(f"{label}={counts[label]}" for label in missing)
        raise DatasetError(f"need at least {minimum_per_label} examples of every label; too few: {shown}")
