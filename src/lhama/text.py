"""Portuguese text normalization and answer matching, shared by the corpus coverage check, retrieval (BM25 tokens,
answers found in passages) and scoring."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

PORTUGUESE_ARTICLES = frozenset({"o", "a", "os", "as", "um", "uma", "uns", "umas"})
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)

Answers = Sequence[str | Sequence[str]]


def fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(character for character in decomposed if not unicodedata.combining(character))


def fold_lower(text: str) -> str:
    """Lower case (casefold) with accents folded: "Não" -> "nao"."""
    return fold_accents(unicodedata.normalize("NFC", text).casefold())


def normalize_pt(text: str, *, accents: bool = True) -> str:
    """Case, punctuation and the articles o/a/os/as/um/uma/uns/umas away; accents folded unless `accents=False`."""
    text = unicodedata.normalize("NFC", text).casefold()
    if accents:
        text = fold_accents(text)
    tokens = [token for token in _NON_WORD.sub(" ", text).replace("_", " ").split() if token not in PORTUGUESE_ARTICLES]
    return " ".join(tokens)


def tokens(text: str) -> list[str]:
    """Normalized words (BM25 terms)."""
    return normalize_pt(text).split()


def contains_answer(normalized_text: str, answer: str, *, accents: bool = True) -> bool:
    """`answer` occurs as whole words in an already normalized text."""
    needle = normalize_pt(answer, accents=accents)
    return bool(needle) and f" {needle} " in f" {normalized_text} "


def matches_normalized(answers: Answers, normalized_text: str, *, accents: bool = True) -> bool:
    """`answers_match` on a text normalized once (for checking many question sets against one article)."""
    for answer in answers:
        if isinstance(answer, str):
            if contains_answer(normalized_text, answer, accents=accents):
                return True
        elif answer and all(contains_answer(normalized_text, part, accents=accents) for part in answer):
            return True
    return False


def answers_match(answers: Answers, text: str, *, accents: bool = True) -> bool:
    """True if any answer occurs in `text` as whole words; an answer that is a list needs all its strings."""
    return matches_normalized(answers, normalize_pt(text, accents=accents), accents=accents)
