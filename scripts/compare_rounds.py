"""Does a round of labeled data help? Cross-validate with and without it.

    .venv/bin/python scripts/compare_rounds.py [--add-reserve] [--without FIRST-LAST ...]
        [--without-written en|zh] [--seed N]

Scores the router's primary pipeline (uncalibrated, default features and
model) in 5 folds over the training messages drawn the way the test set was
(those in `train.jsonl` at commit 2cfe8b5, scored against their labels then,
as `choose_threshold.py` does), while every later-round message is always in
training. `--without 62-77` leaves batches 62 to 77 out of training;
`--without-written zh` leaves out the Chinese messages written for the
project (`training_data/chinese/`); `--add-reserve` adds the labeled batches
of `training_data/reserve/`; `--seed` draws other folds. About 4 minutes per
run on 2 cores. The test set is never touched.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from build_dataset import DATA, read_batches  # noqa: E402
from choose_threshold import labels_at  # noqa: E402

from classifier.dataset import Example, read_examples  # noqa: E402
from classifier.labels import DEPARTMENTS  # noqa: E402
from classifier.model import make_scoring_pipeline  # noqa: E402
from classifier.train import CV_FOLDS, CV_SEED, DEFAULT_FEATURES, DEFAULT_MODEL  # noqa: E402

TEST_LIKE_COMMIT = "2cfe8b5"


def batch_ids(first: int, last: int) -> set[str]:
    ids: set[str] = set()
    for number in range(first, last + 1):
        with (DATA / "batches" / f"batch_{number:02d}.tsv").open(encoding="utf-8") as handle:
            ids.update(line.split("\t")[1] for line in handle)
    return ids


def test_like_scores(
    examples: Sequence[Example],
    make_pipeline: Callable[[], Pipeline],
    left_out: Collection[str] = (),
    seed: int = CV_SEED,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold decision scores for the test-like messages, later rounds always trained on.

    Returns the first-read labels, the scores (one column per class) and the classes.
    """
    first_reads = labels_at(TEST_LIKE_COMMIT)
    scored = [e for e in examples if e.id in first_reads]
    always = [e for e in examples if e.id not in first_reads and e.id not in left_out]
    truth = np.array([first_reads[e.id] for e in scored])
    scores = np.zeros((0, 0))
    classes = np.array([])
    folds = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed)
    for train_rows, held_rows in folds.split(scored, [e.primary for e in scored]):
        fitted = [*(scored[i] for i in train_rows), *always]
        pipeline = make_pipeline()
        pipeline.fit([e.text for e in fitted], [e.primary for e in fitted])
        held_scores = pipeline.decision_function([scored[i].text for i in held_rows])
        if not scores.size:
            scores, classes = np.zeros((len(scored), held_scores.shape[1])), pipeline.classes_
        scores[held_rows] = held_scores
    return truth, scores, classes


def department_macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(f1_score(truth, predicted, labels=list(DEPARTMENTS), average="macro"))


def add_without_written_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--without-written",
        action="append",
        default=[],
        metavar="LANGUAGE",
        help="leave out the messages written for this project in LANGUAGE (en or zh)",
    )


def written_ids(examples: Sequence[Example], languages: Sequence[str]) -> set[str]:
    """Ids of the messages written for this project in these languages (`en-a:0001`, `zh-c:0042`)."""
    prefixes = tuple(f"{language}-" for language in languages)
    return {e.id for e in examples if prefixes and e.id.startswith(prefixes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--without", action="append", default=[], help="batch range FIRST-LAST to leave out")
    add_without_written_option(parser)
    parser.add_argument("--add-reserve", action="store_true", help="also train on training_data/reserve/")
    parser.add_argument("--seed", type=int, default=CV_SEED, help=f"fold seed (default {CV_SEED})")
    args = parser.parse_args()
    examples = read_examples(DATA / "train.jsonl")
    if args.add_reserve:
        examples += read_batches(DATA / "reserve")
    left_out: set[str] = set()
    for span in args.without:
        first, last = (int(part) for part in span.split("-"))
        left_out |= batch_ids(first, last)
    left_out |= written_ids(examples, args.without_written)
    truth, scores, classes = test_like_scores(
        examples, lambda: make_scoring_pipeline(DEFAULT_FEATURES, DEFAULT_MODEL), left_out, args.seed
    )
    predicted = classes[np.argmax(scores, axis=1)]
    always = sum(1 for e in examples if e.id not in left_out) - len(truth)
    print(
        f"{len(truth)} test-like messages scored, {always} later-round messages always trained on: "
        f"macro-F1 (departments) {department_macro_f1(truth, predicted):.4f}"
    )


if __name__ == "__main__":
    main()
