"""One short GPU check (run on a lent accelerator): QLoRA vs LoRA training steps and batched generation on a model
with SmolLM2-135M's exact Llama architecture (random weights: same shapes, so the same memory and speed).

    python benchmarks/gpu_check.py [--steps 10] [--seq 512] [--batch 8]

Prints versions, peak GPU memory and tokens/s per setting, and the ratio QLoRA/LoRA; JSON to $OUT or benchmarks/out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch


def smollm2_architecture():
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                       num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=8192,
                       rms_norm_eps=1e-5, rope_theta=100000.0, tie_word_embeddings=True)


def train_steps(folder: str, method: str, steps: int, seq: int, batch: int) -> dict:
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    kwargs = {"dtype": torch.bfloat16, "device_map": {"": 0}}
    if method == "qlora":
        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                           bnb_4bit_use_double_quant=True,
                                                           bnb_4bit_compute_dtype=torch.bfloat16)
    model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    if method == "qlora":
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    model = get_peft_model(model, LoraConfig(r=32, lora_alpha=64, lora_dropout=0.05, task_type="CAUSAL_LM",
                                             target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                             "up_proj", "down_proj"]))
    if method == "qlora":
        import bitsandbytes as bnb

        optimizer = bnb.optim.PagedAdamW8bit(model.parameters(), lr=1e-4)
    else:
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    generator = torch.Generator(device="cuda").manual_seed(0)
    data = torch.randint(0, 49152, (steps + 2, batch, seq), device="cuda", generator=generator)
    losses = []
    for step in range(steps + 2):
        if step == 2:  # two warm-up steps
            torch.cuda.synchronize()
            started = time.perf_counter()
        output = model(input_ids=data[step], labels=data[step])
        output.loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(output.loss.item())
    torch.cuda.synchronize()
    elapsed = time.perf_counter() - started
    result = {"method": method, "tokens_per_s": steps * batch * seq / elapsed, "s_per_step": elapsed / steps,
              "peak_gb": torch.cuda.max_memory_allocated() / 2**30, "loss_first_last": [losses[0], losses[-1]],
              "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad)}
    del model, optimizer
    return result


def generation(folder: str, batch: int, new_tokens: int = 64) -> dict:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16, device_map={"": 0}).eval()
    prompts = torch.randint(0, 49152, (batch, 32), device="cuda")
    with torch.inference_mode():
        mask = torch.ones_like(prompts)
        model.generate(prompts[:1], attention_mask=mask[:1], max_new_tokens=4, do_sample=False, min_new_tokens=4)
        torch.cuda.synchronize()
        started = time.perf_counter()
        model.generate(prompts, attention_mask=mask, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                       do_sample=False, pad_token_id=0)
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - started
    return {"batch": batch, "new_tokens_per_s": batch * new_tokens / elapsed}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--seq", type=int, default=512)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    import transformers

    report = {"torch": torch.__version__, "transformers": transformers.__version__,
              "cuda": torch.cuda.is_available() and torch.cuda.get_device_name(0)}
    for name in ("peft", "bitsandbytes", "trl", "accelerate", "deepspeed", "faiss", "sentence_transformers"):
        try:
            report[name] = __import__(name).__version__
        except Exception as error:  # noqa: BLE001 - report what is missing and go on
            report[name] = f"missing ({type(error).__name__})"
    print(json.dumps(report, indent=1), flush=True)
    if not torch.cuda.is_available():
        print("no CUDA device")
        return 1
    from transformers import LlamaForCausalLM

    folder = tempfile.mkdtemp()
    torch.manual_seed(0)
    LlamaForCausalLM(smollm2_architecture()).to(torch.bfloat16).save_pretrained(folder)
    results = {"env": report, "train": [], "generate": []}
    for method in ("lora", "qlora"):
        try:
            row = train_steps(folder, method, args.steps, args.seq, args.batch)
        except Exception as error:  # noqa: BLE001
            row = {"method": method, "error": f"{type(error).__name__}: {error}"[:400]}
        results["train"].append(row)
        print(json.dumps(row), flush=True)
    for batch in (1, 8):
        row = generation(folder, batch)
        results["generate"].append(row)
        print(json.dumps(row), flush=True)
    lora, qlora = results["train"]
    if "error" not in lora and "error" not in qlora:
        print(f"QLoRA/LoRA: tokens/s {qlora['tokens_per_s'] / lora['tokens_per_s']:.2f}x, "
              f"peak memory {qlora['peak_gb'] / lora['peak_gb']:.2f}x")
    gen = results["generate"]
    print(f"generation batch 8 / batch 1: {gen[1]['new_tokens_per_s'] / gen[0]['new_tokens_per_s']:.1f}x")
    out = Path(os.environ.get("OUT", "benchmarks/out"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
