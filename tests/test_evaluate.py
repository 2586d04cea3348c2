import csv
import json
import math

import pytest

from lhama.errors import ConfigError, InputFileError
from lhama.evaluate import (
    COMPARISON_COLUMNS, METRIC_COLUMNS, NOT_FOUND_PT, add_commands, aggregate, answers_match, best_f1,
    bootstrap_interval, chrf, compare_variants, detect_language, evaluate_files, exact_match, is_refusal,
    mcnemar_exact, normalize_pt, paired_comparison, read_answer_rows, retrieval_metrics, rouge_l, score_answer,
    score_rows, sign_flip_pvalue, token_f1,
)


def test_normalization_drops_case_punctuation_articles_and_accents():
    assert normalize_pt("O Brasil, a Terra de Santa Cruz!") == "brasil terra de santa cruz"
    assert normalize_pt("Brasília") == "brasilia"
    assert normalize_pt("Brasília", accents=False) == "brasília"
    assert normalize_pt("D. Pedro I") == "d pedro i"


def test_any_of_and_nested_all_of():
    text = "Getúlio Vargas governou de 1930 a 1945 e de 1951 a 1954."
    assert answers_match([["1930", "1945", "1951", "1954"]], text)
    assert not answers_match([["1930", "1945", "1951", "1955"]], text)
    assert answers_match(["Washington Luís", "Getúlio Vargas"], text)
    assert not answers_match(["Washington Luís"], text)


def test_whole_words_only():
    assert not answers_match(["Pedro I"], "Pedro II foi o segundo imperador.")
    assert answers_match(["Pedro I"], "Dom Pedro I abdicou.")
    assert not answers_match(["1822"], "em 18223")



# ---------------------------------------------------------------------------------------------------- answer scores


def test_exact_match_and_f1_after_portuguese_normalization():
    assert exact_match(["Brasília"], "brasilia!")
    assert exact_match(["Dom Pedro I"], "O Dom Pedro I.")  # article and punctuation away
    assert not exact_match(["Brasília"], "A capital é Brasília")
    assert exact_match([["1930", "1945"]], "1930, 1945")  # an all-of list compares as its joined parts
    assert exact_match([], "x") is None and best_f1([], "x") is None
    # "a capital e brasilia" vs "brasilia": 1 common token, precision 1/3, recall 1 -> F1 0.5
    assert token_f1("A capital é Brasília.", "Brasília") == pytest.approx(0.5)
    assert token_f1("Pedro II", "Dom Pedro I") == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))
    assert token_f1("", "") == 1.0 and token_f1("algo", "") == 0.0
    assert best_f1(["Joaquim José da Silva Xavier", "Inconfidência Mineira"], "a Inconfidência Mineira") == 1.0


def test_correct_is_any_of_with_nested_all_of():
    answers = ["Washington Luís", ["1930", "Washington Luiz"]]
    assert score_answer("Era Washington Luis.", answers, None)["correct"]
    assert score_answer("Washington Luiz, em 1930.", answers, None)["correct"]
    assert not score_answer("Washington Luiz.", answers, None)["correct"]
    assert score_answer("Getúlio Vargas", [], "ref")["correct"] is None


def test_rouge_l_keeps_accents_and_chrf_scores_characters():
    assert rouge_l("São Paulo", "São Paulo") == 1.0
    # rouge-score's default tokenizer would make both "sao paulo" (1.0); here "são" and "sao" differ
    assert rouge_l("Sao Paulo", "São Paulo") == pytest.approx(0.5)
    assert rouge_l("A capital é Brasília", "Brasília é a capital") == pytest.approx(0.5)
    assert rouge_l("nada disso", "São Paulo") == 0.0
    assert chrf("Brasília", "Brasília") == pytest.approx(100.0)
    assert chrf("xyz", "Brasília") == pytest.approx(0.0)
    assert 0 < chrf("Brasilia", "Brasília") < 100
    assert chrf("A capital é Brasília", "A capital do Brasil é Brasília.") > chrf("Rio", "A capital do Brasil é Brasília.")


@pytest.mark.parametrize("text, language", [
    ("A capital do Brasil é Brasília, no Distrito Federal.", "pt"),
    ("Dom Pedro I foi o primeiro imperador do Brasil.", "pt"),
    ("Os trechos fornecidos não contêm a resposta.", "pt"),
    ("The capital of Brazil is Brasília.", "en"),  # names alone would say pt
    ("I am sorry, but I cannot answer that question.", "en"),
    ("La capital de Brasil es Brasilia, en el Distrito Federal.", "es"),
    ("El primer emperador de Brasil fue Pedro I.", "es"),
    ("Brasília", "und"),
    ("1822", "und"),
    ("", "und"),
])
def test_language_detection(text, language):
    assert detect_language(text) == language
    portuguese = score_answer(text, ["x"], None)["portuguese"]
    assert portuguese is (None if language == "und" else language == "pt")


@pytest.mark.parametrize("text", [
    NOT_FOUND_PT, "os trechos fornecidos nao contem a resposta", "Desculpe, não sei.", "Não tenho essa informação.",
    "Não é possível responder com base nos trechos.", "A informação não está disponível.",
    "Infelizmente os textos não mencionam isso.", "I don't know.", "I'm sorry, I cannot answer that.",
    "As an AI language model, I cannot browse.", "The passages provided do not contain the answer.",
])
def test_refusals(text):
    assert is_refusal(text)


@pytest.mark.parametrize("text", ["A capital do Brasil é Brasília.", "Não foi Pedro II, foi Pedro I.",
                                  "Getúlio Vargas governou de 1930 a 1945.", "The capital is Brasília."])
def test_answers_are_not_refusals(text):
    assert not is_refusal(text)


def test_not_found_sentence_is_the_rag_prompts():
    from lhama.rag import NOT_FOUND_PT as rag_sentence, build_prompt

    assert NOT_FOUND_PT == rag_sentence
    assert NOT_FOUND_PT in build_prompt("Q?", [])


def test_score_answer_fields():
    scores = score_answer("A capital do Brasil é Brasília.", ["Brasília"], "A capital do Brasil é Brasília.")
    assert scores == {"correct": True, "em": False, "f1": pytest.approx(1 / 3), "rouge_l": 1.0,
                      "chrf": pytest.approx(100.0), "language": "pt", "portuguese": True, "refusal": False,
                      "length_words": 6}
    assert score_answer("Brasília", ["Brasília"], None)["rouge_l"] is None
    assert score_answer("Brasília", ["Brasília"], "  ")["chrf"] is None


# ---------------------------------------------------------------------------------------------------- uncertainty


def test_bootstrap_interval_contains_the_mean_and_narrows_with_n():
    small = [1, 0] * 10
    large = [1, 0] * 500
    low_s, high_s = bootstrap_interval(small, resamples=2000, seed=1)
    low_l, high_l = bootstrap_interval(large, resamples=2000, seed=1)
    assert low_s <= 0.5 <= high_s and low_l <= 0.5 <= high_l
    assert high_l - low_l < (high_s - low_s) / 3
    assert bootstrap_interval(small, seed=7) == bootstrap_interval(small, seed=7)  # seeded
    assert bootstrap_interval([1, None, 0, None], seed=1)[0] >= 0  # unknown values skipped
    assert bootstrap_interval([None, None]) == (None, None) and bootstrap_interval([]) == (None, None)
    assert bootstrap_interval([1, 1, 1]) == (1.0, 1.0)


def test_mcnemar_exact_on_a_known_table():
    # discordant pairs: b right where a is wrong 8 times, the reverse once; two-sided binomial(1; 9, 0.5)
    # p = 2 * (C(9,0) + C(9,1)) / 2**9 = 20 / 512
    a = [False] * 8 + [True] + [True] * 5 + [False] * 6
    b = [True] * 8 + [False] + [True] * 5 + [False] * 6
    assert mcnemar_exact(a, b) == pytest.approx(20 / 512)
    assert mcnemar_exact([True, False], [True, False]) == 1.0
    assert mcnemar_exact(b, a) == pytest.approx(20 / 512)


def test_sign_flip_and_paired_comparison():
    # 5 equal positive differences: only the all-positive and all-negative sign patterns are as extreme
    assert sign_flip_pvalue([0.5] * 5) == pytest.approx(2 / 32)
    assert sign_flip_pvalue([0, 0]) == 1.0
    assert 0 < sign_flip_pvalue([0.2, -0.1] * 20, resamples=500) <= 1
    result = paired_comparison([0.0] * 6, [1.0] * 6, metric="f1", resamples=500)
    assert result["diff"] == 1.0 and result["diff_low"] == result["diff_high"] == 1.0
    assert result["test"] == "paired sign-flip permutation"
    result = paired_comparison([False] * 10, [True] * 8 + [False] * 2, metric="accuracy", resamples=500)
    assert result["a"] == 0.0 and result["b"] == 0.8 and result["diff"] == pytest.approx(0.8)
    assert result["diff_low"] <= 0.8 <= result["diff_high"] and result["test"] == "exact McNemar"
    assert result["p_value"] == pytest.approx(2 / 256)


# ---------------------------------------------------------------------------------------------------- files


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
    assert summary == {"answers": 12, "groups": 2, "comparisons": 3}

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
    assert [row["metric"] for row in comparisons] == ["accuracy", "f1", "rouge_l"]


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


def test_evaluate_command(tmp_path):
    import argparse

    paths = [write_rows(tmp_path / f"{v}.jsonl", [answer_row(f"q{i}", v, "Brasília" if i else "Rio")
                                                  for i in range(4)]) for v in ("base", "tuned")]
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["evaluate", "--answers", *map(str, paths), "--out-dir", str(tmp_path / "out"),
                              "--resamples", "100"])
    args.run(args)
    assert {path.name for path in (tmp_path / "out").iterdir()} == {"metrics.tsv", "scores.jsonl", "comparisons.tsv"}
    with pytest.raises(ConfigError, match="SET=FILE|NAME=FILE"):
        args = parser.parse_args(["evaluate", "--answers", str(paths[0]), "--out-dir", str(tmp_path / "o2"),
                                  "--retrieval", "nofile"])
        args.run(args)
    assert not math.isnan(float(read_tsv_rows(tmp_path / "out" / "metrics.tsv")[0]["accuracy"]))
