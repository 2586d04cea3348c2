"""The CPU jobs of the DAG whose cost grows with the corpus (extract, qa, split, the chunk shards, index), sized
before anything runs: a time limit and memory from one job's measured cost per million clean characters.

The rates are `benchmarks/bench_scale.py`'s (`python benchmarks/bench_scale.py --write-rates
src/lhama/data/cpu_rates.json`): each stage of the real workflow run on synthetic ptwiki-like dumps of growing
size, one job's seconds and peak RSS fitted as a fixed part plus a rate per million clean characters it reads (a
chunk shard reads its share). The file names the sizes, machine and date they were measured on.

A job's estimate is `fixed_s + s_per_mchar x its characters` seconds and `rss_fixed_mb + rss_mb_per_mchar x its
characters` MB. Extraction was measured with the benchmark's workers: fewer cost proportionally more, more earn no
credit (the time limit errs long). The index also holds its vectors at the embedder's dimension, twice (the array
and the faiss index), where the benchmark's encoder had `BENCH_DIM`. The time limit is 1.5 x the estimate + 15
minutes and the memory 1.5 x the estimate, never under the rule's configured `resources.<rule>`; a job longer than
`cluster.max_runtime_min` stops the plan, naming it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from lhama.config.sections import WorkflowConfig
from lhama.plan import time_limit_min, within_partition

RATES_PATH = Path(__file__).resolve().parent / "data" / "cpu_rates.json"
BENCH_DIM = 64  # the random encoder bench_scale.py embeds with
CHARS_PER_TOKEN = 3.5  # Portuguese through Llama-family and BERT-family tokenizers, roughly
SHORTER = {
    "extract": "more workers (extract.workers)",
    "qa": "a partition with a longer limit",
    "split": "a partition with a longer limit",
    "chunk": "more shards (rag.shards)",
    "index": "a partition with a longer limit, or a smaller corpus",
}


@dataclass(frozen=True)
class CpuJob:
    """One CPU job as SLURM will be asked for it, with its estimate."""

    rule: str
    name: str
    cpus: int
    mem_mb: int
    hours: float
    runtime_min: int

    def to_json(self) -> dict:
        return {"rule": self.rule, "name": self.name, "cpus": self.cpus, "mem_mb": self.mem_mb,
                "hours": round(self.hours, 3), "runtime_min": self.runtime_min}


def load_rates(path: str | Path = RATES_PATH) -> dict:
    """The measured rates (`rules`: rule -> fixed_s, s_per_mchar, rss_fixed_mb, rss_mb_per_mchar), and where from."""
    rates = json.loads(Path(path).read_text(encoding="utf-8"))
    for rule in SHORTER:
        missing = {"fixed_s", "s_per_mchar", "rss_fixed_mb", "rss_mb_per_mchar"} - set(rates["rules"].get(rule, {}))
        if missing:
            raise ValueError(f"{path}: rule {rule!r} lacks {', '.join(sorted(missing))}")
    return rates


def estimate(rate: dict, mchars: float) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one job reading `mchars` million clean characters."""
    return (rate["fixed_s"] + rate["s_per_mchar"] * mchars, rate["rss_fixed_mb"] + rate["rss_mb_per_mchar"] * mchars)


def chunks_of(config: WorkflowConfig, clean_chars: float) -> float:
    """Chunks the corpus makes: its tokens over each chunk's new tokens (a chunk repeats `chunk_overlap`)."""
    chunker = config.rag.chunker
    return clean_chars / CHARS_PER_TOKEN / max(1, chunker.chunk_tokens - chunker.chunk_overlap)


def _job(rule: str, name: str, cpus: int, seconds: float, rss_mb: float, config: WorkflowConfig) -> CpuJob:
    from lhama.config.loading import rule_resources

    floor = rule_resources(config.resources, rule)
    hours = seconds / 3600
    runtime = time_limit_min(hours, int(floor.get("runtime", 60)), gpu=True)  # gpu=True: the estimate applies
    mem_mb = max(int(floor.get("mem_mb", 8000)), math.ceil(rss_mb * 1.5))
    within_partition(rule, name, hours, runtime, config.cluster.max_runtime_min, SHORTER[rule])
    return CpuJob(rule, name, cpus, mem_mb, hours, runtime)


def cpu_jobs(config: WorkflowConfig, clean_chars: float, embedder_dim: int, rates: dict | None = None) -> list[CpuJob]:
    """extract, qa, split, one chunk job per shard and index, for a corpus of `clean_chars` clean characters."""
    rates = rates or load_rates()
    rules, measured_cores = rates["rules"], int(rates.get("cores", 2))
    mchars = clean_chars / 1e6
    jobs = []
    workers = config.extract.workers
    seconds, rss = estimate(rules["extract"], mchars)
    jobs.append(_job("extract", "extract", workers, seconds * measured_cores / min(workers, measured_cores),
                     rss, config))
    for rule in ("qa", "split"):
        jobs.append(_job(rule, rule, 1, *estimate(rules[rule], mchars), config))
    shards = config.rag.shards
    for shard in range(shards):
        jobs.append(_job("chunk", f"{shard:03d}", 1, *estimate(rules["chunk"], mchars / shards), config))
    seconds, rss = estimate(rules["index"], mchars)
    vectors_mb = 2 * chunks_of(config, clean_chars) * max(0, embedder_dim - BENCH_DIM) * 4 / 1e6
    jobs.append(_job("index", "index", 1, seconds, rss + vectors_mb, config))
    return jobs
