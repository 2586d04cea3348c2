"""Fine-tuning (stage `train`): TRL's SFTTrainer with PEFT LoRA, QLoRA (bitsandbytes NF4) or a full fine-tune.

What this module adds to a plain SFTTrainer run, and why:

- A typed config (`train_config_from_dict`) checked in full before any model is loaded, so a typo fails the job in
  seconds and names the key (`train.lora.r`, `train.args.learning_rat`). `args` are SFTConfig/TrainingArguments
  fields passed through as Hugging Face names them.
- Loss on the answer tokens only (prompt/completion records, TRL's completion mask) and no compute on padding:
  `padding_free` flattens each batch into one sequence (position ids restart per example, so attention stays within
  an example), or `packing` fills fixed-length rows best-fit. The study padded every example to 512 tokens.
- Preemption-safe checkpoints: every `save_steps` in `<work_dir>/checkpoints`; a rerun resumes from the newest
  *complete* checkpoint (a SIGKILL can land mid-save: transformers 5.24 writes straight into `checkpoint-N`, with no
  temporary folder, and `trainer_state.json` last). SIGTERM/SIGUSR1 (SLURM's `--signal`) make the trainer save at the
  next step boundary and exit with 128 + the signal number.
- Outputs written atomically (temporary sibling folder, then a rename): the adapter (or full model) in HF format with
  a model card, optionally a merged model, and `metrics.json` (loss curves, tokens/s, peak memory, resume point).
- The same entry point runs under `torchrun`/`accelerate launch`, with DeepSpeed ZeRO-3 (`deepspeed:`): saving is
  a collective there, so every rank saves and only rank 0 writes the card and metrics. `launch_command` builds the
  (SLURM) launcher line.

Prompt format (the answer stage must use the same one): with a chat template, a system turn holding the instruction
and a user turn holding the input (`lhama.generate.format_prompts(tokenizer, [input], system=instruction)`), the
answer as the assistant turn; without one, `prompt_template` filled with {instruction} and {input}, then the answer
and the EOS token.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as _dt
import enum
import importlib.util
import json
import logging
import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import time
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lhama.errors import ConfigError, InputFileError, LhamaError
from lhama.jsonl import numbered_records, remove_path, replace_dir

log = logging.getLogger(__name__)

METHODS = ("lora", "qlora", "full")
LAUNCHERS = ("single", "torchrun", "accelerate")
DEFAULT_PROMPT_TEMPLATE = "### Instrução:\n{instruction}\n\n### Entrada:\n{input}\n\n### Resposta:\n"
DEFAULT_LORA: dict[str, Any] = {"r": 8, "lora_alpha": 16, "lora_dropout": 0.05,
                                "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}
DEFAULT_QUANTIZATION: dict[str, Any] = {"bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True,
                                        "bnb_4bit_compute_dtype": "bfloat16"}
QUANTIZATION_KEYS = ("bnb_4bit_quant_type", "bnb_4bit_use_double_quant", "bnb_4bit_compute_dtype",
                     "bnb_4bit_quant_storage", "llm_int8_skip_modules")
TORCH_DTYPES = ("bfloat16", "float16", "float32")
# SFTConfig fields lhama sets itself: a value in the config would be ignored or break resuming
MANAGED_ARGS = {
    "output_dir": "set by --work-dir (checkpoints go to <work_dir>/checkpoints)",
    "deepspeed": "use train.deepspeed",
    "resume_from_checkpoint": "lhama resumes from the newest complete checkpoint by itself",
    "save_only_model": "checkpoints without optimizer state cannot be resumed",
    "include_num_input_tokens_seen": "lhama counts the non-pad training tokens itself",
}
# defaults for `args` that differ from SFTConfig's (no padding compute; the study's optimizer choice per method)
DEFAULT_ARGS: dict[str, Any] = {"optim": "auto", "gradient_checkpointing": False}
CHECKPOINT_DIR = "checkpoints"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
RENDEZVOUS_PORT = 29500
INTERRUPT_SIGNALS = ("SIGTERM", "SIGUSR1")


# ---------------------------------------------------------------------------------------------------------------
# configuration


@dataclass(frozen=True)
class LauncherConfig:
    """How the job starts its processes: `single` (this process), `torchrun` or `accelerate` (one process per GPU,
    `processes_per_node` per node, srun across the nodes of a SLURM allocation)."""

    type: str = "single"
    nodes: int = 1
    processes_per_node: int = 1

    @property
    def world_size(self) -> int:
        return self.nodes * self.processes_per_node


@dataclass(frozen=True)
class TrainConfig:
    """The `train` section of the workflow config, checked. `lora` and `quantization` are keyword arguments of
    PEFT's LoraConfig and transformers' BitsAndBytesConfig; `args` of TRL's SFTConfig (`optim: auto` resolved at run
    time: paged_adamw_8bit for qlora on CUDA, adamw_torch otherwise)."""

    method: str = "lora"
    launcher: LauncherConfig = field(default_factory=LauncherConfig)
    deepspeed: str | None = None
    lora: dict = field(default_factory=lambda: dict(DEFAULT_LORA))
    quantization: dict = field(default_factory=lambda: dict(DEFAULT_QUANTIZATION))
    prompt_template: str = DEFAULT_PROMPT_TEMPLATE
    merge: bool = False
    args: dict = field(default_factory=lambda: dict(DEFAULT_ARGS))

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def train_config_from_dict(mapping: Mapping[str, Any] | None, key_prefix: str = "train") -> TrainConfig:
    """A `TrainConfig` from the `train` config section (already deep-merged with a model's overrides). Unknown keys
    and bad values raise a `ConfigError` naming the key in full (`train.lora.r`, `train.args.max_steps`)."""
    mapping = {} if mapping is None else mapping
    if not isinstance(mapping, Mapping):
        raise ConfigError(key_prefix, f"expected a mapping, got {type(mapping).__name__}")
    allowed = {f.name for f in dataclasses.fields(TrainConfig)}
    _reject_unknown(mapping, allowed, key_prefix)
    method = mapping.get("method", "lora")
    if method not in METHODS:
        raise ConfigError(f"{key_prefix}.method", f"expected one of {', '.join(METHODS)}, got {method!r}")
    launcher = _launcher_from_dict(mapping.get("launcher"), f"{key_prefix}.launcher")
    deepspeed = mapping.get("deepspeed")
    if deepspeed is not None and (not isinstance(deepspeed, str) or not deepspeed.strip()):
        raise ConfigError(f"{key_prefix}.deepspeed", f"expected a path to a DeepSpeed JSON or null, got {deepspeed!r}")
    template = mapping.get("prompt_template", DEFAULT_PROMPT_TEMPLATE)
    _check_template(template, f"{key_prefix}.prompt_template")
    merge = mapping.get("merge", False)
    if not isinstance(merge, bool):
        raise ConfigError(f"{key_prefix}.merge", f"expected true or false, got {merge!r}")
    return TrainConfig(
        method=method, launcher=launcher, deepspeed=deepspeed, prompt_template=template, merge=merge,
        lora=_lora_from_dict(mapping.get("lora"), f"{key_prefix}.lora"),
        quantization=_quantization_from_dict(mapping.get("quantization"), f"{key_prefix}.quantization"),
        args=_args_from_dict(mapping.get("args"), f"{key_prefix}.args"),
    )


def _reject_unknown(mapping: Mapping, allowed: set[str] | Sequence[str], prefix: str) -> None:
    unknown = sorted(str(key) for key in set(mapping) - set(allowed))
    if unknown:
        raise ConfigError(f"{prefix}.{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _section(value: Any, key: str) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(key, f"expected a mapping, got {type(value).__name__}")
    return value


def _positive_int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(key, f"expected a positive integer, got {value!r}")
    return value


def _launcher_from_dict(value: Any, prefix: str) -> LauncherConfig:
    section = _section(value, prefix)
    _reject_unknown(section, {"type", "nodes", "processes_per_node"}, prefix)
    kind = section.get("type", "single")
    if kind not in LAUNCHERS:
        raise ConfigError(f"{prefix}.type", f"expected one of {', '.join(LAUNCHERS)}, got {kind!r}")
    nodes = _positive_int(section.get("nodes", 1), f"{prefix}.nodes")
    per_node = _positive_int(section.get("processes_per_node", 1), f"{prefix}.processes_per_node")
    if kind == "single" and nodes * per_node > 1:
        raise ConfigError(f"{prefix}.type", "`single` runs one process: use torchrun or accelerate for "
                                            f"{nodes} node(s) x {per_node} process(es)")
    return LauncherConfig(type=kind, nodes=nodes, processes_per_node=per_node)


def _check_template(template: Any, key: str) -> None:
    if not isinstance(template, str) or "{input}" not in template:
        raise ConfigError(key, f"expected a string with an {{input}} field (and optionally {{instruction}}), "
                               f"got {template!r}")
    try:
        template.format_map({"instruction": "", "input": ""})
    except (KeyError, IndexError, ValueError) as error:
        raise ConfigError(key, f"only {{instruction}} and {{input}} may be used (double other braces): "
                               f"{error}") from None


def _lora_from_dict(value: Any, prefix: str) -> dict:
    from peft import LoraConfig

    section = {**DEFAULT_LORA, **_section(value, prefix)}
    allowed = {f.name for f in dataclasses.fields(LoraConfig)} - {"task_type", "peft_type", "base_model_name_or_path",
                                                                   "revision", "inference_mode"}
    _reject_unknown(section, allowed, prefix)
    _positive_int(section["r"], f"{prefix}.r")
    alpha = section["lora_alpha"]
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha <= 0:
        raise ConfigError(f"{prefix}.lora_alpha", f"expected a positive number, got {alpha!r}")
    dropout = section["lora_dropout"]
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ConfigError(f"{prefix}.lora_dropout", f"expected a number in [0, 1), got {dropout!r}")
    targets = section["target_modules"]
    if not (isinstance(targets, str) and targets) and not (
            isinstance(targets, list) and targets and all(isinstance(t, str) and t for t in targets)):
        raise ConfigError(f"{prefix}.target_modules", f"expected a non-empty list of module names or "
                                                      f"'all-linear', got {targets!r}")
    return dict(section)


def _quantization_from_dict(value: Any, prefix: str) -> dict:
    section = {**DEFAULT_QUANTIZATION, **_section(value, prefix)}
    _reject_unknown(section, QUANTIZATION_KEYS, prefix)
    if section["bnb_4bit_quant_type"] not in ("nf4", "fp4"):
        raise ConfigError(f"{prefix}.bnb_4bit_quant_type",
                          f"expected nf4 or fp4, got {section['bnb_4bit_quant_type']!r}")
    if not isinstance(section["bnb_4bit_use_double_quant"], bool):
        raise ConfigError(f"{prefix}.bnb_4bit_use_double_quant", "expected true or false, got "
                                                                 f"{section['bnb_4bit_use_double_quant']!r}")
    for key in ("bnb_4bit_compute_dtype", "bnb_4bit_quant_storage"):
        if key in section and section[key] not in TORCH_DTYPES + (("uint8",) if key.endswith("storage") else ()):
            raise ConfigError(f"{prefix}.{key}", f"expected one of {', '.join(TORCH_DTYPES)}, got {section[key]!r}")
    return dict(section)


def _sft_fields() -> dict[str, dataclasses.Field]:
    from trl import SFTConfig

    return {f.name: f for f in dataclasses.fields(SFTConfig) if f.init}


def _annotation_types(annotation: Any) -> tuple:
    if isinstance(annotation, str):
        return ()
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return tuple(arg for arg in typing.get_args(annotation))
    return (typing.get_origin(annotation) or annotation,)


def _check_arg(name: str, value: Any, spec: dataclasses.Field, key: str) -> Any:
    """Check one SFTConfig value against the field's annotation (enough to catch a YAML typo before the job starts;
    SFTConfig checks the rest when the job builds it). Numbers written as strings (`1e-5`, which YAML 1.1 reads as a
    string) are converted for float fields."""
    kinds = _annotation_types(spec.type)
    if not kinds:
        return value
    if value is None:
        if type(None) in kinds:
            return value
        raise ConfigError(key, "may not be null")
    enums = [kind for kind in kinds if isinstance(kind, type) and issubclass(kind, enum.Enum)]
    if enums and isinstance(value, str):
        choices = {member.value for kind in enums for member in kind} | ({"auto"} if name == "optim" else set())
        if value not in choices:
            raise ConfigError(key, f"unknown value {value!r} (one of: {', '.join(sorted(map(str, choices)))})")
        return value
    if bool in kinds and isinstance(value, bool):
        return value
    if int in kinds and isinstance(value, int) and not isinstance(value, bool):
        return value
    if float in kinds:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value) if int not in kinds else value
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    if str in kinds and isinstance(value, str):
        return value
    if (list in kinds and isinstance(value, list)) or (dict in kinds and isinstance(value, Mapping)):
        return value
    if any(kind in (list, dict) for kind in kinds) or object in kinds or typing.Any in kinds:
        if not isinstance(value, (bool, int, float, str, list, Mapping)):
            raise ConfigError(key, f"unexpected value {value!r}")
        return value
    expected = " or ".join(getattr(kind, "__name__", str(kind)) for kind in kinds if kind is not type(None))
    raise ConfigError(key, f"expected {expected}, got {value!r}")


def _args_from_dict(value: Any, prefix: str) -> dict:
    section = {**DEFAULT_ARGS, **_section(value, prefix)}
    fields_ = _sft_fields()
    for name in section:
        if name in MANAGED_ARGS:
            raise ConfigError(f"{prefix}.{name}", f"set by lhama: {MANAGED_ARGS[name]}")
        if name not in fields_:
            raise ConfigError(f"{prefix}.{name}", "not an SFTConfig/TrainingArguments field (names as Hugging Face "
                                                  "spells them, e.g. max_steps, learning_rate, optim)")
    checked = {name: _check_arg(name, value, fields_[name], f"{prefix}.{name}") for name, value in section.items()}
    for name in ("max_steps",):
        if name in checked and checked[name] != -1:
            _positive_int(checked[name], f"{prefix}.{name}")
    for name in ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps",
                 "save_steps", "eval_steps", "logging_steps", "max_length"):
        if checked.get(name) is not None:
            number = checked[name]
            if isinstance(number, float) and number.is_integer() and name not in ("save_steps", "eval_steps",
                                                                                 "logging_steps"):
                number = checked[name] = int(number)
            if not (isinstance(number, (int, float)) and not isinstance(number, bool) and number > 0):
                raise ConfigError(f"{prefix}.{name}", f"expected a positive number, got {checked[name]!r}")
    if "learning_rate" in checked and not checked["learning_rate"] > 0:
        raise ConfigError(f"{prefix}.learning_rate", f"must be positive, got {checked['learning_rate']!r}")
    if checked.get("padding_free") and checked.get("packing") and checked.get("packing_strategy") == "wrapped":
        raise ConfigError(f"{prefix}.packing_strategy", "`wrapped` packing cannot be padding-free: use bfd")
    if not checked.get("packing") and "padding_free" not in checked:
        checked["padding_free"] = True
    return checked


def load_train_config(path: str | Path) -> TrainConfig:
    """A `TrainConfig` from a YAML or JSON file holding the `train` section (or a whole config with a `train`
    key)."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(path, "config file does not exist") from None
    except yaml.YAMLError as error:
        raise InputFileError(path, f"not valid YAML/JSON: {error}") from None
    if isinstance(data, Mapping) and isinstance(data.get("train"), Mapping):
        data = data["train"]
    try:
        return train_config_from_dict(data)
    except ConfigError as error:
        raise ConfigError(error.key, error.problem, source=str(path)) from None


# ---------------------------------------------------------------------------------------------------------------
# data


def read_rows(path: str | Path) -> list[dict]:
    """Instruction rows (instruction, input, output) of a JSONL file; a clear error names the line."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "file does not exist" if not path.exists() else "not a file")
    rows = []
    for number, row in numbered_records(path):
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in ("input", "output")) \
                or not isinstance(row.get("instruction", ""), str) or not row["output"].strip():
            raise InputFileError(path, "expected an object with string fields instruction, input and a "
                                       "non-empty output", where=f"line {number}")
        rows.append(row)
    if not rows:
        raise InputFileError(path, "no examples")
    return rows


def prompt_completion(row: Mapping[str, str], *, use_chat: bool,
                      template: str = DEFAULT_PROMPT_TEMPLATE) -> dict:
    """One row as a TRL prompt/completion record. Chat: conversational (system = instruction, user = input,
    assistant = output; the tokenizer's template renders them). Plain: `template` + output (TRL appends EOS)."""
    instruction, question, answer = row.get("instruction", "") or "", row["input"], row["output"]
    if use_chat:
        if question.strip():
            prompt = ([{"role": "system", "content": instruction}] if instruction.strip() else []) + [
                {"role": "user", "content": question}]
        else:
            prompt = [{"role": "user", "content": instruction}]
        return {"prompt": prompt, "completion": [{"role": "assistant", "content": answer}]}
    return {"prompt": template.format_map({"instruction": instruction, "input": question}), "completion": answer}


def build_dataset(rows: Sequence[Mapping[str, str]], *, use_chat: bool, template: str = DEFAULT_PROMPT_TEMPLATE):
    """A `datasets.Dataset` of prompt/completion records (TRL tokenizes it and masks the prompt)."""
    from datasets import Dataset

    return Dataset.from_list([prompt_completion(row, use_chat=use_chat, template=template) for row in rows])


def uses_chat_template(tokenizer, model_dir: str | Path) -> bool:
    """The model spec's `chat_template` (recorded in lhama_model.json) when set, else: does the tokenizer have one.
    Same rule as generation, so the tuned model is prompted the way it was trained."""
    from lhama.generate import has_chat_template
    from lhama.models import read_model_info

    forced = (read_model_info(model_dir) or {}).get("use_chat_template")
    if forced is None:
        return has_chat_template(tokenizer)
    if forced and not has_chat_template(tokenizer):
        raise ConfigError("models.chat_template", "the chat template is forced on but the tokenizer has none")
    return bool(forced)


def truncate_dataset(dataset, max_length: int):
    """Cut tokenized examples (input_ids, labels) to `max_length` and drop the ones left with no answer token:
    TRL refuses `max_length` with padding-free batches without packing, so lhama enforces it itself."""
    def cut(example):
        return {"input_ids": example["input_ids"][:max_length], "labels": example["labels"][:max_length]}

    dataset = dataset.map(cut)
    return dataset.filter(lambda example: any(label != -100 for label in example["labels"]))


# ---------------------------------------------------------------------------------------------------------------
# checkpoints


def checkpoint_is_complete(folder: str | Path) -> bool:
    """A checkpoint a SIGKILL did not cut short: trainer state (written last) readable, weights, optimizer,
    scheduler and RNG state present (DeepSpeed keeps model and optimizer in a `global_step*` folder with `latest`)."""
    folder = Path(folder)
    state = folder / "trainer_state.json"
    try:
        json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    names = {entry.name for entry in folder.iterdir()}
    deepspeed = "latest" in names and any(name.startswith("global_step") for name in names)
    weights = deepspeed or any(name in names for name in (
        "adapter_model.safetensors", "adapter_model.bin", "model.safetensors", "model.safetensors.index.json",
        "pytorch_model.bin", "pytorch_model.bin.index.json"))
    optimizer = deepspeed or "optimizer.pt" in names or "optimizer.bin" in names
    scheduler = deepspeed or "scheduler.pt" in names
    rng = any(name.startswith("rng_state") and name.endswith(".pth") for name in names)
    return weights and optimizer and scheduler and rng


def last_complete_checkpoint(folder: str | Path) -> Path | None:
    """The newest complete `checkpoint-N` under `folder` (transformers' `get_last_checkpoint` picks the newest by
    name, complete or not: incomplete ones are skipped here, newest first)."""
    from transformers.trainer_utils import get_last_checkpoint

    folder = Path(folder)
    if not folder.is_dir():
        return None
    newest = get_last_checkpoint(str(folder))
    if newest is not None and checkpoint_is_complete(newest):
        return Path(newest)
    for step, path in sorted(_checkpoints(folder), reverse=True):
        if checkpoint_is_complete(path):
            return path
        log.warning("skipping incomplete checkpoint %s (interrupted while saving)", path)
    return None


def _checkpoints(folder: Path) -> list[tuple[int, Path]]:
    return [(int(match.group(1)), entry) for entry in folder.iterdir()
            if entry.is_dir() and (match := _CHECKPOINT.match(entry.name))]


def remove_incomplete_checkpoints(folder: str | Path, resume: Path | None) -> list[str]:
    """Delete the incomplete checkpoints newer than the one resumed from (the rerun writes them again; left in
    place, a later `get_last_checkpoint` would pick them)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    since = int(_CHECKPOINT.match(resume.name).group(1)) if resume is not None else -1
    removed = []
    for step, path in sorted(_checkpoints(folder)):
        if step > since and not checkpoint_is_complete(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


# ---------------------------------------------------------------------------------------------------------------
# training


class TrainingInterrupted(LhamaError):
    """Training stopped on a signal after saving a checkpoint; rerun to resume."""

    def __init__(self, signum: int, checkpoint: str | None) -> None:
        self.signum = signum
        self.checkpoint = checkpoint
        self.exit_code = 128 + signum
        super().__init__(f"stopped by {signal.Signals(signum).name} after saving {checkpoint or 'no checkpoint'}; "
                         "rerun the same command to resume")

    def __reduce__(self):
        return type(self), (self.signum, self.checkpoint)


def _make_stop_callback():
    from transformers import TrainerCallback

    class StopOnSignal(TrainerCallback):
        """Remembers SIGTERM/SIGUSR1 and, at the next step boundary, asks the trainer to save and stop. Under
        several processes the ranks agree (max over ranks) so all of them stop at the same step: saving is a
        collective under ZeRO-3, and a rank that stopped alone would hang the others."""

        def __init__(self) -> None:
            self.signum: int | None = None

        def handle(self, signum: int, frame) -> None:
            if self.signum is None:
                log.warning("received %s: saving a checkpoint at the next step boundary, then stopping",
                            signal.Signals(signum).name)
            self.signum = signum

        def _agreed(self, args) -> int:
            import torch
            import torch.distributed as dist

            local = self.signum or 0
            if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
                value = torch.tensor([local], dtype=torch.int64, device=args.device)
                dist.all_reduce(value, op=dist.ReduceOp.MAX)
                local = int(value.item())
            if local and self.signum is None:
                self.signum = local
            return local

        def on_step_end(self, args, state, control, **kwargs):
            if self._agreed(args):
                control.should_save = True
                control.should_training_stop = True
            return control

    return StopOnSignal()


@contextlib.contextmanager
def _signal_handlers(handler: Callable) -> Iterator[None]:
    """Route SIGTERM and SIGUSR1 to `handler` for the duration of training (main thread only)."""
    previous = {}
    try:
        for name in INTERRUPT_SIGNALS:
            number = getattr(signal, name, None)
            if number is not None:
                previous[number] = signal.signal(number, handler)
    except ValueError:  # not the main thread: leave default handling
        pass
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _dtype(name: str):
    import torch

    return getattr(torch, name)


def reporting_targets(env: Mapping[str, str]) -> list[str]:
    """TensorBoard when the package is importable; W&B only with WANDB_API_KEY set and wandb importable (the key
    itself is never read or logged here)."""
    targets = []
    if importlib.util.find_spec("tensorboard") is not None or importlib.util.find_spec("tensorboardX") is not None:
        targets.append("tensorboard")
    if env.get("WANDB_API_KEY") and importlib.util.find_spec("wandb") is not None:
        targets.append("wandb")
    return targets


def build_sft_config(config: TrainConfig, work_dir: str | Path, *, run_name: str | None = None,
                     env: Mapping[str, str] | None = None):
    """SFTConfig from `config.args` plus what lhama manages: checkpoints in <work_dir>/checkpoints, optimizer for
    `optim: auto`, `use_cpu` without CUDA (bf16 on the CPU needs it), DeepSpeed, reporting, token counting, and
    `max_length` handled by lhama for padding-free batches without packing (see `truncate_dataset`)."""
    from trl import SFTConfig

    env = os.environ if env is None else env
    args = dict(config.args)
    cuda = _cuda()
    if args.get("optim", "auto") == "auto":
        args["optim"] = "paged_adamw_8bit" if config.method == "qlora" and cuda else "adamw_torch"
    if not cuda:
        args.setdefault("use_cpu", True)
    args.setdefault("run_name", run_name or _dt.datetime.now().strftime("%Y%m%d-%H%M%S"))
    args.setdefault("report_to", reporting_targets(env) or "none")
    if args.get("eval_strategy", "no") != "no":
        args.setdefault("per_device_eval_batch_size", args.get("per_device_train_batch_size", 8))
    padding_free = _padding_free(args)
    # padding-free batches hold no pad token at all; padded ones are counted through their attention mask
    args["include_num_input_tokens_seen"] = "all" if padding_free else "non_padding"
    if padding_free and not args.get("packing"):
        args["max_length"] = None
    args["output_dir"] = str(Path(work_dir) / CHECKPOINT_DIR)
    if config.deepspeed:
        args["deepspeed"] = config.deepspeed
    try:
        return SFTConfig(**args)
    except (ValueError, TypeError) as error:
        raise ConfigError("train.args", str(error).splitlines()[0]) from None


def _padding_free(args: Mapping[str, Any]) -> bool:
    return bool(args.get("padding_free")) or (bool(args.get("packing"))
                                              and args.get("packing_strategy", "bfd") in ("bfd", "bfd_split"))


def _lora_config(config: TrainConfig, notes: list[str]):
    from peft import LoraConfig

    settings = dict(config.lora)
    targets = settings["target_modules"]
    if isinstance(targets, list) and "lm_head" in targets:
        # TRL 1.x computes the loss from lm_head.weight directly (fused LM head) and refuses a LoRA on lm_head,
        # which would never be trained: the study's lm_head target is dropped, and said so in metrics.json
        settings["target_modules"] = [t for t in targets if t != "lm_head"]
        notes.append("lora.target_modules: lm_head dropped (TRL's fused LM head computes the loss from "
                     "lm_head.weight, so a LoRA on it would never be trained)")
        log.warning(notes[-1])
    return LoraConfig(task_type="CAUSAL_LM", **settings)


def load_training_model(config: TrainConfig, model_dir: str | Path, sft_args, *, trust_remote_code: bool = False):
    """The model to train. lora: frozen base in the training precision; full: float32 master weights (mixed
    precision by autocast); qlora: NF4 from the HF folder (never GGUF) prepared for k-bit training. Call after
    building the SFTConfig: under ZeRO-3 its DeepSpeed config makes from_pretrained partition the weights."""
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    precision = torch.bfloat16 if sft_args.bf16 else torch.float16 if sft_args.fp16 else torch.float32
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if config.method == "qlora":
        quant = dict(config.quantization)
        for key in ("bnb_4bit_compute_dtype", "bnb_4bit_quant_storage"):
            if key in quant and quant[key] in TORCH_DTYPES:
                quant[key] = _dtype(quant[key])
        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, **quant)
        kwargs["dtype"] = quant.get("bnb_4bit_compute_dtype", torch.bfloat16)
        if config.deepspeed is None:
            kwargs["device_map"] = {"": f"cuda:{sft_args.local_process_index}" if _cuda() else "cpu"}
    else:
        kwargs["dtype"] = precision if config.method == "lora" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
    if config.method == "qlora":
        from peft import prepare_model_for_kbit_training

        disable_cpu_4bit_repacking(model)
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=sft_args.gradient_checkpointing,
            gradient_checkpointing_kwargs=sft_args.gradient_checkpointing_kwargs)
    return model


def _init_deepspeed_comm(sft_args) -> None:
    """Make DeepSpeed's communication layer use the process group the trainer arguments set up. With `use_cpu`
    (gloo), transformers builds that group without DeepSpeed's comm, and ZeRO-3's `zero.Init` inside
    from_pretrained would then see a world of 1 and reject the batch size computed for the real world size."""
    import deepspeed
    import torch.distributed as dist

    _ = sft_args.device  # sets up the (gloo/nccl) process group under torchrun/accelerate
    if dist.is_available() and dist.is_initialized():
        deepspeed.init_distributed(dist_backend=dist.get_backend())


def disable_cpu_4bit_repacking(model) -> int:
    """bitsandbytes 0.50 repacks a 4-bit weight for a CPU inference kernel on the first no-grad forward (evaluation)
    and that kernel has no backward: training afterwards gets wrong gradients with only a warning. Turning the
    repacking off on every Linear4bit keeps evaluation during training correct (slower, same results)."""
    count = 0
    for module in model.modules():
        if hasattr(module, "support_avx512bf16_for_cpu"):
            module.support_avx512bf16_for_cpu = False
            count += 1
    return count


@dataclass
class TrainRun:
    """What `build_trainer` prepared: the trainer and what `train` needs to report on it."""

    trainer: Any
    tokenizer: Any
    stop: Any
    notes: list[str]
    use_chat: bool
    max_length: int | None


def build_trainer(config: TrainConfig, model_dir: str | Path, train_file: str | Path, eval_file: str | Path | None,
                  work_dir: str | Path, *, run_name: str | None = None, trust_remote_code: bool = False,
                  extra_callbacks: Sequence = ()) -> TrainRun:
    """An SFTTrainer ready to train (datasets tokenized, prompt tokens masked with -100)."""
    from transformers import AutoTokenizer
    from trl import SFTTrainer

    from lhama.models import configure_tokenizer

    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise InputFileError(model_dir, "no config.json: not a Hugging Face model folder (run `lhama prepare-model`)")
    if config.deepspeed and not Path(config.deepspeed).is_file():
        raise InputFileError(config.deepspeed, "DeepSpeed config does not exist")
    train_rows = read_rows(train_file)
    eval_rows = read_rows(eval_file) if eval_file else None
    notes: list[str] = []
    sft_args = build_sft_config(config, work_dir, run_name=run_name)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    configure_tokenizer(tokenizer)
    tokenizer.padding_side = "right"
    use_chat = uses_chat_template(tokenizer, model_dir)
    train_dataset = build_dataset(train_rows, use_chat=use_chat, template=config.prompt_template)
    eval_dataset = build_dataset(eval_rows, use_chat=use_chat, template=config.prompt_template) if eval_rows else None
    if eval_dataset is None and sft_args.eval_strategy != "no":
        sft_args.eval_strategy = "no"
        notes.append("no eval file: evaluation off")
    if config.deepspeed:
        _init_deepspeed_comm(sft_args)
    model = load_training_model(config, model_dir, sft_args, trust_remote_code=trust_remote_code)
    peft_config = None if config.method == "full" else _lora_config(config, notes)
    stop = _make_stop_callback()
    with _environment("TENSORBOARD_LOGGING_DIR", str(Path(work_dir) / "tensorboard" / sft_args.run_name)):
        trainer = SFTTrainer(model=model, args=sft_args, train_dataset=train_dataset, eval_dataset=eval_dataset,
                             processing_class=tokenizer, peft_config=peft_config,
                             callbacks=[stop, *extra_callbacks])
    max_length = config.args.get("max_length", 1024)
    if sft_args.max_length is None and max_length is not None:
        trainer.train_dataset = truncate_dataset(trainer.train_dataset, max_length)
        if trainer.eval_dataset is not None:
            trainer.eval_dataset = truncate_dataset(trainer.eval_dataset, max_length)
    return TrainRun(trainer=trainer, tokenizer=tokenizer, stop=stop, notes=notes, use_chat=use_chat,
                    max_length=max_length)


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """Set an environment variable for a block unless the user set it (TensorBoard's callback reads its log
    folder from TENSORBOARD_LOGGING_DIR when the trainer is built; transformers 5 has no `logging_dir`)."""
    if name in os.environ:
        yield
        return
    os.environ[name] = value
    try:
        yield
    finally:
        os.environ.pop(name, None)


def peak_memory_mb() -> tuple[float, str]:
    """CUDA max allocated on a GPU, else the process's peak resident set (ru_maxrss is in KiB on Linux)."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20, "cuda"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rss"


def loss_curves(log_history: Sequence[Mapping[str, Any]]) -> tuple[list[dict], list[dict]]:
    """(train, eval) loss curves as [{step, loss}] from the trainer's log history (restored on resume)."""
    train, evaluation = [], []
    for entry in log_history:
        if "loss" in entry and "step" in entry:
            train.append({"step": int(entry["step"]), "loss": float(entry["loss"])})
        if "eval_loss" in entry and "step" in entry:
            evaluation.append({"step": int(entry["step"]), "loss": float(entry["eval_loss"])})
    return _last_per_step(train), _last_per_step(evaluation)


def _last_per_step(points: list[dict]) -> list[dict]:
    by_step = {point["step"]: point for point in points}
    return [by_step[step] for step in sorted(by_step)]


def _file_record(path: str | Path | None) -> dict | None:
    from lhama.download import file_digest

    if not path:
        return None
    path = Path(path)
    with open(path, encoding="utf-8") as handle:
        rows = sum(1 for line in handle if line.strip())
    return {"path": str(path), "sha256": file_digest(path, "sha256"), "rows": rows}


def _package_versions() -> dict:
    from importlib import metadata

    versions = {}
    for name in ("torch", "transformers", "trl", "peft", "datasets", "accelerate", "bitsandbytes", "deepspeed"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def train(config: TrainConfig, model_dir: str | Path, train_file: str | Path, eval_file: str | Path | None,
          out_dir: str | Path, work_dir: str | Path, metrics_path: str | Path, *, model_name: str | None = None,
          run_name: str | None = None, trust_remote_code: bool = False) -> dict:
    """Train (resuming from the newest complete checkpoint), evaluate, and write the adapter/model folder and
    metrics.json atomically. Returns the metrics. Raises `TrainingInterrupted` after a signal-triggered save."""
    started = time.perf_counter()
    work_dir, out_dir, metrics_path = Path(work_dir), Path(out_dir), Path(metrics_path)
    run = build_trainer(config, model_dir, train_file, eval_file, work_dir, run_name=run_name,
                        trust_remote_code=trust_remote_code)
    trainer = run.trainer
    main_process = trainer.is_world_process_zero()
    checkpoints = work_dir / CHECKPOINT_DIR
    resume = last_complete_checkpoint(checkpoints)
    trainer.accelerator.wait_for_everyone()  # every rank decided before rank 0 deletes anything
    if main_process:
        removed = remove_incomplete_checkpoints(checkpoints, resume)
        if removed:
            log.warning("removed incomplete checkpoints %s", ", ".join(removed))
    trainer.accelerator.wait_for_everyone()
    if resume is not None:
        log.info("resuming from %s", resume)
    tokens_before = _tokens_in_checkpoint(resume)
    train_started = time.perf_counter()
    with _signal_handlers(run.stop.handle):
        trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    train_seconds = time.perf_counter() - train_started
    if run.stop.signum:
        saved = last_complete_checkpoint(checkpoints)
        raise TrainingInterrupted(run.stop.signum, saved.name if saved else None)
    final_eval = trainer.evaluate() if trainer.eval_dataset is not None else {}
    _save_outputs(run, config, out_dir, model_dir, train_file, eval_file, model_name)
    state = trainer.state
    train_curve, eval_curve = loss_curves(state.log_history)
    tokens = int(state.num_input_tokens_seen)
    session_tokens = tokens - tokens_before
    peak, kind = peak_memory_mb()
    metrics = {
        "model": model_name, "base_model": str(model_dir), "method": config.method,
        "run_name": trainer.args.run_name, "global_step": int(state.global_step), "max_steps": int(state.max_steps),
        "optimizer_steps": int(state.global_step),
        "train_loss_curve": train_curve, "eval_loss_curve": eval_curve,
        "eval_loss": final_eval.get("eval_loss"), "train_tokens": tokens, "session_train_tokens": session_tokens,
        "tokens_per_second": session_tokens / train_seconds if train_seconds > 0 else None,
        "train_seconds": train_seconds, "wall_seconds": time.perf_counter() - started,
        "peak_memory_mb": peak, "peak_memory_kind": kind, "resumed_from": resume.name if resume else None,
        "world_size": trainer.args.world_size, "device": str(trainer.args.device),
        "chat_template": run.use_chat, "max_length": run.max_length, "padding_free": bool(trainer.padding_free),
        "packing": bool(trainer.args.packing), "optim": str(trainer.args.optim.value
                                                            if hasattr(trainer.args.optim, "value")
                                                            else trainer.args.optim),
        "report_to": list(trainer.args.report_to or []), "output": str(out_dir),
        "merged": str(out_dir / "merged") if config.merge and config.method != "full" else None,
        "data": {"train": _file_record(train_file), "eval": _file_record(eval_file)},
        "notes": run.notes, "versions": _package_versions(), "config": config.to_json(),
    }
    if main_process:
        from lhama.jsonl import write_json

        write_json(metrics_path, metrics)
    trainer.accelerator.wait_for_everyone()
    return metrics


def _tokens_in_checkpoint(checkpoint: Path | None) -> int:
    if checkpoint is None:
        return 0
    try:
        return int(json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
                   .get("num_input_tokens_seen", 0))
    except (OSError, ValueError):
        return 0


def _save_outputs(run: TrainRun, config: TrainConfig, out_dir: Path, model_dir, train_file, eval_file,
                  model_name: str | None) -> None:
    """Adapter (or full model) + tokenizer + model card (+ merged model) into a temporary sibling of `out_dir`,
    renamed at the end. The temporary name is the same on every rank: `save_model` is a collective under ZeRO-3."""
    trainer = run.trainer
    main_process = trainer.is_world_process_zero()
    tmp = out_dir.with_name(f".{out_dir.name}.tmp")
    if main_process:
        remove_path(tmp)
        tmp.parent.mkdir(parents=True, exist_ok=True)
    trainer.accelerator.wait_for_everyone()
    try:
        trainer.save_model(str(tmp))
        trainer.accelerator.wait_for_everyone()
        if main_process:
            run.tokenizer.save_pretrained(tmp)
            if config.merge and config.method != "full":
                merge_adapter(model_dir, tmp, tmp / "merged")
            (tmp / "README.md").write_text(model_card(config, run, model_dir, train_file, eval_file, model_name),
                                           encoding="utf-8")
            replace_dir(tmp, out_dir)
    finally:
        if main_process:
            remove_path(tmp)
    trainer.accelerator.wait_for_everyone()


def merge_adapter(model_dir: str | Path, adapter_dir: str | Path, out: str | Path) -> None:
    """The adapter merged into a fresh copy of the base weights (bf16 on GPU, float32 on CPU): a quantized base is
    never merged into, since that would bake in the 4-bit rounding."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = torch.bfloat16 if _cuda() else torch.float32
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(out)
    AutoTokenizer.from_pretrained(adapter_dir).save_pretrained(out)


def model_card(config: TrainConfig, run: TrainRun, model_dir, train_file, eval_file, model_name: str | None) -> str:
    """README.md for the adapter: base model, data files with sha256, method and every hyperparameter."""
    from lhama.models import read_model_info

    info = read_model_info(model_dir) or {}
    base = info.get("source") or str(model_dir)
    data = [record for record in (_file_record(train_file), _file_record(eval_file)) if record]
    state = run.trainer.state
    train_curve, _ = loss_curves(state.log_history)
    library = "transformers" if config.method == "full" else "peft"
    lines = [
        "---", f"library_name: {library}", f"base_model: {json.dumps(base)}",
        "tags: [lhama, sft, trl" + (", lora" if config.method != "full" else "") + "]", "---", "",
        f"# {model_name or Path(model_dir).name}: {config.method} fine-tune (lhama)", "",
        f"Base model: `{base}` (folder `{model_dir}`" + (f", {info['params']:,} parameters" if info.get("params")
                                                        else "") + ").", "",
        f"Method: **{config.method}**" + (" (bitsandbytes NF4 4-bit base, LoRA adapters)" if config.method == "qlora"
                                          else "") + f"; {state.global_step} optimizer steps with TRL's SFTTrainer, "
        "loss on the answer tokens only, "
        + ("padding-free batches." if run.trainer.padding_free else "padded batches."),
        "",
        "Prompt: " + ("the tokenizer's chat template (system = instruction, user = question, assistant = answer)."
                      if run.use_chat
                      else f"`{json.dumps(config.prompt_template, ensure_ascii=False)}` + answer + EOS."),
        "", "## Data", "", "| file | rows | sha256 |", "| --- | --- | --- |",
        *[f"| `{record['path']}` | {record['rows']} | `{record['sha256']}` |" for record in data], "",
        "## Hyperparameters", "", "```json", json.dumps(config.to_json(), indent=2, ensure_ascii=False), "```", "",
    ]
    if run.notes:
        lines += ["## Notes", "", *[f"- {note}" for note in run.notes], ""]
    if train_curve:
        lines += [f"Final logged training loss: {train_curve[-1]['loss']:.4f} (step {train_curve[-1]['step']}).", ""]
    lines += ["Load it with `peft.PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), this_folder)`."
              if config.method != "full" else "Load it with `AutoModelForCausalLM.from_pretrained(this_folder)`.", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# launching


def slurm_first_host(nodelist: str, runner: Callable[[list[str]], str] | None = None) -> str:
    """First host of a SLURM node list. A plain list (`node1,node2`) is split here; a compressed one
    (`node[01-04]`) is expanded by `scontrol show hostnames` (`runner` replaces it in tests)."""
    nodelist = nodelist.strip()
    if not nodelist:
        raise ConfigError("SLURM_JOB_NODELIST", "empty node list")
    if "[" not in nodelist:
        return nodelist.split(",")[0]
    if runner is None:
        def runner(command: list[str]) -> str:
            return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    hosts = runner(["scontrol", "show", "hostnames", nodelist]).split()
    if not hosts:
        raise ConfigError("SLURM_JOB_NODELIST", f"scontrol expanded {nodelist!r} to no host")
    return hosts[0]


def allocation_nodelist(env: Mapping[str, str], runner: Callable[[list[str]], str] | None = None) -> str:
    """The node list of the SLURM allocation: from the environment, else from `scontrol show job` (Snakemake's
    slurm jobstep plugin strips every SLURM_* variable but the job id before it runs a job's script)."""
    for name in ("SLURM_JOB_NODELIST", "SLURM_NODELIST"):
        if env.get(name, "").strip():
            return env[name]
    if runner is None:
        def runner(command: list[str]) -> str:
            return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    shown = runner(["scontrol", "show", "job", "--oneliner", str(env["SLURM_JOB_ID"])])
    match = re.search(r"(?:^|\s)NodeList=(\S+)", shown)
    if not match or match.group(1) in ("", "(null)"):
        raise ConfigError("SLURM_JOB_NODELIST", f"no node list for job {env['SLURM_JOB_ID']} "
                                                "(neither in the environment nor from scontrol)")
    return match.group(1)


def _tool(name: str) -> str:
    """A console script of this environment (next to the interpreter), else the name looked up on PATH."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def launch_command(config: TrainConfig, argv: Sequence[str], env: Mapping[str, str], *,
                   runner: Callable[[list[str]], str] | None = None) -> list[str]:
    """The command that runs `lhama train <argv>` with `config.launcher`:
    single -> this interpreter; torchrun/accelerate -> one process per GPU. Inside a SLURM allocation
    (SLURM_JOB_ID set) with more than one process, srun starts one launcher per node and they meet at the
    allocation's first host (c10d rendezvous on port 29500); outside SLURM, a standalone single-node launch."""
    launcher = config.launcher
    entry = ["-m", "lhama.cli", "train", *argv]
    if launcher.type == "single":
        return [sys.executable, *entry]
    nodes, per_node = launcher.nodes, launcher.processes_per_node
    in_slurm = bool(env.get("SLURM_JOB_ID")) and launcher.world_size > 1
    if not in_slurm and nodes > 1:
        raise ConfigError("train.launcher.nodes", f"{nodes} nodes need a SLURM allocation (SLURM_JOB_ID unset)")
    host = slurm_first_host(allocation_nodelist(env, runner), runner) if in_slurm else None
    srun = ["srun", "--kill-on-bad-exit=1", "--ntasks-per-node=1", f"--nodes={nodes}"]
    if launcher.type == "torchrun":
        if not in_slurm:
            return [_tool("torchrun"), "--standalone", "--nproc-per-node", str(per_node), *entry]
        return [*srun, _tool("torchrun"), "--nnodes", str(nodes), "--nproc-per-node", str(per_node),
                "--rdzv-id", str(env["SLURM_JOB_ID"]), "--rdzv-backend", "c10d",
                "--rdzv-endpoint", f"{host}:{RENDEZVOUS_PORT}", *entry]
    accelerate = [_tool("accelerate"), "launch", "--num_processes", str(launcher.world_size),
                  "--num_machines", str(nodes)]
    if launcher.world_size > 1 and _cuda_expected(env):
        accelerate.append("--multi_gpu")
    if not in_slurm:
        return [*accelerate, "--main_process_port", str(RENDEZVOUS_PORT), *entry]
    # each node needs its own rank: SLURM_NODEID is only known inside the srun task, hence the shell
    command = [*accelerate, "--machine_rank", "$SLURM_NODEID", "--main_process_ip", host,
               "--main_process_port", str(RENDEZVOUS_PORT), "--rdzv_backend", "c10d", *entry]
    script = " ".join("$SLURM_NODEID" if part == "$SLURM_NODEID" else shlex.quote(part) for part in command)
    return [*srun, "bash", "-c", script]


def _cuda_expected(env: Mapping[str, str]) -> bool:
    return env.get("CUDA_VISIBLE_DEVICES", "") not in ("", "-1") or bool(env.get("SLURM_GPUS_ON_NODE"))


def run_training(config: TrainConfig, argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """Run `lhama train <argv>` through `launch_command`, waiting for it; returns its exit status."""
    env = dict(os.environ if env is None else env)
    command = launch_command(config, argv, env)
    log.info("launching: %s", shlex.join(command))
    return subprocess.run(command, env=env, check=False).returncode


# ---------------------------------------------------------------------------------------------------------------
# loss plot


def plot_losses(metrics: Mapping[str, Any], path: str | Path) -> None:
    """Training and held-out loss against the optimizer step (PNG, written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lhama.jsonl import atomic_open

    train_curve = metrics.get("train_loss_curve") or []
    eval_curve = metrics.get("eval_loss_curve") or []
    figure, axis = plt.subplots(figsize=(6, 3.5))
    if train_curve:
        axis.plot([p["step"] for p in train_curve], [p["loss"] for p in train_curve], label="train", lw=1.5)
    if eval_curve:
        axis.plot([p["step"] for p in eval_curve], [p["loss"] for p in eval_curve], "o-", label="held-out", lw=1.5)
    if not train_curve and not eval_curve:
        axis.text(0.5, 0.5, "no loss logged", ha="center", va="center", transform=axis.transAxes)
    axis.set_xlabel("optimizer step")
    axis.set_ylabel("loss (answer tokens)")
    title = f"{metrics.get('model') or ''} {metrics.get('method') or ''}".strip()
    if metrics.get("resumed_from"):
        title += f" (resumed from {metrics['resumed_from']})"
    axis.set_title(title, fontsize=10)
    axis.grid(alpha=0.3)
    if train_curve or eval_curve:
        axis.legend()
    figure.tight_layout()
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=120)
    plt.close(figure)


# ---------------------------------------------------------------------------------------------------------------
# command line


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, type=Path, help="base model folder (lhama prepare-model)")
    parser.add_argument("--train", required=True, type=Path, help="training JSONL (instruction, input, output)")
    parser.add_argument("--eval", type=Path, help="held-out JSONL, evaluated during and after training")
    parser.add_argument("--config", required=True, type=Path, help="YAML/JSON with the `train` section")
    parser.add_argument("--out", required=True, type=Path, help="adapter (or full model) folder to write")
    parser.add_argument("--work-dir", required=True, type=Path, help="checkpoints and TensorBoard logs")
    parser.add_argument("--metrics", required=True, type=Path, help="metrics.json to write")
    parser.add_argument("--model-name", help="name for the model card and metrics")
    parser.add_argument("--run-name", help="run name for the loggers (default: date and time)")
    parser.add_argument("--trust-remote-code", action="store_true", help="run code shipped with the model")
    parser.add_argument("--launch", action="store_true",
                        help="start through train.launcher (torchrun/accelerate, srun under SLURM) instead of here")


def _forwarded_argv(args: argparse.Namespace) -> list[str]:
    argv = ["--model", str(args.model), "--train", str(args.train), "--config", str(args.config), "--out",
            str(args.out), "--work-dir", str(args.work_dir), "--metrics", str(args.metrics)]
    for flag, value in (("--eval", args.eval), ("--model-name", args.model_name), ("--run-name", args.run_name)):
        if value is not None:
            argv += [flag, str(value)]
    if args.trust_remote_code:
        argv.append("--trust-remote-code")
    return argv


def cmd_train(args: argparse.Namespace) -> None:
    """`lhama train`: here, or through the launcher with --launch. A signal-triggered stop exits with 128 + the
    signal number (143 for SIGTERM) after the checkpoint is saved."""
    config = load_train_config(args.config)
    if args.launch:
        code = run_training(config, _forwarded_argv(args))
        if code:
            raise SystemExit(code)
        return
    try:
        metrics = train(config, args.model, args.train, args.eval, args.out, args.work_dir, args.metrics,
                        model_name=args.model_name, run_name=args.run_name, trust_remote_code=args.trust_remote_code)
    except TrainingInterrupted as error:
        print(f"lhama train: {error}", file=sys.stderr)
        raise SystemExit(error.exit_code) from None
    if os.environ.get("RANK", "0") != "0":
        return
    loss = metrics["eval_loss"]
    print(f"{metrics['method']}: {metrics['global_step']} steps, eval loss "
          f"{'n/a' if loss is None else f'{loss:.4f}'}, {metrics['tokens_per_second'] or 0:.1f} tokens/s -> {args.out}")


def add_commands(subparsers) -> None:
    """Register `lhama train` on an argparse subparsers object."""
    parser = subparsers.add_parser("train", help="fine-tune a model (LoRA/QLoRA/full) with TRL; resumable")
    _add_arguments(parser)
    parser.set_defaults(run=cmd_train)


def main(argv: Sequence[str] | None = None) -> int:
    """`lhama train` without the `lhama` front end (workflow script, torchrun script). Returns 0; any failure
    raises SystemExit with a non-zero status (1 for a bad input or config, 128 + signal after an interruption)."""
    from lhama.cli import setup_logging

    parser = argparse.ArgumentParser(prog="lhama train", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    _add_arguments(parser)
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        cmd_train(args)
    except LhamaError as error:
        print(f"lhama train: error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
