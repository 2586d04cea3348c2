"""The scores of one generated answer against its question: correct (a reference answer occurs, after Portuguese
normalization), exact match and token F1 against the short answers, ROUGE-L and chrF against the reference,
language, refusal and length."""

from __future__ import annotations

import functools
import re
import unicodedata

from lhama.copying import is_copied, is_empty
from lhama.prompts import NOT_FOUND_PT
from lhama.text import Answers, answers_match, fold_lower, normalize_pt

LANGUAGES = ("pt", "en", "es", "fr", "it", "de")
MIN_LANGUAGE_WORDS = 2
SCORE_KEYS = ("correct", "own_words_correct", "copied", "empty", "em", "f1", "rouge_l", "chrf", "language", "portuguese",
              "refusal", "length_words")

# Matched against the answer lower-cased with accents folded (`fold_accents`), so "não" is written "nao" here.
_REFUSAL_PATTERNS = (
    r"\bnao (sei|tenho certeza|tenho (essa |esta |a )?informac|tenho acesso|tenho dados)",
    r"\bnao (posso|consigo|e possivel|foi possivel|sou capaz de) (responder|determinar|afirmar|encontrar|fornecer|"
    r"dizer|ajudar|identificar)",
    r"\bnao (ha|existe|encontrei|encontramos|foram encontrad\w*|foi encontrad\w*) (nenhuma? )?"
    r"(informac|dados|resposta|referencia|mencao)",
    r"\b(trechos|passagens|textos|documentos|contexto)( fornecidos| dados| acima)? nao (contem|mencionam|trazem|"
    r"apresentam|informam|dizem|incluem)",
    r"\b(informac\w*|resposta) nao (esta|estao|foi|foram|e) (disponive|fornecid|encontrad|mencionad|presente)",
    r"\b(desculpe|sinto muito|lamento|infelizmente)\b",
    r"\bcomo (um )?(modelo de linguagem|assistente virtual|ia)\b",
    r"\bi (do not|don't|dont|cannot|can't|cant|am unable to|am not able to) (know|answer|provide|find|determine|"
    r"help|say)",
    r"\b(i'm|i am) (sorry|not sure|afraid)\b",
    r"\bas an ai\b",
    r"\b(passages|context|texts?|documents?)( provided| given)? (do|does) not (contain|mention|include|say)",
    r"\bno (relevant )?information (is )?(available|provided|found|about)",
    r"\b(not|isn't|is not) (mentioned|provided|available|found) in\b",
)
_NOT_FOUND = re.compile(re.escape(NOT_FOUND_PT), re.I)
_REFUSAL = re.compile("|".join(f"(?:{pattern})" for pattern in _REFUSAL_PATTERNS))
_ROUGE_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_LETTER_WORD = re.compile(r"[^\W\d_]+|[.!?;:]", re.UNICODE)


def answer_candidates(answers: Answers) -> list[str]:
    """The short answers EM and F1 compare with: each string, and each all-of list joined by spaces."""
    return [answer if isinstance(answer, str) else " ".join(answer) for answer in answers if answer]


def exact_match(answers: Answers, text: str) -> bool | None:
    """The normalized answer equals a normalized short answer; None without short answers."""
    candidates = answer_candidates(answers)
    if not candidates:
        return None
    normalized = normalize_pt(text)
    return any(normalized == normalize_pt(candidate) for candidate in candidates)


def token_f1(prediction: str, truth: str) -> float:
    """SQuAD-style token F1 on `normalize_pt` tokens (multiset overlap)."""
    from collections import Counter

    predicted, expected = normalize_pt(prediction).split(), normalize_pt(truth).split()
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def best_f1(answers: Answers, text: str) -> float | None:
    """Token F1 against the best-matching short answer; None without short answers."""
    candidates = answer_candidates(answers)
    return max(token_f1(text, candidate) for candidate in candidates) if candidates else None


class PortugueseTokenizer:
    """ROUGE tokens that keep accents: rouge-score's default tokenizer drops every non-ASCII letter, which turns
    "são" into "s" and "o"."""

    def tokenize(self, text: str) -> list[str]:
        return _ROUGE_TOKEN.findall(unicodedata.normalize("NFC", text).casefold())


@functools.lru_cache(maxsize=1)
def _rouge_scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False, tokenizer=PortugueseTokenizer())


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure (0-1), case-insensitive, accents kept."""
    return float(_rouge_scorer().score(reference, prediction)["rougeL"].fmeasure)


@functools.lru_cache(maxsize=1)
def _chrf():
    from sacrebleu.metrics import CHRF

    return CHRF()


def chrf(prediction: str, reference: str) -> float:
    """Sentence chrF (sacrebleu defaults: character 6-grams, beta 2), 0-100."""
    return float(_chrf().sentence_score(prediction, [reference]).score)


@functools.lru_cache(maxsize=1)
def _language_identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))  # Galician and the like would otherwise take short Portuguese text
    return identifier


def _common_words(text: str) -> list[str]:
    """Words without the capitalized ones inside a sentence: names (Brasília, Pedro) look alike in every language
    and would otherwise outvote a short English sentence's function words."""
    words, sentence_start = [], True
    for match in _LETTER_WORD.finditer(text):
        word = match.group()
        if word in ".!?;:":
            sentence_start = True
            continue
        if sentence_start or not word[0].isupper():
            words.append(word)
        sentence_start = False
    return words


def detect_language(text: str) -> str:
    """ISO 639-1 code among LANGUAGES (py3langid, restricted), or "und" for text with fewer than two words."""
    words = _LETTER_WORD.findall(text)
    words = [word for word in words if word not in ".!?;:"]
    if len(words) < MIN_LANGUAGE_WORDS:
        return "und"
    common = _common_words(text)
    sample = " ".join(common) if len(common) >= 3 else text
    return str(_language_identifier().classify(sample)[0])


def is_refusal(text: str) -> bool:
    """A refusal or "not found" answer in Portuguese or English (the RAG prompt's NOT_FOUND_PT sentence included)."""
    folded = fold_lower(text)
    return bool(_REFUSAL.search(folded)) or normalize_pt(NOT_FOUND_PT) in normalize_pt(text)


def score_answer(answer: str, answers: Answers, reference: str | None, prompt: str = "") -> dict:
    """The per-answer scores (SCORE_KEYS). em/f1 are None without short answers, rouge_l/chrf without a
    reference, portuguese when the language is undetermined ("und": fewer than two words). `copied` (see
    lhama.copying) compares the answer with the prompt it was given; `own_words_correct` is correct and not copied.
    The RAG prompt's refusal sentence (NOT_FOUND_PT) is left out of the copy check: the prompt spells it out, so
    saying it verbatim is what was asked, and `refusal` counts it (a RAFT adapter that refuses every question would
    otherwise show a copy rate of 100%)."""
    language = detect_language(answer)
    has_reference = bool(reference and reference.strip())
    correct = answers_match(answers, answer) if answers else None
    copied = is_copied(_NOT_FOUND.sub(" ", answer), prompt)
    return {
        "correct": correct,
        "own_words_correct": None if correct is None else correct and not copied,
        "copied": copied,
        "empty": is_empty(answer),
        "em": exact_match(answers, answer),
        "f1": best_f1(answers, answer),
        "rouge_l": rouge_l(answer, reference) if has_reference else None,
        "chrf": chrf(answer, reference) if has_reference else None,
        "language": language,
        "portuguese": None if language == "und" else language == "pt",
        "refusal": is_refusal(answer),
        "length_words": len(answer.split()),
    }
