"""Jieba word segmentation as a picklable callable for scikit-learn pipelines."""

from __future__ import annotations

import functools
import logging
import os
import threading
import unicodedata
from pathlib import Path

import jieba

USER_DICTIONARY = Path(__file__).with_name("userdict.txt")
# Feedback is at most a few thousand characters; longer input is cut here so
# a pasted novel cannot stall the event loop (Telegram itself caps at 4,096).
MAX_CHARS = 4096

_init_lock = threading.Lock()
_initialised = False


def initialise() -> None:
    """Load jieba's dictionary and our domain words once per process."""
    global _initialised
    if _initialised:
        return
    with _init_lock:
        if _initialised:
            return
        jieba.setLogLevel(logging.WARNING)
        cache_dir = os.environ.get("FEEDBOT_JIEBA_CACHE")
        if cache_dir:
            jieba.dt.tmp_dir = cache_dir
        jieba.initialize()
        jieba.load_userdict(str(USER_DICTIONARY))
        _initialised = True


# Unicode categories that carry no routing signal: punctuation (P*), spaces
# (Z*), control characters, maths/modifier symbols (～, ｜, ^) and lone marks
# (the U+FE0F after ❤ when jieba splits it off). Emoji and
# other symbols (So: 😡 vs 👍, ★) and currency (Sc: ¥) are kept.
_NOISE_CATEGORIES = ("P", "Z", "Cc", "Sm", "Sk", "M")


# Cached: the same few thousand tokens recur in every message, and checking each
# character's category cost half as much again as segmenting the text.
@functools.lru_cache(maxsize=1 << 16)
def _is_noise(token: str) -> bool:
    return all(ch.isspace() or unicodedata.category(ch).startswith(_NOISE_CATEGORIES) for ch in token)


class JiebaTokenizer:
    """Split text into lower-cased jieba words, dropping punctuation and spaces."""

    def __call__(self, text: str) -> list[str]:
        initialise()
        return [token.lower() for token in jieba.lcut(text[:MAX_CHARS], HMM=True) if not _is_noise(token)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JiebaTokenizer)

    def __hash__(self) -> int:
        return hash(JiebaTokenizer)
