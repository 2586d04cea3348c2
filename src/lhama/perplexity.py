"""Held-out perplexity and bits per byte: does tuning on questions about some articles change how well the model
predicts the text of articles it was *not* tuned on (the test split's articles)?

Sliding window (stride < window): every token after the first of a text is scored exactly once, each with up to
`max_length - stride` tokens of earlier context, so long articles are not cut into context-free pieces. Bits per
byte divide the summed negative log-likelihood by the UTF-8 size of the texts: unlike perplexity, it does not
depend on the tokenizer, so models with different vocabularies compare.
"""

from __future__ import annotations

import argparse
import sys
import json
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path

from lhama.errors import ConfigError, InputFileError

log = logging.getLogger(__name__)

DEFAULT_MAX_CHARS = 20_000


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


def heldout_texts(articles_dir: str | Path, test_jsonl: str | Path, max_articles: int | None = None,
                  max_chars: int | None = DEFAULT_MAX_CHARS) -> list[tuple[str, str]]:
    """(title, text) of the articles the test split's questions come from (`source_id`), in the order they first
    appear in the test file; each text cut to `max_chars` characters (None: whole) to bound the cost."""
    from lhama.corpus import iter_articles
    from lhama.jsonl import read_jsonl

    test_jsonl = Path(test_jsonl)
    if not test_jsonl.is_file():
        raise InputFileError(test_jsonl, "test file does not exist")
    if max_articles is not None and (isinstance(max_articles, bool) or not isinstance(max_articles, int)
                                     or max_articles < 1):
        raise ConfigError("perplexity.max_articles", f"expected a positive integer or null, got {max_articles!r}")
    wanted: list = []
    for row in read_jsonl(test_jsonl):
        source = row.get("source_id")
        if source is not None and source not in wanted:
            wanted.append(source)
    if max_articles is not None:
        wanted = wanted[:max_articles]
    found: dict = {}
    keys = {str(source) for source in wanted}
    for article in iter_articles(articles_dir):
        if str(article.get("id")) in keys:
            found[str(article["id"])] = (article.get("title", ""), article.get("text", ""))
            if len(found) == len(keys):
                break
    missing = [source for source in wanted if str(source) not in found]
    if missing:
        log.warning("%d test source article(s) not in %s: %s", len(missing), articles_dir, missing[:5])
    texts = [found[str(source)] for source in wanted if str(source) in found]
    if max_chars is not None:
        texts = [(title, text[:max_chars]) for title, text in texts]
    return [(title, text) for title, text in texts if text.strip()]


def heldout_perplexity(model_dir: str | Path, articles_dir: str | Path, test_jsonl: str | Path, out: str | Path, *,
                       adapter_dir: str | Path | None = None, trust_remote_code: bool = False,
                       max_articles: int | None = None, max_length: int = 512, stride: int = 256,
                       batch_size: int = 4, max_chars: int | None = DEFAULT_MAX_CHARS) -> dict:
    """Base (and, with an adapter, tuned) perplexity on the held-out articles, in one run on the same texts;
    the JSON is written atomically. The base is scored before the adapter is applied (PEFT injects its layers
    into the base model in place)."""
    from lhama.jsonl import write_json
    from lhama.models import load_model

    started = time.perf_counter()
    pairs = heldout_texts(articles_dir, test_jsonl, max_articles=max_articles, max_chars=max_chars)
    if not pairs:
        raise InputFileError(test_jsonl, f"none of its source articles were found in {articles_dir}")
    texts = [text for _, text in pairs]
    model, tokenizer = load_model(model_dir, trust_remote_code=trust_remote_code)
    settings = {"max_length": max_length, "stride": stride, "batch_size": batch_size}
    result: dict = {"base": perplexity(model, tokenizer, texts, **settings), "tuned": None}
    if adapter_dir is not None:
        from peft import PeftModel

        tuned = PeftModel.from_pretrained(model, str(adapter_dir))
        result["tuned"] = perplexity(tuned, tokenizer, texts, **settings)
    result.update({
        "articles": len(pairs), "titles": [title for title, _ in pairs],
        "model": str(model_dir), "adapter": None if adapter_dir is None else str(adapter_dir),
        "config": {"max_articles": max_articles, "max_chars": max_chars, **settings},
        "seconds": time.perf_counter() - started,
    })
    write_json(out, result)
    return result


def cmd_perplexity(args: argparse.Namespace) -> None:
    result = heldout_perplexity(args.model, args.articles, args.test, args.out, adapter_dir=args.adapter,
                                trust_remote_code=args.trust_remote_code, max_articles=args.max_articles,
                                max_length=args.max_length, stride=args.stride, batch_size=args.batch_size,
                                max_chars=args.max_chars)
    for name in ("base", "tuned"):
        if result[name]:
            print(f"{name}: perplexity {result[name]['ppl']:.2f}, {result[name]['bits_per_byte']:.3f} bits/byte "
                  f"over {result[name]['tokens']} tokens of {result['articles']} articles")
    print(f"-> {args.out}")


def add_commands(subparsers) -> None:
    """Register `lhama perplexity` on an argparse subparsers object."""
    parser = subparsers.add_parser("perplexity", help="held-out perplexity and bits/byte of base and tuned model")
    parser.add_argument("--model", required=True, type=Path, help="base model folder")
    parser.add_argument("--adapter", type=Path, help="PEFT adapter folder: also score the tuned model")
    parser.add_argument("--articles", required=True, type=Path, help="articles folder (lhama extract)")
    parser.add_argument("--test", required=True, type=Path, help="test split JSONL (its source_id articles)")
    parser.add_argument("--out", required=True, type=Path, help="JSON to write")
    parser.add_argument("--max-articles", type=int)
    parser.add_argument("--max-length", type=int, default=512, help="tokens per window")
    parser.add_argument("--stride", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS, help="characters kept per article")
    parser.add_argument("--trust-remote-code", action="store_true")
    parser.set_defaults(run=cmd_perplexity)


def main(argv: Sequence[str] | None = None) -> int:
    """`lhama perplexity` without the `lhama` front end."""
    from lhama.cli import setup_logging
    from lhama.errors import LhamaError

    parser = argparse.ArgumentParser(prog="lhama")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["perplexity", *(argv or [])])
    setup_logging()
    try:
        args.run(args)
    except LhamaError as error:
        print(f"lhama perplexity: error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
