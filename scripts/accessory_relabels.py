"""Re-read training messages about missing accessories under the guide's accessory decision.

    python scripts/accessory_relabels.py candidates  # write accessories/candidates.tsv to read
    python scripts/accessory_relabels.py settle      # after reading: write accessories/relabels.tsv

The first annotators split "a standard accessory is not in the box" (没有耳机,
连个膜都没有, 没有说明书) between sales, product and service, because the guide did
not settle it. `LABELING.md` now does (its last three decisions). The pattern
below only finds training messages to read again: any that name a missing
earphone, film, manual, charger and so on. Each was read whole against the
guide (`accessories/labels.tsv`: n, primary, secondary, kind, and whether a
missing accessory is one of its issues). Every message the reader marked as
about an accessory takes the new reading; the rest keep their labels.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifier.dataset import read_examples  # noqa: E402

DATA = ROOT / "training_data"
FOLDER = DATA / "accessories"
# "without / lacking / not even ... <accessory>" within a short stretch of one clause.
MISSING_ACCESSORY = re.compile(
    r"(没有|没|无|少了?|缺了?|不送|不配|不带|连个|连)[^，。！,.!？?]{0,5}"
    r"(耳机|说明书|充电器|充电头|数据线|贴膜|保护膜|膜|光盘|驱动盘|鼠标|电脑包|包包|保修卡|合格证|配件|附件|遥控器|电源线|电池)"
)


def write_candidates() -> None:
    examples = [e for e in read_examples(DATA / "train.jsonl") if MISSING_ACCESSORY.search(e.text)]
    with (FOLDER / "candidates.tsv").open("w", encoding="utf-8") as handle:
        for number, example in enumerate(examples):
            handle.write(f"{number}\t{example.id}\t{example.text}\n")
    print(f"{len(examples)} candidates written to {FOLDER / 'candidates.tsv'}")


def settle() -> None:
    candidates = [
        line.rstrip("\n").split("\t", 2) for line in (FOLDER / "candidates.tsv").open(encoding="utf-8")
    ]
    readings = [line.rstrip("\n").split("\t") for line in (FOLDER / "labels.tsv").open(encoding="utf-8")]
    if [c[0] for c in candidates] != [r[0] for r in readings]:
        raise SystemExit("labels.tsv does not line up with candidates.tsv")
    kept = 0
    with (FOLDER / "relabels.tsv").open("w", encoding="utf-8") as handle:
        handle.write("source_id\tprimary\tsecondary\tkind\n")
        for (_, source_id, _), (_, primary, secondary, kind, accessory) in zip(
            candidates, readings, strict=True
        ):
            if accessory == "yes":
                handle.write(f"{source_id}\t{primary}\t{secondary}\t{kind}\n")
                kept += 1
    print(f"{kept} of {len(candidates)} read as about a missing accessory: written to relabels.tsv")


if __name__ == "__main__":
    {"candidates": write_candidates, "settle": settle}[sys.argv[1]]()
