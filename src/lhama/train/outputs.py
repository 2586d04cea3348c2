"""What a finished training leaves behind: the adapter (or full model) with its model card and tokenizer, an
optional merged model, and the figures of `metrics.json`. The folder is written to a temporary sibling and renamed
at the end; under ZeRO-3 saving is a collective, so every rank saves and only rank 0 writes the rest."""

from __future__ import annotations

import json
import resource
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lhama.config.loading import to_dict
from lhama.config.sections import TrainConfig
from lhama.files import remove_path, replace_dir


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


def file_record(path: str | Path | None) -> dict | None:
    from lhama.download import file_digest

    if not path:
        return None
    path = Path(path)
    with open(path, encoding="utf-8") as handle:
        rows = sum(1 for line in handle if line.strip())
    return {"path": str(path), "sha256": file_digest(path, "sha256"), "rows": rows}


def save_outputs(run, config: TrainConfig, out_dir: Path, model_dir, data: dict, model_name: str | None) -> None:
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
            (tmp / "README.md").write_text(model_card(config, run, model_dir, data, model_name),
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

    dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(out)
    AutoTokenizer.from_pretrained(adapter_dir).save_pretrained(out)


def model_card(config: TrainConfig, run, model_dir, data: dict, model_name: str | None) -> str:
    """README.md for the adapter: base model, data files with sha256, method and every hyperparameter."""
    from lhama.models import read_model_info

    info = read_model_info(model_dir) or {}
    base = info.get("source") or str(model_dir)
    data = [record for record in (data["train"], data["eval"]) if record]
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
                      else f"`{json.dumps(run.template, ensure_ascii=False)}` + answer + EOS."),
        "", "## Data", "", "| file | rows | sha256 |", "| --- | --- | --- |",
        *[f"| `{record['path']}` | {record['rows']} | `{record['sha256']}` |" for record in data], "",
        "## Hyperparameters", "", "```json", json.dumps(to_dict(config), indent=2, ensure_ascii=False), "```", "",
    ]
    if run.notes:
        lines += ["## Notes", "", *[f"- {note}" for note in run.notes], ""]
    if train_curve:
        lines += [f"Final logged training loss: {train_curve[-1]['loss']:.4f} (step {train_curve[-1]['step']}).", ""]
    lines += ["Load it with `peft.PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), this_folder)`."
              if config.method != "full" else "Load it with `AutoModelForCausalLM.from_pretrained(this_folder)`.", ""]
    return "\n".join(lines)
