"""The sentence-transformers embedder of passages and questions, through LangChain's `Embeddings` interface, with
the prefixes e5/bge models expect."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from lhama.config.sections import EmbedderConfig
from lhama.rag.sources import resolve_embedder


def _device(setting: str) -> str:
    if setting != "auto":
        return setting
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class PrefixedEmbeddings(Embeddings):
    """LangChain embeddings that add the model's passage/query prefixes (e5: `passage: `, `query: `)."""

    def __init__(self, inner: Embeddings, query_prefix: str = "", passage_prefix: str = "") -> None:
        self.inner, self.query_prefix, self.passage_prefix = inner, query_prefix, passage_prefix

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents([self.passage_prefix + text for text in texts])

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(self.query_prefix + text)


@dataclass
class Embedder:
    """The configured embedder: LangChain interface, its tokenizer (for chunk sizes) and its limits."""

    config: EmbedderConfig
    langchain: PrefixedEmbeddings
    name: str
    tokenizer: object
    max_tokens: int
    dimension: int

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.langchain.embed_documents(list(texts)), dtype=np.float32).reshape(-1, self.dimension)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.langchain.embed_query(text), dtype=np.float32)


def load_embedder(config: EmbedderConfig) -> Embedder:
    from langchain_huggingface import HuggingFaceEmbeddings

    path = resolve_embedder(config.model)
    embeddings = HuggingFaceEmbeddings(
        model_name=path,
        model_kwargs={"device": _device(config.device)},
        encode_kwargs={"normalize_embeddings": config.normalize, "batch_size": config.batch_size},
    )
    client = embeddings._client  # the SentenceTransformer: its tokenizer sizes the chunks
    dimension = client.get_embedding_dimension() if hasattr(client, "get_embedding_dimension") \
        else client.get_sentence_embedding_dimension()
    return Embedder(
        config=config,
        langchain=PrefixedEmbeddings(embeddings, config.query_prefix, config.passage_prefix),
        name=embedder_display_name(config.model, path),
        tokenizer=client.tokenizer,
        max_tokens=int(client.max_seq_length),
        dimension=int(dimension),
    )


# ---------------------------------------------------------------------------------------------------- loader, chunker


def embedder_display_name(spec: str, path: str) -> str:
    """The model's own name where its folder records it (sentence-transformers README/config), else the spec."""
    readme = Path(path) / "README.md"
    if readme.exists():
        for line in readme.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return spec


def embedder_name(config: EmbedderConfig) -> str:
    return embedder_display_name(config.model, resolve_embedder(config.model))
