"""lhama.seen: training facts asked anew, with templates training never used, checked against the same values."""

from lhama.qa import DEFAULT_INFOBOX_QUESTIONS, build_examples
from lhama.seen import PARAPHRASES, seen_fact_questions

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
