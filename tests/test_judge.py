"""lhama.judge: the judge's prompts and verdicts, its run on the demo model (mechanics, not quality), and the
judge columns it gives the metrics (accuracy, supported share, Cohen's kappa against the string metric)."""

import json

import pytest

from lhama.evaluate import cohen_kappa, evaluate_files
from lhama.files import read_tsv
from lhama.judge import correctness_question, judge_answers, support_question, verdict, write_judgements


def row(qid, variant, answer, **extra):
    return {"id": qid, "question": f"Qual é a capital do país {qid}?", "answers": ["Brasília"], "reference": None,
            "source": "Brasília", "questions": "paper", "variant": variant, "model": "smollm2", "answer": answer,
            "sources": [], "prompt": "p", "prompt_tokens": 1, "new_tokens": 1, "seconds": 1.0, "batch": 0,
            "retrieval_seconds": None, **extra}


@pytest.mark.parametrize(("reply", "expected"), [("Sim.", True), ("não", False), ("Nao, errado", False),
                                                 ("sim, está correta", True), ("Talvez", None), ("", None)])
def test_verdicts(reply, expected):
    assert verdict(reply) is expected


def test_prompts_are_portuguese_and_carry_the_reference_and_passages():
    text = correctness_question(row("q1", "base", "Rio de Janeiro"))
    assert "Resposta de referência: Brasília" in text and "Resposta a avaliar: Rio de Janeiro" in text
    support = support_question(row("q1", "rag", "Brasília"), ["Brasília é a capital."])
    assert "[1] Brasília é a capital." in support and support.endswith("sustentam essa resposta?")


def test_cohen_kappa():
    assert cohen_kappa([True, True, False, False], [True, True, False, False]) == 1.0
    assert cohen_kappa([True, False, True, False], [True, True, False, False]) == 0.0
    assert cohen_kappa([True, True], [True, True]) is None  # one class: undefined


def test_the_demo_model_judges_and_the_metrics_report_it(smollm2_dir, tmp_path):
    rows = [row("q1", "base", "Brasília"), row("q2", "base", "Rio de Janeiro"),
            row("q3", "rag", "Brasília", sources=[{"rank": 1, "title": "Brasília", "section": "", "url": "u",
                                                   "chunk_id": "1:0", "score": 1.0}])]
    answers = tmp_path / "answers.jsonl"
    answers.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    index = tmp_path / "index"
    index.mkdir()
    (index / "docstore.jsonl").write_text(json.dumps({"chunk_id": "1:0", "text": "Brasília é a capital."}) + "\n")
    judged = judge_answers(smollm2_dir, rows, docstore={"1:0": "Brasília é a capital."}, progress=False)
    assert [(j["id"], set(j["replies"])) for j in judged] == [("q1", {"correct"}), ("q2", {"correct"}),
                                                              ("q3", {"correct", "supported"})]
    assert all(j["correct"] in (True, False, None) for j in judged)
    out = tmp_path / "judgements.jsonl"
    assert write_judgements(smollm2_dir, [answers], out, index_dir=index) == 3
    evaluate_files([answers], tmp_path / "m.tsv", tmp_path / "s.jsonl", tmp_path / "c.tsv", judgements=out,
                   resamples=100)
    metrics = {r["variant"]: r for r in read_tsv(tmp_path / "m.tsv")}
    verdicts = {j["id"]: j for j in map(json.loads, out.read_text().splitlines())}
    known = [verdicts[q]["correct"] for q in ("q1", "q2") if verdicts[q]["correct"] is not None]
    assert metrics["base"]["judge_unclear"] == 2 - len(known)
    if known:
        assert metrics["base"]["judge_accuracy"] == pytest.approx(sum(known) / len(known))
    kappa = cohen_kappa([True, False][:len(known)], known) if len(known) == 2 else None
    assert metrics["base"]["judge_kappa"] == (pytest.approx(kappa) if kappa is not None else None)
