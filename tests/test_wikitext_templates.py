"""Templates rendered from the catalogue: what each shows, the number format, and what is counted as dropped."""

import pytest

from lhama.wikitext import TemplateStats, clean, format_number, render_templates


@pytest.mark.parametrize(
    ("wikitext", "shown"),
    [
        # numbers, in ptwiki's own format
        ("{{fmtn|3165}}", "3 165"),
        ("{{fmtn|24.88|km²}}", "24,88 km²"),
        ("{{Fmtn|1234567.891}}", "1 234 567,891"),
        ("{{fmtn|999}}", "999"),
        ("{{fmtn|-105}}", "-105"),
        ("{{fmtn|1.234.567}}", "1.234.567"),  # not a plain number: shown as written
        ("{{formatnum:21069501}}", "21 069 501"),
        ("{{num|2674}}", "2 674"),
        ("{{nowrap|{{fmtn|1234}} km}}", "1 234 km"),
        # dates and eras
        ("{{dtlink|7|9|1822}}", "7 de setembro de 1822"),
        ("{{Data de nascimento|1746|11|12}}", "12 de novembro de 1746"),
        ("{{morte|21|4|1792|12|11|1746}}", "21 de abril de 1792 (45 anos)"),
        ("{{morte|24|8|1954|19|4|1882}}", "24 de agosto de 1954 (72 anos)"),
        ("{{séc|XIII}}", "século XIII"),
        ("{{Séc|V|a.C.}}", "século V a.C."),
        ("{{século|XIX}}", "século XIX"),
        ("{{AC|1|x}}", "1 a.C."),
        ("{{DC|1|x}}", "1 d.C."),
        ("600 {{a.C.}}", "600 a.C."),
        ("{{ca.|1500}}", "c. 1500"),
        ("{{c.}} 1500", "c. 1500"),
        # languages
        ("{{Lang-de|''Berlin''}}", "em alemão: ''Berlin''"),
        ("{{lang-grc|φύσις}}", "em grego antigo: φύσις"),
        ("{{lang-pt-br|ônibus}}", "em português: ônibus"),
        ("{{lang-zz|texto}}", "texto"),  # a code with no name in the catalogue: the text alone
        ("{{lang|en|Brazil}}", "Brazil"),
        ("{{langx|fr|maison}}", "em francês: maison"),
        # units
        ("{{converter|10|km|mi}}", "10 km (6,2 mi)"),
        ("{{convert|5|-|9|km}}", "5–9 km (3,1–5,6 mi)"),
        ("{{converter|6962|m}}", "6 962 m (22 840 pés)"),
        ("{{converter|100|C|F}}", "100 °C (210 °F)"),
        ("{{converter|12|parsec}}", "12 parsec"),
        # flags: the name where the page shows it, nothing where only the flag
        ("{{bandeira|Brasil}}", "Brasil"),
        ("{{bandeira|BRA}}", "Brasil"),
        ("{{flagcountry|POR}}", "Portugal"),
        ("{{BRA}}", "Brasil"),
        ("{{BRAb}}", ""),
        ("{{flagicon|Brasil}}", ""),
        ("{{BR-MG-BHEb|tamanho=35px}}", ""),
        # quotes and inline text
        ("{{citação|Texto citado|Fulano|Livro}}", "«Texto citado» — Fulano, Livro"),
        ("{{quote|text=Frase|author=Alguém}}", "«Frase» — Alguém"),
        ("{{Link|en|Tribeca Film Festival|Festival de Tribeca}}", "Festival de Tribeca"),
        ("{{hlist|um|dois|três}}", "um · dois · três"),
        ("{{—}}", "—"),
        ("{{ucfirst:brasil}}", "Brasil"),
        # nothing shown
        ("{{#if:x|y|z}}", ""),
        ("a {{{parametro|}}} b", "a  b"),
        ("{{a|{{b|{{c}}}}}} texto", " texto"),
    ],
)
def test_what_each_template_shows(wikitext, shown):
    assert render_templates(wikitext) == shown


def test_first_letter_in_any_case_the_rest_as_written():
    assert render_templates("{{Séc|XIII}} {{séc|XIII}}") == "século XIII século XIII"
    assert render_templates("{{aC|1}}") == "1 a.C."  # the same page as Predefinição:AC
    assert render_templates("{{Ac|1}}") == ""  # Predefinição:Ac is another page


def test_dropped_templates_are_counted_by_page_name_silent_ones_are_not():
    stats = TemplateStats()
    render_templates("{{coord|1|2}} {{Coord|3}} {{citar web|url=x}} {{Referências}} {{esboço-geo}} {{#invoke:Mapa|x}}"
                     " {{PAGENAME}} {{fmtn|1}} {{Info/Biografia|nome=x}}", stats=stats)
    assert stats.dropped == {"Coord": 2, "#invoke:Mapa": 1, "PAGENAME": 1}
    assert stats.rendered == 1


def test_caption_templates_keep_their_caption():
    article = clean("Texto.\n{{panorama|Vista.jpg|800px|Vista de [[Ouro Preto]]}}\n"
                    "{{Imagem múltipla|imagem1=A.jpg|legenda1=Primeira|imagem2=B.jpg|legenda2=Segunda}}")
    assert [caption.text for caption in article.captions] == ["Vista de Ouro Preto", "Primeira", "Segunda"]
    assert article.lead == "Texto.\n\nVista de Ouro Preto\n\nPrimeira\n\nSegunda"


@pytest.mark.parametrize(("number", "shown"), [("0", "0"), ("1000", "1 000"), ("3165", "3 165"),
                                                ("100000", "100 000"), ("0.584", "0,584"), ("abc", "abc")])
def test_format_number(number, shown):
    assert format_number(number) == shown


def test_infobox_values_see_rendered_templates():
    article = clean("{{Info/Município do Brasil\n| população = {{fmtn|3165}}\n| área = {{fmtn|24.88|km²}}\n}}\n"
                    "Texto.")
    assert article.infobox.fields == {"população": "3 165", "área": "24,88 km²"}
