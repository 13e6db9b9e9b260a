"""How strongly a complaint signals trouble: escalation words, anger and exclamation marks."""

from __future__ import annotations

import re
from collections.abc import Sequence

from storage.digest_queries import ItemText

# The classifier says whether a message is a complaint, not how serious it is. These
# are what escalations look like in practice: threats to go to a regulator or a
# lawyer, accusations of fraud, refusals to come back. Weights are rough on purpose;
# they only order the few complaints a lead should read first.
SIGNAL_WEIGHTS: dict[str, int] = {
    "12315": 5, "消协": 5, "工商": 4, "起诉": 5, "律师": 4, "报警": 5, "曝光": 4, "媒体": 3,
    "诈骗": 5, "骗子": 4, "欺骗": 4, "骗人": 4, "假货": 4, "投诉": 3, "赔偿": 3, "退款": 1,
    "差评": 2, "垃圾": 3, "最差": 3, "恶心": 3, "再也不": 3, "愤怒": 3, "气死": 3, "无语": 2,
    "坑人": 3, "黑心": 3, "太差": 2, "失望": 2, "😡": 2, "🤬": 3, "😠": 2,
    "lawyer": 4, "sue": 4, "scam": 4, "fraud": 5, "police": 4, "never again": 3,
    "worst": 3, "terrible": 2, "awful": 2, "disgusting": 3, "furious": 3, "angry": 2,
    "unacceptable": 3, "refund": 1, "complaint": 2, "disappointed": 2,
}  # fmt: skip
# Exclamation marks add up to this much: "!!!!!!!!" is anger, not eight times the anger.
MAX_EXCLAMATION_SCORE = 3


def _pattern(word: str) -> re.Pattern[str]:
    # Latin words match whole words only ("sue" is not in "issue"), numbers whole numbers;
    # Chinese has no spaces, so its words match anywhere.
    if re.fullmatch(r"[a-z ]+", word):
        return re.compile(rf"\b{re.escape(word)}\b")
    if word.isdigit():
        return re.compile(rf"(?<!\d){word}(?!\d)")
    return re.compile(re.escape(word))


_PATTERNS = [(_pattern(word), weight) for word, weight in SIGNAL_WEIGHTS.items()]
# Below this a complaint is an ordinary one and not singled out.
MIN_SIGNAL = 3


def signal_strength(text: str) -> int:
    """A rough score of how urgent a complaint sounds (0 for a calm one)."""
    lowered = text.lower()
    words = sum(weight for pattern, weight in _PATTERNS if pattern.search(lowered))
    exclamations = lowered.count("!") + lowered.count("！")
    return words + min(exclamations, MAX_EXCLAMATION_SCORE)


def strongest_complaints(items: Sequence[ItemText], limit: int = 3) -> list[ItemText]:
    """The complaints with the strongest signals, strongest (then newest) first."""
    scored = [
        (signal_strength(item.text), item)
        for item in items
        if item.kind == "complaint"
    ]
    strong = [pair for pair in scored if pair[0] >= MIN_SIGNAL]
    strong.sort(key=lambda pair: (-pair[0], -pair[1].created_at.timestamp(), -pair[1].id))
    return [item for _, item in strong[:limit]]
