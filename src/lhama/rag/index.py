"""The FAISS index: shards merged in corpus order (so the index does not depend on the shard count), saved with
FAISS's own writer, a plain JSONL docstore and sha256 checksums; loading verifies them and never unpickles."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lhama import __version__
from lhama.config.loading import to_dict
from lhama.config.sections import ChunkerConfig, EmbedderConfig, IndexConfig, RagConfig, RetrievalSettings
from lhama.download import file_digest
from lhama.errors import InputFileError
from lhama.files import atomic_dir, read_jsonl, write_json, write_jsonl
from lhama.rag.embedder import embedder_name, load_embedder

log = logging.getLogger(__name__)

INDEX_FILE = "index.faiss"
DOCSTORE_FILE = "docstore.jsonl"
MANIFEST_FILE = "manifest.json"


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


def build_index(chunk_paths: Sequence[str | Path], embedding_paths: Sequence[str | Path], out_dir: str | Path, *,
                embedder: EmbedderConfig, chunker: ChunkerConfig, index: IndexConfig,
                display_name: str | None = None) -> dict:
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
    built = make_faiss_index(vectors, index)
    with atomic_dir(out_dir) as tmp:
        _faiss().write_index(built, str(tmp / INDEX_FILE))
        write_jsonl(tmp / DOCSTORE_FILE, (row[1] for row in rows))
        manifest = {
            "lhama_version": __version__,
            "embedder": {**embedder.identity(), "name": display_name or embedder_name(embedder)},
            "dimension": int(vectors.shape[1]),
            "chunker": to_dict(chunker),
            "index": index.build_settings(),
            "counts": {"chunks": len(rows), "articles": len({row[1]["metadata"]["article_id"] for row in rows}),
                       "shards": len(chunk_paths)},
            "sha256": {name: file_digest(tmp / name, "sha256") for name in (INDEX_FILE, DOCSTORE_FILE)},
        }
        write_json(tmp / MANIFEST_FILE, manifest)
    log.info("index of %d chunks (%s, %d dimensions) -> %s", len(rows), index.type, vectors.shape[1], out_dir)
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
    side of the embedder, search depth, retriever) default to the index's embedder and the default retriever."""
    from langchain_community.docstore.in_memory import InMemoryDocstore
    from langchain_community.vectorstores import FAISS
    from langchain_community.vectorstores.utils import DistanceStrategy
    from langchain_core.documents import Document

    from lhama.rag.retriever import Retriever

    index_dir = Path(index_dir)
    manifest = verified_manifest(index_dir)
    settings = settings_for(manifest, settings)
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
    return Retriever(store=store, chunks=chunks, embedder=embedder, config=settings.retriever, manifest=manifest)
