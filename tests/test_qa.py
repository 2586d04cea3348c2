from lhama.config.loading import parse
from lhama.config.sections import PromptConfig, QAConfig
from lhama.qa import build_examples, qa_options, sentences

ARTICLE = {
    "id": 7,
    "title": "Pedro I do Brasil",
    "url": "https://pt.wikipedia.org/wiki/Pedro_I_do_Brasil",
    "text": "...",
    "infobox": {"type": "Biografia", "fields": {"nascimento_data": "12 de outubro de 1798", "imagem": "x.jpg"}},
    "sections": [
        {"path": [], "paragraphs": ["D. Pedro I foi o primeiro imperador do Brasil. Reinou de 1822 a 1831. Abdicou."]},
        {"path": ["Reinado"], "paragraphs": ["O reinado de D. Pedro I começou com a independência. Teve crises."]},
    ],
}


def test_sentences_do_not_split_after_abbreviations():
    assert sentences("D. Pedro I reinou. O Sr. José chegou. Fim.") == ["D. Pedro I reinou.", "O Sr. José chegou.", "Fim."]


def test_examples_of_each_kind_keep_their_source():
    examples = list(build_examples([ARTICLE]))
    by_kind = {example["kind"]: example for example in examples}
    assert set(by_kind) == {"infobox", "lead", "section"}
    infobox = by_kind["infobox"]
    assert infobox["input"] == "Quando nasceu Pedro I do Brasil?"
    assert infobox["answers"] == ["12 de outubro de 1798"]
    assert "12 de outubro de 1798" in infobox["output"]
    assert by_kind["lead"]["input"] == "Quem foi Pedro I do Brasil?"
    assert by_kind["lead"]["output"] == "D. Pedro I foi o primeiro imperador do Brasil. Reinou de 1822 a 1831."
    assert by_kind["section"]["section"] == "Reinado"
    for example in examples:
        assert example["source_id"] == 7 and example["source_title"] == "Pedro I do Brasil"
        assert example["text"].startswith("### Instrução:\n") and example["output"] in example["text"]
    assert len({example["id"] for example in examples}) == len(examples)


def test_config_selects_kinds_and_templates():
    qa = parse(QAConfig, {"kinds": ["infobox"], "infobox_questions": {
        "nascimento_data": {"question": "Nascimento de {title}?", "answer": "{value}"}}}, "qa")
    [example] = list(build_examples([ARTICLE], qa_options(qa, PromptConfig(template="Q: {input}\nA: "))))
    assert example["text"] == "Q: Nascimento de Pedro I do Brasil?\nA: 12 de outubro de 1798"


def test_non_person_lead_question():
    article = dict(ARTICLE, title="Lei Áurea (1888)", infobox=None)
    [lead] = [e for e in build_examples([article], qa_options(QAConfig(kinds=["lead"])))]
    assert lead["input"] == "O que é Lei Áurea?"
