"""lhama.rag.index: every index type finds the gold article; the index does not depend on the shard count; it is
saved and loaded without pickle, and a damaged file (FAISS, docstore or BM25) is named; an index built before BM25
was saved with it is a clear error for hybrid retrieval."""

import dataclasses
import json
import pickle
import shutil

import pytest

from lhama.config.sections import RetrievalSettings
from lhama.rag.index import IndexIntegrityError, load_index
from rag_fixtures import build


def settings(config, **retriever) -> RetrievalSettings:
    base = RetrievalSettings.of(config)
    return dataclasses.replace(base, retriever=dataclasses.replace(base.retriever, **retriever))


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_each_index_type_finds_the_gold_article(rag_articles, embedder, tmp_path, kind):
    index_dir, config = build(rag_articles, tmp_path, embedder, type=kind)
    for hybrid in (False, True):
        retriever = load_index(index_dir, settings(config, hybrid=hybrid, k=3), embedder=embedder)
        found = retriever.retrieve("Quando a escravidão foi abolida pela Lei Áurea?")
        assert found[0].title == "Lei Áurea"
        assert len({chunk.chunk_id for chunk in found}) == len(found) == 3


def test_shard_count_does_not_change_the_index(rag_articles, embedder, tmp_path):
    one, _ = build(rag_articles, tmp_path / "a", embedder, shards=1)
    three, _ = build(rag_articles, tmp_path / "b", embedder, shards=3)
    assert (one / "docstore.jsonl").read_text() == (three / "docstore.jsonl").read_text()


def test_manifest_records_what_the_vectors_depend_on(rag_index):
    manifest = json.loads((rag_index / "manifest.json").read_text())
    assert set(manifest["embedder"]) == {"model", "passage_prefix", "normalize", "name"}
    assert manifest["embedder"]["name"] == "all-MiniLM-L6-v2" and manifest["counts"]["articles"] == 5


def test_saved_index_round_trips_without_pickle(rag_index, embedder, monkeypatch):
    first = load_index(rag_index, embedder=embedder).retrieve("capital federal inaugurada em 1960")

    def refuse(*args, **kwargs):
        raise AssertionError("load_index unpickled something")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    retriever = load_index(rag_index, embedder=embedder)
    again = retriever.retrieve("capital federal inaugurada em 1960")
    assert retriever.config.hybrid and retriever._bm25 is not None  # the BM25 index was read too
    assert [c.chunk_id for c in again] == [c.chunk_id for c in first] and again[0].title == "Brasília"
    assert sorted(p.name for p in rag_index.iterdir()) == ["bm25", "docstore.jsonl", "index.faiss", "manifest.json"]


def test_manifest_checksums_the_bm25_files(rag_index):
    manifest = json.loads((rag_index / "manifest.json").read_text())
    saved = {f"bm25/{path.name}" for path in (rag_index / "bm25").iterdir()}
    assert saved == {name for name in manifest["sha256"] if name.startswith("bm25/")}
    assert {"bm25/data.csc.index.npy", "bm25/vocab.index.json"} <= saved
    assert all(name.endswith((".npy", ".json")) for name in saved)  # numpy arrays and JSON, nothing pickled
    assert manifest["bm25"] == {"folder": "bm25", "method": "robertson", "k1": 1.5, "b": 0.75}


@pytest.mark.parametrize("damage", ["tamper_docstore", "truncate_index", "drop_manifest", "tamper_bm25_vocab",
                                    "truncate_bm25_data", "drop_bm25_indptr"])
def test_damaged_index_gives_a_clear_error(rag_articles, embedder, tmp_path, damage):
    index_dir, _ = build(rag_articles, tmp_path, embedder)
    if damage == "tamper_docstore":
        path = index_dir / "docstore.jsonl"
        path.write_text(path.read_text().replace("Brasília", "Brasilia"))
    elif damage == "truncate_index":
        path = index_dir / "index.faiss"
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "tamper_bm25_vocab":
        path = index_dir / "bm25" / "vocab.index.json"
        path.write_text(path.read_text(encoding="utf-8").replace("brasilia", "brasil"), encoding="utf-8")
    elif damage == "truncate_bm25_data":
        path = index_dir / "bm25" / "data.csc.index.npy"
        path.write_bytes(path.read_bytes()[:-8])
    elif damage == "drop_bm25_indptr":
        path = index_dir / "bm25" / "indptr.csc.index.npy"
        path.unlink()
    else:
        path = index_dir / "manifest.json"
        path.unlink()
    with pytest.raises(IndexIntegrityError) as error:
        load_index(index_dir, embedder=embedder)
    assert str(path) in str(error.value)


def as_built_before_bm25(index_dir):
    """The index folder as builds before BM25 was saved with the index wrote it: no bm25/, no mention of it."""
    shutil.rmtree(index_dir / "bm25")
    path = index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["bm25"]
    manifest["sha256"] = {name: digest for name, digest in manifest["sha256"].items() if not name.startswith("bm25/")}
    path.write_text(json.dumps(manifest))


def test_index_without_bm25_is_a_clear_error_for_hybrid_retrieval(rag_articles, embedder, tmp_path):
    index_dir, config = build(rag_articles, tmp_path, embedder)
    as_built_before_bm25(index_dir)
    with pytest.raises(IndexIntegrityError) as error:
        load_index(index_dir, settings(config, hybrid=True), embedder=embedder)
    assert str(index_dir) in str(error.value) and "rebuild the index" in str(error.value)
    dense = load_index(index_dir, settings(config, hybrid=False, k=1), embedder=embedder)
    assert dense.retrieve("capital federal inaugurada em 1960")[0].title == "Brasília"
