"""The FAISS index: shards merged in corpus order (so the index does not depend on the shard count), saved with
FAISS's own writer, a plain JSONL docstore, a BM25 index of the same chunks (bm25s: .npy arrays and JSON) and
sha256 checksums; loading verifies them and never unpickles."""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from lhama import __version__
from lhama.config.loading import to_dict
from lhama.config.sections import ChunkerConfig, EmbedderConfig, IndexConfig, RagConfig, RetrievalSettings
from lhama.download import file_digest
from lhama.errors import InputFileError
from lhama.files import atomic_dir, read_jsonl, write_json, write_jsonl
from lhama.rag.embedder import embedder_name, load_embedder
from lhama.text import tokens

log = logging.getLogger(__name__)

INDEX_FILE = "index.faiss"
DOCSTORE_FILE = "docstore.jsonl"
MANIFEST_FILE = "manifest.json"
BM25_DIR = "bm25"
# BM25Okapi's defaults (rank-bm25, which the retriever used before): k1 and b as there, and Robertson's idf,
# log((N - df + 0.5) / (df + 0.5)), which is BM25Okapi's
BM25_PARAMETERS = {"method": "robertson", "k1": 1.5, "b": 0.75}


class IndexIntegrityError(InputFileError):
    """A saved index whose files are missing, truncated, tampered with or inconsistent."""


def _faiss():
    import faiss

    return faiss


def uses_gpu(config: IndexConfig) -> bool:
    """Whether the build runs on GPUs: asked for, or `auto` with a FAISS that has GPU support and sees a GPU."""
    faiss = _faiss()
    available = hasattr(faiss, "get_num_gpus") and faiss.get_num_gpus() > 0
    return config.type != "hnsw" and (config.gpu is True or (config.gpu == "auto" and available))


def make_faiss_index(vectors: np.ndarray, config: IndexConfig):
    """An inner-product index of the configured type, filled with `vectors` (built on GPU when asked and possible;
    FAISS has no GPU HNSW)."""
    faiss = _faiss()
    count, dimension = vectors.shape
    if config.type == "flat":
        index = faiss.IndexFlatIP(dimension)
    elif config.type == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = config.hnsw_ef_construction
    else:
        nlist = config.ivf_nlist or max(1, min(count // 39, int(4 * count ** 0.5)))
        quantizer = faiss.IndexFlatIP(dimension)
        index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
    if uses_gpu(config):
        gpu_index = faiss.index_cpu_to_all_gpus(index)
        if config.type == "ivf":
            gpu_index.train(vectors)
        gpu_index.add(vectors)
        return faiss.index_gpu_to_cpu(gpu_index)
    if config.type == "ivf":
        index.train(vectors)
    index.add(vectors)
    return index


def set_search_depth(index, kind: str, search: dict) -> None:
    """The query-time depth of an HNSW (efSearch) or IVF (nprobe) index; a loaded index gets it from the config."""
    if kind == "hnsw":
        index.hnsw.efSearch = search["hnsw_ef_search"]
    elif kind == "ivf":
        index.nprobe = min(search["ivf_nprobe"], index.nlist)


class TokenIds(Sequence):
    """Every chunk's term ids in one flat int32 array (4 bytes a term rather than a Python list per chunk): the
    re-readable corpus bm25s walks three times while it builds, and nothing more."""

    def __init__(self) -> None:
        self._flat = array("i")
        self._ends = array("q")

    def append(self, ids: Sequence[int]) -> None:
        self._flat.extend(ids)
        self._ends.append(len(self._flat))

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, position: int) -> list[int]:
        if not 0 <= position < len(self._ends):
            raise IndexError(position)
        return self._flat[self._ends[position - 1] if position else 0:self._ends[position]].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        start = 0
        for end in self._ends:
            yield self._flat[start:end].tolist()
            start = end


def write_bm25(texts: Iterable[str], folder: Path) -> None:
    """A BM25 index of `texts` (in corpus order) saved to `folder` by bm25s: term weights as a sparse matrix in
    .npy files, the vocabulary and parameters as JSON, loadable memory-mapped.

    Terms are `lhama.text.tokens` (Portuguese normalization, as the questions are tokenized), streamed through
    bm25s's tokenizer so only term ids are held. Scoring is bm25s's "robertson" with k1 = 1.5, b = 0.75
    (BM25Okapi's defaults): the same idf and term-frequency saturation as rank-bm25's BM25Okapi, whose scores
    `lhama.rag.retriever.bm25_scores` gives back, except for a term found in more than half of the chunks, which
    adds nothing here (BM25Okapi floors its idf at a quarter of the mean idf instead)."""
    import bm25s
    from bm25s.tokenization import Tokenized, Tokenizer

    tokenizer = Tokenizer(lower=False, splitter=tokens, stopwords=None)
    corpus = TokenIds()
    for ids in tokenizer.streaming_tokenize(texts, allow_empty=False):
        corpus.append(ids)
    bm25 = bm25s.BM25(**BM25_PARAMETERS)
    bm25.index(Tokenized(ids=corpus, vocab=tokenizer.get_vocab_dict()), create_empty_token=False,
               show_progress=False)
    bm25.save(folder, allow_pickle=False, show_progress=False)


def bm25_folder(index_dir: str | Path, manifest: dict) -> Path:
    """The index's BM25 folder; an index built before BM25 was saved with it has none, and hybrid retrieval needs
    it rebuilt."""
    index_dir = Path(index_dir)
    folder = index_dir / BM25_DIR
    if "bm25" not in manifest or not folder.is_dir():
        raise IndexIntegrityError(index_dir, f"no BM25 index ({BM25_DIR}/), which hybrid retrieval needs: the index "
                                  "was built before BM25 was saved with it; rebuild the index (`lhama index`, or "
                                  "the workflow's `index` rule) or set rag.retriever.hybrid: false")
    return folder


def load_bm25(folder: str | Path, chunks: int):
    """The saved BM25 index, memory-mapped (the term weights stay on disk, read as queries touch them), never
    unpickled; `chunks` is the count the index manifest gives."""
    import bm25s

    folder = Path(folder)
    try:
        bm25 = bm25s.BM25.load(folder, mmap=True, allow_pickle=False, load_corpus=False, show_progress=False)
    except (OSError, ValueError, TypeError) as error:
        raise IndexIntegrityError(folder, f"bm25s cannot read it: {str(error).splitlines()[0]}") from None
    if bm25.scores["num_docs"] != chunks:
        raise IndexIntegrityError(folder, f"BM25 index of {bm25.scores['num_docs']} chunks, manifest says {chunks}")
    return bm25


def index_files(folder: Path) -> list[str]:
    """The files of a finished index folder that its manifest checksums, as paths relative to it."""
    bm25 = sorted(f"{BM25_DIR}/{path.name}" for path in (folder / BM25_DIR).iterdir() if path.is_file())
    return [INDEX_FILE, DOCSTORE_FILE, *bm25]


def build_index(chunk_paths: Sequence[str | Path], embedding_paths: Sequence[str | Path], out_dir: str | Path, *,
                embedder: EmbedderConfig, chunker: ChunkerConfig, index: IndexConfig,
                display_name: str | None = None) -> dict:
    """Merge shards (ordered by corpus position, whatever the shard count) into a saved FAISS index, with a BM25
    index of the same chunks in its `bm25/` folder."""
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
    dimension = int(vectors.shape[1])
    built = make_faiss_index(vectors, index)
    with atomic_dir(out_dir) as tmp:
        _faiss().write_index(built, str(tmp / INDEX_FILE))
        del built, vectors  # both copies of the vectors: BM25's build peak should not come on top of them
        write_jsonl(tmp / DOCSTORE_FILE, (row[1] for row in rows))
        write_bm25((row[1]["text"] for row in rows), tmp / BM25_DIR)
        manifest = {
            "lhama_version": __version__,
            "embedder": {**embedder.identity(), "name": display_name or embedder_name(embedder)},
            "dimension": dimension,
            "chunker": to_dict(chunker),
            "index": index.build_settings(),
            "counts": {"chunks": len(rows), "articles": len({row[1]["metadata"]["article_id"] for row in rows}),
                       "shards": len(chunk_paths)},
            "bm25": {"folder": BM25_DIR, **BM25_PARAMETERS},
            "sha256": {name: file_digest(tmp / name, "sha256") for name in index_files(tmp)},
        }
        write_json(tmp / MANIFEST_FILE, manifest)
    log.info("index of %d chunks (%s, %d dimensions) -> %s", len(rows), index.type, dimension, out_dir)
    return manifest


def index_articles(articles_dir: str | Path, out_dir: str | Path, config: RagConfig) -> dict:
    """chunk + embed + build in one process (the `lhama index` command); shards live in a scratch folder."""
    from lhama.rag.chunks import chunk_shard, embed_shard

    embedder = load_embedder(config.embedder.for_passages())
    out_dir = Path(out_dir)
    scratch = out_dir.parent / f".{out_dir.name}.shards-{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        chunks, embeddings = scratch / "chunks.jsonl", scratch / "embeddings.npy"
        chunk_shard(articles_dir, chunks, config.chunker, embedder_model=config.embedder.model, embedder=embedder)
        embed_shard(chunks, embeddings, config.embedder.for_passages(), embedder=embedder)
        return build_index([chunks], [embeddings], out_dir, embedder=config.embedder, chunker=config.chunker,
                           index=config.index, display_name=embedder.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def verified_manifest(index_dir: str | Path) -> dict:
    """The index's manifest, after checking every file against its sha256."""
    index_dir = Path(index_dir)
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


def settings_for(manifest: dict, settings: RetrievalSettings | None) -> RetrievalSettings:
    """The given retrieval settings, or defaults around the index's own embedder."""
    if settings is not None:
        return settings
    stored = manifest["embedder"]
    return RetrievalSettings(embedder=EmbedderConfig(model=stored["model"], normalize=stored.get("normalize", True)),
                             search=IndexConfig(**{key: value for key, value in manifest["index"].items()
                                                   if key in IndexConfig.__dataclass_fields__}).search_settings())


def load_index(index_dir: str | Path, settings: RetrievalSettings | None = None, embedder=None):
    """A `Retriever` over a saved index, after checking its checksums; nothing is unpickled. `settings` (the query
    side of the embedder, search depth, retriever) default to the index's embedder and the default retriever. With
    hybrid retrieval an index without BM25 (built before it was saved with the index) is an error here, not at the
    first question."""
    from langchain_community.docstore.in_memory import InMemoryDocstore
    from langchain_community.vectorstores import FAISS
    from langchain_community.vectorstores.utils import DistanceStrategy
    from langchain_core.documents import Document

    from lhama.rag.retriever import Retriever

    index_dir = Path(index_dir)
    manifest = verified_manifest(index_dir)
    settings = settings_for(manifest, settings)
    bm25 = bm25_folder(index_dir, manifest) if settings.retriever.hybrid else None
    faiss = _faiss()
    try:
        index = faiss.read_index(str(index_dir / INDEX_FILE))
    except RuntimeError as error:
        raise IndexIntegrityError(index_dir / INDEX_FILE, f"FAISS cannot read it: {str(error).splitlines()[0]}") from None
    chunks = list(read_jsonl(index_dir / DOCSTORE_FILE))
    if index.ntotal != len(chunks) or index.ntotal != manifest["counts"]["chunks"]:
        raise IndexIntegrityError(index_dir, f"{index.ntotal} vectors, {len(chunks)} docstore entries, "
                                  f"manifest says {manifest['counts']['chunks']}")
    set_search_depth(index, manifest["index"]["type"], settings.search)
    if manifest["index"]["type"] == "ivf":
        index.make_direct_map()  # MMR needs vectors back from an IVF index
    embedder = embedder or load_embedder(settings.embedder)
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
    return Retriever(store=store, chunks=chunks, embedder=embedder, config=settings.retriever, manifest=manifest,
                     load_bm25=None if bm25 is None else functools.partial(load_bm25, bm25, len(chunks)))
