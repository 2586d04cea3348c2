"""Retrieval benchmark, measured in one run against baselines in the same run.

1. Embedding throughput of lhama's pipeline (LangChain `HuggingFaceEmbeddings` with prefixes, as the `embed` rule
   runs it) against a bare `SentenceTransformer.encode` on the same chunks; target: overhead under 10%, same vectors.
2. FAISS on synthetic clustered vectors (default 100,000 x 384): build time, single-query latency p50/p95 and
   batched throughput for the exact, HNSW and IVF indexes built by `lhama.rag.index.make_faiss_index` with the project's
   default parameters; target: recall@10 of each approximate index against the exact one >= 0.95.

Usage: python benchmarks/bench_rag.py [--vectors 100000] [--chunks 1000] [--quick]
Exit status 0 when every target passes, 1 otherwise. Results also go to benchmarks/out/bench_rag.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
SHARDS = ROOT / "results" / "rag" / "shards"
TARGET_OVERHEAD = 0.10
TARGET_RECALL = 0.95


def corpus_chunks(count: int) -> tuple[list[str], str]:
    """Real chunks of the sample corpus (from the workflow's `chunk` rule), repeated with variations to `count`."""
    base = [json.loads(line)["text"] for path in sorted(SHARDS.glob("*/chunks.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()]
    source = "the sample corpus's chunks (results/rag/shards)"
    if not base:
        words = ("história brasil império república capital província rio cidade governo lei constituição "
                 "independência colônia ouro café escravidão presidente revolução estado século povo").split()
        rng = np.random.default_rng(0)
        base = [" ".join(rng.choice(words, size=150)) for _ in range(200)]
        source = "generated Portuguese word sequences (run the workflow first for real chunks)"
    return [f"{base[i % len(base)]} ({i // len(base)})" for i in range(count)], source


def bench_embedding(texts: list[str], repeats: int) -> dict:
    from sentence_transformers import SentenceTransformer

    from lhama.config.sections import EmbedderConfig
    from lhama.rag.chunks import embed_texts
    from lhama.rag.embedder import load_embedder, resolve_embedder

    config = EmbedderConfig()
    pipeline = load_embedder(config)
    bare = SentenceTransformer(resolve_embedder(config.model), device="cpu")
    run_pipeline = lambda: embed_texts(pipeline, texts, progress=False)  # noqa: E731
    run_bare = lambda: bare.encode(texts, batch_size=config.batch_size, normalize_embeddings=True,  # noqa: E731
                                   convert_to_numpy=True, show_progress_bar=False)
    embed_texts(pipeline, texts[:64], progress=False), bare.encode(texts[:64])  # warm-up
    timings: dict[str, list[float]] = {"pipeline": [], "bare": []}
    vectors = {}
    for repeat in range(repeats):
        order = [("pipeline", run_pipeline), ("bare", run_bare)]
        for name, run in order if repeat % 2 == 0 else reversed(order):
            started = time.perf_counter()
            vectors[name] = run()
            timings[name].append(time.perf_counter() - started)
    rates = {name: len(texts) / statistics.median(values) for name, values in timings.items()}
    return {
        "chunks": len(texts),
        "pipeline_chunks_per_s": rates["pipeline"],
        "bare_chunks_per_s": rates["bare"],
        "overhead": 1 - rates["pipeline"] / rates["bare"],
        "max_abs_diff": float(np.abs(np.asarray(vectors["pipeline"]) - np.asarray(vectors["bare"])).max()),
        "timings_s": timings,
    }


def clustered_vectors(count: int, queries: int, dimension: int, clusters: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((clusters, dimension)).astype(np.float32)
    labels = rng.integers(0, clusters, size=count + queries)
    # noise of 0.6 per dimension: same-cluster cosine ~0.74, near what sentence embeddings of related passages show
    points = centers[labels] + 0.6 * rng.standard_normal((count + queries, dimension)).astype(np.float32)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points[:count].copy(), points[count:].copy()


def bench_faiss(count: int, queries: int, dimension: int, k: int = 10) -> dict:
    import faiss

    from lhama.config.sections import IndexConfig
    from lhama.rag.index import make_faiss_index, set_search_depth

    threads = os.cpu_count() or 1
    faiss.omp_set_num_threads(threads)
    vectors, query_vectors = clustered_vectors(count, queries, dimension, clusters=max(10, count // 100))
    results, exact_ids = {}, None
    for kind in ("flat", "hnsw", "ivf"):
        config = dataclasses.replace(IndexConfig(), type=kind, gpu=False)
        started = time.perf_counter()
        index = make_faiss_index(vectors, config)
        build = time.perf_counter() - started
        set_search_depth(index, kind, config.search_settings())
        latencies = []
        for query in query_vectors:
            started = time.perf_counter()
            index.search(query[None, :], k)
            latencies.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        _, ids = index.search(query_vectors, k)
        batched = queries / (time.perf_counter() - started)
        if kind == "flat":
            exact_ids = ids
        recall = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ids, exact_ids)]))
        results[kind] = {
            "build_s": build, "p50_ms": float(np.percentile(latencies, 50)), "p95_ms": float(np.percentile(latencies, 95)),
            "batched_queries_per_s": batched, "recall_at_10": recall,
            "parameters": {key: value for key, value in dataclasses.asdict(config).items()
                           if key.startswith(kind) or key == "type"},
        }
    return {"vectors": count, "queries": queries, "dimension": dimension, "threads": threads, "indexes": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--chunks", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.vectors, args.queries, args.chunks, args.repeats = 10_000, 200, 200, 1
    started = time.perf_counter()
    texts, source = corpus_chunks(args.chunks)
    embedding = bench_embedding(texts, args.repeats)
    faiss_result = bench_faiss(args.vectors, args.queries, 384)

    print(f"Embedding {embedding['chunks']} chunks ({source}), all-MiniLM-L6-v2 on CPU, median of {args.repeats}:")
    print(f"  lhama pipeline (LangChain HuggingFaceEmbeddings + prefixes): {embedding['pipeline_chunks_per_s']:8.1f} chunks/s")
    print(f"  bare SentenceTransformer.encode:                            {embedding['bare_chunks_per_s']:8.1f} chunks/s")
    print(f"  overhead: {100 * embedding['overhead']:.1f}%   max |difference| of the vectors: {embedding['max_abs_diff']:.2e}")
    print(f"\nFAISS on {faiss_result['vectors']:,} clustered vectors x {faiss_result['dimension']}, "
          f"{faiss_result['queries']} queries, {faiss_result['threads']} threads:")
    print(f"  {'index':6s} {'build s':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'batched q/s':>12s} {'recall@10':>10s}  parameters")
    for kind, row in faiss_result["indexes"].items():
        print(f"  {kind:6s} {row['build_s']:8.2f} {row['p50_ms']:8.3f} {row['p95_ms']:8.3f} "
              f"{row['batched_queries_per_s']:12.0f} {row['recall_at_10']:10.3f}  {row['parameters']}")
    flat = faiss_result["indexes"]["flat"]
    for kind in ("hnsw", "ivf"):
        row = faiss_result["indexes"][kind]
        print(f"  {kind} vs exact: query p50 {flat['p50_ms'] / row['p50_ms']:.1f}x faster")
    targets = [
        (f"embedding pipeline overhead < {100 * TARGET_OVERHEAD:.0f}%", embedding["overhead"] < TARGET_OVERHEAD,
         f"{100 * embedding['overhead']:.1f}%"),
        ("pipeline vectors equal bare vectors (max diff < 1e-5)", embedding["max_abs_diff"] < 1e-5,
         f"{embedding['max_abs_diff']:.1e}"),
        *[(f"{kind} recall@10 >= {TARGET_RECALL}", faiss_result["indexes"][kind]["recall_at_10"] >= TARGET_RECALL,
           f"{faiss_result['indexes'][kind]['recall_at_10']:.3f}") for kind in ("hnsw", "ivf")],
    ]
    print("\nTargets:")
    for name, passed, shown in targets:
        print(f"  {'PASS' if passed else 'FAIL'}  {name}: {shown}")
    elapsed = time.perf_counter() - started
    print(f"\n{'ALL TARGETS PASS' if all(t[1] for t in targets) else 'SOME TARGETS FAIL'}  (benchmark took {elapsed:.0f} s)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_rag.json").write_text(json.dumps({"embedding": embedding, "faiss": faiss_result, "chunk_source": source,
                                                    "targets": [{"target": t[0], "pass": t[1], "value": t[2]}
                                                                for t in targets]}, indent=2))
    return 0 if all(t[1] for t in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
