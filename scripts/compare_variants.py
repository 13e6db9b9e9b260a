"""Does a change to the features or the decision rule help? Cross-validate it beside the default.

    .venv/bin/python scripts/compare_variants.py [--without-written en|zh] [VARIANT ...]

Each variant is scored the way `compare_rounds.py` scores a round of data: in
5 folds over the 20,543 training messages drawn the way the test set was,
against their first readings, with every later-round message always in
training. About 4 minutes per variant on 2 cores. The test set is never
touched. With no names, every variant runs; `--without-written zh` leaves the
written Chinese messages out, as the data was when the first six were tried
(`longest-clause` and `after-turn` were tried on the data with them). Only the
prior offsets moved macro-F1 by more than 0.15 points, and they are not used
(docs/classifier.md, "What did not help").
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from build_dataset import DATA  # noqa: E402
from compare_rounds import (  # noqa: E402
    add_without_written_option,
    department_macro_f1,
    test_like_scores,
    written_ids,
)

from classifier.dataset import read_examples  # noqa: E402
from classifier.model import make_scoring_pipeline  # noqa: E402
from classifier.opening import _END as CLAUSE_END  # noqa: E402
from classifier.train import DEFAULT_FEATURES, DEFAULT_MODEL  # noqa: E402


def clauses(text: str) -> list[str]:
    """The message's non-empty clauses, split where the opening block ends its clause."""
    return [part.strip() for part in CLAUSE_END.split(text) if part.strip()]


class NthClause:
    """text -> one of its clauses (1 = the second, -1 = the last), or "" if it has only one."""

    def __init__(self, index: int) -> None:
        self.index = index

    def __call__(self, text: str) -> str:
        parts = clauses(text)
        return parts[self.index].lower() if len(parts) > 1 else ""


class LongestClause:
    """text -> its longest clause, or "" if it has only one (rule 2: "at most length")."""

    def __call__(self, text: str) -> str:
        parts = clauses(text)
        return max(parts, key=len).lower() if len(parts) > 1 else ""


# Words that turn praise into a gripe (rule 9: "都挺好，就是有点贵").
TURN = re.compile(r"但是|但|就是|不过|可是|只是|可惜|唯一")


class AfterTurn:
    """text -> the clause after its first turning word, or "" if it has none."""

    def __call__(self, text: str) -> str:
        turn = TURN.search(text)
        if turn is None:
            return ""
        rest = text[turn.end() :]
        end = CLAUSE_END.search(rest)
        return rest[: end.start() if end else len(rest)].strip().lower()


def default() -> Pipeline:
    return make_scoring_pipeline(DEFAULT_FEATURES, DEFAULT_MODEL)


def with_params(**params: object) -> Callable[[], Pipeline]:
    def make() -> Pipeline:
        return default().set_params(**params)

    return make


def with_clause_block(clause: Callable[[str], str], weight: float) -> Callable[[], Pipeline]:
    """The default plus a character 1-2-gram block of one more clause, like the opening block."""

    def make() -> Pipeline:
        pipeline = default()
        union = pipeline.named_steps["features"]
        block = TfidfVectorizer(
            analyzer="char", preprocessor=clause, ngram_range=(1, 2), sublinear_tf=True, min_df=2
        )
        union.transformer_list.append(("clause", block))
        union.transformer_weights = {**union.transformer_weights, "clause": weight}
        return pipeline

    return make


VARIANTS: dict[str, Callable[[], Pipeline]] = {
    "default": default,
    "word-trigrams": with_params(features__words__ngram_range=(1, 3)),
    "char-4grams": with_params(features__chars__ngram_range=(1, 4)),
    "min-df-1": with_params(
        features__words__min_df=1, features__chars__min_df=1, features__opening__min_df=1
    ),
    "second-clause": with_clause_block(NthClause(1), 0.3),
    "last-clause": with_clause_block(NthClause(-1), 0.3),
    "longest-clause": with_clause_block(LongestClause(), 0.3),
    "after-turn": with_clause_block(AfterTurn(), 0.3),
}


def prior_offsets(truth: np.ndarray, scores: np.ndarray, classes: np.ndarray) -> float:
    """Macro-F1 after per-class score offsets that are fitted, fold by fold, on the other folds.

    Later rounds changed the label mix; offsets learnt on test-like messages
    would undo that shift if it mattered.
    """
    grid = np.arange(-0.3, 0.31, 0.05)

    def fit(rows: np.ndarray) -> np.ndarray:
        offsets = np.zeros(len(classes))
        best = department_macro_f1(truth[rows], classes[np.argmax(scores[rows], axis=1)])
        for _ in range(3):
            for column in range(len(classes)):
                for value in grid:
                    trial = offsets.copy()
                    trial[column] = value
                    score = department_macro_f1(truth[rows], classes[np.argmax(scores[rows] + trial, axis=1)])
                    if score > best + 1e-9:
                        best, offsets = score, trial
        return offsets

    predicted = np.empty(len(truth), dtype=object)
    for fit_rows, held_rows in StratifiedKFold(n_splits=5, shuffle=True, random_state=1).split(scores, truth):
        predicted[held_rows] = classes[np.argmax(scores[held_rows] + fit(fit_rows), axis=1)]
    return department_macro_f1(truth, predicted)


def main() -> None:
    known = [*VARIANTS, "prior-offsets"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", metavar="VARIANT", help=f"any of {', '.join(known)}")
    add_without_written_option(parser)
    args = parser.parse_args()
    names = args.variants or known
    if unknown := sorted(set(names) - set(known)):
        parser.error(f"unknown variant {', '.join(unknown)}: use any of {', '.join(known)}")
    examples = read_examples(DATA / "train.jsonl")
    left_out = written_ids(examples, args.without_written)
    examples = [e for e in examples if e.id not in left_out]
    runs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for name in names:
        # prior-offsets re-decides the default's own scores, so it shares that run.
        fitted = "default" if name == "prior-offsets" else name
        if fitted not in runs:
            runs[fitted] = test_like_scores(examples, VARIANTS[fitted])
        truth, scores, classes = runs[fitted]
        if name == "prior-offsets":
            figure = prior_offsets(truth, scores, classes)
        else:
            figure = department_macro_f1(truth, classes[np.argmax(scores, axis=1)])
        print(f"{name:<16} macro-F1 (departments) {figure:.4f}", flush=True)


if __name__ == "__main__":
    main()
