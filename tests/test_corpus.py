"""Extraction: dump -> JSONL shards + manifest, via `lhama.corpus.extract` and the `lhama extract` command."""

import bz2
import hashlib
import json
from pathlib import Path

import pytest

from dumpfactory import (
    EXPECTED_SKIPS, KEPT_IDS, SKIP_REASON_BY_ID, Dumps, other_pages, prose, rebuild_multistream, sample_pages,
    stream_offsets, truncate, write_dumps, write_index,
)
from lhama.cli import main
from lhama.corpus import ExtractOptions, extract, iter_articles, read_manifest
from lhama.dump import IndexEntry, Page, SiteInfo, read_index
from lhama.dump_writer import write_xml
from lhama.errors import DumpError, IndexMismatchError, LhamaError

SMALL = ExtractOptions(articles_per_shard=3, range_bytes=1500, batch_pages=4)


@pytest.fixture(scope="module")
def dumps(tmp_path_factory) -> Dumps:
    return write_dumps(tmp_path_factory.mktemp("dumps"))


@pytest.fixture(scope="module")
def reference(dumps, tmp_path_factory) -> Path:
    """The `.xml` dump extracted with one worker: the output every other route must reproduce byte for byte."""
    out = tmp_path_factory.mktemp("reference") / "articles"
    extract(dumps.xml, out, options=SMALL, progress=False)
    return out


def shard_bytes(out: Path) -> dict[str, bytes]:
    return {shard["file"]: (out / shard["file"]).read_bytes() for shard in read_manifest(out)["shards"]}


def folder_snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def leftovers(parent: Path) -> list[str]:
    return [path.name for path in parent.iterdir() if ".tmp-" in path.name]


# ---------------------------------------------------------------------------------------------------- formats


@pytest.mark.parametrize(("kind", "indexed", "workers", "fmt"), [
    ("xml", False, 2, "xml"),
    ("bz2", False, 1, "bz2"),
    ("bz2", False, 2, "bz2"),
    ("multistream", False, 1, "bz2"),
    ("multistream", False, 2, "bz2"),
    ("multistream", True, 1, "multistream"),
    ("multistream", True, 2, "multistream"),
])
def test_every_route_gives_byte_identical_shards(dumps, reference, tmp_path, kind, indexed, workers, fmt):
    out = tmp_path / "articles"
    manifest = extract(getattr(dumps, kind), out, index_path=dumps.index if indexed else None, workers=workers,
                       options=SMALL, progress=False)
    assert manifest["dump"]["format"] == fmt
    assert len(manifest["shards"]) == 3
    assert shard_bytes(out) == shard_bytes(reference)
    assert manifest["counts"] == read_manifest(reference)["counts"]
    if indexed:
        assert manifest["index"]["ranges"] > 1
        assert manifest["index"]["entries"] == len(dumps.pages)
        assert manifest["index"]["sha1"] == hashlib.sha1(dumps.index.read_bytes()).hexdigest()
    else:
        assert manifest["index"] is None


def test_index_output_does_not_depend_on_workers_for_any_range_size(dumps, tmp_path):
    outputs = []
    for number, (range_bytes, workers) in enumerate([(1, 1), (1, 2), (1, 3), (2500, 2), (10**9, 2)]):
        out = tmp_path / f"articles-{number}"
        options = ExtractOptions(articles_per_shard=3, range_bytes=range_bytes)
        extract(dumps.multistream, out, index_path=dumps.index, workers=workers, options=options, progress=False)
        outputs.append(shard_bytes(out))
    assert all(output == outputs[0] for output in outputs)


def test_article_records(reference, dumps):
    articles = list(iter_articles(reference))
    assert [a["id"] for a in articles] == KEPT_IDS
    by_id = {page.id: page for page in dumps.pages}
    for article in articles:
        assert set(article) == {"id", "revid", "title", "url", "text", "sections", "infobox", "tables", "captions"}
        page = by_id[article["id"]]
        assert (article["revid"], article["title"]) == (page.revid, page.title)
        assert article["url"].startswith("https://pt.wikipedia.org/wiki/")
        assert " " not in article["url"]
        for residue in ("&nbsp;", "<ref", "{{", "}}", "[[", "]]", "'''", "Categoria:"):
            assert residue not in article["text"]
        assert isinstance(article["sections"], list) and article["sections"]
        for section in article["sections"]:
            assert set(section) == {"path", "paragraphs"}
            assert all(isinstance(part, str) for part in section["path"]) and section["paragraphs"]
            assert all(paragraph in article["text"] for paragraph in section["paragraphs"])
    urls = {a["title"]: a["url"] for a in articles}
    assert urls["São Paulo (cidade)"] == "https://pt.wikipedia.org/wiki/S%C3%A3o_Paulo_(cidade)"
    assert urls["Ação & Reação?"] == "https://pt.wikipedia.org/wiki/A%C3%A7%C3%A3o_%26_Rea%C3%A7%C3%A3o%3F"
    assert urls["100% Puro"] == "https://pt.wikipedia.org/wiki/100%25_Puro"
    assert urls["AC/DC"] == "https://pt.wikipedia.org/wiki/AC/DC"
    assert urls["日本"] == "https://pt.wikipedia.org/wiki/%E6%97%A5%E6%9C%AC"

    sao_paulo = articles[0]
    assert sao_paulo["infobox"] == {"type": "Município",
                                    "fields": {"nome": "São Paulo", "população": "11 milhões"}}
    assert [s["path"] for s in sao_paulo["sections"]] == [[], ["História"]]  # "Referências" is dropped
    assert sao_paulo["text"].startswith("São Paulo é a capital do estado homônimo. É o município mais populoso")
    assert "Censo" not in sao_paulo["text"] and "\u00a0" not in sao_paulo["text"]
    assert "\n\nHistória\n\nA vila foi fundada por jesuítas em 1554" in sao_paulo["text"]
    assert all(a["infobox"] is None for a in articles[1:])
    assert "(12 de novembro de 1746)" in next(a for a in articles if a["title"] == "Tiradentes")["text"]
    assert "o emoji 😀" in articles[-1]["text"]


# ---------------------------------------------------------------------------------------------------- filtering


def test_manifest_counts_every_skip_reason(reference, dumps):
    manifest = read_manifest(reference)
    counts = manifest["counts"]
    assert counts["skipped"] == EXPECTED_SKIPS
    assert counts["articles"] == len(KEPT_IDS)
    assert counts["pages_read"] == len(dumps.pages) == counts["articles"] + sum(counts["skipped"].values())
    assert counts["characters"] == sum(len(a["text"]) for a in iter_articles(reference))


@pytest.mark.parametrize("page_id", sorted(SKIP_REASON_BY_ID))
def test_each_dropped_page_is_counted_under_its_reason(tmp_path, page_id):
    pages = [page for page in sample_pages() if page.id in (page_id, 11)]  # the dropped page and one article
    dumps = write_dumps(tmp_path / "dump", pages=pages)
    manifest = extract(dumps.xml, tmp_path / "out", progress=False)
    expected = dict.fromkeys(EXPECTED_SKIPS, 0) | {SKIP_REASON_BY_ID[page_id]: 1}
    assert manifest["counts"]["skipped"] == expected
    assert [a["id"] for a in iter_articles(tmp_path / "out")] == [11]


@pytest.mark.parametrize("marker", ["#REDIRECIONAMENTO", "#REDIRECT", "#redirecionamento", "#Redirect", " # redirect"])
def test_redirect_text_in_any_case(tmp_path, marker):
    page = Page(id=1, ns=0, title="Atalho", revid=2, text=f"{marker} [[Brasil]]\n" + "Texto do alvo. " * 30)
    dumps = write_dumps(tmp_path / "dump", pages=[page])
    manifest = extract(dumps.xml, tmp_path / "out", progress=False)
    assert manifest["counts"]["skipped"]["redirect"] == 1 and manifest["counts"]["articles"] == 0


def _length_pages() -> list[Page]:
    return [Page(id=n, ns=0, title=f"Tamanho {n}", revid=n, text="a" * n) for n in (99, 100, 199, 200, 250)]


@pytest.mark.parametrize(("min_chars", "kept"), [(200, [200, 250]), (100, [100, 199, 200, 250]), (251, [])])
def test_min_chars_threshold(tmp_path, min_chars, kept):
    dumps = write_dumps(tmp_path / "dump", pages=_length_pages())
    manifest = extract(dumps.xml, tmp_path / "out", options=ExtractOptions(min_chars=min_chars), progress=False)
    assert [a["id"] for a in iter_articles(tmp_path / "out")] == kept
    assert manifest["counts"]["skipped"]["too_short"] == 5 - len(kept)
    assert manifest["options"]["min_chars"] == min_chars


def test_manifest_identifies_the_dump(dumps, tmp_path):
    for kind, index in (("xml", None), ("bz2", None), ("multistream", dumps.index)):
        path = getattr(dumps, kind)
        manifest = extract(path, tmp_path / kind, index_path=index, progress=False)
        assert manifest["dump"]["sha1"] == hashlib.sha1(path.read_bytes()).hexdigest()
        assert manifest["dump"]["bytes"] == path.stat().st_size
        assert manifest["dump"]["name"] == path.name
        assert manifest["dump"]["schema_version"] == "0.11"
        assert manifest["dump"]["siteinfo"]["dbname"] == "ptwiki" and manifest["dump"]["siteinfo"]["lang"] == "pt"
        on_disk = json.loads((tmp_path / kind / "manifest.json").read_text(encoding="utf-8"))
        assert on_disk == manifest


def test_manifest_schema_0_10(tmp_path):
    dumps = write_dumps(tmp_path / "dump", pages=sample_pages()[:4], site=SiteInfo(schema_version="0.10"))
    for kind, index in (("bz2", None), ("multistream", dumps.index)):
        manifest = extract(getattr(dumps, kind), tmp_path / kind, index_path=index, progress=False)
        assert manifest["dump"]["schema_version"] == "0.10"


# ---------------------------------------------------------------------------------------------------- sharding


def test_shards_are_listed_in_the_manifest_and_read_back_in_order(reference):
    manifest = read_manifest(reference)
    assert manifest["shards"] == [
        {"file": "articles-00000.jsonl", "articles": 3},
        {"file": "articles-00001.jsonl", "articles": 3},
        {"file": "articles-00002.jsonl", "articles": 2},
    ]
    assert sorted(path.name for path in reference.iterdir()) == [
        "articles-00000.jsonl", "articles-00001.jsonl", "articles-00002.jsonl", "manifest.json"]
    lines = [line for shard in manifest["shards"]
             for line in (reference / shard["file"]).read_text(encoding="utf-8").splitlines()]
    for shard in manifest["shards"]:
        assert len((reference / shard["file"]).read_text(encoding="utf-8").splitlines()) == shard["articles"]
    assert [json.loads(line) for line in lines] == list(iter_articles(reference))
    assert [a["id"] for a in iter_articles(reference)] == KEPT_IDS


def test_read_back_without_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(LhamaError, match="manifest.json"):
        list(iter_articles(tmp_path))


# ---------------------------------------------------------------------------------------------------- bad input


def _cut_in_stream(dumps: Dumps, tmp_path: Path, stream: int) -> Path:
    offsets = stream_offsets(dumps.multistream)
    return truncate(dumps.multistream, tmp_path / f"cut{stream}-multistream.xml.bz2",
                    (offsets[stream] + offsets[stream + 1]) // 2)


def _bad_input(name: str, dumps: Dumps, tmp_path: Path) -> tuple[Path, Path | None, Path]:
    """(dump, index or None, the file the error message must name) for each kind of bad input."""
    if name == "truncated":
        dump = _cut_in_stream(dumps, tmp_path, 2)
        return dump, None, dump
    if name == "truncated, last page stream, with index":
        dump = _cut_in_stream(dumps, tmp_path, len(stream_offsets(dumps.multistream)) - 2)
        return dump, dumps.index, dump
    if name == "truncated, with index":
        dump = _cut_in_stream(dumps, tmp_path, 2)
        return dump, dumps.index, dumps.index  # the index then points past the end of the dump
    if name == "not xml":
        dump = tmp_path / "text.xml.bz2"
        dump.write_bytes(bz2.compress("Só texto, sem marcação nenhuma.\n".encode() * 30))
        return dump, None, dump
    if name == "malformed":
        dump = tmp_path / "malformed.xml"
        dump.write_text(dumps.xml.read_text(encoding="utf-8").replace("<title>Brasil</title>", "<title>Brasil"),
                        encoding="utf-8")
        return dump, None, dump
    if name == "undefined entity":
        dump = tmp_path / "entity.xml.bz2"
        xml = dumps.xml.read_text(encoding="utf-8").replace("foi um dentista", "foi um &foo; dentista")
        dump.write_bytes(bz2.compress(xml.encode()))
        return dump, None, dump
    if name == "malformed, with index":
        dump, index = rebuild_multistream(dumps, tmp_path / "malformed.xml.bz2", tmp_path / "malformed-index.txt",
                                          lambda k, xml: xml.replace("</title>", "", 1) if k == 3 else xml)
        return dump, index, dump
    if name == "wrong root":
        dump = tmp_path / "root.xml"
        dump.write_text('<notmediawiki version="0.11">\n' + dumps.xml.read_text(encoding="utf-8").split("\n", 1)[1]
                        .replace("</mediawiki>", "</notmediawiki>"), encoding="utf-8")
        return dump, None, dump
    if name == "empty":
        dump = tmp_path / "empty.xml.bz2"
        dump.write_bytes(b"")
        return dump, None, dump
    if name == "empty, with index":
        dump = tmp_path / "empty-multistream.xml.bz2"
        dump.write_bytes(b"")
        return dump, dumps.index, dump
    if name == "no pages":
        dump = tmp_path / "nopages.xml.bz2"
        write_xml(dumps.site, [], dump, compress=True)
        return dump, None, dump
    if name == "page ids changed in index":
        index = write_index(tmp_path / "ids-index.txt.bz2",
                            [IndexEntry(e.offset, e.page_id + 100, e.title) for e in read_index(dumps.index)])
        return dumps.multistream, index, dumps.multistream
    if name == "index of another dump":  # its offsets lie inside this dump, at no stream boundary
        other = write_dumps(tmp_path / "other", pages=other_pages())
        assert read_index(other.index)[-1].offset < dumps.multistream.stat().st_size
        return dumps.multistream, other.index, dumps.multistream
    if name == "index of a bigger dump":  # its last offsets lie past the end of this dump
        other = write_dumps(tmp_path / "other", pages=other_pages(words=300))
        assert read_index(other.index)[-1].offset > dumps.multistream.stat().st_size
        return dumps.multistream, other.index, other.index
    if name == "missing index":
        return dumps.multistream, tmp_path / "absent-index.txt.bz2", tmp_path / "absent-index.txt.bz2"
    raise AssertionError(name)


BAD_INPUTS = [
    "truncated", "truncated, last page stream, with index", "truncated, with index", "not xml", "malformed",
    "undefined entity", "malformed, with index", "wrong root", "empty", "empty, with index", "no pages",
    "page ids changed in index",
    "index of another dump", "index of a bigger dump", "missing index",
]


@pytest.mark.parametrize("bad", BAD_INPUTS)
def test_failed_extraction_leaves_no_output(dumps, tmp_path, bad):
    dump, index, named = _bad_input(bad, dumps, tmp_path)
    results = tmp_path / "results"
    results.mkdir()
    out = results / "articles"
    with pytest.raises(LhamaError) as error:
        extract(dump, out, index_path=index, options=SMALL, progress=False)
    assert isinstance(error.value, (DumpError, IndexMismatchError))
    assert str(named) in str(error.value)
    assert not out.exists()
    assert list(results.iterdir()) == []  # no `.articles.tmp-PID` folder either


@pytest.mark.parametrize("bad", ["truncated, last page stream, with index", "malformed, with index",
                                 "page ids changed in index"])
def test_worker_errors_reach_the_caller_unchanged(dumps, tmp_path, bad):
    """With several workers, a bad range gives the same error as with one (not a broken process pool)."""
    dump, index, named = _bad_input(bad, dumps, tmp_path)
    options = ExtractOptions(range_bytes=1)
    with pytest.raises(LhamaError) as single:
        extract(dump, tmp_path / "one", index_path=index, workers=1, options=options, progress=False)
    with pytest.raises(LhamaError) as parallel:
        extract(dump, tmp_path / "two", index_path=index, workers=2, options=options, progress=False)
    assert type(parallel.value) is type(single.value)
    assert str(parallel.value) == str(single.value)
    assert not (tmp_path / "two").exists() and not leftovers(tmp_path)


@pytest.mark.parametrize("bad", ["truncated", "malformed", "page ids changed in index", "index of a bigger dump"])
def test_failed_extraction_keeps_the_previous_output(dumps, tmp_path, bad):
    out = tmp_path / "articles"
    extract(dumps.multistream, out, index_path=dumps.index, options=SMALL, progress=False)
    before = folder_snapshot(out)
    dump, index, _ = _bad_input(bad, dumps, tmp_path)
    with pytest.raises(LhamaError):
        extract(dump, out, index_path=index, options=SMALL, progress=False)
    assert folder_snapshot(out) == before
    assert not leftovers(tmp_path)


def test_successful_rerun_replaces_the_previous_output(dumps, tmp_path):
    out = tmp_path / "articles"
    extract(dumps.xml, out, options=ExtractOptions(articles_per_shard=1), progress=False)
    assert len(list(out.glob("articles-*.jsonl"))) == len(KEPT_IDS)
    (out / "notes.txt").write_text("left by hand")
    extract(dumps.xml, out, options=ExtractOptions(articles_per_shard=100), progress=False)
    assert sorted(path.name for path in out.iterdir()) == ["articles-00000.jsonl", "manifest.json"]
    assert [a["id"] for a in iter_articles(out)] == KEPT_IDS
    assert not leftovers(tmp_path)


# ---------------------------------------------------------------------------------------------------- command line


def _cli_args(dump: Path, out: Path, index: Path | None) -> list[str]:
    return ["extract", str(dump), "--out", str(out)] + (["--index", str(index)] if index else [])


CLI_BAD_INPUTS = ["truncated", "truncated, with index", "not xml", "malformed", "undefined entity", "wrong root",
                  "empty", "no pages", "page ids changed in index", "index of another dump", "index of a bigger dump",
                  "missing index"]


@pytest.mark.parametrize("bad", CLI_BAD_INPUTS)
def test_cli_bad_input_prints_one_error_line(dumps, tmp_path, capsys, bad):
    dump, index, named = _bad_input(bad, dumps, tmp_path)
    out = tmp_path / "articles"
    assert main(_cli_args(dump, out, index) + ["--no-progress"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("lhama extract: error: ")
    assert str(named) in lines[0]
    assert captured.out == ""
    assert not out.exists() and not leftovers(tmp_path)


@pytest.mark.parametrize("bad", ["truncated", "wrong root", "index of a bigger dump"])
def test_cli_bad_input_with_progress_bar_ends_with_the_error_line(dumps, tmp_path, capsys, bad):
    dump, index, named = _bad_input(bad, dumps, tmp_path)
    assert main(_cli_args(dump, tmp_path / "articles", index)) == 1
    err = capsys.readouterr().err
    errors = [line for line in err.replace("\r", "\n").splitlines() if "error:" in line]
    assert len(errors) == 1 and errors[0].startswith("lhama extract: error: ") and str(named) in errors[0]
    assert err.endswith(errors[0] + "\n")


def test_cli_worker_error_is_one_line_too(dumps, tmp_path, capsys):
    dump, index, named = _bad_input("page ids changed in index", dumps, tmp_path)
    args = _cli_args(dump, tmp_path / "articles", index) + ["--workers", "2", "--range-mb", "0.000001", "--no-progress"]
    assert main(args) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lhama extract: error: ") and str(named) in lines[0]


def test_cli_good_run(dumps, reference, tmp_path, capsys):
    out = tmp_path / "articles"
    args = _cli_args(dumps.multistream, out, dumps.index) + [
        "--workers", "2", "--range-mb", "0.001", "--articles-per-shard", "3", "--no-progress"]
    assert main(args) == 0
    stdout = capsys.readouterr().out
    assert f"{len(KEPT_IDS)} articles from {len(dumps.pages)} pages" in stdout
    assert shard_bytes(out) == shard_bytes(reference)
    assert read_manifest(out)["options"]["range_bytes"] == int(0.001 * 2**20)


def test_cli_min_chars(dumps, tmp_path):
    out = tmp_path / "articles"
    assert main(_cli_args(dumps.xml, out, None) + ["--min-chars", "20", "--no-progress"]) == 0
    manifest = read_manifest(out)
    assert manifest["counts"]["skipped"]["too_short"] == 0
    assert manifest["counts"]["articles"] == len(KEPT_IDS) + 1  # the short "Esboço" is kept now


@pytest.mark.parametrize(("workers", "range_bytes"), [(1, 1), (2, 1), (2, 3000), (1, 10**9)])
def test_an_error_in_a_multistream_range_names_its_line_in_the_dump(tmp_path, workers, range_bytes):
    pages = [Page(id=n, ns=0, title=f"Página {n}", revid=n, text=f"Texto da página {n}.\n" * 12) for n in range(1, 61)]
    dumps = write_dumps(tmp_path / "deep", pages=pages, pages_per_stream=5)
    dump, index = rebuild_multistream(
        dumps, tmp_path / "deep-multistream.xml.bz2", tmp_path / "deep-index.txt.bz2",
        lambda number, xml: xml.replace("Texto da página 40.", "Texto da &foo; página 40.", 1))
    whole = b"".join(bz2.BZ2File(str(dump)).read().splitlines(keepends=True)).decode("utf-8")
    line = whole[: whole.index("&foo;")].count("\n") + 1
    with pytest.raises(DumpError) as error:
        extract(dump, tmp_path / "out", index_path=index, workers=workers,
                options=ExtractOptions(range_bytes=range_bytes), progress=False)
    assert str(error.value) == f"{dump} (line {line}): malformed XML in page 'Página 40': Entity 'foo' not defined"
    assert not (tmp_path / "out").exists()


TEMPLATE_PAGES = [
    Page(id=1, ns=0, title="Primeira", revid=1,
         text="Texto com bastantes palavras {{coord|1|2}} {{Coord|3}} {{fmtn|1000}} e mais. " * 8),
    Page(id=2, ns=0, title="Segunda", revid=2,
         text="Outro texto com palavras bastantes {{coord|4}} {{Caixa estranha}} {{citar web|url=x}}. " * 8),
    Page(id=3, ns=0, title="Curta", revid=3, text="{{Ignorada}} curta."),  # too short: not counted
]


@pytest.mark.parametrize(("kind", "indexed", "workers"), [("xml", False, 1), ("multistream", True, 2)])
def test_manifest_counts_templates_dropped_unrendered_with_an_example_page(tmp_path, kind, indexed, workers):
    dumps = write_dumps(tmp_path / "dump", pages=TEMPLATE_PAGES, pages_per_stream=1)
    manifest = extract(getattr(dumps, kind), tmp_path / "out", index_path=dumps.index if indexed else None,
                       workers=workers, options=ExtractOptions(range_bytes=1), progress=False)
    assert manifest["templates"] == {
        "rendered": 8, "dropped": 32, "dropped_distinct": 2,
        "dropped_by_name": [{"name": "Coord", "count": 24, "example": "Primeira"},
                            {"name": "Caixa estranha", "count": 8, "example": "Segunda"}],
    }


def test_article_records_hold_tables_and_captions(tmp_path):
    text = ("'''Machado''' foi um escritor brasileiro, autor de romances e contos.\n"
            "[[Ficheiro:Machado.jpg|thumb|Machado de Assis em 1896]]\n== Obras ==\n"
            "{| class=\"wikitable\"\n! Ano !! Obra\n|-\n| 1899 || [[Dom Casmurro]]\n|}\n" + prose("Machado"))
    dumps = write_dumps(tmp_path / "dump", pages=[Page(id=1, ns=0, title="Machado de Assis", revid=1, text=text)])
    extract(dumps.xml, tmp_path / "out", progress=False)
    [article] = iter_articles(tmp_path / "out")
    assert article["tables"] == [{"section": ["Obras"], "caption": "",
                                  "rows": [[["Ano", "1899"], ["Obra", "Dom Casmurro"]]],
                                  "text": "Ano: 1899 · Obra: Dom Casmurro"}]
    assert article["captions"] == [{"section": [], "text": "Machado de Assis em 1896"}]
    assert "Ano: 1899 · Obra: Dom Casmurro" in article["text"] and "Machado de Assis em 1896" in article["text"]
