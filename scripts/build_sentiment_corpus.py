"""Write the corpora's own positive / negative ratings as the sentiment corpus training reads.

Run after the test set is fixed: `python scripts/build_sentiment_corpus.py`. Reviews whose text
is in the frozen test set (by id or after normalising) are left out, so no test message shapes
the model, not even through its star rating.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifier.dataset import normalise, read_examples  # noqa: E402
from classifier.sentiment import SENTIMENT_CORPUS  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
DATA = ROOT / "training_data"


def main() -> None:
    test = read_examples(DATA / "test.jsonl")
    test_ids = {example.id for example in test}
    test_texts = {normalise(example.text) for example in test}
    rows, left_out = [], 0
    for name in ("waimai_10k.csv", "online_shopping_9_cats.csv"):
        with (DATASETS / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                text = " ".join(row["review"].split())
                source_id = row["id"]
                if not text:
                    continue
                if source_id in test_ids or normalise(text) in test_texts:
                    left_out += 1
                    continue
                rating = "positive" if row["label"] == "1" else "negative"
                rows.append({"id": source_id, "text": text, "rating": rating})
    # mtime=0: the same rows give the same bytes, so the file's hash only moves with its content.
    with gzip.GzipFile(DATA / SENTIMENT_CORPUS, "wb", mtime=0) as handle:
        for row in rows:
            handle.write((json.dumps(row, ensure_ascii=False) + "\n").encode())
    print(f"{len(rows)} rated reviews written, {left_out} left out as test messages")


if __name__ == "__main__":
    main()
