"""The `train` and `raft` sections: how an adapter (or a full fine-tune) is trained (lhama.train)."""

from __future__ import annotations

from dataclasses import field
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic.dataclasses import dataclass

from lhama.config.values import SECTION, PositiveFloat, PositiveInt

TrainMethod = Literal["lora", "qlora", "full"]
TorchDtype = Literal["bfloat16", "float16", "float32"]


@dataclass(config=SECTION, frozen=True)
class LauncherConfig:
    """How a training job starts its processes: `single` (the job's process), `torchrun` or `accelerate` (one
    process per GPU, srun across the nodes of a SLURM allocation)."""

    type: Literal["single", "torchrun", "accelerate"] = "single"
    nodes: PositiveInt = 1
    processes_per_node: PositiveInt = 1

    @model_validator(mode="after")
    def _one_process_for_single(self) -> LauncherConfig:
        if self.type == "single" and self.world_size > 1:
            raise ValueError(f"`single` runs one process: use torchrun or accelerate for {self.nodes} node(s) x "
                             f"{self.processes_per_node} process(es)")
        return self

    @property
    def world_size(self) -> int:
        return self.nodes * self.processes_per_node


@dataclass(config=SECTION, frozen=True)
class LoraSettings:
    """PEFT LoraConfig fields of the adapter."""

    r: PositiveInt = 16
    """Rank."""
    lora_alpha: PositiveFloat = 32
    """Scaling numerator (scale = lora_alpha / r)."""
    lora_dropout: Annotated[float, Field(ge=0, lt=1)] = 0.05
    target_modules: list[str] | str = field(default_factory=lambda: [
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    """Module names, or 'all-linear'. lm_head is dropped (TRL computes the loss from lm_head.weight directly)."""
    bias: Literal["none", "all", "lora_only"] = "none"
    use_rslora: bool = False
    use_dora: bool = False
    modules_to_save: list[str] | None = None
    """Modules trained in full and saved with the adapter."""


@dataclass(config=SECTION, frozen=True)
class QuantizationConfig:
    """BitsAndBytesConfig fields of the 4-bit base model for qlora."""

    bnb_4bit_quant_type: Literal["nf4", "fp4"] = "nf4"
    bnb_4bit_use_double_quant: bool = True
    bnb_4bit_compute_dtype: TorchDtype = "bfloat16"
    bnb_4bit_quant_storage: Literal["bfloat16", "float16", "float32", "uint8"] | None = None
    llm_int8_skip_modules: list[str] | None = None


# The demo's training (SmolLM2-135M on the CPU); config/atena.yaml sets the study's.
DEFAULT_TRAIN_ARGS: dict[str, Any] = {
    "max_steps": 60, "per_device_train_batch_size": 4, "gradient_accumulation_steps": 1, "learning_rate": 2.0e-4,
    "optim": "auto", "lr_scheduler_type": "cosine", "warmup_steps": 2, "bf16": "auto",
    "gradient_checkpointing": False, "save_steps": 20, "eval_steps": 20, "eval_strategy": "steps",
    "logging_steps": 2, "max_length": 256, "padding_free": True, "seed": 42,
}
OPTIM_AUTO = "auto"
# SFTConfig fields that take lhama's `auto`, resolved for the hardware when the job starts
AUTO_ARGS = ("optim", "bf16")


@dataclass(config=SECTION, frozen=True)
class TrainConfig:
    """Fine-tuning with TRL's SFTTrainer and PEFT (lhama.train)."""

    method: TrainMethod = "lora"
    """lora, qlora (bitsandbytes NF4 + double quantization, bf16 compute) or full."""
    launcher: LauncherConfig = field(default_factory=LauncherConfig)
    deepspeed: str | None = None
    """DeepSpeed JSON config, e.g. config/deepspeed/zero3.json."""
    lora: LoraSettings = field(default_factory=LoraSettings)
    quantization: QuantizationConfig = field(default_factory=QuantizationConfig)
    merge: bool = False
    """Also write the adapter merged into the base weights."""
    eval_examples: PositiveInt | None = None
    """Held-out examples the training evaluates on (the first ones of the test split); null: all of them."""
    args: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_TRAIN_ARGS))
    """SFTConfig / TrainingArguments fields as Hugging Face names them, on top of the demo's (checked with
    transformers' HfArgumentParser when the workflow starts). `optim: auto` = paged 8-bit AdamW for qlora on a
    GPU, AdamW otherwise; `bf16: auto` = bf16 where the hardware computes it natively (a GPU, or a CPU with
    AVX512-BF16/AMX), float32 elsewhere (emulated bf16 on a CPU without it is some 50x slower)."""

    @field_validator("args", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any) -> Any:
        return {**DEFAULT_TRAIN_ARGS, **value} if isinstance(value, dict) else value

    def trained_rows(self) -> int | None:
        """Training rows the run takes: `max_steps` x per-device batch x accumulation x processes (each row once,
        drawn by `lhama.training_rows`); None, every row, when the run is set by epochs or packs rows together."""
        steps = int(self.args.get("max_steps", -1) or -1)
        if steps <= 0 or self.args.get("packing"):
            return None
        return (steps * int(self.args.get("per_device_train_batch_size", 8))
                * int(self.args.get("gradient_accumulation_steps", 1)) * self.launcher.world_size)

    def row_seed(self) -> int:
        """Seed of the draw of training rows: `data_seed`, as the trainer's sampler takes it, else `seed`."""
        seed = self.args.get("data_seed")
        return int(self.args.get("seed", 42) if seed is None else seed)

    def bf16(self, native: bool) -> bool:
        """The SFTConfig `bf16`, with `auto` resolved: whether the hardware computes bf16 natively."""
        value = self.args.get("bf16", False)
        return native if value == OPTIM_AUTO else bool(value)

    def optimizer(self, gpu: bool) -> str:
        """The SFTConfig `optim`, with `auto` resolved for this method and hardware."""
        optim = str(self.args.get("optim", OPTIM_AUTO))
        if optim != OPTIM_AUTO:
            return optim
        return "paged_adamw_8bit" if self.method == "qlora" and gpu else "adamw_torch"


# The demo's: a few steps of one example each (a RAFT prompt holds k passages: some 1,500 tokens on the demo model)
DEFAULT_RAFT_ARGS: dict[str, Any] = {"max_steps": 6, "per_device_train_batch_size": 1, "max_length": 2048,
                                     "save_steps": 3, "eval_strategy": "no"}


@dataclass(config=SECTION, frozen=True)
class RaftConfig:
    """RAG-aware fine-tuning (RAFT, Zhang et al. 2024): a second adapter, trained on the instruction examples asked
    with passages in the prompt (the gold passage among distractors), answering with passages (variant `raft`)."""

    passages: PositiveInt | None = None
    """Passages per training example; null: rag.retriever.k, as the variant is asked."""
    without_answer: Annotated[float, Field(ge=0, lt=1)] = 0.2
    """Share of examples whose passages leave out the gold article (exactly, rounded half up over the rows built,
    a seeded draw); their target says the passages lack it."""
    seed: int = 42
    args: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_RAFT_ARGS))
    """SFTConfig fields on top of `train.args` for this adapter (its prompts are longer)."""
    eval_examples: PositiveInt | None = 16
    """Held-out RAFT examples the training evaluates on (each holds k passages); null: all of them."""

    @field_validator("args", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any) -> Any:
        return {**DEFAULT_RAFT_ARGS, **value} if isinstance(value, dict) else value

    def train_overrides(self) -> dict:
        """What the raft adapter's training changes of the `train` section."""
        return {"args": self.args, "eval_examples": self.eval_examples}

    def data_settings(self) -> dict:
        """What building the RAFT examples reads (the training arguments are the train job's)."""
        return {"passages": self.passages, "without_answer": self.without_answer, "seed": self.seed}
