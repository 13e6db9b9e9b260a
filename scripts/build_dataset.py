"""Merge every labeled batch into one de-duplicated set and split train / frozen test.

Run once per labeling round: `python scripts/build_dataset.py`. The test set was drawn
once by a seeded hash of the source id and is frozen in `training_data/test_ids.txt`;
every later round's examples go to training, so models are always judged on the same test.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifier.dataset import (  # noqa: E402
    Example,
    deduplicate,
    parse_example,
    read_examples,
    split,
    split_frozen,
    write_examples,
)

SEED_FILE = ROOT.parent / "shared" / "datasets" / "labeled_seed_1500.jsonl"
DATA = ROOT / "training_data"
TEST_SHARE = 0.2
SPLIT_SEED = "feedbot-test-2026-11-22"
TEST_IDS = DATA / "test_ids.txt"
# Training labels changed after the first reading, applied in this order (a later file wins):
# settled by a second and third reading (training_data/cleaning/README.md), then re-read under
# the guide's accessory decision (training_data/accessories/README.md).
RELABELS = (DATA / "cleaning" / "relabels.tsv", DATA / "accessories" / "relabels.tsv")


def labels_row(source_id: str, text: str, primary: str, secondary: str, kind: str) -> dict[str, object]:
    """One example from the fields of a TSV label line (secondary: comma-separated, or `-`)."""
    return {
        "id": source_id,
        "text": text,
        "primary": primary.strip(),
        "secondary": [] if secondary.strip() in ("-", "") else secondary.strip().split(","),
        "kind": kind.strip(),
    }


def read_batches(folder: Path = DATA / "batches") -> list[Example]:
    """Every labeled batch in `folder`: `batch_NN.tsv` texts joined to `labels_NN.tsv` labels."""
    examples = []
    for labels in sorted(folder.glob("labels_*.tsv")):
        texts = {}
        for line in labels.with_name(labels.name.replace("labels_", "batch_")).open(encoding="utf-8"):
            number, source_id, text = line.rstrip("\n").split("\t", 2)
            texts[number] = (source_id, text)
        for row, line in enumerate(labels.open(encoding="utf-8"), start=1):
            if not line.strip():
                continue
            number, primary, secondary, kind = line.rstrip("\n").split("\t")
            raw = labels_row(*texts[number], primary, secondary, kind)
            examples.append(parse_example(raw, f"{labels.name}:{row}"))
    return examples


def read_written(folder: Path, language: str) -> list[Example]:
    """Messages written for this project in the style of real feedback (`english/`, `chinese/`).

    One file per writer, `text, primary, secondary, kind` per line; the id is the
    language, the writer's letter and the line number (`en-a:0001`, `zh-c:0042`),
    so it never changes as long as the files are only appended to.
    """
    examples = []
    for path in sorted(folder.glob("written_*.tsv")):
        writer = path.stem.removeprefix("written_")
        for row, line in enumerate(path.open(encoding="utf-8"), start=1):
            if not line.strip():
                continue
            raw = labels_row(f"{language}-{writer}:{row:04d}", *line.rstrip("\n").split("\t"))
            examples.append(parse_example(raw, f"{folder.name}/{path.name}:{row}"))
    return examples


def read_relabels(path: Path, frozen_test: set[str]) -> dict[str, dict[str, object]]:
    """New labels by source id from one relabel file; a test message there is refused."""
    changes: dict[str, dict[str, object]] = {}
    for row, line in enumerate(path.open(encoding="utf-8"), start=1):
        if row == 1:
            continue  # header
        source_id, primary, secondary, kind = line.rstrip("\n").split("\t")
        if source_id in frozen_test:
            raise SystemExit(
                f"{path.name}:{row}: {source_id} is a test message; test labels are never changed"
            )
        changes[source_id] = labels_row(source_id, "", primary, secondary, kind)
    return changes


def apply_relabels(examples: list[Example], frozen_test: set[str]) -> list[Example]:
    """Replace the labels of re-read training messages by their settled readings."""
    for path in RELABELS:
        if not path.exists():
            continue
        changes = read_relabels(path, frozen_test)
        examples = [
            parse_example({**changes[example.id], "text": example.text}, f"{path.name}:{example.id}")
            if example.id in changes
            else example
            for example in examples
        ]
    return examples


def read_sources() -> dict[str, list[Example]]:
    """Every labeled message as first read, by source: before any relabel or de-duplication."""
    english_mixed = DATA / "english_mixed.jsonl"
    return {
        "seed": read_examples(SEED_FILE),
        "batches": read_batches(),
        "english_mixed": read_examples(english_mixed) if english_mixed.exists() else [],
        "english_written": read_written(DATA / "english", "en"),
        "chinese_written": read_written(DATA / "chinese", "zh"),
    }


def main() -> None:
    sources = read_sources()
    frozen_test = set(TEST_IDS.read_text(encoding="utf-8").split()) if TEST_IDS.exists() else set()
    everything = apply_relabels([e for examples in sources.values() for e in examples], frozen_test)
    kept, dropped = deduplicate(everything)
    if frozen_test:
        train, test = split_frozen(kept, frozen_test)
    else:
        train, test = split(kept, TEST_SHARE, SPLIT_SEED)
        TEST_IDS.write_text("".join(f"{example.id}\n" for example in test), encoding="utf-8")
    write_examples(DATA / "labeled.jsonl", kept)
    write_examples(DATA / "train.jsonl", train)
    write_examples(DATA / "test.jsonl", test)
    with (DATA / "duplicates.tsv").open("w", encoding="utf-8") as handle:
        handle.write("dropped_id\tduplicate_of\n")
        for dropped_id, kept_id in dropped:
            handle.write(f"{dropped_id}\t{kept_id}\n")
    stats = {
        "sources": {name: len(examples) for name, examples in sources.items()},
        "duplicates_dropped": len(dropped),
        "labeled": len(kept),
        "train": len(train),
        "test": len(test),
        "primary": dict(Counter(e.primary for e in kept).most_common()),
        "kind": dict(Counter(e.kind for e in kept).most_common()),
        "test_primary": dict(Counter(e.primary for e in test).most_common()),
    }
    (DATA / "stats.json").write_text(json.dumps(stats, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(stats, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
