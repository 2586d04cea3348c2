"""Wikitext to clean Portuguese plain text, with the section structure and the infobox kept apart.

Written by hand because no maintained library does both well and fast: mwparserfromhell's `strip_code` (and so
LangChain's `MWDumpLoader`) leaks category names, table text and file captions at ~1.2 MB/s; wikiextractor drops
list items and heading levels. This module removes whole constructs with balanced scans and C-speed regexes
(comments, refs, templates, tables, files, categories) and keeps what a reader sees: link labels, bold and italic
text, list items and headings. Templates that render visible text in running prose (dates, `nowrap`, `lang`) are
rendered; every other template is dropped. The first `{{Info/...}}` template is parsed into key/value facts.
"""

from __future__ import annotations

import html
import operator
import re
from dataclasses import dataclass, field

MONTHS_PT = (
    "janeiro", "fevereiro", "março", "abril", "maio", "junho",
    "julho", "agosto", "setembro", "outubro", "novembro", "dezembro",
)

# Sections whose content is bibliography or navigation, not prose (compared case-insensitively).
DEFAULT_DROPPED_SECTIONS = frozenset({
    "referências", "notas", "notas e referências", "referências e notas", "ligações externas", "ver também",
    "bibliografia", "fontes", "leitura adicional", "referências bibliográficas", "notas de rodapé",
    "references", "external links", "see also",
})
DISAMBIGUATION_TEMPLATES = frozenset({"desambiguação", "desambiguacao", "desambig", "disambig", "dab", "dis"})

FILE_NAMESPACES = frozenset({"ficheiro", "arquivo", "imagem", "file", "image", "media", "multimédia", "mídia"})
CATEGORY_NAMESPACES = frozenset({"categoria", "category"})
DATE_TEMPLATES = frozenset({
    "dni", "dnibr", "data de nascimento", "data de nascimento e idade", "nascimento", "morte", "data de morte",
    "falecimento", "dtlink", "data", "dataext", "idade e data de morte",
})
# Templates whose visible output is one of their arguments: name -> which positional argument (-1 = last).
TRANSPARENT_TEMPLATES = {
    "nowrap": 0, "nobr": 0, "sem quebra": 0, "small": 0, "pequeno": 0, "big": 0, "lang": -1, "lang-en": 0,
    "lang-la": 0, "lang-fr": 0, "lang-es": 0, "citação": 0, "quote": 0, "nota": -1, "não negrito": 0,
}
DROP_WITH_CONTENT_TAGS = (
    "math", "gallery", "timeline", "score", "syntaxhighlight", "source", "imagemap", "graph", "mapframe",
    "maplink", "templatedata", "chem", "ce", "hiero", "inputbox", "categorytree", "references", "pre",
)
INLINE_HTML_TAGS = (
    "span", "div", "small", "big", "sup", "sub", "center", "font", "b", "i", "u", "s", "del", "ins", "blockquote",
    "p", "abbr", "cite", "code", "poem", "onlyinclude", "includeonly", "noinclude", "nowiki", "section", "tt",
    "strong", "em", "q", "var", "kbd", "mark", "bdi", "dfn", "time", "data", "ruby", "rt", "rp", "wbr", "hr",
    "table", "tr", "td", "th", "caption", "ul", "ol", "li", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
)

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_REF = re.compile(r"<ref\b(?:[^>]*?/>|[^>]*>.*?(?:</ref\s*>|\Z))", re.I | re.S)
_DROP_TAGS = re.compile(
    r"<(%s)\b(?:[^>]*?/>|[^>]*>.*?(?:</\1\s*>|\Z))" % "|".join(DROP_WITH_CONTENT_TAGS), re.I | re.S
)
_TEMPLATE_PARAMETER = re.compile(r"\{\{\{[^{}]*\}\}\}")
_INNERMOST_TEMPLATE = re.compile(r"\{\{([^{}]*)\}\}")
_PARAM_TOKENS = re.compile(r"\{\{|\}\}|\[\[|\]\]|\|")
_EXTERNAL_LINK = re.compile(r"\[(?<!\[\[)(?:https?:|ftp:)?//[^\s\[\]]+(?:[ \t]+([^\[\]\n]*))?\]")
_FIRST_GROUP = operator.itemgetter(1)  # a C-level replacement callable: faster than the template r"\1"
_PLAIN_LINK = re.compile(r"\[\[([^\[\]|:#]+)\]\]")
_LABELLED_LINK = re.compile(r"\[\[[^\[\]|:]+\|([^\[\]|]+)\]\]")
_INNER_LINK = re.compile(r"\[\[([^\[\]]*)\]\]")
_BOLD_ITALIC = re.compile(r"''+")
_BR = re.compile(r"<br\s*/?\s*>", re.I)
_HTML_TAG = re.compile(r"</?(?:%s)\b[^>]*>" % "|".join(INLINE_HTML_TAGS), re.I)
_MAGIC_WORD = re.compile(r"__[A-ZÇÃÕÉÍ_]{3,}__")
_LINE_MARKUP_STARTS = frozenset("=*#:;-")
_HEADING = re.compile(r"^(={1,6})\s*(.*?)\s*\1\s*$")
_LIST_MARKER = re.compile(r"^[*#:;]+\s*")
_EMPTY_BRACKETS = re.compile(r"\([ \t]*[,;:.–—-]*[ \t]*\)|\[[ \t]*\]")
_REPEATED_PUNCT = re.compile(r"[,;] ?(?=[,;.])")
_REDIRECT = re.compile(r"^\s*#\s*(?:redirecionamento|redirect)\b", re.I)
_DISAMBIGUATION = re.compile(
    r"\{\{\s*(?:%s)\s*(?:\||\}\})" % "|".join(sorted(map(re.escape, DISAMBIGUATION_TEMPLATES), key=len, reverse=True)),
    re.I,
)
_TEMPLATE_NAME = re.compile(r"\{\{\s*([^|{}]+?)\s*(?:\||\}\})")
_LANG_PREFIX = re.compile(r"^[a-z]{2,3}(?:-[a-z]{2,8})?$")


@dataclass(frozen=True)
class Section:
    """Paragraphs under one heading path (`()` is the lead)."""

    path: tuple[str, ...]
    paragraphs: tuple[str, ...]

    def to_json(self) -> dict:
        return {"path": list(self.path), "paragraphs": list(self.paragraphs)}


@dataclass(frozen=True)
class Infobox:
    type: str
    fields: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"type": self.type, "fields": dict(self.fields)}


@dataclass(frozen=True)
class CleanArticle:
    sections: tuple[Section, ...]
    infobox: Infobox | None

    @property
    def text(self) -> str:
        """Headings as their own lines, paragraphs separated by blank lines."""
        blocks: list[str] = []
        for section in self.sections:
            if section.path:
                blocks.append(section.path[-1])
            blocks.extend(section.paragraphs)
        return "\n\n".join(blocks)

    @property
    def lead(self) -> str:
        return "\n\n".join(self.sections[0].paragraphs) if self.sections and not self.sections[0].path else ""


# ---------------------------------------------------------------------------------------------------- page kinds


def is_redirect(wikitext: str) -> bool:
    return bool(_REDIRECT.match(wikitext))


def template_names(wikitext: str) -> set[str]:
    return {_normalize_name(match.group(1)) for match in _TEMPLATE_NAME.finditer(wikitext)}


def is_disambiguation(wikitext: str, templates: frozenset[str] = DISAMBIGUATION_TEMPLATES) -> bool:
    if "__DISAMBIG__" in wikitext:
        return True
    if templates is DISAMBIGUATION_TEMPLATES:
        return _DISAMBIGUATION.search(wikitext) is not None  # one scan instead of listing every template
    return not templates.isdisjoint(template_names(wikitext))


# ---------------------------------------------------------------------------------------------------- templates


def _normalize_name(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).casefold()


def _split_params(inner: str) -> list[str]:
    """Split a template body on the `|` that are not inside nested templates or links."""
    parts: list[str] = []
    depth = 0
    start = 0
    for match in _PARAM_TOKENS.finditer(inner):
        token = match.group()
        if token in ("{{", "[["):
            depth += 1
        elif token in ("}}", "]]"):
            depth = max(depth - 1, 0)
        elif depth == 0:
            parts.append(inner[start : match.start()])
            start = match.end()
    parts.append(inner[start:])
    return parts


def _format_date(day: str, month: str, year: str) -> str:
    if month.isdigit() and 1 <= int(month) <= 12 and day.isdigit():
        return f"{int(day)} de {MONTHS_PT[int(month) - 1]} de {year}"
    if month.isdigit() and 1 <= int(month) <= 12:
        return f"{MONTHS_PT[int(month) - 1]} de {year}"
    return year


def _render_date(positional: list[str]) -> str:
    values = [value.strip() for value in positional if value.strip()]
    if not values:
        return ""
    if len(values[0]) == 4 and values[0].isdigit():  # year|month|day order
        year, month, day = (values + ["", ""])[:3]
        return _format_date(day, month, year) if month else year
    if len(values) >= 3:
        return _format_date(values[0], values[1], values[2])
    return values[-1]


def _render_template(inner: str, on_infobox) -> str:
    # Most templates render nothing: decide from the name before splitting parameters.
    raw_name = inner.partition("|")[0]
    name = _normalize_name(raw_name)
    if name.startswith("info/") or name.startswith("infobox"):
        params = _split_params(inner)
        on_infobox(params[0].strip(), params[1:])
        return ""
    if name not in DATE_TEMPLATES and name not in TRANSPARENT_TEMPLATES:
        return ""  # includes parser functions ({{#if:...}}) and magic words
    params = _split_params(inner)
    positional = [param for param in params[1:] if "=" not in param.split("[[")[0].split("{{")[0]]
    if name in DATE_TEMPLATES:
        return _render_date(positional)
    if name in TRANSPARENT_TEMPLATES and positional:
        index = TRANSPARENT_TEMPLATES[name]
        return positional[index] if -len(positional) <= index < len(positional) else positional[-1]
    return ""


def _ignore_infobox(name: str, params: list[str]) -> None:
    return None


def render_templates(text: str, on_infobox=None) -> str:
    """Replace every `{{...}}` by its visible rendering (mostly nothing); `{{{params}}}` are dropped.

    Innermost templates first, each pass one C-speed regex scan, so nested templates are rendered before the
    template around them sees its parameters (an infobox gets `12 de novembro de 1746`, not `{{dni|12|11|1746}}`).
    `on_infobox(name, raw_params)` is called for each `{{Info/...}}`, in document order within a nesting level.
    """
    if "{{" not in text:
        return text
    if "{{{" in text:
        text = _remove_repeatedly(_TEMPLATE_PARAMETER, text)
    callback = on_infobox or _ignore_infobox
    replace = lambda match: _render_template(match.group(1), callback)  # noqa: E731
    while "{{" in text:
        text, count = _INNERMOST_TEMPLATE.subn(replace, text)
        if not count:
            break  # unbalanced braces: left for _tidy to strip
    return text


def _remove_repeatedly(pattern: re.Pattern, text: str) -> str:
    while True:
        text, count = pattern.subn("", text)
        if not count:
            return text


# ---------------------------------------------------------------------------------------------------- links, inline


def _render_link(match: re.Match) -> str:
    inner = match.group(1)
    target, pipe, label = inner.partition("|")
    visible_colon = target.startswith(":")
    target = target.strip().lstrip(":")
    prefix, colon, rest = target.partition(":")
    namespace = prefix.strip().casefold()
    if colon and not visible_colon:
        if namespace in FILE_NAMESPACES or namespace in CATEGORY_NAMESPACES:
            return ""
        if _LANG_PREFIX.match(namespace) and not pipe:
            return ""  # interlanguage link
    if pipe:
        if label.strip():
            return label
        # pipe trick: [[Foo (bar)|]] shows "Foo"
        return re.sub(r"\s*\([^)]*\)\s*$", "", rest if colon and visible_colon else target)
    return target


def render_links(text: str) -> str:
    if "//" in text:
        text = _EXTERNAL_LINK.sub(lambda match: match.group(1) or "", text)
    # plain links (no namespace) at C speed; the rest, innermost first, so file captions collapse in a second pass
    text = _PLAIN_LINK.sub(_FIRST_GROUP, text)
    text = _LABELLED_LINK.sub(_FIRST_GROUP, text)
    while "[[" in text:
        text, count = _INNER_LINK.subn(_render_link, text)
        if not count:
            break
    return text


def _strip_inline_markup(text: str, line_break: str) -> str:
    """Emphasis, tags, magic words and entities; each regex runs only if its marker occurs (hot path)."""
    if "''" in text:
        text = _BOLD_ITALIC.sub("", text)
    if "<" in text:
        text = _BR.sub(line_break, text)
        text = _HTML_TAG.sub("", text)
    if "__" in text:
        text = _MAGIC_WORD.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def clean_inline(text: str, *, line_break: str = " ") -> str:
    """Clean one fragment (an infobox value, a heading): templates, links, emphasis, tags, entities, spaces."""
    if "{{" in text:
        text = render_templates(text)
    if "[" in text:
        text = render_links(text)
    text = _strip_inline_markup(text, line_break)
    return _tidy_fragment(text).strip(" ,;")


def _tidy(text: str) -> str:
    """Spaces and punctuation left behind by removed markup; never joins lines.

    Substring guards and literal-prefixed patterns only: Python's `re` scans a leading character class position by
    position, which made this the slowest step of extraction.
    """
    for space in _ODD_SPACES:
        if space in text:
            text = text.replace(space, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    if _STRAY_TOKEN.search(text):
        text = _STRAY_TOKEN.sub("", text)
    if "(" in text or "[" in text:
        text = _EMPTY_BRACKETS.sub("", text)
    text = _SPACE_BEFORE_CLOSING.sub(_drop_leading_space, text)
    for mark in _OPENING_MARKS:
        if mark + " " in text:
            text = text.replace(mark + " ", mark)
    if _REPEATED_PUNCT.search(text):
        text = _REPEATED_PUNCT.sub("", text)
        while "  " in text:
            text = text.replace("  ", " ")
    return text


def _drop_leading_space(match: re.Match) -> str:
    return match.group()[1]


def _tidy_fragment(text: str) -> str:
    """The cheap `_tidy` for short one-line fragments (infobox values)."""
    text = " ".join(text.split())
    for mark in _CLOSING_MARKS:
        text = text.replace(" " + mark, mark)
    return text.replace("( ", "(").replace("()", "")


_ODD_SPACES = ("\t", "\u00a0", "\u2009", "\u202f")
_STRAY_TOKEN = re.compile(r"\{\{|\}\}|\[\[|\]\]|\{\||\|\}")
_SPACE_BEFORE_CLOSING = re.compile(r" [,.;:)]")
_CLOSING_MARKS = (",", ".", ";", ":", ")")
_OPENING_MARKS = ("(", "«")


# ---------------------------------------------------------------------------------------------------- infobox


def parse_infobox(name: str, raw_params: list[str]) -> Infobox:
    fields: dict[str, str] = {}
    for raw in raw_params:
        key, equals, value = raw.partition("=")
        if not equals:
            continue
        key = " ".join(key.split())
        value = clean_inline(value, line_break="; ").strip(" ;")
        if key and value and key not in fields:
            fields[key] = value
    infobox_type = name.split("/", 1)[1].strip() if "/" in name else name.strip()
    return Infobox(type=infobox_type, fields=fields)


# ---------------------------------------------------------------------------------------------------- articles


def clean(wikitext: str, *, dropped_sections: frozenset[str] = DEFAULT_DROPPED_SECTIONS) -> CleanArticle:
    """Clean an article's wikitext into sections of paragraphs and its infobox."""
    text = _COMMENT.sub("", wikitext)
    text = _REF.sub("", text)
    text = _DROP_TAGS.sub("", text)
    infoboxes: list[Infobox] = []

    def keep_first_infobox(name: str, params: list[str]) -> None:
        if not infoboxes:
            infoboxes.append(parse_infobox(name, params))

    text = render_templates(text, keep_first_infobox)
    if "{|" in text:
        text = _drop_tables(text)
    text = render_links(text)
    text = _tidy(_strip_inline_markup(text, " "))
    return CleanArticle(sections=_sections(text, dropped_sections), infobox=infoboxes[0] if infoboxes else None)


def _drop_tables(text: str) -> str:
    """Remove `{| ... |}` tables, nested ones included (they start and end at line starts)."""
    kept: list[str] = []
    depth = 0
    for line in text.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith("{|"):
            depth += 1
        elif depth and stripped.startswith("|}"):
            depth -= 1
        elif not depth:
            kept.append(line)
    return "\n".join(kept)


def _sections(text: str, dropped_sections: frozenset[str]) -> tuple[Section, ...]:
    sections: list[Section] = []
    path: tuple[str, ...] = ()
    skipping_level = 0  # >0 while inside a dropped section (and its subsections)
    paragraphs: list[str] = []
    current: list[str] = []
    in_list = False

    def end_paragraph() -> None:
        nonlocal in_list
        if current:
            paragraph = ("\n" if in_list else " ").join(current)
            paragraph = "\n".join(filter(None, (line.strip(" ,;") for line in paragraph.split("\n"))))
            if paragraph and any(character.isalnum() for character in paragraph):
                paragraphs.append(paragraph)
            current.clear()
        in_list = False

    def end_section() -> None:
        end_paragraph()
        if paragraphs and not skipping_level:
            sections.append(Section(path, tuple(paragraphs)))
        paragraphs.clear()

    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            end_paragraph()
            continue
        first = stripped[0]
        if first not in _LINE_MARKUP_STARTS:  # plain prose, the common case
            if in_list:
                end_paragraph()
            current.append(stripped)
            continue
        heading = _HEADING.match(stripped) if first == "=" else None
        if heading:
            end_section()
            level = max(len(heading.group(1)), 2)
            title = heading.group(2).strip(" ,;")
            if skipping_level and level <= skipping_level:
                skipping_level = 0
            path = path[: level - 2] + ("",) * max(0, level - 2 - len(path)) + (title,)
            path = tuple(part for part in path if part)
            if not skipping_level and title.casefold() in dropped_sections:
                skipping_level = level
            continue
        if stripped.startswith("----"):
            end_paragraph()
            continue
        marker = _LIST_MARKER.match(stripped)
        if marker:
            if not in_list:
                end_paragraph()
                in_list = True
            item = stripped[marker.end() :]
            if marker.group().startswith(";"):
                item = item.replace(" : ", ": ", 1)
            if item.strip():
                current.append(item)
            continue
        if in_list:
            end_paragraph()
        current.append(stripped)
    end_section()
    return tuple(sections)
