"""lhama.rag.chunks: one document per section, disjoint shards, chunks that fit the embedder and keep words whole."""

import json

from lhama.config.sections import ChunkerConfig, EmbedderConfig
from lhama.rag.chunks import ArticleLoader, chunk_shard
from rag_fixtures import FILLER, TOPICS


def test_loader_yields_sections_with_metadata_and_disjoint_shards(rag_articles):
    documents = ArticleLoader(rag_articles).load()
    assert {d.metadata["title"] for d in documents} == set(TOPICS)
    assert {d.metadata["section"] for d in documents} == {"", "História", "Legado"}
    shards = [ArticleLoader(rag_articles, shard, 2).load() for shard in range(2)]
    keys = [{(d.metadata["article_id"], d.metadata["section"]) for d in shard} for shard in shards]
    assert keys[0].isdisjoint(keys[1]) and len(keys[0] | keys[1]) == len(documents)


def test_chunks_fit_the_embedder_never_split_words_and_carry_their_title(rag_articles, embedder, tmp_path):
    out = tmp_path / "chunks.jsonl"
    chunk_shard(rag_articles, out, ChunkerConfig(), embedder_model=EmbedderConfig().model, embedder=embedder)
    chunks = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(chunks) > len(TOPICS) * 3  # long sections were split
    words = set((FILLER + " ".join(TOPICS.values())).replace(",", " ").replace(".", " ").split())
    for chunk in chunks:
        assert len(embedder.tokenizer.tokenize(chunk["text"])) <= embedder.max_tokens
        header, body = chunk["text"].split("\n", 1)
        assert header.split(" — ")[0] == chunk["metadata"]["title"]
        for token in body.replace(",", " ").replace(".", " ").split():
            assert token in words or token in chunk["metadata"]["title"], token  # whole words only
