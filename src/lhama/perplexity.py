"""Held-out perplexity and bits per byte: does tuning on questions about some articles change how well the model
predicts the text of articles it was *not* tuned on (the test split's articles)?

Sliding window (stride < window): every token after the first of a text is scored exactly once, each with up to
`max_length - stride` tokens of earlier context, so long articles are not cut into context-free pieces. Bits per
byte divide the summed negative log-likelihood by the UTF-8 size of the texts: unlike perplexity, it does not
depend on the tokenizer, so models with different vocabularies compare.
"""

from __future__ import annotations

import heapq
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from lhama.config.sections import PerplexityConfig
from lhama.errors import ConfigError, InputFileError

log = logging.getLogger(__name__)

# Portuguese wiki text takes about 4 characters per token with LLaMA-family vocabularies; reading twice that per
# budgeted token keeps only a small prefix of the sample in memory and still fills the budget.
CHARS_PER_TOKEN_BOUND = 8


def _windows(ids: list[int], max_length: int, stride: int) -> list[tuple[list[int], int]]:
    """(window token ids, number of tokens to score at its end) covering ids[1:] exactly once."""
    out = []
    scored_until = 1  # the first token has no context: it is never scored
    begin = 0
    while scored_until < len(ids):
        end = min(begin + max_length, len(ids))
        out.append((ids[begin:end], end - scored_until))
        scored_until = end
        if end == len(ids):
            break
        begin += stride
        # keep at least one token of context before the first scored token
        begin = min(begin, scored_until - 1)
    return out


def perplexity(model, tokenizer, texts: Sequence[str], *, max_length: int = 512, stride: int = 256,
               batch_size: int = 4) -> dict:
    """Perplexity, bits per byte, summed NLL (nats), scored tokens, UTF-8 bytes and text count over `texts`."""
    import torch
    import torch.nn.functional as F

    if isinstance(texts, str):
        raise TypeError("perplexity takes a list of texts, not a string")
    if max_length < 2:
        raise ConfigError("perplexity.max_length", f"must be at least 2, got {max_length!r}")
    if not 1 <= stride <= max_length - 1:
        raise ConfigError("perplexity.stride", f"must be in [1, max_length - 1], got {stride!r}")
    windows: list[tuple[list[int], int]] = []
    for text in texts:
        windows.extend(_windows(list(tokenizer(text)["input_ids"]), max_length, stride))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)
    device = getattr(model, "device", torch.device("cpu"))
    nll_sum, tokens = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(windows), batch_size):
                batch = windows[start:start + batch_size]
                width = max(len(ids) for ids, _ in batch)
                input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                labels = torch.full((len(batch), width), -100, dtype=torch.long)
                for row, (ids, score) in enumerate(batch):
                    input_ids[row, :len(ids)] = torch.tensor(ids)
                    mask[row, :len(ids)] = 1
                    labels[row, len(ids) - score:len(ids)] = torch.tensor(ids[len(ids) - score:])
                logits = model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
                shift_logits = logits[:, :-1].float()
                shift_labels = labels[:, 1:].to(shift_logits.device)
                nll_sum += F.cross_entropy(shift_logits.reshape(-1, shift_logits.size(-1)), shift_labels.reshape(-1),
                                           ignore_index=-100, reduction="sum").item()
                tokens += int((shift_labels != -100).sum())
    finally:
        model.train(was_training)
    size = sum(len(text.encode("utf-8")) for text in texts)
    return {
        "ppl": math.exp(nll_sum / tokens) if tokens else None,
        "bits_per_byte": nll_sum / math.log(2) / size if size else None,
        "nll_sum": nll_sum, "tokens": tokens, "bytes": size, "texts": len(texts),
    }


def split_source_ids(test_jsonl: str | Path) -> list:
    """The test split's source articles (`source_id`), each once, in the order they first appear."""
    from lhama.files import read_jsonl

    test_jsonl = Path(test_jsonl)
    if not test_jsonl.is_file():
        raise InputFileError(test_jsonl, "test file does not exist")
    return list(dict.fromkeys(row["source_id"] for row in read_jsonl(test_jsonl) if row.get("source_id") is not None))


def heldout_texts(articles_dir: str | Path, test_jsonl: str | Path, max_articles: int | None = None,
                  max_chars: int | None = PerplexityConfig.max_chars, *, seed: int | None = None,
                  char_budget: int | None = None, sources: list | None = None) -> list[tuple[str, str]]:
    """(title, text) of the test split's source articles, in test-file order or, with `seed`, in a seeded random
    order; at most `max_articles`, each text cut to `max_chars` characters (None: whole). With `char_budget`, only
    the shortest prefix of that order whose texts hold that many characters is kept: one pass over the corpus that
    holds about `char_budget` characters, whatever its size. `sources`: the split's source ids, if already read."""
    from lhama.corpus import iter_articles

    wanted = list(sources) if sources is not None else split_source_ids(test_jsonl)
    if seed is not None:
        random.Random(seed).shuffle(wanted)
    if max_articles is not None:
        wanted = wanted[:max_articles]
    rank = {str(source): position for position, source in enumerate(wanted)}
    kept: list[tuple[int, str, str]] = []  # a max-heap on the sample position
    chars, seen = 0, set()
    for article in iter_articles(articles_dir):
        key = str(article.get("id"))
        if key not in rank or key in seen:
            continue
        seen.add(key)
        text = article.get("text", "")[:max_chars] if max_chars is not None else article.get("text", "")
        if text.strip():
            heapq.heappush(kept, (-rank[key], article.get("title", ""), text))
            chars += len(text)
            while char_budget is not None and len(kept) > 1 and chars - len(kept[0][2]) >= char_budget:
                chars -= len(heapq.heappop(kept)[2])
        if len(seen) == len(rank):
            break
    missing = [source for source in wanted if str(source) not in seen]
    if missing:
        log.warning("%d test source article(s) not in %s: %s", len(missing), articles_dir, missing[:5])
    return [(title, text) for _, title, text in sorted(kept, reverse=True)]


def within_token_budget(pairs: Sequence[tuple[str, str]], tokenizer, max_tokens: int | None) -> list[tuple[str, str]]:
    """The (title, text) pairs in order until `max_tokens` tokens, the last text cut where the budget ends."""
    if max_tokens is None:
        return list(pairs)
    out, used = [], 0
    for title, text in pairs:
        if used >= max_tokens:
            break
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=tokenizer.is_fast)
        ids = encoded["input_ids"]
        if used + len(ids) > max_tokens:
            keep = max_tokens - used
            text = (text[:encoded["offset_mapping"][keep - 1][1]] if tokenizer.is_fast
                    else tokenizer.decode(ids[:keep]))
            ids = ids[:keep]
        out.append((title, text))
        used += len(ids)
    return out


def heldout_perplexity(model_dir: str | Path, articles_dir: str | Path, test_jsonl: str | Path, out: str | Path, *,
                       adapter_dir: str | Path | None = None, trust_remote_code: bool = False,
                       config: PerplexityConfig | None = None) -> dict:
    """Base (and, with an adapter, tuned) perplexity on the held-out articles, in one run on the same texts;
    the JSON is written atomically. The base is scored before the adapter is applied (PEFT injects its layers
    into the base model in place)."""
    from lhama.files import write_json
    from lhama.models import load_model
    from lhama.provenance import environment

    config = config or PerplexityConfig()
    started = time.perf_counter()
    char_budget = None if config.max_tokens is None else config.max_tokens * CHARS_PER_TOKEN_BOUND
    sources = split_source_ids(test_jsonl)
    pairs = heldout_texts(articles_dir, test_jsonl, max_articles=config.max_articles, max_chars=config.max_chars,
                          seed=config.seed, char_budget=char_budget, sources=sources)
    if not pairs:
        raise InputFileError(test_jsonl, f"none of its source articles were found in {articles_dir}")
    model, tokenizer = load_model(model_dir, trust_remote_code=trust_remote_code)
    pairs = within_token_budget(pairs, tokenizer, config.max_tokens)
    texts = [text for _, text in pairs]
    settings = {"max_length": config.max_length, "stride": config.stride, "batch_size": config.batch_size}
    result: dict = {"base": perplexity(model, tokenizer, texts, **settings), "tuned": None}
    if adapter_dir is not None:
        from peft import PeftModel

        tuned = PeftModel.from_pretrained(model, str(adapter_dir))
        result["tuned"] = perplexity(tuned, tokenizer, texts, **settings)
    result.update({
        "articles": len(pairs), "titles": [title for title, _ in pairs],
        "sample": {"population": len(sources), "seed": config.seed,
                   "max_articles": config.max_articles, "max_tokens": config.max_tokens,
                   "drawn": "test-split source articles in seeded random order, scored until the token budget"},
        "model": str(model_dir), "adapter": None if adapter_dir is None else str(adapter_dir),
        "config": asdict(config), "seconds": time.perf_counter() - started, "environment": environment(),
    })
    write_json(out, result)
    return result
