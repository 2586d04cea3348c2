"""Reading and writing MediaWiki dumps: round trips, multistream planning, the index, and bad input."""

import bz2
import re
from pathlib import Path

import pytest

from dumpfactory import (
    Dumps, other_pages, rebuild_multistream, sample_pages, stream_offsets, truncate, write_dumps, write_index,
)
from lhama.dump import (
    PTWIKI_NAMESPACES, DumpReader, IndexEntry, Page, SiteInfo, plan_ranges, read_header, read_index, read_range,
)
from lhama.dump_writer import write_xml
from lhama.errors import DumpError, IndexMismatchError, LhamaError


@pytest.fixture(scope="module")
def dumps(tmp_path_factory) -> Dumps:
    return write_dumps(tmp_path_factory.mktemp("dumps"))


def read_via_index(dump: Path, index: Path, target_bytes: int = 1) -> list[Page]:
    """What parallel extraction does: index -> header -> plan -> every range, in plan order."""
    entries = read_index(index)
    _, opening_tag = read_header(dump, entries[0].offset)
    ranges = plan_ranges(entries, dump.stat().st_size, target_bytes)
    return [page for byte_range in ranges for page in read_range(dump, byte_range, opening_tag)]


def reported_line(error: Exception) -> int:
    match = re.search(r"\bline (\d+)", str(error))
    assert match, f"no line number in {error}"
    return int(match.group(1))


# ---------------------------------------------------------------------------------------------------- round trips


def test_fixture_pages_exercise_escaping_and_non_ascii(dumps):
    texts = "".join(page.text for page in dumps.pages)
    titles = "".join(page.title for page in dumps.pages)
    assert "&nbsp;" in texts and "<ref>" in texts and "😀" in texts and "&" in titles and "日本" in titles


def test_multistream_round_trip_through_index_header_and_ranges(dumps):
    entries = read_index(dumps.index)
    siteinfo, opening_tag = read_header(dumps.multistream, entries[0].offset)
    assert siteinfo == dumps.site
    assert opening_tag.startswith("<mediawiki ") and opening_tag.endswith(">") and 'version="0.11"' in opening_tag
    ranges = plan_ranges(entries, dumps.multistream.stat().st_size, 1)
    assert len(ranges) > 1
    pages = [page for byte_range in ranges for page in read_range(dumps.multistream, byte_range, opening_tag)]
    assert pages == dumps.pages
    sao_paulo = next(page for page in pages if page.id == 10)
    assert "&nbsp;É o município" in sao_paulo.text and "<ref>Censo" in sao_paulo.text


@pytest.mark.parametrize(("kind", "compression"), [("xml", "xml"), ("bz2", "bz2"), ("multistream", "bz2")])
def test_reader_yields_the_same_pages_and_siteinfo_from_every_format(dumps, kind, compression):
    reader = DumpReader(getattr(dumps, kind))
    assert reader.compression == compression
    pages = list(reader)
    assert pages == dumps.pages
    assert [page.redirect for page in pages if page.redirect] == ["Brasil"]
    assert reader.siteinfo == SiteInfo()
    assert reader.siteinfo.namespaces == PTWIKI_NAMESPACES
    assert reader.siteinfo.namespaces[10] == "Predefinição" and reader.siteinfo.namespaces[0] == ""
    assert reader.siteinfo.article_url_prefix == "https://pt.wikipedia.org/wiki/"


def test_schema_0_10_reads_in_every_format(tmp_path):
    site = SiteInfo(schema_version="0.10")
    dumps = write_dumps(tmp_path, pages=sample_pages()[:5], site=site)
    for path in (dumps.xml, dumps.bz2, dumps.multistream):
        reader = DumpReader(path)
        assert list(reader) == dumps.pages
        assert reader.siteinfo.schema_version == "0.10"
    assert read_header(dumps.multistream, read_index(dumps.index)[0].offset)[0] == site
    assert read_via_index(dumps.multistream, dumps.index) == dumps.pages


def test_unsupported_schema_version_is_named(tmp_path):
    dumps = write_dumps(tmp_path, pages=sample_pages()[:2], site=SiteInfo(schema_version="0.9"))
    with pytest.raises(DumpError, match=r"'0\.9'") as error:
        list(DumpReader(dumps.xml))
    assert str(dumps.xml) in str(error.value)
    with pytest.raises(DumpError, match=r"'0\.9'") as error:
        read_header(dumps.multistream, read_index(dumps.index)[0].offset)
    assert str(dumps.multistream) in str(error.value)


# ---------------------------------------------------------------------------------------------------- plan_ranges


def test_plan_depends_only_on_index_and_target_bytes(dumps):
    entries = read_index(dumps.index)
    size = dumps.multistream.stat().st_size
    assert plan_ranges(entries, size, 1500) == plan_ranges(read_index(dumps.index_txt), size, 1500)
    fine, coarse, single = (plan_ranges(entries, size, target) for target in (1, 1500, 10**9))
    page_streams = stream_offsets(dumps.multistream)[1:-1]
    assert [r.start for r in fine] == page_streams  # one range per page stream
    assert 1 < len(coarse) < len(fine)
    assert len(single) == 1 and single[0].start == entries[0].offset and single[0].end == size


@pytest.mark.parametrize("target_bytes", [1, 1000, 1500, 2500, 10**9])
def test_ranges_start_at_streams_and_cover_every_page_id_in_order(dumps, target_bytes):
    entries = read_index(dumps.index)
    size = dumps.multistream.stat().st_size
    offsets = stream_offsets(dumps.multistream)
    ranges = plan_ranges(entries, size, target_bytes)
    assert ranges[0].start == offsets[1] == entries[0].offset
    assert ranges[-1].end == size
    for before, after in zip(ranges, ranges[1:]):
        assert before.end == after.start
        assert before.end - before.start >= target_bytes
    assert all(r.start in offsets for r in ranges)
    assert [i for r in ranges for i in r.page_ids] == [e.page_id for e in entries] == [p.id for p in dumps.pages]
    _, opening_tag = read_header(dumps.multistream, entries[0].offset)
    for byte_range in ranges:
        pages = read_range(dumps.multistream, byte_range, opening_tag)
        assert tuple(page.id for page in pages) == byte_range.page_ids


# ---------------------------------------------------------------------------------------------------- read_index


def test_read_index_plain_and_bz2_agree(dumps):
    entries = read_index(dumps.index)
    assert read_index(dumps.index_txt) == entries
    assert [e.page_id for e in entries] == [p.id for p in dumps.pages]
    assert [e.title for e in entries] == [p.title for p in dumps.pages]  # "Discussão:Brasil", "Ação & Reação?"
    assert {e.offset for e in entries} == set(stream_offsets(dumps.multistream)[1:-1])


@pytest.mark.parametrize("bad_line", ["garbage", "12x:13:Tiradentes", "1811::Tiradentes", "1811-13-Tiradentes"])
@pytest.mark.parametrize("suffix", [".txt", ".txt.bz2"])
def test_malformed_index_line_is_named(dumps, tmp_path, bad_line, suffix):
    lines = dumps.index_txt.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = bad_line + "\n"
    raw = "".join(lines).encode("utf-8")
    path = tmp_path / f"index{suffix}"
    path.write_bytes(bz2.compress(raw) if suffix.endswith(".bz2") else raw)
    with pytest.raises(IndexMismatchError, match=r"\bline 4\b") as error:
        read_index(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize("content", [b"", bz2.compress(b""), b"\n\n"])
def test_empty_index(tmp_path, content):
    path = tmp_path / "index.txt.bz2"
    path.write_bytes(content)
    with pytest.raises(IndexMismatchError) as error:
        read_index(path)
    assert str(path) in str(error.value)


def test_missing_index(tmp_path):
    path = tmp_path / "nowhere-index.txt.bz2"
    with pytest.raises(IndexMismatchError, match="not found") as error:
        read_index(path)
    assert str(path) in str(error.value)


# ---------------------------------------------------------------------------------------------------- bad input


def test_errors_are_lhama_errors():
    assert issubclass(DumpError, LhamaError) and issubclass(IndexMismatchError, LhamaError)


def test_truncated_multistream_via_read_range(dumps, tmp_path):
    offsets = stream_offsets(dumps.multistream)
    cut = offsets[-2] + (offsets[-1] - offsets[-2]) // 2  # in the middle of the last page stream
    dump = truncate(dumps.multistream, tmp_path / "cut-multistream.xml.bz2", cut)
    with pytest.raises(DumpError, match="truncated") as error:
        read_via_index(dump, dumps.index)
    assert str(dump) in str(error.value)


@pytest.mark.parametrize("kind", ["multistream", "bz2"])
def test_truncated_bz2_via_reader(dumps, tmp_path, kind):
    source = getattr(dumps, kind)
    offsets = stream_offsets(dumps.multistream)
    cut = (offsets[2] + offsets[3]) // 2 if kind == "multistream" else source.stat().st_size // 2
    dump = truncate(source, tmp_path / f"cut-{source.name}", cut)
    with pytest.raises(DumpError, match="truncated") as error:
        list(DumpReader(dump))
    assert str(dump) in str(error.value)


def test_bz2_of_plain_text(tmp_path):
    dump = tmp_path / "text.xml.bz2"
    dump.write_bytes(bz2.compress("Isto não é XML, é um texto qualquer.\n".encode() * 20))
    with pytest.raises(DumpError) as error:
        list(DumpReader(dump))
    assert str(dump) in str(error.value)
    with pytest.raises(DumpError) as error:
        read_header(dump, dump.stat().st_size)
    assert str(dump) in str(error.value)


def test_unknown_bytes_are_neither_bz2_nor_xml(tmp_path):
    dump = tmp_path / "random.xml.bz2"
    dump.write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(DumpError, match="neither bz2") as error:
        DumpReader(dump)
    assert str(dump) in str(error.value)


def _break_page(xml: str, title: str, old: str, new: str) -> tuple[str, int, int]:
    """`xml` with `old` replaced by `new` inside the page titled `title`; the page's first and last line numbers."""
    start = xml.index(f"<title>{title}</title>")
    end = xml.index("</page>", start)
    position = xml.index(old, start, end)
    broken = xml[:position] + new + xml[position + len(old):]
    return broken, xml.count("\n", 0, start) + 1, xml.count("\n", 0, end) + 1


@pytest.mark.parametrize("compress", [False, True])
def test_malformed_xml_names_file_and_line(dumps, tmp_path, compress):
    xml = dumps.xml.read_text(encoding="utf-8")
    broken, first, last = _break_page(xml, "Tiradentes", "<title>Tiradentes</title>", "<title>Tiradentes")
    dump = tmp_path / ("unclosed.xml.bz2" if compress else "unclosed.xml")
    dump.write_bytes(bz2.compress(broken.encode()) if compress else broken.encode())
    with pytest.raises(DumpError, match="malformed XML") as error:
        list(DumpReader(dump))
    assert str(dump) in str(error.value)
    assert first <= reported_line(error.value) <= last


def test_malformed_xml_in_a_multistream_range(dumps, tmp_path):
    dump, index = rebuild_multistream(
        dumps, tmp_path / "unclosed-multistream.xml.bz2", tmp_path / "unclosed-index.txt.bz2",
        lambda number, xml: xml.replace("</title>", "", 1) if number == 2 else xml,
    )
    with pytest.raises(DumpError, match="malformed XML") as error:
        read_via_index(dump, index)
    assert str(dump) in str(error.value)
    reported_line(error.value)


def test_undefined_entity_names_file_entity_and_line(dumps, tmp_path):
    xml = dumps.xml.read_text(encoding="utf-8")
    broken, first, last = _break_page(xml, "Tiradentes", "foi um dentista", "foi um &foo; dentista")
    dump = tmp_path / "entity.xml"
    dump.write_text(broken, encoding="utf-8")
    with pytest.raises(DumpError) as error:
        list(DumpReader(dump))
    message = str(error.value)
    assert str(dump) in message
    assert "foo" in message, message  # the undefined entity is named, not a generic parser message
    assert first <= reported_line(error.value) <= last


def test_undefined_entity_in_a_multistream_range(dumps, tmp_path):
    dump, index = rebuild_multistream(
        dumps, tmp_path / "entity-multistream.xml.bz2", tmp_path / "entity-index.txt.bz2",
        lambda number, xml: xml.replace("foi um dentista", "foi um &foo; dentista") if number == 2 else xml,
    )
    with pytest.raises(DumpError, match="foo") as error:
        read_via_index(dump, index)
    assert str(dump) in str(error.value)


@pytest.mark.parametrize("name", ["empty.xml", "empty.xml.bz2"])
def test_empty_dump(tmp_path, name):
    dump = tmp_path / name
    dump.write_bytes(b"")
    with pytest.raises(DumpError, match="empty") as error:
        list(DumpReader(dump))
    assert str(dump) in str(error.value)


def test_missing_dump(tmp_path):
    dump = tmp_path / "absent.xml.bz2"
    with pytest.raises(DumpError, match="no such file") as error:
        DumpReader(dump)
    assert str(dump) in str(error.value)


def test_wrong_root_element(dumps, tmp_path):
    xml = dumps.xml.read_text(encoding="utf-8").replace("<mediawiki ", "<notmediawiki ", 1)
    xml = xml.replace("</mediawiki>", "</notmediawiki>")
    dump = tmp_path / "root.xml"
    dump.write_text(xml, encoding="utf-8")
    with pytest.raises(DumpError, match="<notmediawiki>") as error:
        list(DumpReader(dump))
    assert str(dump) in str(error.value)

    def rename_root(number, text):
        return text.replace("<mediawiki ", "<notmediawiki ").replace("</mediawiki>", "</notmediawiki>")

    multistream, index = rebuild_multistream(dumps, tmp_path / "root.xml.bz2", tmp_path / "root-index.txt.bz2",
                                             rename_root)
    assert list(DumpReader(dumps.multistream))  # the original reads; the renamed one does not
    with pytest.raises(DumpError, match="<notmediawiki>") as error:
        list(DumpReader(multistream))
    assert str(multistream) in str(error.value)
    with pytest.raises(DumpError, match="<notmediawiki>") as error:
        read_header(multistream, read_index(index)[0].offset)
    assert str(multistream) in str(error.value)


def _shift_page_offsets(entries: list[IndexEntry], by: int) -> list[IndexEntry]:
    first = entries[0].offset
    return [IndexEntry(e.offset + by if e.offset != first else e.offset, e.page_id, e.title) for e in entries]


def _swap_streams(dumps: Dumps, a: int, b: int) -> list[IndexEntry]:
    """The index with the pages of streams a and b exchanged (offsets kept in increasing order)."""
    offsets = stream_offsets(dumps.multistream)
    swap = {offsets[a]: offsets[b], offsets[b]: offsets[a]}
    entries = [IndexEntry(swap.get(e.offset, e.offset), e.page_id, e.title) for e in read_index(dumps.index)]
    return sorted(entries, key=lambda e: e.offset)


MISMATCHES = {
    "other dump's index": lambda dumps, other: read_index(other.index),
    "all offsets shifted": lambda dumps, other: [IndexEntry(e.offset + 7, e.page_id, e.title)
                                                 for e in read_index(dumps.index)],
    "page stream offsets shifted": lambda dumps, other: _shift_page_offsets(read_index(dumps.index), 7),
    "page ids changed": lambda dumps, other: [IndexEntry(e.offset, e.page_id + 1, e.title)
                                              for e in read_index(dumps.index)],
    "two streams swapped": lambda dumps, other: _swap_streams(dumps, 2, 3),
}


@pytest.mark.parametrize("target_bytes", [1, 2500])
@pytest.mark.parametrize("mismatch", sorted(MISMATCHES))
def test_index_that_does_not_match_the_dump(dumps, tmp_path, mismatch, target_bytes):
    other = write_dumps(tmp_path / "other", pages=other_pages())
    index = write_index(tmp_path / "wrong-index.txt.bz2", MISMATCHES[mismatch](dumps, other))
    with pytest.raises(IndexMismatchError) as error:
        read_via_index(dumps.multistream, index, target_bytes)
    assert str(dumps.multistream) in str(error.value)


def test_write_xml_escapes_markup_in_titles_and_text(tmp_path):
    page = Page(id=1, ns=0, title="A <b> & C", revid=2, text="x < y && z > w ]]> &amp; &nbsp;", redirect="R & \"Q\"")
    path = tmp_path / "escape.xml"
    write_xml(SiteInfo(), [page], path)
    assert list(DumpReader(path)) == [page]


def _deep_entity_dump(tmp_path: Path) -> tuple[Dumps, str, int]:
    """A dump of 60 pages with `&foo;` in page 40's text; the XML line it stands on."""
    pages = [Page(id=n, ns=0, title=f"Página {n}", revid=n, text=f"Texto da página {n}.\n" * 12) for n in range(1, 61)]
    dumps = write_dumps(tmp_path / "deep", pages=pages, pages_per_stream=5)
    xml = dumps.xml.read_text(encoding="utf-8")
    broken = xml.replace("Texto da página 40.", "Texto da &foo; página 40.", 1)
    return dumps, broken, broken[: broken.index("&foo;")].count("\n") + 1


@pytest.mark.parametrize("compress", [False, True])
def test_an_error_deep_in_a_dump_names_the_cause_the_page_and_its_line(tmp_path, compress):
    _, broken, line = _deep_entity_dump(tmp_path)
    assert line > 400
    dump = tmp_path / ("deep.xml.bz2" if compress else "deep.xml")
    dump.write_bytes(bz2.compress(broken.encode()) if compress else broken.encode())
    with pytest.raises(DumpError) as error:
        list(DumpReader(dump))
    assert str(error.value) == f"{dump} (line {line}): malformed XML in page 'Página 40': Entity 'foo' not defined"


def test_a_second_bad_dump_reports_its_own_error(tmp_path):
    """lxml keeps one error log per thread: a parse must not report an earlier parse's error."""
    first, second = tmp_path / "first.xml", tmp_path / "second.xml"
    _, broken, _ = _deep_entity_dump(tmp_path)
    first.write_text(broken, encoding="utf-8")
    second.write_text(broken.replace("&foo;", "&bar;"), encoding="utf-8")
    for path, entity in ((first, "foo"), (second, "bar")):
        with pytest.raises(DumpError, match=f"Entity '{entity}' not defined"):
            list(DumpReader(path))


def test_an_error_in_a_range_is_placed_in_the_range_and_in_its_page(tmp_path):
    dumps, _, _ = _deep_entity_dump(tmp_path)
    dump, index = rebuild_multistream(
        dumps, tmp_path / "deep-multistream.xml.bz2", tmp_path / "deep-index.txt.bz2",
        lambda number, xml: xml.replace("Texto da página 40.", "Texto da &foo; página 40.", 1))
    with pytest.raises(DumpError, match=r"line \d+ of the range\): malformed XML in page 'Página 40': Entity 'foo'"):
        read_via_index(dump, index)
