"""Answer matching with Portuguese normalization (used for corpus coverage now, for scoring answers later)."""

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


def normalize_pt(text: str, *, accents: bool = True) -> str:
    """Case, punctuation and the articles o/a/os/as/um/uma/uns/umas away; accents folded unless `accents=False`."""
    text = unicodedata.normalize("NFC", text).casefold()
    if accents:
        text = fold_accents(text)
    tokens = [token for token in _NON_WORD.sub(" ", text).replace("_", " ").split() if token not in PORTUGUESE_ARTICLES]
    return " ".join(tokens)


def _contains(normalized_text: str, answer: str, accents: bool) -> bool:
    needle = normalize_pt(answer, accents=accents)
    return bool(needle) and f" {needle} " in f" {normalized_text} "


def answers_match(answers: Answers, text: str, *, accents: bool = True) -> bool:
    """True if any answer occurs in `text` as whole words; an answer that is a list needs all its strings."""
    normalized = normalize_pt(text, accents=accents)
    for answer in answers:
        if isinstance(answer, str):
            if _contains(normalized, answer, accents):
                return True
        elif answer and all(_contains(normalized, part, accents) for part in answer):
            return True
    return False


def question_coverage(questions, articles_dir) -> dict:
    """For each question: is its answer in the text or infobox of its `source` article, and in how many articles.

    This says whether the corpus can answer a question set at all, before any model is involved.
    """
    from lhama.corpus import iter_articles

    by_question = {question.id: {"id": question.id, "source": question.source, "source_found": False,
                                 "answer_in_source": False, "articles_with_answer": 0} for question in questions}
    for article in iter_articles(articles_dir):
        infobox = article.get("infobox") or {}
        haystack = normalize_pt(" ".join([article["title"], article["text"], *infobox.get("fields", {}).values()]))
        for question in questions:
            row = by_question[question.id]
            found = any(
                (f" {normalize_pt(a)} " in f" {haystack} ") if isinstance(a, str)
                else a and all(f" {normalize_pt(p)} " in f" {haystack} " for p in a)
                for a in question.answers
            )
            row["articles_with_answer"] += int(found)
            if question.source is not None and question.source == article["title"]:
                row["source_found"] = True
                row["answer_in_source"] = found
    rows = list(by_question.values())
    return {
        "rows": rows,
        "with_source": sum(row["source"] is not None for row in rows),
        "source_found": sum(row["source_found"] for row in rows),
        "answer_in_source": sum(row["answer_in_source"] for row in rows),
        "answer_in_corpus": sum(row["articles_with_answer"] > 0 for row in rows),
    }
