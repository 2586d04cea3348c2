import pytest

from lhama.wikitext import clean, clean_inline, is_disambiguation, is_redirect, render_templates

RESIDUE = ("{{", "}}", "[[", "]]", "<ref", "{|", "thumb|", "Categoria:", "&nbsp;")

ARTICLE = """{{Info/Biografia
| nome = Tiradentes
| nome_completo = Joaquim José da Silva Xavier
| nascimento_data = {{dni|12|11|1746}}
| nascimento_local = [[Pombal (Minas Gerais)|Pombal]], {{nowrap|[[Minas Gerais]]}}
| morte_data = {{morte|21|4|1792|12|11|1746}}
| cônjuge = [[Maria]]<br />[[Antônia]]<ref>nota</ref>
| vazio =
}}
'''Joaquim José da Silva Xavier''', o '''Tiradentes''' ({{dni|12|11|1746}} &mdash; {{morte|21|4|1792|12|11|1746}}),
foi um [[dentista]] e líder da ''[[Inconfidência Mineira]]''.<ref name="a">{{citar web|url=http://x.org|título=Y}}</ref>
Foi [[enforcamento|enforcado]].<ref name="a" /><!-- comentário invisível -->
[[Ficheiro:Tiradentes.jpg|thumb|250px|Retrato por [[Pedro Américo]], {{nowrap|1893}}]]
__NOTOC__
== Biografia ==
Nasceu em [[Pombal]].&nbsp;Viveu em [http://example.org Vila Rica] e trabalhou nas [[mina]]s.
=== Infância ===
* Item [[a|um]]
* Item dois
{| class="wikitable"
! Ano !! Evento
|-
| [[1789]] || {{bandeira|Brasil}} Prisão
|}
Texto depois da tabela.
== Referências ==
{{referências}}
== Ver também ==
* [[Inconfidência Mineira]]
[[Categoria:Inconfidência Mineira]]
[[en:Tiradentes]]
"""


@pytest.fixture(scope="module")
def article():
    return clean(ARTICLE)


def test_keeps_link_labels_emphasis_dates_and_link_trails(article):
    lead = article.lead
    assert lead.startswith(
        "Joaquim José da Silva Xavier, o Tiradentes (12 de novembro de 1746 — 21 de abril de 1792 (45 anos))")
    assert "foi um dentista e líder da Inconfidência Mineira." in lead
    assert "Foi enforcado." in lead
    assert "trabalhou nas minas" in article.text


def test_drops_refs_templates_files_categories_comments(article):
    text = article.text
    for token in RESIDUE:
        assert token not in text
    for gone in ("citar web", "nota", "comentário", "Tiradentes.jpg", "250px", "NOTOC", "referências"):
        assert gone not in text


def test_keeps_tables_as_labelled_rows_and_captions_in_their_section(article):
    [table] = article.tables
    assert table.section == ("Biografia", "Infância")
    assert table.rows == ((("Ano", "1789"), ("Evento", "Brasil Prisão")),)
    assert table.text == "Ano: 1789 · Evento: Brasil Prisão"
    assert [(caption.section, caption.text) for caption in article.captions] == [((), "Retrato por Pedro Américo, 1893")]
    assert article.lead.endswith("\n\nRetrato por Pedro Américo, 1893")  # captions follow the section's prose


def test_sections_have_heading_paths_and_list_items(article):
    paths = [section.path for section in article.sections]
    assert paths == [(), ("Biografia",), ("Biografia", "Infância")]
    childhood = article.sections[2].paragraphs
    assert childhood == ("Item um\nItem dois", "Ano: 1789 · Evento: Brasil Prisão", "Texto depois da tabela.")


def test_reference_and_see_also_sections_are_dropped(article):
    assert all(section.path[0] not in ("Referências", "Ver também") for section in article.sections if section.path)


def test_entities_decoded(article):
    assert "Pombal. Viveu em Vila Rica" in article.text


def test_infobox_fields_are_clean_facts(article):
    assert article.infobox.type == "Biografia"
    assert article.infobox.fields == {
        "nome": "Tiradentes",
        "nome_completo": "Joaquim José da Silva Xavier",
        "nascimento_data": "12 de novembro de 1746",
        "nascimento_local": "Pombal, Minas Gerais",
        "morte_data": "21 de abril de 1792 (45 anos)",
        "cônjuge": "Maria; Antônia",
    }


@pytest.mark.parametrize(
    ("wikitext", "expected"),
    [
        ("{{dtlink|7|9|1822}}", "7 de setembro de 1822"),
        ("{{Data de nascimento|1746|11|12}}", "12 de novembro de 1746"),
        ("{{lang|en|Brazil}}", "Brazil"),
        ("{{#if:x|y|z}}", ""),
        ("a {{{parametro|}}} b", "a  b"),
        ("{{a|{{b|{{c}}}}}} texto", " texto"),
    ],
)
def test_template_rendering(wikitext, expected):
    assert render_templates(wikitext) == expected


def test_nested_file_caption_with_links_and_external_link():
    text = clean_inline("antes [[Imagem:X.png|miniaturadaimagem|uma [[ligação]] e [http://a.org outra]]] depois")
    assert text == "antes depois"


def test_visible_category_link_and_interwiki_label():
    assert clean_inline("ver [[:Categoria:História do Brasil|a categoria]] e [[wikt:casa|casa]]") == (
        "ver a categoria e casa"
    )


def test_unbalanced_markup_leaves_no_braces():
    text = clean("Texto {{predefinição sem fim\n\nOutro [[link sem fim").text
    assert "{{" not in text and "[[" not in text


def test_redirect_and_disambiguation_detection():
    assert is_redirect("#REDIRECIONAMENTO [[Brasil]]")
    assert is_redirect("  #redirect [[Brasil]]")
    assert not is_redirect("O #REDIRECIONAMENTO no meio")
    assert is_disambiguation("{{Desambiguação}}\n'''Constituição''' pode referir-se a:")
    assert is_disambiguation("{{desambig|x}}")
    assert not is_disambiguation("{{Info/Biografia|nome=Desambiguação}}")
