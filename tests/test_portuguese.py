"""Articles and contractions for the instruction data: read from the article's own lead, bare where nothing says."""

import pytest

from lhama.portuguese import BARE, article_for, article_from_lead, fill, noun_phrase, value_article


@pytest.mark.parametrize(("name", "lead", "article"), [
    ("Brasil", "O Brasil, oficialmente República Federativa do Brasil, é o maior país", "o"),
    ("Bahia", "A Bahia é uma das 27 unidades federativas", "a"),
    ("Estados Unidos", "Os Estados Unidos da América são", "os"),
    ("Rio Amazonas", "O rio Amazonas é um rio da América do Sul", "o"),  # the lead writes the name in lower case
    ("Minas Gerais", "Minas Gerais é uma das 27 unidades", BARE),
    ("Tiradentes", "Joaquim José da Silva Xavier, o Tiradentes, foi", None),  # the lead does not open with it
    ("Rio", "O Riozinho é", None),
    ("Bahia", "", None),
])
def test_article_from_lead(name, lead, article):
    assert article_from_lead(name, lead) == article


def test_the_lead_says_first_then_the_list_of_places_then_nothing():
    assert article_for("Bahia", "Bahia é um estado") == BARE  # the page's own word wins
    assert article_for("Bahia", "Texto que não a nomeia.") == "a"  # from data/place_articles.yaml
    assert article_for("Vila Imaginária", "Texto.") is None
    assert value_article("Rio de Janeiro") == "o"
    assert value_article("Salvador, Bahia") is None and value_article("Bahia, Brasil") == "a"
    assert value_article("21 de abril de 1792") is None


@pytest.mark.parametrize(("name", "article", "preposition", "phrase"), [
    ("Brasil", "o", "de", "do Brasil"), ("Bahia", "a", "de", "da Bahia"),
    ("Rio de Janeiro", "o", "em", "no Rio de Janeiro"), ("Estados Unidos", "os", "em", "nos Estados Unidos"),
    ("Filipinas", "as", "por", "pelas Filipinas"), ("Bahia", "a", "para", "para a Bahia"),
    ("Portugal", BARE, "de", "de Portugal"), ("Portugal", None, None, "Portugal"),
])
def test_noun_phrase_contracts_the_preposition(name, article, preposition, phrase):
    assert noun_phrase(name, article, preposition) == phrase


@pytest.mark.parametrize(("template", "slots", "filled"), [
    ("Qual é a capital de {title}?", {"title": ("Brasil", "o")}, "Qual é a capital do Brasil?"),
    ("{title} morreu em {value}.", {"title": ("Tiradentes", None), "value": ("Rio de Janeiro", "o")},
     "Tiradentes morreu no Rio de Janeiro."),
    ("A capital de {title} é {value}.", {"title": ("Bahia", "a"), "value": ("Salvador", None)},
     "A capital da Bahia é Salvador."),
    ("O que é {title}?", {"title": ("Lei Áurea", "a")}, "O que é a Lei Áurea?"),
    ("{title} ocorreu em {value}.", {"title": ("Inconfidência Mineira", "a"), "value": ("1789", None)},
     "A Inconfidência Mineira ocorreu em 1789."),
    ("Onde nasce o {title}?", {"title": ("Rio Amazonas", "o")}, "Onde nasce o Rio Amazonas?"),  # article already there
    ("Quando nasceu {title}?", {"title": ("Pedro I do Brasil", None)}, "Quando nasceu Pedro I do Brasil?"),
    ("{{chaves}} de {title}", {"title": ("Minas Gerais", BARE)}, "{chaves} de Minas Gerais"),
])
def test_fill(template, slots, filled):
    assert fill(template, **slots) == filled


def test_fill_names_an_unknown_slot():
    with pytest.raises(KeyError, match="valor"):
        fill("{valor}", title=("Brasil", "o"))
