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


def _place(title: str, lead: str, fields: dict) -> dict:
    return {"id": 1, "title": title, "url": "u", "text": lead, "infobox": {"type": "Estado", "fields": fields},
            "sections": [{"path": [], "paragraphs": [lead]},
                         {"path": ["História"], "paragraphs": ["Texto longo o bastante para uma resposta de seção."]}]}


def test_questions_take_the_article_the_title_s_lead_gives_it():
    brasil = _place("Brasil", "O Brasil é o maior país da América do Sul. Tem 27 unidades.", {"capital": "Brasília"})
    bahia = _place("Bahia", "A Bahia é uma das unidades federativas do Brasil. Fica no Nordeste.", {"capital": "Salvador"})
    minas = _place("Minas Gerais", "Minas Gerais é uma das unidades federativas do Brasil. Fica no Sudeste.",
                   {"capital": "Belo Horizonte"})
    by_title = {}
    for example in build_examples([brasil, bahia, minas]):
        by_title.setdefault(example["source_title"], {})[example["kind"]] = example
    assert by_title["Brasil"]["infobox"]["input"] == "Qual é a capital do Brasil?"
    assert by_title["Brasil"]["infobox"]["output"] == "A capital do Brasil é Brasília."
    assert by_title["Bahia"]["infobox"]["input"] == "Qual é a capital da Bahia?"
    assert by_title["Bahia"]["lead"]["input"] == "O que é a Bahia?"
    assert by_title["Minas Gerais"]["infobox"]["input"] == "Qual é a capital de Minas Gerais?"  # the lead says bare
    assert by_title["Bahia"]["section"]["input"] == "O que se sabe sobre «História» no contexto da Bahia?"


def test_answers_contract_the_value_s_article():
    person = dict(ARTICLE, infobox={"type": "Biografia", "fields": {"morte_local": "Rio de Janeiro",
                                                                     "nascimento_local": "Vila Rica, Minas Gerais"}})
    examples = {example["field"]: example for example in build_examples([person], qa_options(QAConfig(kinds=["infobox"])))}
    assert examples["morte_local"]["output"] == "Pedro I do Brasil morreu no Rio de Janeiro."
    assert examples["nascimento_local"]["output"] == "Pedro I do Brasil nasceu em Vila Rica, Minas Gerais."


def test_lead_and_section_answers_leave_tables_and_captions_out():
    article = dict(ARTICLE, infobox=None, tables=[{"section": ["Reinado"], "caption": "", "rows": [],
                                                   "text": "Ano: 1822 · Evento: Independência"}],
                   captions=[{"section": [], "text": "Retrato de D. Pedro I em 1830."}],
                   sections=[{"path": [], "paragraphs": ["Retrato de D. Pedro I em 1830.", "D. Pedro I foi imperador."]},
                             {"path": ["Reinado"], "paragraphs": ["Ano: 1822 · Evento: Independência",
                                                                  "O reinado começou com a independência do Brasil."]}])
    by_kind = {example["kind"]: example for example in build_examples([article])}
    assert by_kind["lead"]["output"] == "D. Pedro I foi imperador."
    assert by_kind["section"]["output"] == "O reinado começou com a independência do Brasil."
