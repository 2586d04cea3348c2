"""Is an answer the model's own words, or a copy of its prompt?

A RAG answer that repeats its passages ("[1] Brasília\n[2] Brasília…"), a passage's header ("Brasília — História >
Antecedentes"), or the prompt's own labels ("Resposta:") contains the reference answer without answering: plain
accuracy counts it as correct. These checks mark such answers `copied`, so the report can put the accuracy of the
answers in the model's own words beside plain accuracy. An answer is copied when it

- holds a passage marker at the start of a line (`[2] ...`) or a label of the prompt (`Resposta:`, `Pergunta:`,
  `Trechos`, `### Entrada`),
- has a line that is a passage's header (`Title — Section`; a title alone is a fine answer), or
- is, for the most part (`share` of its words), made of runs of at least `span` words found verbatim in the prompt.

Short answers ("Brasília", "13 de maio de 1888") are the model's own unless the first two rules say otherwise: a
name is not a copy for being in the passages.
"""

from __future__ import annotations

import re

from lhama.text import fold_lower

SPAN_WORDS = 6
COPY_SHARE = 0.8
_MARKER = re.compile(r"^\s*\[\d+\]", re.M)
_LABEL = re.compile(r"\b(resposta|pergunta|trechos|instrucao|entrada)\s*:|###|<\|im_", re.I)
_PASSAGE_HEADER = re.compile(r"^\[\d+\] (.+)$", re.M)
_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    return _WORD.findall(fold_lower(text))


def passage_headers(prompt: str) -> set[str]:
    """The `Title — Section` first line of each numbered passage of a prompt, folded."""
    return {" ".join(words(header)) for header in _PASSAGE_HEADER.findall(prompt) if " — " in header}


def copied_share(answer: str, prompt: str, span: int = SPAN_WORDS) -> float:
    """The share of the answer's words that lie in a run of `span` or more words found verbatim in the prompt."""
    answer_words, prompt_words = words(answer), words(prompt)
    if len(answer_words) < span or len(prompt_words) < span:
        return 0.0
    grams = {tuple(prompt_words[i:i + span]) for i in range(len(prompt_words) - span + 1)}
    covered = [False] * len(answer_words)
    for start in range(len(answer_words) - span + 1):
        if tuple(answer_words[start:start + span]) in grams:
            covered[start:start + span] = [True] * span
    return sum(covered) / len(answer_words)


def is_copied(answer: str, prompt: str, *, span: int = SPAN_WORDS, share: float = COPY_SHARE) -> bool:
    if _MARKER.search(answer) or _LABEL.search(fold_lower(answer)):
        return True
    headers = passage_headers(prompt)
    if any(" ".join(words(line)) in headers for line in answer.splitlines() if words(line)):
        return True
    return copied_share(answer, prompt, span) >= share


def is_empty(answer: str) -> bool:
    """Nothing but labels, passage markers and punctuation: "", "Resposta:", "[1]"."""
    stripped = _LABEL.sub(" ", _MARKER.sub(" ", fold_lower(answer)))
    return not words(stripped)
