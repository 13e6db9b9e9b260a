"""Pick unlabeled reviews for people to label, balanced towards rare queues.

Keywords only *find* candidates (the guide allows it so that `sales` is not
starved); every label is given later by reading the text.
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
OUT = Path(__file__).resolve().parents[1] / "training_data" / "batches"
# Labeled batches kept out of training (training_data/reserve/README.md): read, so never picked again.
RESERVE = OUT.parent / "reserve"

SALES_HINTS = re.compile(
    "价|贵|便宜|优惠|券|活动|降价|差价|发票|赠|送的|正品|假货|会员|积分|扣款|满减|宣传|描述|不符|"
    "返现|促销|划算|性价比|值|钱|收费|打折|折扣|秒杀|团购|抢购|图片|实物|货不对|翻新|水货|行货"
)
# "good, but...": where praise turns to the one gripe rule 9 sends to a department.
TURN_HINTS = re.compile("但|就是|不过|可惜|美中不足|只是|缺点|唯一|稍微|有点|希望|建议|如果")
# Words that often carry a drawback (slow, pricey, small, cold, so-so, broken...), for the
# praise that remains once the turns are read.
DRAWBACK_HINTS = re.compile(
    "慢|贵|小|少|凉|差|一般|还行|还可以|凑合|失望|不够|不太|不是很|偏|略|瑕疵|问题|毛病|退|换|等了|迟|晚|坏|破|漏|错"
)
SERVICE_HINTS = re.compile(
    "快递|物流|送|客服|退|换货|售后|安装|态度|骑手|小哥|配送|等了|慢|包装|漏|少了|错|发货|师傅|电话"
)


def normalise(text: str) -> str:
    return re.sub(r"[^\w]", "", text).lower()


def already_picked() -> set[str]:
    """Source ids already sent to labelers in earlier rounds."""
    ids: set[str] = set()
    for batch in [*OUT.glob("batch_*.tsv"), *RESERVE.glob("batch_*.tsv")]:
        ids.update(line.split("\t")[1] for line in batch.open(encoding="utf-8"))
    return ids


def main(per_batch: int, n_batches: int, first: int = 0, seed: int = 7, only: str | None = None) -> None:
    rng = random.Random(seed + first)
    seen: set[str] = set()
    earlier = already_picked()
    for line in (DATASETS / "labeled_seed_1500.jsonl").open(encoding="utf-8"):
        seen.add(normalise(json.loads(line)["text"]))
    rows: list[dict[str, str]] = []
    for name in ("waimai_10k.csv", "online_shopping_9_cats.csv"):
        with (DATASETS / name).open(encoding="utf-8") as handle:
            rows.extend(csv.DictReader(handle))
    seed_ids = {json.loads(line)["id"] for line in (DATASETS / "labeled_seed_1500.jsonl").open()}
    pool = []
    for row in rows:
        text = row["review"].strip()
        key = normalise(text)
        if row["id"] in seed_ids or row["id"] in earlier or key in seen or not (6 <= len(text) <= 220):
            continue
        seen.add(key)
        pool.append(row)
    rng.shuffle(pool)
    neg = [r for r in pool if r["label"] == "0"]
    pos = [r for r in pool if r["label"] == "1"]
    total = per_batch * n_batches
    picked: list[dict[str, str]] = []
    taken: set[str] = set()

    def take(source: list[dict[str, str]], count: int, pattern: re.Pattern[str] | None) -> None:
        got = 0
        for row in source:
            if got >= count:
                return
            if row["id"] in taken or (pattern and not pattern.search(row["review"])):
                continue
            taken.add(row["id"])
            picked.append(row)
            got += 1

    if only == "negative":
        # Once the keyword pools ran dry: the corpora's own "negative review" flag finds
        # texts that usually need someone to act; the label still comes from reading.
        take(neg, total, None)
    elif only == "positive":
        # Then the praise: mostly `none`, but "都挺好，就是有点贵" is a department's (rule 9).
        take(pos, total, None)
    elif only == "positive-turns":
        # The praise that turns ("就是有点贵", "不过送得慢"): positive reviews with a gripe,
        # which are where the random praise batches found their departments.
        take(pos, total, TURN_HINTS)
    elif only == "positive-drawbacks":
        take(pos, total, DRAWBACK_HINTS)
    else:
        take(neg + pos, int(total * 0.34), SALES_HINTS)  # sales is rarest: look for it
        take(neg, int(total * 0.22), SERVICE_HINTS)
        take(neg, int(total * 0.26), None)
        take(pos, total - len(picked), None)  # praise and suggestions -> none
    rng.shuffle(picked)
    OUT.mkdir(parents=True, exist_ok=True)
    for b in range(first, first + n_batches):
        chunk = picked[(b - first) * per_batch : (b - first + 1) * per_batch]
        with (OUT / f"batch_{b:02d}.tsv").open("w", encoding="utf-8") as handle:
            for i, row in enumerate(chunk):
                text = " ".join(row["review"].split())
                handle.write(f"{i}\t{row['id']}\t{text}\n")
    print(f"{len(picked)} candidates in {n_batches} batches; pool {len(pool)}")


if __name__ == "__main__":
    flags = {
        "--negative-only": "negative",
        "--positive-only": "positive",
        "--positive-turns": "positive-turns",
        "--positive-drawbacks": "positive-drawbacks",
    }
    args = [arg for arg in sys.argv[1:] if arg not in flags]
    only = next((flags[arg] for arg in sys.argv[1:] if arg in flags), None)
    main(int(args[0]), int(args[1]), int(args[2]) if len(args) > 2 else 0, only=only)
