"""lhama.scoring: the scores of one answer (correctness, EM, F1, ROUGE-L, chrF, language, refusals)."""

import pytest

from lhama.prompts import NOT_FOUND_PT
from lhama.scoring import best_f1, chrf, detect_language, exact_match, is_refusal, rouge_l, score_answer, token_f1


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
    from lhama.prompts import passages_block

    assert NOT_FOUND_PT in passages_block([])


def test_score_answer_fields():
    scores = score_answer("A capital do Brasil é Brasília.", ["Brasília"], "A capital do Brasil é Brasília.")
    assert scores == {"correct": True, "own_words_correct": True, "copied": False, "empty": False, "em": False,
                      "f1": pytest.approx(1 / 3), "rouge_l": 1.0, "chrf": pytest.approx(100.0), "language": "pt",
                      "portuguese": True, "refusal": False, "length_words": 6}
    copied = score_answer("[1] Brasília", ["Brasília"], None, "[1] Brasília — História\ntexto")
    assert copied["correct"] and copied["copied"] and copied["own_words_correct"] is False
    assert score_answer("Brasília", ["Brasília"], None)["rouge_l"] is None
    assert score_answer("Brasília", ["Brasília"], "  ")["chrf"] is None


def test_the_prompts_refusal_sentence_is_a_refusal_not_a_copy():
    """What a RAFT adapter that refuses every question answers (measured with Gemma 3 270M): the sentence its prompt
    spells out, verbatim; refusal_rate counts it, the copy rate does not."""
    from lhama.prompts import passages_block

    prompt = passages_block(["Brasília é a capital do Brasil desde 1960."]) + "\nQual é a capital do Brasil?"
    scores = score_answer(NOT_FOUND_PT, ["Brasília"], None, prompt)
    assert scores["refusal"] and not scores["copied"] and scores["correct"] is False
    # the same words said as part of a longer copy of the prompt are still a copy
    assert score_answer(prompt, ["Brasília"], None, prompt)["copied"]
