"""Scoring the answer files (`lhama evaluate`): per-answer scores (`lhama.scoring`), one metrics row per model,
variant and question set with bootstrap 95% intervals, and paired tests between the variants (`lhama.stats`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from lhama.config.sections import VARIANT_ADAPTER, VARIANT_RETRIEVES
from lhama.config.sections import VARIANTS as ANSWER_VARIANTS
from lhama.errors import ConfigError, InputFileError
from lhama.files import numbered_records, write_jsonl, write_tsv
from lhama.scoring import score_answer
from lhama.stats import bootstrap_interval, paired_comparison, resample_indices

BOOTSTRAP_METRICS = ("accuracy", "own_words_accuracy", "copy_rate", "empty_rate", "em", "f1", "rouge_l", "chrf",
                     "portuguese_share", "refusal_rate")
METRIC_COLUMNS = (
    "model", "variant", "questions", "n", "n_with_answers", "accuracy", "accuracy_low", "accuracy_high",
    "own_words_accuracy", "own_words_accuracy_low", "own_words_accuracy_high", "copy_rate", "copy_rate_low",
    "copy_rate_high", "empty_rate", "empty_rate_low", "empty_rate_high", "em", "em_low", "em_high",
    "f1", "f1_low", "f1_high", "rouge_l", "rouge_l_low", "rouge_l_high", "chrf", "chrf_low", "chrf_high",
    "portuguese_share", "portuguese_share_low", "portuguese_share_high", "refusal_rate", "refusal_rate_low",
    "refusal_rate_high", "mean_length", "k", "recall_at_k", "mrr", "perplexity_heldout", "bits_per_byte",
    "judge_accuracy", "judge_accuracy_low", "judge_accuracy_high", "judge_supported_rate", "judge_kappa",
    "judge_unclear",
)
COMPARISON_COLUMNS = ("model", "questions", "variant_a", "variant_b", "n", "metric", "a", "b", "diff", "diff_low",
                      "diff_high", "p_value", "test")


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
    adapter = VARIANT_ADAPTER.get(variant)
    if adapter not in (None, "tuned"):  # the perplexity stage scores the base model and the tuned adapter
        return {"perplexity_heldout": None, "bits_per_byte": None}
    entry = (perplexity or {}).get(adapter or "base") or {}
    return {"perplexity_heldout": entry.get("ppl"), "bits_per_byte": entry.get("bits_per_byte")}


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Cohen's kappa of two raters' yes/no verdicts (scikit-learn's); None when it is undefined (one class)."""
    import math

    from sklearn.metrics import cohen_kappa_score

    if not a or len(set(a) | set(b)) < 2:
        return None
    value = float(cohen_kappa_score(list(a), list(b)))
    return None if math.isnan(value) else value


def judge_metrics(rows: Sequence[Mapping], indices) -> dict:
    """The judge's accuracy (with its interval), the share of RAG answers it found supported by their passages,
    its agreement with the string metric (Cohen's kappa) and how many of its replies were neither sim nor não."""
    judged = [row for row in rows if "judge_correct" in row]
    if not judged:
        return {}
    verdicts = [row["judge_correct"] for row in rows]
    low, high = bootstrap_interval(verdicts, indices=indices)
    pairs = [(bool(row["correct"]), bool(row["judge_correct"])) for row in rows
             if row.get("correct") is not None and row.get("judge_correct") is not None]
    return {"judge_accuracy": _mean(verdicts), "judge_accuracy_low": low, "judge_accuracy_high": high,
            "judge_supported_rate": _mean([row.get("judge_supported") for row in rows]),
            "judge_kappa": cohen_kappa([a for a, _ in pairs], [b for _, b in pairs]),
            "judge_unclear": sum(1 for row in judged if row["judge_correct"] is None)}


def read_judgements(paths: Sequence[str | Path]) -> dict[tuple, dict]:
    """The judge jobs' verdicts (one file per answer file) by (model, variant, question set, id)."""
    return {(row["model"], row["variant"], row["questions"], row["id"]): row
            for path in paths for _, row in numbered_records(path)}


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
            "own_words_accuracy": [row["own_words_correct"] for row in rows],
            "copy_rate": [row["copied"] for row in rows],
            "empty_rate": [row["empty"] for row in rows],
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
        if VARIANT_RETRIEVES.get(variant):
            k = max((len(row.get("sources") or []) for row in rows), default=0) or None
            metrics |= retrieval_metrics((retrieval or {}).get(questions), [row["id"] for row in rows], k)
        else:
            metrics |= {"k": None, "recall_at_k": None, "mrr": None}
        metrics |= perplexity_metrics((perplexity or {}).get(model), variant)
        metrics |= judge_metrics(rows, indices)
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
                for metric, key in (("accuracy", "correct"), ("own_words_accuracy", "own_words_correct"),
                                    ("f1", "f1"), ("rouge_l", "rouge_l")):
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
            | score_answer(row["answer"], row["answers"], row.get("reference"), row.get("prompt") or "")
            for row in rows]


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
                   perplexity: Mapping[str, str | Path] | None = None,
                   judgements: Sequence[str | Path] = (),
                   resamples: int = 2000, seed: int = 42) -> dict:
    """Score answer files and write metrics.tsv, scores.jsonl and comparisons.tsv (each atomically).

    retrieval: question-set name -> retrieval JSON; perplexity: model name -> perplexity JSON (missing files of
    either are errors; sets or models without an entry get empty cells); judgements: the judge jobs' JSONL files."""
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
    if judgements:
        verdicts = read_judgements(judgements)
        for row in scored:
            found = verdicts.get((*group_key(row), row["id"])) or {}
            row["judge_correct"], row["judge_supported"] = found.get("correct"), found.get("supported")
    metrics = aggregate(scored, retrieval=retrieval_data, perplexity=perplexity_data, resamples=resamples, seed=seed)
    comparisons = compare_variants(scored, resamples=resamples, seed=seed)
    write_jsonl(scores_path, scored)
    write_tsv(metrics_path, metrics, METRIC_COLUMNS)
    write_tsv(comparisons_path, comparisons, COMPARISON_COLUMNS)
    return {"answers": len(scored), "groups": len(metrics), "comparisons": len(comparisons)}
