"""lhama.text: Portuguese normalization and answer matching."""

from lhama.text import answers_match, normalize_pt


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
