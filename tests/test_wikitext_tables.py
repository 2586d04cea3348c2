"""Wiki tables as a reader takes them: data tables as labelled rows, layout tables unwrapped, navboxes dropped."""

from lhama.wikitext import clean


def rows_of(wikitext: str) -> list[list[tuple[str, str]]]:
    return [[tuple(cell) for cell in row] for table in clean(wikitext).tables for row in table.rows]


def test_data_table_rows_are_labelled_by_their_header_cells():
    article = clean("""== Obras ==
{| class="wikitable sortable"
|+ Romances
! Ano !! Obra
|-
| 1881 || ''[[Memórias Póstumas de Brás Cubas]]''
|-
| 1899 || [[Dom Casmurro]]<ref>nota</ref>
|}""")
    [table] = article.tables
    assert (table.section, table.caption) == (("Obras",), "Romances")
    assert table.text == ("Romances\nAno: 1881 · Obra: Memórias Póstumas de Brás Cubas\n"
                          "Ano: 1899 · Obra: Dom Casmurro")
    assert article.sections[0].paragraphs == (table.text,)  # in the section text that is chunked
    assert table.to_json()["rows"][1] == [["Ano", "1899"], ["Obra", "Dom Casmurro"]]


def test_header_cells_one_per_line_and_cell_attributes():
    assert rows_of("""{| class="wikitable"
!width=6%|Ano
! scope="col" | Org.
|-
| style="background:#cfc;" | 1983
|[[Federação Gaúcha de Futebol|FGF]]
|}""") == [[("Ano", "1983"), ("Org.", "FGF")]]


def test_a_table_laid_out_by_rows_labels_each_row_by_its_header_cell():
    assert rows_of("""{| class="wikitable"
! Área
| {{fmtn|24.88|km²}}
|-
! População
| {{fmtn|3165}}
|}""") == [[("Área", "24,88 km²")], [("População", "3 165")]]


def test_spanned_cells_cover_the_rows_and_columns_they_span():
    assert rows_of("""{| class="wikitable"
! rowspan=2 | Município !! colspan=2 | População
|-
! 2010 !! 2022
|-
| rowspan=2 | Riacho da Cruz || 3165 || 3400
|-
| 10 || 20
|}""") == [
        [("Município", "Riacho da Cruz"), ("População 2010", "3165"), ("População 2022", "3400")],
        [("Município", "Riacho da Cruz"), ("População 2010", "10"), ("População 2022", "20")],
    ]


def test_headings_inside_a_table_and_repeated_headers():
    assert rows_of("""{| class="wikitable"
! Ano !! Evento
|-
! colspan=2 | Século XIX
|-
| 1822 || Independência
|-
! Ano !! Evento
|-
| 1889 || República
|}""") == [[("", "Século XIX")], [("Ano", "1822"), ("Evento", "Independência")],
              [("Ano", "1889"), ("Evento", "República")]]


def test_layout_tables_that_wrap_lists_or_prose_are_unwrapped():
    article = clean("""Antes.

{| style="width:100%"
|
* [[Porto Alegre]]
* Pelotas
|
* Rio Grande
|}
{|
| Um parágrafo de prosa posto numa tabela só para o alinhar à direita da página.
|}""")
    assert article.tables == ()
    assert article.lead == ("Antes.\n\nPorto Alegre\nPelotas\n\nRio Grande\n\n"
                            "Um parágrafo de prosa posto numa tabela só para o alinhar à direita da página.")


def test_navigation_boxes_are_dropped():
    article = clean("""Texto do artigo.
{| class="navbox collapsible"
! [[Estados do Brasil]]
|-
| [[Acre]] · [[Alagoas]] · [[Amapá]]
|}""")
    assert article.text == "Texto do artigo." and article.tables == ()


def test_nested_tables_become_tables_of_their_own():
    article = clean("""{| class="wikitable"
! Clube !! Títulos
|-
| Garra || 2
|-
| colspan="2" |
{| class="wikitable"
! Ano !! Vice
|-
| 2006 || Atlético
|}
|}""")
    assert [table.rows for table in article.tables] == [
        ((("Clube", "Garra"), ("Títulos", "2")),), ((("Ano", "2006"), ("Vice", "Atlético")),)]


def test_unterminated_table_and_stray_table_end_leave_no_markup():
    text = clean("Antes.\n{| class=\"wikitable\"\n! A !! B\n|-\n| 1 || 2\n\n|} solto\n|}\nDepois.").text
    assert "{|" not in text and "|}" not in text and "A: 1 · B: 2" in text
    assert clean("Texto.\n{|\n! Cabeçalho\n|-\n| valor").tables[0].rows == ((("Cabeçalho", "valor"),),)


def test_tables_in_dropped_sections_are_dropped_with_them():
    article = clean("Texto.\n== Ver também ==\n{| class=\"wikitable\"\n! Ano\n|-\n| 1900\n|}")
    assert article.tables == () and "1900" not in article.text


def test_image_captions_are_kept_with_their_section_and_inline_images_show_none():
    article = clean("""Lead [[Ficheiro:Bandeira.svg|20px]] com bandeira.
== História ==
[[Ficheiro:Vila Rica.jpg|thumb|250px|alt=Mapa|Vila Rica em [[1789]]]]
Texto da história.
<gallery>
Ficheiro:A.jpg|Praça [[Tiradentes]]
B.jpg|alt=x
</gallery>""")
    assert [(caption.section, caption.text) for caption in article.captions] == [
        (("História",), "Vila Rica em 1789"), (("História",), "Praça Tiradentes")]
    assert article.lead == "Lead com bandeira."
    assert article.sections[1].paragraphs == ("Texto da história.", "Vila Rica em 1789", "Praça Tiradentes")
