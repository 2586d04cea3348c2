"""Answer matching with Portuguese normalization (corpus coverage), and the scoring of generated answers: per-answer
scores (correct, EM, F1, ROUGE-L, chrF, language, refusal, length), per model/variant/question-set metrics with
bootstrap 95% intervals, and paired tests between variants (`lhama evaluate`)."""

from __future__ import annotations

import argparse
import functools
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

from lhama.errors import ConfigError, InputFileError
from lhama.jsonl import numbered_records

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


# ---------------------------------------------------------------------------------------------------- answer scores
#
# Scoring of generated answers (`lhama answer` rows) and their aggregation with uncertainty. Everything below is a
# pure function except `evaluate_files` and the command line, which do the I/O.

NOT_FOUND_PT = "Os trechos fornecidos não contêm a resposta."  # = lhama.rag.NOT_FOUND_PT (a test keeps them equal)
LANGUAGES = ("pt", "en", "es", "fr", "it", "de")
MIN_LANGUAGE_WORDS = 2
ANSWER_VARIANTS = ("base", "tuned", "rag", "tuned_rag")
BOOTSTRAP_METRICS = ("accuracy", "em", "f1", "rouge_l", "chrf", "portuguese_share", "refusal_rate")
METRIC_COLUMNS = (
    "model", "variant", "questions", "n", "n_with_answers", "accuracy", "accuracy_low", "accuracy_high", "em", "em_low", "em_high",
    "f1", "f1_low", "f1_high", "rouge_l", "rouge_l_low", "rouge_l_high", "chrf", "chrf_low", "chrf_high",
    "portuguese_share", "portuguese_share_low", "portuguese_share_high", "refusal_rate", "refusal_rate_low",
    "refusal_rate_high", "mean_length", "k", "recall_at_k", "mrr", "perplexity_heldout", "bits_per_byte",
)
COMPARISON_COLUMNS = ("model", "questions", "variant_a", "variant_b", "n", "metric", "a", "b", "diff", "diff_low",
                      "diff_high", "p_value", "test")
SCORE_KEYS = ("correct", "em", "f1", "rouge_l", "chrf", "language", "portuguese", "refusal", "length_words")

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
_REFUSAL = re.compile("|".join(f"(?:{pattern})" for pattern in _REFUSAL_PATTERNS))
_ROUGE_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_LETTER_WORD = re.compile(r"[^\W\d_]+|[.!?;:]", re.UNICODE)


def _fold_lower(text: str) -> str:
    return fold_accents(unicodedata.normalize("NFC", text).casefold())


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
    folded = _fold_lower(text)
    return bool(_REFUSAL.search(folded)) or normalize_pt(NOT_FOUND_PT) in normalize_pt(text)


def score_answer(answer: str, answers: Answers, reference: str | None) -> dict:
    """The per-answer scores (SCORE_KEYS). em/f1 are None without short answers, rouge_l/chrf without a
    reference, portuguese when the language is undetermined ("und": fewer than two words)."""
    language = detect_language(answer)
    has_reference = bool(reference and reference.strip())
    return {
        "correct": answers_match(answers, answer) if answers else None,
        "em": exact_match(answers, answer),
        "f1": best_f1(answers, answer),
        "rouge_l": rouge_l(answer, reference) if has_reference else None,
        "chrf": chrf(answer, reference) if has_reference else None,
        "language": language,
        "portuguese": None if language == "und" else language == "pt",
        "refusal": is_refusal(answer),
        "length_words": len(answer.split()),
    }


# ---------------------------------------------------------------------------------------------------- uncertainty


def _values(values: Sequence[float | bool | None]):
    import numpy as np

    return np.array([np.nan if value is None else float(value) for value in values], dtype=float)


def _nanmean_rows(matrix):
    import numpy as np

    counts = np.sum(~np.isnan(matrix), axis=-1)
    sums = np.nansum(matrix, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def resample_indices(n: int, resamples: int, seed: int):
    """(resamples, n) indices drawn with replacement, seeded: the same draws for every metric of a group."""
    import numpy as np

    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def bootstrap_interval(values: Sequence[float | bool | None], *, resamples: int = 2000, seed: int = 42,
                       confidence: float = 0.95, indices=None) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval of the mean over questions (None values skipped in each resample); (None, None)
    when no value is known."""
    import numpy as np

    array = _values(values)
    if not len(array) or np.all(np.isnan(array)):
        return None, None
    if indices is None:
        indices = resample_indices(len(array), resamples, seed)
    means = _nanmean_rows(array[indices])
    means = means[~np.isnan(means)]
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def mcnemar_exact(a_correct: Sequence[bool], b_correct: Sequence[bool]) -> float:
    """Two-sided exact McNemar p-value: a binomial test of the discordant pairs (1.0 when there are none)."""
    from scipy.stats import binomtest

    only_b = sum(1 for a, b in zip(a_correct, b_correct, strict=True) if b and not a)
    only_a = sum(1 for a, b in zip(a_correct, b_correct, strict=True) if a and not b)
    if only_a + only_b == 0:
        return 1.0
    return float(binomtest(only_b, only_a + only_b, 0.5).pvalue)


def sign_flip_pvalue(differences: Sequence[float], *, resamples: int = 2000, seed: int = 42) -> float:
    """Two-sided paired permutation test of a zero mean difference: the sign of each question's difference is
    flipped at random (exactly enumerated when there are at most 12 nonzero differences)."""
    import itertools

    import numpy as np

    diffs = np.asarray(differences, dtype=float)
    diffs = diffs[diffs != 0]
    if not len(diffs):
        return 1.0
    observed = abs(diffs.mean()) - 1e-12
    if len(diffs) <= 12:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=len(diffs))))
        return float(np.mean(np.abs((signs * diffs).mean(axis=1)) >= observed))
    signs = np.random.default_rng(seed).choice((1.0, -1.0), size=(resamples, len(diffs)))
    extreme = int(np.sum(np.abs((signs * diffs).mean(axis=1)) >= observed))
    return (extreme + 1) / (resamples + 1)


def paired_comparison(a: Sequence[float | bool], b: Sequence[float | bool], *, metric: str, resamples: int = 2000,
                      seed: int = 42) -> dict:
    """b - a on paired per-question values: means, difference, paired-bootstrap 95% CI and p-value (exact McNemar
    for 0/1 correctness, sign-flip permutation otherwise)."""
    import numpy as np

    va, vb = _values(a), _values(b)
    diff = vb - va
    low, high = bootstrap_interval(diff, resamples=resamples, seed=seed)
    if metric == "accuracy":
        p_value, test = mcnemar_exact([bool(x) for x in va], [bool(x) for x in vb]), "exact McNemar"
    else:
        p_value, test = sign_flip_pvalue(diff, resamples=resamples, seed=seed), "paired sign-flip permutation"
    return {"n": int(len(diff)), "metric": metric, "a": float(np.mean(va)), "b": float(np.mean(vb)),
            "diff": float(np.mean(diff)), "diff_low": low, "diff_high": high, "p_value": p_value, "test": test}


# ---------------------------------------------------------------------------------------------------- aggregation


def _mean(values: Sequence[float | bool | None]) -> float | None:
    known = [float(value) for value in values if value is not None]
    return sum(known) / len(known) if known else None


def retrieval_metrics(retrieval: Mapping | None, ids: Sequence[str], k: int | None) -> dict:
    """recall@k and MRR of the gold article over the given question ids, from a RAG-stage retrieval JSON
    (`results/rag/retrieval/<set>.json`); k is capped at the answering run's k. Empty when there is nothing."""
    if not retrieval or not retrieval.get("rows"):
        return {"k": None, "recall_at_k": None, "mrr": None}
    known = [int(value) for value in (retrieval.get("k"), k) if value]
    cap = min(known) if known else None
    wanted = set(ids)
    rows = [row for row in retrieval["rows"] if row.get("id") in wanted and row.get("source")]
    if not rows:
        return {"k": cap, "recall_at_k": None, "mrr": None}
    ranks = [row.get("gold_rank") for row in rows]
    ranks = [rank if rank is not None and (cap is None or rank <= cap) else None for rank in ranks]
    return {"k": cap, "recall_at_k": sum(rank is not None for rank in ranks) / len(ranks),
            "mrr": sum(1 / rank for rank in ranks if rank) / len(ranks)}


def perplexity_metrics(perplexity: Mapping | None, variant: str) -> dict:
    """Held-out perplexity and bits per byte of the model the variant answers with: base for base/rag, the
    adapter's for tuned/tuned_rag (training-stage JSON {"base": {...}, "tuned": {...}})."""
    entry = (perplexity or {}).get("tuned" if variant.startswith("tuned") else "base") or {}
    return {"perplexity_heldout": entry.get("ppl"), "bits_per_byte": entry.get("bits_per_byte")}


def group_key(row: Mapping) -> tuple[str, str, str]:
    return row["model"], row["variant"], row["questions"]


def _variant_order(variant: str) -> tuple[int, str]:
    return (ANSWER_VARIANTS.index(variant) if variant in ANSWER_VARIANTS else len(ANSWER_VARIANTS), variant)


def aggregate(scored: Sequence[Mapping], *, retrieval: Mapping[str, Mapping] | None = None,
              perplexity: Mapping[str, Mapping] | None = None, resamples: int = 2000, seed: int = 42) -> list[dict]:
    """One metrics row per (model, variant, question set), with bootstrap intervals (METRIC_COLUMNS).

    n counts the answers; accuracy, em and f1 are over the n_with_answers questions that have short answers (held-out
    lead/section questions have only a reference), rouge_l and chrf over those with a reference.

    retrieval: question-set name -> retrieval JSON (used for rag variants only); perplexity: model name ->
    training-stage perplexity JSON."""
    groups: dict[tuple[str, str, str], list[Mapping]] = {}
    for row in scored:
        groups.setdefault(group_key(row), []).append(row)
    out = []
    for (model, variant, questions), rows in sorted(groups.items(),
                                                    key=lambda item: (item[0][0], item[0][2], _variant_order(item[0][1]))):
        columns = {
            "accuracy": [row["correct"] for row in rows],
            "em": [row["em"] for row in rows],
            "f1": [row["f1"] for row in rows],
            "rouge_l": [row["rouge_l"] for row in rows],
            "chrf": [row["chrf"] for row in rows],
            "portuguese_share": [row["portuguese"] for row in rows],
            "refusal_rate": [row["refusal"] for row in rows],
        }
        indices = resample_indices(len(rows), resamples, seed)
        metrics: dict = {"model": model, "variant": variant, "questions": questions, "n": len(rows),
                         "n_with_answers": sum(row["correct"] is not None for row in rows)}
        for name in BOOTSTRAP_METRICS:
            metrics[name] = _mean(columns[name])
            metrics[f"{name}_low"], metrics[f"{name}_high"] = bootstrap_interval(columns[name], indices=indices)
        metrics["mean_length"] = _mean([row["length_words"] for row in rows])
        if variant.endswith("rag"):
            k = max((len(row.get("sources") or []) for row in rows), default=0) or None
            metrics |= retrieval_metrics((retrieval or {}).get(questions), [row["id"] for row in rows], k)
        else:
            metrics |= {"k": None, "recall_at_k": None, "mrr": None}
        metrics |= perplexity_metrics((perplexity or {}).get(model), variant)
        out.append({column: metrics.get(column) for column in METRIC_COLUMNS})
    return out


def compare_variants(scored: Sequence[Mapping], *, resamples: int = 2000, seed: int = 42) -> list[dict]:
    """Paired comparisons between every two variants of a model on the same question set, over the questions both
    answered and that the metric applies to: accuracy (exact McNemar), F1 and ROUGE-L (sign-flip permutation);
    diff = b - a with a the earlier variant of ANSWER_VARIANTS."""
    by_group: dict[tuple[str, str], dict[str, dict[str, Mapping]]] = {}
    for row in scored:
        by_group.setdefault((row["model"], row["questions"]), {}).setdefault(row["variant"], {})[row["id"]] = row
    out = []
    for (model, questions), variants in by_group.items():
        names = sorted(variants, key=_variant_order)
        for position, variant_a in enumerate(names):
            for variant_b in names[position + 1:]:
                shared = [qid for qid in variants[variant_a] if qid in variants[variant_b]]
                for metric, key in (("accuracy", "correct"), ("f1", "f1"), ("rouge_l", "rouge_l")):
                    pairs = [(variants[variant_a][qid][key], variants[variant_b][qid][key]) for qid in shared]
                    pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
                    if not pairs:
                        continue
                    result = paired_comparison([a for a, _ in pairs], [b for _, b in pairs], metric=metric,
                                               resamples=resamples, seed=seed)
                    out.append({"model": model, "questions": questions, "variant_a": variant_a,
                                "variant_b": variant_b, **result})
    return [{column: row[column] for column in COMPARISON_COLUMNS} for row in out]


# ---------------------------------------------------------------------------------------------------- files


ANSWER_REQUIRED = ("id", "question", "answers", "model", "variant", "answer")


def read_answer_rows(path: str | Path) -> list[dict]:
    """Answer rows of one `lhama answer` file. Each row names its model and variant; the question set is its
    `questions` field, or the file stem when the row has none. Errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "answer file not found")
    rows = []
    for number, row in numbered_records(path):
        if not isinstance(row, dict):
            raise InputFileError(path, "expected a JSON object", where=f"line {number}")
        missing = [key for key in ANSWER_REQUIRED if key not in row]
        if missing:
            raise InputFileError(path, f"missing field(s) {', '.join(missing)}", where=f"line {number}")
        if not isinstance(row["answer"], str) or not isinstance(row["answers"], list):
            raise InputFileError(path, "'answer' must be a string and 'answers' a list", where=f"line {number}")
        row["questions"] = row.get("questions") or path.stem
        rows.append(row)
    if not rows:
        raise InputFileError(path, "no answers in file")
    return rows


def score_rows(rows: Sequence[Mapping]) -> list[dict]:
    """Each answer row (less its long prompt) with its scores added; the answer text is kept as it is."""
    return [{key: value for key, value in row.items() if key != "prompt"}
            | score_answer(row["answer"], row["answers"], row.get("reference")) for row in rows]


def format_cell(value) -> str:
    """TSV cell: empty for None (and NaN), floats in their shortest exact form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return "" if value != value else repr(value)
    return str(value).replace("\t", " ").replace("\n", " ")


def write_tsv(path: str | Path, rows: Sequence[Mapping], columns: Sequence[str]) -> None:
    from lhama.jsonl import atomic_open

    with atomic_open(path) as handle:
        handle.write("\t".join(columns) + "\n")
        for row in rows:
            handle.write("\t".join(format_cell(row.get(column)) for column in columns) + "\n")


def _read_json_mapping(path: str | Path, what: str) -> dict:
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, f"{what} file not found")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputFileError(path, f"not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise InputFileError(path, f"expected a JSON object ({what})")
    return value


def evaluate_files(answer_paths: Sequence[str | Path], metrics_path: str | Path, scores_path: str | Path,
                   comparisons_path: str | Path, *, retrieval: Mapping[str, str | Path] | None = None,
                   perplexity: Mapping[str, str | Path] | None = None, resamples: int = 2000,
                   seed: int = 42) -> dict:
    """Score answer files and write metrics.tsv, scores.jsonl and comparisons.tsv (each atomically).

    retrieval: question-set name -> retrieval JSON; perplexity: model name -> perplexity JSON (missing files of
    either are errors; sets or models without an entry get empty cells)."""
    from lhama.jsonl import write_jsonl

    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 100:
        raise ConfigError("resamples", f"expected an integer of at least 100, got {resamples!r}")
    if not answer_paths:
        raise ConfigError("answers", "no answer files given")
    rows, seen = [], {}
    for path in answer_paths:
        for row in read_answer_rows(path):
            key = (*group_key(row), row["id"])
            if key in seen:
                raise InputFileError(path, f"answer {key} already read from {seen[key]}")
            seen[key] = str(path)
            rows.append(row)
    retrieval_data = {name: _read_json_mapping(path, "retrieval") for name, path in (retrieval or {}).items()}
    perplexity_data = {name: _read_json_mapping(path, "perplexity") for name, path in (perplexity or {}).items()}
    scored = score_rows(rows)
    metrics = aggregate(scored, retrieval=retrieval_data, perplexity=perplexity_data, resamples=resamples, seed=seed)
    comparisons = compare_variants(scored, resamples=resamples, seed=seed)
    write_jsonl(scores_path, scored)
    write_tsv(metrics_path, metrics, METRIC_COLUMNS)
    write_tsv(comparisons_path, comparisons, COMPARISON_COLUMNS)
    return {"answers": len(scored), "groups": len(metrics), "comparisons": len(comparisons)}


# ---------------------------------------------------------------------------------------------------- command line


def _named_paths(values: Sequence[str] | None, option: str) -> dict[str, str]:
    out = {}
    for value in values or []:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise ConfigError(option, f"expected NAME=FILE, got {value!r}")
        out[name] = path
    return out


def cmd_evaluate(args: argparse.Namespace) -> None:
    out = Path(args.out_dir)
    summary = evaluate_files(args.answers, out / "metrics.tsv", out / "scores.jsonl", out / "comparisons.tsv",
                             retrieval=_named_paths(args.retrieval, "--retrieval"),
                             perplexity=_named_paths(args.perplexity, "--perplexity"),
                             resamples=args.resamples, seed=args.seed)
    print(f"{summary['answers']} answers in {summary['groups']} model/variant/question-set groups, "
          f"{summary['comparisons']} paired comparisons -> {out}")


def add_commands(subparsers) -> None:
    """Register `lhama evaluate` on an argparse subparsers object."""
    evaluate = subparsers.add_parser("evaluate", help="score answer files: metrics with bootstrap intervals and "
                                                      "paired comparisons between variants")
    evaluate.add_argument("--answers", nargs="+", required=True, help="answer JSONL files (`lhama answer`)")
    evaluate.add_argument("--retrieval", action="append", metavar="SET=FILE",
                          help="retrieval JSON of a question set (results/rag/retrieval/SET.json); repeatable")
    evaluate.add_argument("--perplexity", action="append", metavar="MODEL=FILE",
                          help="held-out perplexity JSON of a model; repeatable")
    evaluate.add_argument("--out-dir", type=Path, required=True)
    evaluate.add_argument("--seed", type=int, default=42)
    evaluate.add_argument("--resamples", type=int, default=2000)
    evaluate.set_defaults(run=cmd_evaluate)
