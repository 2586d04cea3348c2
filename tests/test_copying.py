"""lhama.copying: answers that repeat their prompt (passages, headers, labels) are told from the model's own words."""

import pytest

from lhama.copying import copied_share, is_copied, is_empty
from lhama.prompts import user_message
from lhama.rag.retriever import RetrievedChunk

PASSAGE = ("Brasília — História > Antecedentes\nBrasília é a capital federal do Brasil desde 1960, quando foi "
           "inaugurada por Juscelino Kubitschek no Planalto Central.")
PROMPT = user_message("Qual é a capital do Brasil?", [RetrievedChunk(1, 1.0, "Brasília", "História > Antecedentes",
                                                                     PASSAGE, "u", 1, "1:0")])


@pytest.mark.parametrize(("answer", "copied"), [
    ("Brasília", False),  # a name is not a copy for being in the passages
    ("A capital do Brasil é Brasília, inaugurada em 1960.", False),
    ("13 de maio de 1888", False),
    ("[1] Brasília\n[2] Brasília", True),  # the passages' list, repeated
    ("Resposta:\n\nBrasília — História > Antecedentes", True),  # a label and a passage header
    ("Brasília — História > Antecedentes", True),
    ("Brasília é a capital federal do Brasil desde 1960, quando foi inaugurada.", True),  # a verbatim span
    ("Pergunta: Qual é a capital do Brasil?", True),
])
def test_copies_are_marked(answer, copied):
    assert is_copied(answer, PROMPT) is copied


def test_copied_share_counts_words_in_long_verbatim_runs():
    assert copied_share("capital federal do Brasil desde 1960 quando", PROMPT) == 1.0
    assert copied_share("a capital é Brasília desde sempre, diz o povo", PROMPT) == 0.0
    assert copied_share("curta", PROMPT) == 0.0


@pytest.mark.parametrize(("answer", "empty"), [("", True), ("Resposta:", True), ("[1]", True), (" .. ", True),
                                               ("Resposta: Brasília", False), ("1822", False)])
def test_empty_and_label_only_answers(answer, empty):
    assert is_empty(answer) is empty
