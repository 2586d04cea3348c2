"""lhama.seen: training facts asked anew, with templates training never used, checked against the same values."""

import json

from lhama.qa import DEFAULT_INFOBOX_QUESTIONS, build_examples
from lhama.seen import PARAPHRASES, seen_fact_questions, write_seen_questions
from lhama.training_rows import rows_in_common

ARTICLES = [{"id": n, "title": f"Cidade {n}", "url": "u", "text": f"A Cidade {n} é uma cidade.",
             "infobox": {"type": "Município", "fields": {"fundação": f"{n} de maio de 1711", "estado": "Bahia"}},
             "sections": [{"path": [], "paragraphs": [f"A Cidade {n} é uma cidade do Brasil."]}]}
            for n in range(1, 9)]


def test_every_training_field_has_a_paraphrase_worded_otherwise():
    assert set(PARAPHRASES) == set(DEFAULT_INFOBOX_QUESTIONS)
    for field, (question, _) in PARAPHRASES.items():
        assert question != DEFAULT_INFOBOX_QUESTIONS[field][0]


def test_questions_are_on_trained_facts_only_asked_anew_and_sampled_with_a_seed():
    examples = [example for example in build_examples(ARTICLES) if example["kind"] == "infobox"]
    train = [example for example in examples if example["source_id"] <= 5]  # articles 6-8 are the test side's
    questions = seen_fact_questions(train, ARTICLES, max_questions=None, seed=1)
    assert len(questions) == len(train) == 10
    trained_inputs = {example["input"] for example in examples}
    for question in questions:
        assert question.question not in trained_inputs and question.source in {f"Cidade {n}" for n in range(1, 6)}
        assert question.answers and question.reference
    assert {q.answers[0] for q in questions if "fundação" in q.question} == {f"{n} de maio de 1711" for n in range(1, 6)}
    sample = seen_fact_questions(train, ARTICLES, max_questions=4, seed=1)
    assert len(sample) == 4 and sample == seen_fact_questions(train, ARTICLES, max_questions=4, seed=1)
    assert sample != seen_fact_questions(train, ARTICLES, max_questions=4, seed=2)


def test_the_set_asks_only_about_rows_every_tuned_model_trained_on(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "articles-000.jsonl").write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    (articles / "manifest.json").write_text(json.dumps({"shards": [{"file": "articles-000.jsonl"}]}))
    examples = list(build_examples(ARTICLES))  # every article's examples: lead, infobox and section kinds
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(example, ensure_ascii=False) + "\n" for example in examples), encoding="utf-8")
    draws = [[6, 3], [12, 3]]  # a run of 6 rows and one of 12, with the same seed: the 6 are in both
    out, sample = tmp_path / "seen.jsonl", tmp_path / "seen_sample.json"
    count = write_seen_questions(train, articles, out, sample, max_questions=None, seed=1, trained=draws)
    trained = [examples[row] for row in rows_in_common(len(examples), [(6, 3)])]
    facts = {(e["source_title"], e["field"]) for e in trained if e["kind"] == "infobox"}
    questions = [json.loads(line) for line in out.read_text().splitlines()]
    assert count == len(questions) == len(facts) > 0 and len(facts) < 16  # not all 8 articles x 2 fields
    asked = {(q["source"], "fundação" if "fundação" in q["question"] else "estado") for q in questions}
    assert asked == facts
    report = json.loads(sample.read_text())
    assert report["trained_rows"] == 6 and report["train_rows"] == len(examples) and report["n"] == count
    assert report["facts"] == len(facts) and report["draws"] == [{"rows": 6, "seed": 3}, {"rows": 12, "seed": 3}]
