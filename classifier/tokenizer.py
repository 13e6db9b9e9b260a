"""Jieba word segmentation as a picklable callable for scikit-learn pipelines."""

from __future__ import annotations

import logging
import os
import threading
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


def _is_noise(token: str) -> bool:
    # Punctuation, spaces and symbols carry no routing signal; emoji do
    # (😡 vs 👍), so only drop tokens with no letter, digit or emoji in them.
    return not any(ch.isalnum() or (ord(ch) >= 0x2600 and not _is_cjk_punct(ch)) for ch in token)


def _is_cjk_punct(ch: str) -> bool:
    return 0x3000 <= ord(ch) <= 0x303F or 0xFF00 <= ord(ch) <= 0xFF0F or 0xFF1A <= ord(ch) <= 0xFF20


class JiebaTokenizer:
    """Split text into lower-cased jieba words, dropping punctuation and spaces."""

    def __call__(self, text: str) -> list[str]:
        initialise()
        return [token.lower() for token in jieba.lcut(text[:MAX_CHARS], HMM=True) if not _is_noise(token)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JiebaTokenizer)

    def __hash__(self) -> int:
        return hash(JiebaTokenizer)
