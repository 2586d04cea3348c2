"""A plan of the whole DAG: every GPU job (embed shards, train, perplexity, answer parts, judge) with its GPUs,
memory, estimated hours, GPU-hours and the time limit it will ask SLURM for, before anything is downloaded or queued.

Costs are FLOPs over the cluster's sustained rate (`cluster.gpu_tflops` x `cluster.mfu`), plus, for generation, a
decode-bound term: each decoding step of a batch reads every bf16 weight once, at `cluster.gpu_bandwidth_gbs` x
`cluster.mbu` (an answering model spread over several GPUs by `device_map="auto"` runs its layers one GPU after
the other, so neither term divides by its GPUs). Training jobs are `lhama.plan.training_plan`'s.

Sizes come from the config's caps (held-out and seen questions, the perplexity token budget) and the question
files' lines. What depends on the corpus (tokens to embed, the test split's size when uncapped) comes from the
extraction manifest once it exists (exact), else from the dump's size with the ratios below, measured on
`resources/`'s sample dump (61,800 bytes of bz2, 189,329 of XML, 87,152 clean characters, 292 instruction
examples). Each job's time limit is 1.5 x its estimate + 15 minutes, never under the rule's configured
`resources.<rule>.runtime`; one longer than `cluster.max_runtime_min` stops the plan, naming the job.

The CPU jobs whose cost grows with the corpus (extract, qa, split, the chunk shards, index) are sized beside them
by `lhama.cpu_plan`, from rates `benchmarks/bench_scale.py` measured.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from lhama.config.loading import ModelEntry, model_entries
from lhama.config.sections import VARIANT_RETRIEVES, ClusterConfig, WorkflowConfig
from lhama.cpu_plan import CHARS_PER_TOKEN, CpuJob, cpu_jobs
from lhama.errors import ConfigError, InputFileError
from lhama.plan import time_limit_min, within_partition

CLEAN_CHARS_PER_DUMP_BYTE = {"bz2": 87_152 / 61_800, "xml": 87_152 / 189_329}
EXAMPLES_PER_CLEAN_CHAR = 292 / 87_152
NOMINAL_DUMP_BYTES = 2.6e9  # a ptwiki-*-pages-articles-multistream.xml.bz2 of 2025-2026, for a dump not yet fetched
NOMINAL_ENCODER_PARAMS = 3.35e8  # a BERT-large-sized embedder, for one not yet fetched
NOMINAL_ENCODER_DIM = 1024
PROMPT_TOKENS = 96  # system instruction, question and chat template of one answering prompt
PASSAGE_HEADER_TOKENS = 16  # "[n] title — section" ahead of each passage
JUDGE_PROMPT_TOKENS = 160  # instruction, question, reference and the answer judged
MANIFEST = "results/corpus/articles/manifest.json"
SHORTER = {  # what makes a job of each rule shorter
    "embed": "more shards (rag.shards)",
    "train": "fewer steps (train.args.max_steps), more GPUs (train.launcher) or a shorter max_length",
    "perplexity": "a smaller token budget (perplexity.max_tokens)",
    "answer": "fewer questions per job (generation.shard_questions) or fewer new tokens",
    "judge": "fewer questions (evaluate.heldout_questions, evaluate.seen_facts) or a smaller judge model",
}
HELDOUT, SEEN = "heldout", "seen"


@dataclass(frozen=True)
class GpuJob:
    """One job of the DAG as SLURM will be asked for it, with its estimated cost."""

    rule: str
    model: str | None
    name: str
    gpus: int
    mem_mb: int
    hours: float
    runtime_min: int

    @property
    def gpu_hours(self) -> float:
        return self.hours * self.gpus

    def to_json(self) -> dict:
        return {"rule": self.rule, "model": self.model, "name": self.name, "gpus": self.gpus, "mem_mb": self.mem_mb,
                "hours": round(self.hours, 3), "gpu_hours": round(self.gpu_hours, 3), "runtime_min": self.runtime_min}


@dataclass(frozen=True)
class DagPlan:
    jobs: list[GpuJob]
    notes: list[str]
    gpu: bool = True
    answer_parts: dict[str, int] = field(default_factory=dict)
    """eval set -> its answer jobs (what the answer rule's `{part}-of-{parts}` outputs are expanded from)."""
    cpu_jobs: list[CpuJob] = field(default_factory=list)
    """The CPU jobs whose cost grows with the corpus (lhama.cpu_plan), with their time limits and memory."""

    @property
    def total_gpu_hours(self) -> float:
        return sum(job.gpu_hours for job in self.jobs)

    def __post_init__(self) -> None:
        # every answer job's resources look their job up when the DAG is built: by key, not by a scan per job
        object.__setattr__(self, "_by_name", {(job.rule, job.name): job for job in self.jobs})
        object.__setattr__(self, "_cpu_by_name", {(job.rule, job.name): job for job in self.cpu_jobs})

    def job(self, rule: str, name: str) -> GpuJob:
        return self._by_name[rule, name]

    def cpu_job(self, rule: str, name: str) -> CpuJob:
        return self._cpu_by_name[rule, name]

    def to_json(self) -> dict:
        return {"jobs": [job.to_json() for job in self.jobs], "total_gpu_hours": round(self.total_gpu_hours, 3),
                "cpu_jobs": [job.to_json() for job in self.cpu_jobs], "notes": self.notes}

    def by_rule(self) -> dict[str, tuple[int, float]]:
        """rule -> (jobs, GPU-hours)."""
        totals: dict[str, tuple[int, float]] = {}
        for job in self.jobs:
            count, hours = totals.get(job.rule, (0, 0.0))
            totals[job.rule] = (count + 1, hours + job.gpu_hours)
        return totals


def parts(bound: int, shard_questions: int) -> int:
    """Answer jobs for a question set of at most `bound` questions."""
    return max(1, math.ceil(bound / shard_questions))


# ---------------------------------------------------------------------------------------------------- sizes


@dataclass(frozen=True)
class Corpus:
    clean_chars: float
    exact: bool
    note: str


def corpus_size(config: WorkflowConfig, base_dir: str | Path, *, exact: bool = True) -> Corpus:
    """The corpus's clean characters: the extraction manifest's count (with `exact`), else estimated from the dump's
    size (what the answer jobs' split uses: it stays the same before and after extraction)."""
    from lhama.workflow import is_url, local_dump_path

    manifest = Path(base_dir) / MANIFEST
    chars = json.loads(manifest.read_text(encoding="utf-8")).get("counts", {}).get("characters") \
        if exact and manifest.is_file() else None
    if chars is not None:
        return Corpus(float(chars), True, f"corpus: {chars:,} clean characters ({MANIFEST})")
    path = Path(local_dump_path(config.dump, config.download.dir))
    path = path if path.is_absolute() else Path(base_dir) / path
    kind = "bz2" if path.name.endswith(".bz2") else "xml"
    if path.is_file():
        size, source = path.stat().st_size, f"{path.name}, {path.stat().st_size / 1e9:.3g} GB"
    elif is_url(config.dump):
        size, source = NOMINAL_DUMP_BYTES, (f"not downloaded yet: assumed {NOMINAL_DUMP_BYTES / 1e9:g} GB of bz2, "
                                            "a current ptwiki multistream dump")
    else:
        raise ConfigError("dump", f"{config.dump}: no such file")
    chars = size * CLEAN_CHARS_PER_DUMP_BYTE[kind]
    return Corpus(chars, False, f"corpus: about {chars / 1e9:.3g} G clean characters estimated from the dump "
                                f"({source}; {CLEAN_CHARS_PER_DUMP_BYTE[kind]:.2f} clean characters per byte)")


def file_questions(path: str | Path, base_dir: str | Path) -> int:
    """Questions in a JSONL question file (its non-blank lines)."""
    file = Path(path) if Path(path).is_absolute() else Path(base_dir) / path
    try:
        with file.open(encoding="utf-8") as lines:
            return sum(1 for line in lines if line.strip())
    except FileNotFoundError:
        raise ConfigError("questions", f"{path}: no such question file") from None


def question_bounds(config: WorkflowConfig, question_files: dict[str, str], corpus: Corpus,
                    base_dir: str | Path) -> dict[str, int]:
    """Each question set's size at most: a file's lines; for the held-out and seen sets their caps, or fewer where
    the corpus (its test and training split's instruction examples, estimated) cannot fill them."""
    bounds = {name: file_questions(path, base_dir) for name, path in question_files.items()}
    examples = corpus.clean_chars * EXAMPLES_PER_CLEAN_CHAR
    test_share = config.split.test_size

    def bounded(cap: int | None, share: float) -> int:
        available = max(1, math.ceil(examples * share))
        return available if cap is None else min(cap, available)

    bounds[HELDOUT] = bounded(config.evaluate.heldout_questions, test_share)
    if config.evaluate.seen_facts != 0:
        bounds[SEEN] = bounded(config.evaluate.seen_facts, 1 - test_share)
    return bounds


def answer_parts(config: WorkflowConfig, question_files: dict[str, str], base_dir: str | Path) -> dict[str, int]:
    """eval set -> how many answer jobs share it (`generation.shard_questions` questions each at most), from the
    dump's size, not the manifest, so that extracting the corpus does not re-split finished answers. A job answers
    its share of whatever the set holds (lhama.answer.part_of), so an estimate that falls short only makes the
    jobs larger."""
    corpus = corpus_size(config, base_dir, exact=False)
    return {name: parts(bound, config.generation.shard_questions)
            for name, bound in question_bounds(config, question_files, corpus, base_dir).items()}


def encoder_params(model_dir: str | Path) -> float | None:
    """Parameters of a BERT-family encoder from its `config.json`: embeddings plus 12 h² per layer."""
    path = Path(model_dir) / "config.json"
    if not path.is_file():
        return None
    values = json.loads(path.read_text(encoding="utf-8"))
    try:
        hidden, layers = int(values["hidden_size"]), int(values["num_hidden_layers"])
        ffn = int(values.get("intermediate_size", 4 * hidden))
        vocab = int(values.get("vocab_size", 30522)) + int(values.get("max_position_embeddings", 512))
    except (KeyError, TypeError, ValueError):
        return None
    return float(vocab * hidden + layers * (4 * hidden * hidden + 2 * hidden * ffn))


def embedder_folder(spec: str) -> Path | None:
    from lhama.rag.sources import resolve_embedder

    try:
        return Path(resolve_embedder(spec))
    except (ConfigError, InputFileError, OSError):  # a hub embedder not fetched yet, a package not installed
        return None


def embedder_dim(folder: Path | None) -> int:
    """The embedder's vector size (its config.json's hidden_size), else a BERT-large-sized one's."""
    path = folder / "config.json" if folder else None
    try:
        return int(json.loads(path.read_text(encoding="utf-8"))["hidden_size"]) if path and path.is_file() \
            else NOMINAL_ENCODER_DIM
    except (KeyError, TypeError, ValueError):
        return NOMINAL_ENCODER_DIM


def embedder_params(spec: str, folder: Path | None) -> tuple[float, str]:
    params = encoder_params(folder) if folder else None
    if params is None:
        return NOMINAL_ENCODER_PARAMS, (f"embedder {spec}: no config.json at hand, sized as a "
                                        f"{NOMINAL_ENCODER_PARAMS / 1e6:.0f}M-parameter encoder")
    return params, f"embedder {spec}: {params / 1e6:.0f}M parameters (its config.json)"


# ---------------------------------------------------------------------------------------------------- costs


def flops_hours(flops: float, cluster: ClusterConfig, gpus: int = 1) -> float:
    return flops / (gpus * cluster.gpu_tflops * 1e12 * cluster.mfu) / 3600


def generation_hours(params: float, questions: int, prompt_tokens: int, new_tokens: int, batch_size: int,
                     cluster: ClusterConfig) -> float:
    """Prefill (compute-bound) plus decoding (each step of a batch bound by reading the bf16 weights once, or by
    its FLOPs where the batch is large enough)."""
    prefill = flops_hours(2 * params * questions * prompt_tokens, cluster)
    steps = math.ceil(questions / batch_size) * new_tokens
    read = 2 * params / (cluster.gpu_bandwidth_gbs * 1e9 * cluster.mbu)
    compute = 2 * params * min(batch_size, questions) / (cluster.gpu_tflops * 1e12 * cluster.mfu)
    return prefill + steps * max(read, compute) / 3600


def _job(rule: str, model: str | None, name: str, gpus: int, mem_mb: int, hours: float, floor_min: int,
         cluster: ClusterConfig) -> GpuJob:
    on_gpu = gpus > 0
    runtime = time_limit_min(hours, floor_min, gpu=on_gpu)
    if on_gpu:
        within_partition(rule, name, hours, runtime, cluster.max_runtime_min, SHORTER[rule])
    return GpuJob(rule, model, name, gpus, mem_mb, hours if on_gpu else 0.0, runtime)


def _inference(entry: ModelEntry, rule: str, config: WorkflowConfig) -> tuple[int, int, int]:
    from lhama.workflow import inference_resources

    values = inference_resources(entry, rule, config)
    return values["gpu"], int(values.get("mem_mb", 8000)), int(values.get("runtime", 60))


def embed_jobs(config: WorkflowConfig, corpus: Corpus, embedder: Path | None, notes: list[str]) -> list[GpuJob]:
    from lhama.config.loading import rule_resources

    resources = rule_resources(config.resources, "embed")
    gpus = int(resources.get("gpu", 0) or 0)
    params, note = embedder_params(config.rag.embedder.model, embedder)
    notes.append(note)
    chunker = config.rag.chunker
    tokens = corpus.clean_chars / CHARS_PER_TOKEN * (1 + chunker.chunk_overlap / chunker.chunk_tokens)
    hours = flops_hours(2 * params * tokens / config.rag.shards, config.cluster)
    return [_job("embed", None, f"{shard:03d}", gpus, int(resources.get("mem_mb", 8000)), hours,
                 int(resources.get("runtime", 60)), config.cluster) for shard in range(config.rag.shards)]


def training_jobs(config: WorkflowConfig, base_dir: str | Path) -> list[GpuJob]:
    from lhama.workflow import workflow_plans

    return [_job("train", plan.model, f"{plan.model}/{plan.adapter}", plan.gpus, plan.mem_mb, plan.hours,
                 plan.runtime_min, config.cluster) for plan in workflow_plans(config, base_dir)]


def perplexity_jobs(config: WorkflowConfig, entries: dict[str, ModelEntry], corpus: Corpus) -> list[GpuJob]:
    """Base and tuned scored on the same texts; each token is read in max_length / stride windows."""
    from lhama.workflow import adapters_in_use

    if "tuned" not in adapters_in_use(config):
        return []
    settings = config.perplexity
    available = corpus.clean_chars * config.split.test_size / CHARS_PER_TOKEN
    tokens = available if settings.max_tokens is None else min(float(settings.max_tokens), available)
    overlap = settings.max_length / settings.stride
    jobs = []
    for name, entry in entries.items():
        gpus, mem_mb, floor = _inference(entry, "perplexity", config)
        hours = flops_hours(2 * entry.spec.params * tokens * overlap * 2, config.cluster)
        jobs.append(_job("perplexity", name, name, gpus, mem_mb, hours, floor, config.cluster))
    return jobs


def prompt_tokens(config: WorkflowConfig, variant: str) -> int:
    passages = config.rag.retriever.k * (config.rag.chunker.chunk_tokens + PASSAGE_HEADER_TOKENS)
    return PROMPT_TOKENS + (passages if VARIANT_RETRIEVES[variant] else 0)


def answer_jobs(config: WorkflowConfig, entries: dict[str, ModelEntry], bounds: dict[str, int]) -> list[GpuJob]:
    generation = config.generation
    jobs = []
    for name, entry in entries.items():
        gpus, mem_mb, floor = _inference(entry, "answer", config)
        for variant in config.variants:
            for eval_set, bound in bounds.items():
                count = parts(bound, generation.shard_questions)
                per_part = math.ceil(bound / count)
                hours = generation_hours(entry.spec.params, per_part, prompt_tokens(config, variant),
                                         generation.max_new_tokens, generation.batch_size, config.cluster)
                jobs.extend(_job("answer", name, f"{name}/{variant}/{eval_set}/{part:03d}", gpus, mem_mb, hours,
                                 floor, config.cluster) for part in range(count))
    return jobs


def judge_jobs(config: WorkflowConfig, entries: dict[str, ModelEntry], bounds: dict[str, int]) -> list[GpuJob]:
    """One job per answer file (answering model, variant, question set). Each reads every question it asks of an
    answer once (is it correct, and, for the variants that answered with passages, do the passages support it);
    the choices ("Sim", "Não") share that pass's KV cache and add a token or two (`choice_loglikelihoods`)."""
    judge = config.evaluate.judge
    if not judge:
        return []
    gpus, mem_mb, floor = _inference(entries[judge], "answer", config)
    params = entries[judge].spec.params
    asked = JUDGE_PROMPT_TOKENS + config.generation.max_new_tokens
    jobs = []
    for name in entries:
        for variant in config.variants:
            passages = prompt_tokens(config, variant) - PROMPT_TOKENS
            per_answer = asked + (asked + passages if VARIANT_RETRIEVES[variant] else 0)
            jobs.extend(_job("judge", judge, f"{name}/{variant}/{eval_set}", gpus, mem_mb,
                             flops_hours(2 * params * bound * per_answer, config.cluster), floor, config.cluster)
                        for eval_set, bound in bounds.items())
    return jobs


def dag_plan(config: WorkflowConfig, question_files: dict[str, str], base_dir: str | Path = ".") -> DagPlan:
    """Every job of the DAG that runs on GPUs when `cluster.gpu` is on (and the embed shards, which take GPUs from
    `resources.embed.gpu`), sized from the config; raises a ConfigError naming the first job that cannot fit in
    memory or in the partition's time limit."""
    entries = model_entries(config)
    corpus = corpus_size(config, base_dir)
    notes = [corpus.note]
    bounds = question_bounds(config, question_files, corpus_size(config, base_dir, exact=False), base_dir)
    notes.append("questions: " + ", ".join(f"{name} {bound:,}" for name, bound in bounds.items())
                 + f" (at most {config.generation.shard_questions:,} per answer job)")
    embedder = embedder_folder(config.rag.embedder.model)
    jobs = [*embed_jobs(config, corpus, embedder, notes), *training_jobs(config, base_dir),
            *perplexity_jobs(config, entries, corpus), *answer_jobs(config, entries, bounds),
            *judge_jobs(config, entries, bounds)]
    if not config.cluster.gpu:
        notes.append("cluster.gpu is false: training, perplexity and answers run on CPU, their time limits are the "
                     "configured resources")
    parts_by_set = {name: parts(bound, config.generation.shard_questions) for name, bound in bounds.items()}
    cpu = cpu_jobs(config, corpus.clean_chars, embedder_dim(embedder))
    return DagPlan(jobs, notes, config.cluster.gpu, parts_by_set, cpu)


def dag_table(plan: DagPlan) -> str:
    """Jobs grouped by rule and model: count, GPUs per job, memory, the longest job's hours and time limit, and the
    group's GPU-hours; then the total."""
    groups: dict[tuple[str, str], list[GpuJob]] = {}
    for job in plan.jobs:
        groups.setdefault((job.rule, job.model or "-"), []).append(job)
    header = ("rule", "model", "jobs", "gpus", "mem GB", "hours (max)", "time limit (min)", "gpu-h")
    lines = [header]
    for (rule, model), jobs in groups.items():
        longest = max(jobs, key=lambda job: job.hours)
        lines.append((rule, model, str(len(jobs)), str(max(job.gpus for job in jobs)),
                      f"{max(job.mem_mb for job in jobs) / 1000:.0f}", f"{longest.hours:.2f}",
                      str(max(job.runtime_min for job in jobs)), f"{sum(job.gpu_hours for job in jobs):.1f}"))
    text = aligned(lines)
    text.append(f"total: {len(plan.jobs)} jobs, {plan.total_gpu_hours:,.1f} GPU-hours estimated")
    return "\n".join(text) + "\n\n" + cpu_table(plan.cpu_jobs)


def aligned(lines: list[tuple[str, ...]]) -> list[str]:
    """Right-aligned columns, a rule under the first line (the header)."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    text = ["  ".join(cell.rjust(width) for cell, width in zip(line, widths)) for line in lines]
    text.insert(1, "  ".join("-" * width for width in widths))
    return text


def cpu_table(jobs: list[CpuJob]) -> str:
    """The CPU jobs grouped by rule: count, CPUs, memory, the longest job's hours and time limit."""
    groups: dict[str, list[CpuJob]] = {}
    for job in jobs:
        groups.setdefault(job.rule, []).append(job)
    header = ("cpu rule", "jobs", "cpus", "mem GB", "hours (max)", "time limit (min)")
    lines = [header] + [(rule, str(len(group)), str(max(job.cpus for job in group)),
                         f"{max(job.mem_mb for job in group) / 1000:.0f}", f"{max(job.hours for job in group):.2f}",
                         str(max(job.runtime_min for job in group))) for rule, group in groups.items()]
    text = aligned(lines)
    text.append("(time limits and memory from the rates benchmarks/bench_scale.py measured: lhama/data/cpu_rates.json)")
    return "\n".join(text)


def dry_run_line(plan: DagPlan) -> str:
    """What the dry run prints: the GPU-hour total and where it goes."""
    if not plan.total_gpu_hours and not plan.gpu:
        return (f"lhama plan: cluster.gpu is false, no GPU-hours planned ({len(plan.jobs)} training, perplexity, "
                "answer and embed jobs on CPU, time limits from `resources`)")
    parts_text = ", ".join(f"{rule} {count} job{'s' * (count != 1)} {hours:,.1f}"
                           for rule, (count, hours) in plan.by_rule().items())
    return (f"lhama plan: {plan.total_gpu_hours:,.1f} GPU-hours estimated ({parts_text}); `lhama plan --config` "
            "lists every job")
