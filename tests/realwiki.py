"""What a reader of a real ptwiki page keeps after cleaning: measures on the fixtures of `fixtures/ptwiki-real/`.

The same measures for lhama's `clean` and for mwparserfromhell's `strip_code` (what LangChain's `MWDumpLoader` gives):
- residue: non-empty output lines holding wiki markup (`{{`, `[[`, `<ref`, `{|`, `thumb|`, `&nbsp;`, ...);
- numbers kept: the numbers of the page's visible wikitext whose digits are found in the output;
- holes: a preposition right before punctuation (`no, Berlim`, `de.`) or an empty pair of brackets;
- table cells and image captions kept: those whose text (by mwparserfromhell) is found in the output.

"Visible wikitext" is read with mwparserfromhell, the same for both tools: text, link labels, template parameter
values (citation templates, refs, comments, URLs, tag attributes and file names left out), image captions.

    python tests/realwiki.py        # prints the table for every fixture
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import mwparserfromhell
import yaml
from mwparserfromhell.nodes import Argument, Comment, ExternalLink, Heading, HTMLEntity, Tag, Template, Text, Wikilink

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ptwiki-real"
MANIFEST = FIXTURES / "manifest.yaml"
RESIDUE_TOKENS = ("{{", "}}", "[[", "]]", "<ref", "</", "{|", "|}", "|-", "thumb|", "px|", "Categoria:", "&nbsp;",
                  "''", "<br")
FILE_PREFIXES = ("ficheiro:", "arquivo:", "imagem:", "file:", "image:")
HIDDEN_LINK_PREFIXES = ("categoria:", "category:")
CAPTIONED = {"thumb", "thumbnail", "miniatura", "miniaturadaimagem", "mini", "frame", "moldura", "enquadrado"}
CITATION_TEMPLATES = ("citar", "cite", "citation", "referência")
OPTION_PARAMS = {"tamanho", "size", "width", "largura", "align", "alinhamento", "upright", "alt", "link", "cor",
                 "color"}
_FILE_NAME = re.compile(r"\.(?:jpe?g|png|svg|gif|tiff?|webm|ogg|ogv|pdf)$", re.I)
_SIZE = re.compile(r"\d+(?:x\d+)?\s*px", re.I)
_HOLE = re.compile(
    r"\b(?:de|do|da|dos|das|em|no|na|nos|nas|por|pelo|pela|pelos|pelas|com|ao|aos|à|às|para)\s*[,.;:)]"
    r"|\(\s*[,;:]?\s*\)|\[\s*\]", re.I)
_GROUPED = re.compile(r"(?<=\d)(?:&nbsp;|\u00a0|\u202f| )(?=\d{3}\b)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_IMAGE_OPTION = re.compile(r"^(?:\d*x?\d+px|upright.*|alt=.*|link=.*|direita|esquerda|centro|nenhum|right|left|"
                           r"center|none|borda|border|frameless|semmoldura)$", re.I)


# ---------------------------------------------------------------------------------------------------- the page


def _file_caption(link: Wikilink) -> str | None:
    params = str(link.text or "").split("|")
    if not any(param.strip().casefold() in CAPTIONED for param in params):
        return None
    for param in reversed(params):
        if param.strip() and param.strip().casefold() not in CAPTIONED and not _IMAGE_OPTION.match(param.strip()):
            return param
    return None


def _shown_param(param) -> bool:
    """Template parameters that are options or file names, not text: `tamanho=35px`, `810px`, `X.jpg`."""
    value = str(param.value).strip()
    if _FILE_NAME.search(value) or _SIZE.fullmatch(value):
        return False
    return not (param.showkey and str(param.name).strip().casefold() in OPTION_PARAMS)


def visible_text(wikicode, *, templates: bool = True) -> str:
    """The page's text as a reader could see it, from the parse tree (see the module's docstring); with
    `templates=False`, without any template's text (for table cells: which of a template's parameters shows is
    the template's business, so a cell's expected text is only what is written in it)."""
    parts: list[str] = []
    for node in wikicode.nodes:
        if isinstance(node, Text):
            parts.append(node.value)
        elif isinstance(node, Wikilink):
            title = str(node.title).strip()
            folded = title.casefold()
            if folded.startswith(FILE_PREFIXES):
                caption = _file_caption(node)
                if caption:
                    parts.append(f" {visible_text(mwparserfromhell.parse(caption), templates=templates)} ")
            elif not folded.startswith(HIDDEN_LINK_PREFIXES):
                parts.append(visible_text(node.text, templates=templates) if node.text else title)
        elif isinstance(node, Template):
            if not templates or str(node.name).strip().casefold().startswith(CITATION_TEMPLATES):
                continue
            parts.extend(f" {visible_text(param.value)} " for param in node.params if _shown_param(param))
        elif isinstance(node, Tag):
            if str(node.tag).casefold() != "ref" and node.contents is not None:
                parts.append(f" {visible_text(node.contents, templates=templates)} ")
        elif isinstance(node, ExternalLink):
            if node.title:
                parts.append(visible_text(node.title, templates=templates))
        elif isinstance(node, HTMLEntity):
            parts.append(node.normalize())
        elif isinstance(node, Heading):
            parts.append(f" {visible_text(node.title, templates=templates)} ")
        elif isinstance(node, (Comment, Argument)):
            continue
    return "".join(parts)


def number_digits(text: str) -> list[str]:
    """The digits of each number: `21 069 501` and `21&nbsp;069&nbsp;501` -> `21069501`, `24,88`/`24.88` -> `2488`."""
    return [re.sub(r"\D", "", token) for token in _NUMBER.findall(_GROUPED.sub("", text))]


def table_cells(wikicode) -> list[str]:
    cells = []
    for tag in wikicode.filter_tags(matches=lambda node: str(node.tag).casefold() in ("td", "th")):
        text = " ".join(visible_text(tag.contents, templates=False).split())
        if any(character.isalnum() for character in text):
            cells.append(text)
    return cells


def captions(wikicode) -> list[str]:
    found = []
    for link in wikicode.filter_wikilinks():
        if str(link.title).strip().casefold().startswith(FILE_PREFIXES):
            caption = _file_caption(link)
            if caption:
                found.append(" ".join(visible_text(mwparserfromhell.parse(caption)).split()))
    return [caption for caption in found if caption]


# ---------------------------------------------------------------------------------------------------- measures


@dataclass
class Measures:
    lines: int = 0
    residue_lines: int = 0
    numbers: int = 0
    numbers_kept: int = 0
    holes: int = 0
    cells: int = 0
    cells_kept: int = 0
    captions: int = 0
    captions_kept: int = 0
    hole_examples: list[str] = field(default_factory=list)

    def add(self, other: "Measures") -> None:
        for name in ("lines", "residue_lines", "numbers", "numbers_kept", "holes", "cells", "cells_kept", "captions",
                     "captions_kept"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.hole_examples.extend(other.hole_examples)


def _normalized(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def measure(wikitext: str, output: str) -> Measures:
    page = mwparserfromhell.parse(wikitext)
    lines = [line for line in output.split("\n") if line.strip()]
    found_numbers = set(number_digits(output))
    expected_numbers = [digits for digits in number_digits(visible_text(page)) if digits]
    flat = _normalized(output)
    holes = [match.group() for match in _HOLE.finditer(output)]
    cells = table_cells(page)
    page_captions = captions(page)
    return Measures(
        lines=len(lines),
        residue_lines=sum(any(token in line for token in RESIDUE_TOKENS) for line in lines),
        numbers=len(expected_numbers),
        numbers_kept=sum(digits in found_numbers for digits in expected_numbers),
        holes=len(holes),
        cells=len(cells),
        cells_kept=sum(_normalized(cell) in flat for cell in cells),
        captions=len(page_captions),
        captions_kept=sum(_normalized(caption) in flat for caption in page_captions),
        hole_examples=holes[:5],
    )


def lhama_output(wikitext: str) -> str:
    """What lhama keeps of a page: its text (tables and captions included) and its infobox's values."""
    from lhama.wikitext import clean

    article = clean(wikitext)
    values = list(article.infobox.fields.values()) if article.infobox else []
    return "\n".join([article.text, *values])


def strip_code_output(wikitext: str) -> str:
    return mwparserfromhell.parse(wikitext).strip_code()


def fixtures() -> list[dict]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["pages"]


def fixture_text(entry: dict) -> str:
    return (FIXTURES / entry["file"]).read_text(encoding="utf-8")


def measure_all() -> dict[str, dict[str, Measures]]:
    """{fixture file: {"lhama": Measures, "strip_code": Measures}}, plus a "total" entry."""
    results: dict[str, dict[str, Measures]] = {}
    total = {"lhama": Measures(), "strip_code": Measures()}
    for entry in fixtures():
        text = fixture_text(entry)
        row = {"lhama": measure(text, lhama_output(text)), "strip_code": measure(text, strip_code_output(text))}
        for tool, measures in row.items():
            total[tool].add(measures)
        results[entry["file"]] = row
    results["total"] = total
    return results


def table(results: dict[str, dict[str, Measures]]) -> str:
    header = ("fixture", "tool", "lines", "residue", "numbers kept", "holes", "cells kept", "captions kept")
    rows = [header]
    for name, row in results.items():
        for tool, m in row.items():
            rows.append((name, tool, str(m.lines), f"{m.residue_lines}", f"{m.numbers_kept}/{m.numbers}", str(m.holes),
                         f"{m.cells_kept}/{m.cells}", f"{m.captions_kept}/{m.captions}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    print(table(measure_all()))
