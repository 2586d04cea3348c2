"""Batched text generation with a causal LM: prompt formatting (chat template or plain template) and decoding.

Prompts are sorted by token length inside a run (less padding), padded on the LEFT with an attention mask, decoded
with the KV cache, and returned in input order. Greedy outputs do not depend on the batch size (up to floating
point: checked in fp32 by the tests).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from lhama.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DecodingConfig:
    max_new_tokens: int = 128
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    batch_size: int = 8
    seed: int = 42

    def __post_init__(self) -> None:
        def positive_int(name: str) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(name, f"expected a positive integer, got {value!r}")

        positive_int("max_new_tokens")
        positive_int("batch_size")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ConfigError("seed", f"expected an integer, got {self.seed!r}")
        if not isinstance(self.do_sample, bool):
            raise ConfigError("do_sample", f"expected true or false, got {self.do_sample!r}")
        for name in ("temperature", "top_p", "repetition_penalty"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ConfigError(name, f"expected a positive number, got {value!r}")
        if self.top_p > 1:
            raise ConfigError("top_p", f"must be in (0, 1], got {self.top_p!r}")


def decoding_from_dict(mapping: Mapping[str, Any] | None, *, source: str | None = None) -> DecodingConfig:
    """A `DecodingConfig` from a config section; unknown keys and bad values give a `ConfigError`."""
    mapping = dict(mapping or {})
    names = {f.name for f in fields(DecodingConfig)}
    unknown = sorted(set(mapping) - names)
    if unknown:
        raise ConfigError(unknown[0], f"unknown decoding key (allowed: {', '.join(sorted(names))})", source=source)
    try:
        return DecodingConfig(**mapping)
    except ConfigError as error:
        if source:
            raise ConfigError(error.key, error.problem, source=source) from None
        raise


@dataclass(frozen=True)
class Generation:
    """One completion. `text` excludes the prompt and stops before the first end-of-sequence token; `new_tokens`
    counts the generated tokens up to and including that token. `seconds` is the wall time of the batch that
    produced it (shared by the whole batch: see `throughput`); `batch` is that batch's number within the run."""

    text: str
    prompt_tokens: int
    new_tokens: int
    seconds: float
    batch: int = 0

    def to_json(self) -> dict:
        return asdict(self)


def has_chat_template(tokenizer) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def format_prompts(tokenizer, prompts: Sequence[str], *, system: str | None = None,
                   use_chat_template: bool | None = None, template: str = "{prompt}") -> list[str]:
    """Prompt strings for `generate`: the tokenizer's chat template (one user turn, after an optional system turn,
    with the assistant header appended) when it has one or `use_chat_template` is True; otherwise `template`, with
    `{prompt}` and optionally `{system}` (a system text with no `{system}` field is put first, then a blank line)."""
    if isinstance(prompts, str):
        raise TypeError("format_prompts takes a list of prompts, not a string")
    use = has_chat_template(tokenizer) if use_chat_template is None else use_chat_template
    if use:
        if not has_chat_template(tokenizer):
            raise ConfigError("chat_template", "the chat template is forced on but the tokenizer has none")
        out = []
        for prompt in prompts:
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": prompt}]
            out.append(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
        return out
    if "{prompt}" not in template:
        raise ConfigError("template", f"the prompt template must contain {{prompt}}: {template!r}")
    out = []
    for prompt in prompts:
        try:
            text = template.format_map({"prompt": prompt, "system": system or ""})
        except (KeyError, IndexError, ValueError) as error:
            raise ConfigError("template", f"{template!r}: only {{prompt}} and {{system}} may be used "
                                          f"(double other braces): {error}") from None
        if system and "{system}" not in template:
            text = f"{system}\n\n{text}"
        out.append(text)
    return out


def _encode(tokenizer, text: str) -> list[int]:
    """Token ids of one formatted prompt. Special tokens (BOS) are added unless the text already starts with the
    BOS token (chat templates often write it themselves)."""
    bos = getattr(tokenizer, "bos_token", None)
    add_special = not (bos and text.startswith(bos))
    return list(tokenizer(text, add_special_tokens=add_special)["input_ids"])


def pad_left(sequences: Sequence[Sequence[int]], pad_id: int):
    """(input_ids, attention_mask) tensors, shorter sequences padded on the left."""
    import torch

    width = max(len(seq) for seq in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        if seq:
            ids[row, width - len(seq):] = torch.tensor(seq, dtype=torch.long)
            mask[row, width - len(seq):] = 1
    return ids, mask


def _eos_ids(model, tokenizer) -> list[int]:
    ids: list[int] = []
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (configured if isinstance(configured, (list, tuple)) else [configured]) + [tokenizer.eos_token_id]:
        if value is not None and value not in ids:
            ids.append(int(value))
    return ids


def _generation_config(model, tokenizer, decoding: DecodingConfig, pad_id: int, eos: list[int]):
    from transformers import GenerationConfig

    settings: dict[str, Any] = dict(max_new_tokens=decoding.max_new_tokens, do_sample=decoding.do_sample,
                                    repetition_penalty=decoding.repetition_penalty, pad_token_id=pad_id,
                                    eos_token_id=eos or None, use_cache=True, num_beams=1)
    if decoding.do_sample:
        # top_k=0: no top-k cut beyond what the config asks (the model's own defaults would otherwise apply)
        settings.update(temperature=decoding.temperature, top_p=decoding.top_p, top_k=0)
    else:
        # unused when greedy; set to transformers' defaults so neither the model's sampling defaults nor a
        # "flag ignored" warning show up
        settings.update(temperature=1.0, top_p=1.0, top_k=50)
    return GenerationConfig(**settings)


def generate(model, tokenizer, prompts: Sequence[str], decoding: DecodingConfig | None = None, *,
             progress: bool = True) -> list[Generation]:
    """Complete each formatted prompt (see `format_prompts`); results in input order."""
    import torch
    from tqdm.auto import tqdm

    decoding = decoding or DecodingConfig()
    if isinstance(prompts, str):
        raise TypeError("generate takes a list of prompts, not a string")
    if not prompts:
        return []
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        pad_id = tokenizer.eos_token_id
    if pad_id is None:
        raise ConfigError("tokenizer", "the tokenizer has neither a pad nor an eos token")
    eos = _eos_ids(model, tokenizer)
    config = _generation_config(model, tokenizer, decoding, pad_id, eos)
    encoded = [_encode(tokenizer, text) for text in prompts]
    if any(not ids for ids in encoded):
        raise ConfigError("prompts", "a prompt encodes to no tokens")
    # longest first: a batch that does not fit in memory fails at once; stable, so ties keep input order
    order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
    batches = [order[start:start + decoding.batch_size] for start in range(0, len(order), decoding.batch_size)]
    device = getattr(model, "device", torch.device("cpu"))
    results: list[Generation | None] = [None] * len(prompts)
    # sampling draws from the CPU and CUDA generators: seed copies of them, leave the callers' state alone
    fork_devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    was_training = model.training
    model.eval()
    try:
        with torch.random.fork_rng(devices=fork_devices), torch.inference_mode():
            torch.manual_seed(decoding.seed)
            for number, batch in enumerate(tqdm(batches, desc="generate", unit="batch", disable=not progress)):
                ids, mask = pad_left([encoded[i] for i in batch], pad_id)
                started = time.perf_counter()
                output = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device),
                                        generation_config=config)
                seconds = time.perf_counter() - started
                new = output[:, ids.shape[1]:].tolist()
                for row, index in enumerate(batch):
                    tokens = new[row]
                    stop = next((k for k, token in enumerate(tokens) if token in eos), None)
                    kept = tokens if stop is None else tokens[:stop]
                    results[index] = Generation(
                        text=tokenizer.decode(kept, skip_special_tokens=True).strip(),
                        prompt_tokens=len(encoded[index]),
                        new_tokens=len(tokens) if stop is None else stop + 1,
                        seconds=seconds, batch=number)
    finally:
        if was_training:
            model.train()
    return results  # type: ignore[return-value]


def throughput(generations: Sequence[Generation]) -> float:
    """New tokens per second over a run (each batch's time counted once)."""
    seconds = {g.batch: g.seconds for g in generations}
    total = sum(seconds.values())
    return sum(g.new_tokens for g in generations) / total if total else 0.0


# ---------------------------------------------------------------------------------------------------------------
# command line


def cmd_generate(args: argparse.Namespace) -> None:
    from lhama.models import load_model, read_model_info

    info = read_model_info(args.model_dir) or {}
    decoding = DecodingConfig(max_new_tokens=args.max_new_tokens, batch_size=args.batch_size,
                              do_sample=args.temperature is not None,
                              temperature=args.temperature if args.temperature is not None else 1.0,
                              seed=args.seed)
    model, tokenizer = load_model(args.model_dir, dtype=args.dtype, device=args.device,
                                  trust_remote_code=bool(info.get("trust_remote_code", False)))
    use_chat = info.get("use_chat_template")
    if args.no_chat_template:
        use_chat = False
    texts = format_prompts(tokenizer, args.prompt, system=args.system, use_chat_template=use_chat)
    generations = generate(model, tokenizer, texts, decoding, progress=not args.no_progress)
    if args.json:
        for prompt, generation in zip(args.prompt, generations):
            print(json.dumps({"prompt": prompt, **generation.to_json()}, ensure_ascii=False))
    else:
        for prompt, generation in zip(args.prompt, generations):
            print(f"### {prompt}\n{generation.text}\n")
        print(f"{sum(g.new_tokens for g in generations)} new tokens, {throughput(generations):.1f} tokens/s")


def add_commands(subparsers) -> None:
    """Register `lhama generate` on an argparse subparsers object."""
    gen = subparsers.add_parser("generate", help="generate answers to prompts with a prepared model")
    gen.add_argument("model_dir", type=Path, help="folder written by `lhama prepare-model` (or any HF folder)")
    gen.add_argument("--prompt", action="append", required=True, help="a prompt (repeat for several)")
    gen.add_argument("--system", help="system message (chat template) or text put before the prompt")
    gen.add_argument("--max-new-tokens", type=int, default=DecodingConfig.max_new_tokens)
    gen.add_argument("--batch-size", type=int, default=DecodingConfig.batch_size)
    gen.add_argument("--temperature", type=float, help="sample at this temperature (default: greedy)")
    gen.add_argument("--seed", type=int, default=DecodingConfig.seed)
    gen.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"))
    gen.add_argument("--device", default="auto")
    gen.add_argument("--no-chat-template", action="store_true", help="plain prompts even if the model has a template")
    gen.add_argument("--json", action="store_true", help="one JSON object per prompt")
    gen.add_argument("--no-progress", action="store_true")
    gen.set_defaults(run=cmd_generate)
