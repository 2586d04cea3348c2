"""Builders of small ptwiki-format fixture dumps (and of broken variants) for test_dump.py and test_corpus.py.

Imported by the tests as `from dumpfactory import ...`: pytest (rootdir-relative "prepend" import mode) puts the
`tests/` folder, which has no `__init__.py`, on `sys.path`.
"""

from __future__ import annotations

import bz2
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lhama.dump import IndexEntry, Page, SiteInfo, read_index
from lhama.dump_writer import write_multistream, write_xml


def prose(subject: str) -> str:
    """Two paragraphs of plain Portuguese prose about `subject`, well over the default 200 clean characters."""
    return (
        f"'''{subject}''' é um tema estudado na [[história do Brasil]] e citado em muitos livros escolares.\n"
        f"Os pesquisadores descrevem {subject} a partir de fontes primárias, cartas e relatos de viajantes.\n\n"
        f"Ao longo do século XIX, {subject} ganhou destaque na imprensa e nas discussões políticas da época, "
        "com debates sobre economia, cultura e sociedade.\n"
    )


SAO_PAULO_TEXT = (
    "{{Info/Município\n| nome = São Paulo\n| população = 11 milhões\n}}\n"
    "'''São Paulo''' é a capital do estado homônimo.&nbsp;É o município mais populoso do Brasil.<ref>Censo "
    "do [[IBGE]] de 2022</ref> A cidade tem um porto seco, muitas indústrias e uma longa história de comércio.\n\n"
    "== História ==\n"
    "A vila foi fundada por jesuítas em 1554, no planalto de Piratininga, e cresceu com o ciclo do café, que "
    "trouxe ferrovias, imigrantes e capitais para a região durante o século XIX.\n\n"
    "== Referências ==\n{{Referências}}\n"
    "[[Categoria:Capitais do Brasil]]\n"
)


def sample_pages() -> list[Page]:
    """16 pages in id order: 8 articles that extraction keeps, 8 that it drops (see EXPECTED_SKIPS / KEPT_IDS)."""
    return [
        Page(id=10, ns=0, title="São Paulo (cidade)", revid=1010, text=SAO_PAULO_TEXT),
        Page(id=11, ns=0, title="Brasil", revid=1011, text=prose("Brasil")),
        Page(id=12, ns=1, title="Discussão:Brasil", revid=1012, text=prose("a discussão")),  # namespace
        Page(id=13, ns=0, title="Tiradentes", revid=1013,
             text="'''Tiradentes''' ({{dni|12|11|1746}}) foi um dentista mineiro.\n" + prose("Tiradentes")),
        # a redirect by the <redirect> element only: its text alone would be kept
        Page(id=14, ns=0, title="Alvo antigo", revid=1014, text=prose("o alvo"), redirect="Brasil"),
        Page(id=15, ns=0, title="SP", revid=1015, text="#REDIRECIONAMENTO [[São Paulo (cidade)]]\n" + prose("SP")),
        Page(id=16, ns=0, title="Rio", revid=1016, text="#REDIRECT [[Rio de Janeiro]]\n" + prose("o Rio")),
        Page(id=17, ns=0, title="Rio de janeiro", revid=1017,
             text="#redirecionamento [[Rio de Janeiro]]\n" + prose("o Rio")),
        Page(id=18, ns=0, title="Mercúrio", revid=1018,
             text="{{Desambiguação}}\n'''Mercúrio''' pode referir-se a:\n* [[Mercúrio (planeta)]]\n"
                  + prose("Mercúrio")),
        Page(id=19, ns=0, title="Esboço", revid=1019, text="Um esboço curto de [[artigo]]."),  # too short
        Page(id=20, ns=10, title="Predefinição:Info/Município", revid=1020, text=prose("a predefinição")),
        Page(id=21, ns=0, title="AC/DC", revid=1021, text=prose("AC/DC")),
        Page(id=22, ns=0, title="Ação & Reação?", revid=1022, text=prose("ação e reação")),
        Page(id=23, ns=0, title="100% Puro", revid=1023, text=prose("o disco")),
        Page(id=24, ns=0, title="日本", revid=1024, text=prose("o Japão (日本, Nihon)")),
        Page(id=25, ns=0, title="Emoji 😀 na história", revid=1025, text=prose("o emoji 😀")),
    ]


KEPT_IDS = [10, 11, 13, 21, 22, 23, 24, 25]
EXPECTED_SKIPS = {"namespace": 2, "not_wikitext": 0, "redirect": 4, "disambiguation": 1, "too_short": 1}
SKIP_REASON_BY_ID = {12: "namespace", 20: "namespace", 14: "redirect", 15: "redirect", 16: "redirect",
                     17: "redirect", 18: "disambiguation", 19: "too_short"}


def other_pages(count: int = 16, words: int = 20) -> list[Page]:
    """The pages of another dump: other ids and sizes, so its index fits no stream boundary of the sample dump.

    Each page carries `words` hard-to-compress extra words: with many, the other dump is larger than the sample.
    """
    def filler(n: int) -> str:
        return " ".join(f"termo{(n * 7919 + k * 104729) % 100_003}" for k in range(words))

    return [Page(id=5000 + n, ns=0, title=f"Outro artigo {n}", revid=9000 + n, text=prose(f"o tema {n}") + filler(n))
            for n in range(1, count + 1)]


@dataclass(frozen=True)
class Dumps:
    """The same pages written as `.xml`, single-stream `.xml.bz2` and multistream `.xml.bz2` (+ index)."""

    directory: Path
    site: SiteInfo
    pages: list[Page] = field(repr=False)

    @property
    def xml(self) -> Path:
        return self.directory / "ptwiki-test-pages-articles.xml"

    @property
    def bz2(self) -> Path:
        return self.directory / "ptwiki-test-pages-articles.xml.bz2"

    @property
    def multistream(self) -> Path:
        return self.directory / "ptwiki-test-pages-articles-multistream.xml.bz2"

    @property
    def index(self) -> Path:
        return self.directory / "ptwiki-test-pages-articles-multistream-index.txt.bz2"

    @property
    def index_txt(self) -> Path:
        return self.directory / "ptwiki-test-pages-articles-multistream-index.txt"


def write_dumps(directory: Path, pages: list[Page] | None = None, site: SiteInfo | None = None,
                pages_per_stream: int = 3) -> Dumps:
    directory.mkdir(parents=True, exist_ok=True)
    dumps = Dumps(directory, site or SiteInfo(), list(pages if pages is not None else sample_pages()))
    write_xml(dumps.site, dumps.pages, dumps.xml)
    write_xml(dumps.site, dumps.pages, dumps.bz2, compress=True)
    write_multistream(dumps.site, dumps.pages, dumps.multistream, dumps.index, pages_per_stream=pages_per_stream)
    dumps.index_txt.write_bytes(bz2.decompress(dumps.index.read_bytes()))
    return dumps


# ---------------------------------------------------------------------------------------------------- helpers


def stream_offsets(path: Path) -> list[int]:
    """Byte offsets of the bz2 streams of a multistream file, found by decoding it (independent of any index)."""
    data = Path(path).read_bytes()
    offsets: list[int] = []
    position = 0
    while position < len(data):
        offsets.append(position)
        decompressor = bz2.BZ2Decompressor()
        decompressor.decompress(data[position:])
        assert decompressor.eof, f"incomplete bz2 stream at offset {position}"
        position = len(data) - len(decompressor.unused_data)
    return offsets


def write_index(path: Path, entries: Iterable[IndexEntry]) -> Path:
    """An `offset:page_id:title` index, bz2-compressed when `path` ends in `.bz2`."""
    raw = "".join(f"{e.offset}:{e.page_id}:{e.title}\n" for e in entries).encode("utf-8")
    path.write_bytes(bz2.compress(raw) if path.suffix == ".bz2" else raw)
    return path


def truncate(source: Path, dest: Path, size: int) -> Path:
    dest.write_bytes(source.read_bytes()[:size])
    return dest


def rebuild_multistream(dumps: Dumps, dest: Path, dest_index: Path,
                        edit: Callable[[int, str], str]) -> tuple[Path, Path]:
    """A copy of the multistream dump with stream k's XML replaced by `edit(k, xml)`, and a consistent index.

    Stream 0 is the header, the last stream the footer, the others hold the pages.
    """
    data = dumps.multistream.read_bytes()
    offsets = stream_offsets(dumps.multistream)
    bounds = list(zip(offsets, offsets[1:] + [len(data)]))
    new = bytearray()
    moved: dict[int, int] = {}
    for number, (start, end) in enumerate(bounds):
        moved[start] = len(new)
        xml = bz2.decompress(data[start:end]).decode("utf-8")
        new += bz2.compress(edit(number, xml).encode("utf-8"))
    dest.write_bytes(bytes(new))
    write_index(dest_index, [IndexEntry(moved[e.offset], e.page_id, e.title) for e in read_index(dumps.index)])
    return dest, dest_index
