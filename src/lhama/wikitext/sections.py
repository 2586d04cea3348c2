"""Clean text to sections: heading paths, paragraphs and list items, and the tables and captions of each section.

Works on the text after every cleaning pass; the table rows and image captions arrive as `markers.py` markers.
A section's paragraphs hold, in order, its prose, lists and tables (a table as one paragraph of `label: value`
rows), then its image captions; so everything a reader sees is in the text that is chunked for retrieval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lhama.wikitext.markers import CAPTION, CAPTION_SEGMENT, CELL, LABEL, ROW, TABLE

CELL_SEPARATOR = " · "
_LINE_MARKUP_STARTS = frozenset("=*#:;-")
_HEADING = re.compile(r"^(={1,6})\s*(.*?)\s*\1\s*$")
_LIST_MARKER = re.compile(r"^[*#:;]+\s*")
_ALNUM = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class Section:
    """Paragraphs under one heading path (`()` is the lead)."""

    path: tuple[str, ...]
    paragraphs: tuple[str, ...]

    def to_json(self) -> dict:
        return {"path": list(self.path), "paragraphs": list(self.paragraphs)}


@dataclass(frozen=True)
class Table:
    """A data table: its rows as (label, value) cells, and the paragraph it is in its section's text."""

    section: tuple[str, ...]
    caption: str
    rows: tuple[tuple[tuple[str, str], ...], ...]
    text: str

    def to_json(self) -> dict:
        return {"section": list(self.section), "caption": self.caption,
                "rows": [[list(cell) for cell in row] for row in self.rows], "text": self.text}


@dataclass(frozen=True)
class Caption:
    section: tuple[str, ...]
    text: str

    def to_json(self) -> dict:
        return {"section": list(self.section), "text": self.text}


def row_text(cells: tuple[tuple[str, str], ...]) -> str:
    """`Ano: 1899 · Obra: Dom Casmurro`."""
    return CELL_SEPARATOR.join(f"{label}: {value}" if label and label != value else value for label, value in cells)


def _tidy_piece(text: str) -> str:
    return " ".join(text.split()).strip(" ,;·")


def _row_cells(line: str) -> tuple[tuple[str, str], ...]:
    cells = []
    for raw in line[1:].split(CELL):
        label, _, value = raw.partition(LABEL)
        value = value.strip(" ,;·")  # spaces are already collapsed by the tidy pass
        if value and not value.isspace():
            cells.append((label.strip(" ,;·:"), value))
    return tuple(cells)


def _take_captions(line: str) -> tuple[str, list[str]]:
    captions = [_tidy_piece(match.group(1)) for match in CAPTION_SEGMENT.finditer(line)]
    rest = " ".join(CAPTION_SEGMENT.sub(" ", line).split())
    return rest, [caption for caption in captions if any(character.isalnum() for character in caption)]


def split_sections(text: str, dropped_sections: frozenset[str]) -> tuple[tuple[Section, ...], tuple[Table, ...],
                                                                         tuple[Caption, ...]]:
    sections: list[Section] = []
    tables: list[Table] = []
    captions: list[Caption] = []
    path: tuple[str, ...] = ()
    skipping_level = 0  # >0 while inside a dropped section (and its subsections)
    paragraphs: list[str] = []
    section_captions: list[str] = []
    current: list[str] = []
    in_list = False
    table_caption: str | None = None  # not None while a table is open
    table_rows: list[tuple[tuple[str, str], ...]] = []

    def end_paragraph() -> None:
        nonlocal in_list
        if current:
            if in_list:
                paragraph = "\n".join(filter(None, (line.strip(" ,;") for line in current)))
            else:  # prose lines hold no newline: one join and one strip
                paragraph = " ".join(current).strip(" ,;")
            if _ALNUM.search(paragraph):
                paragraphs.append(paragraph)
            current.clear()
        in_list = False

    def end_table() -> None:
        nonlocal table_caption
        if table_caption is not None and table_rows:
            lines = [row_text(row) for row in table_rows]
            text = "\n".join([table_caption, *lines] if table_caption else lines)
            paragraphs.append(text)
            if not skipping_level:
                tables.append(Table(path, table_caption, tuple(table_rows), text))
        table_caption = None
        table_rows.clear()

    def end_section() -> None:
        end_paragraph()
        end_table()
        for caption in dict.fromkeys(section_captions):
            paragraphs.append(caption)
            if not skipping_level:
                captions.append(Caption(path, caption))
        if paragraphs and not skipping_level:
            sections.append(Section(path, tuple(paragraphs)))
        paragraphs.clear()
        section_captions.clear()

    for line in text.split("\n"):
        stripped = line.strip()
        if CAPTION in stripped:
            stripped, found = _take_captions(stripped)
            section_captions.extend(found)
        if not stripped:
            if current or in_list:
                end_paragraph()
            if table_caption is not None:
                end_table()
            continue
        first = stripped[0]
        if first <= LABEL:  # a table marker (the markers are the lowest characters)
            if first == ROW:
                if table_caption is None:
                    end_paragraph()
                    table_caption = ""
                cells = _row_cells(stripped)
                if cells:
                    table_rows.append(cells)
            elif first == TABLE:
                end_paragraph()
                end_table()
                table_caption = _tidy_piece(stripped[1:])
            continue
        if table_caption is not None:
            end_table()
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
    return tuple(sections), tuple(tables), tuple(captions)
