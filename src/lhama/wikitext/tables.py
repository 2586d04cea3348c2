"""Wiki tables (`{| ... |}`) as what a reader takes from them.

- A data table becomes one line per row, each cell labelled by its column's header cells (`Ano: 1899 · Obra: Dom
  Casmurro`), or by the row's own header cell in a table laid out by rows (`Área: 21 km²`); spanned cells are
  carried to every row and column they cover, as the reader sees them.
- A layout table, with no header cell, that only wraps lists or prose (one column, or cells holding list items,
  paragraphs or long text), is unwrapped: its cells become ordinary lines.
- A navigation box (class `navbox` and the like) is dropped.

The rows are written with the control markers of `markers.py` so that the later passes (links, emphasis, tidy) clean
the cells like any text, and the sectioning turns them into `Table`s. The scan is one pass over the lines, and spans
are capped, so the work stays linear in the page whatever its markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lhama.wikitext.markers import CELL, LABEL, ROW, TABLE

MAX_SPAN = 50
LONG_CELL_CHARS = 300
NAVIGATION_CLASSES = ("navbox", "navigation", "navbar", "nowraplinks", "metadata", "noprint", "ambox", "mbox",
                      "vertical-navbox", "sidebar")

_HEADER_SEPARATOR = re.compile(r"!!|\|\|")
_SPAN = re.compile(r"\b(rowspan|colspan)\s*=\s*[\"']?\s*(\d+)", re.I)
_LIST_LINE = re.compile(r"^[*#:;]", re.M)


class Cell:
    """One cell; a plain class with slots: tables have many cells, and a dataclass with a list default per cell
    made their parsing twice as slow."""

    __slots__ = ("header", "text", "rowspan", "colspan", "nested")

    def __init__(self, header: bool, text: str, rowspan: int = 1, colspan: int = 1) -> None:
        self.header = header
        self.text = text
        self.rowspan = rowspan
        self.colspan = colspan
        self.nested: list[WikiTable] | None = None  # tables inside this cell


@dataclass
class WikiTable:
    attributes: str
    caption: str = ""
    rows: list[list[Cell]] = field(default_factory=list)
    nested: list[WikiTable] = field(default_factory=list)  # tables outside any cell
    spanned: bool = False  # some cell spans rows or columns
    nested_in_cells: bool = False


# ---------------------------------------------------------------------------------------------------- parsing


def _is_table_start(stripped: str) -> bool:
    return stripped.lstrip(":").lstrip().startswith("{|")


def _split_cells(body: str, header: bool) -> list[str]:
    """Split a row line on `||` (and `!!` in header lines); a link never holds `||`, so no need to skip links."""
    if header and "!!" in body:
        return _HEADER_SEPARATOR.split(body)
    return body.split("||") if "||" in body else [body]


def _attribute_split(text: str) -> tuple[str, str]:
    """`style="x" | content` -> (`style="x"`, `content`): a `|` before any link ends the attributes (attributes
    hold no links, and the pipes of `[[a|b]]` are the link's)."""
    pipe = text.find("|")
    if pipe < 0:
        return "", text
    link = text.find("[[")
    if 0 <= link < pipe:
        return "", text
    return text[:pipe], text[pipe + 1:]


def _make_cell(raw: str, header: bool) -> Cell:
    attributes, content = _attribute_split(raw)
    cell = Cell(header, content.strip())
    if attributes and "span" in attributes:
        for name, value in _SPAN.findall(attributes):
            span = max(1, min(int(value), MAX_SPAN))
            if name.casefold() == "rowspan":
                cell.rowspan = span
            else:
                cell.colspan = span
    return cell


def parse_table(lines: list[str], start: int) -> tuple[WikiTable, int]:
    """The table whose `{|` is `lines[start]`, and the index of the line after its `|}` (or the end)."""
    first = lines[start].strip().lstrip(":").lstrip()
    table = WikiTable(attributes=first[2:])
    row: list[Cell] | None = None
    cell: Cell | None = None
    index = start + 1
    end = len(lines)
    while index < end:
        raw = lines[index]
        stripped = raw.strip()
        lead = stripped[:2]
        if lead == "{|" or (lead[:1] == ":" and _is_table_start(stripped)):
            nested, index = parse_table(lines, index)
            if cell is None:
                table.nested.append(nested)
            else:
                cell.nested = (cell.nested or []) + [nested]
                table.nested_in_cells = True
            continue
        index += 1
        if lead == "|}":
            return table, index
        if lead == "|+":
            table.caption = _attribute_split(stripped[2:])[1].strip()
            cell = None
        elif lead == "|-":
            row, cell = [], None
            table.rows.append(row)
        elif lead[:1] == "|" or lead[:1] == "!":
            if row is None:
                row = []
                table.rows.append(row)
            header = lead[0] == "!"
            body = stripped[2:] if lead == "||" else stripped[1:]  # `|| cell` at a line start is one cell
            for part in _split_cells(body, header):
                cell = _make_cell(part, header)
                row.append(cell)
                if cell.rowspan > 1 or cell.colspan > 1:
                    table.spanned = True
        elif cell is not None:
            cell.text = f"{cell.text}\n{raw}" if cell.text else raw
    return table, index


# ---------------------------------------------------------------------------------------------------- rendering


def _is_navigation(table: WikiTable) -> bool:
    attributes = table.attributes.casefold()
    return any(name in attributes for name in NAVIGATION_CLASSES)


def _wraps_prose(table: WikiTable) -> bool:
    columns = max((sum(cell.colspan for cell in row) for row in table.rows), default=0)
    if columns <= 1:
        return True
    return any(
        "\n\n" in cell.text or _LIST_LINE.search(cell.text) or len(cell.text) > LONG_CELL_CHARS
        for row in table.rows for cell in row
    )


def _grid(rows: list[list[Cell]]) -> list[list[tuple[Cell, bool]]]:
    """Rows as columns: each (cell, first) where `first` is False for the columns a colspan adds; rowspans carried
    down to the rows they cover."""
    carried: dict[int, list] = {}  # column -> [rows left, cell, first]
    grid: list[list[tuple[Cell, bool]]] = []
    for row in rows:
        out: list[tuple[Cell, bool]] = []
        column = 0
        cells = iter(row)
        cell = next(cells, None)
        while cell is not None or (carried and max(carried) >= column):
            if column in carried:
                left, spanning, first = carried[column]
                out.append((spanning, first))
                if left <= 1:
                    del carried[column]
                else:
                    carried[column][0] = left - 1
            elif cell is not None:
                for offset in range(cell.colspan):
                    out.append((cell, offset == 0))
                    if cell.rowspan > 1:
                        carried[column + offset] = [cell.rowspan - 1, cell, offset == 0]
                column += cell.colspan - 1
                cell = next(cells, None)
            else:
                out.append((_EMPTY, True))
            column += 1
        grid.append(out)
    return grid


_EMPTY = Cell(False, "")


def _flat(text: str) -> str:
    """A cell's content on one line: list items joined with `; `, other lines with spaces."""
    if "\n" not in text:
        return text.strip()
    items = [line.strip().lstrip("*#:;").strip() for line in text.split("\n")]
    joiner = "; " if _LIST_LINE.search(text) else " "
    return joiner.join(item for item in items if item)


def _column_labels(grid: list[list[tuple[Cell, bool]]]) -> tuple[list[str], int]:
    """Labels from the leading rows made only of header cells (joined per column), and how many such rows."""
    labels: list[list[str]] = []
    count = 0
    for row in grid:
        if not row or not all(cell.header for cell, _ in row):
            break
        if count and len({id(cell) for cell, _ in row}) == 1 and len(row) > 1:
            break  # one header cell across the table, under the labels: a heading inside it ("Século XIX")
        count += 1
        for column, (cell, _) in enumerate(row):
            while len(labels) <= column:
                labels.append([])
            text = _flat(cell.text)
            if text and text not in labels[column]:
                labels[column].append(text)
    return [" ".join(parts) for parts in labels], count


def _data_lines(table: WikiTable) -> list[str]:
    grid = _grid(table.rows) if table.spanned else [[(cell, True) for cell in row] for row in table.rows]
    labels, header_rows = _column_labels(grid)
    lines = [TABLE + _flat(table.caption)]
    for row in grid[header_rows:]:
        cells: list[tuple[str, str]] = []
        if row and row[0][0].header and all(cell.header for cell, _ in row):  # a heading inside: "Década de 1990"
            texts = [text for text in dict.fromkeys(_flat(cell.text) for cell, first in row if first) if text]
            if texts == [label for label in labels if label]:
                continue  # the header repeated inside a long table
            cells.append(("", " · ".join(texts)))
        elif not labels and row and row[0][0].header:
            heads = [_flat(cell.text) for cell, first in row if cell.header and first]
            values = [_flat(cell.text) for cell, first in row if not cell.header and first]
            cells.append((" ".join(filter(None, heads)), " · ".join(filter(None, values))))
        else:
            for column, (cell, first) in enumerate(row):
                if first:
                    cells.append((labels[column] if column < len(labels) else "", _flat(cell.text)))
        if [value for _, value in cells] == labels or not any(value for _, value in cells):
            continue  # a header repeated inside the table, or an empty row
        lines.append(ROW + CELL.join(f"{label}{LABEL}{value}" for label, value in cells))
    nested = table.nested
    if table.nested_in_cells:
        nested = [inner for row in table.rows for cell in row for inner in cell.nested or ()] + nested
    for inner in nested:
        lines.extend(["", *render_table(inner)])
    return lines


def _unwrapped_lines(table: WikiTable) -> list[str]:
    lines: list[str] = []
    if table.caption:
        lines.extend([table.caption, ""])
    for row in table.rows:
        for cell in row:
            if cell.text:
                lines.extend([*cell.text.split("\n"), ""])
            for inner in cell.nested or ():
                lines.extend([*render_table(inner), ""])
    for inner in table.nested:
        lines.extend([*render_table(inner), ""])
    return lines


def render_table(table: WikiTable) -> list[str]:
    if _is_navigation(table):
        return []
    has_header = any(cell.header for row in table.rows for cell in row)
    if not has_header and _wraps_prose(table):
        return _unwrapped_lines(table)
    return _data_lines(table) + [""]


def render_tables(text: str) -> str:
    """Every table of `text` replaced by its rendering (see the module's docstring). Only the tables' own lines are
    split and scanned in Python: their edges (`{|`, `|}` at line starts) are found by one regex pass."""
    pieces: list[str] = []
    position = 0
    depth = 0
    start = 0
    for start_of_line, token in _table_edges(text):
        if token == "{|":
            if not depth:
                start = start_of_line
            depth += 1
            continue
        if not depth:
            continue  # a stray `|}`: left for the tidy pass
        depth -= 1
        if not depth:
            end = text.find("\n", start_of_line)
            end = len(text) if end < 0 else end
            pieces.extend([text[position:start], _rendered(text[start:end])])
            position = end
    if depth:  # an unterminated table runs to the end of the page
        pieces.extend([text[position:start], _rendered(text[start:])])
        position = len(text)
    pieces.append(text[position:])
    return "".join(pieces)


def _table_edges(text: str) -> list[tuple[int, str]]:
    """(line start, token) of each `{|` and `|}` that begins a line (after spaces or `:` indents), in order; found
    with `str.find`, which skips ahead far faster than a regex anchored at line starts."""
    edges = []
    for token in ("{|", "|}"):
        position = text.find(token)
        while position >= 0:
            line_start = text.rfind("\n", 0, position) + 1
            if not text[line_start:position].strip(" \t:"):
                edges.append((line_start, token))
            position = text.find(token, position + 2)
    edges.sort()
    return edges


def _rendered(block: str) -> str:
    table, _ = parse_table(block.split("\n"), 0)
    return "\n".join(["", *render_table(table)])
