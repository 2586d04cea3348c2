"""Wikitext to clean Portuguese plain text: the passes of `clean`, in order, and the fragments they share.

Comments, refs and content-less tags are removed with C-speed regexes; templates are rendered from the catalogue
(`templates.py`); tables become labelled rows (`tables.py`); links keep their labels and file links their captions;
emphasis, tags and entities go; the text is tidied and cut into sections (`sections.py`).
"""

from __future__ import annotations

import html
import operator
import re
from dataclasses import dataclass, field

from lhama.wikitext.markers import ANY_MARKER, CAPTION, CAPTION_SEGMENT, has_marker
from lhama.wikitext.sections import Caption, Section, Table, split_sections
from lhama.wikitext.tables import render_tables
from lhama.wikitext.templates import TemplateStats, render_templates, split_params

# Sections whose content is bibliography or navigation, not prose (compared case-insensitively).
DEFAULT_DROPPED_SECTIONS = frozenset({
    "referências", "notas", "notas e referências", "referências e notas", "ligações externas", "ver também",
    "bibliografia", "fontes", "leitura adicional", "referências bibliográficas", "notas de rodapé",
    "references", "external links", "see also",
})
DISAMBIGUATION_TEMPLATES = frozenset({"desambiguação", "desambiguacao", "desambig", "disambig", "dab", "dis"})

FILE_NAMESPACES = frozenset({"ficheiro", "arquivo", "imagem", "file", "image", "media", "multimédia", "mídia"})
CATEGORY_NAMESPACES = frozenset({"categoria", "category"})
# Image options that make MediaWiki show the caption under the image (a plain inline image shows none).
CAPTIONED_IMAGE_OPTIONS = frozenset({
    "thumb", "thumbnail", "miniatura", "miniaturadaimagem", "mini", "frame", "framed", "enquadrado", "moldura",
})
IMAGE_OPTIONS = CAPTIONED_IMAGE_OPTIONS | {
    "frameless", "semmoldura", "sem moldura", "border", "borda", "right", "direita", "left", "esquerda", "center",
    "centro", "centre", "none", "nenhum", "upright", "superior", "baseline", "middle", "sub", "super", "top",
    "text-top", "bottom", "text-bottom",
}
DROP_WITH_CONTENT_TAGS = (
    "math", "timeline", "score", "syntaxhighlight", "source", "imagemap", "graph", "mapframe",
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
_GALLERY = re.compile(r"<gallery\b[^>]*>(.*?)(?:</gallery\s*>|\Z)", re.I | re.S)
_DROP_TAGS = re.compile(
    r"<(%s)\b(?:[^>]*?/>|[^>]*>.*?(?:</\1\s*>|\Z))" % "|".join(DROP_WITH_CONTENT_TAGS), re.I | re.S
)
_EXTERNAL_LINK = re.compile(r"\[(?<!\[\[)(?:https?:|ftp:)?//[^\s\[\]]+(?:[ \t]+([^\[\]\n]*))?\]")
_FIRST_GROUP = operator.itemgetter(1)  # a C-level replacement callable: faster than the template r"\1"
_PLAIN_LINK = re.compile(r"\[\[([^\[\]|:#]+)\]\]")
_LABELLED_LINK = re.compile(r"\[\[[^\[\]|:]+\|([^\[\]|]+)\]\]")
_INNER_LINK = re.compile(r"\[\[([^\[\]]*)\]\]")
_BOLD_ITALIC = re.compile(r"''+")
_BR = re.compile(r"<br\s*/?\s*>", re.I)
_HTML_TAG = re.compile(r"</?(?:%s)\b[^>]*>" % "|".join(INLINE_HTML_TAGS), re.I)
_MAGIC_WORD = re.compile(r"__[A-ZÇÃÕÉÍ_]{3,}__")
_EMPTY_PARENTHESES = re.compile(r"\([ \t]*[,;:.–—-]*[ \t]*\)")
_EMPTY_SQUARE_BRACKETS = re.compile(r"\[[ \t]*\]")
_REPEATED_PUNCT = re.compile(r"[,;] ?(?=[,;.])")
_REDIRECT = re.compile(r"^\s*#\s*(?:redirecionamento|redirect)\b", re.I)
_DISAMBIGUATION = re.compile(
    r"\{\{\s*(?:%s)\s*(?:\||\}\})" % "|".join(sorted(map(re.escape, DISAMBIGUATION_TEMPLATES), key=len, reverse=True)),
    re.I,
)
_TEMPLATE_NAME = re.compile(r"\{\{\s*([^|{}]+?)\s*(?:\||\}\})")
_LANG_PREFIX = re.compile(r"^[a-z]{2,3}(?:-[a-z]{2,8})?$")
_IMAGE_SIZE_OR_KEY = re.compile(
    r"^(?:\d*\s*x?\s*\d+\s*px|upright\s*=?\s*[\d.]*|(?:alt|link|ligação|página|page|class|lang|thumbtime|start|end)"
    r"\s*=.*)$", re.I | re.S)


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
    tables: tuple[Table, ...] = ()
    captions: tuple[Caption, ...] = ()
    templates: TemplateStats = field(default_factory=TemplateStats, compare=False)

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


def _normalize_name(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).casefold()


def template_names(wikitext: str) -> set[str]:
    return {_normalize_name(match.group(1)) for match in _TEMPLATE_NAME.finditer(wikitext)}


def is_disambiguation(wikitext: str, templates: frozenset[str] = DISAMBIGUATION_TEMPLATES) -> bool:
    if "__DISAMBIG__" in wikitext:
        return True
    if templates is DISAMBIGUATION_TEMPLATES:
        return _DISAMBIGUATION.search(wikitext) is not None  # one scan instead of listing every template
    return not templates.isdisjoint(template_names(wikitext))


# ---------------------------------------------------------------------------------------------------- links, images


def image_caption(params: list[str]) -> str:
    """The caption MediaWiki shows under a framed image: the last parameter that is not an option, if the image is
    framed (`thumb`, `miniatura`...); an inline image shows none."""
    options = [param.strip() for param in params]
    if not any(option.casefold() in CAPTIONED_IMAGE_OPTIONS for option in options):
        return ""
    for option in reversed(options):
        if option and option.casefold() not in IMAGE_OPTIONS and not _IMAGE_SIZE_OR_KEY.match(option):
            return option
    return ""


def _render_link(match: re.Match) -> str:
    inner = match.group(1)
    target, pipe, label = inner.partition("|")
    visible_colon = target.startswith(":")
    target = target.strip().lstrip(":")
    prefix, colon, rest = target.partition(":")
    namespace = prefix.strip().casefold()
    if colon and not visible_colon:
        if namespace in FILE_NAMESPACES:
            caption = image_caption(label.split("|")) if pipe else ""
            return f"{CAPTION}{caption}{CAPTION}" if caption.strip() else ""
        if namespace in CATEGORY_NAMESPACES:
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


def _gallery_captions(match: re.Match) -> str:
    """`<gallery>` lines `Ficheiro:X.jpg|legenda`: each legend shown under its image."""
    captions = []
    for line in match.group(1).split("\n"):
        file_name, pipe, params = line.partition("|")
        if not pipe:
            continue
        options = params.split("|")
        caption = next((option for option in reversed(options)
                        if option.strip() and not _IMAGE_SIZE_OR_KEY.match(option.strip())), "")
        if caption.strip():
            captions.append(f"{CAPTION}{caption.strip()}{CAPTION}")
    return "\n" + "\n".join(captions) + "\n" if captions else ""


# ---------------------------------------------------------------------------------------------------- inline


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
    """Clean one fragment (an infobox value, a heading): templates, links, emphasis, tags, entities, spaces; image
    captions are left out (they are not part of a value)."""
    if "{{" in text:
        text = render_templates(text)
    if "[" in text:
        text = render_links(text)
    if CAPTION in text:  # the only marker a fragment can hold: tables are rendered after templates
        text = CAPTION_SEGMENT.sub("", text)
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
    if ("{" in text or "}" in text or "[[" in text or "]]" in text) and _STRAY_TOKEN.search(text):
        text = _STRAY_TOKEN.sub("", text)
    if "(" in text:  # two literal-prefixed patterns: an alternation of them scans every position
        text = _EMPTY_PARENTHESES.sub("", text)
    if "[" in text:
        text = _EMPTY_SQUARE_BRACKETS.sub("", text)
    text = _SPACE_BEFORE_CLOSING.sub(_FIRST_GROUP, text)
    for mark in _OPENING_MARKS:
        if mark + " " in text:
            text = text.replace(mark + " ", mark)
    if _COMMA_BEFORE_PUNCT.search(text) or _SEMICOLON_BEFORE_PUNCT.search(text):
        text = _REPEATED_PUNCT.sub("", text)
        while "  " in text:
            text = text.replace("  ", " ")
    return text


def _tidy_fragment(text: str) -> str:
    """The cheap `_tidy` for short one-line fragments (infobox values)."""
    text = " ".join(text.split())
    for mark in _CLOSING_MARKS:
        text = text.replace(" " + mark, mark)
    return text.replace("( ", "(").replace("()", "")


_ODD_SPACES = ("\t", "\u00a0", "\u2009", "\u202f")
_STRAY_TOKENS = ("{{", "}}", "[[", "]]", "{|", "|}")
_STRAY_TOKEN = re.compile("|".join(map(re.escape, _STRAY_TOKENS)))
# literal-prefixed, so `re` skips ahead with a fast search instead of trying a character class at every position
_COMMA_BEFORE_PUNCT = re.compile(r", ?[,;.]")
_SEMICOLON_BEFORE_PUNCT = re.compile(r"; ?[,;.]")
_SPACE_BEFORE_CLOSING = re.compile(r" ([,.;:)»])")
_CLOSING_MARKS = (",", ".", ";", ":", ")", "»")
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
    """Clean an article's wikitext into sections of paragraphs (with its tables as labelled rows and its image
    captions), its infobox, and what its templates became."""
    text = ANY_MARKER.sub("", wikitext) if has_marker(wikitext) else wikitext
    text = _COMMENT.sub("", text)
    text = _REF.sub("", text)
    if "<gallery" in text or "<Gallery" in text or "<GALLERY" in text:
        text = _GALLERY.sub(_gallery_captions, text)
    text = _DROP_TAGS.sub("", text)
    infoboxes: list[Infobox] = []
    stats = TemplateStats()

    def keep_first_infobox(name: str, params: list[str]) -> None:
        if not infoboxes:
            infoboxes.append(parse_infobox(name, params))

    text = render_templates(text, keep_first_infobox, stats)
    if "{|" in text:
        text = render_tables(text)
    text = render_links(text)
    text = _tidy(_strip_inline_markup(text, " "))
    sections, tables, captions = split_sections(text, dropped_sections)
    return CleanArticle(sections=sections, infobox=infoboxes[0] if infoboxes else None, tables=tables,
                        captions=captions, templates=stats)


__all__ = [
    "CATEGORY_NAMESPACES", "DEFAULT_DROPPED_SECTIONS", "DISAMBIGUATION_TEMPLATES", "FILE_NAMESPACES", "CleanArticle",
    "Infobox", "clean", "clean_inline", "image_caption", "is_disambiguation", "is_redirect", "parse_infobox",
    "render_links", "split_params", "template_names",
]
