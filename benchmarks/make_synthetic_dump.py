#!/usr/bin/env python
"""Write a synthetic ptwiki-like dump for the extraction benchmark.

    python benchmarks/make_synthetic_dump.py --size-mb 200 --out-dir benchmarks/out [--seed 1]

Writes, with the project's writer (`lhama.dump`):

* `ptwiki-synthetic-pages-articles-multistream.xml.bz2` and `ptwiki-synthetic-pages-articles-multistream-index.txt.bz2`
  (multistream, 100 pages per bz2 stream, `offset:page_id:title` index), as Wikimedia publishes them;
* `ptwiki-synthetic-pages-articles.xml`: the same pages, uncompressed (for tools that read plain XML only);
* `ptwiki-synthetic.meta.json`: seed, requested size, exact XML bytes and page counts per kind.

The uncompressed XML is at least `--size-mb` MB (10^6 bytes) and the output is byte-for-byte the same for a given
seed and size. Pages are produced lazily by a generator (the generator runs once per output file), so memory stays
small whatever the size.

Page mix (by page count): ~85% ns-0 articles of 1-15 KB of wikitext (about 2% of them stubs under 200 characters),
~8% redirects (`#REDIRECIONAMENTO [[X]]`, `<redirect>` set), ~1% disambiguation pages (`{{Desambiguação}}`), ~6%
other namespaces (Categoria, Predefinição, Discussão, Usuário(a), Ficheiro). Articles mix the markup found in
ptwiki: infoboxes (`{{Info/...}}`, one `| chave = valor` per line, values with nested templates, `<br />` and
links), `<ref>` with citation templates, plain-text refs, named refs and `<ref name="x" />`, text templates (dates,
`{{fmtn}}`, `{{séc}}`, `{{lang-xx}}`, `{{converter}}`, `{{AC}}`, flags), wiki tables (some nested), `[[Ficheiro:...|thumb|...|legenda com [[ligação]]]]` and `[[Imagem:...|miniaturadaimagem|...]]`,
categories, comments, entities, headings, `*`/`#` lists, bold/italic, piped links and link trails, external links,
magic words, `== Referências ==` with `{{referências}}` and `== Ligações externas ==`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from lhama.dump import FOOTER_XML, Page, SiteInfo
from lhama.dump_writer import header_xml, page_xml, write_multistream, write_xml

DUMP_NAME = "ptwiki-synthetic-pages-articles-multistream.xml.bz2"
INDEX_NAME = "ptwiki-synthetic-pages-articles-multistream-index.txt.bz2"
XML_NAME = "ptwiki-synthetic-pages-articles.xml"
META_NAME = "ptwiki-synthetic.meta.json"
MB = 1_000_000

# ---------------------------------------------------------------------------------------------------- vocabulary

FUNCTION_WORDS = (
    "de da do das dos em na no nas nos a o as os um uma uns umas e ou que com por para pela pelo pelas pelos "
    "ao aos à às como mas também se seu sua seus suas entre sobre até desde após durante contra sem sob "
    "este esta estes estas esse essa isso aquele aquela onde quando muito mais menos já ainda não"
).split()
NOUNS = (
    "cidade município região estado país governo população território história século ano década guerra "
    "rei rainha império república igreja catedral castelo rio montanha serra vale costa ilha porto praia "
    "economia agricultura indústria comércio turismo cultura música literatura arte pintura escultura "
    "arquitetura teatro cinema filme álbum canção banda grupo cantor escritor poeta pintor político "
    "militar médico cientista professor universidade escola faculdade instituto museu biblioteca teoria "
    "investigação estudo obra livro romance poema jornal revista emissora rede televisão rádio clube equipa "
    "equipe futebol campeonato torneio temporada jogo partida golo gol estádio treinador jogador seleção "
    "espécie planta animal ave peixe floresta clima temperatura chuva inverno verão língua idioma dialeto "
    "palavra nome família pai mãe filho filha irmão casamento morte nascimento carreira vida trabalho "
    "empresa companhia fábrica produto mercado moeda banco sistema método processo forma parte lado "
    "estrada ferrovia estação linha ponte aeroporto bairro freguesia distrito concelho comarca capital "
    "fronteira norte sul leste oeste centro interior litoral área superfície altitude quilômetro habitante "
    "censo eleição partido deputado senador presidente ministro prefeito vereador constituição lei tratado "
    "batalha exército marinha revolução independência colônia descobrimento navegação expedição viagem"
).split()
VERBS = (
    "é foi era são foram tem teve tinha possui possuía fica ficou situa-se localiza-se nasceu morreu "
    "fundou fundada criado criada construído construída publicado publicada lançado lançada gravou "
    "escreveu pintou dirigiu venceu perdeu conquistou recebeu ganhou integrou participou atuou estudou "
    "trabalhou viveu mudou-se tornou-se passou chegou partiu governou reinou declarou assinou aprovou "
    "apresenta apresentou inclui incluía abrange abrangia compreende representa representou considerado "
    "conhecido conhecida chamado chamada denominado formado formada composto composta habitada ocupada"
).split()
ADJECTIVES = (
    "grande pequeno pequena importante principal antigo antiga novo nova moderno moderna histórico "
    "histórica português portuguesa brasileiro brasileira europeu europeia africano africana americano "
    "nacional regional local municipal federal estadual internacional mundial popular cultural económico "
    "econômico político social religioso religiosa católico católica primeiro primeira segundo segunda "
    "último última maior menor melhor conhecido célebre famoso famosa notável rico rica pobre alto alta "
    "baixo baixa longo longa curto curta tropical atlântico atlântica oriental ocidental setentrional "
    "meridional medieval colonial contemporâneo contemporânea clássico clássica barroco barroca"
).split()
ADVERBS = "atualmente posteriormente inicialmente principalmente aproximadamente também frequentemente finalmente".split()
FIRST_NAMES = (
    "João José António Antônio Manuel Francisco Pedro Luís Carlos Paulo Miguel Rui Jorge Fernando Ricardo "
    "Maria Ana Isabel Teresa Catarina Joana Beatriz Sofia Helena Luísa Mariana Carolina Leonor Inês Clara "
    "Afonso Duarte Henrique Sebastião Tiago Gonçalo Rodrigo Vasco Álvaro Cristóvão Tomás Bento Inácio"
).split()
SURNAMES = (
    "Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Martins Jesus Sousa Fernandes Gonçalves Gomes "
    "Lopes Marques Alves Almeida Ribeiro Pinto Carvalho Teixeira Moreira Correia Mendes Nunes Soares Vieira "
    "Monteiro Cardoso Rocha Neves Coelho Cruz Cunha Pires Ramos Reis Simões Antunes Matos Fonseca Machado "
    "Araújo Barbosa Tavares Lourenço Castro Figueiredo Azevedo Freitas Magalhães Queirós Bragança Albuquerque"
).split()
PLACES = (
    "Lisboa Porto Coimbra Braga Évora Faro Aveiro Leiria Viseu Guarda Setúbal Funchal Bragança Beja "
    "Santarém Pombal Tomar Sintra Cascais Óbidos Lamego Chaves Elvas Tavira Lagos Silves Mértola Amarante "
    "Brasil Portugal Angola Moçambique Cabo_Verde Goa Macau Timor São_Paulo Rio_de_Janeiro Salvador Recife "
    "Belém Manaus Curitiba Florianópolis Fortaleza Natal Olinda Ouro_Preto Diamantina Petrópolis Santos "
    "Campinas Niterói Vitória Goiânia Brasília Cuiabá Luanda Maputo Praia Bissau Díli Espanha França Itália"
).split()
COUNTRIES = ("Brasil", "Portugal", "Angola", "Moçambique", "Cabo Verde", "Espanha", "França", "Itália", "Alemanha",
             "Reino Unido", "Estados Unidos", "Argentina", "Japão", "Guiné-Bissau", "Timor-Leste")
TOPICS = ("Biografias", "Brasil", "Portugal", "História", "Geografia", "Música", "Cinema", "Futebol", "Literatura",
          "Arte", "Ciência", "Política", "Religião", "Arquitetura", "Desporto")
SECTION_TITLES = (
    "História", "Biografia", "Primeiros anos", "Carreira", "Vida pessoal", "Morte", "Legado", "Geografia",
    "Clima", "Demografia", "Economia", "Cultura", "Educação", "Transportes", "Política", "Obras", "Discografia",
    "Filmografia", "Prémios e honrarias", "Etimologia", "Descrição", "Características", "Origem", "Recepção",
    "Toponímia", "Património", "Desporto", "Administração", "Infraestrutura", "Contexto histórico",
)
SUBSECTION_TITLES = (
    "Infância", "Juventude", "Formação", "Período colonial", "Século XIX", "Século XX", "Atualidade",
    "Primeiros trabalhos", "Reconhecimento", "Últimos anos", "Fauna", "Flora", "Hidrografia", "Relevo",
    "Composição étnica", "Religião", "Festas populares", "Gastronomia", "Ensino superior", "Rodovias",
)
CATEGORY_STEMS = (
    "Nascidos em {year}", "Mortos em {year}", "Naturais de {place}", "Municípios de {country}",
    "Escritores de {country}", "Políticos de {country}", "Músicos de {country}", "História de {place}",
    "Geografia de {country}", "Filmes de {year}", "Álbuns de {year}", "Clubes de futebol de {country}",
    "Igrejas de {place}", "Rios de {country}", "Militares de {country}", "Pintores de {country}",
)
INFOBOX_TYPES = ("Info/Biografia", "Info/Município do Brasil", "Info/Cidade", "Info/Empresa", "Info/Filme",
                 "Info/Álbum", "Info/Clube de futebol", "Info/Rio", "Info/Taxonomia")
STUB_TEMPLATES = ("esboço-geo", "esboço-biografia", "esboço-música", "esboço-história", "esboço-cinema", "Esboço")
TALK_SIGNATURE_DATES = ("12h04min de 3 de março de 2019", "18h22min de 27 de julho de 2021",
                        "09h15min de 1 de janeiro de 2020", "23h59min de 14 de outubro de 2022")

ALL_WORDS = NOUNS * 3 + VERBS * 2 + ADJECTIVES * 2 + ADVERBS


# ---------------------------------------------------------------------------------------------------- text pieces


class Synth:
    """Deterministic wikitext pieces from one `random.Random`."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.titles: list[str] = []  # recent article titles, for links and redirects (bounded)
        self.used_titles: set[str] = set()

    # -- small values
    def year(self) -> int:
        return self.rng.randint(1100, 2024)

    def date_parts(self) -> tuple[int, int, int]:
        return self.rng.randint(1, 28), self.rng.randint(1, 12), self.year()

    def person(self) -> str:
        r = self.rng
        return f"{r.choice(FIRST_NAMES)} {r.choice(SURNAMES)}" + (f" {r.choice(SURNAMES)}" if r.random() < 0.5 else "")

    def place(self) -> str:
        return self.rng.choice(PLACES).replace("_", " ")

    def known_title(self) -> str:
        if self.titles and self.rng.random() < 0.6:
            return self.rng.choice(self.titles)
        r = self.rng.random()
        if r < 0.3:
            return self.person()
        if r < 0.6:
            return self.place()
        return self.rng.choice(NOUNS).capitalize()

    def category(self) -> str:
        stem = self.rng.choice(CATEGORY_STEMS)
        return stem.format(year=self.year(), place=self.place(), country=self.rng.choice(COUNTRIES))

    def url(self) -> str:
        r = self.rng
        host = r.choice(("www.publico.pt", "g1.globo.com", "www.ibge.gov.br", "www.dn.pt", "arquivo.pt",
                         "www.bnportugal.gov.pt", "books.google.com", "www.folha.uol.com.br", "www.ine.pt"))
        return f"http://{host}/{r.choice(NOUNS)}/{r.randint(1000, 999999)}.html"

    # -- inline markup
    def link(self) -> str:
        r = self.rng.random()
        word = self.rng.choice(NOUNS)
        if r < 0.35:
            return f"[[{word}]]"
        if r < 0.55:
            return f"[[{self.known_title()}|{word}]]"
        if r < 0.7:
            return f"[[{word}]]s" if not word.endswith("s") else f"[[{word}]]"  # link trail
        if r < 0.85:
            place = self.place()
            return f"[[{place}]]"
        return f"[[{self.person()}]]"

    def inline_template(self) -> str:
        r = self.rng.random()
        d, m, y = self.date_parts()
        if r < 0.25:
            return f"{{{{dni|{d}|{m}|{y}}}}}"
        if r < 0.37:
            d2, m2 = self.rng.randint(1, 28), self.rng.randint(1, 12)
            return f"{{{{morte|{d2}|{m2}|{y + self.rng.randint(20, 90)}|{d}|{m}|{y}}}}}"
        if r < 0.52:
            return f"{{{{nowrap|{d} de {self.rng.choice(('janeiro', 'março', 'maio', 'agosto'))} de {y}}}}}"
        if r < 0.62:
            return f"{{{{lang-en|''{self.rng.choice(('The', 'New', 'Old'))} {self.rng.choice(('House', 'River', 'Song'))}''}}}}"
        if r < 0.67:
            return f"{{{{Lang-de|''{self.rng.choice(('Haus', 'Fluss', 'Lied'))}''}}}}"
        if r < 0.73:
            return f"{{{{bandeira|{self.rng.choice(COUNTRIES)}}}}}"
        if r < 0.79:
            unit = self.rng.choice(("", "|km²", "|habitantes"))
            return f"{{{{fmtn|{self.rng.randint(1000, 9_999_999)}{unit}}}}}"
        if r < 0.84:
            return f"{{{{séc|{self.rng.choice(('XV', 'XVI', 'XVII', 'XVIII', 'XIX', 'XX'))}}}}}"
        if r < 0.88:
            return f"{{{{converter|{self.rng.randint(2, 3000)}|{self.rng.choice(('km', 'm', 'km2'))}}}}}"
        if r < 0.91:
            return f"{{{{AC|{self.rng.randint(1, 800)}|x}}}}"
        return "{{carece de fontes|data=março de 2020}}"

    def citation(self) -> str:
        r = self.rng
        kind = r.random()
        if kind < 0.55:
            return (f"{{{{citar web|url={self.url()}|título={r.choice(NOUNS).capitalize()} {r.choice(FUNCTION_WORDS[:6])} "
                    f"{r.choice(NOUNS)}|acessodata={r.randint(1, 28)} de {r.choice(('maio', 'junho'))} de {r.randint(2005, 2024)}"
                    f"|publicado={r.choice(('Público', 'Folha de S.Paulo', 'IBGE', 'INE'))}}}}}")
        if kind < 0.8:
            return (f"{{{{citar livro|último={r.choice(SURNAMES)}|primeiro={r.choice(FIRST_NAMES)}|título=''"
                    f"{r.choice(NOUNS).capitalize()} e {r.choice(NOUNS)}''|editora={r.choice(('Editorial Presença', 'Companhia das Letras', 'Almedina'))}"
                    f"|ano={r.randint(1950, 2023)}|páginas={r.randint(10, 500)}|isbn=978-{r.randint(100000000, 999999999)}}}}}")
        return (f"{r.choice(SURNAMES).upper()}, {r.choice(FIRST_NAMES)}. ''{r.choice(NOUNS).capitalize()} "
                f"{r.choice(ADJECTIVES)}''. {self.place()}: Editora {r.choice(SURNAMES)}, {r.randint(1900, 2020)}. p.&nbsp;{r.randint(1, 400)}.")

    def ref(self, named: list[str]) -> str:
        r = self.rng.random()
        if named and r < 0.25:
            return f'<ref name="{self.rng.choice(named)}" />'
        if r < 0.45:
            name = f"{self.rng.choice(SURNAMES).lower()}{self.rng.randint(1, 99)}"
            named.append(name)
            return f'<ref name="{name}">{self.citation()}</ref>'
        if r < 0.5:
            return f"<ref group=\"nota\">{self.sentence(max_words=18, markup=False)}</ref>"
        return f"<ref>{self.citation()}</ref>"

    def sentence(self, *, max_words: int = 40, markup: bool = True, named: list[str] | None = None) -> str:
        r = self.rng
        n = max(4, min(max_words, int(r.lognormvariate(2.6, 0.5))))
        words = r.choices(ALL_WORDS, k=n)
        fillers = r.choices(FUNCTION_WORDS, k=n)
        parts: list[str] = []
        for i, (word, filler) in enumerate(zip(words, fillers)):
            if i and r.random() < 0.45:
                parts.append(filler)
            if markup:
                x = r.random()
                if x < 0.07:
                    word = self.link()
                elif x < 0.085:
                    word = f"''{word}''"
                elif x < 0.09:
                    word = f"'''{word}'''"
                elif x < 0.097:
                    word = self.inline_template()
                elif x < 0.1:
                    word = f"{word}&nbsp;{r.randint(2, 999)}&nbsp;km"
                elif x < 0.102:
                    word = f"{r.randint(1800, 1900)}&ndash;{r.randint(1901, 2000)}"
                elif x < 0.104:
                    word = f"[{self.url()} {r.choice(NOUNS)} {r.choice(ADJECTIVES)}]"
                elif x < 0.105:
                    word = f"{word}<!-- {r.choice(('verificar', 'confirmar data', 'ver discussão'))} -->"
            parts.append(word)
        if r.random() < 0.25:
            parts.insert(r.randint(1, len(parts)), f"em {r.randint(1500, 2023)}")
        text = " ".join(parts)
        text = text[0].upper() + text[1:] if not text.startswith(("[", "{", "'")) else text
        end = "." if r.random() < 0.93 else r.choice((";", "!", ":"))
        text += "," if r.random() < 0.05 else ""
        text = text.rstrip(",") + end
        if markup and named is not None and r.random() < 0.22:
            text += self.ref(named)
        return text

    def paragraph(self, named: list[str], sentences: int | None = None) -> str:
        count = sentences or self.rng.randint(2, 7)
        return " ".join(self.sentence(named=named) for _ in range(count))

    def list_block(self) -> str:
        marker = self.rng.choice(("*", "*", "#", "**"))
        lines = []
        for i in range(self.rng.randint(3, 9)):
            m = "*" if marker == "**" and i == 0 else marker
            if self.rng.random() < 0.5:
                item = f"{self.link()} ({self.year()})"
            else:
                item = self.sentence(max_words=14)
            lines.append(f"{m} {item}")
        return "\n".join(lines)

    def table(self, *, nested_ok: bool = True) -> str:
        r = self.rng
        cols = r.randint(2, 5)
        headers = r.sample(("Ano", "Título", "Papel", "Notas", "Posição", "População", "Área", "Clube", "Jogos",
                            "Golos", "Prémio", "Categoria", "Resultado", "Local"), cols)
        lines = [f'{{| class="wikitable{r.choice(("", " sortable"))}" style="text-align:center; font-size:90%;"']
        if r.random() < 0.5:
            lines.append(f"|+ {r.choice(NOUNS).capitalize()} {r.choice(ADJECTIVES)}")
        lines.append("! " + " !! ".join(headers))
        for _ in range(r.randint(2, 8)):
            lines.append("|-")
            cells = []
            for c in range(cols):
                x = r.random()
                if c == 0:
                    cells.append(str(self.year()))
                elif x < 0.35:
                    cells.append(self.link())
                elif x < 0.45:
                    cells.append(f"{r.randint(1, 99999):,}".replace(",", "."))
                elif x < 0.5:
                    cells.append(f'style="background:#cfc;" | {r.choice(("Venceu", "Nomeado", "Indicado"))}')
                else:
                    cells.append(" ".join(r.choices(ALL_WORDS, k=r.randint(1, 4))))
            if r.random() < 0.5:
                lines.append("| " + " || ".join(cells))
            else:
                lines.extend(f"| {cell}" for cell in cells)
        if nested_ok and r.random() < 0.15:
            lines.append("|-")
            lines.append(f'| colspan="{cols}" |')
            lines.append(self.table(nested_ok=False))
        lines.append("|}")
        return "\n".join(lines)

    def image(self) -> str:
        r = self.rng
        name = f"{r.choice(NOUNS).capitalize()} {self.place()} {r.randint(1, 999)}.{r.choice(('jpg', 'JPG', 'png', 'svg'))}"
        caption = f"{r.choice(NOUNS).capitalize()} {r.choice(FUNCTION_WORDS[:8])} {self.link()} {r.choice(('em', 'de'))} {self.year()}"
        if r.random() < 0.65:
            return f"[[Ficheiro:{name}|thumb|{r.choice(('200', '220', '250', '300'))}px|{caption}]]"
        return f"[[Imagem:{name}|miniaturadaimagem|{r.choice(('direita', 'esquerda'))}|{caption}]]"

    def infobox(self, title: str) -> str:
        r = self.rng
        kind = r.choice(INFOBOX_TYPES)
        d, m, y = self.date_parts()
        fields: list[tuple[str, str]] = [("nome", title)]
        if r.random() < 0.8:
            fields += [("imagem", f"{title}.jpg"), ("imagem_tamanho", "250px"),
                       ("legenda", f"{title} {r.choice(('em', 'c.'))} {self.year()}")]
        if kind == "Info/Biografia":
            fields += [
                ("nome_completo", f"{title} {r.choice(SURNAMES)}"),
                ("nascimento_data", f"{{{{dni|{d}|{m}|{y}}}}}"),
                ("nascimento_local", f"[[{self.place()}]], {{{{bandeira|{r.choice(COUNTRIES)}}}}} [[{r.choice(COUNTRIES)}]]"),
                ("morte_data", f"{{{{morte|{r.randint(1, 28)}|{r.randint(1, 12)}|{y + r.randint(25, 90)}|{d}|{m}|{y}}}}}"),
                ("morte_local", f"[[{self.place()}]]"),
                ("nacionalidade", f"{{{{nowrap|{{{{bandeira|{r.choice(COUNTRIES)}}}}} {r.choice(ADJECTIVES)}}}}}"),
                ("ocupação", f"[[{r.choice(NOUNS)}]]<br />[[{r.choice(NOUNS)}]]<br />{r.choice(NOUNS)}"),
                ("cônjuge", self.person()),
                ("prêmios", f"{{{{nowrap|[[Ordem de {r.choice(('Cristo', 'Santiago', 'Avis'))}]] ({self.year()})}}}}"),
                ("assinatura", f"Assinatura {title}.svg"),
            ]
        elif kind in ("Info/Município do Brasil", "Info/Cidade"):
            fields += [
                ("estado", f"[[{r.choice(('São Paulo', 'Minas Gerais', 'Bahia', 'Paraná', 'Goiás'))} (estado)|{r.choice(('SP', 'MG', 'BA', 'PR', 'GO'))}]]"),
                ("fundação", f"{{{{dtlink|{d}|{m}|{y}}}}}"),
                ("área", f"{r.randint(10, 9000)},{r.randint(10, 99)}"),
                ("população", f"{r.randint(1000, 900000)}<ref name=\"ibge\">{{{{citar web|url={self.url()}|título=Censo {r.choice((2010, 2022))}}}}}</ref>"),
                ("altitude", f"{r.randint(0, 1800)}&nbsp;m"),
                ("clima", "[[clima tropical|tropical]] {{nowrap|(Aw)}}"),
                ("prefeito", f"{self.person()} ([[{r.choice(('PSD', 'PT', 'MDB', 'PL'))}]])<br />{{{{small|(2021–2024)}}}}"),
                ("gentílico", r.choice(ADJECTIVES)),
            ]
        else:
            fields += [
                ("tipo", f"[[{r.choice(NOUNS)}]]"),
                ("fundação", f"{{{{dni|{d}|{m}|{y}|si}}}}"),
                ("sede", f"[[{self.place()}]], {{{{bandeira|{r.choice(COUNTRIES)}}}}}"),
                ("gênero", f"[[{r.choice(NOUNS)}]], [[{r.choice(NOUNS)}|{r.choice(ADJECTIVES)}]]"),
                ("website", f"[{self.url()} {r.choice(NOUNS)}.pt]"),
                ("duração", f"{{{{nowrap|{r.randint(60, 180)} minutos}}}}"),
            ]
        width = max(len(key) for key, _ in fields)
        aligned = r.random() < 0.5
        lines = [f"{{{{{kind}"]
        for key, value in fields:
            lines.append(f"| {key.ljust(width) if aligned else key} = {value}")
        lines.append("}}")
        return "\n".join(lines)

    # -- whole pages
    def new_title(self) -> str:
        r = self.rng
        while True:
            x = r.random()
            if x < 0.35:
                title = self.person()
                if r.random() < 0.2:
                    title += f" ({r.choice(('futebolista', 'político', 'escritor', 'cantor', 'pintor'))})"
            elif x < 0.6:
                title = f"{self.place()}" + (f" ({r.choice(('Portugal', 'Brasil', 'São Paulo', 'Minas Gerais'))})" if r.random() < 0.5 else "")
            elif x < 0.8:
                title = f"{r.choice(NOUNS).capitalize()} {r.choice(ADJECTIVES)}"
            else:
                title = f"{r.choice(NOUNS).capitalize()} {r.choice(('de', 'do', 'da'))} {self.place()}"
            if title not in self.used_titles:
                break
            title = f"{title} ({r.randint(1, 99999)})"
            if title not in self.used_titles:
                break
        self.used_titles.add(title)
        return title

    def remember(self, title: str) -> None:
        self.titles.append(title)
        if len(self.titles) > 5000:
            del self.titles[:1000]

    def article(self, title: str) -> str:
        r = self.rng
        target = int(min(12_500, max(900, r.lognormvariate(8.4, 0.6))))  # the tail below adds up to ~1.5 KB
        named: list[str] = []
        blocks: list[str] = []
        if r.random() < 0.03:
            blocks.append(f"{{{{Ver desambiguação|{title} ({r.choice(('desambiguação', 'cidade'))})}}}}")
        if r.random() < 0.65:
            blocks.append(self.infobox(title))
        if r.random() < 0.2:
            blocks.append("__NOTOC__")
        lead = f"'''{title}''' ({self.inline_template()}) {r.choice(VERBS)} {r.choice(('um', 'uma', 'o', 'a'))} {self.link()} {r.choice(ADJECTIVES)}. " + self.paragraph(named)
        blocks.append(lead)
        if r.random() < 0.5:
            blocks.append(self.paragraph(named))
        size = sum(len(b) for b in blocks)
        while size < target:
            section = [f"== {r.choice(SECTION_TITLES)} =="]
            if r.random() < 0.3:
                section.append(self.image())
            section.append(self.paragraph(named))
            x = r.random()
            if x < 0.25:
                section.append(self.list_block())
            elif x < 0.45:
                section.append(self.table())
            if r.random() < 0.35:
                section.append(f"=== {r.choice(SUBSECTION_TITLES)} ===")
                section.append(self.paragraph(named))
                if r.random() < 0.3:
                    section.append(self.list_block())
            if r.random() < 0.4:
                section.append(self.paragraph(named))
            if r.random() < 0.05:
                section.append(f"<!-- {self.sentence(max_words=10, markup=False)} -->")
            block = "\n\n".join(section)
            if size > 700 and size + len(block) > target + 1_000:
                break
            blocks.append(block)
            size += len(block) + 2
        if r.random() < 0.3:
            blocks.append("== Ver também ==\n" + "\n".join(f"* {self.link()}" for _ in range(r.randint(2, 5))))
        blocks.append("== Referências ==\n" + r.choice(("{{referências}}", "{{Referências|col=2}}", "<references />", "{{reflist}}")))
        if r.random() < 0.6:
            links = "\n".join(
                f"* [{self.url()} {r.choice(NOUNS).capitalize()} {r.choice(ADJECTIVES)}]" + (" {{pt}}" if r.random() < 0.3 else "")
                for _ in range(r.randint(1, 4))
            )
            blocks.append("== Ligações externas ==\n" + links)
        tail = []
        if r.random() < 0.4:
            tail.append(f"{{{{Portal3|{r.choice(TOPICS)}|{r.choice(TOPICS)}}}}}")
        if r.random() < 0.2:
            tail.append("{{Controle de autoridade}}")
        tail += [f"[[Categoria:{self.category()}]]" for _ in range(r.randint(1, 5))]
        blocks.append("\n".join(tail))
        return "\n\n".join(blocks) + "\n"

    def stub(self, title: str) -> str:
        r = self.rng
        return (f"'''{title}''' {r.choice(VERBS)} {r.choice(('um', 'uma'))} [[{r.choice(NOUNS)}]] "
                f"{r.choice(ADJECTIVES)} de [[{r.choice(COUNTRIES)}]].\n\n{{{{{r.choice(STUB_TEMPLATES)}}}}}\n"
                f"[[Categoria:{self.category()}]]")

    def disambiguation(self, title: str) -> str:
        r = self.rng
        lines = [f"'''{title}''' pode referir-se a:", ""]
        for _ in range(r.randint(3, 10)):
            qualifier = r.choice(("cidade", "futebolista", "rio", "filme", "álbum", "freguesia", "político"))
            lines.append(f"* [[{title} ({qualifier})]], {r.choice(('um', 'uma'))} {qualifier} {r.choice(ADJECTIVES)} de [[{r.choice(COUNTRIES)}]]")
        if r.random() < 0.4:
            lines += ["", "== Ver também ==", f"* {self.link()}"]
        lines += ["", "{{Desambiguação}}"]
        return "\n".join(lines) + "\n"

    def other_namespace(self) -> tuple[int, str, str]:
        r = self.rng
        x = r.random()
        if x < 0.35:
            name = self.category()
            text = (f"{self.sentence(max_words=20)}\n\n{{{{Commonscat|{name}}}}}\n"
                    f"[[Categoria:{self.category()}]]\n[[Categoria:{self.category()}| ]]")
            return 14, f"Categoria:{name} ({r.randint(1, 10**6)})", text
        if x < 0.5:
            name = f"{r.choice(('Info', 'Navbox', 'Portal', 'Esboço'))}/{r.choice(NOUNS)} {r.randint(1, 10**6)}"
            text = ("<includeonly>{{#if:{{{nome|}}}|'''{{{nome}}}'''|{{PAGENAME}}}}\n"
                    "{| class=\"infobox\"\n|-\n! {{{título|}}}\n|-\n| {{{1|}}}\n|}</includeonly>"
                    f"<noinclude>\n{{{{Documentação}}}}\n[[Categoria:!Predefinições sobre {r.choice(NOUNS)}]]\n</noinclude>")
            return 10, f"Predefinição:{name}", text
        if x < 0.75:
            user = f"{r.choice(FIRST_NAMES)}{r.randint(1, 9999)}"
            parts = [f"{{{{Discussão|{r.choice(TOPICS)}}}}}"]
            for _ in range(r.randint(1, 4)):
                parts.append(f"== {r.choice(SECTION_TITLES)} ==\n{self.paragraph([], 2)} "
                             f"[[Usuário(a):{user}|{user}]] ([[Usuário(a) Discussão:{user}|discussão]]) "
                             f"{r.choice(TALK_SIGNATURE_DATES)} (UTC)\n:{self.sentence(max_words=20)} ~~~~")
            return 1, f"Discussão:{self.known_title()} ({r.randint(1, 10**6)})", "\n\n".join(parts)
        if x < 0.88:
            user = f"{r.choice(FIRST_NAMES)}{r.randint(1, 10**6)}"
            text = (f"{{{{Usuário(a) pt-N}}}}\n{{{{Usuário(a) en-2}}}}\nOlá! Sou {r.choice(FIRST_NAMES)} e edito artigos sobre "
                    f"[[{r.choice(TOPICS)}]].\n* {self.link()}\n* {self.link()}")
            return 2, f"Usuário(a):{user}", text
        name = f"{r.choice(NOUNS).capitalize()} {self.place()} {r.randint(1, 10**6)}.jpg"
        text = (f"== Descrição ==\n{{{{Informação\n|descrição = {self.sentence(max_words=15, markup=False)}\n"
                f"|fonte = {{{{own}}}}\n|data = {self.year()}\n|autor = [[Usuário(a):{r.choice(FIRST_NAMES)}]]\n}}}}\n"
                f"== Licença ==\n{{{{cc-by-sa-4.0}}}}\n[[Categoria:Imagens de {self.place()}]]")
        return 6, f"Ficheiro:{name}", text


def generate_pages(size_mb: float, seed: int = 1, *, stats: Counter | None = None) -> Iterator[Page]:
    """Pages until the XML (header + pages + footer) reaches `size_mb` MB; deterministic for `seed`."""
    rng = random.Random(seed)
    synth = Synth(rng)
    limit = int(size_mb * MB)
    total = len(header_xml(SiteInfo()).encode("utf-8")) + len(FOOTER_XML)
    page_id = 0
    while total < limit:
        page_id += rng.randint(1, 12)
        revid = 60_000_000 + page_id * 7 + rng.randint(0, 6)
        x = rng.random()
        redirect = None
        if x < 0.85:
            title = synth.new_title()
            if rng.random() < 0.02:
                kind, ns, text = "stub", 0, synth.stub(title)
            else:
                kind, ns, text = "article", 0, synth.article(title)
            synth.remember(title)
        elif x < 0.93:
            target = synth.known_title()
            title = synth.new_title()
            kind, ns, redirect = "redirect", 0, target
            keyword = rng.choice(("#REDIRECIONAMENTO", "#REDIRECIONAMENTO", "#redirect", "#REDIRECT"))
            text = f"{keyword} [[{target}]]" + ("\n\n{{Redirecionamento de grafia alternativa}}" if rng.random() < 0.1 else "")
        elif x < 0.94:
            title = synth.new_title() + " (desambiguação)" if rng.random() < 0.3 else synth.new_title()
            kind, ns, text = "disambiguation", 0, synth.disambiguation(title.replace(" (desambiguação)", ""))
        else:
            ns, title, text = synth.other_namespace()
            if title in synth.used_titles:
                title = f"{title} {page_id}"
            synth.used_titles.add(title)
            kind = f"ns{ns}"
        page = Page(id=page_id, ns=ns, title=title, revid=revid, text=text, redirect=redirect)
        total += len(page_xml(page).encode("utf-8"))
        if stats is not None:
            stats[kind] += 1
        yield page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=200.0, help="minimum uncompressed XML size, MB (10^6 B)")
    parser.add_argument("--out-dir", type=Path, default=Path("benchmarks/out"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    dump_path, index_path = args.out_dir / DUMP_NAME, args.out_dir / INDEX_NAME
    xml_path, meta_path = args.out_dir / XML_NAME, args.out_dir / META_NAME
    meta_path.unlink(missing_ok=True)  # only a complete set of files gets a meta file
    site = SiteInfo()
    started = time.perf_counter()
    stats: Counter = Counter()
    write_multistream(site, generate_pages(args.size_mb, args.seed, stats=stats), dump_path, index_path,
                      pages_per_stream=100)
    multistream_s = time.perf_counter() - started
    write_xml(site, generate_pages(args.size_mb, args.seed), xml_path)
    elapsed = time.perf_counter() - started
    meta = {
        "seed": args.seed,
        "size_mb": args.size_mb,
        "xml_bytes": xml_path.stat().st_size,
        "dump_bytes": dump_path.stat().st_size,
        "index_bytes": index_path.stat().st_size,
        "pages": sum(stats.values()),
        "pages_by_kind": dict(sorted(stats.items())),
        "files": {"dump": DUMP_NAME, "index": INDEX_NAME, "xml": XML_NAME},
        "seconds": {"multistream": round(multistream_s, 1), "total": round(elapsed, 1)},
    }
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{meta['pages']} pages {meta['pages_by_kind']}", file=sys.stderr)
    print(f"XML {meta['xml_bytes'] / MB:.1f} MB, multistream {meta['dump_bytes'] / MB:.1f} MB, "
          f"in {elapsed:.1f} s -> {args.out_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
