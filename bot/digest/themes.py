"""Main topics of a period's feedback: jieba words weighted by jieba's IDF table."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import jieba

from bot.digest.masking import mask_contacts, remove_contacts
from bot.digest.stopwords import STOPWORDS
from classifier.tokenizer import initialise

# jieba's TF-IDF table (the one jieba.analyse.extract_tags uses). It is read directly:
# importing jieba.analyse also loads its part-of-speech tagger for TextRank, which
# costs about 130 MB and two seconds that a digest does not need.
IDF_FILE = Path(jieba.__file__).parent / "analyse" / "idf.txt"
# What jieba gives words missing from that table: its median value, computed as jieba
# does (sorted(values)[n // 2]). Fixed here to spare every digest a pass over the whole
# table; tests/test_digest_themes.py checks it against the installed jieba.
MEDIAN_IDF = 11.9547675029
# A theme is something several customers said; one message is an anecdote.
MIN_THEME_COUNT = 2
# Themes are picked from this many best-scoring words, after dropping near-duplicates.
CANDIDATES = 60
# A word whose messages mostly also contain an already chosen word says the same thing
# ("退货" next to "退款"); showing both would waste a line of the digest.
OVERLAP = 0.8
QUOTES_PER_THEME = 2
QUOTE_CHARS = 60
# Quotes around this length read well in a phone notification and still say something.
IDEAL_QUOTE_CHARS = 30

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-z][a-z'-]{2,}")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Theme:
    """A topic: its keyword, how many messages mention it now and before, sample quotes."""

    keyword: str
    count: int
    previous: int
    quotes: tuple[str, ...]


def words_of(text: str) -> set[str]:
    """The distinct topic-bearing words of a message (no stopwords, numbers or contacts)."""
    initialise()
    # Without HMM jieba keeps to dictionary words: twice as fast, and the words it
    # would guess ("没到") make poor topic names anyway.
    return {
        word
        for word in jieba.lcut(remove_contacts(text).lower(), HMM=False)
        if _is_topic_word(word)
    }


def _is_topic_word(word: str) -> bool:
    if word in STOPWORDS:
        return False
    if _CJK.search(word):
        # Single characters (差, 慢) are too ambiguous to name a topic on their own.
        return len(word) >= 2
    return bool(_LATIN_WORD.fullmatch(word))


def mentions(keyword: str, lowered_text: str) -> bool:
    """Whether a lower-cased message mentions the keyword (whole words for Latin script)."""
    if _CJK.search(keyword):
        return keyword in lowered_text
    return re.search(rf"\b{re.escape(keyword)}\b", lowered_text) is not None


def extract_themes(
    texts: Sequence[str],
    previous_texts: Sequence[str],
    *,
    language: str,
    top: int = 5,
    scale: float = 1.0,
    previous_scale: float = 1.0,
) -> list[Theme]:
    """The `top` themes of `texts` (newest first), compared with `previous_texts`.

    Words are ranked by the number of messages using them times their IDF, so a word
    many customers use, and that is rare in general Chinese, ranks first. A theme's
    count is the number of messages mentioning its keyword, counted the same way in
    both periods so the trend compares like with like. `scale` turns counts in a
    sample back into estimates for the whole period.
    """
    frequency = Counter(word for text in texts for word in words_of(text))
    frequent = {word: n for word, n in frequency.items() if n >= MIN_THEME_COUNT}
    if not frequent:
        return []
    idf = idf_weights(frequent)
    ranked = sorted(frequent, key=lambda w: (-frequent[w] * idf[w], -frequent[w], w))
    lowered = [remove_contacts(text).lower() for text in texts]
    chosen: list[tuple[str, set[int]]] = []
    for word in ranked[:CANDIDATES]:
        where = {i for i, text in enumerate(lowered) if mentions(word, text)}
        if any(len(where & other) >= OVERLAP * len(where) for _, other in chosen):
            continue
        chosen.append((word, where))
        if len(chosen) == top:
            break
    previous_lowered = [remove_contacts(text).lower() for text in previous_texts]
    return [
        Theme(
            keyword=word,
            count=round(len(where) * scale),
            previous=round(sum(mentions(word, t) for t in previous_lowered) * previous_scale),
            quotes=pick_quotes([texts[i] for i in sorted(where)], language),
        )
        for word, where in chosen
    ]


def pick_quotes(texts: Sequence[str], language: str) -> tuple[str, ...]:
    """Up to two short, distinct, masked quotes, preferring messages of a readable length."""
    seen: set[str] = set()
    candidates = []
    for text in texts:
        quote = shorten(mask_contacts(text, language))
        if quote and quote not in seen:
            seen.add(quote)
            candidates.append(quote)
    candidates.sort(key=lambda q: abs(len(q) - IDEAL_QUOTE_CHARS))
    return tuple(candidates[:QUOTES_PER_THEME])


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """Collapse whitespace and cut to `limit` characters with an ellipsis."""
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def idf_weights(words: Iterable[str]) -> dict[str, float]:
    """jieba's IDF for each word; words jieba does not know get its median IDF, as in jieba."""
    wanted = set(words)
    initials = {word[0] for word in wanted if word}
    found: dict[str, float] = {}
    # Streamed rather than kept: the table as a dict would hold ~40 MB for the life of
    # the bot, and reading it whole at once briefly takes more; a scan takes ~0.2 s.
    with IDF_FILE.open(encoding="utf-8") as lines:
        for line in lines:
            if line[:1] in initials:
                word, _, value = line.partition(" ")
                if word in wanted:
                    found[word] = float(value)
    return {word: found.get(word, MEDIAN_IDF) for word in wanted}
