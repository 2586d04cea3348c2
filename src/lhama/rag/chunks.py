"""Passages for retrieval: a LangChain loader over the extracted articles (one `Document` per section), a splitter
measured in the embedder's tokens, and the sharded chunk and embed jobs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document

from lhama.config.sections import ChunkerConfig, EmbedderConfig
from lhama.corpus import iter_articles
from lhama.files import atomic_open, read_jsonl, write_jsonl
from lhama.rag.embedder import Embedder, load_embedder

log = logging.getLogger(__name__)


class ArticleLoader(BaseLoader):
    """One `Document` per section of the extracted articles (a shard of them: position % num_shards == shard)."""

    def __init__(self, articles_dir: str | Path, shard: int = 0, num_shards: int = 1) -> None:
        self.articles_dir, self.shard, self.num_shards = Path(articles_dir), shard, num_shards

    def lazy_load(self) -> Iterator[Document]:
        for position, article in enumerate(iter_articles(self.articles_dir)):
            if position % self.num_shards != self.shard:
                continue
            for section in article["sections"]:
                yield Document(
                    page_content="\n\n".join(section["paragraphs"]),
                    metadata={
                        "article_id": article["id"],
                        "title": article["title"],
                        "url": article["url"],
                        "section": " > ".join(section["path"]),
                        "article_position": position,
                    },
                )


def make_splitter(embedder: Embedder, config: ChunkerConfig, reserve: int = 24):
    """A splitter counting the embedder's tokens; never mid-word (no empty separator)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    budget = min(config.chunk_tokens, embedder.max_tokens - reserve)
    if budget < config.chunk_tokens:
        log.info("chunk size clamped from %d to %d tokens: %s reads at most %d tokens, %d kept for the title prefix",
                 config.chunk_tokens, budget, embedder.name, embedder.max_tokens, reserve)
    return RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
        embedder.tokenizer, chunk_size=budget, chunk_overlap=min(config.chunk_overlap, budget // 2),
        separators=["\n\n", "\n", ". ", " "], keep_separator="end",
    )


def chunk_prefix(metadata: dict) -> str:
    return f"{metadata['title']} — {metadata['section']}\n" if metadata["section"] else f"{metadata['title']}\n"


def chunk_documents(documents: Iterator[Document], splitter) -> Iterator[dict]:
    counters: dict = {}
    for document in documents:
        for piece in splitter.split_text(document.page_content):
            article_id = document.metadata["article_id"]
            number = counters.get(article_id, 0)
            counters[article_id] = number + 1
            yield {
                "chunk_id": f"{article_id}:{number}",
                "text": chunk_prefix(document.metadata) + piece.strip(),
                "metadata": {**document.metadata, "chunk": number},
            }


def chunk_shard(articles_dir: str | Path, out_path: str | Path, chunker: ChunkerConfig, *, embedder_model: str,
                shard: int = 0, num_shards: int = 1, embedder: Embedder | None = None) -> int:
    """Chunks of one shard of the articles as JSONL; the embedder's tokenizer measures them."""
    embedder = embedder or load_embedder(EmbedderConfig(model=embedder_model, device="cpu"))
    splitter = make_splitter(embedder, chunker)
    count = write_jsonl(out_path, chunk_documents(ArticleLoader(articles_dir, shard, num_shards).lazy_load(), splitter))
    log.info("shard %d/%d: %d chunks -> %s", shard, num_shards, count, out_path)
    return count


def embed_texts(embedder: Embedder, texts: list[str], progress: bool = True) -> np.ndarray:
    from tqdm import tqdm

    batch = max(embedder.config.batch_size * 8, 256)
    parts = [embedder.embed_documents(texts[start:start + batch])
             for start in tqdm(range(0, len(texts), batch), desc="embed", unit="batch", disable=not progress or None)]
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), dtype=np.float32)


def embed_shard(chunks_path: str | Path, out_path: str | Path, config: EmbedderConfig,
                embedder: Embedder | None = None) -> int:
    """The passage vectors of one shard's chunks (`.npy`, never pickled)."""
    embedder = embedder or load_embedder(config)
    texts = [chunk["text"] for chunk in read_jsonl(chunks_path)]
    vectors = embed_texts(embedder, texts)
    with atomic_open(out_path, "wb") as handle:
        np.save(handle, vectors, allow_pickle=False)
    log.info("embedded %d chunks (%d dimensions) -> %s", len(texts), embedder.dimension, out_path)
    return len(texts)
