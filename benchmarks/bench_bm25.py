"""BM25 benchmark: the saved, memory-mapped bm25s index of `lhama.rag.index` against rank-bm25's BM25Okapi (what
the retriever built in memory, in every job, before), on the same synthetic chunks and queries, in one run.

Chunks are short Portuguese-like texts drawn from a seeded, Zipf-distributed vocabulary of made-up words with
accents (so `lhama.text.tokens` folds them); both sides tokenize with `lhama.text.tokens`. Each measurement runs in
its own process, so its peak RSS (getrusage) is its own:

- rank-bm25: tokenize + build `BM25Okapi` (what a hybrid job paid before its first question), 100 queries
  (`get_scores` and the retriever's top-k);
- bm25s build: `write_bm25` (tokenize, build, save), as the `index` job now does once;
- bm25s query: `load_bm25` (memory-mapped) and the same queries with `bm25_scores`, as a hybrid job now does.

Peak RSS is reported above the process's peak after the texts were generated (the build rows) or after imports
(the query row). Also: how many of the queries have the same top-10 on both sides.

rank-bm25 is no dependency of lhama: pass its wheel (pure Python, put on sys.path), e.g.
    pip download --no-deps rank-bm25==0.2.2 -d benchmarks/out/wheels
    python benchmarks/bench_bm25.py --chunks 200000 --rank-bm25 benchmarks/out/wheels/rank_bm25-0.2.2-py3-none-any.whl
Without one (and without rank-bm25 importable) the baseline is skipped. Results also go to
benchmarks/out/bench_bm25.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
DEFAULT_WHEEL = OUT / "wheels" / "rank_bm25-0.2.2-py3-none-any.whl"
TOP = 10
SYLLABLES = ("ba be bi bo bu ca ce ci co cu da de di do du fa fe fi ga go gu la le li lo lu ma me mi mo mu na ne "
             "ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo ção são lhe nha "
             "ção tá té ró mú ês ão").split()


def vocabulary(size: int, seed: int) -> list[str]:
    """`size` distinct made-up words of 2-4 syllables, some accented."""
    rng = np.random.default_rng(seed)
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choice(SYLLABLES, size=rng.integers(2, 5)))] = None
    return list(words)


def zipf(size: int, exponent: float = 1.1) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** exponent
    return weights / weights.sum()


def synthetic_texts(count: int, seed: int, words: int = 50_000) -> list[str]:
    """`count` chunk-like texts of 30-90 words, word frequencies Zipf-like, seeded."""
    vocab = np.array(vocabulary(words, seed))
    rng = np.random.default_rng(seed + 1)
    lengths = rng.integers(30, 91, size=count)
    drawn = rng.choice(len(vocab), size=int(lengths.sum()), p=zipf(len(vocab)))
    ends = np.cumsum(lengths)
    return [" ".join(vocab[drawn[end - length:end]]) for end, length in zip(ends, lengths)]


def synthetic_queries(count: int, seed: int, words: int = 50_000) -> list[str]:
    """`count` queries of 2-5 words drawn from the middle of the frequency range (ranks 50-20,000)."""
    vocab = vocabulary(words, seed)
    rng = np.random.default_rng(seed + 2)
    return [" ".join(vocab[i] for i in rng.integers(50, min(20_000, words), size=rng.integers(2, 6)))
            for _ in range(count)]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def top_k(scores: np.ndarray, count: int) -> list[int]:
    """The retriever's top-k: by score, ties by corpus order."""
    count = min(count, len(scores))
    top = np.argpartition(-scores, count - 1)[:count]
    return top[np.lexsort((top, -scores[top]))].tolist()


def timed_queries(score, queries: list[str]) -> dict:
    """Each query's top-k and their scores (scoring and ranking every chunk, as the retriever does), and its own
    seconds."""
    tops, scores, times = [], [], []
    for query in queries:
        started = time.perf_counter()
        values = score(query)
        top = top_k(values, TOP)
        times.append(time.perf_counter() - started)
        tops.append(top)
        scores.append([float(values[i]) for i in top])
    return {"tops": tops, "scores": scores, **latency(times)}


def latency(times: list[float]) -> dict:
    p50, p95 = np.percentile(times, [50, 95])
    return {"query_s": float(sum(times)), "p50_ms": float(p50 * 1e3), "p95_ms": float(p95 * 1e3)}


def run_rank_bm25(args: argparse.Namespace) -> dict:
    if args.rank_bm25:
        sys.path.insert(0, str(args.rank_bm25))
    import rank_bm25
    from rank_bm25 import BM25Okapi

    from lhama.text import tokens

    texts, queries = synthetic_texts(args.chunks, args.seed), synthetic_queries(args.queries, args.seed)
    before = peak_rss_mb()
    started = time.perf_counter()
    bm25 = BM25Okapi([tokens(text) for text in texts])
    build = time.perf_counter() - started
    ranked = timed_queries(lambda query: bm25.get_scores(tokens(query)), queries)
    return {"build_s": build, **ranked, "peak_rss_mb": peak_rss_mb() - before, "source": rank_bm25.__file__}


def run_bm25s_build(args: argparse.Namespace) -> dict:
    from lhama.rag.index import write_bm25

    texts = synthetic_texts(args.chunks, args.seed)
    before = peak_rss_mb()
    started = time.perf_counter()
    write_bm25(iter(texts), Path(args.folder))
    build = time.perf_counter() - started
    size = sum(path.stat().st_size for path in Path(args.folder).iterdir())
    return {"build_s": build, "peak_rss_mb": peak_rss_mb() - before, "disk_mb": size / 2 ** 20}


def run_bm25s_query(args: argparse.Namespace) -> dict:
    from lhama.rag.index import load_bm25
    from lhama.rag.retriever import bm25_scores
    from lhama.text import tokens

    queries = synthetic_queries(args.queries, args.seed)
    before = peak_rss_mb()
    started = time.perf_counter()
    bm25 = load_bm25(args.folder, args.chunks)
    load = time.perf_counter() - started
    ranked = timed_queries(lambda query: bm25_scores(bm25, tokens(query)), queries)
    return {"load_s": load, **ranked, "peak_rss_mb": peak_rss_mb() - before}


MEASUREMENTS = {"rank-bm25": run_rank_bm25, "bm25s-build": run_bm25s_build, "bm25s-query": run_bm25s_query}


def measure(name: str, args: argparse.Namespace, folder: Path, chunks: int) -> dict:
    """One measurement in a fresh interpreter (its own peak RSS)."""
    command = [sys.executable, __file__, "--measure", name, "--chunks", str(chunks), "--queries",
               str(args.queries), "--seed", str(args.seed), "--folder", str(folder)]
    if args.rank_bm25:
        command += ["--rank-bm25", str(args.rank_bm25)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1", "DISABLE_TQDM": "1"}
    print(f"{name} over {chunks:,} chunks ...", file=sys.stderr, flush=True)
    run = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if run.returncode:
        raise SystemExit(f"{name} ({chunks:,} chunks) failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def baseline_available(args: argparse.Namespace) -> bool:
    if args.rank_bm25 is None and DEFAULT_WHEEL.exists():
        args.rank_bm25 = DEFAULT_WHEEL
    if args.rank_bm25 is not None:
        return Path(args.rank_bm25).exists()
    try:
        import rank_bm25  # noqa: F401
    except ImportError:
        return False
    return True


def ranking_agreement(old: dict, new: dict) -> tuple[int, int, int]:
    """(queries with the same top-k, of the others those that differ only at near-ties, those that differ beyond).

    A near-tie: where the two lists first differ, the two chunks' scores agree to 1e-5 relative (bm25s scores in
    float32, rank-bm25 in float64, so chunks a rounding apart swap places)."""
    same = ties = beyond = 0
    for old_top, new_top, old_scores, new_scores in zip(old["tops"], new["tops"], old["scores"], new["scores"]):
        if old_top == new_top:
            same += 1
            continue
        first = next(i for i, (a, b) in enumerate(zip(old_top, new_top)) if a != b)
        if abs(old_scores[first] - new_scores[first]) <= 1e-5 * max(abs(old_scores[first]), 1e-9):
            ties += 1
        else:
            beyond += 1
    return same, ties, beyond


def row(label: str, result: dict) -> str:
    cell = lambda key, width, digits: f"{result[key]:{width}.{digits}f}" if key in result else f"{'-':>{width}s}"  # noqa: E731
    return (f"  {label:44s} {cell('build_s', 9, 2)} {cell('load_s', 8, 3)} {cell('query_s', 10, 3)} "
            f"{cell('p50_ms', 8, 1)} {cell('p95_ms', 8, 1)} {result['peak_rss_mb']:12.1f}")


def report(results: dict, args: argparse.Namespace, elapsed: float) -> None:
    print(f"BM25 on synthetic chunks, {args.queries} queries (top-{TOP}), seed {args.seed}:")
    print(f"  {'':44s} {'build s':>9s} {'load s':>8s} {'queries s':>10s} {'p50 ms':>8s} {'p95 ms':>8s} "
          f"{'peak RSS MB':>12s}")
    for chunks in sorted({args.chunks, args.baseline_chunks}):
        if ("rank-bm25", chunks) in results:
            print(row(f"rank-bm25 BM25Okapi, {chunks:,} (in memory)", results["rank-bm25", chunks]))
        print(row(f"bm25s build + save, {chunks:,} (index job)", results["bm25s-build", chunks]))
        print(row(f"bm25s mmap load + queries, {chunks:,}", results["bm25s-query", chunks]))
        print(f"  {'':44s} bm25s index on disk: {results['bm25s-build', chunks]['disk_mb']:.1f} MB")
    old = results.get(("rank-bm25", args.baseline_chunks))
    if old:
        built, queried = results["bm25s-build", args.baseline_chunks], results["bm25s-query", args.baseline_chunks]
        same, ties, beyond = ranking_agreement(old, queried)
        print(f"Ratios at {args.baseline_chunks:,} chunks (rank-bm25 from {old['source']} / bm25s):")
        print(f"  build time {old['build_s'] / built['build_s']:.1f}x, build peak RSS "
              f"{old['peak_rss_mb'] / max(built['peak_rss_mb'], 1e-9):.1f}x")
        print(f"  query time {old['query_s'] / queried['query_s']:.1f}x (p50 {old['p50_ms'] / queried['p50_ms']:.0f}x); "
              f"a hybrid job before its first answer (build vs load) {old['build_s'] / queried['load_s']:.0f}x; "
              f"its peak RSS {old['peak_rss_mb'] / max(queried['peak_rss_mb'], 1e-9):.1f}x")
        print(f"  same top-{TOP} on {same} of {args.queries} queries; {ties} differ only where two chunks score "
              f"within 1e-5 (float32 against float64), {beyond} beyond that")
    else:
        print("rank-bm25 baseline skipped (pass --rank-bm25 WHEEL; see the module docstring)")
    print(f"(benchmark took {elapsed:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=200_000)
    parser.add_argument("--baseline-chunks", type=int, help="rank-bm25's size (default --chunks); bm25s runs at "
                                                            "both sizes, and rankings compare at this one")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rank-bm25", type=Path, help="rank-bm25 wheel (or folder) to put on sys.path")
    parser.add_argument("--measure", choices=sorted(MEASUREMENTS), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(MEASUREMENTS[args.measure](args)))
        return 0
    args.baseline_chunks = args.baseline_chunks or args.chunks
    started = time.perf_counter()
    results = {}
    baseline = baseline_available(args)
    with tempfile.TemporaryDirectory(prefix="bench_bm25-") as scratch:
        for chunks in sorted({args.chunks, args.baseline_chunks}, reverse=True):
            folder = Path(scratch) / f"bm25-{chunks}"
            for name in ("bm25s-build", "bm25s-query"):
                results[name, chunks] = measure(name, args, folder, chunks)
            shutil.rmtree(folder)
        if baseline:
            results["rank-bm25", args.baseline_chunks] = measure("rank-bm25", args, Path(scratch),
                                                                  args.baseline_chunks)
    report(results, args, time.perf_counter() - started)
    OUT.mkdir(parents=True, exist_ok=True)
    summary = [{"measure": name, "chunks": chunks, **{key: value for key, value in result.items()
                                                     if key not in ("tops", "scores")}}
               for (name, chunks), result in results.items()]
    (OUT / "bench_bm25.json").write_text(json.dumps({"chunks": args.chunks, "baseline_chunks": args.baseline_chunks,
                                                     "queries": args.queries, "seed": args.seed,
                                                     "results": summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
