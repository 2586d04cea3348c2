"""MediaWiki XML dumps: reading .xml, .xml.bz2 and multistream .xml.bz2 with its index (writing: `lhama.dump_writer`).

A multistream dump is a concatenation of independent bz2 streams: the first holds the `<mediawiki>` header and
`<siteinfo>`, each following one holds up to 100 `<page>` elements, and the last holds `</mediawiki>`. The index
(`offset:page_id:title` per line, itself bz2-compressed) gives the byte offset of the stream holding each page, so
whole streams can be cut into byte ranges and decoded independently.
"""

from __future__ import annotations

import bz2
import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from lhama.errors import DumpError, IndexMismatchError

SUPPORTED_SCHEMAS = ("0.10", "0.11")
EXPORT_NS_PREFIX = "http://www.mediawiki.org/xml/export-"
BZ2_MAGIC = b"BZh"
FOOTER_XML = "</mediawiki>\n"

# The namespaces of pt.wikipedia.org (siteinfo of a 2023 dump).
PTWIKI_NAMESPACES: dict[int, str] = {
    -2: "Multimédia", -1: "Especial", 0: "", 1: "Discussão", 2: "Usuário(a)", 3: "Usuário(a) Discussão",
    4: "Wikipédia", 5: "Wikipédia Discussão", 6: "Ficheiro", 7: "Ficheiro Discussão", 8: "MediaWiki",
    9: "MediaWiki Discussão", 10: "Predefinição", 11: "Predefinição Discussão", 12: "Ajuda", 13: "Ajuda Discussão",
    14: "Categoria", 15: "Categoria Discussão", 100: "Portal", 101: "Portal Discussão", 102: "Anexo",
    103: "Anexo Discussão", 104: "Livro", 105: "Livro Discussão", 710: "TimedText", 711: "TimedText Discussão",
    828: "Módulo", 829: "Módulo Discussão",
}


@dataclass(frozen=True)
class SiteInfo:
    sitename: str = "Wikipédia"
    dbname: str = "ptwiki"
    base: str = "https://pt.wikipedia.org/wiki/Wikip%C3%A9dia:P%C3%A1gina_principal"
    generator: str = "MediaWiki 1.41.0-wmf.28"
    lang: str = "pt"
    schema_version: str = "0.11"
    namespaces: dict[int, str] = field(default_factory=lambda: dict(PTWIKI_NAMESPACES))

    @property
    def xmlns(self) -> str:
        return f"{EXPORT_NS_PREFIX}{self.schema_version}/"

    @property
    def article_url_prefix(self) -> str:
        """`https://pt.wikipedia.org/wiki/` from the main page URL in `<base>`."""
        head, sep, _ = self.base.rpartition("/wiki/")
        return f"{head}/wiki/" if sep else self.base.rsplit("/", 1)[0] + "/"


@dataclass(frozen=True)
class Page:
    id: int
    ns: int
    title: str
    revid: int
    text: str
    timestamp: str = "2026-11-01T00:00:00Z"
    redirect: str | None = None
    contributor: str = "lhama"
    model: str = "wikitext"


@dataclass(frozen=True)
class IndexEntry:
    offset: int
    page_id: int
    title: str


@dataclass(frozen=True)
class ByteRange:
    """Whole bz2 streams `[start, end)` of a multistream dump and the page ids the index puts there."""

    start: int
    end: int
    page_ids: tuple[int, ...]


# ---------------------------------------------------------------------------------------------------- reading


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def sniff_compression(path: Path) -> str:
    """'bz2' or 'xml', from the first bytes; a clear error for empty or unknown files."""
    if not path.exists():
        raise DumpError(path, "no such file")
    with open(path, "rb") as handle:
        head = handle.read(512)
    if not head:
        raise DumpError(path, "file is empty")
    if head.startswith(BZ2_MAGIC):
        return "bz2"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        return "xml"
    raise DumpError(path, "neither bz2-compressed nor XML (unknown leading bytes)", where="offset 0")


def _schema_version(root_tag: str, version_attr: str | None, path: Path) -> str:
    namespace = root_tag[1:].partition("}")[0] if root_tag.startswith("{") else ""
    version = version_attr or namespace.removeprefix(EXPORT_NS_PREFIX).rstrip("/")
    if version not in SUPPORTED_SCHEMAS:
        raise DumpError(path, f"unsupported MediaWiki export schema {version!r} (supported: {', '.join(SUPPORTED_SCHEMAS)})")
    return version


def _siteinfo_from_element(element: etree._Element | None, version: str, lang: str) -> SiteInfo:
    if element is None:
        return SiteInfo(schema_version=version, lang=lang, namespaces={0: ""})
    values = {_local(child.tag): child for child in element}
    namespaces: dict[int, str] = {}
    if "namespaces" in values:
        for ns in values["namespaces"]:
            namespaces[int(ns.get("key"))] = ns.text or ""
    return SiteInfo(
        sitename=(values["sitename"].text or "") if "sitename" in values else "",
        dbname=(values["dbname"].text or "") if "dbname" in values else "",
        base=(values["base"].text or "") if "base" in values else "",
        generator=(values["generator"].text or "") if "generator" in values else "",
        lang=lang,
        schema_version=version,
        namespaces=namespaces or {0: ""},
    )


def page_from_element(element: etree._Element) -> Page:
    """A `<page>` element to a Page; missing children give clear defaults (deleted text is empty)."""
    title = ns = page_id = revid = timestamp = None
    text = ""
    redirect = None
    model = "wikitext"
    for child in element:
        name = _local(child.tag)
        if name == "title":
            title = child.text or ""
        elif name == "ns":
            ns = int(child.text)
        elif name == "id":
            page_id = int(child.text)
        elif name == "redirect":
            redirect = child.get("title")
        elif name == "revision":
            for rev_child in child:
                rev_name = _local(rev_child.tag)
                if rev_name == "id":
                    revid = int(rev_child.text)
                elif rev_name == "timestamp":
                    timestamp = rev_child.text
                elif rev_name == "text":
                    text = rev_child.text or ""
                elif rev_name == "model":
                    model = rev_child.text or model
    if title is None or page_id is None:
        raise ValueError("a <page> without <title> or <id>")
    return Page(
        id=page_id,
        ns=ns if ns is not None else 0,
        title=title,
        revid=revid or 0,
        text=text,
        timestamp=timestamp or "",
        redirect=redirect,
        model=model,
    )


def _xml_parser() -> etree.XMLParser:
    # No entity expansion, no network: dumps only use the five predefined XML entities.
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)


class DumpReader:
    """Sequential reading of a whole dump (`.xml` or any `.xml.bz2`), with bounded memory.

    `siteinfo` is filled once iteration has passed the header; `bytes_read` counts compressed bytes consumed so a
    progress bar can show MB/s of the file on disk.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.compression = sniff_compression(self.path)
        self.siteinfo: SiteInfo | None = None
        self._raw: BinaryIO | None = None

    @property
    def bytes_read(self) -> int:
        return self._raw.tell() if self._raw is not None and not self._raw.closed else 0

    def __iter__(self) -> Iterator[Page]:
        with open(self.path, "rb") as raw:
            self._raw = raw
            stream: BinaryIO = bz2.BZ2File(raw) if self.compression == "bz2" else raw  # type: ignore[assignment]
            yield from self._iter_pages(stream)

    def _iter_pages(self, stream: BinaryIO) -> Iterator[Page]:
        context = etree.iterparse(
            stream, events=("start", "end"), resolve_entities=False, no_network=True, huge_tree=True
        )
        root = None
        version = ""
        depth = 0
        title: str | None = None  # of the page being read, for error messages
        etree.clear_error_log()  # the log is per thread, not per parse: keep only this parse's errors
        try:
            for event, element in context:
                if event == "start":
                    depth += 1
                    if depth == 2:
                        title = None
                    elif root is None:
                        root = element
                        if _local(element.tag) != "mediawiki":
                            raise DumpError(
                                self.path, f"root element is <{_local(element.tag)}>, expected <mediawiki>", where="line 1"
                            )
                        version = _schema_version(element.tag, element.get("version"), self.path)
                    continue
                depth -= 1
                name = _local(element.tag)
                if depth == 2 and name == "title":
                    title = element.text
                elif depth == 1 and name == "siteinfo":
                    lang = root.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
                    self.siteinfo = _siteinfo_from_element(element, version, lang)
                    element.clear()
                elif depth == 1 and name == "page":
                    if self.siteinfo is None:
                        lang = root.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
                        self.siteinfo = _siteinfo_from_element(None, version, lang)
                    try:
                        page = page_from_element(element)
                    except (ValueError, TypeError) as error:
                        raise DumpError(self.path, f"invalid <page>: {error}", where=f"line {element.sourceline}") from None
                    element.clear()
                    while element.getprevious() is not None:
                        del root[0]
                    yield page
        except etree.XMLSyntaxError as error:
            message, line = _first_xml_error(error)
            raise DumpError(self.path, f"malformed XML{_in_page(title)}: {message}",
                            where=f"line {line}" if line else None) from None
        except (EOFError, OSError) as error:
            raise DumpError(self.path, f"corrupt or truncated bz2 data: {error}", where=f"offset {self.bytes_read}") from None
        if root is None:
            raise DumpError(self.path, "no XML element found")


def _first_xml_error(error: etree.XMLSyntaxError) -> tuple[str, int | None]:
    """The message and line of the first error of a parse (the caller cleared lxml's per-thread log before it).

    The exception's own message is libxml2's last word, often a consequence at the wrong place: an undefined entity
    at line 513 surfaces as "Extra content at the end of the document, line 2"; the log keeps the cause."""
    for entry in error.error_log:
        if entry.level_name in ("ERROR", "FATAL"):
            return entry.message, entry.line or None
    line = error.position[0] if error.position else 0
    return error.msg, line or None


def _in_page(title: str | None) -> str:
    return f" in page {title!r}" if title else ""


class RangeXMLError(DumpError):
    """Malformed XML inside one multistream range. The worker that decodes the range knows the line only within it;
    the extraction, reading the ranges in order, turns it into the dump's line (`line_in_range` + lines before)."""

    def __init__(self, path: str | Path, problem: str, *, range_start: int, line_in_range: int | None) -> None:
        self.range_start = range_start
        self.line_in_range = line_in_range
        where = f"offset {range_start}" + (f", line {line_in_range} of the range" if line_in_range else "")
        super().__init__(path, problem, where=where)

    def __reduce__(self):
        return _rebuild_range_error, (self.path, self.problem, self.range_start, self.line_in_range)

    def at_dump_line(self, lines_before: int) -> DumpError:
        """The same error placed at its line in the whole decompressed dump."""
        if self.line_in_range is None:
            return DumpError(self.path, self.problem, where=f"offset {self.range_start}")
        return DumpError(self.path, self.problem, where=f"line {lines_before + self.line_in_range}")


def _rebuild_range_error(path: str, problem: str, range_start: int, line_in_range: int | None) -> RangeXMLError:
    return RangeXMLError(path, problem, range_start=range_start, line_in_range=line_in_range)


def _title_before_line(body: bytes, line: int) -> str | None:
    """The title of the page whose XML holds `line` (1-based) of `body`, when its `<title>` comes before that line."""
    start = 0
    for _ in range(line - 1):
        start = body.find(b"\n", start) + 1
        if start == 0:
            return None
    end = body.find(b"\n", start)
    opening = body.rfind(b"<title>", 0, len(body) if end < 0 else end)
    closing = body.find(b"</title>", opening) if opening >= 0 else -1
    if closing < 0:
        return None
    return html.unescape(body[opening + len(b"<title>") : closing].decode("utf-8", "replace"))


# ---------------------------------------------------------------------------------------------------- multistream


def read_index(path: str | Path) -> list[IndexEntry]:
    """Parse an `offset:page_id:title` index (`.txt` or `.txt.bz2`); errors name the line."""
    path = Path(path)
    if not path.exists():
        raise IndexMismatchError(path, "multistream index not found")
    raw = path.read_bytes()
    if not raw:
        raise IndexMismatchError(path, "index file is empty")
    if raw.startswith(BZ2_MAGIC):
        try:
            raw = bz2.decompress(raw)
        except (OSError, EOFError, ValueError) as error:
            raise IndexMismatchError(path, f"corrupt bz2 index: {error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise IndexMismatchError(path, f"index is not UTF-8 text: {error.reason}", where=f"offset {error.start}") from None
    entries: list[IndexEntry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line:
            continue
        offset, sep1, rest = line.partition(":")
        page_id, sep2, title = rest.partition(":")
        if not (sep1 and sep2 and offset.isdigit() and page_id.isdigit()):
            raise IndexMismatchError(path, f"expected 'offset:page_id:title', got {line[:80]!r}", where=f"line {number}")
        entries.append(IndexEntry(int(offset), int(page_id), title))
    if not entries:
        raise IndexMismatchError(path, "index has no entries")
    return entries


def plan_ranges(entries: list[IndexEntry], dump_size: int, target_bytes: int) -> list[ByteRange]:
    """Group consecutive streams into ranges of about `target_bytes` compressed bytes.

    The plan depends only on the index and `target_bytes`, never on the number of workers, so the output order
    (and sharding) is the same whatever the parallelism.
    """
    ids_by_offset: dict[int, list[int]] = {}
    for entry in entries:
        ids_by_offset.setdefault(entry.offset, []).append(entry.page_id)
    offsets = sorted(ids_by_offset)
    ranges: list[ByteRange] = []
    start = offsets[0]
    ids: list[int] = []
    for position, offset in enumerate(offsets):
        ids.extend(ids_by_offset[offset])
        following = offsets[position + 1] if position + 1 < len(offsets) else dump_size
        if following - start >= target_bytes or following == dump_size:
            ranges.append(ByteRange(start, following, tuple(ids)))
            start, ids = following, []
    return ranges


def read_header(dump_path: Path, first_offset: int) -> tuple[SiteInfo, str]:
    """Siteinfo and the literal `<mediawiki ...>` opening tag from the header stream `[0, first_offset)`."""
    with open(dump_path, "rb") as handle:
        raw = handle.read(first_offset)
    if not raw.startswith(BZ2_MAGIC):
        raise IndexMismatchError(dump_path, "does not start with a bz2 stream; not a multistream dump", where="offset 0")
    try:
        header = bz2.decompress(raw).decode("utf-8")
    except (OSError, EOFError, ValueError) as error:
        raise IndexMismatchError(
            dump_path, f"the index's first offset {first_offset} does not end the header stream ({error})"
        ) from None
    match = re.search(r"<mediawiki\b[^>]*>", header)
    if match is None:
        root = re.search(r"<([A-Za-z_][\w.:-]*)", header)
        found = root.group(1) if root else "nothing"
        raise DumpError(dump_path, f"root element is <{found}>, expected <mediawiki>", where="offset 0")
    try:
        root = etree.fromstring((header + FOOTER_XML).encode("utf-8"), _xml_parser())
    except etree.XMLSyntaxError as error:
        raise DumpError(dump_path, f"malformed XML in header stream: {error.msg}", where="offset 0") from None
    version = _schema_version(root.tag, root.get("version"), dump_path)
    siteinfo_element = next((child for child in root if _local(child.tag) == "siteinfo"), None)
    lang = root.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    return _siteinfo_from_element(siteinfo_element, version, lang), match.group(0)


def header_line_count(dump_path: Path, first_offset: int) -> int:
    """How many lines the header stream `[0, first_offset)` holds: the first page stream starts on the next one."""
    with open(dump_path, "rb") as handle:
        raw = handle.read(first_offset)
    try:
        return bz2.decompress(raw).count(b"\n")
    except (OSError, EOFError, ValueError) as error:
        raise IndexMismatchError(dump_path, f"the header stream does not decode ({error})", where="offset 0") from None


def read_range(dump_path: Path, byte_range: ByteRange, opening_tag: str) -> list[Page]:
    """Decode the whole streams of one range in bulk and parse their pages; checks them against the index."""
    return range_pages(dump_path, byte_range, opening_tag, decode_range(dump_path, byte_range))


def decode_range(dump_path: Path, byte_range: ByteRange) -> bytes:
    """The decompressed XML of one range's streams (its pages, and the footer for the last range)."""
    with open(dump_path, "rb") as handle:
        handle.seek(byte_range.start)
        raw = handle.read(byte_range.end - byte_range.start)
    where = f"offset {byte_range.start}"
    if not raw.startswith(BZ2_MAGIC):
        raise IndexMismatchError(dump_path, "index offset does not point at the start of a bz2 stream", where=where)
    try:
        decompressed = _decompress_streams(raw)
    except EOFError as error:
        if byte_range.end < dump_path.stat().st_size:
            raise IndexMismatchError(
                dump_path, f"the index's offset {byte_range.end} is not the start of a bz2 stream: "
                "the index does not belong to this dump", where=where) from None
        raise DumpError(dump_path, f"corrupt or truncated bz2 data: {error}", where=where) from None
    except (OSError, ValueError) as error:
        raise DumpError(dump_path, f"corrupt bz2 data: {error}", where=where) from None
    return decompressed


def range_pages(dump_path: Path, byte_range: ByteRange, opening_tag: str, decompressed: bytes) -> list[Page]:
    """Parse a decoded range's pages and check them against the index. Malformed XML is a RangeXMLError with the
    line in the range (the range's first line shares the parse's first line with the opening tag)."""
    where = f"offset {byte_range.start}"
    body = decompressed.rstrip()
    if body.endswith(b"</mediawiki>"):
        body = body[: -len(b"</mediawiki>")]
    etree.clear_error_log()
    try:
        root = etree.fromstring(opening_tag.encode("utf-8") + body + FOOTER_XML.encode("utf-8"), _xml_parser())
    except etree.XMLSyntaxError as error:
        message, line = _first_xml_error(error)
        title = _title_before_line(body, line) if line else None
        raise RangeXMLError(dump_path, f"malformed XML{_in_page(title)}: {message}", range_start=byte_range.start,
                            line_in_range=line) from None
    pages: list[Page] = []
    for element in root:
        if _local(element.tag) != "page":
            continue
        try:
            pages.append(page_from_element(element))
        except (ValueError, TypeError) as error:
            raise DumpError(dump_path, f"invalid <page>: {error}", where=where) from None
    found = tuple(page.id for page in pages)
    if found != byte_range.page_ids:
        missing = sorted(set(byte_range.page_ids) - set(found))[:3]
        extra = sorted(set(found) - set(byte_range.page_ids))[:3]
        raise IndexMismatchError(
            dump_path,
            f"index does not match the dump: index lists {len(byte_range.page_ids)} pages here, dump has {len(found)}"
            f" (missing ids {missing}, unexpected ids {extra})",
            where=where,
        )
    return pages


def _decompress_streams(raw: bytes) -> bytes:
    """Decompress concatenated bz2 streams; unlike `bz2.decompress`, fails on a truncated last stream."""
    out = io.BytesIO()
    data = raw
    while data:
        decompressor = bz2.BZ2Decompressor()
        out.write(decompressor.decompress(data))
        if not decompressor.eof:
            raise EOFError("compressed data ended before the end-of-stream marker was reached")
        data = decompressor.unused_data
        if data and not data.startswith(BZ2_MAGIC):
            raise OSError("trailing bytes after a bz2 stream are not a bz2 stream")
    return out.getvalue()
