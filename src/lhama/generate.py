"""Batched text generation with a causal LM: the one decoding path of every variant (prompts come from
`lhama.prompts`).

Prompts are sorted by token length inside a run (less padding), padded on the LEFT with an attention mask, decoded
with the KV cache, and returned in input order. Greedy outputs do not depend on the batch size (up to floating
point: checked in fp32 by the tests).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from lhama.config.sections import GenerationConfig
from lhama.errors import ConfigError

log = logging.getLogger(__name__)


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


def _generation_config(model, tokenizer, decoding: GenerationConfig, pad_id: int, eos: list[int]):
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


def generate(model, tokenizer, prompts: Sequence[str], decoding: GenerationConfig | None = None, *,
             progress: bool = True) -> list[Generation]:
    """Complete each rendered prompt (`lhama.prompts.render`); results in input order."""
    import torch
    from tqdm.auto import tqdm

    decoding = decoding or GenerationConfig()
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


def _accepts(model, name: str) -> bool:
    import inspect

    return name in inspect.signature(model.forward).parameters


def choice_loglikelihoods(model, tokenizer, prompts: Sequence[str], choices: Sequence[str], *, batch_size: int = 8,
                          progress: bool = True) -> list[list[float]]:
    """The log-likelihood of each choice as the continuation of each rendered prompt, summed over the choice's
    tokens (lm-evaluation-harness's multiple-choice scoring): no sampling, so a small model that would wander off in
    free text still gives a definite choice.

    Each prompt is read once, whatever the number of choices: one forward pass over the batch's prompts, padded on
    the left (positions from the attention mask, as `generate` does), keeps the KV cache and only the last
    position's logits, which score every choice's first token; a choice of several tokens then feeds its other
    tokens on a copy of that cache. Reading a 1,500-token RAG prompt once instead of once per choice halves the
    judge's compute, and no batch x width x vocabulary logits are ever held."""
    import copy

    import torch
    from tqdm.auto import tqdm

    if isinstance(prompts, str):
        raise TypeError("choice_loglikelihoods takes a list of prompts, not a string")
    endings = [list(tokenizer(choice, add_special_tokens=False)["input_ids"]) for choice in choices]
    if not choices or any(not ids for ids in endings):
        raise ConfigError("choices", "every choice must encode to at least one token")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    contexts = [_encode(tokenizer, text) for text in prompts]
    if any(not ids for ids in contexts):
        raise ConfigError("prompts", "a prompt encodes to no tokens")
    longer = [number for number, ending in enumerate(endings) if len(ending) > 1]
    last_only = {"logits_to_keep": 1} if _accepts(model, "logits_to_keep") else {}
    cache_name = "cache" if _accepts(model, "cache") else "past_key_values"  # older models name it past_key_values
    scores = [[0.0] * len(choices) for _ in prompts]
    device = getattr(model, "device", torch.device("cpu"))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for start in tqdm(range(0, len(prompts), batch_size), desc="judge", unit="batch", disable=not progress):
                rows = list(range(start, min(start + batch_size, len(prompts))))
                ids, mask = pad_left([contexts[i] for i in rows], pad_id)
                ids, mask = ids.to(device), mask.to(device)
                positions = (mask.cumsum(-1) - 1).clamp(min=0)
                out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, **last_only)
                first = torch.log_softmax(out.logits[:, -1].float(), -1)[:, [ending[0] for ending in endings]]
                for row, index in enumerate(rows):
                    scores[index] = first[row].tolist()
                lengths = mask.sum(-1, keepdim=True)
                kept = getattr(out, cache_name)
                for turn, number in enumerate(longer):
                    ending = endings[number]
                    cache = kept if turn == len(longer) - 1 else copy.deepcopy(kept)
                    fed = torch.tensor([ending[:-1]] * len(rows), dtype=torch.long, device=device)
                    steps = torch.arange(len(ending) - 1, device=device)
                    logits = model(input_ids=fed, **{cache_name: cache}, use_cache=True,
                                   attention_mask=torch.cat([mask, torch.ones_like(fed)], dim=-1),
                                   position_ids=lengths + steps).logits
                    following = torch.log_softmax(logits.float(), -1)
                    targets = torch.tensor(ending[1:], dtype=torch.long, device=device)
                    rest = following.gather(2, targets.expand(len(rows), -1)[..., None]).squeeze(-1).sum(-1)
                    for row, index in enumerate(rows):
                        scores[index][number] += float(rest[row])
    finally:
        if was_training:
            model.train()
    return scores
