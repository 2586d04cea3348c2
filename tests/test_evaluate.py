"""lhama.evaluate: answer files scored into metrics with intervals and paired comparisons."""

import csv
import json
import math

import pytest

from lhama.cli import main
from lhama.errors import InputFileError
from lhama.evaluate import (
    COMPARISON_COLUMNS, METRIC_COLUMNS, aggregate, compare_variants, evaluate_files, read_answer_rows,
    retrieval_metrics, score_rows,
)
from lhama.prompts import NOT_FOUND_PT


def answer_row(qid, variant, answer, *, model="demo", questions="paper", answers=("Brasília",), reference=None,
               sources=None):
    return {"id": qid, "question": f"Pergunta {qid}?", "answers": list(answers), "reference": reference,
            "source": "Brasília", "questions": questions, "variant": variant, "model": model, "answer": answer,
            "sources": sources if sources is not None else [], "prompt": "long prompt", "prompt_tokens": 10,
            "new_tokens": 5, "seconds": 1.0, "batch": 0, "retrieval_seconds": None}


def write_rows(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def read_tsv_rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_retrieval_metrics_follow_the_answered_questions_and_k():
    retrieval = {"k": 5, "rows": [{"id": "a", "source": "X", "gold_rank": 1}, {"id": "b", "source": "Y", "gold_rank": 4},
                                  {"id": "c", "source": None, "gold_rank": None}, {"id": "d", "source": "Z",
                                                                                    "gold_rank": None}]}
    assert retrieval_metrics(retrieval, ["a", "b", "c", "d"], 5) == {"k": 5, "recall_at_k": pytest.approx(2 / 3),
                                                                     "mrr": pytest.approx((1 + 1 / 4) / 3)}
    assert retrieval_metrics(retrieval, ["a", "b"], 2) == {"k": 2, "recall_at_k": 0.5, "mrr": 0.5}
    assert retrieval_metrics(None, ["a"], 5) == {"k": None, "recall_at_k": None, "mrr": None}


def test_evaluate_files_writes_metrics_scores_and_comparisons(tmp_path):
    evil = "<script>alert('x')</script> Brasília"
    reference = "A capital do Brasil é Brasília."
    source = [{"rank": 1, "title": "Brasília", "section": "", "url": "u", "chunk_id": "1:0", "score": 0.5}]
    base = [answer_row(f"q{i}", "base", "Rio de Janeiro" if i % 2 else "Brasília", reference=reference)
            for i in range(6)]
    base[0]["answer"] = evil
    rag = [answer_row(f"q{i}", "rag", "A capital é Brasília [1].", reference=reference, sources=source)
           for i in range(6)]
    rag[5]["answer"] = NOT_FOUND_PT
    paths = [write_rows(tmp_path / "answers" / "base.jsonl", base), write_rows(tmp_path / "answers" / "rag.jsonl", rag)]
    retrieval = tmp_path / "paper.json"
    retrieval.write_text(json.dumps({"k": 5, "rows": [{"id": f"q{i}", "source": "Brasília", "gold_rank": 1 + i % 2}
                                                      for i in range(6)]}), encoding="utf-8")
    perplexity = tmp_path / "ppl.json"
    perplexity.write_text(json.dumps({"base": {"ppl": 30.0, "bits_per_byte": 1.4}, "tuned": {"ppl": 20.0}}),
                          encoding="utf-8")
    out = tmp_path / "evaluation"
    summary = evaluate_files(paths, out / "metrics.tsv", out / "scores.jsonl", out / "comparisons.tsv",
                             retrieval={"paper": retrieval}, perplexity={"demo": perplexity}, resamples=200, seed=3)
    assert summary == {"answers": 12, "groups": 2, "comparisons": 4}

    metrics = read_tsv_rows(out / "metrics.tsv")
    assert tuple(metrics[0]) == METRIC_COLUMNS
    by_variant = {row["variant"]: row for row in metrics}
    assert list(by_variant) == ["base", "rag"]
    base_row, rag_row = by_variant["base"], by_variant["rag"]
    assert base_row["n"] == base_row["n_with_answers"] == "6" and float(base_row["accuracy"]) == pytest.approx(3 / 6)
    assert float(base_row["accuracy_low"]) <= 0.5 <= float(base_row["accuracy_high"])
    assert base_row["recall_at_k"] == base_row["mrr"] == base_row["k"] == ""  # not a rag variant: empty cells
    assert float(rag_row["recall_at_k"]) == 0.5 and float(rag_row["mrr"]) == 0.5  # gold at rank 2 is past k=1
    assert rag_row["k"] == "1"  # the answers saw one passage: recall at 1
    assert float(base_row["perplexity_heldout"]) == 30.0 and float(rag_row["bits_per_byte"]) == 1.4
    assert float(rag_row["refusal_rate"]) == pytest.approx(1 / 6) and float(base_row["refusal_rate"]) == 0.0
    assert float(base_row["rouge_l"]) > 0 and float(base_row["chrf"]) > 0
    assert float(base_row["copy_rate"]) == 0.0 and float(base_row["own_words_accuracy"]) == pytest.approx(3 / 6)
    assert base_row["judge_accuracy"] == "" and base_row["judge_kappa"] == ""  # no judge

    scores = [json.loads(line) for line in (out / "scores.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(scores) == 12 and "prompt" not in scores[0]
    assert scores[0]["answer"] == evil and scores[0]["correct"] is True  # untouched: escaping is the report's job
    assert "<script>" in (out / "scores.jsonl").read_text(encoding="utf-8")
    assert {"correct", "em", "f1", "rouge_l", "chrf", "language", "portuguese", "refusal", "length_words",
            "model", "variant", "questions", "sources"} <= set(scores[0])

    comparisons = read_tsv_rows(out / "comparisons.tsv")
    assert tuple(comparisons[0]) == COMPARISON_COLUMNS
    accuracy = next(row for row in comparisons if row["metric"] == "accuracy")
    assert (accuracy["variant_a"], accuracy["variant_b"], accuracy["n"]) == ("base", "rag", "6")
    assert float(accuracy["diff"]) == pytest.approx(float(accuracy["b"]) - float(accuracy["a"]))
    assert accuracy["test"] == "exact McNemar" and 0 < float(accuracy["p_value"]) <= 1
    assert [row["metric"] for row in comparisons] == ["accuracy", "own_words_accuracy", "f1", "rouge_l"]
    assert all(row["test"] == "exact McNemar" for row in comparisons if row["metric"].endswith("accuracy"))


def test_tuned_variants_take_the_tuned_perplexity_and_empty_cells_without_data():
    scored = score_rows([answer_row("q1", "tuned", "Brasília", answers=()) | {"reference": "Brasília."},
                         answer_row("q1", "tuned_rag", "Brasília")])
    rows = aggregate(scored, perplexity={"demo": {"base": {"ppl": 3.0}, "tuned": {"ppl": 2.0, "bits_per_byte": 1.0}}},
                     resamples=100)
    tuned, tuned_rag = rows
    assert (tuned["variant"], tuned["perplexity_heldout"], tuned["bits_per_byte"]) == ("tuned", 2.0, 1.0)
    assert tuned["n"] == 1 and tuned["n_with_answers"] == 0
    assert tuned["accuracy"] is None and tuned["em"] is None and tuned["f1_low"] is None  # no short answers
    assert tuned_rag["rouge_l"] is None and tuned_rag["recall_at_k"] is None  # no reference, no retrieval file
    assert compare_variants(scored, resamples=100) == []  # no question with short answers in both


def test_question_set_defaults_to_the_file_stem_and_bad_rows_name_the_line(tmp_path):
    row = answer_row("q1", "base", "x")
    del row["questions"]
    assert read_answer_rows(write_rows(tmp_path / "heldout.jsonl", [row]))[0]["questions"] == "heldout"
    bad = write_rows(tmp_path / "bad.jsonl", [answer_row("q1", "base", "x")])
    with open(bad, "a", encoding="utf-8") as handle:
        handle.write('{"id": "q2"}\n')
    with pytest.raises(InputFileError, match=r"bad.jsonl \(line 2\): missing field"):
        read_answer_rows(bad)
    with pytest.raises(InputFileError, match="not found"):
        read_answer_rows(tmp_path / "missing.jsonl")
    twice = write_rows(tmp_path / "twice.jsonl", [answer_row("q1", "base", "x")])
    with pytest.raises(InputFileError, match="already read"):
        evaluate_files([twice, twice], tmp_path / "m.tsv", tmp_path / "s.jsonl", tmp_path / "c.tsv")


def test_evaluate_command(tmp_path, capsys):
    paths = [write_rows(tmp_path / f"{v}.jsonl", [answer_row(f"q{i}", v, "Brasília" if i else "Rio")
                                                  for i in range(4)]) for v in ("base", "tuned")]
    config = tmp_path / "config.yaml"
    config.write_text("evaluate: {resamples: 100}\n")
    assert main(["evaluate", "--answers", *map(str, paths), "--out-dir", str(tmp_path / "out"),
                 "--config", str(config)]) == 0
    assert {path.name for path in (tmp_path / "out").iterdir()} == {"metrics.tsv", "scores.jsonl", "comparisons.tsv"}
    assert main(["evaluate", "--answers", str(paths[0]), "--out-dir", str(tmp_path / "o2"),
                 "--retrieval", "nofile"]) == 1
    assert "NAME=FILE" in capsys.readouterr().err and not (tmp_path / "o2").exists()
    assert not math.isnan(float(read_tsv_rows(tmp_path / "out" / "metrics.tsv")[0]["accuracy"]))
