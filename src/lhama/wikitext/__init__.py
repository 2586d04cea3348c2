"""Wikitext to clean Portuguese plain text: what a reader of the page sees, with the section structure, the infobox,
the tables and the image captions kept apart.

Written by hand because no maintained library does this well and fast: mwparserfromhell's `strip_code` (and so
LangChain's `MWDumpLoader`) leaks category names, table markup and file options at ~1.2 MB/s, and drops the text of
every template; wikiextractor drops list items and heading levels. Whole constructs are removed with balanced scans
and C-speed regexes (comments, refs, files, categories); templates that show text (dates, numbers, centuries,
languages, eras, units, flags, quotes) are rendered from a catalogue of ptwiki's templates kept as data
(`lhama/data/templates.yaml`), and the others are counted; data tables become labelled rows; image captions are
kept; the first `{{Info/...}}` template is parsed into key/value facts.

- `core`: the passes of `clean`, links, images, emphasis, tidy, infobox.
- `templates` and `catalogue`: template rendering and the catalogue it reads.
- `tables`: wiki tables as labelled rows, layout tables unwrapped, navigation boxes dropped.
- `sections`: heading paths, paragraphs, and the tables and captions of each section.
"""

from lhama.wikitext.catalogue import Catalogue, CatalogueError, default_catalogue, load_catalogue, template_key
from lhama.wikitext.core import (
    CATEGORY_NAMESPACES,
    DEFAULT_DROPPED_SECTIONS,
    DISAMBIGUATION_TEMPLATES,
    FILE_NAMESPACES,
    CleanArticle,
    Infobox,
    clean,
    clean_inline,
    image_caption,
    is_disambiguation,
    is_redirect,
    parse_infobox,
    render_links,
    template_names,
)
from lhama.wikitext.sections import Caption, Section, Table, row_text
from lhama.wikitext.tables import render_tables
from lhama.wikitext.templates import MONTHS_PT, TemplateStats, format_number, render_templates

__all__ = [
    "CATEGORY_NAMESPACES", "DEFAULT_DROPPED_SECTIONS", "DISAMBIGUATION_TEMPLATES", "FILE_NAMESPACES", "MONTHS_PT",
    "Caption", "Catalogue", "CatalogueError", "CleanArticle", "Infobox", "Section", "Table", "TemplateStats", "clean",
    "clean_inline", "default_catalogue", "format_number", "image_caption", "is_disambiguation", "is_redirect",
    "load_catalogue", "parse_infobox", "render_links", "render_tables", "render_templates", "row_text",
    "template_key", "template_names",
]
