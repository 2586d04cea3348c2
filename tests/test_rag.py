"""Retrieval: loader, chunker, sharded embedding, FAISS persistence without pickle, hybrid/MMR retrieval, prompt."""

import dataclasses
import json
import os
import pickle

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from lhama.corpus import extract
from lhama.dump import Page, SiteInfo, write_xml
from lhama.errors import ConfigError
from lhama.qa import Question
from lhama.rag import (
    ArticleLoader, IndexIntegrityError, RagConfig, RetrievedChunk, build_index, build_prompt, chunk_shard,
    embed_shard, evaluate_retrieval, load_embedder, load_index, rag_config_from_dict,
    reciprocal_rank_fusion,
)

TOPICS = {
    "Lei Áurea": "A Lei Áurea aboliu a escravidão no Brasil em 13 de maio de 1888, assinada pela Princesa Isabel.",
    "Brasília": "Brasília é a capital federal do Brasil, inaugurada em 21 de abril de 1960 no Planalto Central.",
    "Rio Amazonas": "O Rio Amazonas é o maior rio do mundo em volume de água e atravessa a floresta amazônica.",
    "Tiradentes": "Tiradentes, Joaquim José da Silva Xavier, liderou a Inconfidência Mineira e foi enforcado em 1792.",
    "Café": "O café foi o principal produto de exportação do Brasil no século XIX, cultivado no Vale do Paraíba.",
}
FILLER = ("Os historiadores discutem o tema em muitas obras e artigos, com documentos de arquivos públicos, cartas "
          "e jornais da época, que permitem reconstruir os acontecimentos com detalhes. ")


@pytest.fixture(scope="module")
def articles(tmp_path_factory):
    root = tmp_path_factory.mktemp("rag")
    pages = []
    for number, (title, lead) in enumerate(TOPICS.items(), start=1):
        body = f"'''{title}''' {lead}\n\n== História ==\n{FILLER * 12}\n\n== Legado ==\n{lead} {FILLER * 3}\n"
        pages.append(Page(number, 0, title, 100 + number, body))
    write_xml(SiteInfo(), pages, root / "dump.xml")
    extract(root / "dump.xml", root / "articles", progress=False)
    return root / "articles"


@pytest.fixture(scope="module")
def embedder():
    return load_embedder(RagConfig().embedder)


def build(articles, tmp_path, embedder, shards=1, **index):
    config = dataclasses.replace(RagConfig(), index=dataclasses.replace(RagConfig().index, **index), shards=shards)
    chunk_paths, vector_paths = [], []
    for shard in range(shards):
        chunks, vectors = tmp_path / f"c{shard}.jsonl", tmp_path / f"e{shard}.npy"
        chunk_shard(articles, chunks, config, shard, shards, embedder=embedder)
        embed_shard(chunks, vectors, config, embedder=embedder)
        chunk_paths.append(chunks)
        vector_paths.append(vectors)
    out = tmp_path / f"index-{shards}-{index.get('type', 'flat')}"
    build_index(chunk_paths, vector_paths, out, config, embedder_name=embedder.name)
    return out, config


def test_loader_yields_sections_with_metadata_and_disjoint_shards(articles):
    documents = ArticleLoader(articles).load()
    assert {d.metadata["title"] for d in documents} == set(TOPICS)
    assert {d.metadata["section"] for d in documents} == {"", "História", "Legado"}
    shards = [ArticleLoader(articles, shard, 2).load() for shard in range(2)]
    keys = [{(d.metadata["article_id"], d.metadata["section"]) for d in shard} for shard in shards]
    assert keys[0].isdisjoint(keys[1]) and len(keys[0] | keys[1]) == len(documents)


def test_chunks_fit_the_embedder_never_split_words_and_carry_their_title(articles, embedder, tmp_path):
    out = tmp_path / "chunks.jsonl"
    chunk_shard(articles, out, RagConfig(), embedder=embedder)
    chunks = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(chunks) > len(TOPICS) * 3  # long sections were split
    words = set((FILLER + " ".join(TOPICS.values())).replace(",", " ").replace(".", " ").split())
    for chunk in chunks:
        assert len(embedder.tokenizer.tokenize(chunk["text"])) <= embedder.max_tokens
        header, body = chunk["text"].split("\n", 1)
        assert header.split(" — ")[0] == chunk["metadata"]["title"]
        for token in body.replace(",", " ").replace(".", " ").split():
            assert token in words or token in chunk["metadata"]["title"], token  # whole words only


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_each_index_type_finds_the_gold_article(articles, embedder, tmp_path, kind):
    index_dir, config = build(articles, tmp_path, embedder, type=kind)
    retriever = load_index(index_dir, config, embedder=embedder)
    for hybrid in (False, True):
        retriever.config = dataclasses.replace(config.retriever, hybrid=hybrid, k=3)
        found = retriever.retrieve("Quando a escravidão foi abolida pela Lei Áurea?")
        assert found[0].title == "Lei Áurea"
        assert len({chunk.chunk_id for chunk in found}) == len(found) == 3


def test_shard_count_does_not_change_the_index(articles, embedder, tmp_path):
    one, _ = build(articles, tmp_path / "a", embedder, shards=1)
    three, _ = build(articles, tmp_path / "b", embedder, shards=3)
    assert (one / "docstore.jsonl").read_text() == (three / "docstore.jsonl").read_text()


def test_saved_index_round_trips_without_pickle(articles, embedder, tmp_path, monkeypatch):
    index_dir, config = build(articles, tmp_path, embedder)
    assert sorted(p.name for p in index_dir.iterdir()) == ["docstore.jsonl", "index.faiss", "manifest.json"]
    first = load_index(index_dir, config, embedder=embedder).retrieve("capital federal inaugurada em 1960")

    def refuse(*args, **kwargs):
        raise AssertionError("load_index unpickled something")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    again = load_index(index_dir, config, embedder=embedder).retrieve("capital federal inaugurada em 1960")
    assert [c.chunk_id for c in again] == [c.chunk_id for c in first] and again[0].title == "Brasília"


@pytest.mark.parametrize("damage", ["tamper_docstore", "truncate_index", "drop_manifest"])
def test_damaged_index_gives_a_clear_error(articles, embedder, tmp_path, damage):
    index_dir, config = build(articles, tmp_path, embedder)
    if damage == "tamper_docstore":
        path = index_dir / "docstore.jsonl"
        path.write_text(path.read_text().replace("Brasília", "Brasilia"))
    elif damage == "truncate_index":
        path = index_dir / "index.faiss"
        path.write_bytes(path.read_bytes()[:1000])
    else:
        path = index_dir / "manifest.json"
        path.unlink()
    with pytest.raises(IndexIntegrityError) as error:
        load_index(index_dir, config, embedder=embedder)
    assert str(path) in str(error.value)


def test_mmr_returns_distinct_passages(articles, embedder, tmp_path):
    index_dir, config = build(articles, tmp_path, embedder)
    retriever = load_index(index_dir, config, embedder=embedder)
    retriever.config = dataclasses.replace(config.retriever, hybrid=False, mmr=True, k=4)
    found = retriever.retrieve("história do Brasil")
    assert len({chunk.chunk_id for chunk in found}) == 4


def test_reciprocal_rank_fusion_rewards_agreement():
    fused = reciprocal_rank_fusion([[("a", 9), ("b", 8), ("c", 7)], [("c", 3), ("b", 2), ("d", 1)]], rrf_k=60)
    # c: 1/61 + 1/63 beats b: 1/62 + 1/63; both beat items found by one ranking only
    assert [item for item, _ in fused] == ["c", "b", "a", "d"]


def test_prompt_is_portuguese_with_numbered_passages():
    chunks = [RetrievedChunk(1, 0.9, "Lei Áurea", "", "Lei Áurea\nA lei aboliu a escravidão.", "u", 1, "1:0"),
              RetrievedChunk(2, 0.5, "Brasil", "História", "Brasil — História\nTexto.", "u", 2, "2:0")]
    prompt = build_prompt("Quando foi abolida a escravidão?", chunks)
    assert "[1] Lei Áurea\nA lei aboliu" in prompt and "[2] Brasil — História" in prompt
    assert "Responda em português" in prompt and "não contêm a resposta" in prompt
    assert prompt.rstrip().endswith("Resposta:")


def test_evaluate_retrieval_recall_and_mrr():
    class Fake:
        config = None

        def retrieve(self, question, k):
            titles = {"q1": ["A", "B"], "q2": ["C", "A"], "q3": ["C", "D"]}[question]
            return [RetrievedChunk(r, 1.0, t, "", f"texto {t} 1888", "", r, f"{r}:0") for r, t in enumerate(titles, 1)]

    questions = [Question("1", "q1", ["1888"], None, "A"), Question("2", "q2", ["1999"], None, "A"),
                 Question("3", "q3", ["1888"], None, "A")]
    result = evaluate_retrieval(questions, Fake(), 2)
    assert result["recall_at_k"] == pytest.approx(2 / 3)
    assert result["mrr"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert result["answer_in_passages"] == pytest.approx(2 / 3)
    assert [row["gold_rank"] for row in result["rows"]] == [1, 2, None]


def test_unknown_rag_config_key_is_named():
    with pytest.raises(ConfigError, match="rag.retriever.kk"):
        rag_config_from_dict({"retriever": {"kk": 3}})


def test_cli_retrieve_json(articles, embedder, tmp_path, capsys):
    from lhama.cli import main

    index_dir, _ = build(articles, tmp_path, embedder)
    assert main(["retrieve", str(index_dir), "Qual é o maior rio do mundo?", "-k", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result) == 2 and result[0]["title"] == "Rio Amazonas"
    assert {"title", "section", "score", "text"} <= set(result[0])
