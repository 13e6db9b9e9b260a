"""Settle the labels of re-read training messages by majority of three readings.

    python scripts/settle_relabels.py third    # after the second reading: who needs a third
    python scripts/settle_relabels.py settle   # after the third: write cleaning/relabels.tsv

`training_data/cleaning/` holds the messages chosen for a second reading
(`selection.tsv`, with why: `flagged` or `control`), the blind second reading
(`read_N.tsv` / `read_N_labels.tsv`) and, for every message where it differs from
the label on file, a blind third reading (`third_N.tsv` / `third_N_labels.tsv`).
A primary label two of the three readings share wins; with no majority the label
on file stays. Only primary labels are voted on; a changed message takes its
secondary departments and kind from a reading that gave the winning primary.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from build_dataset import read_sources  # noqa: E402

CLEANING = ROOT / "training_data" / "cleaning"
THIRD_BATCHES = 2

Reading = tuple[str, str, str]  # primary, secondary, kind


def readings(prefix: str) -> dict[str, tuple[str, Reading]]:
    """source id -> (text, (primary, secondary, kind)) from every `prefix_N.tsv` with its labels."""
    found: dict[str, tuple[str, Reading]] = {}
    for texts in sorted(CLEANING.glob(f"{prefix}_[0-9].tsv")):
        labels = texts.with_name(texts.stem + "_labels.tsv")
        rows = [line.rstrip("\n").split("\t", 2) for line in texts.open(encoding="utf-8")]
        marks = [line.rstrip("\n").split("\t") for line in labels.open(encoding="utf-8")]
        if [r[0] for r in rows] != [m[0] for m in marks]:
            raise SystemExit(f"{labels.name} does not line up with {texts.name}")
        for (_, source_id, text), (_, primary, secondary, kind) in zip(rows, marks, strict=True):
            found[source_id] = (text, (primary, secondary, kind))
    return found


def on_file() -> dict[str, Reading]:
    """The first reading of every message: `train.jsonl` already carries the settled labels."""
    return {
        e.id: (e.primary, ",".join(e.secondary) or "-", e.kind)
        for examples in read_sources().values()
        for e in examples
    }


def prepare_third() -> None:
    labels, second = on_file(), readings("read")
    differ = [(sid, text) for sid, (text, reading) in second.items() if reading[0] != labels[sid][0]]
    size = -(-len(differ) // THIRD_BATCHES)
    for number in range(THIRD_BATCHES):
        with (CLEANING / f"third_{number}.tsv").open("w", encoding="utf-8") as handle:
            for n, (source_id, text) in enumerate(differ[number * size : (number + 1) * size]):
                handle.write(f"{n}\t{source_id}\t{text}\n")
    print(f"{len(differ)} of {len(second)} second readings differ from the label on file")


def settle() -> None:
    labels, second, third = on_file(), readings("read"), readings("third")
    why = dict(line.rstrip("\n").split("\t") for line in list((CLEANING / "selection.tsv").open())[1:])
    changed: list[tuple[str, Reading]] = []
    outcome: Counter[tuple[str, str]] = Counter()
    for source_id, (_, again) in second.items():
        first = labels[source_id]
        if again[0] == first[0]:
            outcome[(why[source_id], "second reading agrees")] += 1
            continue
        last = third[source_id][1]
        votes = Counter([first[0], again[0], last[0]])
        winner, count = votes.most_common(1)[0]
        if count < 2 or winner == first[0]:
            outcome[(why[source_id], "kept after third reading")] += 1
            continue
        outcome[(why[source_id], "changed")] += 1
        changed.append((source_id, last if last[0] == winner else again))
    with (CLEANING / "relabels.tsv").open("w", encoding="utf-8") as handle:
        handle.write("source_id\tprimary\tsecondary\tkind\n")
        for source_id, (primary, secondary, kind) in sorted(changed):
            handle.write(f"{source_id}\t{primary}\t{secondary}\t{kind}\n")
    for (group, result), count in sorted(outcome.items()):
        print(f"{group:8} {result:28} {count}")
    print(f"{len(changed)} labels changed -> {CLEANING / 'relabels.tsv'}")


if __name__ == "__main__":
    {"third": prepare_third, "settle": settle}[sys.argv[1]]()
