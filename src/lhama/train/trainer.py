"""The trainer: TRL's `SFTConfig` from `train.args` plus what lhama manages, the model to train (LoRA on a frozen
base, QLoRA on an NF4 base, or full), and an `SFTTrainer` over the prompt/completion datasets.

Loss is on the answer tokens only (TRL's completion mask) and no compute goes to padding: `padding_free` flattens
each batch into one sequence (position ids restart per example, so attention stays within an example), or
`packing` fills fixed-length rows best-fit. The study padded every example to 512 tokens.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib.util
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lhama.config.loading import to_dict
from lhama.config.sections import TrainConfig
from lhama.errors import ConfigError, InputFileError
from lhama.train.checkpoints import CHECKPOINT_DIR, stop_callback
from lhama.train.data import build_dataset, read_rows, truncate_dataset

log = logging.getLogger(__name__)


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def native_bf16() -> bool:
    """bf16 computed by the hardware: a CUDA GPU that supports it, or a CPU with AVX512-BF16 or AMX."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    cpu = torch.cpu
    return any(getattr(cpu, name, lambda: False)() for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))


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
    args["optim"] = config.optimizer(gpu=cuda)
    args["bf16"] = config.bf16(native=native_bf16())
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


def lora_config(config: TrainConfig, notes: list[str]):
    from peft import LoraConfig

    settings = {key: value for key, value in to_dict(config.lora).items() if value is not None}
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
        quant = {key: value for key, value in to_dict(config.quantization).items() if value is not None}
        for key in ("bnb_4bit_compute_dtype", "bnb_4bit_quant_storage"):
            if key in quant and quant[key] != "uint8":
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


def init_deepspeed_comm(sft_args) -> None:
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
    template: str


def build_trainer(config: TrainConfig, model_dir: str | Path, train_file: str | Path, eval_file: str | Path | None,
                  work_dir: str | Path, *, template: str, run_name: str | None = None, trust_remote_code: bool = False,
                  extra_callbacks: Sequence = ()) -> TrainRun:
    """An SFTTrainer ready to train (datasets tokenized, prompt tokens masked with -100)."""
    from transformers import AutoTokenizer
    from trl import SFTTrainer

    from lhama.models import configure_tokenizer, read_model_info
    from lhama.prompts import use_chat_template

    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise InputFileError(model_dir, "no config.json: not a Hugging Face model folder (run `lhama prepare-model`)")
    if config.deepspeed and not Path(config.deepspeed).is_file():
        raise InputFileError(config.deepspeed, "DeepSpeed config does not exist")
    take = config.trained_rows()
    train_rows = read_rows(train_file, take=take, seed=config.row_seed())
    eval_rows = read_rows(eval_file, first=config.eval_examples) if eval_file else None
    notes: list[str] = []
    if take is not None:
        notes.append(f"trained on {len(train_rows)} rows of {Path(train_file).name}: max_steps x batch x "
                     f"accumulation x processes, drawn with seed {config.row_seed()} (lhama.training_rows)")
    sft_args = build_sft_config(config, work_dir, run_name=run_name)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    configure_tokenizer(tokenizer)
    tokenizer.padding_side = "right"
    use_chat = use_chat_template(tokenizer, (read_model_info(model_dir) or {}).get("use_chat_template"))
    train_dataset = build_dataset(train_rows, chat=use_chat, template=template)
    eval_dataset = build_dataset(eval_rows, chat=use_chat, template=template) if eval_rows else None
    if eval_dataset is None and sft_args.eval_strategy != "no":
        sft_args.eval_strategy = "no"
        notes.append("no eval file: evaluation off")
    if config.deepspeed:
        init_deepspeed_comm(sft_args)
    model = load_training_model(config, model_dir, sft_args, trust_remote_code=trust_remote_code)
    peft_config = None if config.method == "full" else lora_config(config, notes)
    stop = stop_callback()
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
                    max_length=max_length, template=template)


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
