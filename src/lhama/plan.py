"""GPU memory planner: a per-GPU estimate of what a fine-tuning job needs, before it is queued.

The model is deliberately simple and every assumption is written into `Estimate.notes`:

- weights: bytes/param by method. full/lora: 2 (bf16/fp16) or 4 (fp32). qlora: NF4 4-bit = 0.5 byte plus
  double-quantised block scales ≈ 0.516 byte/param for the linear layers; embeddings and lm_head stay in 16 bit.
- trainable params: full = all; lora/qlora = r * (d_in + d_out) summed over q, k, v, o, gate, up, down of every
  layer, or params * lora_fraction when given.
- gradients: trainable * 2 (16 bit) or 4 (fp32).
- optimizer: AdamW m + v in fp32 (8 bytes) plus an fp32 master copy (4 bytes) under mixed precision (bf16/fp16),
  i.e. 12 bytes/trainable param; 8-bit AdamW (paged or not) 2 bytes + master; Adafactor keeps factored
  row/column second moments (≈ 4 bytes * (rows + cols) per matrix) + master.
- ZeRO stage s partitions optimizer states (s >= 1), gradients (s >= 2) and weights (s >= 3) over the GPUs;
  offload_optimizer moves optimizer states (and the master copy) to CPU, offload_params (ZeRO-3 only) the weights.
- activations (Korthikanti et al. 2022, 16-bit): one layer keeps s*b*h*34 + 5*a*s²*b bytes (the s² term is
  dropped with flash/memory-efficient attention); with gradient checkpointing each layer keeps only its input
  (s*b*h*2) and one layer is recomputed at a time; plus fp32 logits s*b*V*4.
- overhead: CUDA context + allocator fragmentation = 1 GiB + 5% of everything else.
- fits: total <= 95% of gpu_mem_gb. gpu_mem_gb is the card's label read as GiB (an "80 GB" A100 has 80 GiB,
  a "48 GB" A6000 48 GiB); the 5% is left for NCCL buffers and allocator spikes.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lhama.config.sections import ClusterConfig, TrainConfig
from lhama.errors import ConfigError

GIB = 2**30
METHODS = ("full", "lora", "qlora")
PRECISIONS = ("bf16", "fp16", "fp32")
OPTIMIZERS = ("adamw", "adamw8bit", "paged_adamw8bit", "adafactor")
FIT_FRACTION = 0.95
OVERHEAD_FIXED_GIB = 1.0
OVERHEAD_FRACTION = 0.05
NF4_BYTES_PER_PARAM = 0.5 + 0.016  # 4-bit weights + double-quantised absmax (~0.127 bit/param) and its scales
HEAD_DIM = 128

# Llama-2 shapes: params -> (hidden, layers, kv_dim); the 70B uses grouped-query attention (8 KV heads)
_ANCHORS = ((7e9, 4096, 32, 4096), (13e9, 5120, 40, 5120), (70e9, 8192, 80, 1024))
_SNAP = 0.10  # within 10% of an anchor's size, use that anchor's shape


@dataclass(frozen=True)
class PlanInput:
    params: float
    method: str
    precision: str = "bf16"
    seq_len: int = 512
    micro_batch: int = 1
    gradient_checkpointing: bool = True
    gpus: int = 1
    zero_stage: int = 0
    offload_optimizer: bool = False
    offload_params: bool = False
    lora_r: int = 16
    lora_fraction: float | None = None
    optimizer: str = "adamw"
    gpu_mem_gb: float = 80.0
    hidden_size: int | None = None
    num_layers: int | None = None
    num_heads: int | None = None
    num_kv_heads: int | None = None  # grouped-query attention: fewer key/value heads than query heads
    vocab_size: int = 32000
    tied_embeddings: bool = False
    flash_attention: bool = False  # SDPA/flash attention: no s² attention scores kept for backward

    def __post_init__(self) -> None:
        def need(ok: bool, key: str, problem: str) -> None:
            if not ok:
                raise ConfigError(key, problem)

        need(isinstance(self.params, (int, float)) and math.isfinite(self.params) and self.params > 0,
             "params", f"must be a positive number of parameters, not {self.params!r}")
        need(self.method in METHODS, "method", f"must be one of {', '.join(METHODS)}, not {self.method!r}")
        need(self.precision in PRECISIONS, "precision",
             f"must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        need(self.optimizer in OPTIMIZERS, "optimizer",
             f"must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}")
        for key in ("seq_len", "micro_batch", "gpus", "lora_r", "vocab_size"):
            value = getattr(self, key)
            need(isinstance(value, int) and not isinstance(value, bool) and value >= 1, key,
                 f"must be a positive integer, not {value!r}")
        need(self.zero_stage in (0, 1, 2, 3) and not isinstance(self.zero_stage, bool), "zero_stage",
             f"must be 0, 1, 2 or 3, not {self.zero_stage!r}")
        need(self.lora_fraction is None or (isinstance(self.lora_fraction, (int, float))
                                            and 0 < self.lora_fraction <= 1),
             "lora_fraction", f"must be in (0, 1], not {self.lora_fraction!r}")
        need(isinstance(self.gpu_mem_gb, (int, float)) and self.gpu_mem_gb > 0, "gpu_mem_gb",
             f"must be positive, not {self.gpu_mem_gb!r}")
        for key in ("hidden_size", "num_layers", "num_heads", "num_kv_heads"):
            value = getattr(self, key)
            need(value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1), key,
                 f"must be a positive integer, not {value!r}")
        need(not self.offload_params or self.zero_stage == 3, "offload_params",
             "parameter offload needs zero_stage 3 (DeepSpeed offloads parameters only under ZeRO-3)")


@dataclass
class Estimate:
    weights: float
    lora: float
    gradients: float
    optimizer: float
    activations: float
    overhead: float
    total: float
    fits: bool
    gpu_mem_gb: float
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Shape:
    hidden: int
    layers: int
    ffn: int
    kv_dim: int
    heads: int


def model_shape(p: PlanInput) -> Shape:
    """Hidden size and depth from the Llama-2 family when not given; FFN width from the parameter count."""
    hidden, layers, kv_dim = p.hidden_size, p.num_layers, None
    anchor = min(_ANCHORS, key=lambda a: abs(math.log(p.params / a[0])))
    snapped = abs(p.params / anchor[0] - 1) <= _SNAP
    if snapped:
        hidden = hidden or anchor[1]
        layers = layers or anchor[2]
        kv_dim = anchor[3] if hidden == anchor[1] else None
    if hidden is None or layers is None:
        h, n = _interpolate(p.params)
        hidden = hidden or h
        layers = layers or n
    heads = p.num_heads or max(1, hidden // HEAD_DIM)
    if p.num_kv_heads:
        kv_dim = hidden * p.num_kv_heads // heads
    kv_dim = kv_dim or hidden
    embeddings = (1 if p.tied_embeddings else 2) * p.vocab_size * hidden
    per_layer = (p.params - embeddings) / layers
    attention = 2 * hidden * hidden + 2 * hidden * kv_dim
    ffn = int((per_layer - attention) / (3 * hidden))
    if ffn <= 0:
        raise ConfigError("hidden_size" if p.hidden_size else "params",
                          f"{p.params:.3g} parameters cannot fill {layers} layers of width {hidden}")
    return Shape(hidden, layers, ffn, kv_dim, heads)


def _interpolate(params: float) -> tuple[int, int]:
    sizes = [a[0] for a in _ANCHORS]
    if params <= sizes[0] or params >= sizes[-1]:
        base = _ANCHORS[0] if params <= sizes[0] else _ANCHORS[-1]
        scale = (params / base[0]) ** (1 / 3)
        hidden, layers = base[1] * scale, base[2] * scale
    else:
        (p0, h0, l0, _), (p1, h1, l1, _) = next((a, b) for a, b in zip(_ANCHORS, _ANCHORS[1:]) if params <= b[0])
        t = (params - p0) / (p1 - p0)
        hidden, layers = h0 + t * (h1 - h0), l0 + t * (l1 - l0)
    return max(HEAD_DIM, int(round(hidden / HEAD_DIM)) * HEAD_DIM), max(1, int(round(layers)))


def trainable_params(p: PlanInput, shape: Shape) -> float:
    if p.method == "full":
        return p.params
    if p.lora_fraction is not None:
        return p.params * p.lora_fraction
    h, f, kv = shape.hidden, shape.ffn, shape.kv_dim
    per_layer = (h + h) * 2 + (h + kv) * 2 + (h + f) * 3  # q, o; k, v; gate, up, down
    return p.lora_r * per_layer * shape.layers


def estimate(p: PlanInput) -> Estimate:
    shape = model_shape(p)
    notes: list[str] = [
        f"shape: hidden {shape.hidden}, {shape.layers} layers, ffn {shape.ffn}, kv dim {shape.kv_dim}, "
        f"{shape.heads} heads, vocab {p.vocab_size}"
        + (" (from the model's config)" if p.hidden_size and p.num_layers else
           " (Llama-2 family, derived from params)")]
    half = p.precision in ("bf16", "fp16")
    word = 2 if half else 4
    mixed = half  # mixed precision keeps an fp32 master copy of what is trained
    trainable = trainable_params(p, shape)
    gpus = p.gpus if p.zero_stage else 1
    if p.zero_stage and p.gpus == 1:
        notes.append("ZeRO on one GPU partitions nothing")

    # weights
    if p.method == "qlora":
        embeddings = 2 * p.vocab_size * shape.hidden
        weight_bytes = (p.params - embeddings) * NF4_BYTES_PER_PARAM + embeddings * 2
        notes.append(f"qlora: NF4 + double quant {NF4_BYTES_PER_PARAM} byte/param for linear layers; "
                     "embeddings and lm_head in 16 bit")
    else:
        weight_bytes = p.params * word
    if p.zero_stage >= 3:
        weight_bytes /= gpus
    if p.offload_params:
        weight_bytes = 0.0
        notes.append("offload_params: weights live in CPU memory and are fetched layer by layer (prefetch "
                     "buffers counted in overhead)")

    # adapter weights, gradients, optimizer
    lora_bytes = 0.0 if p.method == "full" else trainable * word
    if p.method != "full":
        notes.append(f"{p.method}: {trainable / 1e6:.1f}M trainable params"
                     + (f" (lora_fraction {p.lora_fraction})" if p.lora_fraction is not None
                        else f" (r={p.lora_r} on q,k,v,o,gate,up,down)"))
        if p.zero_stage >= 3:
            lora_bytes /= gpus
    grad_bytes = trainable * word / (gpus if p.zero_stage >= 2 else 1)
    master = 4 if mixed else 0
    if p.optimizer == "adamw":
        state = 8.0
    elif p.optimizer in ("adamw8bit", "paged_adamw8bit"):
        state = 2.0
        if p.optimizer == "paged_adamw8bit":
            notes.append("paged 8-bit AdamW counted as resident on the GPU (paging only helps on spikes)")
    else:  # adafactor: factored second moment, 4 bytes * (rows + cols) per matrix, no first moment
        smaller_dim = shape.hidden / 2 if p.method == "full" else p.lora_r
        state = 4.0 / smaller_dim
        notes.append("adafactor: factored second moments only (beta1=None), ≈ 4 bytes*(rows+cols) per matrix")
    optimizer_bytes = trainable * (state + master) / (gpus if p.zero_stage >= 1 else 1)
    if p.offload_optimizer:
        optimizer_bytes = 0.0
        notes.append("offload_optimizer: optimizer states and master weights in CPU memory")
    notes.append(f"optimizer {p.optimizer}: {state:g} bytes/trainable param of state"
                 + (" + 4 fp32 master copy (mixed precision)" if master else ""))

    # activations (per GPU: ZeRO does not partition them)
    s, b, h = p.seq_len, p.micro_batch, shape.hidden
    scale = 1 if half else 2
    attention_scores = 0 if p.flash_attention else 5 * shape.heads * s * s * b
    one_layer = (34 * s * b * h + attention_scores) * scale
    if p.gradient_checkpointing:
        activation_bytes = shape.layers * s * b * h * 2 * scale + one_layer
        notes.append("gradient checkpointing: each layer keeps its input, one layer recomputed at a time")
    else:
        activation_bytes = shape.layers * one_layer
    activation_bytes += s * b * p.vocab_size * 4
    notes.append("activations: Korthikanti et al. 34sbh + 5as²b per layer"
                 + (" (s² term dropped: flash attention)" if p.flash_attention else "")
                 + ", plus fp32 logits; LoRA assumed to save no activation memory")

    parts = [x / GIB for x in (weight_bytes, lora_bytes, grad_bytes, optimizer_bytes, activation_bytes)]
    overhead = OVERHEAD_FIXED_GIB + OVERHEAD_FRACTION * sum(parts)
    total = sum(parts) + overhead
    notes.append(f"overhead: {OVERHEAD_FIXED_GIB:g} GiB CUDA context + {OVERHEAD_FRACTION:.0%} fragmentation")
    notes.append(f"fits: total <= {FIT_FRACTION:.0%} of {p.gpu_mem_gb:g} GiB (card label read as GiB)")
    if p.zero_stage:
        notes.append(f"ZeRO-{p.zero_stage} over {p.gpus} GPUs: partitions "
                     + ", ".join(["optimizer", "gradients", "weights"][:p.zero_stage]))
    return Estimate(*(round(x, 3) for x in parts), round(overhead, 3), round(total, 3),
                    total <= FIT_FRACTION * p.gpu_mem_gb, p.gpu_mem_gb, notes)


# ---------------------------------------------------------------------------------------------------------------
# the workflow's jobs: one PlanInput per configured model, sized into SLURM resources


# SFTConfig `optim` -> the planner's optimizer-state model (anything else is counted as AdamW)
_OPTIMIZERS = {"adafactor": "adafactor", "paged_adamw_8bit": "paged_adamw8bit", "paged_adamw_32bit": "adamw",
               "adamw_8bit": "adamw8bit", "adamw_bnb_8bit": "adamw8bit"}
# forward 2 FLOPs/param/token; backward 4 for full tuning, 2 when the base is frozen (activation gradients only);
# gradient checkpointing recomputes the forward
_FLOPS_PER_TOKEN = {"full": 6, "lora": 4, "qlora": 4}


@dataclass(frozen=True)
class JobPlan:
    """What one training job needs and costs: GPUs, estimated memory per GPU, time and GPU-hours."""

    model: str
    adapter: str
    plan: PlanInput
    estimate: Estimate
    gpu: bool
    nodes: int
    gpus_per_node: int
    tasks: int
    cpus: int
    mem_mb: int
    hours: float
    runtime_min: int

    @property
    def gpus(self) -> int:
        return self.nodes * self.gpus_per_node if self.gpu else 0

    @property
    def shape_source(self) -> str:
        """Where the planner's model shape came from: the model's config.json or the Llama-2 family's anchors."""
        return "config.json" if self.plan.hidden_size and self.plan.num_layers else "llama-2"

    @property
    def gpu_hours(self) -> float:
        return self.hours * self.gpus

    def to_json(self) -> dict:
        return {"model": self.model, "adapter": self.adapter, "plan": asdict(self.plan), "estimate": self.estimate.to_json(),
                "shape": self.shape_source, "gpu": self.gpu, "nodes": self.nodes, "gpus_per_node": self.gpus_per_node, "gpus": self.gpus,
                "tasks": self.tasks, "cpus": self.cpus, "mem_mb": self.mem_mb, "hours": round(self.hours, 3),
                "gpu_hours": round(self.gpu_hours, 3), "runtime_min": self.runtime_min}


def _deepspeed_zero(path: str | None, base_dir: str | Path) -> tuple[int, bool, bool]:
    """(stage, offload_optimizer, offload_params) of a DeepSpeed JSON config; (0, False, False) without one."""
    if not path:
        return 0, False, False
    file = Path(path) if Path(path).is_absolute() else Path(base_dir) / path
    try:
        zero = json.loads(file.read_text(encoding="utf-8")).get("zero_optimization", {})
    except FileNotFoundError:
        raise ConfigError("train.deepspeed", f"{path}: no such DeepSpeed config") from None
    except json.JSONDecodeError as error:
        raise ConfigError("train.deepspeed", f"{path}: not valid JSON ({error})") from None
    stage = zero.get("stage", 0)
    offloaded = lambda key: (zero.get(key) or {}).get("device") in ("cpu", "nvme")  # noqa: E731
    return int(stage), offloaded("offload_optimizer"), offloaded("offload_param")


def config_shape(model_dir: str | Path) -> dict[str, int] | None:
    """Hidden size, layers, attention and key/value heads and vocabulary from a model folder's `config.json` (the
    planner's shape, where the model is at hand), or None where the folder has none."""
    path = Path(model_dir) / "config.json"
    if not path.is_file():
        return None
    values = json.loads(path.read_text(encoding="utf-8"))
    values = values.get("text_config", values)
    try:
        shape = {"hidden_size": int(values["hidden_size"]), "num_layers": int(values["num_hidden_layers"]),
                 "vocab_size": int(values["vocab_size"]),
                 "tied_embeddings": bool(values.get("tie_word_embeddings", False))}
        if values.get("num_attention_heads"):
            heads = int(values["num_attention_heads"])
            shape |= {"num_heads": heads, "num_kv_heads": int(values.get("num_key_value_heads") or heads)}
        return shape
    except (KeyError, TypeError, ValueError):
        return None


def within_partition(rule: str, name: str, hours: float, runtime_min: int, limit_min: int | None,
                     shorter: str) -> None:
    """Raises a ConfigError on `cluster.max_runtime_min` when a job's time limit is past the partition's."""
    if limit_min is not None and runtime_min > limit_min:
        raise ConfigError("cluster.max_runtime_min",
                          f"{rule} job {name} needs about {hours:.1f} h (a {runtime_min}-minute time limit), more "
                          f"than the partition's {limit_min} minutes: {shorter}")


def time_limit_min(hours: float, floor_min: int, *, gpu: bool) -> int:
    """The SLURM time limit of a GPU job estimated at `hours`: 1.5 x the estimate + 15 minutes, at least the rule's
    configured runtime; on CPU (no estimate) the configured runtime."""
    return max(floor_min, math.ceil(hours * 60 * 1.5) + 15) if gpu else floor_min


def training_plan(model: str, params: float, train: TrainConfig, cluster: ClusterConfig, resources: dict,
                  base_dir: str | Path = ".", *, adapter: str = "tuned", shape: dict[str, int] | None = None) -> JobPlan:
    """The training job of one model, from the workflow config: `train` (merged with the model's overrides),
    `cluster` (the GPUs on offer), `resources` (the rule's floor: mem_mb, runtime in minutes, cpus) and, where the
    model's config.json is at hand, its `shape` (`config_shape`); otherwise the Llama-2 family's."""
    args = train.args
    launcher = train.launcher
    nodes, per_node = launcher.nodes, launcher.processes_per_node
    stage, offload_optimizer, offload_params = _deepspeed_zero(train.deepspeed, base_dir)
    method = train.method
    gpu = cluster.gpu
    optimizer = _OPTIMIZERS.get(train.optimizer(gpu=gpu), "adamw")
    precision = "bf16" if train.bf16(native=gpu) else "fp16" if args.get("fp16") else "fp32"
    seq_len = int(args.get("max_length") or 1024)
    micro_batch = int(args.get("per_device_train_batch_size", 8))
    checkpointing = bool(args.get("gradient_checkpointing", False))
    plan = PlanInput(params=float(params), method=method, precision=precision, seq_len=seq_len,
                     micro_batch=micro_batch, gradient_checkpointing=checkpointing, gpus=nodes * per_node,
                     zero_stage=stage, offload_optimizer=offload_optimizer, offload_params=offload_params,
                     lora_r=train.lora.r, optimizer=optimizer, gpu_mem_gb=float(cluster.gpu_mem_gb),
                     flash_attention=True, **(shape or {}))
    result = estimate(plan)
    if gpu and per_node > cluster.gpus_per_node:
        raise ConfigError(f"models.{model}.train.launcher.processes_per_node",
                          f"{per_node} processes (one per GPU) but a node has {cluster.gpus_per_node} GPUs")
    if gpu and not result.fits:
        raise ConfigError(f"models.{model}.train",
                          f"{method} of {params / 1e9:.3g}B parameters needs about {result.total:,.1f} GiB per GPU "
                          f"on {nodes * per_node} GPU(s) (ZeRO stage {stage}), more than "
                          f"{FIT_FRACTION:.0%} of {plan.gpu_mem_gb:g} GB: use lora/qlora, ZeRO-3 over more GPUs, "
                          "offload, or a shorter max_length (see `lhama plan`)")
    steps = int(args.get("max_steps", 0) or 0)
    tokens = steps * micro_batch * int(args.get("gradient_accumulation_steps", 1)) * nodes * per_node * seq_len
    flops = (_FLOPS_PER_TOKEN[method] + (2 if checkpointing else 0)) * float(params) * tokens
    hours = flops / (nodes * per_node * cluster.gpu_tflops * 1e12 * cluster.mfu) / 3600 if gpu else 0.0
    runtime = time_limit_min(hours, int(resources.get("runtime", 60)), gpu=gpu)
    if gpu:
        cpus = cluster.cpus_per_gpu * per_node
        mem_mb = max(int(resources.get("mem_mb", 0)), cluster.mem_mb_per_gpu * per_node)
    else:
        cpus = int(resources.get("cpus", 2))
        mem_mb = int(resources.get("mem_mb", 8000))
    tasks = nodes * per_node if launcher.type != "single" else 1
    return JobPlan(model, adapter, plan, result, gpu, nodes, per_node if gpu else 0, tasks, cpus, mem_mb, hours,
                   runtime)


def inference_gpus(params: float, cluster: ClusterConfig) -> int:
    """GPUs of one node an answering job spreads a bf16 model over (device_map="auto"): weights + 20% for the KV
    cache and activations, within 90% of each GPU; 0 on CPU."""
    if not cluster.gpu:
        return 0
    need_gib = params * 2 * 1.2 / GIB
    gpus = max(1, math.ceil(need_gib / (0.9 * cluster.gpu_mem_gb)))
    if gpus > cluster.gpus_per_node:
        raise ConfigError("cluster.gpus_per_node", f"a {params / 1e9:.3g}B model in bf16 needs {gpus} GPUs to "
                          f"answer, a node has {cluster.gpus_per_node}")
    return gpus


def jobs_table(plans: list[JobPlan]) -> str:
    """The dry-run summary: one line per training job with GPUs, GiB per GPU, hours, GPU-hours and fit."""
    header = ("model", "adapter", "method", "shape", "nodes", "gpus", "zero", "seq", "mb", "GiB/gpu", "gpu GiB", "hours",
              "gpu-h", "fits")
    lines = [header]
    for job in plans:
        lines.append((job.model, job.adapter, job.plan.method, job.shape_source, str(job.nodes), str(job.gpus), str(job.plan.zero_stage),
                      str(job.plan.seq_len), str(job.plan.micro_batch), f"{job.estimate.total:.1f}",
                      f"{job.plan.gpu_mem_gb:g}" if job.gpu else "cpu", f"{job.hours:.2f}",
                      f"{job.gpu_hours:.2f}", "yes" if job.estimate.fits or not job.gpu else "no"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.rjust(w) for cell, w in zip(line, widths)) for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text)


def plan_table(rows: list[PlanInput]) -> str:
    header = ("params", "method", "prec", "gpus", "zero", "seq", "mb", "weights", "lora", "grads", "optim",
              "activ", "overhead", "total", "gpu", "fits")
    lines = [header]
    for row in rows:
        e = estimate(row)
        lines.append((f"{row.params / 1e9:.1f}B", row.method, row.precision, str(row.gpus), str(row.zero_stage),
                      str(row.seq_len), str(row.micro_batch),
                      *(f"{x:.1f}" for x in (e.weights, e.lora, e.gradients, e.optimizer, e.activations,
                                             e.overhead, e.total)),
                      f"{row.gpu_mem_gb:g}", "yes" if e.fits else "no"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.rjust(w) for cell, w in zip(line, widths)) for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(text) + "\n(GiB per GPU)"
